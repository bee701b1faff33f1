"""The convolutional autoencoder of the lecture, and its encoder reused for a supervised task.

An autoencoder learns a lower-dimensional code z of an image x without labels:

    z = E(x)            the encoder: a 4-layer convolutional network (28 x 28 -> code)
    x_hat = Dec(z)      the decoder: a 4-layer up-convolutional network (code -> 28 x 28)

trained on the L2 reconstruction loss

    L(E, Dec) = 1/N sum_n ||Dec(E(x_n)) - x_n||^2 / 784       (``F.mse_loss``)

so that z must keep what is needed to redraw the digit. After training the decoder
is thrown away and the encoder can **initialize a supervised model**: a small
classifier head on top of E, trained on few labels (the lecture's "train for final
task, sometimes with small data"), either with E frozen (only the head learns) or
fine-tuned jointly with the head.

Pixels are in [-1, 1] (``data.mnist``), so the decoder ends in tanh. There is no
batch norm anywhere: each image's code depends on that image alone, in training
as in evaluation.
"""
import numpy

from .. import backend, nn, optim
from .. import functional as F
from ..tensor import Tensor, no_grad
from ..supervised import SupervisedTrainer, IndexBatches, tensors

CODE_DIM = 32        # the code z: 784 pixels squeezed into 32 numbers
N_CLASSES = 10


def conv_encoder(code_dim=CODE_DIM, width=16):
    """E: (N, 1, 28, 28) -> (N, code_dim). Four layers: Conv 3x3 (1 -> w, 28 x 28),
    Conv 4x4 stride 2 (w -> 2w, 28 -> 14), Conv 4x4 stride 2 (2w -> 4w, 14 -> 7),
    ReLU after each, then Dense (4w * 7 * 7 -> code_dim), linear: the code is not
    squashed, so the decoder and a classifier head both see it whole."""
    return nn.Sequential(
        nn.Conv2d(1, width, 3, 1, 1), nn.ReLU(),
        nn.Conv2d(width, 2 * width, 4, 2, 1), nn.ReLU(),
        nn.Conv2d(2 * width, 4 * width, 4, 2, 1), nn.ReLU(),
        nn.Flatten(), nn.Dense(4 * width * 7 * 7, code_dim))


def upconv_decoder(code_dim=CODE_DIM, width=16, mean_pixel=0.0):
    """Dec: (N, code_dim) -> (N, 1, 28, 28), the encoder's mirror. Four layers: Dense
    (code_dim -> 4w * 7 * 7) reshaped to 4w x 7 x 7, ConvTranspose 4x4 stride 2
    (4w -> 2w, 7 -> 14), ConvTranspose 4x4 stride 2 (2w -> w, 14 -> 28), ReLU after
    each, then ConvTranspose 3x3 (w -> 1, 28 x 28) and tanh, the range of the pixels.

    mean_pixel: the last layer's bias starts at atanh(mean_pixel), so the untrained
    decoder draws a flat image of the data's mean brightness (about -0.74 for MNIST)
    instead of about 0. Why: from 0, every pixel's gradient says "darker" at once, Adam
    moves all weights together that way, and within a few dozen steps the tanh is
    pushed deep into saturation at -1, where its gradient 1 - tanh^2 is 0 and the
    network stays stuck drawing a blank page (loss about 0.44, worse than the mean
    image). Started at the mean, it learns the strokes from the first step."""
    if not -1.0 < mean_pixel < 1.0:
        raise ValueError(f"upconv_decoder: mean_pixel must be inside (-1, 1), the range of "
                         f"tanh, got {mean_pixel}")
    last = nn.ConvTranspose2d(width, 1, 3, 1, 1)
    last.bias.data[...] = numpy.arctanh(mean_pixel)
    return nn.Sequential(
        nn.Dense(code_dim, 4 * width * 7 * 7), nn.Reshape(4 * width, 7, 7), nn.ReLU(),
        nn.ConvTranspose2d(4 * width, 2 * width, 4, 2, 1), nn.ReLU(),
        nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(),
        last, nn.Tanh())


class Autoencoder(nn.Module):
    """x_hat = decoder(encoder(x)); ``encode(x)`` is the code z alone."""

    def __init__(self, code_dim=CODE_DIM, width=16, mean_pixel=0.0):
        super().__init__()
        self.encoder = conv_encoder(code_dim, width)
        self.decoder = upconv_decoder(code_dim, width, mean_pixel)

    def encode(self, x):
        return self.encoder(x)

    def forward(self, x):
        return self.decoder(self.encoder(x))


def classifier_head(code_dim=CODE_DIM, hidden=64, n_classes=N_CLASSES):
    """The small head on top of a code: Dense (code_dim -> hidden), ReLU, Dense (hidden
    -> n_classes), the class logits."""
    return nn.Sequential(nn.Dense(code_dim, hidden), nn.ReLU(), nn.Dense(hidden, n_classes))


class CodeClassifier(nn.Module):
    """logits = head(encoder(x)): a classifier built on an encoder, the supervised model
    that a trained autoencoder's encoder can initialize."""

    def __init__(self, encoder, head):
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, x):
        return self.head(self.encoder(x))


def check_images(x, who):
    """x as float32 (N, 1, 28, 28) in [-1, 1] (NumPy); refuse anything else with what
    was expected."""
    a = numpy.asarray(backend.to_numpy(x.data if isinstance(x, Tensor) else x))
    if a.ndim != 4 or a.shape[1:] != (1, 28, 28) or len(a) == 0:
        raise ValueError(f"{who}: expected images of shape (N, 1, 28, 28), N >= 1 "
                         f"(data.mnist's layout), got shape {a.shape}")
    if not numpy.isfinite(a).all():
        raise ValueError(f"{who}: the images contain NaN or infinite values")
    if a.min() < -1.0 - 1e-6 or a.max() > 1.0 + 1e-6:
        raise ValueError(f"{who}: pixels must be in [-1, 1] (data.mnist's range; the decoder "
                         f"ends in tanh), got values from {a.min():g} to {a.max():g}")
    return a.astype(numpy.float32, copy=False)


def _check_labels(y, n, who):
    y = numpy.asarray(y)
    if y.shape != (n,) or not numpy.issubdtype(y.dtype, numpy.integer):
        raise ValueError(f"{who}: expected {n} integer labels (one per image), got "
                         f"{y.dtype} of shape {y.shape}")
    return y


def train_autoencoder(x, steps=1500, batch_size=64, lr=1e-3, seed=0, progress=False,
                      ae=None, device="cpu", runner=None, resume=False):
    """Train an autoencoder on images x (N, 1, 28, 28) in [-1, 1], no labels, by Adam on
    the L2 loss ||Dec(E(x)) - x||^2 / 784 averaged over the batch. A new autoencoder
    (ae=None) is initialized from ``minigan.manual_seed(seed)``, its decoder starting
    at the mean pixel of x (see ``upconv_decoder``); the batches are drawn from `seed`.
    The library's runner trains it (``minigan.supervised``): `runner`, a dict of its
    settings (``out_dir`` for checkpoints, ``callbacks``, ``on_interrupt``, ...), and
    `resume` go to it. Returns (the autoencoder in eval mode, the loss per step)."""
    x = check_images(x, "train_autoencoder")
    if steps < 1 or batch_size < 1:
        raise ValueError(f"train_autoencoder: steps and batch_size must be >= 1, got "
                         f"{steps} and {batch_size}")
    if ae is None:
        backend.manual_seed(seed)
        ae = Autoencoder(mean_pixel=float(x.mean()))
    ae = ae.to(device).train()
    opt = optim.Adam(ae.parameters(), lr=lr)
    # the target is the input itself
    batches = IndexBatches(len(x), min(batch_size, len(x)), seed,
                           lambda idx: tensors(x[idx], x[idx], device))
    trainer = SupervisedTrainer(ae, opt, batches, batches.batch_size, loss=F.mse_loss,
                                seed=seed, **_settings(runner, "autoencoder", progress))
    trainer.fit(steps, resume=resume)
    return ae.eval(), trainer.history["loss"].tolist()


def _settings(runner, desc, progress):
    """The runner's settings: a progress bar named `desc` unless given, then `runner`'s."""
    out = {"progress": {"desc": desc, "leave": False} if progress else False,
           "verbose": False}
    out.update(runner or {})
    return out


def reconstruct(ae, x, batch=1000):
    """Dec(E(x)) for images x, in batches, as NumPy (N, 1, 28, 28)."""
    x = check_images(x, "reconstruct")
    device = next(iter(ae.parameters())).device
    ae.eval()
    with no_grad():
        return numpy.concatenate([ae(Tensor(x[i:i + batch], device=device)).numpy()
                                  for i in range(0, len(x), batch)])


def reconstruction_mse(ae, x, batch=1000):
    """Each image's mean squared pixel error ||Dec(E(x)) - x||^2 / 784 (NumPy, (N,))."""
    x = check_images(x, "reconstruction_mse")
    d = reconstruct(ae, x, batch) - x
    return (d.reshape(len(d), -1) ** 2).mean(axis=1)


def mean_image_mse(train_x, test_x):
    """The baseline an autoencoder must beat: each test image's mean squared error when
    every image is 'reconstructed' as the mean training image (NumPy, (N,))."""
    mean = check_images(train_x, "mean_image_mse").mean(axis=0, keepdims=True)
    d = check_images(test_x, "mean_image_mse") - mean
    return (d.reshape(len(d), -1) ** 2).mean(axis=1)


def labelled_subset(labels, n, seed=0, n_classes=N_CLASSES):
    """Indices of n labelled examples, n / n_classes of each class, drawn with `seed`:
    the few labels of the semi-supervised comparison (e.g. 600 of MNIST's 60,000 = 1%).
    Balanced, so that two seeds differ in which images they hold, not in how many of
    each digit."""
    labels = numpy.asarray(labels)
    if n % n_classes:
        raise ValueError(f"labelled_subset: n must be a multiple of {n_classes} (a balanced "
                         f"subset), got {n}")
    rng = numpy.random.default_rng(seed)
    per = n // n_classes
    picked = []
    for c in range(n_classes):
        pool = numpy.flatnonzero(labels == c)
        if len(pool) < per:
            raise ValueError(f"labelled_subset: only {len(pool)} examples of class {c}, "
                             f"{per} wanted")
        picked.append(rng.choice(pool, per, replace=False))
    return rng.permutation(numpy.concatenate(picked))


def train_classifier(model, x, y, steps=300, batch_size=50, lr=1e-3, seed=0,
                     freeze_encoder=False, progress=False, desc="classifier", on_step=None,
                     runner=None, resume=False):
    """Train a CodeClassifier on labelled images by Adam on the softmax cross-entropy.

    freeze_encoder: only the head learns; the encoder runs without gradient (its
    features stay those it came with). Otherwise encoder and head learn together
    (fine-tuning, when the encoder comes from an autoencoder). The batches are drawn
    from `seed`. ``on_step(step, model)``, if given, is called after each step (1, 2,
    ...), e.g. to measure the test accuracy part way. The library's runner trains it
    (``minigan.supervised``; `runner` and `resume` as for ``train_autoencoder``).
    Returns (the model in eval mode, the loss per step)."""
    x = check_images(x, "train_classifier")
    y = _check_labels(y, len(x), "train_classifier")
    if not isinstance(model, CodeClassifier):
        raise TypeError(f"train_classifier: expected a CodeClassifier (encoder + head), got "
                        f"{type(model).__name__}")
    device = next(iter(model.parameters())).device
    trainable = model.head.parameters() if freeze_encoder else model.parameters()
    opt = optim.Adam(list(trainable), lr=lr)

    def frozen_forward(xb):
        with no_grad():                           # no graph through E: it does not learn
            code = model.encoder(xb)
        return model.head(code)
    batches = IndexBatches(len(x), min(batch_size, len(x)), seed,
                           lambda idx: tensors(x[idx], y[idx], device))
    settings = _settings(runner, desc, progress)
    if on_step is not None:
        settings["callbacks"] = [lambda trainer, step: on_step(step, model)] + list(
            settings.get("callbacks", []))
    trainer = SupervisedTrainer(model, opt, batches, batches.batch_size,
                                forward=frozen_forward if freeze_encoder else None,
                                seed=seed, **settings)
    trainer.fit(steps, resume=resume)
    return model.eval(), trainer.history["loss"].tolist()


def accuracy(model, x, y, batch=1000):
    """The fraction of images x whose largest logit is their label y."""
    x = check_images(x, "accuracy")
    y = _check_labels(y, len(x), "accuracy")
    device = next(iter(model.parameters())).device
    model.eval()
    with no_grad():
        pred = numpy.concatenate([model(Tensor(x[i:i + batch], device=device)).numpy()
                                  .argmax(axis=1) for i in range(0, len(x), batch)])
    return float((pred == y).mean())

"""Recovering the code of a given image, and editing an image through its code.

Given a trained generator G and an image x, find z with G(z) close to x:

1. **descent** (``invert_by_descent``): minimize ||G(z) - x||^2 over z by gradient
   descent (Adam), the gradient d||G(z) - x||^2 / dz coming from minigan's autodiff
   run back through G to its *input* (G's weights are frozen meanwhile);
2. **an encoder** (``Encoder``, ``train_encoder``): a network E trained on pairs
   (G(z), z), z ~ N(0, I), to minimize ||E(G(z)) - z||^2; one forward pass then
   answers z = E(x);
3. **both**: E(x) as the starting point of (1).

Editing (``edit``), the lecture's photo-editing objective: from the code z0 of an
image, find

    z* = argmin_z  U(G(z)) + lambda1 ||z - z0||^2 - lambda2 D(G(z))

where U is what the user wants of the image (here, e.g., the classifier's
cross-entropy toward another digit), the second term keeps z* near the
original, and the third keeps G(z*) where D believes images are real (D's logit).

Every G here runs in evaluation mode (batch norm with its running statistics), so
each image is inverted independently of the others in its batch.
"""
import os

import numpy

from .. import backend, nn, optim
from .. import functional as F
from ..tensor import Tensor, no_grad, grad
from ..gan.models import NOISE_DIM
from ..gan.step import frozen
from ..supervised import SupervisedTrainer

# The encoder of the trained DCGAN that ships with minigan (``minigan.gan.pretrained``):
# ``train_encoder(G, 3000, seed=0)`` on that G, shipped so the lesson runs in seconds;
# its SHA-256 is checked at load.
SHIPPED_ENCODER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights",
                               "encoder_dcgan_plus_seed0.npz")
SHIPPED_ENCODER_SHA256 = "53b26536c8f89c8aed54277e3cfa2e9da8cefe11539b8cf74e383da013e31a31"


def check_images(x, who="invert"):
    """Images to invert as float32 (N, 1, 28, 28) in [-1, 1]; accepts (N, 28, 28) and
    (N, 784) too. Anything else (another shape, pixels 0..255 or 0..1, NaN) is refused
    with what was expected."""
    a = x.numpy() if isinstance(x, Tensor) else numpy.asarray(backend.to_numpy(x))
    if a.ndim == 2 and a.shape[1] == 784:
        a = a.reshape(-1, 1, 28, 28)
    elif a.ndim == 3 and a.shape[1:] == (28, 28):
        a = a[:, None]
    if a.ndim != 4 or a.shape[1:] != (1, 28, 28) or len(a) == 0:
        raise ValueError(f"{who}: expected MNIST-sized images of shape (N, 1, 28, 28) (or (N, "
                         f"28, 28), (N, 784)), N >= 1, got shape {a.shape}")
    if not numpy.issubdtype(a.dtype, numpy.number):
        raise ValueError(f"{who}: expected numbers, got {a.dtype}")
    if not numpy.isfinite(a).all():
        raise ValueError(f"{who}: the images contain NaN or infinite values")
    lo, hi = float(a.min()), float(a.max())
    if lo < -1.0 - 1e-6 or hi > 1.0 + 1e-6:
        hint = (" (they look like 0..255 pixels: use x / 127.5 - 1)" if hi > 1.5 else "")
        raise ValueError(f"{who}: pixels must be in [-1, 1], the range of G's tanh output, got "
                         f"values from {lo:g} to {hi:g}{hint}")
    if lo >= 0.0 and hi <= 1.0 and hi > 0:
        raise ValueError(f"{who}: the pixels are all in [0, 1] ({lo:g} to {hi:g}); G draws in "
                         f"[-1, 1] with the background at -1: use 2 x - 1")
    return a.astype(numpy.float32)


def reconstruction_error(G, z, x):
    """Per-image mean squared pixel error ||G(z) - x||^2 / 784 (NumPy, shape (N,))."""
    with no_grad():
        d = G.eval()(z).numpy() - x
    return (d.reshape(len(d), -1) ** 2).mean(axis=1)


def _descend(loss_fn, z0, steps, lr, progress, desc):
    """Adam on z from z0, the gradient by autodiff; returns (z, the loss per step)."""
    from tqdm.auto import tqdm
    z = nn.Parameter(z0.data.copy() if isinstance(z0, Tensor) else z0)
    opt = optim.Adam([z], lr=lr)
    history = []
    for _ in tqdm(range(steps), desc=desc, disable=not progress, leave=False, dynamic_ncols=True):
        loss = loss_fn(z)
        (z.grad,) = grad([loss], [z])
        opt.step()
        history.append(loss.item())
    return Tensor(z.data.copy()), history


def invert_by_descent(G, x, z0, steps=300, lr=0.05, progress=False):
    """Method (1): z = argmin ||G(z) - x||^2 by Adam from z0 (N, NOISE_DIM).

    The loss is the sum over the batch of each image's mean squared error, so every
    z gets the gradient of its own image alone. Returns (z, mean squared error per step).
    """
    x = check_images(x)
    if tuple(z0.shape) != (len(x), G[0].in_features):
        raise ValueError(f"invert: the starting codes must have shape ({len(x)}, "
                         f"{G[0].in_features}), one per image, got {tuple(z0.shape)}")
    target = Tensor(x, device=z0.device if isinstance(z0, Tensor) else "cpu")
    G.eval()

    def loss(z):
        d = G(z) - target
        return (d * d).sum() * (1.0 / (784 * len(x)))
    with frozen(G):
        return _descend(loss, z0, steps, lr, progress, "invert (descent)")


class Encoder(nn.Module):
    """E: image (1, 28, 28) -> code (NOISE_DIM): two strided convolutions (28 -> 14 -> 7),
    LeakyReLU 0.2, then a Dense layer to the code. No batch norm: each image's code
    depends on that image alone."""

    def __init__(self, noise_dim=NOISE_DIM, width=32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Dense(2 * width * 7 * 7, noise_dim))

    def forward(self, x):
        return self.net(x)


def load_shipped_encoder(device="cpu"):
    """The encoder shipped for the shipped DCGAN's G, its SHA-256 checked, in eval mode."""
    from ..serialization import load, check_sha256
    if not os.path.exists(SHIPPED_ENCODER):
        raise FileNotFoundError(f"the shipped encoder {SHIPPED_ENCODER} is missing; "
                                f"reinstall minigan")
    check_sha256(SHIPPED_ENCODER, SHIPPED_ENCODER_SHA256, "the encoder's weights",
                 "Reinstall minigan")
    E = Encoder()
    E.load_state_dict(load(SHIPPED_ENCODER))
    return E.to(device).eval()


class CodePairs:
    """The encoder's training data: fresh pairs (G(z), z), z ~ N(0, I) from
    ``numpy.random.default_rng(seed)``, `batch_size` a call. ``position`` (the
    batches drawn) is what a checkpoint keeps; loading it replays the draws, so a
    resumed training gets the very pairs an uninterrupted one would."""

    def __init__(self, G, seed, batch_size):
        self.G, self.seed, self.batch_size, self.dim = G, seed, batch_size, G[0].in_features
        self.load_state_dict({"position": 0})

    def _draw(self):
        self.position += 1
        return self.rng.standard_normal((self.batch_size, self.dim)).astype(numpy.float32)

    def __call__(self, m):
        z = Tensor(self._draw())
        with no_grad():
            x = self.G(z)
        return x, z

    def state_dict(self):
        return {"position": self.position}

    def load_state_dict(self, state):
        self.rng, self.position = numpy.random.default_rng(self.seed), 0
        for _ in range(int(state["position"])):
            self._draw()


def train_encoder(G, steps=1500, batch_size=64, lr=1e-3, seed=0, progress=False, E=None,
                  runner=None, resume=False):
    """Method (2): train E on fresh pairs (G(z), z), z ~ N(0, I), minimizing
    ||E(G(z)) - z||^2 (Adam), on the library's runner (``minigan.supervised``;
    `runner`, a dict of its settings, and `resume` go to it). Returns (E in eval
    mode, the loss per step). A new E (E=None) is initialized from
    ``minigan.manual_seed(seed)``, so the same call gives the same encoder."""
    if E is None:
        backend.manual_seed(seed)
        E = Encoder(G[0].in_features)
    opt = optim.Adam(E.parameters(), lr=lr)
    G.eval()
    pairs = CodePairs(G, seed, batch_size)
    settings = {"progress": {"desc": "encoder"} if progress else False, "verbose": False}
    settings.update(runner or {})
    trainer = SupervisedTrainer(E, opt, pairs, batch_size, loss=F.mse_loss, seed=seed,
                                **settings)
    trainer.fit(steps, resume=resume)
    return E.eval(), trainer.history["loss"].tolist()


def encode(E, x):
    """Method (2)'s answer: z = E(x) for images x (checked as for ``invert_by_descent``)."""
    with no_grad():
        return E(Tensor(check_images(x, "encode")))


def edit(G, D, z0, objective, lambda1=0.1, lambda2=0.01, steps=200, lr=0.05, progress=False):
    """z* = argmin_z objective(G(z)) + lambda1 ||z - z0||^2 - lambda2 D(G(z)), by Adam from z0.

    objective: a function of the images G(z) (N, 1, 28, 28) returning a one-element
    Tensor (what the user wants: smaller is better). D(G(z)) is D's logit, summed over
    the batch. Returns (z*, a list of dicts with the three terms per step).
    """
    if lambda1 < 0 or lambda2 < 0:
        raise ValueError(f"edit: lambda1 and lambda2 must be >= 0, got {lambda1} and {lambda2}")
    G.eval()
    D.eval()
    anchor = Tensor(z0.data.copy())
    terms = []

    def loss(z):
        img = G(z)
        u, near, real = objective(img), ((z - anchor) ** 2).sum(), D(img).sum()
        terms.append({"U": u.item(), "distance": near.item(), "D_logit": real.item()})
        return u + near * lambda1 - real * lambda2
    with frozen(G, D):
        z, _ = _descend(loss, z0, steps, lr, progress, "edit")
    return z, terms

"""The networks of minigan's GANs, built from ``minigan.nn`` layers.

Images (MNIST, 28 x 28, pixels in [-1, 1], NCHW):

* ``keras_mlp_generator`` / ``keras_mlp_discriminator``: the GAN lecture's Keras
  MLP GAN, layer for layer (1,486,352 and 1,460,225 parameters);
* ``dcgan_generator`` / ``dcgan_discriminator``: a DCGAN for 28 x 28 (Radford et
  al. 2016): transposed convolutions, batch norm and ReLU up, strided
  convolutions and LeakyReLU down;
* ``ConditionalGenerator`` / ``ConditionalDiscriminator``: the same DCGAN fed the
  one-hot label (Mirza and Osindero 2014), G as extra noise inputs, D as extra
  input channels;
* ``MnistClassifier``: the small CNN that evaluates them (``minigan.eval.evaluate``),
  and ``MnistMLPClassifier``, the second judge, of another architecture.

Every discriminator returns a logit l (one number per sample); D(x) = sigmoid(l)
is applied inside the loss (``binary_cross_entropy_with_logits``), where it is
numerically stable.

The toy GANs on mixtures of Gaussians use small MLPs:

* G: z -> [Dense hidden -> ReLU] x depth -> Dense 2  (-> Rescale(s))
* D: x -> (Rescale(1/s) ->) [Dense hidden -> ReLU] x depth -> Dense 1 (a logit)

and two techniques that wrap them:

* ``Packed``: PacGAN's packing (Lin et al. 2018). D judges m samples at once,
  (B, d) -> (B/m, m d) for points, (B, C, H, W) -> (B/m, m C, H, W) for images
  (the m images stacked as channels, as PacGAN's image experiments pack them). A
  collapsed generator gives packs whose m samples sit on one mode, which real
  packs rarely do, so D can punish the collapse.
* ``Rescale``: a fixed factor. G ending in Rescale(s) and D starting with
  Rescale(1/s) make both networks work on the plane shrunk by s, so Adam moves
  G's output s times faster.
"""
from .. import backend, nn
from ..tensor import Tensor
from ..ops.shape import concat


class Rescale(nn.Module):
    """x -> factor * x, a fixed factor (nothing learned)."""

    def __init__(self, factor):
        super().__init__()
        self.factor = float(factor)

    def forward(self, x):
        return x * self.factor

    def extra_repr(self):
        return f"factor={self.factor:g}"


class Packed(nn.Module):
    """PacGAN's packing around a discriminator: m samples -> one pack, D judges packs.

    Points (B, d) -> (B/m, m d); images (B, C, H, W) -> (B/m, m C, H, W). Consecutive
    samples form one pack: samples 0..m-1 the first, m..2m-1 the second... (``pack``).
    The network inside takes a pack: m d numbers, or an image of m C channels.
    """

    def __init__(self, net, pack):
        super().__init__()
        self.net, self.pack = net, int(pack)

    def forward(self, x):
        return self.net(pack(x, self.pack))

    def extra_repr(self):
        return f"pack={self.pack}"


def pack(x, m):
    """m consecutive samples side by side in one pack:

    * points (B, d) -> (B/m, m d): pack i is the row [x_{mi}, ..., x_{mi+m-1}];
    * images (B, C, H, W) -> (B/m, m C, H, W): pack i stacks images mi..mi+m-1 as
      channels, image mi + j in channels jC..(j+1)C - 1.

    Both are one reshape: a sample's numbers are contiguous, so m of them in a row
    are one longer sample."""
    if x.ndim not in (2, 4) or x.shape[0] % m:
        raise ValueError(f"Packed(pack={m}): expected a batch of shape (B, d) or (B, C, H, W) "
                         f"with B divisible by {m}, got shape {tuple(x.shape)}")
    return x.reshape(x.shape[0] // m, x.shape[1] * m, *x.shape[2:])


def mlp_generator(noise_dim=2, hidden=128, depth=2, out_dim=2, out_scale=1.0):
    """z -> [Dense hidden -> ReLU] x depth -> Dense out_dim (-> Rescale(out_scale))."""
    layers, d = [], noise_dim
    for _ in range(depth):
        layers += [nn.Dense(d, hidden), nn.ReLU()]
        d = hidden
    layers.append(nn.Dense(d, out_dim))
    if out_scale != 1.0:
        layers.append(Rescale(out_scale))
    return nn.Sequential(*layers)


def mlp_discriminator(pack=1, hidden=128, depth=2, in_dim=2, in_scale=1.0):
    """x (m packed samples) (-> Rescale(1 / in_scale)) -> [Dense hidden -> ReLU] x depth
    -> Dense 1; wrapped in ``Packed`` when pack > 1."""
    layers, d = ([] if in_scale == 1.0 else [Rescale(1.0 / in_scale)]), in_dim * pack
    for _ in range(depth):
        layers += [nn.Dense(d, hidden), nn.ReLU()]
        d = hidden
    net = nn.Sequential(*layers, nn.Dense(d, 1))
    return net if pack == 1 else Packed(net, pack)


# ------------------------------------------------------------------ images
NOISE_DIM = 100          # z in R^100, z ~ N(0, I), as in the lectures and DCGAN
N_CLASSES = 10


def _keras_init(module):
    """Keras' defaults: glorot-uniform weights, U(-a, a) with a = sqrt(6 / (fan_in +
    fan_out)), and zero biases."""
    for m in module.modules():
        if isinstance(m, nn.Dense):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return module


def keras_mlp_generator(noise_dim=NOISE_DIM):
    """The lecture's Keras generator: z (100) -> 256 -> 512 -> 1024 -> 784, LeakyReLU
    0.2 between, tanh at the end (pixels in [-1, 1]); samples are (N, 784).

    >>> keras_mlp_generator().summary(input_shape=(100,))      # doctest: +SKIP
    Layer (type)           Output Shape           Param #
    0 (Dense)              (None, 256)             25,856
    1 (LeakyReLU)          (None, 256)                  0
    2 (Dense)              (None, 512)            131,584
    3 (LeakyReLU)          (None, 512)                  0
    4 (Dense)              (None, 1024)           525,312
    5 (LeakyReLU)          (None, 1024)                 0
    6 (Dense)              (None, 784)            803,600
    7 (Tanh)               (None, 784)                  0
    Total params: 1,486,352
    """
    return _keras_init(nn.Sequential(
        nn.Dense(noise_dim, 256), nn.LeakyReLU(0.2),
        nn.Dense(256, 512), nn.LeakyReLU(0.2),
        nn.Dense(512, 1024), nn.LeakyReLU(0.2),
        nn.Dense(1024, 784), nn.Tanh()))


def keras_mlp_discriminator():
    """The lecture's Keras discriminator: x (784) -> 1024 -> 512 -> 256 -> 1, each
    hidden layer LeakyReLU 0.2 then Dropout 0.3; the lecture's final sigmoid is
    applied in the loss (the network returns the logit).

    >>> keras_mlp_discriminator().summary(input_shape=(784,))  # doctest: +SKIP
    Layer (type)           Output Shape           Param #
    0 (Dense)              (None, 1024)           803,840
    1 (LeakyReLU)          (None, 1024)                 0
    2 (Dropout)            (None, 1024)                 0
    3 (Dense)              (None, 512)            524,800
    4 (LeakyReLU)          (None, 512)                  0
    5 (Dropout)            (None, 512)                  0
    6 (Dense)              (None, 256)            131,328
    7 (LeakyReLU)          (None, 256)                  0
    8 (Dropout)            (None, 256)                  0
    9 (Dense)              (None, 1)                  257
    Total params: 1,460,225
    """
    return _keras_init(nn.Sequential(
        nn.Dense(784, 1024), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Dense(1024, 512), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Dense(512, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Dense(256, 1)))


def dcgan_generator(noise_dim=NOISE_DIM, width=64, norm="batch", channels=1):
    """DCGAN's generator for 28 x 28: project z and reshape to 2w x 7 x 7, then two
    transposed convolutions (kernel 4, stride 2, padding 1) double the size,
    7 -> 14 -> 28; batch norm and ReLU between, tanh at the end. N(0, 0.02) init.
    ``channels``: of the image it draws (1 for MNIST, 3 for stacked MNIST).

    >>> dcgan_generator().summary(input_shape=(100,))          # doctest: +SKIP
    Layer (type)           Output Shape           Param #
    0 (Dense)              (None, 6272)           633,472
    1 (Reshape)            (None, 128, 7, 7)            0
    2 (BatchNorm2d)        (None, 128, 7, 7)          256
    3 (ReLU)               (None, 128, 7, 7)            0
    4 (ConvTranspose2d)    (None, 64, 14, 14)     131,136
    5 (BatchNorm2d)        (None, 64, 14, 14)         128
    6 (ReLU)               (None, 64, 14, 14)           0
    7 (ConvTranspose2d)    (None, 1, 28, 28)        1,025
    8 (Tanh)               (None, 1, 28, 28)            0
    Total params: 766,017

    ``norm``: "batch" (the paper's), or "virtual" / "reference" for virtual or
    reference batch norm (``nn.VirtualBatchNorm2d``, ``nn.ReferenceBatchNorm2d``), whose
    reference batch a ``nn.ReferenceBatch`` wrapper supplies (see
    ``with_reference_batch``).
    """
    layers = {"batch": nn.BatchNorm2d, "virtual": nn.VirtualBatchNorm2d,
              "reference": nn.ReferenceBatchNorm2d}
    if norm not in layers:
        raise ValueError(f"dcgan_generator: norm must be one of {', '.join(layers)}, got {norm!r}")
    if int(channels) != channels or channels < 1:
        raise ValueError(f"dcgan_generator: channels must be a positive integer, got {channels!r}")
    Norm, w2 = layers[norm], 2 * width
    return nn.dcgan_init(nn.Sequential(
        nn.Dense(noise_dim, w2 * 7 * 7), nn.Reshape(w2, 7, 7), Norm(w2), nn.ReLU(),
        nn.ConvTranspose2d(w2, width, 4, 2, 1), Norm(width), nn.ReLU(),
        nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()))


def with_reference_batch(G, reference_codes, norm="virtual"):
    """A copy of the DCGAN generator G (batch norm) whose batch-norm layers are
    virtual (or reference) batch norm with the reference batch G(reference_codes):
    ``nn.ReferenceBatch(dcgan_generator(norm=norm), reference_codes)`` with G's
    weights, batch norm's scale and shift kept, its running statistics dropped.
    Each sample it draws depends on its own code and the fixed reference codes only.
    """
    dense = G[0]
    width = G[4].out_channels
    copy = dcgan_generator(dense.in_features, width, norm,
                           G[7].out_channels).to(dense.weight.device)
    state = {k: v for k, v in G.state_dict().items()
             if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))}
    copy.load_state_dict(state, strict=False)
    missing = [k for k, _ in copy.named_parameters() if k not in state]
    if missing:
        raise ValueError(f"with_reference_batch: G is not a DCGAN generator (missing {missing})")
    return nn.ReferenceBatch(copy, reference_codes).to(dense.weight.device)


def dcgan_discriminator(in_channels=1, width=64, depth=2, pack=1):
    """DCGAN's discriminator for 28 x 28: two strided convolutions (kernel 4, stride
    2, padding 1) halve the size, 28 -> 14 -> 7, then one Dense to the logit.
    LeakyReLU 0.2 after each convolution, batch norm after all but the first (none on
    the input layer, as in the paper). N(0, 0.02) init.

    >>> dcgan_discriminator().summary(input_shape=(1, 28, 28)) # doctest: +SKIP
    Layer (type)           Output Shape           Param #
    0 (Conv2d)             (None, 64, 14, 14)       1,088
    1 (LeakyReLU)          (None, 64, 14, 14)           0
    2 (Conv2d)             (None, 128, 7, 7)      131,200
    3 (BatchNorm2d)        (None, 128, 7, 7)          256
    4 (LeakyReLU)          (None, 128, 7, 7)            0
    5 (Flatten)            (None, 6272)                 0
    6 (Dense)              (None, 1)                6,273
    Total params: 138,817

    ``depth=3`` adds a third convolution (kernel 3, stride 2, padding 1) that takes
    7 x 7 to 4 x 4 with 4 w channels, then batch norm and LeakyReLU (432,321
    parameters): a stronger D against G's 766,017 parameters, the lecture's
    "balancing G and D" (``dcgan-plus`` uses it).

    ``pack`` m > 1: PacGAN's D, judging m images at once: the same network on packs of
    m images stacked as channels (its first convolution takes m ``in_channels``),
    wrapped in ``Packed``; it takes (B, in_channels, 28, 28) with B divisible by m.
    """
    if int(pack) != pack or pack < 1:
        raise ValueError(f"dcgan_discriminator: pack must be a positive integer, got {pack!r}")
    if depth not in (2, 3):
        raise ValueError(f"dcgan_discriminator: depth must be 2 or 3, got {depth!r}")
    w2 = 2 * width
    layers = [nn.Conv2d(in_channels * pack, width, 4, 2, 1), nn.LeakyReLU(0.2),
              nn.Conv2d(width, w2, 4, 2, 1), nn.BatchNorm2d(w2), nn.LeakyReLU(0.2)]
    channels, size = w2, 7
    if depth == 3:                      # kernel 3, stride 2, padding 1: 7 -> 4
        channels, size = 2 * w2, 4
        layers += [nn.Conv2d(w2, channels, 3, 2, 1), nn.BatchNorm2d(channels),
                   nn.LeakyReLU(0.2)]
    net = nn.dcgan_init(nn.Sequential(*layers, nn.Flatten(),
                                      nn.Dense(channels * size * size, 1)))
    return net if pack == 1 else Packed(net, pack)


def one_hot(labels, n_classes=N_CLASSES, dtype="float32"):
    """Class indices (N,) -> (N, n_classes) rows of zeros with a one at the class.
    A constant: no gradient flows into a label."""
    y = labels.data if isinstance(labels, Tensor) else labels
    xp = backend.array_module(y)
    if y.ndim != 1 or not xp.issubdtype(y.dtype, xp.integer):
        raise ValueError(f"one_hot: expected integer class labels of shape (N,), got "
                         f"{y.dtype} of shape {tuple(y.shape)}")
    # one host sync per call on a GPU (bool of one value), the min and max only to explain
    if y.size and bool(((y < 0) | (y >= n_classes)).any()):
        raise ValueError(f"one_hot: labels must be in 0..{n_classes - 1}, got values from "
                         f"{int(y.min())} to {int(y.max())}")
    return Tensor(xp.eye(n_classes, dtype=dtype)[y])


class ConditionalGenerator(nn.Module):
    """G(z, y): the DCGAN generator whose input is [z, one_hot(y)] (100 + 10 numbers),
    so the label chooses the digit and z its style."""

    def __init__(self, noise_dim=NOISE_DIM, n_classes=N_CLASSES, width=64):
        super().__init__()
        self.n_classes = n_classes
        self.net = dcgan_generator(noise_dim + n_classes, width)

    def forward(self, z, y):
        return self.net(concat([z, one_hot(y, self.n_classes, z.dtype)], axis=1))


class ConditionalDiscriminator(nn.Module):
    """D(x, y): the two-layer DCGAN discriminator fed the image and the label as 10
    more input channels, the one-hot vector spread over every pixel: (N, 1 + 10, 28,
    28)."""

    def __init__(self, n_classes=N_CLASSES, width=64):
        super().__init__()
        self.n_classes = n_classes
        self.net = dcgan_discriminator(1 + n_classes, width, depth=2)

    def forward(self, x, y):
        n, _, h, w = x.shape
        maps = one_hot(y, self.n_classes, x.dtype).reshape(n, self.n_classes, 1, 1)
        return self.net(concat([x, maps.broadcast_to((n, self.n_classes, h, w))], axis=1))


class ProjectionDiscriminator(nn.Module):
    """D(x, y) = w . phi(x) + b + e_y . phi(x): the projection discriminator (Miyato
    and Koyama 2018). phi(x) is the DCGAN discriminator's features (every layer but
    its last Dense, ``dcgan_discriminator(depth=depth)``), w . phi(x) + b that Dense,
    and e_y a learned vector per class, the rows of ``embed`` (a Dense without bias
    applied to one_hot(y): the row of class y).

    Why not the one-hot as input channels (``ConditionalDiscriminator``): with the
    cluster-conditioned DCGAN's 100 clusters that would be 100 more input maps, and
    the first convolution's cost grows with them; a projection costs one dot product
    per sample. ``features``, ``head`` and ``embed`` are the three parts.
    """

    def __init__(self, n_classes=N_CLASSES, width=64, depth=2):
        super().__init__()
        self.n_classes = n_classes
        net = dcgan_discriminator(1, width, depth)
        self.features, self.head = net[:-1], net[-1]
        self.embed = nn.Dense(n_classes, self.head.in_features, bias=False)
        nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, x, y):
        h = self.features(x)
        e = self.embed(one_hot(y, self.n_classes, h.dtype))
        return self.head(h) + (e * h).sum(axis=1, keepdims=True)


# -------------------------------------------------------------- evaluator
class MnistClassifier(nn.Module):
    """The evaluator: a small CNN that tells the ten digits apart.

    features: Conv 5x5 stride 2 (1 -> 32, 28 -> 14), ReLU, Conv 5x5 stride 2 (32 -> 64,
    14 -> 7), ReLU, Conv 3x3 (64 -> 64), ReLU, Flatten, Dense 3136 -> 128, ReLU;
    head: Dense 128 -> 10 (the class logits). ``features(x)``, the 128 numbers
    before the head, is the space in which the Frechet distance is measured.
    ``n_classes``: another number of classes (the judge of styles,
    ``minigan.eval.domains``, tells 4 apart).
    """

    def __init__(self, n_classes=N_CLASSES):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 5, 2, 2), nn.ReLU(),
            nn.Conv2d(32, 64, 5, 2, 2), nn.ReLU(),
            nn.Conv2d(64, 64, 3, 1, 1), nn.ReLU(),
            nn.Flatten(), nn.Dense(64 * 7 * 7, 128), nn.ReLU())
        self.head = nn.Dense(128, n_classes)

    def forward(self, x):
        return self.head(self.features(x))


class MnistMLPClassifier(nn.Module):
    """The second judge: a classifier of another architecture (no convolutions), trained
    on another seed, whose scores check the first judge's where a setting was chosen by
    looking at those (``minigan.eval.evaluate``, ``judge="mlp"``).

    features: Flatten, Dense 784 -> 256, ReLU, Dense 256 -> 128, ReLU;
    head: Dense 128 -> 10. Its 128 features are a second space for the Frechet distance.
    """

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Flatten(), nn.Dense(28 * 28, 256), nn.ReLU(), nn.Dense(256, 128), nn.ReLU())
        self.head = nn.Dense(128, N_CLASSES)

    def forward(self, x):
        return self.head(self.features(x))

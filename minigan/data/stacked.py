"""Stacked MNIST: three MNIST digits stacked as the channels of one 28 x 28 x 3 image.

Each channel is an MNIST image drawn uniformly and independently of the other two,
so an image's digits (d0, d1, d2) are uniform over 10^3 = 1,000 combinations: a
data set of 1,000 equally likely modes, mode = 100 d0 + 10 d1 + d2, on which a
GAN's mode collapse can be counted (Metz et al. 2017, Srivastava et al. 2017's
VEEGAN, Lin et al. 2018's PacGAN; ``minigan.eval.stacked`` counts the modes).

* ``stacked_indices(n, pool, seed)``: which images make each stack, (n, 3) indices;
* ``stack(images, indices)``: the stacks themselves, (n, 3, 28, 28);
* ``stacked_mnist(n, split, seed)``: n stacks of a split with their digits;
* ``StackedSampler``: what a Trainer is fed, m stacks a call, walked through a fixed
  set of stacks epoch by epoch (PacGAN trains on 128,000 stacks), built from index
  rows so that 128,000 stacks cost 3 MB of indices, not 1.2 GB of pixels.

Pixels are MNIST's, ``pixel / 127.5 - 1`` in [-1, 1] (``data.mnist``).
"""
import numpy

from .. import backend
from ..tensor import Tensor
from .batches import Sampler
from .mnist_files import mnist

CHANNELS = 3              # digits per stacked image
N_MODES = 10 ** CHANNELS  # 1,000


def _count(n, name, who):
    if int(n) != n or n < 0:
        raise ValueError(f"{who}: {name} must be a whole number >= 0, got {n!r}")
    return int(n)


def stacked_indices(n, pool, seed=0):
    """(n, 3) int64: row i names the `pool` images (indices 0..pool - 1) stacked as
    stack i's channels, each drawn uniformly and independently with NumPy's
    generator seeded `seed` (the same seed, the same stacks)."""
    n, pool = _count(n, "n", "stacked_indices"), _count(pool, "pool", "stacked_indices")
    if pool < 1:
        raise ValueError("stacked_indices: the pool of images to draw from is empty")
    return numpy.random.default_rng(seed).integers(0, pool, size=(n, CHANNELS), dtype=numpy.int64)


def stack(images, indices):
    """Images (N, 1, 28, 28) and index rows (n, 3) -> stacks (n, 3, 28, 28): channel c
    of stack i is ``images[indices[i, c], 0]``."""
    images, indices = numpy.asarray(images), numpy.asarray(indices)
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"stack: expected one-channel images (N, 1, H, W), got shape "
                         f"{images.shape}")
    if indices.ndim != 2 or indices.shape[1] != CHANNELS:
        raise ValueError(f"stack: expected index rows of shape (n, {CHANNELS}), got shape "
                         f"{indices.shape}")
    return images[indices, 0]            # (n, 3, H, W): fancy indexing picks each channel


def _split(split, data_dir):
    if split not in ("train", "test"):
        raise ValueError(f"stacked_mnist: split must be 'train' or 'test', got {split!r}")
    return mnist(split, data_dir)


def stacked_mnist(n, split="train", seed=0, data_dir=None):
    """n stacked-MNIST images of MNIST's `split` ("train" or "test") and their digits.

    Returns (images, labels): float32 (n, 3, 28, 28) in [-1, 1], and int64 (n, 3), the
    digit of each channel; the mode of image i is 100 labels[i, 0] + 10 labels[i, 1]
    + labels[i, 2] (uniform over 0..999). Seeded: the same seed, the same stacks.
    """
    n = _count(n, "n", "stacked_mnist")
    images, labels = _split(split, data_dir)
    idx = stacked_indices(n, len(images), seed)
    return stack(images, idx), labels[idx]


class StackedSampler:
    """Feeds a Trainer stacked MNIST: each call returns m stacks (a Tensor (m, 3, 28,
    28) on `device`).

    A fixed set of `n` stacks of `images` (``stacked_indices(n, len(images), seed)``)
    is walked through in a random order per epoch, exactly as ``data.sampler`` walks
    through an array (it is one, over the index rows); ``state_dict`` /
    ``load_state_dict`` resume the stream with the Trainer's checkpoint.
    """

    def __init__(self, images, n, seed=0, device=None):
        self.images = numpy.asarray(images)
        self.indices = stacked_indices(n, len(self.images), seed)
        self.device = backend.normalize_device(device)
        self.rows = Sampler(self.indices)               # on the host: indices only

    def __call__(self, m):
        rows = self.rows(m).data
        return Tensor(stack(self.images, rows), device=self.device)

    def state_dict(self):
        return self.rows.state_dict()

    def load_state_dict(self, state):
        self.rows.load_state_dict(state)

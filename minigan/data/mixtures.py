"""Toy distributions for GANs: mixtures of Gaussians whose modes we can count.

A mixture of K Gaussians with equal weights and one shared standard deviation,

    p(x) = (1/K) sum_k N(x; mu_k, std^2 I),

is the classic testbed for *mode collapse*: every mode is known, so we can count
how many of them a generator reaches (``minigan.eval.metrics``).

Two layouts in two settings:

* ``ring()``: 8 modes at angles 2 pi k / 8 on a circle. The default follows the
  PacGAN protocol (Lin et al. 2018): radius 1, std 0.01. ``ring(setting="unrolled")``
  is the Unrolled-GAN setting (Metz et al. 2017): radius 2, std 0.02.
* ``grid()``: 25 modes at {-4, -2, 0, 2, 4}^2 with std 0.05 (PacGAN).

Samples come from minigan's seeded generator (``minigan.manual_seed``) and are
returned as float32 Tensors on the asked device. The centres (a NumPy array)
and the std are attributes, so metrics can use them. The noise samplers feed a
generator its z.
"""
import math

import numpy

from .. import backend
from ..tensor import Tensor


# PacGAN (Lin et al. 2018) and Unrolled GAN (Metz et al. 2017) settings.
RING_SETTINGS = {
    "pacgan": dict(radius=1.0, std=0.01),
    "unrolled": dict(radius=2.0, std=0.02),
}


class GaussianMixture:
    """Equal-weight mixture of isotropic Gaussians N(mu_k, std^2 I).

    ``centers``: array (K, d) of the means; ``std``: the shared standard deviation.
    """

    def __init__(self, centers, std, name="mixture"):
        centers = numpy.asarray(centers, dtype=numpy.float64)
        if centers.ndim == 1:                       # K scalars: a 1-D mixture
            centers = centers[:, None]
        if centers.ndim != 2 or centers.shape[0] == 0:
            raise ValueError(f"{name}: a mixture needs at least one mode; got centres of "
                             f"shape {centers.shape} (expected (n_modes, dim) with n_modes >= 1)")
        std = float(std)
        if not std >= 0.0:                           # also catches NaN
            raise ValueError(f"{name}: the standard deviation must be >= 0, got {std}")
        self.centers = centers
        self.std = std
        self.name = name

    @property
    def n_modes(self):
        return self.centers.shape[0]

    @property
    def dim(self):
        return self.centers.shape[1]

    def sample(self, n, device=None, return_modes=False):
        """n samples as a float32 Tensor (n, dim): pick a mode uniformly, add std * N(0, I).

        With ``return_modes=True`` also returns the array of the modes picked.
        """
        n = int(n)
        if n < 0:
            raise ValueError(f"{self.name}.sample: n must be >= 0, got {n}")
        device = backend.normalize_device(device)
        xp = backend.module_for(device)
        rng = backend.generator(device)
        # uniform mode index: floor(K u) with u ~ U[0, 1)
        modes = xp.minimum((rng.random(n) * self.n_modes).astype(xp.int64), self.n_modes - 1)
        mu = xp.asarray(self.centers, dtype=xp.float32)[modes]
        noise = rng.standard_normal((n, self.dim), dtype=xp.float32)
        x = Tensor(mu + xp.float32(self.std) * noise)
        return (x, modes) if return_modes else x

    def __call__(self, n, device=None):
        return self.sample(n, device)

    def __repr__(self):
        return f"GaussianMixture({self.name}: {self.n_modes} modes in {self.dim}-D, std={self.std})"


def ring(n_modes=8, radius=None, std=None, setting="pacgan"):
    """n_modes Gaussians at angles 2 pi k / n_modes on a circle of `radius`.

    ``setting="pacgan"`` (default): radius 1, std 0.01; ``setting="unrolled"``:
    radius 2, std 0.02. An explicit radius or std overrides the setting's.
    """
    if setting not in RING_SETTINGS:
        raise ValueError(f"ring: unknown setting {setting!r}; known: {sorted(RING_SETTINGS)}")
    radius = RING_SETTINGS[setting]["radius"] if radius is None else float(radius)
    std = RING_SETTINGS[setting]["std"] if std is None else std
    n_modes = int(n_modes)
    if n_modes < 1:
        raise ValueError(f"ring: a mixture needs at least one mode, got n_modes={n_modes}")
    angles = 2.0 * math.pi * numpy.arange(n_modes) / n_modes
    centers = radius * numpy.stack([numpy.cos(angles), numpy.sin(angles)], axis=1)
    return GaussianMixture(centers, std, name=f"ring{n_modes}")


def grid(side=5, spacing=2.0, std=0.05):
    """side x side Gaussians on a square grid centred at 0, `spacing` apart.

    The default (5, 2.0, 0.05) puts 25 modes at {-4, -2, 0, 2, 4}^2 (PacGAN).
    """
    side = int(side)
    if side < 1:
        raise ValueError(f"grid: a mixture needs at least one mode, got side={side}")
    ticks = spacing * (numpy.arange(side) - (side - 1) / 2.0)
    xs, ys = numpy.meshgrid(ticks, ticks, indexing="ij")
    centers = numpy.stack([xs.ravel(), ys.ravel()], axis=1)
    return GaussianMixture(centers, std, name=f"grid{side * side}")


def gaussian_1d(mean=4.0, std=0.5):
    """One 1-D Gaussian N(mean, std^2), a mixture with a single mode."""
    return GaussianMixture([[mean]], std, name="gaussian1d")


DATASETS = {
    "ring": lambda: ring(),
    "ring-unrolled": lambda: ring(setting="unrolled"),
    "grid": lambda: grid(),
}


def mixture(name):
    """A toy dataset by name: 'ring' (PacGAN), 'ring-unrolled' (Unrolled GAN) or 'grid'."""
    if name not in DATASETS:
        raise ValueError(f"unknown toy dataset {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[name]()


def noise_sampler(device="cpu", dim=2):
    """A sampler for a Trainer: ``sample(n)`` gives z ~ N(0, I), shape (n, dim), float32,
    from minigan's seeded generator."""
    def sample(n):
        return Tensor(backend.generator(device).standard_normal((n, dim), dtype="float32"))
    return sample


def labelled_noise_sampler(device="cpu", dim=100, n_classes=10, probs=None):
    """A sampler for a conditional GAN's Trainer: ``sample(n)`` gives the pair (z, y),
    z ~ N(0, I) of shape (n, dim) and classes y in 0..n_classes-1 (int64), both from
    minigan's seeded generator. The classes are uniform, or drawn with the
    probabilities `probs` (e.g. how often each cluster occurs in the data,
    ``clusters.Clusters.frequencies``): y = the first class whose cumulative
    probability exceeds u ~ U[0, 1)."""
    if probs is not None:
        probs = numpy.asarray(probs, dtype=numpy.float64)
        if probs.shape != (n_classes,) or (probs < 0).any() or abs(probs.sum() - 1) > 1e-6:
            raise ValueError(f"labelled_noise_sampler: probs must be {n_classes} "
                             f"non-negative numbers summing to 1, got shape {probs.shape}")
        xp = backend.module_for(device)
        cdf = xp.asarray(numpy.cumsum(probs))

    def sample(n):
        rng = backend.generator(device)
        z = Tensor(rng.standard_normal((n, dim), dtype="float32"))
        if probs is None:
            return z, Tensor(rng.integers(0, n_classes, size=n).astype("int64"))
        y = xp.minimum(xp.searchsorted(cdf, rng.random(n), side="right"), n_classes - 1)
        return z, Tensor(y.astype("int64"))
    return sample

"""Data: the toy mixtures of Gaussians and the noise that G is fed
(``mixtures``), MNIST read from its four original IDX files (``mnist_files``:
finding, checking and downloading them; ``mnist(split)``: the arrays), and a data
set fed to a training loop a batch at a time (``batches``).
"""
from .mixtures import (RING_SETTINGS, GaussianMixture, ring, grid, gaussian_1d,  # noqa: F401
                       DATASETS, mixture, noise_sampler, labelled_noise_sampler)
from .mnist_files import mnist  # noqa: F401
from .batches import Batches, Sampler, sampler  # noqa: F401

"""Data: the toy mixtures of Gaussians and the noise that G is fed
(``mixtures``), MNIST read from its four original IDX files (``mnist_files``:
finding, checking and downloading them; ``mnist(split)``: the arrays), image
domains with a known answer for the translation GANs (``domains``: edge maps,
the styles plain / thick / thin / slanted, paired, unpaired and styled sets, and
printed digits rendered from fonts), a digit's ink and slant from its image moments
(``attributes``), StackGAN's sentences about digits built from them
(``sentences``), and a data set fed to a training loop a batch at a time
(``batches``).
"""
from .mixtures import (RING_SETTINGS, GaussianMixture, ring, grid, gaussian_1d,  # noqa: F401
                       DATASETS, mixture, noise_sampler, labelled_noise_sampler)
from .mnist_files import mnist  # noqa: F401
from .batches import Batches, Sampler, sampler  # noqa: F401
from .domains import (STYLES, edges, style, paired_edges, Unpaired, unpaired,  # noqa: F401
                      styled, printed_digits, printed_test_set)

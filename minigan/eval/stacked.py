"""Counting the modes of stacked MNIST (``minigan.data.stacked``), as VEEGAN and PacGAN do.

Each of a generated image's three channels is classified by the evaluator
(``evaluate.load_classifier()``, the small CNN every report uses), giving digits
(d0, d1, d2) and the mode

    mode(x) = 100 d0 + 10 d1 + d2,      d_c = argmax_k p(k | channel c of x),

one of K = 1,000. Over N generated images (VEEGAN's protocol, and PacGAN Table 2's:
N = 26,000) let n_k be the number whose mode is k and p_k = n_k / N. Then

* modes covered:  #{k : n_k >= 1}, a mode with at least one sample counts (PacGAN);
* KL:             KL(p || u) = sum_k p_k ln(p_k / (1/K)) = sum_k p_k ln(K p_k),
                  natural log, 0 ln 0 = 0 (``metrics.reverse_kl_uniform``): the
                  histogram of generated modes against the uniform one. 0 for a
                  perfectly even generator, ln 1000 = 6.91 when every sample has one mode.

Every sample counts: unlike the mixtures' protocol (``metrics.mode_scores``) there is
no quality threshold, since the classifier names a digit for any image.

A perfect generator does not score KL = 0: N samples drawn uniformly over K modes
give a ragged histogram, and 2 N KL(p || u) is then about chi-square with K - 1
degrees of freedom, so E[KL] is about (K - 1) / (2 N) = 0.019 for N = 26,000; every
mode is covered (a mode is empty with probability (1 - 1/K)^N = e^{-26}). Real
stacks scored by the evaluator come close to that (``tests/test_stacked.py``).
"""
import numpy

from .. import backend
from ..data.stacked import CHANNELS, N_MODES
from ..tensor import Tensor
from . import evaluate
from .metrics import reverse_kl_uniform

N_SAMPLES = 26_000        # images counted per run (VEEGAN, PacGAN Table 2)


def as_stacked(images):
    """Images as float32 (N, 3, 28, 28) NumPy in [-1, 1]; uint8 pixels 0..255 are scaled."""
    x = images.numpy() if isinstance(images, Tensor) else backend.to_numpy(images)
    if x.dtype == numpy.uint8:
        x = x.astype(numpy.float32) / 127.5 - 1.0
    x = numpy.asarray(x, numpy.float32)
    if x.ndim != 4 or x.shape[1:] != (CHANNELS, 28, 28):
        raise ValueError(f"expected stacked-MNIST images of shape (N, {CHANNELS}, 28, 28), "
                         f"got shape {x.shape}")
    return x


def channel_digits(classifier, images, batch=500):
    """(N, 3) int64: the evaluator's digit for each channel of each image (N, 3, 28, 28),
    NumPy arrays, Tensors, on the host or a device."""
    x = as_stacked(images)
    n = len(x)
    flat = x.reshape(n * CHANNELS, 1, *x.shape[2:])   # row 3i + c: channel c of image i
    probs, _ = evaluate.classify(classifier, flat, batch=batch)
    return probs.argmax(axis=1).reshape(n, CHANNELS).astype(numpy.int64)


def modes_of(digits):
    """Digits (N, 3) -> modes (N,): 100 d0 + 10 d1 + d2, in 0..999."""
    d = numpy.asarray(digits)
    if d.ndim != 2 or d.shape[1] != CHANNELS:
        raise ValueError(f"modes_of: expected digits of shape (N, {CHANNELS}), got shape "
                         f"{d.shape}")
    if d.size and (d.min() < 0 or d.max() > 9):
        raise ValueError(f"modes_of: digits must be in 0..9, got values from {d.min()} to "
                         f"{d.max()}")
    return (d * numpy.array([100, 10, 1])).sum(axis=1).astype(numpy.int64)


def mode_histogram(modes):
    """Modes (N,) -> counts (1000,): n_k, how many samples have mode k."""
    return numpy.bincount(numpy.asarray(modes, dtype=numpy.int64), minlength=N_MODES)


def mode_scores(counts):
    """PacGAN's two numbers from a histogram of the 1,000 modes (see the module docstring):
    {"modes": covered (n_k >= 1), "kl": KL(p || uniform) in nats, "samples": N}."""
    counts = numpy.asarray(counts)
    if counts.shape != (N_MODES,):
        raise ValueError(f"mode_scores: expected counts of the {N_MODES} modes, shape "
                         f"({N_MODES},), got shape {counts.shape}")
    if counts.sum() <= 0:
        raise ValueError("mode_scores: the histogram is empty (no samples were counted)")
    return {"modes": int((counts > 0).sum()), "kl": reverse_kl_uniform(counts),
            "samples": int(counts.sum())}


def score_stacked(classifier, images, batch=500):
    """Classify every channel, count the modes: ``mode_scores`` plus "counts" (1,000
    ints, the histogram, for the coverage picture)."""
    counts = mode_histogram(modes_of(channel_digits(classifier, images, batch)))
    return {**mode_scores(counts), "counts": counts.tolist()}

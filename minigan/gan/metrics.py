"""Honest numbers for mode collapse on a mixture of Gaussians (PacGAN's protocol).

Given generated samples x_1..x_N (PacGAN uses N = 2,500) and a mixture with
centres mu_1..mu_K and standard deviation std:

* nearest mode:   m(x) = argmin_k ||x - mu_k||
* high quality:   ||x - mu_m(x)|| <= 3 std   (within 3 standard deviations of
  its nearest mode). For a true sample in 2-D, ||x - mu||^2 / std^2 is
  chi-square with 2 degrees of freedom, so P(high quality) = 1 - e^{-9/2} = 98.89%.
* modes captured: the modes that are the nearest mode of at least one
  high-quality sample.
* reverse KL:     KL(p || u) = sum_k p_k ln(p_k K), natural log, where p is the
  histogram of the **high-quality** samples over their nearest modes (as in
  PacGAN) and u the uniform distribution over the K modes. It is 0 for a
  perfectly balanced generator and ln K when every good sample sits on one mode.
  Samples far from every mode do not enter the histogram (the high-quality
  fraction reports them). If no sample is high quality the histogram is empty
  and the reverse KL is NaN (undefined), never a made-up number.

All of this is host-side bookkeeping in NumPy (the samples are moved with
``.numpy()`` once); nothing here is differentiated.
"""
import math

import numpy

N_EVAL = 2500          # samples per evaluation (PacGAN)
N_SIGMA = 3.0          # the high-quality radius, in standard deviations


def _as_numpy(samples):
    if hasattr(samples, "numpy") and not isinstance(samples, numpy.ndarray):
        samples = samples.numpy()
    return numpy.asarray(samples, dtype=numpy.float64)


def _centers_std(mixture, centers, std):
    if mixture is not None:
        return numpy.asarray(mixture.centers, dtype=numpy.float64), float(mixture.std)
    if centers is None or std is None:
        raise ValueError("give a mixture, or both centers= and std=")
    centers = numpy.asarray(centers, dtype=numpy.float64)
    if centers.ndim == 1:
        centers = centers[:, None]
    return centers, float(std)


def nearest_modes(samples, centers):
    """(index of the nearest centre, distance to it) for every sample.

    ||x - mu||^2 for all pairs at once: (N, 1, d) - (1, K, d), summed over d.
    """
    x = _as_numpy(samples)
    centers = numpy.asarray(centers, dtype=numpy.float64)
    if x.ndim != 2 or x.shape[1] != centers.shape[1]:
        raise ValueError(f"nearest_modes: samples must have shape (N, {centers.shape[1]}) to "
                         f"match the centres, got {x.shape}")
    d2 = ((x[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    idx = d2.argmin(axis=1)
    return idx, numpy.sqrt(d2[numpy.arange(len(x)), idx])


def reverse_kl_uniform(counts):
    """KL(p || uniform) = sum_k p_k ln(p_k K) for the histogram `counts` (0 ln 0 = 0).

    NaN when the histogram is empty.
    """
    counts = numpy.asarray(counts, dtype=numpy.float64)
    total = counts.sum()
    if total <= 0:
        return float("nan")
    p = counts / total
    nz = p > 0
    return float((p[nz] * numpy.log(p[nz] * len(counts))).sum())


def mode_scores(samples, mixture=None, *, centers=None, std=None, n_sigma=N_SIGMA):
    """PacGAN's three numbers for one set of samples.

    Returns a dict: ``modes`` (captured, an int), ``n_modes`` (K),
    ``high_quality`` (fraction in [0, 1]), ``reverse_kl`` (nats, over the
    high-quality samples), ``counts`` (high-quality samples per mode, a list).
    """
    centers, std = _centers_std(mixture, centers, std)
    x = _as_numpy(samples)
    if len(x) == 0:
        raise ValueError("mode_scores: no samples to score")
    if not numpy.isfinite(x).all():
        raise ValueError("mode_scores: the samples contain NaN or inf (did training diverge?)")
    idx, dist = nearest_modes(x, centers)
    good = dist <= n_sigma * std
    counts = numpy.bincount(idx[good], minlength=len(centers))
    return {
        "modes": int((counts > 0).sum()),
        "n_modes": int(len(centers)),
        "high_quality": float(good.mean()),
        "reverse_kl": reverse_kl_uniform(counts),
        "counts": counts.tolist(),
    }


def mode_occupancy(samples, mixture, n_sigma=N_SIGMA):
    """Fraction of the samples that are high quality on each mode: a (K,) array.

    One column of the modes x steps heat map that shows collapse over time.
    """
    s = mode_scores(samples, mixture, n_sigma=n_sigma)
    return numpy.asarray(s["counts"], dtype=numpy.float64) / len(_as_numpy(samples))


def dominant_mode_changes(occupancy):
    """How often the most-occupied mode changes between consecutive snapshots.

    ``occupancy``: (K, T) array (modes x snapshots). Snapshots where no mode is
    occupied are skipped. A generator that cycles through the modes changes
    its dominant mode often; one that covers all modes evenly changes it
    at random (so read this number next to the occupancy map).
    """
    occ = numpy.asarray(occupancy)
    dominant = [int(col.argmax()) for col in occ.T if col.max() > 0]
    return int(sum(a != b for a, b in zip(dominant, dominant[1:])))


def mean_stderr(values):
    """(mean, standard error of the mean) of a list of numbers.

    stderr = sample std (ddof=1) / sqrt(n); 0 for a single value. A NaN among
    the values (an undefined reverse KL) makes both NaN: a failed run is shown,
    not hidden.
    """
    v = numpy.asarray(list(values), dtype=numpy.float64)
    if len(v) == 0 or numpy.isnan(v).any():
        return float("nan"), float("nan")
    if len(v) == 1:
        return float(v[0]), 0.0
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v)))

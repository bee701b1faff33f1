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
    """Samples (a Tensor, a NumPy or CuPy array, a list) as float64 on the host."""
    return numpy.asarray(_to_host(samples), dtype=numpy.float64)


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


# =====================================================================
# Image GANs scored by a classifier: Inception Score, Frechet distance,
# class accuracy, and a nearest-neighbour check for copying.
# =====================================================================
#
# An image GAN has no mixture centres to count, so it is judged through a
# classifier trained on the real data (the "evaluator"; on MNIST a small
# convnet, in the literature Inception-v3). The functions below take the
# evaluator's *outputs* as arrays, so they work with any classifier:
#
# * class probabilities p(y|x), an (N, K) array    -> inception_score, class_accuracy
# * penultimate-layer features, an (N, D) array     -> frechet_distance
# * the images themselves, flattened               -> nearest_neighbour_distances,
#                                                     copying_report
#
# Like the mixture metrics above, this is host-side bookkeeping: a CuPy array
# or a minigan Tensor is copied to the host once, at the start (the caller
# asked for a number, so the copy is asked for), and the arithmetic is float64
# NumPy from there on (a large reference set is converted block by block).
# Nothing here is differentiated.

import warnings  # noqa: E402

from scipy import linalg as _linalg  # noqa: E402

from .. import backend  # noqa: E402

PROB_EPS = 1e-12       # probabilities are clipped here inside the logarithms
ROW_SUM_TOL = 1e-3     # how far a row of p(y|x) may be from summing to 1
FD_EPS = 1e-6          # added to both covariances' diagonals when sqrtm fails


def _to_host(a):
    """`a` as a NumPy array on the host, dtype kept: one copy from the GPU if needed
    (``backend.to_numpy`` knows a CuPy array by its type, whether or not CuPy has been
    imported yet)."""
    if hasattr(a, "numpy") and not isinstance(a, numpy.ndarray) \
            and not backend.is_device_array(a):
        a = a.numpy()                              # a minigan Tensor (or a torch tensor)
    return backend.to_numpy(a)


def _host(a, name, fn):
    """`a` as a float64 NumPy array on the host."""
    a = _to_host(a)
    if a.dtype == object:
        raise TypeError(f"{fn}: {name} must be an array of numbers, got dtype=object")
    return numpy.asarray(a, dtype=numpy.float64)


def _probabilities(probs, fn):
    """Check that `probs` is an (N, K) array of class probabilities; return it (float64)."""
    p = _host(probs, "probs", fn)
    if p.ndim != 2:
        raise ValueError(f"{fn}: probs must be a 2-D array (N samples, K classes) of "
                         f"class probabilities p(y|x), got shape {p.shape}")
    if p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(f"{fn}: probs is empty (shape {p.shape})")
    if not numpy.isfinite(p).all():
        raise ValueError(f"{fn}: probs contains NaN or inf (did the generator diverge?)")
    sums = p.sum(axis=1)
    worst = int(numpy.abs(sums - 1.0).argmax())
    if p.min() < 0 or abs(sums[worst] - 1.0) > ROW_SUM_TOL:
        raise ValueError(
            f"{fn}: every row of probs must be a probability distribution (entries >= 0 "
            f"summing to 1, within {ROW_SUM_TOL:g}); row {worst} sums to {sums[worst]:.6g} "
            f"and the smallest entry is {p.min():.6g}. Did you pass logits? Apply a "
            f"softmax over the classes first.")
    return p


def inception_score(probs, splits=10):
    """The Inception Score of Salimans et al. (2016), from a classifier's p(y|x).

    ``probs`` is an (N, K) array: row i is the evaluator's class distribution
    p(y|x_i) for generated sample x_i. The N samples are cut into ``splits``
    consecutive parts; for each part

        p(y)  = (1/n) sum_i p(y|x_i)                       (the part's marginal)
        IS    = exp( (1/n) sum_i KL(p(y|x_i) || p(y)) )
              = exp( (1/n) sum_i sum_y p(y|x_i) [ln p(y|x_i) - ln p(y)] )

    and the function returns ``(mean, std)`` of the per-part scores (numpy's
    population std, ddof=0, as in the reference implementation). Probabilities
    are clipped at 1e-12 inside the logarithms, so a 0 contributes 0 ln 0 = 0.

    How to read it (1 <= IS <= K):

    * IS = 1: every sample gets the same prediction distribution, e.g. a single
      image repeated (total mode collapse), or samples the evaluator cannot
      classify at all (uniform p(y|x)).
    * IS = K: every sample is classified with certainty (one-hot p(y|x)) *and*
      the classes are used uniformly: sharp and diverse.

    It never looks at real data: a model that draws one perfect image per
    class scores K. Read it beside the Frechet distance and the copying report.

    If N is not a multiple of ``splits`` the parts are made by
    ``numpy.array_split``, so they differ in size by one sample; each part's
    score is still its own mean, and the parts weigh equally in the mean.
    """
    fn = "inception_score"
    p = _probabilities(probs, fn)
    if isinstance(splits, bool) or not isinstance(splits, (int, numpy.integer)) or splits < 1:
        raise ValueError(f"{fn}: splits must be a positive integer, got {splits!r}")
    n = p.shape[0]
    if n < splits:
        raise ValueError(f"{fn}: {n} samples cannot be cut into {splits} parts; give at "
                         f"least {splits} samples or fewer splits")
    scores = []
    for part in numpy.array_split(p, int(splits), axis=0):
        p_y = part.mean(axis=0, keepdims=True)                        # p(y) of this part
        log_ratio = numpy.log(numpy.clip(part, PROB_EPS, None)) \
            - numpy.log(numpy.clip(p_y, PROB_EPS, None))
        kl = (part * log_ratio).sum(axis=1)                           # KL(p(y|x) || p(y))
        scores.append(math.exp(kl.mean()))
    scores = numpy.asarray(scores)
    return float(scores.mean()), float(scores.std())


def class_accuracy(probs, requested):
    """Share of samples whose evaluator class is the class that was asked for.

        accuracy = (1/N) sum_i [ argmax_y p(y|x_i) == c_i ]

    ``probs``: (N, K) evaluator outputs for the samples of a conditional
    generator (probabilities or logits: the argmax is the same).
    ``requested``: (N,) the class labels c_i the generator was conditioned on.
    1 means the generator draws what it is told; 1/K is chance.
    """
    fn = "class_accuracy"
    p = _host(probs, "probs", fn)
    if p.ndim != 2 or p.shape[0] == 0:
        raise ValueError(f"{fn}: probs must be a 2-D array (N samples, K classes), "
                         f"got shape {p.shape}")
    c = _host(requested, "requested", fn)
    if c.ndim != 1 or c.shape[0] != p.shape[0]:
        raise ValueError(f"{fn}: requested must be a 1-D array of {p.shape[0]} class labels "
                         f"(one per row of probs), got shape {c.shape}")
    if not numpy.all(c == numpy.round(c)) or c.min() < 0 or c.max() >= p.shape[1]:
        raise ValueError(f"{fn}: requested must hold whole class labels in 0..{p.shape[1] - 1}, "
                         f"got values from {c.min():g} to {c.max():g}")
    if not numpy.isfinite(p).all():
        raise ValueError(f"{fn}: probs contains NaN or inf")
    return float((p.argmax(axis=1) == c.astype(numpy.int64)).mean())


# ---------------------------------------------------------------- Frechet distance

def _features(feats, name, fn):
    f = _host(feats, name, fn)
    if f.ndim != 2:
        raise ValueError(f"{fn}: {name} must be a 2-D array (N samples, D features), "
                         f"got shape {f.shape}")
    if f.shape[0] < 2:
        raise ValueError(f"{fn}: {name} has {f.shape[0]} sample(s); a covariance needs "
                         f"at least 2 (and many more than D = {f.shape[1]} to be reliable)")
    if not numpy.isfinite(f).all():
        raise ValueError(f"{fn}: {name} contains NaN or inf")
    return f


def feature_statistics(feats):
    """(mu, sigma) of an (N, D) feature array: the Gaussian the Frechet distance uses.

        mu    = (1/N) sum_i f_i                                 shape (D,)
        sigma = 1/(N-1) sum_i (f_i - mu)(f_i - mu)^T            shape (D, D)

    (the unbiased covariance, as in the reference FID code). float64.
    """
    f = _features(feats, "feats", "feature_statistics")
    mu = f.mean(axis=0)
    sigma = numpy.atleast_2d(numpy.cov(f, rowvar=False))
    return mu, sigma


def _sqrtm(a):
    """scipy.linalg.sqrtm(a), without its "Matrix is singular" warning.

    With fewer samples than features the covariances are singular, and so is
    their product; sqrtm then warns, but its root is still accurate (the trace
    agrees with the symmetric form Tr (S1^{1/2} S2 S1^{1/2})^{1/2} to ~1e-8),
    so the warning is noise here. A root that is really broken (non-finite, or
    complex beyond rounding) is caught by the caller.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", _linalg.LinAlgWarning)
        return _linalg.sqrtm(a)


def _sqrtm_is_broken(root):
    """Non-finite, or an imaginary part on the diagonal beyond rounding."""
    if not numpy.isfinite(root).all():
        return True
    if numpy.iscomplexobj(root):
        diag = numpy.diagonal(root)
        return numpy.abs(diag.imag).max() > 1e-3 * max(1.0, numpy.abs(diag).max())
    return False


def frechet_distance_from_stats(mu1, sigma1, mu2, sigma2, eps=FD_EPS):
    """Frechet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2).

        FD = ||mu1 - mu2||^2 + Tr( sigma1 + sigma2 - 2 (sigma1 sigma2)^{1/2} )

    This is the squared 2-Wasserstein distance between the two Gaussians; with
    Inception-v3 pool features it is the "FID", here it lives in the feature
    space of whatever evaluator produced the statistics, so numbers are only
    comparable under the same evaluator. For diagonal covariances it reduces
    to ||mu1 - mu2||^2 + sum_d (sqrt(a_d) - sqrt(b_d))^2.

    The matrix square root is scipy.linalg.sqrtm, in float64. As in the
    reference FID implementations: if the product is so near singular that
    sqrtm's root is not finite (or is complex beyond rounding), ``eps`` * I is
    added to both covariances and
    the distance is that of the nudged pair (all three traces use the nudged
    covariances, so two equal singular covariances still give 0). Rounding
    leaves tiny imaginary parts in the root; only the real part is kept (an
    imaginary part beyond rounding, 1e-3 of the diagonal, is an error). A
    result that rounding pushes a hair below 0 is returned as 0.
    """
    fn = "frechet_distance_from_stats"
    mu1, mu2 = (numpy.atleast_1d(_host(m, name, fn)) for m, name in ((mu1, "mu1"), (mu2, "mu2")))
    s1, s2 = (numpy.atleast_2d(_host(s, name, fn)) for s, name in ((sigma1, "sigma1"),
                                                                   (sigma2, "sigma2")))
    d = mu1.shape[0]
    if mu1.ndim != 1 or mu2.shape != (d,):
        raise ValueError(f"{fn}: the means must be vectors of the same length D, got "
                         f"mu1 {mu1.shape} and mu2 {mu2.shape} (were the features taken "
                         f"from the same layer of the same evaluator?)")
    for s, name in ((s1, "sigma1"), (s2, "sigma2")):
        if s.shape != (d, d):
            raise ValueError(f"{fn}: {name} must be a ({d}, {d}) covariance to match the "
                             f"means, got shape {s.shape}")
    for a, name in ((mu1, "mu1"), (mu2, "mu2"), (s1, "sigma1"), (s2, "sigma2")):
        if not numpy.isfinite(a).all():
            raise ValueError(f"{fn}: {name} contains NaN or inf")

    diff = mu1 - mu2
    covmean = _sqrtm(s1 @ s2)                              # (sigma1 sigma2)^{1/2}
    if _sqrtm_is_broken(covmean):                          # a near-singular product
        s1, s2 = s1 + eps * numpy.eye(d), s2 + eps * numpy.eye(d)
        covmean = _sqrtm(s1 @ s2)                          # the FD of the nudged pair
    if _sqrtm_is_broken(covmean):
        raise ValueError(f"{fn}: the matrix square root of sigma1 sigma2 is not finite, or has "
                         f"a large imaginary part, even with {eps:g} added to the diagonals: "
                         f"are both sigmas symmetric positive semi-definite covariances? "
                         f"(and use more samples than feature dimensions, D = {d})")
    covmean = covmean.real                                 # drop rounding's imaginary dust
    fd = diff @ diff + numpy.trace(s1) + numpy.trace(s2) - 2.0 * numpy.trace(covmean)
    return float(max(fd, 0.0))


def frechet_distance(feats_a, feats_b, eps=FD_EPS):
    """Frechet distance between two sets of evaluator features, (N_a, D) and (N_b, D).

        FD = ||mu_a - mu_b||^2 + Tr( S_a + S_b - 2 (S_a S_b)^{1/2} )

    with (mu, S) = feature_statistics(feats) for each set: the FID formula, in
    the evaluator's penultimate feature space. 0 for identical sets; it grows
    when the generated features move (the mean term) or spread differently (the
    trace term). It is biased upward for small N: compare models at the same N.
    """
    fn = "frechet_distance"
    a = _features(feats_a, "feats_a", fn)
    b = _features(feats_b, "feats_b", fn)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{fn}: the two feature sets have different dimensions, "
                         f"{a.shape[1]} and {b.shape[1]} (they must come from the same "
                         f"layer of the same evaluator)")
    mu_a, s_a = feature_statistics(a)
    mu_b, s_b = feature_statistics(b)
    return frechet_distance_from_stats(mu_a, s_a, mu_b, s_b, eps=eps)


# ---------------------------------------------------------------- copying

def _flat_images(x, name, fn):
    """(N, 1, H, W), (N, H, W) or (N, D) -> (N, D) float64 on the host."""
    a = _host(x, name, fn)
    if a.ndim < 2:
        raise ValueError(f"{fn}: {name} must hold N images, shaped (N, 1, 28, 28), "
                         f"(N, 28, 28) or (N, 784), got shape {a.shape} (for one image, "
                         f"add a leading axis of length 1)")
    if a.shape[0] == 0:
        raise ValueError(f"{fn}: {name} holds no images")
    a = a.reshape(a.shape[0], -1)
    if not numpy.isfinite(a).all():
        raise ValueError(f"{fn}: {name} contains NaN or inf")
    return a


def nearest_neighbour_distances(samples, reference, batch=1024, reference_batch=8192,
                                return_index=False):
    """For every row of ``samples`` the Euclidean distance to its nearest row of ``reference``.

        d(x) = min_j ||x - r_j||,   with   ||x - r||^2 = ||x||^2 + ||r||^2 - 2 x.r

    The expansion turns all pairwise distances of a block into one matrix
    product. Images of shape (N, 1, H, W), (N, H, W) or (N, D) are flattened.
    The work is done in float64 blocks of ``batch`` samples x ``reference_batch``
    reference rows (1024 x 8192 x 8 bytes = 64 MiB), and the reference is read
    one block at a time, so 10,000 samples against 60,000 MNIST images stay
    well under 1 GB whatever the input dtype (uint8 images are safe: nothing is
    multiplied in uint8).

    The expansion is only used to *find* the nearest row: rounding in it can
    leave a small positive number (or a negative one, clamped at 0) where the
    distance is 0. The distance to the row found is then recomputed directly
    as ||x - r||, so an exact copy gives exactly 0.

    Returns an (N,) float64 array, and with ``return_index=True`` also the
    (N,) index of each nearest reference row.
    """
    fn = "nearest_neighbour_distances"
    x = _flat_images(samples, "samples", fn)
    for v, name in ((batch, "batch"), (reference_batch, "reference_batch")):
        if isinstance(v, bool) or not isinstance(v, (int, numpy.integer)) or v < 1:
            raise ValueError(f"{fn}: {name} must be a positive integer, got {v!r}")
    ref = _to_host(reference)               # dtype kept: 60,000 uint8 images stay 47 MB
    if ref.ndim < 2 or ref.shape[0] == 0:
        raise ValueError(f"{fn}: reference must hold M images, shaped (M, 1, 28, 28), "
                         f"(M, 28, 28) or (M, 784), got shape {ref.shape}")
    ref = ref.reshape(ref.shape[0], -1)     # a view: converted to float64 block by block
    if ref.shape[1] != x.shape[1]:
        raise ValueError(f"{fn}: samples have {x.shape[1]} values each and reference images "
                         f"{ref.shape[1]}; they must be images of the same size")

    n = x.shape[0]
    best_d2 = numpy.full(n, numpy.inf)
    best_j = numpy.zeros(n, dtype=numpy.int64)
    x_sq = numpy.einsum("nd,nd->n", x, x)                             # ||x||^2
    for r0 in range(0, ref.shape[0], reference_batch):
        r = numpy.asarray(ref[r0:r0 + reference_batch], dtype=numpy.float64)
        if not numpy.isfinite(r).all():
            raise ValueError(f"{fn}: reference contains NaN or inf (rows {r0}..{r0 + len(r) - 1})")
        r_sq = numpy.einsum("md,md->m", r, r)                         # ||r||^2
        for s0 in range(0, n, batch):
            s = slice(s0, s0 + batch)
            d2 = x[s] @ r.T                         # ||x - r||^2 = ||x||^2 + ||r||^2 - 2 x.r,
            d2 *= -2.0                              # built in place: one block in memory
            d2 += x_sq[s, None]
            d2 += r_sq[None, :]
            j = d2.argmin(axis=1)
            dj = d2[numpy.arange(len(j)), j]
            better = dj < best_d2[s]
            best_d2[s] = numpy.where(better, dj, best_d2[s])
            best_j[s] = numpy.where(better, j + r0, best_j[s])
    # recompute the distance to the row found, directly: exact copies give exactly 0
    dist = numpy.empty(n)
    for s0 in range(0, n, batch):
        s = slice(s0, s0 + batch)
        nearest = numpy.asarray(ref[best_j[s]], dtype=numpy.float64)
        dist[s] = numpy.sqrt(numpy.maximum(((x[s] - nearest) ** 2).sum(axis=1), 0.0))
    return (dist, best_j) if return_index else dist


def _summary(d):
    return {"median": float(numpy.median(d)), "mean": float(d.mean()),
            "p5": float(numpy.percentile(d, 5)), "exact_copies": float((d == 0).mean())}


def copying_report(gen_samples, train_images, test_images, n=1000, seed=0, batch=1024):
    """Does the generator copy its training set? Nearest-train distances, with a yardstick.

    For up to ``n`` generated samples and up to ``n`` held-out test images, the
    Euclidean distance to the nearest training image (nearest_neighbour_distances):

        d(x) = min_{t in train} ||x - t||

    Test images were never seen in training, so their distances say how far
    "a new image from the same distribution" typically is from the training
    set. Generated samples much *closer* to the training set than test images
    are (a small ``median_ratio``, a large ``gen_exact_copies``) suggest the
    model reproduces training images; comparable distances suggest it does
    not. (Much *larger* distances usually mean poor samples, not originality.)
    The three sets must be on the same pixel scale (e.g. all in [-1, 1]).

    When a set has more than ``n`` images, ``n`` of them are chosen at random
    with numpy.random.default_rng(seed) (a local generator, so the training
    run's random stream is untouched); ``n=None`` uses them all.

    Returns a dict of floats: ``gen_median``, ``gen_mean``, ``gen_p5`` (5th
    percentile), ``gen_exact_copies`` (share at distance 0), the same four for
    ``test_``, ``median_ratio`` = gen_median / test_median (NaN if test_median
    is 0), and ``n_gen``,
    ``n_test``, ``n_train`` (how many images were used).
    """
    fn = "copying_report"
    gen = _flat_images(gen_samples, "gen_samples", fn)
    test = _flat_images(test_images, "test_images", fn)
    train = _to_host(train_images)          # dtype kept; converted block by block
    if train.ndim < 2 or train.shape[0] == 0:
        raise ValueError(f"{fn}: train_images must hold M images, shaped (M, 1, 28, 28), "
                         f"(M, 28, 28) or (M, 784), got shape {numpy.shape(train)}")
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, numpy.integer))
                          or n < 1):
        raise ValueError(f"{fn}: n must be a positive integer or None, got {n!r}")
    for a, name in ((gen, "gen_samples"), (test, "test_images")):
        if a.shape[1] != int(numpy.prod(train.shape[1:])):
            raise ValueError(f"{fn}: {name} images have {a.shape[1]} values and training "
                             f"images {int(numpy.prod(train.shape[1:]))}; they must be the "
                             f"same size")
    rng = numpy.random.default_rng(seed)

    def pick(a):
        if n is None or len(a) <= n:
            return a
        return a[numpy.sort(rng.choice(len(a), size=n, replace=False))]

    gen, test = pick(gen), pick(test)
    d_gen = nearest_neighbour_distances(gen, train, batch=batch)
    d_test = nearest_neighbour_distances(test, train, batch=batch)
    g, t = _summary(d_gen), _summary(d_test)
    report = {f"gen_{k}": v for k, v in g.items()}
    report.update({f"test_{k}": v for k, v in t.items()})
    report["median_ratio"] = g["median"] / t["median"] if t["median"] > 0 else float("nan")
    report.update(n_gen=int(len(gen)), n_test=int(len(test)), n_train=int(len(train)))
    return report

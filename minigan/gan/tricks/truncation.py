"""Jacobian-based truncation: leave out the samples G draws in the "no GAN's land"
between the data's separate pieces.

Why a GAN draws such samples at all. MNIST's digits lie on (nearly) separate
pieces, a 4 apart from a 9, but z ~ N(0, I) fills one connected space, and a
continuous G maps connected to connected. So G's samples cannot jump from the
4s to the 9s: somewhere in z-space there is a path that G takes from one to the
other, and the images along it are half-4, half-9. G can only make that region
small by changing fast there. Where it does, its Jacobian

    J(z) = dG(z) / dz          (784 x 100 for the DCGAN)

is large. Tanielian et al. (2020, "Learning disconnected manifolds: a no GAN's
land") prove that the in-between mass cannot vanish for a G of bounded Jacobian,
and propose to throw away the samples whose ||J(z)||_F is largest (JBT,
Jacobian-based truncation). Unlike the truncation trick (shorter z), it keeps
G's samples spread over all of z-space; unlike discriminator rejection sampling
(``rejection.py``), it needs no second network: only G.

How ||J(z)||_F is computed without the 784 x 100 matrix (Hutchinson's trick). For
a random vector v with independent entries of mean 0 and variance 1,

    E_v ||J^T v||^2 = E_v v^T J J^T v = trace(J J^T) = ||J||_F^2,

and J^T v is one reverse-mode pass: the gradient of v . G(z) with respect to z.
Averaging over k vectors v gives the estimate; minigan uses Rademacher vectors
(entries +-1), whose estimate varies less than a Gaussian one's. G is run in eval
mode, so that batch norm uses its running statistics and sample i's output
depends on z_i alone: one backward pass then gives every sample's J_i^T v_i at once.

Cutting within clusters. The norm has a bias: a heavily inked digit changes more
pixels per step in z than a thin 1, so a plain cut over the whole pool keeps too
many thin digits and the mix of digits tilts, the more the deeper it cuts. With
``clusters`` (k-means clusters of the training images, ``clusters.py``; no labels)
the cut is made within each cluster of like images, and each cluster keeps its
share of the training images (``keep_per_stratum``). Within a cluster the norm
still prefers thinner strokes, but no cluster can lose its share to another: the
kept samples are drawn in the data's mix of shapes, however deep the cut.
"""
from dataclasses import dataclass

import numpy

from ... import backend
from ...nn import eval_mode
from ...tensor import Tensor, enable_grad, grad, no_grad


def jacobian_norms(G, z, projections=8, batch=500, seed=0):
    """||dG(z_i)/dz_i||_F for each row z_i of `z` (NumPy, (N, d)), estimated with
    `projections` Rademacher vectors per sample (see the module docstring); a float64
    NumPy vector of length N.

    G runs in eval mode (batch norm's running statistics: the samples do not touch
    each other) and is put back in the mode it was in."""
    if int(projections) != projections or projections < 1:
        raise ValueError(f"jacobian_norms: projections must be a positive integer, got "
                         f"{projections}")
    z = numpy.asarray(z)
    if z.ndim != 2:
        raise ValueError(f"jacobian_norms: expected codes of shape (N, d), got {z.shape}")
    device = next(iter(G.parameters())).device
    rng = numpy.random.default_rng(seed)
    out = []
    with eval_mode(G):
        for i in range(0, len(z), batch):
            zt = Tensor(z[i:i + batch], device=device)
            zt.requires_grad = True
            with enable_grad():
                x = G(zt)
                sq = 0.0
                for _ in range(projections):
                    v = Tensor(rng.choice(numpy.array([-1.0, 1.0], dtype=x.data.dtype),
                                          size=x.shape), device=device)
                    (g,) = grad(x, zt, grad_outputs=v)       # row i: J_i^T v_i
                    sq = sq + (g.data.astype("float64") ** 2).sum(axis=1)
            out.append(backend.to_numpy(sq) / projections)
    return numpy.sqrt(numpy.concatenate(out))


def keep_per_stratum(scores, strata, frequencies, n):
    """The indices of n items to keep, the smallest `scores` first, but with stratum j
    (``strata[i]`` in 0..k-1) given its share ``frequencies[j]`` of the n places.

    The quotas are n * frequencies rounded by largest remainders, so they sum to n.
    A stratum with fewer items than its quota gives all it has, and its unfilled
    places go to the smallest scores left over in the others. Returns the kept
    indices in increasing order (the pool's order).

    Why strata. A score that also measures something else, as ||dG/dz|| also
    measures ink, would tilt the kept mix toward whatever scores low (thin digits);
    ranking within strata of similar items, each kept as often as it occurs in the
    data, leaves the mix as the data has it."""
    scores = numpy.asarray(scores, dtype=numpy.float64).reshape(-1)
    strata = numpy.asarray(strata).reshape(-1)
    freq = numpy.asarray(frequencies, dtype=numpy.float64).reshape(-1)
    if len(strata) != len(scores):
        raise ValueError(f"keep_per_stratum: {len(scores)} scores but {len(strata)} strata")
    if int(n) != n or not 0 < n <= len(scores):
        raise ValueError(f"keep_per_stratum: n must be an integer in 1..{len(scores)} (the "
                         f"number of items), got {n}")
    if (freq < 0).any() or abs(freq.sum() - 1) > 1e-6:
        raise ValueError(f"keep_per_stratum: frequencies must be >= 0 and sum to 1, got a "
                         f"sum of {freq.sum():.6g}")
    if strata.size and (strata.min() < 0 or strata.max() >= len(freq)
                        or not numpy.issubdtype(strata.dtype, numpy.integer)):
        raise ValueError(f"keep_per_stratum: strata must be integers in 0..{len(freq) - 1}")
    n = int(n)
    quota = numpy.floor(freq * n).astype(numpy.int64)
    remainder = freq * n - quota
    extra = n - int(quota.sum())
    if extra >= 0:                               # the largest remainders get one more
        quota[numpy.argsort(-remainder, kind="stable")[:extra]] += 1
    else:                                        # frequencies a hair over 1 in sum: the
        spare = numpy.where(quota > 0, remainder, numpy.inf)     # smallest give one back
        quota[numpy.argsort(spare, kind="stable")[:-extra]] -= 1
    order = numpy.argsort(scores, kind="stable")                 # smallest first
    rank = numpy.empty(len(order), numpy.int64)                  # rank within its stratum
    s = strata[order]
    by_stratum = numpy.argsort(s, kind="stable")                 # stable: still by score
    starts = numpy.searchsorted(s[by_stratum], numpy.arange(len(freq)))
    rank[by_stratum] = numpy.arange(len(s)) - starts[s[by_stratum]]
    kept = numpy.zeros(len(scores), bool)
    kept[order] = rank < quota[s]
    short = n - int(kept.sum())                                  # strata that ran out
    if short:
        kept[order[~kept[order]][:short]] = True
    return numpy.flatnonzero(kept)


@dataclass(frozen=True, eq=False)
class Truncation:
    """What ``jacobian_truncation`` drew and kept: the pool of codes (float32, (M, d)),
    each code's ||J(z)||_F (float64, (M,)), and the indices of the kept codes in
    increasing order."""
    pool: numpy.ndarray
    norms: numpy.ndarray
    kept: numpy.ndarray

    @property
    def codes(self):
        """The kept codes, in the pool's order."""
        return self.pool[self.kept]

    @property
    def threshold(self):
        """The largest norm kept. Without strata every norm above it was left out;
        with them each stratum has its own cut, and this is the highest."""
        return float(self.norms[self.kept].max())

    @property
    def left_out(self):
        """The indices of the codes left out, the largest norm first."""
        out = numpy.setdiff1d(numpy.arange(len(self.pool)), self.kept)
        return out[numpy.argsort(-self.norms[out], kind="stable")]


def jacobian_truncation(G, n, keep=0.8, noise_dim=None, projections=8, seed=0, batch=500,
                        clusters=None):
    """Jacobian-based truncation (Tanielian et al. 2020): draw a pool of
    ceil(n / keep) codes z ~ N(0, I), estimate ||J(z)||_F for each
    (``jacobian_norms``), and keep the n codes with the smallest norms. Returns a
    ``Truncation`` (``.codes``: the kept codes, float32 (n, d), in the pool's order).

    `clusters` (``gan.clusters.Clusters`` of the training images, or None): keep the
    smallest norms *within* each cluster instead, each cluster getting its share
    ``clusters.frequencies`` of the n places (``keep_per_stratum``); G's image of each
    code is placed in a cluster with ``clusters.assign``. The norm grows with the ink
    as well as with the in-between, so a plain cut keeps too many thin digits; cut
    within clusters of like images, the kept mix of shapes stays the data's.

    keep = 1 keeps the pool as drawn. The codes come from NumPy's generator seeded
    with `seed`, so the same call returns the same codes. `noise_dim`: the length of
    z (default: the first layer's input size, G[0].in_features)."""
    if not 0.0 < keep <= 1.0:
        raise ValueError(f"jacobian_truncation: keep is the fraction of the pool kept, in "
                         f"(0, 1], got {keep}")
    if int(n) != n or n < 1:
        raise ValueError(f"jacobian_truncation: n must be a positive integer, got {n}")
    if noise_dim is None:
        noise_dim = G[0].in_features
    pool_size = int(numpy.ceil(n / keep))
    rng = numpy.random.default_rng(seed)
    pool = rng.standard_normal((pool_size, noise_dim)).astype(numpy.float32)
    norms = jacobian_norms(G, pool, projections, batch, seed=seed + 1)
    if clusters is None:
        kept = numpy.sort(numpy.argsort(norms, kind="stable")[:n])
    else:
        strata = clusters.assign(_images(G, pool, batch))
        kept = keep_per_stratum(norms, strata, clusters.frequencies, n)
    return Truncation(pool, norms, kept)


def _images(G, z, batch):
    """G's outputs for the codes z, in eval mode, on the host (NumPy)."""
    device = next(iter(G.parameters())).device
    with eval_mode(G), no_grad():
        return numpy.concatenate([backend.to_numpy(G(Tensor(z[i:i + batch],
                                                            device=device)).data)
                                  for i in range(0, len(z), batch)])

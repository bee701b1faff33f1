"""Precision, recall, density and coverage: telling poor samples from missing modes.

The Inception Score and the Frechet distance each fold two failures into one
number: samples that look wrong, and parts of the data the generator never
draws. These four measures keep them apart. Each estimates a distribution's
support by balls around its points in a feature space (the evaluator's 128
penultimate numbers, for MNIST): the ball around x_i reaches its k-th nearest
neighbour in its own set,

    NND_k(x_i) = || x_i - (the k-th nearest of the other points of its set) ||
    B(x_i, r)  = { y : ||y - x_i|| <= r }        (closed, as Kynkaanniemi et al. write it)

With real points X_1..X_N and fake (generated) points Y_1..Y_M:

* precision (Kynkaanniemi et al. 2019): the share of fake points inside some
  real point's k-NN ball. Low when samples look wrong.

      precision = (1/M) sum_j 1[ exists i: Y_j in B(X_i, NND_k(X_i)) ]

* recall (the same, sets swapped): the share of real points inside some fake
  point's k-NN ball. Low when the generator misses modes.

      recall = (1/N) sum_i 1[ exists j: X_i in B(Y_j, NND_k(Y_j)) ]

* density (Naeem et al. 2020): how many real balls hold each fake point, over k.
  A sample that sits where real points crowd counts several times; one far out
  counts nothing. Its expectation is exactly 1 when Y is drawn like X (below).

      density = 1/(k M) sum_j sum_i 1[ Y_j in B(X_i, NND_k(X_i)) ]

* coverage (Naeem et al. 2020): the share of real balls that hold at least one
  fake point. Unlike recall it never trusts the fake points' own balls, which a
  few outlying samples inflate.

      coverage = (1/N) sum_i 1[ exists j: Y_j in B(X_i, NND_k(X_i)) ]

When X and Y are independent samples of the same distribution (and no two
distances tie), the expected density and coverage follow by counting (Naeem et
al. 2020, section 3.2 and appendix): Y_j is among the k nearest of X_i's N - 1 +
1 neighbours with probability k/N, so E[density] = (N/k)(k/N) = 1; X_i's ball
holds no fake point when its k nearest among the N - 1 + M others are all real:

      E[coverage] = 1 - prod_{i=1..k} (N - i) / (N + M - i)    -> 1 - 2^-k  (M = N, N large)

Precision and recall have no such formula: in many dimensions the k-NN balls
overlap less, and both fall further below 1 even for two samples of one law.

All pairwise distances come from ||x - y||^2 = ||x||^2 + ||y||^2 - 2 x.y, one
block of rows at a time (at most ``BLOCK_ELEMENTS`` distances in memory), so
10,000 x 10,000 points stay at 64 MiB per block. The arrays stay where they are
(NumPy or CuPy, through ``minigan.backend``); the results come back in one copy.
"""
import numpy

from .. import backend

BLOCK_ELEMENTS = 1 << 23       # distances in one block: 8 Mi float64 = 64 MiB
K_DEFAULT = 5                  # the k both papers recommend


def _raw(a):
    """A minigan Tensor's array, anything else as it is."""
    from ..tensor import Tensor
    return a.data if isinstance(a, Tensor) else a


def _points(a, name, fn, xp):
    """`a` as an (N, D) float64 array of module `xp`, or a ValueError that says why not."""
    if isinstance(a, (list, tuple)):
        a = numpy.asarray(a)
    shape = getattr(a, "shape", None)
    if shape is None or len(shape) != 2:
        raise ValueError(f"{fn}: {name} must be a 2-D array (N points, D features), "
                         f"got {'shape ' + str(tuple(shape)) if shape is not None else type(a).__name__}")
    if shape[0] == 0 or shape[1] == 0:
        raise ValueError(f"{fn}: {name} is empty (shape {tuple(shape)})")
    if getattr(a, "dtype", None) == object:
        raise ValueError(f"{fn}: {name} must be an array of numbers, got dtype=object")
    return xp.asarray(a, dtype=xp.float64)


def _check_k(k, n, name, fn):
    if isinstance(k, bool) or not isinstance(k, (int, numpy.integer)) or k < 1:
        raise ValueError(f"{fn}: k must be a whole number >= 1, got {k!r}")
    if k >= n:
        raise ValueError(f"{fn}: k must be smaller than the number of points in {name} "
                         f"(a point's k-th nearest neighbour is one of the other {n - 1}), "
                         f"got k={k} for {n} points")


def _inputs(real, fake, k, fn):
    """Both point sets on one module, checked; and that module."""
    real, fake = _raw(real), _raw(fake)
    if backend.is_device_array(real) != backend.is_device_array(fake):
        raise ValueError(f"{fn}: real and fake must be on the same device, got real on "
                         f"{backend.device_of(real)} and fake on {backend.device_of(fake)}")
    xp = backend.array_module(real, fake)
    x, y = _points(real, "real", fn, xp), _points(fake, "fake", fn, xp)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"{fn}: real and fake must have the same number of features, got "
                         f"{x.shape[1]} (real) and {y.shape[1]} (fake)")
    _check_k(k, x.shape[0], "real", fn)
    _check_k(k, y.shape[0], "fake", fn)
    return x, y, xp


def _blocks(n_rows, n_cols, batch):
    """Row ranges of blocks of at most `batch` rows (default: BLOCK_ELEMENTS distances)."""
    rows = batch or max(1, BLOCK_ELEMENTS // n_cols)
    return [(r0, min(r0 + rows, n_rows)) for r0 in range(0, n_rows, rows)]


def _distances(x_block, y, y_sq, xp):
    """||x - y|| for a block of rows of x against every row of y (rounding below 0
    clamped to 0)."""
    d2 = x_block @ y.T                               # built in place: one block in memory
    d2 *= -2.0
    d2 += (x_block * x_block).sum(axis=1)[:, None]
    d2 += y_sq[None, :]
    xp.maximum(d2, 0.0, out=d2)
    return xp.sqrt(d2, out=d2)


def _radii(x, k, xp, batch=None):
    """NND_k of every row of x among the other rows (x already checked)."""
    n = x.shape[0]
    x_sq = (x * x).sum(axis=1)
    out = xp.empty(n, dtype=xp.float64)
    for r0, r1 in _blocks(n, n, batch):
        d = _distances(x[r0:r1], x, x_sq, xp)
        d[xp.arange(r1 - r0), xp.arange(r0, r1)] = xp.inf    # a point is not its own neighbour
        out[r0:r1] = xp.partition(d, k - 1, axis=1)[:, k - 1]
    return out


def knn_radii(feats, k=K_DEFAULT, batch=None):
    """NND_k(x_i) for every row x_i of the (N, D) array `feats`: the distance to its
    k-th nearest neighbour among the other N - 1 rows (an exact duplicate counts, at
    distance 0). Returns an (N,) float64 array on the same device as `feats`.

    `batch`: rows per block of distances (default: as many as fit BLOCK_ELEMENTS)."""
    feats = _raw(feats)
    xp = backend.array_module(feats)
    x = _points(feats, "feats", "knn_radii", xp)
    _check_k(k, x.shape[0], "feats", "knn_radii")
    return _radii(x, k, xp, batch)


def _cross(x, y, rx, ry, k, xp, batch=None):
    """The four measures from one pass over the real x fake distances; `ry` may be
    None (no recall then). Returns device scalars, not yet copied to the host."""
    n, m = x.shape[0], y.shape[0]
    y_sq = (y * y).sum(axis=1)
    balls_holding = xp.zeros(m, dtype=xp.int64)      # for each Y_j: sum_i 1[Y_j in B(X_i)]
    covered = xp.zeros(n, dtype=bool)                 # for each X_i: exists j, Y_j in B(X_i)
    recalled = xp.zeros(n, dtype=bool)                # for each X_i: exists j, X_i in B(Y_j)
    for r0, r1 in _blocks(n, m, batch):
        d = _distances(x[r0:r1], y, y_sq, xp)        # d[i, j] = ||X_i - Y_j||
        inside = d <= rx[r0:r1, None]                 # Y_j in B(X_i, NND_k(X_i))
        balls_holding += inside.sum(axis=0)
        covered[r0:r1] = inside.any(axis=1)
        if ry is not None:
            recalled[r0:r1] = (d <= ry[None, :]).any(axis=1)   # X_i in B(Y_j, NND_k(Y_j))
    out = {"precision": (balls_holding > 0).mean(),
           "density": balls_holding.sum() / (k * m),
           "coverage": covered.mean()}
    if ry is not None:
        out["recall"] = recalled.mean()
    return out


def _finish(values, x, y, fn):
    """The device scalars in `values` as Python floats, fetched in ONE copy together
    with the check that every input was finite."""
    xp = backend.array_module(x, y)
    names = list(values)
    fetched = backend.fetch_floats([values[n] for n in names]
                                   + [xp.isfinite(x).all(), xp.isfinite(y).all()])
    for ok, name in zip(fetched[len(names):], ("real", "fake")):
        if not ok:
            raise ValueError(f"{fn}: {name} contains NaN or inf")
    return {name: fetched[i] for i, name in enumerate(names)}


def _order(d):
    return {key: d[key] for key in ("precision", "recall", "density", "coverage") if key in d}


def prdc(real, fake, k=K_DEFAULT, real_radii=None, batch=None):
    """Precision, recall, density and coverage of `fake` (M, D) against `real` (N, D),
    as a dict of four floats (formulas in the module docstring).

    Three passes over distances: real x real and fake x fake for the radii, real x
    fake for the rest. `real_radii`: ``knn_radii(real, k)`` computed before (a
    reference set scored against many fake sets pays for its radii once).
    `batch`: rows per block of distances."""
    fn = "prdc"
    x, y, xp = _inputs(real, fake, k, fn)
    rx = _radii(x, k, xp, batch) if real_radii is None else _given_radii(real_radii, x, xp, fn)
    ry = _radii(y, k, xp, batch)
    return _order(_finish(_cross(x, y, rx, ry, k, xp, batch), x, y, fn))


def _given_radii(radii, x, xp, fn):
    r = xp.asarray(_raw(radii), dtype=xp.float64)
    if r.shape != (x.shape[0],):
        raise ValueError(f"{fn}: real_radii must have shape ({x.shape[0]},), one radius per "
                         f"real point, got {tuple(r.shape)}")
    return r


def precision_recall(real, fake, k=K_DEFAULT, batch=None):
    """Kynkaanniemi et al.'s improved precision and recall of `fake` against `real`:
    {"precision", "recall"} (formulas in the module docstring)."""
    out = prdc(real, fake, k, batch=batch)
    return {"precision": out["precision"], "recall": out["recall"]}


def density_coverage(real, fake, k=K_DEFAULT, real_radii=None, batch=None):
    """Naeem et al.'s density and coverage of `fake` against `real`:
    {"density", "coverage"}. Only the real points' balls are used, so this takes two
    passes over distances (one with `real_radii` given), not three."""
    fn = "density_coverage"
    x, y, xp = _inputs(real, fake, k, fn)
    rx = _radii(x, k, xp, batch) if real_radii is None else _given_radii(real_radii, x, xp, fn)
    out = _finish(_cross(x, y, rx, None, k, xp, batch), x, y, fn)
    return {"density": out["density"], "coverage": out["coverage"]}


def expected_coverage(n_real, n_fake, k=K_DEFAULT):
    """E[coverage] for two independent samples of one distribution (Naeem et al.):
    1 - prod_{i=1..k} (N - i) / (N + M - i), with N = `n_real`, M = `n_fake`."""
    _check_k(k, n_real, "real", "expected_coverage")
    p = 1.0
    for i in range(1, k + 1):
        p *= (n_real - i) / (n_real + n_fake - i)
    return 1.0 - p

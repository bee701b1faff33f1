"""Precision, recall, density and coverage (minigan.eval.manifold) against answers
known exactly, by hand or in expectation.

Reference numbers, and the formulas that give them (N real, M fake points, k):

* Two independent samples of one distribution (Naeem et al. 2020, section 3.2):
  E[density] = 1 exactly, and E[coverage] = 1 - prod_{i=1..k} (N - i) / (N + M - i),
  the chance that some fake point is among a real point's k nearest of the N - 1 + M
  others; for N = M that tends to 1 - 2^-k (0.96875 for k = 5). For N = M = 20, k = 3:
  1 - (19 * 18 * 17) / (39 * 38 * 37) = 1 - 5814/54834 = 0.89397; for N = M = 2,000,
  k = 5: 0.96887; for N = M = 10,000, k = 5: 0.96877.
* The authors' own example (the prdc package's README, Naeem et al. 2020): 10,000
  real and 10,000 fake points of N(0, I) in 1,000 dimensions, k = 5, give precision
  0.4772, recall 0.4705, density 1.0555, coverage 0.9735. Precision and recall have
  no formula; they fall below 1 as the dimension grows (2-D: 0.997, 16-D: 0.87, 64-D:
  0.71 at N = 2,000, measured here over 15 seeds).
* Hand-made: a set against itself gives precision = recall = coverage = 1 and density
  (k + 1)/k (each closed ball holds its centre and its k nearest neighbours, when no
  distances tie); a far-shifted copy gives all four 0; one point repeated (collapse)
  inside the support gives precision 1 and recall 0, its coverage and density
  counted by hand below.

The tolerances come from the seed-to-seed spread measured with minigan (numbers in
each test's comment). The 1,000-D example takes 30-60 s and is marked slow.
"""
import math

import numpy as np
import pytest

import minigan
from minigan.eval import manifold

FOUR = ("precision", "recall", "density", "coverage")


def naive_prdc(real, fake, k):
    """The four formulas written as double loops over points, distances taken directly."""
    def radii(a):
        return [sorted(np.linalg.norm(a[i] - a[j]) for j in range(len(a)) if j != i)[k - 1]
                for i in range(len(a))]
    rx, ry = radii(real), radii(fake)
    d = [[np.linalg.norm(x - y) for y in fake] for x in real]
    n, m = len(real), len(fake)
    holding = [sum(d[i][j] <= rx[i] for i in range(n)) for j in range(m)]
    return {"precision": sum(h > 0 for h in holding) / m,
            "recall": sum(any(d[i][j] <= ry[j] for j in range(m)) for i in range(n)) / n,
            "density": sum(holding) / (k * m),
            "coverage": sum(any(d[i][j] <= rx[i] for j in range(m)) for i in range(n)) / n}


# ------------------------------------------------------------------ hand-made

# A Golomb ruler: every distance between two of its marks is different, so no
# k-th neighbour ties and a ball's edge is where a hand computation puts it.
RULER = np.array([0, 1, 4, 9, 15, 22, 32, 34], dtype=float)[:, None]
# its 2-NN radii, by hand: 0 -> 4 (marks 1, 4), 1 -> 3 (0, 4), 4 -> 4 (1, 0),
# 9 -> 6 (4, 15), 15 -> 7 (9, 22), 22 -> 10 (15, 32), 32 -> 10 (34, 22), 34 -> 12 (32, 22)
RULER_RADII_2 = [4, 3, 4, 6, 7, 10, 10, 12]


def test_knn_radii_by_hand():
    np.testing.assert_array_equal(manifold.knn_radii(RULER, k=2), RULER_RADII_2)
    np.testing.assert_array_equal(manifold.knn_radii(RULER, k=1), [1, 1, 3, 5, 6, 7, 2, 2])
    # an exact duplicate is a neighbour at distance 0; a point is never its own
    np.testing.assert_array_equal(manifold.knn_radii(np.array([[0.], [0.], [3.]]), k=1),
                                  [0, 0, 3])


def test_a_set_against_itself():
    out = manifold.prdc(RULER, RULER.copy(), k=2)
    assert out == {"precision": 1.0, "recall": 1.0, "density": 1.5, "coverage": 1.0}
    x = np.random.default_rng(0).standard_normal((300, 8))
    out = manifold.prdc(x, x.copy(), k=5)
    assert out["precision"] == out["recall"] == out["coverage"] == 1.0
    assert out["density"] == pytest.approx(6 / 5, abs=1e-12)


def test_a_far_shifted_copy_scores_zero():
    x = np.random.default_rng(1).standard_normal((200, 16))
    assert manifold.prdc(x, x + 100.0, k=5) == dict.fromkeys(FOUR, 0.0)


def test_a_collapsed_set_of_one_point_inside_the_support():
    # 5.5 lies in the balls of marks 4 ([0, 8]) and 9 ([3, 15]) only (RULER_RADII_2)
    fake = np.full((6, 1), 5.5)
    out = manifold.prdc(RULER, fake, k=2)
    assert out["precision"] == 1.0          # every sample looks real
    assert out["recall"] == 0.0             # its balls have radius 0: no real point inside
    assert out["coverage"] == 2 / 8         # two real balls out of eight hold a sample
    assert out["density"] == 2 / 2          # each sample in 2 balls, over k = 2
    # the same collapse in 2-D: precision stays 1, recall and coverage nearly vanish
    x = np.random.default_rng(2).standard_normal((2000, 2))
    out = manifold.prdc(x, np.repeat(x[:1] * 0.5, 500, axis=0), k=5)
    assert out["precision"] == 1.0 and out["recall"] == 0.0 and out["coverage"] < 0.02
    # but not in 64-D: the centre of a Gaussian lies nearer to every sample than the
    # samples lie to each other, so one point there sits in nearly every real ball
    # (measured: 99.85% coverage from a single repeated point). Coverage trusts the
    # real balls, and in many dimensions they are wide.
    x = np.random.default_rng(2).standard_normal((2000, 64))
    out = manifold.prdc(x, np.repeat(x[:1] * 0.1, 500, axis=0), k=5)
    assert out["precision"] == 1.0 and out["recall"] == 0.0 and out["coverage"] > 0.9


def test_agrees_with_a_double_loop():
    rng = np.random.default_rng(3)
    real, fake = rng.standard_normal((30, 3)), rng.standard_normal((25, 3)) * 1.3 + 0.4
    naive = naive_prdc(real, fake, 3)
    for batch in (None, 1, 7):                  # blocks of any size give the same counts
        out = manifold.prdc(real, fake, k=3, batch=batch)
        assert out == pytest.approx(naive, abs=1e-12)
        assert manifold.precision_recall(real, fake, 3, batch) == pytest.approx(
            {key: naive[key] for key in ("precision", "recall")}, abs=1e-12)
        assert manifold.density_coverage(real, fake, 3, batch=batch) == pytest.approx(
            {key: naive[key] for key in ("density", "coverage")}, abs=1e-12)
    radii = manifold.knn_radii(real, 3)
    assert manifold.prdc(real, fake, 3, real_radii=radii) == pytest.approx(naive, abs=1e-12)


def test_blocks_stay_within_the_memory_bound(monkeypatch):
    shapes = []
    real = manifold._distances

    def recording(x_block, y, y_sq, xp):
        shapes.append(x_block.shape[0] * y.shape[0])
        return real(x_block, y, y_sq, xp)
    monkeypatch.setattr(manifold, "_distances", recording)
    monkeypatch.setattr(manifold, "BLOCK_ELEMENTS", 1000)
    rng = np.random.default_rng(4)
    manifold.prdc(rng.standard_normal((120, 2)), rng.standard_normal((90, 2)))
    assert max(shapes) <= 1000 and len(shapes) > 3


def test_accepts_tensors():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((40, 4)), rng.standard_normal((50, 4))
    assert manifold.prdc(minigan.tensor(a, dtype="float64"),
                         minigan.tensor(b, dtype="float64")) == manifold.prdc(a, b)


def test_bad_inputs_get_clear_errors():
    x = np.zeros((10, 3)) + np.arange(10)[:, None]
    with pytest.raises(ValueError, match="k must be a whole number >= 1"):
        manifold.prdc(x, x, k=0)
    with pytest.raises(ValueError, match="k must be a whole number >= 1"):
        manifold.prdc(x, x, k=2.5)
    with pytest.raises(ValueError, match="k must be smaller than the number of points in fake"):
        manifold.prdc(x, x[:5], k=5)
    with pytest.raises(ValueError, match="k must be smaller.*got k=10 for 10 points"):
        manifold.knn_radii(x, k=10)
    with pytest.raises(ValueError, match="same number of features, got 3 \\(real\\) and 2"):
        manifold.prdc(x, x[:, :2])
    with pytest.raises(ValueError, match="real must be a 2-D array.*shape \\(10, 3, 1\\)"):
        manifold.density_coverage(x[:, :, None], x)
    with pytest.raises(ValueError, match="fake must be a 2-D array.*shape \\(10,\\)"):
        manifold.precision_recall(x, x[:, 0])
    with pytest.raises(ValueError, match="fake is empty"):
        manifold.prdc(x, np.zeros((0, 3)))
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="fake contains NaN or inf"):
        manifold.prdc(x, bad)
    with pytest.raises(ValueError, match="real_radii must have shape \\(10,\\)"):
        manifold.prdc(x, x, real_radii=np.ones(9))


# ------------------------------------------------------------------ calibration

def test_expected_coverage_formula():
    assert manifold.expected_coverage(20, 20, 3) == pytest.approx(1 - 5814 / 54834, rel=1e-12)
    assert manifold.expected_coverage(10_000, 10_000, 5) == pytest.approx(0.968773, abs=1e-6)
    assert manifold.expected_coverage(10**9, 10**9, 5) == pytest.approx(1 - 2**-5, abs=1e-8)


def test_density_and_coverage_are_unbiased_over_many_small_draws():
    """E[density] = 1 and E[coverage] = 0.89397 (N = M = 20, k = 3), checked on the
    mean of 2,000 independent draws within 4 standard errors (measured: density
    1.0016 +- 0.0039, coverage 0.8979 +- 0.0021 in 2-D)."""
    rng = np.random.default_rng(6)
    dens, cov = [], []
    for _ in range(2000):
        out = manifold.density_coverage(rng.standard_normal((20, 4)),
                                        rng.standard_normal((20, 4)), k=3)
        dens.append(out["density"])
        cov.append(out["coverage"])
    se = lambda v: np.std(v, ddof=1) / math.sqrt(len(v))        # noqa: E731
    assert abs(np.mean(dens) - 1.0) < 4 * se(dens)
    assert abs(np.mean(cov) - manifold.expected_coverage(20, 20, 3)) < 4 * se(cov)
    # a generator whose samples are too tight (std 0.3 for 1) draws only real-looking
    # points but misses most of the support (measured 0.985, 0.134, 0.203 at this seed)
    out = manifold.prdc(rng.standard_normal((1000, 4)), 0.3 * rng.standard_normal((1000, 4)),
                        k=3)
    assert out["precision"] > 0.95 and out["recall"] < 0.3 and out["coverage"] < 0.35


def test_precision_and_recall_fall_with_the_dimension_density_and_coverage_do_not():
    """N = M = 2,000 samples of N(0, I), k = 5. Measured over 15 seeds (mean, std):
    2-D precision 0.997 +- 0.001, recall 0.998 +- 0.001, density 1.000 +- 0.012, coverage
    0.970 +- 0.006; 16-D 0.872 +- 0.010, 0.876 +- 0.006, 0.997 +- 0.024, 0.968 +- 0.005;
    64-D 0.709 +- 0.014, 0.707 +- 0.017, 1.010 +- 0.067, 0.969 +- 0.007. The bounds
    below are about 4 of those standard deviations."""
    rng = np.random.default_rng(7)
    got = {}
    for d in (2, 16, 64):
        got[d] = manifold.prdc(rng.standard_normal((2000, d)), rng.standard_normal((2000, d)))
    for key, bounds in (("precision", {2: (0.99, 1.0), 16: (0.83, 0.91), 64: (0.65, 0.77)}),
                        ("recall", {2: (0.99, 1.0), 16: (0.85, 0.90), 64: (0.64, 0.78)})):
        for d, (lo, hi) in bounds.items():
            assert lo < got[d][key] <= hi, (key, d, got[d][key])
    expected = manifold.expected_coverage(2000, 2000, 5)                     # 0.96887
    for d, density_tol in ((2, 0.05), (16, 0.1), (64, 0.27)):
        assert abs(got[d]["density"] - 1.0) < density_tol, (d, got[d])
        assert abs(got[d]["coverage"] - expected) < 0.028, (d, got[d])


# The authors' example, measured here over 12 seeds (numpy default_rng(0..11), 10,000 +
# 10,000 points of N(0, I) in 1,000-D, k = 5): mean and standard deviation
#   precision 0.4766 +- 0.0108, recall 0.4778 +- 0.0097, density 0.998 +- 0.052,
#   coverage 0.9672 +- 0.0056 (E[coverage] = 0.96877, E[density] = 1).
# The README's numbers sit 0.1, 0.8, 1.1 and 1.1 standard deviations from these means.
SPREAD_1000D = {"precision": 0.0108, "recall": 0.0097, "density": 0.052, "coverage": 0.0056}
PUBLISHED_1000D = {"precision": 0.4772, "recall": 0.4705, "density": 1.0555, "coverage": 0.9735}


@pytest.mark.slow
def test_the_authors_example_in_1000_dimensions():
    """10,000 + 10,000 points of N(0, I) in 1,000-D, k = 5 (about 30-60 s on one
    core: three passes of 10^8 distances): within 3 sqrt(2) standard deviations of
    the prdc README's 0.4772, 0.4705, 1.0555, 0.9735 (one draw of theirs against one
    of ours: the difference has sqrt(2) times one draw's spread), and density and
    coverage within 4 standard deviations of their exact expectations."""
    rng = np.random.default_rng(2020)
    out = manifold.prdc(rng.standard_normal((10_000, 1000)), rng.standard_normal((10_000, 1000)))
    for key, published in PUBLISHED_1000D.items():
        assert abs(out[key] - published) < 3 * math.sqrt(2) * SPREAD_1000D[key], (key, out)
    assert abs(out["density"] - 1.0) < 4 * SPREAD_1000D["density"], out
    assert abs(out["coverage"] - manifold.expected_coverage(10_000, 10_000, 5)) \
        < 4 * SPREAD_1000D["coverage"], out

"""Mode-collapse metrics against values known in closed form."""
import math

import numpy as np
import pytest

import minigan
from minigan import data
from minigan.eval import metrics


@pytest.mark.parametrize("mix", [data.ring(), data.grid(), data.ring(setting="unrolled")],
                         ids=["ring", "grid", "ring-unrolled"])
def test_true_samples_cover_all_modes_at_the_chi_square_rate(mix):
    # ||x - mu||^2 / std^2 ~ chi2(2): P(within 3 std) = 1 - e^{-4.5} = 98.89 %
    minigan.manual_seed(1)
    s = metrics.mode_scores(mix.sample(metrics.N_EVAL), mix)
    assert s["modes"] == mix.n_modes
    assert abs(s["high_quality"] - (1 - math.exp(-4.5))) < 0.01   # ~5 standard errors
    assert s["reverse_kl"] < 0.03 if mix.n_modes == 8 else s["reverse_kl"] < 0.05


def test_all_samples_on_one_mode_give_reverse_kl_ln8():
    ring = data.ring()
    x = np.tile(ring.centers[3], (2500, 1)) + 0.001
    s = metrics.mode_scores(x, ring)
    assert s["modes"] == 1 and s["high_quality"] == 1.0
    assert s["reverse_kl"] == pytest.approx(math.log(8), abs=1e-12)
    assert s["counts"][3] == 2500


def test_reverse_kl_counts_only_high_quality_samples():
    ring = data.ring()
    good = np.repeat(ring.centers, 10, axis=0)         # 10 exact samples on each mode
    far = np.tile([[0.0, 0.0]], (920, 1))              # the origin is 1 away from every mode
    s = metrics.mode_scores(np.concatenate([good, far]), ring)
    assert s["modes"] == 8
    assert s["high_quality"] == pytest.approx(80 / 1000)
    assert s["reverse_kl"] == pytest.approx(0.0, abs=1e-12)   # the good ones are balanced


def test_half_and_half_on_two_modes():
    ring = data.ring()
    x = np.repeat(ring.centers[:2], 50, axis=0)
    s = metrics.mode_scores(x, ring)
    assert s["modes"] == 2 and s["reverse_kl"] == pytest.approx(math.log(4))


def test_samples_just_outside_three_sigma_are_low_quality():
    ring = data.ring()
    x = ring.centers[:1] + np.array([[3.05 * ring.std, 0.0]])
    s = metrics.mode_scores(x, ring)
    assert s["modes"] == 0 and s["high_quality"] == 0.0 and math.isnan(s["reverse_kl"])
    x = ring.centers[:1] + np.array([[2.95 * ring.std, 0.0]])
    assert metrics.mode_scores(x, ring)["modes"] == 1


def test_nearest_modes_on_the_grid():
    g = data.grid()
    idx, dist = metrics.nearest_modes(np.array([[3.9, -0.1], [-4.4, 4.4]]), g.centers)
    np.testing.assert_allclose(g.centers[idx], [[4, 0], [-4, 4]])
    np.testing.assert_allclose(dist, [math.hypot(0.1, 0.1), math.hypot(0.4, 0.4)])


def test_mode_occupancy_and_dominant_changes():
    ring = data.ring()
    occ = metrics.mode_occupancy(np.repeat(ring.centers[[0, 0, 1]], 10, axis=0), ring)
    np.testing.assert_allclose(occ, [2 / 3, 1 / 3, 0, 0, 0, 0, 0, 0])
    cols = np.zeros((8, 5))
    cols[[0, 0, 2, 2, 5], range(5)] = 1.0                # dominant: 0 0 2 2 5
    assert metrics.dominant_mode_changes(cols) == 2


def test_mean_stderr():
    m, se = metrics.mean_stderr([1.0, 2.0, 3.0, 4.0])
    assert m == 2.5 and se == pytest.approx(np.std([1, 2, 3, 4], ddof=1) / 2)
    assert metrics.mean_stderr([7.0]) == (7.0, 0.0)
    assert all(math.isnan(v) for v in metrics.mean_stderr([1.0, float("nan")]))


def test_bad_inputs_get_clear_errors():
    ring = data.ring()
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        metrics.mode_scores(np.zeros((5, 3)), ring)
    with pytest.raises(ValueError, match="NaN"):
        metrics.mode_scores(np.full((5, 2), np.nan), ring)
    with pytest.raises(ValueError, match="no samples"):
        metrics.mode_scores(np.zeros((0, 2)), ring)

"""Discriminator rejection sampling (minigan.gan.tricks.rejection): the kept samples follow
p_data when the logits are log p_data / p_g, and a trained D learns that log ratio."""
import numpy as np
import pytest
from scipy import stats

from minigan import backend, nn
from minigan.tensor import Tensor
from minigan.gan.tricks import rejection


def test_exact_log_ratio_turns_uniform_samples_into_the_data_density():
    # p_g = U(0, 1), p_data(x) = 2x (Beta(2, 1)): log p_data / p_g = log 2x, M = 2
    pool = np.random.default_rng(123).random((40_000, 1))   # not the acceptance seed's stream
    logits = np.log(2 * pool[:, 0])
    kept, rate = rejection.rejection_sample(pool, logits, 10_000, quantile=100)
    assert kept.shape == (10_000, 1)
    assert rate == pytest.approx(0.5, abs=0.02)          # 1 / M
    assert kept.mean() == pytest.approx(2 / 3, abs=0.01)  # the pool's is 1/2
    assert stats.kstest(kept[:, 0], lambda x: x ** 2).pvalue > 1e-3   # CDF of 2x is x^2


def test_the_sign_matters_a_flipped_ratio_gives_the_other_density():
    # keeping with p_g / p_data instead of p_data / p_g would pull towards 0: not 2/3
    pool = np.random.default_rng(124).random((40_000, 1))
    kept, _ = rejection.rejection_sample(pool, -np.log(2 * pool[:, 0]), 2_000, quantile=99)
    assert kept.mean() < 0.3


def test_fit_density_ratio_learns_log_p_data_over_p_g():
    # real N(1, 1), fake N(0, 1): log p_data / p_g = x - 1/2, which one Dense(1, 1) can hold
    backend.manual_seed(0)
    rng = np.random.default_rng(0)
    D = nn.Dense(1, 1)
    real = lambda n: Tensor(rng.standard_normal((n, 1)).astype("float32") + 1)  # noqa: E731
    fake = lambda n: Tensor(rng.standard_normal((n, 1)).astype("float32"))      # noqa: E731
    rejection.fit_density_ratio(D, real, fake, steps=600, batch_size=512, lr=2e-2)
    x = np.linspace(-2, 3, 11, dtype="float32")[:, None]
    assert np.allclose(rejection.logits_of(D, x), x[:, 0] - 0.5, atol=0.15)


def test_too_small_a_pool_is_refused_with_the_size_needed():
    pool = np.zeros((100, 2))
    logits = np.r_[np.zeros(1), np.full(99, -20.0)]
    with pytest.raises(ValueError, match="draw a pool of about"):
        rejection.rejection_sample(pool, logits, 50, quantile=100)


def test_bad_logits_are_refused():
    with pytest.raises(ValueError, match="NaN or inf"):
        rejection.rejection_sample(np.zeros((3, 2)), [0.0, np.nan, 1.0], 1)
    with pytest.raises(ValueError, match="3 samples but 2 logits"):
        rejection.rejection_sample(np.zeros((3, 2)), [0.0, 1.0], 1)
    with pytest.raises(ValueError, match="at least one step"):
        rejection.fit_density_ratio(nn.Dense(1, 1), None, None, steps=0)


def test_rejection_keeps_the_modes_and_drops_the_gaps_of_the_grid():
    # a stand-in "generator": half its samples on the 25 modes, half spread over the
    # square between them; a D trained on it (briefly: the recipe trains a wider D
    # 20,000 steps) learns where the data is not, and the rejection step keeps far
    # more of the samples on the modes than the generator draws
    from minigan import data
    from minigan.eval import metrics
    from minigan.gan import models
    grid = data.grid()
    rng = np.random.default_rng(0)

    def fake(n):
        k = n // 2
        on = grid.centers[rng.integers(0, 25, k)] + grid.std * rng.standard_normal((k, 2))
        both = np.concatenate([on, rng.uniform(-5, 5, (n - k, 2))]).astype("float32")
        return both[rng.permutation(n)]
    backend.manual_seed(0)
    D = models.mlp_discriminator(1, 128, 2, in_scale=4.0)
    rejection.fit_density_ratio(D, lambda n: grid.sample(n), lambda n: Tensor(fake(n)),
                                steps=1500)
    pool = fake(40_000)
    before = metrics.mode_scores(pool[:2500], grid)
    kept, rate = rejection.rejection_sample(pool, rejection.logits_of(D, pool), 2500)
    after = metrics.mode_scores(kept, grid)
    assert before["high_quality"] < 0.55 and after["high_quality"] > 0.65, (before, after)
    assert after["modes"] == 25 and 0.2 < rate < 0.8


def test_logits_of_leaves_d_in_the_mode_it_was_in():
    D = nn.Sequential(nn.Dense(2, 8), nn.Dropout(0.5), nn.Dense(8, 1))
    x = np.ones((4, 2), dtype="float32")
    for mode in (True, False):
        D.train(mode)
        first = rejection.logits_of(D, x)
        assert all(m.training == mode for m in D.modules())
        np.testing.assert_array_equal(first, rejection.logits_of(D, x))   # dropout was off

"""The 1-D GAN against the lecture's formulas: D -> D*, V -> -log 4 + 2 JSD,
label smoothing -> alpha D*, and the vanishing gradient of the saturating loss."""
import math

import numpy as np
import pytest
from scipy import stats

from minigan.gan.toys import toy1d
from minigan.experiments import toy1d as exp_toy1d, vanishing


# ----------------------------------------------------------- theory pieces
def test_jsd_by_quadrature_matches_a_monte_carlo_estimate():
    p, q = toy1d.Gaussian1D(2.0, 0.75), toy1d.Gaussian1D(0.0, 1.0)
    rng = np.random.default_rng(0)

    def half_kl_to_mixture(a, b, n=400_000):
        x = rng.normal(a.mean, a.std, n)
        return np.mean(np.log(a.pdf(x) / (0.5 * (a.pdf(x) + b.pdf(x)))))
    mc = 0.5 * half_kl_to_mixture(p, q) + 0.5 * half_kl_to_mixture(q, p)
    assert toy1d.jsd(p, q) == pytest.approx(mc, abs=3e-3)


def test_jsd_limits():
    p = toy1d.Gaussian1D(0.0, 1.0)
    assert toy1d.jsd(p, p) == pytest.approx(0.0, abs=1e-10)
    far = toy1d.Gaussian1D(60.0, 1.0)
    assert toy1d.jsd(p, far) == pytest.approx(math.log(2), rel=1e-6)
    assert toy1d.value_at_optimum(p, p) == pytest.approx(-math.log(4), abs=1e-10)


def test_gaussian_pdf_and_samples():
    g = toy1d.Gaussian1D(2.0, 0.75)
    x = np.linspace(-2, 6, 9)
    np.testing.assert_allclose(g.pdf(x), stats.norm(2.0, 0.75).pdf(x), rtol=1e-12)
    s = g.sample(20000).numpy()
    assert s.shape == (20000, 1) and s.dtype == np.float32
    assert s.mean() == pytest.approx(2.0, abs=0.03) and s.std() == pytest.approx(0.75, abs=0.03)
    with pytest.raises(ValueError, match="std must be > 0"):
        toy1d.Gaussian1D(0.0, 0.0)


def test_affine_generator_has_the_density_it_claims():
    G = toy1d.AffineGenerator(shift=-1.0, scale=0.5)
    x = G.sample(20000).numpy().ravel()
    assert stats.kstest(x, stats.norm(-1.0, 0.5).cdf).pvalue > 1e-3
    assert (G.density().mean, G.density().std) == (-1.0, 0.5)


def test_game_value_of_a_known_discriminator():
    # D = 1/2 everywhere (logit 0): V = log 1/2 + log 1/2 = -log 4, whatever the densities
    class Half:
        def __call__(self, x):
            return x * 0.0
    p, q = toy1d.Gaussian1D(2.0, 0.75), toy1d.Gaussian1D(0.0, 1.0)
    assert toy1d.game_value(Half(), p, q) == pytest.approx(-math.log(4), abs=1e-6)


# ----------------------------------------------- D trained against fixed G
@pytest.fixture(scope="module")
def trained():
    """D trained to convergence against the fixed G, without and with smoothing."""
    out = {}
    for alpha in (1.0, exp_toy1d.SMOOTH_ALPHA):
        D, p_data, p_g, _, _ = exp_toy1d.fit_optimal_discriminator(300, real_label=alpha, seed=0,
                                                                 track_value=False)
        out[alpha] = (D, p_data, p_g)
    return out


def test_trained_discriminator_approaches_the_optimal_one(trained):
    D, p_data, p_g = trained[1.0]
    x = np.linspace(-4.0, 6.0, 2001)
    mask = toy1d.where_either_density_matters(p_data, p_g, x)
    assert mask.sum() > 1000        # the check covers both bumps, not a sliver
    err = np.abs(toy1d.probabilities_on(D, x) - toy1d.optimal_discriminator(p_data, p_g, x))
    assert err[mask].max() < 0.05


def test_value_at_the_trained_discriminator_is_minus_log4_plus_2jsd(trained):
    D, p_data, p_g = trained[1.0]
    v = toy1d.game_value(D, p_data, p_g)
    theory = -math.log(4) + 2 * toy1d.jsd(p_data, p_g)
    assert abs(v - theory) < 0.02
    # and D* is a maximum: moving the logit either way lowers the value
    class Shifted:
        def __init__(self, by):
            self.by = by

        def __call__(self, x):
            return D(x) + self.by
    for by in (-0.5, 0.5):
        assert toy1d.game_value(Shifted(by), p_data, p_g) < v - 0.01
    assert theory > -math.log(4) + 0.5      # far from the equilibrium value: a real check


def test_label_smoothing_makes_d_approach_alpha_times_d_star(trained):
    alpha = exp_toy1d.SMOOTH_ALPHA
    D, p_data, p_g = trained[alpha]
    x = np.linspace(-4.0, 6.0, 2001)
    mask = toy1d.where_either_density_matters(p_data, p_g, x)
    d = toy1d.probabilities_on(D, x)
    assert np.abs(d - alpha * toy1d.optimal_discriminator(p_data, p_g, x))[mask].max() < 0.05
    # ...and not D* itself: where the data dominate, D stays near alpha, not 1
    assert np.abs(d - toy1d.optimal_discriminator(p_data, p_g, x))[mask].max() > 0.08
    assert d.max() < alpha + 0.02


def test_discriminator_trainer_refuses_a_bad_real_label():
    p = toy1d.Gaussian1D(0.0, 1.0)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        toy1d.discriminator_trainer(toy1d.mlp_discriminator(4), p, toy1d.AffineGenerator(), 2,
                                    real_label=1.5)


# ---------------------------------------------------------- vanishing gradients
def test_saturating_gradient_vanishes_where_d_rejects_the_fake():
    at = math.log(0.01 / 0.99)                 # logit with D(G(z)) = 0.01
    sat, ns = vanishing.generator_logit_gradients([at, 0.0, 6.0])
    np.testing.assert_allclose(sat, [0.01, 0.5, 1 / (1 + math.exp(-6))], rtol=1e-10)
    np.testing.assert_allclose(ns, [0.99, 0.5, 1 / (1 + math.exp(6))], rtol=1e-10)
    assert ns[0] / sat[0] == pytest.approx(99.0, rel=1e-9)


def test_strong_d_stalls_the_saturating_generator_but_not_the_non_saturating_one():
    traces = vanishing.race(120, seed=0, pretrain_steps=200)
    sat, ns = traces["minimax"], traces["non-saturating"]
    start = vanishing.G_START[0]
    assert sat[0, 4] < 0.01                              # D rejects G's samples at the start
    assert np.median(sat[:50, 3]) < 1e-3                 # saturating: a vanishing gradient
    assert np.median(ns[:50, 3]) > 100 * np.median(sat[:50, 3])
    assert abs(sat[-1, 1] - start) < 0.05                # ... and G does not move
    assert ns[-1, 1] - start > 1.5                       # non-saturating G walks to the data


def test_one_dimensional_gan_trains_on_every_device(device):
    p = toy1d.Gaussian1D(2.0, 0.75)
    G, D = toy1d.AffineGenerator(-1.0, 0.5), toy1d.mlp_discriminator(8)
    seen = []
    toy1d.gan_trainer(G, D, p, device=device, batch_size=64, progress=False,
                      callbacks=[lambda tr, step: seen.append(tr.history[-1]["grad_norm_g"])]
                      ).fit(5)
    assert G.shift.device == device and D[0].weight.device == device
    assert len(seen) == 5 and all(np.isfinite(seen)) and seen[0] > 0
    assert toy1d.probabilities_on(D, [0.0, 1.0], device).shape == (2,)

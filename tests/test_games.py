"""The game dynamics against theory: the bilinear game's rates and invariant,
and the Dirac-GAN's non-convergence and its cure by R1."""
import math

import numpy as np
import pytest

import minigan
from minigan.gan.toys import games


def _dist(path):
    return np.hypot(path[:, 0], path[:, 1])


def _asymptotic_ratio(d, tail=20):
    return (d[-1] / d[-1 - tail]) ** (1.0 / tail)


ETA = 0.1


@pytest.mark.parametrize("eta", [0.05, 0.1, 0.3])
def test_simultaneous_gda_grows_by_sqrt_1_plus_eta2_every_step(eta):
    p = games.play(games.BilinearGame(), "simultaneous", (1.0, 0.5), eta, 60)
    ratios = _dist(p)[1:] / _dist(p)[:-1]
    np.testing.assert_allclose(ratios, math.sqrt(1 + eta ** 2), rtol=1e-12)


@pytest.mark.parametrize("eta", [0.1, 0.4])
def test_alternating_gda_conserves_its_invariant(eta):
    p = games.play(games.BilinearGame(), "alternating", (1.0, 0.5), eta, 300)
    inv = games.alternating_invariant(p[:, 0], p[:, 1], eta)
    np.testing.assert_allclose(inv, inv[0], rtol=1e-12)
    # ...and it is not a trivial quantity: the plain radius does change
    assert np.ptp(_dist(p)) > 1e-3


@pytest.mark.parametrize("method,theory", [
    ("optimistic", lambda e: math.sqrt((1 + math.sqrt(1 - 4 * e * e)) / 2)),
    ("extragradient", lambda e: math.sqrt(1 - e * e + e ** 4)),
])
@pytest.mark.parametrize("eta", [0.1, 0.2])
def test_optimistic_and_extragradient_contract_at_theory_rate(method, theory, eta):
    p = games.play(games.BilinearGame(), method, (1.0, 0.5), eta, 400)
    measured = _asymptotic_ratio(_dist(p))
    assert measured < 1
    assert measured == pytest.approx(theory(eta), rel=1e-9)
    assert games.bilinear_rate(method, eta) == pytest.approx(theory(eta), rel=1e-12)


@pytest.mark.parametrize("method", ["consensus", "sga"])
def test_consensus_and_sga_converge_on_bilinear_game(method):
    # with gamma = 1 both give z <- z (1 - eta + i eta): J^T v = A^T v = (x, y) here
    p = games.play(games.BilinearGame(), method, (1.0, 0.5), ETA, 100)
    assert _asymptotic_ratio(_dist(p)) == pytest.approx(math.hypot(1 - ETA, ETA), rel=1e-9)


def test_jacobian_products_by_double_backward_match_the_analytic_jacobian():
    # Dirac-GAN with R1 at a generic point: J from finite differences of the field
    game = games.DiracGAN("standard", r1=0.7, instance_noise=0.3)
    th, ps = 0.4, -0.8

    def field(a, b):
        x = minigan.tensor(np.float64(a), requires_grad=True)
        y = minigan.tensor(np.float64(b), requires_grad=True)
        gx, gy = game.field(x, y)
        return np.array([gx.item(), gy.item()])
    h = 1e-6
    J = np.stack([(field(th + h, ps) - field(th - h, ps)) / (2 * h),
                  (field(th, ps + h) - field(th, ps - h)) / (2 * h)], axis=1)
    x = minigan.tensor(np.float64(th), requires_grad=True)
    y = minigan.tensor(np.float64(ps), requires_grad=True)
    v, jtv, jv = games._jacobian_products(game, x, y)
    v = np.array([v[0].item(), v[1].item()])
    np.testing.assert_allclose([jtv[0].item(), jtv[1].item()], J.T @ v, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose([jv[0].item(), jv[1].item()], J @ v, rtol=1e-6, atol=1e-9)


def test_dirac_field_is_autodiff_of_the_value():
    # standard loss: v = (f'(psi theta) psi, -f'(psi theta) theta), f' = sigmoid(-t)
    game = games.DiracGAN("standard")
    th, ps = 0.7, -1.3
    x = minigan.tensor(np.float64(th), requires_grad=True)
    y = minigan.tensor(np.float64(ps), requires_grad=True)
    gx, gy = game.field(x, y)
    fp = 1 / (1 + math.exp(ps * th))
    assert gx.item() == pytest.approx(fp * ps, rel=1e-12)
    assert gy.item() == pytest.approx(-fp * th, rel=1e-12)


def test_dirac_gda_diverges_and_r1_converges():
    start = np.hypot(1.0, 1.0)
    plain = games.play(games.DiracGAN("standard"), "simultaneous", (1.0, 1.0), 0.2, 500)
    assert _dist(plain)[-1] > start
    r1 = games.play(games.DiracGAN("standard", r1=1.0), "simultaneous", (1.0, 1.0), 0.2, 500)
    assert _dist(r1)[-1] < 1e-6


def test_dirac_penalties_are_the_textbook_formulas():
    # R1: gamma/2 psi^2 added to D's loss; WGAN-GP: lambda (|psi| - 1)^2
    th = minigan.tensor(np.float64(0.3), requires_grad=True)
    ps = minigan.tensor(np.float64(-0.6), requires_grad=True)
    base = games.DiracGAN("standard").losses(th, ps)[1].item()
    with_r1 = games.DiracGAN("standard", r1=2.0).losses(th, ps)[1].item()
    assert with_r1 - base == pytest.approx(0.5 * 2.0 * 0.36, rel=1e-12)
    w = games.DiracGAN("wgan").losses(th, ps)[1].item()
    gp = games.DiracGAN("wgan-gp", gp_weight=3.0).losses(th, ps)[1].item()
    assert gp - w == pytest.approx(3.0 * (0.6 - 1) ** 2, rel=1e-12)


def test_non_saturating_loss_has_the_same_equilibrium_but_other_gradient():
    th = minigan.tensor(np.float64(2.0), requires_grad=True)
    ps = minigan.tensor(np.float64(3.0), requires_grad=True)
    g_sat, _ = games.DiracGAN("standard").field(th, ps)
    g_ns, _ = games.DiracGAN("non-saturating").field(th, ps)
    # d/dtheta f(psi theta) = psi sigmoid(-psi theta)
    # d/dtheta -f(-psi theta) = psi sigmoid(psi theta)
    assert g_sat.item() == pytest.approx(3.0 / (1 + math.exp(6.0)), rel=1e-12)
    assert g_ns.item() == pytest.approx(3.0 / (1 + math.exp(-6.0)), rel=1e-12)


def test_wgan_clipping_keeps_psi_in_range():
    p = games.play(games.DiracGAN("wgan", clip=0.5), "simultaneous", (1.0, 0.2), 0.2, 100)
    assert np.abs(p[:, 1]).max() <= 0.5 + 1e-12
    assert np.abs(p[:, 1]).max() == pytest.approx(0.5)


def test_instance_noise_makes_gda_converge_slowly():
    p = games.play(games.DiracGAN("standard", instance_noise=0.5), "simultaneous",
                   (1.0, 1.0), 0.2, 500)
    d = _dist(p)
    assert d[-1] < 0.1 * d[0]
    assert _asymptotic_ratio(d, 100) < 1


def test_a_batch_of_starting_points_runs_elementwise():
    starts = (np.array([1.0, 0.2]), np.array([0.5, -0.3]))
    both = games.play(games.BilinearGame(), "extragradient", starts, ETA, 10)
    one = games.play(games.BilinearGame(), "extragradient", (0.2, -0.3), ETA, 10)
    np.testing.assert_allclose(both[:, :, 1], one, rtol=1e-14)


def test_vector_field_is_minus_the_gradient():
    X, Y, U, V = games.vector_field(games.BilinearGame(), [-1.0, 0.0, 2.0], [0.5, 1.0])
    np.testing.assert_allclose(U, -Y)
    np.testing.assert_allclose(V, X)


@pytest.mark.parametrize("bad,match", [
    (dict(method="adam"), "known methods: simultaneous, alternating"),
    (dict(step_size=0.0), r"step size must be in \(0, 1.0\)"),
    (dict(step_size=-0.1), r"step size must be in \(0, 1.0\)"),
    (dict(step_size=5.0), r"step size must be in \(0, 1.0\)"),
    (dict(steps=0), r"steps must be an integer in \[1, "),
])
def test_bad_settings_are_refused_with_the_valid_range(bad, match):
    kw = dict(method="simultaneous", step_size=0.1, steps=10)
    kw.update(bad)
    with pytest.raises(ValueError, match=match):
        games.play(games.BilinearGame(), kw["method"], (1.0, 1.0), kw["step_size"], kw["steps"])


def test_unknown_dirac_loss_lists_the_known_ones():
    with pytest.raises(ValueError, match="known losses: standard, non-saturating, wgan, wgan-gp"):
        games.DiracGAN("hinge")


def test_games_run_on_every_device(device):
    p = games.play(games.DiracGAN("standard", r1=1.0), "sga", (1.0, 1.0), 0.2, 5, device=device)
    ref = games.play(games.DiracGAN("standard", r1=1.0), "sga", (1.0, 1.0), 0.2, 5)
    np.testing.assert_allclose(p, ref, rtol=1e-10)

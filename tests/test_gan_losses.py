"""GAN losses and penalties: values by hand and against PyTorch, stability at huge
logits, and second-order gradients of the penalties (finite differences, torch)."""
import math

import numpy as np
import pytest

import minigan
from minigan import functional as F
from minigan.gan import losses as L
from conftest import needs_torch

# ---------------------------------------------------------------- helpers


def t64(a, requires_grad=False):
    return minigan.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def log_sig(x):
    """log sigmoid(x) in float64 with NumPy (the reference for hand checks)."""
    return -np.logaddexp(0.0, -np.asarray(x, dtype=np.float64))


class LinearCritic:
    """D(x) = x w + b for x of shape (N, d): its input gradient is w for every sample."""

    def __init__(self, w, b=0.0):
        self.w = t64(np.asarray(w).reshape(-1, 1), requires_grad=True)
        self.b = t64([b], requires_grad=True)

    def __call__(self, x):
        return x.reshape(x.shape[0], -1) @ self.w + self.b

    def parameters(self):
        return [self.w, self.b]


class TanhCritic:
    """A small MLP critic D(x) = W2 tanh(W1 x + b1) + b2, from given float64 arrays."""

    def __init__(self, W1, b1, W2, b2):
        self.params = [t64(a, requires_grad=True) for a in (W1, b1, W2, b2)]

    def __call__(self, x):
        W1, b1, W2, b2 = self.params
        return F.linear(F.tanh(F.linear(x, W1, b1)), W2, b2)

    def parameters(self):
        return self.params


def random_critic(rng, d_in=3, hidden=5):
    return [rng.normal(size=(hidden, d_in)), rng.normal(size=hidden) * 0.5,
            rng.normal(size=(1, hidden)), rng.normal(size=1) * 0.5]


def numeric_grad(f, array, h=1e-6):
    """Central differences of the scalar f() with respect to every element of `array`
    (modified in place and restored)."""
    out = np.zeros_like(array)
    for i in np.ndindex(array.shape):
        old = array[i]
        array[i] = old + h
        fp = f()
        array[i] = old - h
        fm = f()
        array[i] = old
        out[i] = (fp - fm) / (2 * h)
    return out


# ---------------------------------------------------------- values by hand
def test_losses_at_zero_logit_are_log2():
    z = t64([0.0, 0.0])
    ln2 = math.log(2)
    assert L.bce_d_loss(z, z).item() == pytest.approx(2 * ln2, abs=1e-14)   # D = 1/2: -log4 = -V
    assert L.non_saturating_g_loss(z).item() == pytest.approx(ln2, abs=1e-14)
    assert L.minimax_g_loss(z).item() == pytest.approx(-ln2, abs=1e-14)


def test_bce_losses_match_hand_formulas():
    real = np.array([2.0, -1.0, 0.3])
    fake = np.array([-0.5, 1.5, 4.0])
    alpha = 0.9
    want_d = (-np.mean(alpha * log_sig(real) + (1 - alpha) * log_sig(-real))
              - np.mean(log_sig(-fake)))
    got = L.bce_d_loss(t64(real), t64(fake), real_target=alpha).item()
    assert got == pytest.approx(want_d, rel=1e-12)
    want_d1 = -np.mean(log_sig(real)) - np.mean(log_sig(-fake))
    assert L.bce_d_loss(t64(real), t64(fake)).item() == pytest.approx(want_d1, rel=1e-12)
    # minimax: E[log(1 - D(G(z)))], non-saturating: -E[log D(G(z))]
    d_fake = 1 / (1 + np.exp(-fake))
    assert L.minimax_g_loss(t64(fake)).item() == pytest.approx(np.mean(np.log1p(-d_fake)),
                                                              rel=1e-12)
    assert L.non_saturating_g_loss(t64(fake)).item() == pytest.approx(-np.mean(np.log(d_fake)),
                                                                     rel=1e-12)


def test_other_losses_match_hand_formulas():
    real = np.array([[2.0], [-1.0], [0.3], [1.2]])
    fake = np.array([[-0.5], [1.5], [4.0], [-3.0]])
    r, f = t64(real), t64(fake)
    assert L.least_squares_d_loss(r, f).item() == pytest.approx(
        0.5 * np.mean((real - 1) ** 2) + 0.5 * np.mean(fake ** 2), rel=1e-12)
    assert L.least_squares_d_loss(r, f, real_target=0.9).item() == pytest.approx(
        0.5 * np.mean((real - 0.9) ** 2) + 0.5 * np.mean(fake ** 2), rel=1e-12)
    assert L.least_squares_g_loss(f).item() == pytest.approx(0.5 * np.mean((fake - 1) ** 2),
                                                            rel=1e-12)
    assert L.wasserstein_d_loss(r, f).item() == pytest.approx(fake.mean() - real.mean(), rel=1e-12)
    assert L.wasserstein_g_loss(f).item() == pytest.approx(-fake.mean(), rel=1e-12)
    assert L.hinge_d_loss(r, f).item() == pytest.approx(
        np.mean(np.maximum(0, 1 - real)) + np.mean(np.maximum(0, 1 + fake)), rel=1e-12)
    assert L.hinge_g_loss(f).item() == pytest.approx(-fake.mean(), rel=1e-12)


def test_non_saturating_gradient_is_strong_where_minimax_saturates():
    # D rejects the fake confidently (logit -8): the minimax gradient nearly vanishes.
    x = t64([-8.0], requires_grad=True)
    (g_mm,) = minigan.grad(L.minimax_g_loss(x), x)
    (g_ns,) = minigan.grad(L.non_saturating_g_loss(x), x)
    sig = 1 / (1 + math.exp(8.0))
    assert g_mm.item() == pytest.approx(-sig, rel=1e-12)          # -sigmoid(l) ~ -3e-4
    assert g_ns.item() == pytest.approx(-(1 - sig), rel=1e-12)    # -sigmoid(-l) ~ -1
    assert abs(g_ns.item()) > 1000 * abs(g_mm.item())


# --------------------------------------------------------------- stability
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_losses_are_finite_and_exact_at_huge_logits(device, dtype):
    big = minigan.tensor(np.array([1e4], dtype=dtype), device=device, requires_grad=True)
    small = minigan.tensor(np.array([-1e4], dtype=dtype), device=device, requires_grad=True)
    # D calls a real sample certainly fake and a fake one certainly real: loss 1e4 + 1e4
    loss = L.bce_d_loss(small, big)
    assert loss.dtype == dtype
    assert loss.item() == 2e4
    gs, gb = minigan.grad(loss, [small, big])
    assert gs.item() == -1.0 and gb.item() == 1.0           # sigmoid(x) - t, exactly
    # perfect D: loss exactly 0 (exp(-1e4) underflows), gradient exactly 0
    loss0 = L.bce_d_loss(big, small)
    assert loss0.item() == 0.0
    assert all(g.item() == 0.0 for g in minigan.grad(loss0, [big, small]))
    # log(1 - sigmoid(1e4)) would be log(0) = -inf; minimax's stable form gives -1e4
    assert L.minimax_g_loss(big).item() == -1e4
    assert L.minimax_g_loss(small).item() == 0.0
    assert L.non_saturating_g_loss(small).item() == 1e4
    assert L.non_saturating_g_loss(big).item() == 0.0
    (g,) = minigan.grad(L.non_saturating_g_loss(small), small)
    assert g.item() == -1.0
    (g,) = minigan.grad(L.minimax_g_loss(big), big)
    assert g.item() == -1.0
    # label smoothing at a certain-real logit costs (1 - alpha) * 1e4
    smoothed = L.bce_d_loss(big, small, real_target=0.9)
    assert smoothed.item() == pytest.approx(0.1 * 1e4, rel=1e-6)


@pytest.mark.parametrize("name", list(L.LOSSES))
def test_every_loss_is_finite_at_huge_logits(device, name):
    pair = L.get_loss(name)
    x = np.array([1e4, -1e4, 0.5, -1e4], dtype=np.float32)
    real = minigan.tensor(x, device=device, requires_grad=True)
    fake = minigan.tensor(-x[::-1].copy(), device=device, requires_grad=True)
    for loss in (pair.d_loss(real, fake), pair.g_loss(fake)):
        assert np.isfinite(loss.item())
        for g in minigan.grad(loss, [real, fake], allow_unused=True):
            assert g is None or np.isfinite(g.numpy()).all()
    # the float32 values agree with the same formula in float64
    r64, f64 = t64(x), t64(-x[::-1].copy())
    assert pair.d_loss(real, fake).item() == pytest.approx(pair.d_loss(r64, f64).item(), rel=1e-6)
    assert pair.g_loss(fake).item() == pytest.approx(pair.g_loss(f64).item(), rel=1e-6)


# ------------------------------------------------------ against PyTorch
def _losses_and_gradients(name, smoothing):
    """The pair `name` on 16 seeded real and fake logits: (real, fake, L_D, L_G,
    (dL_D/dreal, dL_D/dfake), dL_G/dfake); skips a smoothing the loss has not."""
    pair = L.get_loss(name)
    if smoothing != 1.0 and not pair.smoothable:
        pytest.skip("this loss has no label smoothing")
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(16, 1)) * 3, rng.normal(size=(16, 1)) * 3
    r, f = t64(real, True), t64(fake, True)
    kw = {"real_target": smoothing} if pair.smoothable else {}
    ld, lg = pair.d_loss(r, f, **kw), pair.g_loss(f)
    (grad_g,) = minigan.grad(lg, f)
    return real, fake, ld, lg, minigan.grad(ld, [r, f]), grad_g


@needs_torch
@pytest.mark.parametrize("name", list(L.LOSSES))
@pytest.mark.parametrize("smoothing", [1.0, 0.9])
def test_losses_and_gradients_match_torch(name, smoothing):
    import torch
    import torch.nn.functional as TF
    real, fake, ld, lg, grads_d, grad_g = _losses_and_gradients(name, smoothing)

    tr = torch.tensor(real, requires_grad=True)
    tf = torch.tensor(fake, requires_grad=True)
    if name in ("minimax", "non-saturating"):
        td = (TF.binary_cross_entropy_with_logits(tr, torch.full_like(tr, smoothing))
              + TF.binary_cross_entropy_with_logits(tf, torch.zeros_like(tf)))
        tg = (torch.log(1 - torch.sigmoid(tf)).mean() if name == "minimax"
              else TF.binary_cross_entropy_with_logits(tf, torch.ones_like(tf)))
    elif name == "least-squares":
        td = (0.5 * TF.mse_loss(tr, torch.full_like(tr, smoothing))
              + 0.5 * TF.mse_loss(tf, torch.zeros_like(tf)))
        tg = 0.5 * TF.mse_loss(tf, torch.ones_like(tf))
    elif name == "wasserstein":
        td, tg = tf.mean() - tr.mean(), -tf.mean()
    else:
        td, tg = TF.relu(1 - tr).mean() + TF.relu(1 + tf).mean(), -tf.mean()
    tgr, tgf = torch.autograd.grad(td, [tr, tf])
    (tgg,) = torch.autograd.grad(tg, tf)
    np.testing.assert_allclose(ld.item(), td.item(), rtol=1e-10)
    np.testing.assert_allclose(lg.item(), tg.item(), rtol=1e-10)
    np.testing.assert_allclose(grads_d[0].numpy(), tgr.numpy(), rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(grads_d[1].numpy(), tgf.numpy(), rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(grad_g.numpy(), tgg.numpy(), rtol=1e-9, atol=1e-14)


def _sig(x):
    return 1 / (1 + np.exp(-x))


# name: (dL_D/d real, dL_D/d fake, dL_G/d fake) for N logits each, smoothing alpha
HAND_GRADIENTS = {
    "minimax": (lambda r, f, a: (_sig(r) - a) / r.size, lambda r, f, a: _sig(f) / f.size,
                lambda f: -_sig(f) / f.size),
    "non-saturating": (lambda r, f, a: (_sig(r) - a) / r.size, lambda r, f, a: _sig(f) / f.size,
                       lambda f: -_sig(-f) / f.size),
    "least-squares": (lambda r, f, a: (r - a) / r.size, lambda r, f, a: f / f.size,
                      lambda f: (f - 1) / f.size),
    "wasserstein": (lambda r, f, a: -np.ones_like(r) / r.size,
                    lambda r, f, a: np.ones_like(f) / f.size, lambda f: -np.ones_like(f) / f.size),
    "hinge": (lambda r, f, a: -1.0 * (r < 1) / r.size, lambda r, f, a: (f > -1) / f.size,
              lambda f: -np.ones_like(f) / f.size),
}


@pytest.mark.parametrize("name", list(L.LOSSES))
@pytest.mark.parametrize("smoothing", [1.0, 0.9])
def test_gradients_match_hand_formulas(name, smoothing):
    """The gradients the PyTorch comparison checks, written out: for the BCE losses
    d/dl of -[a log sigmoid(l) + (1 - a) log sigmoid(-l)] is sigmoid(l) - a, and so on."""
    real, fake, _, _, (gr, gf), gg = _losses_and_gradients(name, smoothing)
    d_real, d_fake, g_fake = HAND_GRADIENTS[name]
    np.testing.assert_allclose(gr.numpy(), d_real(real, fake, smoothing), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gf.numpy(), d_fake(real, fake, smoothing), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gg.numpy(), g_fake(fake), rtol=1e-12, atol=1e-15)


def test_r1_penalty_gradcheck_wrt_the_weights():
    """R1 = gamma/2 E||dD/dx||^2 through a tanh critic: its weight gradients (second
    order) against finite differences, as the PyTorch comparison checks them."""
    rng = np.random.default_rng(5)
    _, b1, _, b2 = (t64(a) for a in random_critic(rng, d_in=4, hidden=6))
    W1, _, W2, _ = (t64(a, True) for a in random_critic(rng, d_in=4, hidden=6))
    real = t64(rng.normal(size=(7, 4)))

    def r1(w1, w2):
        def d(x):
            return F.linear(F.tanh(F.linear(x, w1, b1)), w2, b2)
        return L.r1_penalty(d, real, gamma=10.0)
    assert minigan.gradcheck(r1, [W1, W2])


# --------------------------------------------------------------- registry
def test_registry_names_and_unknown_name():
    assert set(L.LOSSES) == {"minimax", "non-saturating", "least-squares", "wasserstein", "hinge"}
    assert L.get_loss("non_saturating") is L.LOSSES["non-saturating"]
    assert L.get_loss(L.LOSSES["hinge"]) is L.LOSSES["hinge"]
    with pytest.raises(ValueError) as e:
        L.get_loss("vanilla")
    msg = str(e.value)
    assert "vanilla" in msg and all(n in msg for n in L.LOSSES)
    assert L.LOSSES["minimax"].probabilities and not L.LOSSES["wasserstein"].probabilities


def test_bad_label_smoothing_is_refused():
    z = t64([0.0])
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="real label"):
            L.bce_d_loss(z, z, real_target=bad)


# ---------------------------------------------------------------- clipping
def test_clip_weights_clips_in_place():
    critic = LinearCritic([0.5, -2.0, 0.001], b=3.0)
    w_before = critic.w
    L.clip_weights(critic, 0.01)
    assert critic.w is w_before                          # same Parameter: the optimizer keeps it
    np.testing.assert_array_equal(critic.w.numpy().ravel(), [0.01, -0.01, 0.001])
    assert critic.b.item() == 0.01
    with pytest.raises(ValueError, match="positive"):
        L.clip_weights(critic, 0.0)


# --------------------------------------------------------------- penalties
def test_gradient_penalty_of_a_linear_critic_by_hand():
    # D(x) = x.w + b has input gradient w everywhere: penalty = lam (|w| - 1)^2 exactly,
    # and d penalty / dw = 2 lam (|w| - 1) w / |w| (needs the second-order graph).
    w = np.array([3.0, 4.0])                       # |w| = 5
    critic = LinearCritic(w)
    rng = np.random.default_rng(0)
    real, fake = t64(rng.normal(size=(6, 2))), t64(rng.normal(size=(6, 2)))
    gp = L.gradient_penalty(critic, real, fake, lam=10.0)
    assert gp.item() == pytest.approx(10.0 * 16.0, rel=1e-9)
    (gw,) = minigan.grad(gp, critic.w)
    np.testing.assert_allclose(gw.numpy().ravel(), 2 * 10.0 * 4.0 * w / 5.0, rtol=1e-9)
    with minigan.no_grad():                        # a value for logging works in no_grad too
        assert L.gradient_penalty(critic, real, fake).item() == pytest.approx(gp.item(), rel=1e-9)


def test_gradient_penalty_on_every_device(device):
    w = minigan.tensor(np.array([[3.0], [4.0]], dtype=np.float32), device=device,
                       requires_grad=True)
    gen = np.random.default_rng(0)
    real = minigan.tensor(gen.normal(size=(6, 2)).astype(np.float32), device=device)
    fake = minigan.tensor(gen.normal(size=(6, 2)).astype(np.float32), device=device)
    gp = L.gradient_penalty(lambda x: x @ w, real, fake, lam=10.0)
    assert gp.device == device and gp.dtype == np.float32
    assert gp.item() == pytest.approx(160.0, rel=1e-5)
    (gw,) = minigan.grad(gp, w)
    np.testing.assert_allclose(gw.numpy().ravel(), [48.0, 64.0], rtol=1e-5)


def test_r1_penalty_of_a_linear_critic_by_hand():
    w = np.array([1.0, -2.0, 2.0])                 # |w|^2 = 9
    critic = LinearCritic(w)
    real = t64(np.random.default_rng(1).normal(size=(5, 3)))
    r1 = L.r1_penalty(critic, real, gamma=4.0)
    assert r1.item() == pytest.approx(4.0 / 2 * 9.0, rel=1e-12)
    (gw,) = minigan.grad(r1, critic.w)             # d/dw (gamma/2)|w|^2 = gamma w
    np.testing.assert_allclose(gw.numpy().ravel(), 4.0 * w, rtol=1e-12)


def test_gradient_penalty_draws_eps_per_sample_from_the_seeded_generator():
    rng = np.random.default_rng(2)
    critic = TanhCritic(*random_critic(rng))
    real, fake = t64(rng.normal(size=(8, 3))), t64(rng.normal(size=(8, 3)))
    minigan.manual_seed(7)
    a = L.gradient_penalty(critic, real, fake).item()
    minigan.manual_seed(7)
    b = L.gradient_penalty(critic, real, fake).item()
    assert a == b
    # the same draw, made by hand: one U[0,1] eps per sample, shape (N, 1)
    minigan.manual_seed(7)
    eps = minigan.backend.generator("cpu").random((8, 1))
    assert L.gradient_penalty(critic, real, fake, eps=eps.ravel()).item() == a
    assert L.gradient_penalty(critic, real, fake, eps=np.full(8, 0.5)).item() != a
    half = L.gradient_penalty(lambda x: x.sum(axis=1), real.float(), fake.float(),
                              eps=np.full(8, 0.5))
    assert half.dtype == np.float32                # a float64 eps does not upcast the samples


def test_gradient_penalty_checks_shapes():
    critic = LinearCritic([1.0, 1.0])
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(3, 2\)"):
        L.gradient_penalty(critic, t64(np.zeros((4, 2))), t64(np.zeros((3, 2))))


def test_gradient_penalty_gradcheck_wrt_a_weight():
    """Finite differences in float64 of the penalty w.r.t. W1 (a second-order gradient)."""
    rng = np.random.default_rng(4)
    critic = TanhCritic(*random_critic(rng))
    real, fake = t64(rng.normal(size=(6, 3))), t64(rng.normal(size=(6, 3)))
    eps = rng.uniform(size=6)
    W1 = critic.params[0]

    def penalty():
        return L.gradient_penalty(critic, real, fake, lam=10.0, eps=eps)
    (analytic,) = minigan.grad(penalty(), W1)
    numeric = numeric_grad(lambda: penalty().item(), W1.data)
    np.testing.assert_allclose(analytic.numpy(), numeric, rtol=1e-6, atol=1e-8)
    assert np.abs(numeric).max() > 1e-2                     # a real, nonzero gradient

    # and the project's own checker agrees, for W1 and W2 together
    b1, b2 = critic.params[1].detach(), critic.params[3].detach()

    def penalty_of(w1, w2):
        def d(x):
            return F.linear(F.tanh(F.linear(x, w1, b1)), w2, b2)
        return L.gradient_penalty(d, real, fake, lam=10.0, eps=eps)
    assert minigan.gradcheck(penalty_of, [critic.params[0], critic.params[2]])


@needs_torch
@pytest.mark.parametrize("which", ["gp", "r1"])
def test_penalty_gradients_match_torch(which):
    import torch
    rng = np.random.default_rng(5)
    arrays = random_critic(rng, d_in=4, hidden=6)
    critic = TanhCritic(*arrays)
    real, fake = rng.normal(size=(7, 4)), rng.normal(size=(7, 4))
    eps = rng.uniform(size=7)
    if which == "gp":
        pen = L.gradient_penalty(critic, t64(real), t64(fake), lam=10.0, eps=eps)
    else:
        pen = L.r1_penalty(critic, t64(real), gamma=10.0)
    ours = minigan.grad(pen, critic.params[:3])       # b2 does not change D's input gradient

    tW1, tb1, tW2, tb2 = [torch.tensor(a, requires_grad=True) for a in arrays]

    def tcritic(x):
        return torch.tanh(x @ tW1.T + tb1) @ tW2.T + tb2
    if which == "gp":
        e = torch.tensor(eps).reshape(-1, 1)
        x = (e * torch.tensor(real) + (1 - e) * torch.tensor(fake)).requires_grad_(True)
    else:
        x = torch.tensor(real, requires_grad=True)
    (gx,) = torch.autograd.grad(tcritic(x).sum(), x, create_graph=True)
    if which == "gp":
        tpen = 10.0 * ((gx.norm(2, dim=1) - 1) ** 2).mean()
    else:
        tpen = 5.0 * (gx ** 2).sum(dim=1).mean()
    theirs = torch.autograd.grad(tpen, [tW1, tb1, tW2])
    np.testing.assert_allclose(pen.item(), tpen.item(), rtol=1e-9)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-7, atol=1e-10)

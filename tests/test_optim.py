"""minigan.optim: SGD and Adam agree with PyTorch's step by step, and resume exactly."""
import numpy as np
import pytest

import minigan
from minigan import optim

from conftest import needs_torch, HAVE_TORCH

if HAVE_TORCH:
    import torch

SHAPES = [(3, 4), (4,), (2, 2)]


def _loss(ps, X, lib):
    """A small nonlinear loss of three parameters, written once for both libraries."""
    a, b, c = ps
    h = (X @ a + b)
    h = h.tanh() if lib == "minigan" else torch.tanh(h)
    return (h * h).sum() + (c * c * c).sum() + (a * a).sum() * 0.1


def _run(make_opt, ps_init, X, steps, lib, device="cpu", opt_state=None):
    """Take `steps` optimizer steps; return the final parameters and the optimizer."""
    if lib == "minigan":
        ps = [minigan.tensor(p.copy(), requires_grad=True, device=device) for p in ps_init]
        Xt = minigan.tensor(X, device=device)
    else:
        ps = [torch.tensor(p.copy(), requires_grad=True) for p in ps_init]
        Xt = torch.tensor(X)
    opt = make_opt(ps)
    if opt_state is not None:
        opt.load_state_dict(opt_state)
    for _ in range(steps):
        opt.zero_grad()
        _loss(ps, Xt, lib).backward()
        opt.step()
    return [p.numpy() if lib == "minigan" else p.detach().numpy() for p in ps], opt


def _problem():
    rng = np.random.default_rng(1)
    return [rng.standard_normal(s) for s in SHAPES], rng.standard_normal((5, 3))


VARIANTS = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, weight_decay=0.01)),
    ("Adam", dict()),
    ("Adam", dict(lr=2e-4, betas=(0.5, 0.999))),
    ("Adam", dict(lr=0.05, betas=(0.0, 0.9), eps=1e-6)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
]


@needs_torch
@pytest.mark.parametrize("name,kw", VARIANTS, ids=[f"{n}-{'-'.join(k)}" for n, k in VARIANTS])
def test_ten_steps_agree_with_torch(name, kw, device):
    ps, X = _problem()
    ours, _ = _run(lambda p: getattr(optim, name)(p, **kw), ps, X, 10, "minigan", device)
    theirs, _ = _run(lambda p: getattr(torch.optim, name)(p, **kw), ps, X, 10, "torch")
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert not np.allclose(ours[0], ps[0])           # the parameters really moved


@needs_torch
def test_parameter_groups_agree_with_torch():
    ps, X = _problem()

    def groups(p):
        return [{"params": p[:2]}, {"params": p[2:], "lr": 0.2, "momentum": 0.0}]
    ours, _ = _run(lambda p: optim.SGD(groups(p), lr=0.05, momentum=0.9), ps, X, 10, "minigan")
    theirs, _ = _run(lambda p: torch.optim.SGD(groups(p), lr=0.05, momentum=0.9), ps, X, 10,
                     "torch")
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
                                  lambda p: optim.Adam(p, lr=0.01, betas=(0.5, 0.99))],
                         ids=["SGD", "Adam"])
def test_state_dict_round_trip_continues_identically(make, tmp_path):
    ps, X = _problem()
    straight, _ = _run(make, ps, X, 10, "minigan")
    half, opt = _run(make, ps, X, 5, "minigan")
    minigan.save({"opt": opt.state_dict(), "params": half}, tmp_path / "ckpt.npz")
    ck = minigan.load(tmp_path / "ckpt.npz")
    resumed, _ = _run(make, ck["params"], X, 5, "minigan", opt_state=ck["opt"])
    for a, b in zip(resumed, straight):
        np.testing.assert_array_equal(a, b)


def test_state_dict_is_a_snapshot_with_string_keys():
    p = minigan.tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = minigan.tensor(np.ones(3))
    opt.step()
    sd = opt.state_dict()
    assert list(sd["state"]) == ["0"] and sd["state"]["0"]["step"] == 1
    assert sd["param_groups"][0]["params"] == [0] and sd["param_groups"][0]["betas"] == [0.9, 0.999]
    m = sd["state"]["0"]["exp_avg"].copy()
    opt.step()
    np.testing.assert_array_equal(sd["state"]["0"]["exp_avg"], m)


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1),
                                  lambda p: optim.Adam(p, lr=0.1, weight_decay=0.1)],
                         ids=["SGD", "Adam"])
def test_grad_arrays_are_never_written_and_none_grads_are_skipped(make):
    a = minigan.tensor(np.ones(3), requires_grad=True)
    b = minigan.tensor(np.ones(3), requires_grad=True)
    frozen = minigan.tensor(np.ones(3), requires_grad=True)
    shared = minigan.tensor(np.array([1.0, -2.0, 3.0]))
    a.grad = b.grad = shared                       # one gradient object used twice
    opt = make([a, b, frozen])
    for _ in range(3):
        opt.step()
    np.testing.assert_array_equal(shared.data, [1.0, -2.0, 3.0])
    np.testing.assert_array_equal(a.data, b.data)      # both saw the same, unchanged gradient
    np.testing.assert_array_equal(frozen.data, np.ones(3))
    assert "0" in opt.state_dict()["state"] and "2" not in opt.state_dict()["state"]
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_float32_parameters_stay_float32():
    p = minigan.tensor(np.ones(4, np.float32), requires_grad=True)
    for opt in (optim.SGD([p], lr=0.1, momentum=0.9), optim.Adam([p])):
        p.grad = minigan.tensor(np.full(4, 0.5, np.float32))
        opt.step()
        opt.step()
        assert p.dtype == np.float32


def test_hyperparameters_are_validated():
    p = [minigan.tensor(np.ones(2), requires_grad=True)]
    bad = [(lambda: optim.SGD(p, lr=-1), "lr"),
           (lambda: optim.SGD(p, lr=0.1, momentum=-0.5), "momentum"),
           (lambda: optim.SGD(p, lr=0.1, nesterov=True), "Nesterov"),
           (lambda: optim.SGD(p, lr=0.1, weight_decay=-1), "weight_decay"),
           (lambda: optim.Adam(p, lr=-1e-3), "lr"),
           (lambda: optim.Adam(p, betas=(1.0, 0.999)), "betas"),
           (lambda: optim.Adam(p, betas=(0.9, -0.1)), "betas"),
           (lambda: optim.Adam(p, eps=-1), "eps"),
           (lambda: optim.Adam([]), "empty"),
           (lambda: optim.Adam(p[0]), "single tensor")]
    for make, word in bad:
        with pytest.raises((ValueError, TypeError), match=word):
            make()


def test_load_state_dict_refuses_a_mismatched_optimizer():
    p = [minigan.tensor(np.ones(n), requires_grad=True) for n in (2, 3)]
    opt = optim.Adam(p)
    for t in p:
        t.grad = minigan.tensor(np.ones(t.shape))
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="group"):
        optim.Adam(p[:1]).load_state_dict(sd)
    q = [minigan.tensor(np.ones(3), requires_grad=True) for _ in range(2)]
    with pytest.raises(ValueError, match="shape"):
        optim.Adam(q).load_state_dict(sd)


# ------------------------------------------- hyperparameters: clear errors, no NaN
@pytest.mark.parametrize("make,error,words", [
    (lambda p: optim.SGD(p, lr=float("nan")), ValueError, ["SGD", "lr", "finite", ">= 0", "nan"]),
    (lambda p: optim.SGD(p, lr=float("inf")), ValueError, ["lr", "finite"]),
    (lambda p: optim.Adam(p, lr=float("nan")), ValueError, ["Adam", "lr", "finite", ">= 0"]),
    (lambda p: optim.Adam(p, lr="0.1"), TypeError, ["lr", "number", "the string '0.1'"]),
    (lambda p: optim.SGD(p, lr=None), TypeError, ["lr", "number", "None"]),
    (lambda p: optim.Adam(p, betas="ab"), TypeError, ["betas", "pair of numbers", "[0, 1)"]),
    (lambda p: optim.Adam(p, betas=0.9), TypeError, ["betas", "pair of numbers"]),
    (lambda p: optim.Adam(p, betas=(0.9,)), TypeError, ["betas", "pair of numbers"]),
    (lambda p: optim.Adam(p, betas=(0.9, "x")), TypeError, ["betas[1]", "number"]),
    (lambda p: optim.Adam(p, betas=(1.5, 0.999)), ValueError, ["betas[0]", "[0, 1)", "1.5"]),
    (lambda p: optim.Adam(p, betas=(0.9, float("nan"))), ValueError, ["betas[1]", "finite"]),
    (lambda p: optim.Adam(p, eps=0.0), ValueError, ["eps", "> 0"]),
    (lambda p: optim.Adam(p, eps=float("nan")), ValueError, ["eps", "finite"]),
    (lambda p: optim.Adam(p, weight_decay=float("inf")), ValueError, ["weight_decay", "finite"]),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=-0.1), ValueError, ["weight_decay", ">= 0"]),
    (lambda p: optim.SGD(p, lr=0.1, momentum=1.0), ValueError, ["momentum", "[0, 1)"]),
    (lambda p: optim.SGD(p, lr=0.1, momentum=float("nan")), ValueError, ["momentum", "finite"]),
    (lambda p: optim.SGD(p, lr=0.1, momentum="0.9"), TypeError, ["momentum", "number"]),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=1.5), ValueError,
     ["dampening", "[0, 1]"]),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov="yes"), TypeError,
     ["nesterov", "True or False"]),
    (lambda p: optim.SGD([{"params": p, "lr": float("nan")}], lr=0.1), ValueError, ["lr", "nan"]),
])
def test_hyperparameter_errors_name_the_argument_and_what_is_allowed(make, error, words):
    p = [minigan.tensor(np.ones(2), requires_grad=True)]
    with pytest.raises(error) as e:
        make(p)
    for word in words:
        assert word in str(e.value), f"{word!r} missing from: {e.value}"


def test_valid_edge_hyperparameters_are_accepted():
    p = [minigan.tensor(np.ones(2), requires_grad=True)]
    optim.SGD(p, lr=0)                                  # a frozen run: allowed
    optim.SGD(p, lr=np.float32(0.1), momentum=0.0, dampening=1.0)
    opt = optim.Adam(p, lr=1, betas=[0.0, 0.5], eps=1e-12)
    assert opt.param_groups[0]["betas"] == (0.0, 0.5)   # a list becomes the usual tuple


# ------------------------------------------------- loading is all or nothing
def _trained(make, steps=3):
    rng = np.random.default_rng(0)
    ps = [minigan.tensor(rng.standard_normal(s), requires_grad=True) for s in [(2, 3), (3,)]]
    opt = make(ps)
    for _ in range(steps):
        for p in ps:
            p.grad = minigan.tensor(np.cos(p.data * 3.0))
        opt.step()
    return ps, opt


def _same_state(sd1, sd2):
    assert sd1["param_groups"] == sd2["param_groups"]
    assert sd1["state"].keys() == sd2["state"].keys()
    for k in sd1["state"]:
        assert sd1["state"][k].keys() == sd2["state"][k].keys()
        for name, v in sd1["state"][k].items():
            np.testing.assert_array_equal(v, sd2["state"][k][name])


ADAM = lambda p: optim.Adam(p, lr=0.01, betas=(0.5, 0.99))                     # noqa: E731
NESTEROV = lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True)        # noqa: E731


def _bad_betas(sd):
    sd["param_groups"][0]["betas"] = [1.5, 0.999]


def _bad_lr(sd):
    sd["param_groups"][0]["lr"] = float("nan")


def _bad_shape_second(sd):
    key = "exp_avg_sq" if "exp_avg_sq" in sd["state"]["1"] else "momentum_buffer"
    sd["state"]["1"][key] = np.zeros(4)          # the lr (a group setting) comes earlier


def _bad_foreign_setting(sd):
    sd["param_groups"][0]["betas_typo"] = 0.3


def _bad_entries(sd):
    if "step" in sd["state"]["1"]:
        del sd["state"]["1"]["step"]             # Adam's moments without their step count
    else:
        sd["state"]["1"]["exp_avg"] = np.zeros(3)   # Adam's state given to SGD


def _bad_step(sd):
    if "step" in sd["state"]["0"]:
        sd["state"]["0"]["step"] = -2
    else:
        sd["state"]["0"]["momentum_buffer"] = np.array([["a"] * 3] * 2)


@pytest.mark.parametrize("make", [ADAM, NESTEROV], ids=["Adam", "SGD"])
@pytest.mark.parametrize("spoil,error,words", [
    (_bad_betas, ValueError, ["betas[0]", "[0, 1)", "1.5"]),
    (_bad_lr, ValueError, ["lr", "finite"]),
    (_bad_shape_second, ValueError, ["parameter 1", "shape (4,)", "(3,)"]),
    (_bad_foreign_setting, ValueError, ["betas_typo", "another kind of optimizer"]),
    (_bad_entries, ValueError, ["parameter 1", "entries"]),
    (_bad_step, (ValueError, TypeError), ["parameter 0"]),
], ids=["betas", "lr", "shape", "foreign", "entries", "step"])
def test_a_refused_load_state_dict_changes_nothing(make, spoil, error, words):
    """Validate everything, then install: after the error the optimizer holds exactly
    what it held, and its next steps are those of an untouched twin."""
    if make is NESTEROV and spoil is _bad_betas:
        spoil, words = _bad_foreign_setting, ["betas_typo"]
    ps, opt = _trained(make)
    twin_ps, twin = _trained(make)
    before = opt.state_dict()
    incoming = opt.state_dict()
    incoming["param_groups"][0]["lr"] = 0.5                  # a valid change, refused too
    spoil(incoming)
    with pytest.raises(error) as e:
        opt.load_state_dict(incoming)
    for word in words:
        assert word in str(e.value), f"{word!r} missing from: {e.value}"
    _same_state(opt.state_dict(), before)
    assert opt.param_groups[0]["lr"] == before["param_groups"][0]["lr"]
    for _ in range(3):                                       # and it steps as before
        for p, q in zip(ps, twin_ps):
            p.grad = q.grad = minigan.tensor(np.sin(p.data))
        opt.step()
        twin.step()
    for p, q in zip(ps, twin_ps):
        np.testing.assert_array_equal(p.data, q.data)


def test_betas_of_one_and_a_half_are_refused_and_not_used():
    """The issue's case: a state with betas (1.5, 0.999) used to raise *after* installing
    them, and the next step() used them."""
    ps, opt = _trained(ADAM)
    sd = opt.state_dict()
    sd["param_groups"][0]["betas"] = [1.5, 0.999]
    with pytest.raises(ValueError, match=r"betas\[0\]"):
        opt.load_state_dict(sd)
    assert opt.param_groups[0]["betas"] == (0.5, 0.99)
    assert type(opt.param_groups[0]["betas"]) is tuple


def test_load_state_dict_refuses_what_is_not_a_state_dict():
    ps, opt = _trained(ADAM)
    with pytest.raises(ValueError, match="param_groups"):
        opt.load_state_dict({"state": {}})
    with pytest.raises(ValueError, match="parameter numbers"):
        opt.load_state_dict({"state": {"x": {}}, "param_groups": opt.state_dict()["param_groups"]})


# ------------------------------------------- step by step, without PyTorch
def _numpy_grads(ps, X):
    """The gradient of `_loss` by hand:  h = X a + b,  L = sum tanh(h)^2 + sum c^3 + 0.1 sum a^2."""
    a, b, c = ps
    u = np.tanh(X @ a + b)
    dh = 2 * u * (1 - u * u)
    return [X.T @ dh + 0.2 * a, dh.sum(axis=0), 3 * c * c]


def _numpy_optimizer(name, groups, ps, X, steps):
    """PyTorch's documented update rules, written out in NumPy, `steps` times.

    SGD:  g = grad + wd p;  buf = g (first step), else momentum buf + (1 - dampening) g;
          d = g + momentum buf (Nesterov) or buf (momentum) or g;   p -= lr d
    Adam: g = grad + wd p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
          m^ = m / (1 - b1^t);  v^ = v / (1 - b2^t);   p -= lr m^ / (sqrt(v^) + eps)
    """
    ps = [p.copy() for p in ps]
    state = [{} for _ in ps]
    for t in range(1, steps + 1):
        grads = _numpy_grads(ps, X)
        for idx, kw in groups:
            for i in idx:
                s, p = state[i], ps[i]
                g = grads[i] + kw.get("weight_decay", 0.0) * p
                if name == "SGD":
                    mom = kw.get("momentum", 0.0)
                    if mom:
                        s["buf"] = g.copy() if t == 1 else \
                            mom * s["buf"] + (1 - kw.get("dampening", 0.0)) * g
                        g = g + mom * s["buf"] if kw.get("nesterov") else s["buf"]
                    ps[i] = p - kw["lr"] * g
                else:
                    b1, b2 = kw.get("betas", (0.9, 0.999))
                    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
                    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
                    m_hat, v_hat = s["m"] / (1 - b1 ** t), s["v"] / (1 - b2 ** t)
                    ps[i] = p - kw.get("lr", 1e-3) * m_hat / (np.sqrt(v_hat) + kw.get("eps", 1e-8))
    return ps


def test_numpy_gradient_of_the_test_loss_is_right():
    """The hand gradient above is the one minigan's autograd computes (so the reference
    below differs from minigan only in the optimizer)."""
    ps, X = _problem()
    ts = [minigan.tensor(p, requires_grad=True) for p in ps]
    _loss(ts, minigan.tensor(X), "minigan").backward()
    for t, g in zip(ts, _numpy_grads(ps, X)):
        np.testing.assert_allclose(t.grad.numpy(), g, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("name,kw", VARIANTS, ids=[f"{n}-{'-'.join(k)}" for n, k in VARIANTS])
def test_ten_steps_agree_with_numpy_formulas(name, kw, device):
    """The same ten steps as the PyTorch comparison, against the formulas in NumPy."""
    ps, X = _problem()
    ours, _ = _run(lambda p: getattr(optim, name)(p, **kw), ps, X, 10, "minigan", device)
    ref = _numpy_optimizer(name, [(range(3), kw)], ps, X, 10)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert not np.allclose(ours[0], ps[0])


def test_parameter_groups_agree_with_numpy_formulas():
    ps, X = _problem()
    ours, _ = _run(lambda p: optim.SGD([{"params": p[:2]}, {"params": p[2:], "lr": 0.2,
                                                            "momentum": 0.0}],
                                       lr=0.05, momentum=0.9), ps, X, 10, "minigan")
    ref = _numpy_optimizer("SGD", [(range(2), dict(lr=0.05, momentum=0.9)),
                                   (range(2, 3), dict(lr=0.2))], ps, X, 10)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_first_steps_by_hand():
    """Two steps on one number with gradient 1, small enough to check on paper.

    Nesterov (lr 0.1, momentum 0.9): buf 1 then 1.9; steps 0.1 (1 + 0.9) = 0.19 and
    0.1 (1 + 0.9 * 1.9) = 0.271 (plain momentum would step 0.1 and 0.19).
    Adam (lr 0.1): the bias correction makes each early step exactly lr (up to eps).
    """
    def two_steps(opt, p):
        out = []
        for _ in range(2):
            p.grad = minigan.tensor(np.ones(1))
            opt.step()
            out.append(p.item())
        return out
    p = minigan.tensor(np.zeros(1), requires_grad=True)
    np.testing.assert_allclose(two_steps(optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True), p),
                               [-0.19, -0.19 - 0.271], rtol=1e-14)
    p = minigan.tensor(np.zeros(1), requires_grad=True)
    np.testing.assert_allclose(two_steps(optim.SGD([p], lr=0.1, momentum=0.9), p),
                               [-0.1, -0.1 - 0.19], rtol=1e-14)
    p = minigan.tensor(np.zeros(1), requires_grad=True)
    np.testing.assert_allclose(two_steps(optim.Adam([p], lr=0.1, betas=(0.5, 0.9)), p),
                               [-0.1, -0.2], rtol=1e-6)


def test_adams_cache_blocks_change_nothing_bit_for_bit(monkeypatch):
    # the update runs CACHE_BLOCK numbers at a time; any block size (one that does not
    # divide the layer included) gives the same parameters as one pass over the layer
    from minigan import nn
    x = minigan.tensor(np.random.default_rng(0).standard_normal((8, 700)).astype("float32"))
    out = []
    for block in (1000, 1 << 14, 1 << 30):
        monkeypatch.setattr(optim, "CACHE_BLOCK", block)
        minigan.manual_seed(0)
        layer = nn.Dense(700, 300)
        opt = optim.Adam(layer.parameters(), lr=1e-3)
        for _ in range(3):
            opt.zero_grad()
            (layer(x) ** 2).mean().backward()
            opt.step()
        out.append(layer.weight.numpy().copy())
    assert np.array_equal(out[0], out[2]) and np.array_equal(out[1], out[2])

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

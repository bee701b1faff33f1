"""The engine: the graph, backward(), grad(), grad mode, anomaly detection, and how
gradients add up (autograd.py, grad_mode.py, inplace_sums.py)."""
import sys
import warnings

import numpy as np
import pytest

import minigan
import minigan.functional as F
from conftest import needs_torch, HAVE_TORCH

if HAVE_TORCH:
    import torch


def t64(values, **kw):
    return minigan.tensor(np.asarray(values, dtype=np.float64), **kw)


# ------------------------------------------------------------------ graph and backward
def test_deep_chain_backward_has_no_recursion_limit():
    x = t64(1.0, requires_grad=True)
    y = x
    for _ in range(20_000):                       # 20,000 nodes, far past sys.getrecursionlimit()
        y = y * 1.0001
    assert 20_000 > sys.getrecursionlimit()
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 20_000, rel=1e-9)


def test_backward_twice_accumulates_into_leaf_grad():
    x = t64([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])
    y.backward()                                  # the graph is kept; gradients add up
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0, 12.0])
    x.zero_grad()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0, 3.0])


def test_shared_subexpression_gets_both_paths():
    x = t64(2.0, requires_grad=True)
    y = x * x                                     # used twice below
    (y * y + y).backward()                        # d/dx (x^4 + x^2) = 4x^3 + 2x
    assert x.grad.item() == pytest.approx(4 * 8 + 4)


def test_leaves_get_their_own_gradient_arrays():
    a, b = t64([1.0, 2.0], requires_grad=True), t64([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()                      # add passes one gradient to both inputs
    assert a.grad is not b.grad
    a.grad.data *= 0                              # in place, as gradient clipping does
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])


def test_broadcasting_is_undone_in_gradients():
    x = t64(np.ones((4, 3)), requires_grad=True)
    row = t64([1.0, 2.0, 3.0], requires_grad=True)          # (3,) -> (4, 3)
    col = t64(np.ones((4, 1)), requires_grad=True)          # (4, 1) -> (4, 3)
    s = t64(2.0, requires_grad=True)                        # () -> (4, 3)
    ((x * row + col) * s).sum().backward()
    assert row.grad.shape == (3,) and col.grad.shape == (4, 1) and s.grad.shape == ()
    np.testing.assert_allclose(row.grad.numpy(), [8.0, 8.0, 8.0])       # 4 rows * s
    np.testing.assert_allclose(col.grad.numpy(), np.full((4, 1), 6.0))  # 3 columns * s
    assert s.grad.item() == pytest.approx(4 * (1 + 2 + 3) + 12)


def test_no_grad_and_detach_record_nothing():
    x = t64([1.0, 2.0], requires_grad=True)
    with minigan.no_grad():
        y = x * 2
    assert not y.requires_grad and y.is_leaf
    assert minigan.is_grad_enabled()
    d = x.detach()
    assert not d.requires_grad and d.data is x.data          # same memory, no graph
    z = (x * d).sum()                                        # d is a constant here
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 2.0])
    with minigan.no_grad():
        with minigan.enable_grad():
            assert (x * 2).requires_grad


def test_backward_on_non_scalar_needs_a_gradient():
    x = t64([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"one-element.*shape \(2,\).*sum\(\)"):
        (x * 2).backward()
    (x * 2).backward(t64([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(t64([1.0, 1.0, 1.0]))


def test_backward_without_requires_grad_is_refused():
    with pytest.raises(RuntimeError, match="requires_grad"):
        t64([1.0]).sum().backward()


# ------------------------------------------------------------------ grad()
def test_grad_leaves_dot_grad_untouched():
    x = t64([1.0, 2.0], requires_grad=True)
    (gx,) = minigan.grad((x ** 2).sum(), x)
    assert x.grad is None
    np.testing.assert_allclose(gx.numpy(), [2.0, 4.0])
    assert not gx.requires_grad                    # create_graph=False: a plain result


def test_grad_create_graph_gives_second_derivative():
    x = t64(1.5, requires_grad=True)
    (g,) = minigan.grad(x ** 3, x, create_graph=True)       # 3 x^2
    assert g.requires_grad
    (h,) = minigan.grad(g, x, create_graph=True)            # 6 x
    (k,) = minigan.grad(h, x)                                # 6
    assert (g.item(), h.item(), k.item()) == pytest.approx((3 * 1.5 ** 2, 6 * 1.5, 6.0))
    assert x.grad is None


def test_grad_of_several_inputs_and_unused_input():
    x, y, z = (t64(v, requires_grad=True) for v in (2.0, 3.0, 1.0))
    gx, gy = minigan.grad(x * y, [x, y])
    assert (gx.item(), gy.item()) == (3.0, 2.0)
    with pytest.raises(RuntimeError, match="not used"):
        minigan.grad(x * y, [x, z])
    assert minigan.grad(x * y, [x, z], allow_unused=True)[1] is None


@needs_torch
def test_gradient_penalty_matches_torch():
    """WGAN-GP's (||dD/dx|| - 1)^2 differentiated with respect to D's parameters."""
    rng = np.random.default_rng(0)
    x, w1, b1, w2 = (rng.standard_normal(s) for s in [(8, 3), (5, 3), (5,), (1, 5)])

    def penalty(lib, x, w1, b1, w2):
        h = lib["act"](x @ w1.T + b1)
        d = (h @ w2.T).sum()
        (g,) = lib["grad"](d, x)
        norm = (g * g).sum(1) ** 0.5            # per-sample gradient norm
        return ((norm - 1.0) ** 2).mean()

    ours = {"act": F.tanh, "grad": lambda o, i: minigan.grad(o, i, create_graph=True)}
    theirs = {"act": torch.tanh,
              "grad": lambda o, i: torch.autograd.grad(o, i, create_graph=True)}
    mt = [t64(a, requires_grad=True) for a in (x, w1, b1, w2)]
    tt = [torch.tensor(a, requires_grad=True) for a in (x, w1, b1, w2)]
    p, tp = penalty(ours, *mt), penalty(theirs, *tt)
    assert p.item() == pytest.approx(tp.item(), rel=1e-12)
    p.backward()
    tp.backward()
    for m, t in zip(mt, tt):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ anomaly detection
@pytest.mark.parametrize("fn, name", [(F.sqrt, "sqrt"), (F.log, "log")])
def test_detect_anomaly_names_the_op(fn, name):
    x = t64([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)            # numpy's divide-by-zero
        y = fn(x).sum()
        with minigan.detect_anomaly():
            with pytest.raises(FloatingPointError, match=f"'{name}'"):
                y.backward()
        y.backward()                                               # without it: inf, no error
    assert not np.isfinite(x.grad.numpy()[0])


# ------------------------------------------------------------------ how gradients add up
def test_leaf_gradient_keeps_the_leafs_dtype():
    # PyTorch gives a leaf's gradient the leaf's dtype: a float32 weight used with
    # float64 data gets a float32 .grad, with the float64 value rounded once
    w = minigan.tensor(np.array([1.5, -2.0], np.float32), requires_grad=True)
    x = minigan.tensor(np.array([0.1, 0.3], np.float64))
    (w * x).sum().backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad.numpy(), np.array([0.1, 0.3], np.float32))
    (g,) = minigan.grad((w * x).sum(), w)          # grad() returns what reached w, as torch
    assert g.shape == w.shape


def test_gradients_accumulate_in_place_but_never_into_a_graph():
    # a plain gradient is added into in place (as PyTorch does); a gradient that is
    # part of a graph (create_graph=True) is replaced, never written into
    w = minigan.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    (w * w).sum().backward()
    first = w.grad
    (w * 3.0).sum().backward()
    assert w.grad is first
    np.testing.assert_allclose(first.data, [5.0, 7.0, 9.0])

    v = minigan.tensor(np.array([1.0, 2.0]), requires_grad=True)
    (v * v * v).sum().backward(create_graph=True)
    graph_grad = v.grad
    kept = graph_grad.data.copy()
    assert graph_grad.requires_grad
    (v * 2.0).sum().backward()
    np.testing.assert_array_equal(graph_grad.data, kept)        # untouched
    np.testing.assert_allclose(v.grad.data, 3 * np.array([1.0, 4.0]) + 2.0)

    # a .grad the user set (here one array shared by two tensors) is never written into
    a = minigan.tensor(np.array([1.0, 1.0]), requires_grad=True)
    b = minigan.tensor(np.array([2.0, 2.0]), requires_grad=True)
    shared = minigan.tensor(np.array([10.0, 10.0]))
    a.grad = b.grad = shared
    (a * 3.0).sum().backward()
    np.testing.assert_array_equal(shared.data, [10.0, 10.0])    # b's gradient unchanged
    np.testing.assert_allclose(a.grad.data, [13.0, 13.0])
    assert b.grad is shared


def test_a_gradient_shared_by_two_parents_is_never_summed_into_in_place():
    # add's backward hands the same gradient to both of its inputs; each input is
    # also used elsewhere, so each gets sums. Summing in place is only for sums the
    # sweep made itself: the shared gradient must stay as it was for the other one.
    rng = np.random.default_rng(3)
    c1, c2, c3, c4 = (minigan.tensor(rng.standard_normal(4)) for _ in range(4))
    x = minigan.tensor(rng.standard_normal(4), requires_grad=True)
    w = minigan.tensor(rng.standard_normal(4), requires_grad=True)
    loss = ((x + w) * c1).sum() + (x * c2).sum() + (w * c3).sum() + (x * c4).sum()
    loss.backward()
    np.testing.assert_allclose(x.grad.data, c1.data + c2.data + c4.data, rtol=1e-12)
    np.testing.assert_allclose(w.grad.data, c1.data + c3.data, rtol=1e-12)
    gx, gw = minigan.grad(loss, [x, w])
    np.testing.assert_allclose(gx.data, c1.data + c2.data + c4.data, rtol=1e-12)
    np.testing.assert_allclose(gw.data, c1.data + c3.data, rtol=1e-12)
    assert x.grad.data is not w.grad.data

"""Instance norm (F.instance_norm, nn.InstanceNorm2d): batch norm's formula with each
sample's own statistics, computed by the same fused node (ops/norm.py: _normalize).

Random configurations against PyTorch are in test_ops_torch.py and test_nn.py (and
against tests/reference.py's loop in test_ops_numpy.py and test_nn.py); gradcheck
and gradgradcheck of the op in test_ops_gradcheck.py. Here: the formula by hand,
what "per sample" means, the layer against torch's over several configurations,
the second derivative, and the errors.
"""
import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import nn
from conftest import needs_torch
import reference as R


def _t(a, grad=True, device="cpu"):
    return minigan.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, device=device)


def test_formula_by_hand():
    # one sample, two channels: [1, 3, 5, 7] has mean 4 and biased variance 5;
    # [2, 2, 2, 4] has mean 2.5 and variance 0.75
    x = _t([[[[1, 3], [5, 7]], [[2, 2], [2, 4]]]])
    y = F.instance_norm(x, eps=0.0)
    np.testing.assert_allclose(y.numpy()[0, 0], (np.array([[1, 3], [5, 7]]) - 4) / np.sqrt(5))
    np.testing.assert_allclose(y.numpy()[0, 1], (np.array([[2, 2], [2, 4]]) - 2.5) / np.sqrt(0.75))
    w, b = _t([2.0, -1.0]), _t([0.5, 3.0])
    z = F.instance_norm(x, weight=w, bias=b, eps=0.0)
    np.testing.assert_allclose(z.numpy()[0, 0], y.numpy()[0, 0] * 2 + 0.5)
    np.testing.assert_allclose(z.numpy()[0, 1], -y.numpy()[0, 1] + 3)
    z.sum().backward()
    # dL/dbias = sum g, dL/dweight = sum g xhat (= 0: xhat sums to 0), dL/dx = 0 for g = 1
    np.testing.assert_allclose(b.grad.numpy(), [4, 4])
    np.testing.assert_allclose(w.grad.numpy(), [0, 0], atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), 0, atol=1e-12)


def test_each_sample_is_normalized_on_its_own(device):
    """Unlike batch norm, a sample's output does not change with its batch mates, and
    one sample's loss sends no gradient to another."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 2, 4, 4))
    b = a.copy()
    b[1:] = rng.standard_normal((2, 2, 4, 4)) * 5 + 3            # other batch mates
    ya = F.instance_norm(_t(a, device=device)).numpy()
    yb = F.instance_norm(_t(b, device=device)).numpy()
    np.testing.assert_allclose(ya[0], yb[0], rtol=1e-12)
    x = _t(a, device=device)
    (F.instance_norm(x)[0] ** 3).sum().backward()
    assert np.abs(x.grad.numpy()[0]).max() > 1e-3
    np.testing.assert_array_equal(x.grad.numpy()[1:], 0)
    out = F.instance_norm(_t(a, device=device)).numpy()            # mean 0, variance ~1
    np.testing.assert_allclose(out.mean(axis=(2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(2, 3)), 1, atol=1e-4)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 2, 3, 3), (4, 1, 2, 7)])
@pytest.mark.parametrize("affine", [True, False])
def test_agrees_with_the_numpy_loop(shape, affine, device):
    rng = np.random.default_rng(sum(shape))
    x, g = rng.standard_normal(shape) * 3 + 1, rng.standard_normal(shape)
    w, b = rng.uniform(0.5, 2, shape[1]), rng.standard_normal(shape[1])
    xs = [_t(x, device=device)] + ([_t(w, device=device), _t(b, device=device)] if affine else [])
    y = F.instance_norm(xs[0], weight=xs[1] if affine else None,
                        bias=xs[2] if affine else None, eps=1e-3)
    y.backward(_t(g, grad=False, device=device))
    ry, rdx, rdw, rdb = R.instance_norm(x, w if affine else None, b if affine else None, 1e-3,
                                        g=g)
    np.testing.assert_allclose(y.numpy(), ry, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xs[0].grad.numpy(), rdx, rtol=1e-9, atol=1e-12)
    if affine:
        np.testing.assert_allclose(xs[1].grad.numpy(), rdw, rtol=1e-10)
        np.testing.assert_allclose(xs[2].grad.numpy(), rdb, rtol=1e-10)


CONFIGS = [dict(num_features=3), dict(num_features=2, affine=True),
           dict(num_features=4, eps=1e-3, affine=True), dict(num_features=1, eps=0.1)]


@needs_torch
@pytest.mark.parametrize("kw", CONFIGS, ids=lambda kw: str(sorted(kw.items())))
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 1e-4)],
                         ids=["float64", "float32"])
def test_layer_agrees_with_torch_in_train_and_eval(kw, dtype, tol, device, torch_one_thread):
    import torch
    rng = np.random.default_rng(kw["num_features"])
    ours = nn.InstanceNorm2d(**kw).to(device, dtype)
    theirs = torch.nn.InstanceNorm2d(**kw).to(torch.float64 if dtype == np.float64
                                               else torch.float32)
    if ours.affine:
        w, b = rng.uniform(0.5, 1.5, (2, kw["num_features"])).astype(dtype)
        ours.weight.data[...] = minigan.tensor(w, device=device).data
        ours.bias.data[...] = minigan.tensor(b, device=device).data
        with torch.no_grad():
            theirs.weight.copy_(torch.from_numpy(w))
            theirs.bias.copy_(torch.from_numpy(b))
    for mode in (True, False):                      # the same either way, as in torch
        ours.train(mode)
        theirs.train(mode)
        shape = (int(rng.integers(1, 4)), kw["num_features"], int(rng.integers(2, 6)),
                 int(rng.integers(2, 6)))
        x = (rng.standard_normal(shape) * 4 + 2).astype(dtype)
        g = rng.standard_normal(shape).astype(dtype)
        xm, xt = minigan.tensor(x, requires_grad=True, device=device), \
            torch.tensor(x, requires_grad=True)
        ours.zero_grad()
        theirs.zero_grad()
        ym, yt = ours(xm), theirs(xt)
        ym.backward(minigan.tensor(g, device=device))
        yt.backward(torch.tensor(g))
        assert ym.dtype == dtype
        pairs = [(ym, yt.detach()), (xm.grad, xt.grad)]
        if ours.affine:
            pairs += [(ours.weight.grad, theirs.weight.grad), (ours.bias.grad, theirs.bias.grad)]
        for k, (m, t) in enumerate(pairs):
            t = t.numpy().astype(np.float64)
            err = np.abs(m.numpy() - t).max() / max(np.abs(t).max(), 1e-30)
            assert err < tol, f"comparison {k} (output, dx, dweight, dbias), train={mode}: {err}"


@pytest.mark.parametrize("affine", [True, False])
def test_gradcheck_and_gradgradcheck(affine, device):
    rng = np.random.default_rng(5)
    x = _t(rng.standard_normal((2, 3, 3, 2)), device=device)
    w, b = _t(rng.uniform(0.5, 2, 3), device=device), _t(rng.standard_normal(3), device=device)
    if affine:
        fn, inputs = (lambda x, w, b: F.instance_norm(x, weight=w, bias=b)), (x, w, b)
    else:
        fn, inputs = (lambda x: F.instance_norm(x, eps=1e-3)), (x,)
    assert minigan.gradcheck(fn, inputs)
    assert minigan.gradgradcheck(fn, inputs)


def test_second_derivative_is_not_the_first_order_shortcut():
    """With create_graph the fused backward is rebuilt from x (the helper batch norm
    uses too): the gradient of sum((dL/dx)^2) must change with x."""
    rng = np.random.default_rng(2)
    x, w = _t(rng.standard_normal((2, 2, 2, 3))), _t(rng.uniform(0.5, 2, 2))
    g = _t(rng.standard_normal((2, 2, 2, 3)), grad=False)
    (gx,) = minigan.grad(F.instance_norm(x, weight=w), x, g, create_graph=True)
    ggx, ggw = minigan.grad((gx * gx).sum(), [x, w])
    assert np.abs(ggx.numpy()).max() > 1e-3 and np.abs(ggw.numpy()).max() > 1e-3


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.instance_norm(_t(np.zeros((4, 3)))), ValueError,
     ["instance_norm: the input must be (N, C, H, W)", "(4, 3)"]),
    (lambda: F.instance_norm(_t(np.zeros((2, 3, 4, 4))), weight=_t(np.ones(2))), ValueError,
     ["instance_norm: weight must have shape (3,)", "got (2,)"]),
    (lambda: F.instance_norm(_t(np.zeros((2, 3, 1, 1)))), ValueError,
     ["more than one pixel per channel", "(2, 3, 1, 1)"]),
    (lambda: F.instance_norm(_t(np.zeros((2, 3, 4, 4))), _t(np.zeros(3)), _t(np.ones(3))),
     NotImplementedError, ["running statistics are not supported"]),
    (lambda: F.instance_norm(_t(np.zeros((2, 3, 4, 4))), use_input_stats=False),
     NotImplementedError, ["use_input_stats True"]),
    (lambda: F.instance_norm(np.zeros((2, 3, 4, 4))), TypeError,
     ["instance_norm: x must be a minigan Tensor"]),
], ids=["2d", "weight", "one-pixel", "running", "use_input_stats", "array"])
def test_errors_speak_to_a_student(call, error, words):
    with pytest.raises(error) as e:
        call()
    for word in words:
        assert word in str(e.value), f"{word!r} missing from: {e.value}"

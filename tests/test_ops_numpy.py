"""What test_ops_torch checks, without PyTorch (a classroom installs only what the
README says): forward values against NumPy formulas, gradients at ties and kinks
by PyTorch's conventions written out by hand, and broadcasting gradients against
a NumPy reference. Away from ties, gradients are test_ops_gradcheck's business:
a forward that matches NumPy and a backward that matches finite differences of
that forward leave no room for a wrong derivative.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minigan
import minigan.functional as F
import reference as R


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


MASK = np.array([[True, False, True, False], [False, True, True, True], [True, False, False, True]])
LABELS = np.array([2, 0, 2, 1, 0, 2])          # class indices for (6, 3) logits


def _log_softmax(a, axis=-1):
    """log(e^a / sum e^a), written out naively (the inputs here are small)."""
    return np.log(np.exp(a) / np.exp(a).sum(axis=axis, keepdims=True))


def _labels(x):
    return minigan.tensor(LABELS, device=x.device)

# (name, minigan function, NumPy function, input shapes); inputs are in [0.5, 2] with a
# random sign, or positive where the function needs it ("+" after the shape)
FORWARD = [
    ("add", lambda a, b: a + b, np.add, [(2, 3, 4), (4,)]),
    ("sub", lambda a, b: a - b, np.subtract, [(3, 1), (1, 4)]),
    ("mul", lambda a, b: a * b, np.multiply, [(), (2, 3)]),
    ("div", lambda a, b: a / b, np.divide, [(3, 4), (3, 4)]),
    ("pow", lambda a, b: a ** b, np.power, [((3, 4), "+"), (3, 4)]),
    ("maximum", F.maximum, np.maximum, [(3, 4), (4,)]),
    ("minimum", F.minimum, np.minimum, [(3, 4), (4,)]),
    ("neg", lambda a: -a, np.negative, [(3, 4)]),
    ("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, [(3, 4)]),
    ("rpow_scalar", lambda a: 1.5 ** a, lambda a: 1.5 ** a, [(3, 4)]),
    ("rdiv_scalar", lambda a: 2.0 / a, lambda a: 2.0 / a, [(3, 4)]),
    ("exp", F.exp, np.exp, [(3, 4)]),
    ("log", F.log, np.log, [((3, 4), "+")]),
    ("sqrt", F.sqrt, np.sqrt, [((3, 4), "+")]),
    ("abs", F.abs, np.abs, [(3, 4)]),
    ("clip", lambda a: F.clip(a, -1.0, 1.0), lambda a: np.clip(a, -1.0, 1.0), [(4, 5)]),
    ("where", lambda a, b: F.where(MASK, a, b), lambda a, b: np.where(MASK, a, b),
     [(3, 4), (1, 4)]),
    ("relu", F.relu, lambda a: np.maximum(a, 0), [(4, 5)]),
    ("leaky_relu", lambda a: F.leaky_relu(a, 0.2), lambda a: np.where(a > 0, a, 0.2 * a),
     [(4, 5)]),
    ("leaky_relu_default", F.leaky_relu, lambda a: np.where(a > 0, a, 0.01 * a), [(4, 5)]),
    ("tanh", F.tanh, np.tanh, [(4, 5)]),
    ("sigmoid", lambda a: F.sigmoid(a * 20), lambda a: _sig(a * 20), [(4, 5)]),
    ("softplus", lambda a: F.softplus(a * 10), lambda a: _softplus(a * 10), [(4, 5)]),
    ("softplus_beta", lambda a: F.softplus(a * 10, beta=2.0, threshold=5.0),
     lambda a: _softplus(a * 10, 2.0, 5.0), [(4, 5)]),
    ("log_sigmoid", lambda a: F.log_sigmoid(a * 30), lambda a: -_softplus(-a * 30, 1.0, 1e9),
     [(4, 5)]),
    ("sum", lambda a: a.sum(axis=(0, 2)), lambda a: a.sum(axis=(0, 2)), [(2, 3, 4)]),
    ("mean", lambda a: a.mean(dim=-1, keepdim=True), lambda a: a.mean(axis=-1, keepdims=True),
     [(2, 3, 4)]),
    ("mean_all", lambda a: a.mean(), np.mean, [(2, 3, 4)]),
    ("var", lambda a: a.var(axis=1), lambda a: a.var(axis=1), [(2, 3, 4)]),
    ("var_unbiased", lambda a: a.var(axis=(1, 2), correction=1),
     lambda a: a.var(axis=(1, 2), ddof=1), [(2, 3, 4)]),
    ("max", lambda a: a.max(axis=0), lambda a: a.max(axis=0), [(2, 3, 4)]),
    ("reshape", lambda a: a.reshape(4, -1), lambda a: a.reshape(4, -1), [(2, 3, 4)]),
    ("transpose", lambda a: a.transpose(0, 2), lambda a: a.swapaxes(0, 2), [(2, 3, 4)]),
    ("permute", lambda a: a.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1), [(2, 3, 4)]),
    ("broadcast_to", lambda a: a.broadcast_to(2, 3, 4), lambda a: np.broadcast_to(a, (2, 3, 4)),
     [(3, 1)]),
    ("concat", lambda a, b: F.concat([a, b, a], axis=1),
     lambda a, b: np.concatenate([a, b, a], axis=1), [(2, 3), (2, 2)]),
    ("stack", lambda a, b: F.stack([a, b], dim=-1), lambda a, b: np.stack([a, b], axis=-1),
     [(2, 3), (2, 3)]),
    ("pad", lambda a: F.pad(a, (1, 2, 2, 0), value=-1.0),       # last axis first, as in torch
     lambda a: np.pad(a, ((0, 0), (2, 0), (1, 2)), constant_values=-1.0), [(2, 3, 4)]),
    ("concat_channels_nchw", lambda a, b: F.concat([a, b], axis=1),
     lambda a, b: np.concatenate([a, b], axis=1), [(2, 3, 2, 2), (2, 1, 2, 2)]),
    ("instance_norm", lambda x: F.instance_norm(x), lambda x: R.instance_norm(x), [(2, 3, 4, 5)]),
    ("instance_norm_affine", lambda x, w, b: F.instance_norm(x, weight=w, bias=b, eps=0.1),
     lambda x, w, b: R.instance_norm(x, w, b, eps=0.1), [(3, 2, 3, 3), (2,), (2,)]),
    ("interpolate", lambda x: F.interpolate(x, scale_factor=2), lambda x: R.upsample_nearest(x, 2),
     [(2, 3, 3, 4)]),
    ("interpolate_3x1", lambda x: F.interpolate(x, scale_factor=(3, 1)),
     lambda x: R.upsample_nearest(x, (3, 1)), [(1, 2, 2, 3)]),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 2), lambda x: R.avg_pool2d(x, 2), [(2, 3, 6, 5)]),
    ("avg_pool2d_padded", lambda x: F.avg_pool2d(x, 3, 2, 1), lambda x: R.avg_pool2d(x, 3, 2, 1),
     [(2, 3, 7, 6)]),
    ("avg_pool2d_3x2", lambda x: F.avg_pool2d(x, (3, 2), (1, 2), (1, 0)),
     lambda x: R.avg_pool2d(x, (3, 2), (1, 2), (1, 0)), [(1, 2, 5, 5)]),
    ("index", lambda a: a[np.array([0, 1, 1]), np.array([3, 3, 0])],
     lambda a: a[np.array([0, 1, 1]), np.array([3, 3, 0])], [(3, 4)]),
    ("index_mask", lambda a: a[MASK], lambda a: a[MASK], [(3, 4)]),
    ("matmul", lambda a, b: a @ b, np.matmul, [(2, 1, 5, 7), (3, 7, 4)]),
    ("linear", F.linear, lambda x, w, b: x @ w.T + b, [(6, 5), (4, 5), (4,)]),
    ("bce_logits", lambda x, t: F.binary_cross_entropy_with_logits(x * 5, t, reduction="none"),
     lambda x, t: -(t * np.log(_sig(x * 5)) + (1 - t) * np.log(1 - _sig(x * 5))),
     [(6, 3), ((6, 3), "p")]),
    ("mse", lambda x, y: F.mse_loss(x, y), lambda x, y: np.mean((x - y) ** 2), [(6, 3), (6, 3)]),
    ("log_softmax", lambda a: F.log_softmax(a * 5), lambda a: _log_softmax(a * 5), [(4, 5)]),
    ("log_softmax_dim0", lambda a: F.log_softmax(a, dim=0), lambda a: _log_softmax(a, 0),
     [(2, 3, 4)]),
    ("softmax", lambda a: F.softmax(a * 5), lambda a: np.exp(a * 5) / np.exp(a * 5).sum(
        axis=-1, keepdims=True), [(4, 5)]),
    ("softmax_axis1", lambda a: F.softmax(a, 1), lambda a: np.exp(a) / np.exp(a).sum(
        axis=1, keepdims=True), [(2, 3, 4)]),
    ("cross_entropy", lambda x: F.cross_entropy(x * 5, _labels(x)),
     lambda x: -np.mean(_log_softmax(x * 5)[np.arange(6), LABELS]), [(6, 3)]),
    ("cross_entropy_sum", lambda x: F.cross_entropy(x, _labels(x), reduction="sum"),
     lambda x: -np.sum(np.log(np.exp(x[np.arange(6), LABELS]) / np.exp(x).sum(axis=1))),
     [(6, 3)]),
    ("cross_entropy_none", lambda x: F.cross_entropy(x, _labels(x), reduction="none"),
     lambda x: np.log(np.exp(x).sum(axis=1)) - x[np.arange(6), LABELS], [(6, 3)]),
    ("nll_loss", lambda x: F.nll_loss(x, _labels(x)), lambda x: -np.mean(x[np.arange(6), LABELS]),
     [(6, 3)]),
    ("nll_loss_none", lambda x: F.nll_loss(x, _labels(x), reduction="none"),
     lambda x: -x[np.arange(6), LABELS], [(6, 3)]),
]


def _input(spec, rng):
    shape, kind = spec if isinstance(spec[0] if spec else None, tuple) else (spec, "")
    if kind == "p":
        return rng.uniform(0.0, 1.0, shape)
    v = rng.uniform(0.5, 2.0, shape)
    return v if kind == "+" else v * rng.choice([-1.0, 1.0], shape)


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 1e-5)])
@pytest.mark.parametrize("name,ours,theirs,specs", FORWARD, ids=[c[0] for c in FORWARD])
def test_forward_matches_numpy(name, ours, theirs, specs, dtype, tol, device):
    rng = np.random.default_rng(0)
    arrays = [_input(s, rng) for s in specs]
    y = ours(*[minigan.tensor(a.astype(dtype), device=device) for a in arrays])
    want = np.asarray(theirs(*arrays))
    assert y.dtype == np.dtype(dtype) and y.shape == want.shape
    np.testing.assert_allclose(y.numpy(), want, rtol=tol, atol=tol)


# ------------------------------------------- gradients at ties, kinks and clips
def _grad(fn, *values):
    xs = [minigan.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in values]
    fn(*xs).sum().backward()
    return [x.grad.numpy() for x in xs]


def test_gradients_at_ties_and_kinks_follow_torch():
    """PyTorch's choices where a derivative does not exist:
    relu'(0) = 0; leaky_relu'(0) = negative_slope; |x|'(0) = 0; clamp passes the
    gradient at its bounds (inclusive); maximum/minimum split a tie in half;
    amax splits it evenly among all the tied maxima."""
    x = [-1.0, 0.0, 2.0]
    np.testing.assert_array_equal(_grad(F.relu, x)[0], [0, 0, 1])
    np.testing.assert_array_equal(_grad(lambda a: F.leaky_relu(a, 0.2), x)[0], [0.2, 0.2, 1])
    np.testing.assert_array_equal(_grad(F.abs, x)[0], [-1, 0, 1])
    np.testing.assert_array_equal(_grad(lambda a: F.clip(a, -1.0, 1.0), [-2.0, -1.0, 0.5, 1.0,
                                                                         3.0])[0], [0, 1, 1, 1, 0])
    ga, gb = _grad(F.maximum, [1.0, 2.0, 3.0], [1.0, 5.0, 0.0])
    np.testing.assert_array_equal(ga, [0.5, 0, 1])
    np.testing.assert_array_equal(gb, [0.5, 1, 0])
    ga, gb = _grad(F.minimum, [1.0, 2.0, 3.0], [1.0, 5.0, 0.0])
    np.testing.assert_array_equal(ga, [0.5, 1, 0])
    np.testing.assert_array_equal(gb, [0.5, 0, 1])
    (g,) = _grad(lambda a: a.max(axis=1), [[1.0, 3.0, 3.0, 3.0], [2.0, 0.0, 2.0, -1.0]])
    np.testing.assert_allclose(g, [[0, 1 / 3, 1 / 3, 1 / 3], [0.5, 0, 0.5, 0]], rtol=1e-15)
    (g,) = _grad(lambda a: a.max(), [[1.0, 3.0], [3.0, 0.0]])
    np.testing.assert_array_equal(g, [[0, 0.5], [0.5, 0]])


def test_dropout_scales_survivors_by_one_over_keep():
    """Inverted dropout: y = mask x / (1 - p); dy/dx = mask / (1 - p)."""
    x = minigan.tensor(np.full((100, 100), 2.0), requires_grad=True)
    y = F.dropout(x, 0.25, training=True)
    kept = y.numpy() != 0
    np.testing.assert_allclose(y.numpy()[kept], 2.0 / 0.75, rtol=1e-15)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.75, rtol=1e-15)
    assert abs(kept.mean() - 0.75) < 0.02


def test_gradient_penalty_of_a_tanh_layer_by_hand():
    """d/dw of (dD/dx)^2 for D(x) = v tanh(w x), one input: dD/dx = v w (1 - t^2) with
    t = tanh(w x), so the penalty P = (v w (1 - t^2))^2 has
    dP/dv = 2 P / v  and  dP/dw = 2 v w (1 - t^2) * v [(1 - t^2) - 2 w x t (1 - t^2)]."""
    x0, w0, v0 = 0.7, 1.3, -0.8
    x = minigan.tensor(np.array([x0]), requires_grad=True)
    w = minigan.tensor(np.array([w0]), requires_grad=True)
    v = minigan.tensor(np.array([v0]), requires_grad=True)
    d = (v * F.tanh(w * x)).sum()
    (gx,) = minigan.grad(d, x, create_graph=True)
    pen = (gx * gx).sum()
    gw, gv = minigan.grad(pen, [w, v])
    t = np.tanh(w0 * x0)
    s = 1 - t * t
    dd = v0 * w0 * s
    assert pen.item() == pytest.approx(dd ** 2, rel=1e-13)
    assert gv.item() == pytest.approx(2 * dd ** 2 / v0, rel=1e-12)
    assert gw.item() == pytest.approx(2 * dd * v0 * (s - 2 * w0 * x0 * t * s), rel=1e-12)


# --------------------------------------------- broadcasting, against NumPy
BINARY = {  # name: (minigan op, NumPy value, NumPy d/da, NumPy d/db), elementwise
    "add": (lambda a, b: a + b, np.add, lambda a, b: np.ones_like(a * b),
            lambda a, b: np.ones_like(a * b)),
    "mul": (lambda a, b: a * b, np.multiply, lambda a, b: b + 0 * a, lambda a, b: a + 0 * b),
    "div": (lambda a, b: a / (b * b + 0.5), lambda a, b: a / (b * b + 0.5),
            lambda a, b: 1 / (b * b + 0.5) + 0 * a,
            lambda a, b: -a * 2 * b / (b * b + 0.5) ** 2),
    "pow": (lambda a, b: (a * a + 0.5) ** b, lambda a, b: (a * a + 0.5) ** b,
            lambda a, b: b * (a * a + 0.5) ** (b - 1) * 2 * a,
            lambda a, b: (a * a + 0.5) ** b * np.log(a * a + 0.5)),
    "maximum": (F.maximum, np.maximum, lambda a, b: (a > b) + 0.5 * (a == b),
                lambda a, b: (b > a) + 0.5 * (a == b)),
}


@settings(max_examples=40, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       op=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2 ** 31))
def test_random_broadcast_shapes_match_numpy(shapes, op, seed):
    """Any two broadcastable shapes (0-d and size-one axes included): the value is NumPy's
    and each input's gradient is the elementwise derivative summed back to its shape."""
    ours, value, da, db = BINARY[op]
    rng = np.random.default_rng(seed)
    a, b = (rng.standard_normal(s) for s in shapes.input_shapes)
    xa, xb = minigan.tensor(a, requires_grad=True), minigan.tensor(b, requires_grad=True)
    y = ours(xa, xb)
    assert y.shape == shapes.result_shape
    np.testing.assert_allclose(y.numpy(), value(a, b), rtol=1e-12, atol=1e-14)
    g = rng.standard_normal(shapes.result_shape)
    y.backward(minigan.tensor(g))
    assert xa.grad.shape == a.shape and xb.grad.shape == b.shape
    np.testing.assert_allclose(xa.grad.numpy(), R.unbroadcast(g * da(a, b), a.shape),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xb.grad.numpy(), R.unbroadcast(g * db(a, b), b.shape),
                               rtol=1e-10, atol=1e-12)


def test_unbroadcast_by_hand():
    """(2, 3) + (3,) and (2, 1) + (2, 3): each gradient sums over the stretched axes."""
    a = minigan.tensor(np.zeros((2, 1)), requires_grad=True)
    b = minigan.tensor(np.zeros(3), requires_grad=True)
    c = minigan.tensor(np.zeros(()), requires_grad=True)
    g = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])
    (a + b + c).backward(minigan.tensor(g))
    np.testing.assert_array_equal(a.grad.numpy(), [[6.0], [60.0]])
    np.testing.assert_array_equal(b.grad.numpy(), [11.0, 22.0, 33.0])
    assert c.grad.numpy() == 66.0


# --------------------------------------- softmax and cross-entropy, by hand
def _softmax(a, axis=-1):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _onehot(t, c):
    return np.eye(c)[t]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_and_cross_entropy_are_finite_and_exact_at_huge_logits(dtype, device):
    """Logits of +-1e4: e^(1e4) overflows, so a naive softmax gives inf/inf = nan. Shifted by
    the row's max, every exponent is <= 0 and the results are exact."""
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, -1e4]], dtype)
    t = np.array([1, 2, 0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        lsm = F.log_softmax(minigan.tensor(x, device=device))
        sm = F.softmax(minigan.tensor(x, device=device), dim=1)
        xs = minigan.tensor(x, requires_grad=True, device=device)
        per = F.cross_entropy(xs, minigan.tensor(t, device=device), reduction="none")
        loss = F.cross_entropy(xs, minigan.tensor(t, device=device))
        loss.backward()
    log2 = np.log(np.array(2.0, dtype))
    np.testing.assert_array_equal(lsm.numpy(), np.array(
        [[0, -2e4, -1e4], [-2e4, -2e4, 0], [-log2, -log2, -2e4 - log2]], dtype))
    np.testing.assert_array_equal(sm.numpy(), np.array([[1, 0, 0], [0, 0, 1], [.5, .5, 0]], dtype))
    np.testing.assert_array_equal(per.numpy(), np.array([2e4, 0, log2], dtype))
    assert loss.dtype == np.dtype(dtype)
    assert loss.item() == pytest.approx((2e4 + float(log2)) / 3, rel=1e-6)
    # (softmax - onehot) / N, with softmax exactly [1, 0, 0], [0, 0, 1], [.5, .5, 0]
    np.testing.assert_allclose(xs.grad.numpy(), np.array(
        [[1, -1, 0], [0, 0, 0], [-0.5, 0.5, 0]]) / 3, rtol=1e-6, atol=0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gradient_is_softmax_minus_onehot(reduction, device):
    """dl/dx = (softmax(x) - onehot(t)) / N for the mean; without the 1/N for the sum;
    row n scaled by the upstream g_n for 'none'."""
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((6, 3)) * 3
    x = minigan.tensor(x0, requires_grad=True, device=device)
    loss = F.cross_entropy(x, _labels(x), reduction=reduction)
    if reduction == "none":
        g = rng.standard_normal(6)
        loss.backward(minigan.tensor(g, device=device))
        scale = g[:, None]
    else:
        loss.backward()
        scale = 1 / 6 if reduction == "mean" else 1.0
    np.testing.assert_allclose(x.grad.numpy(), scale * (_softmax(x0) - _onehot(LABELS, 3)),
                               rtol=1e-12, atol=1e-15)
    # cross_entropy is nll_loss of log_softmax, value and gradient
    x2 = minigan.tensor(x0, requires_grad=True, device=device)
    loss2 = F.nll_loss(F.log_softmax(x2, dim=1), _labels(x2), reduction=reduction)
    np.testing.assert_allclose(loss2.numpy(), loss.numpy(), rtol=1e-12)
    loss2.backward(minigan.tensor(g, device=device) if reduction == "none" else None)
    np.testing.assert_allclose(x2.grad.numpy(), x.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_log_softmax_and_softmax_gradients_by_hand():
    """log_softmax: dL/dx = g - softmax * sum(g);  softmax: dL/dx = p (g - sum(g p))."""
    rng = np.random.default_rng(1)
    x0, g = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    for axis in (0, 1):
        p = _softmax(x0, axis)
        x = minigan.tensor(x0, requires_grad=True)
        F.log_softmax(x, axis).backward(minigan.tensor(g))
        np.testing.assert_allclose(x.grad.numpy(), g - p * g.sum(axis=axis, keepdims=True),
                                   rtol=1e-12, atol=1e-15)
        x = minigan.tensor(x0, requires_grad=True)
        y = F.softmax(x, dim=axis)
        np.testing.assert_allclose(y.numpy().sum(axis=axis), 1.0, rtol=1e-15)
        y.backward(minigan.tensor(g))
        np.testing.assert_allclose(x.grad.numpy(), p * (g - (g * p).sum(axis=axis, keepdims=True)),
                                   rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss], ids=["cross_entropy", "nll_loss"])
def test_class_index_losses_refuse_bad_targets(loss):
    """Each mistake is named: the dtype, the shapes, an index outside [0, C)."""
    x = minigan.tensor(np.zeros((4, 3)))
    name = loss.__name__
    with pytest.raises(TypeError, match=rf"{name}: the target must be integer class indices.*"
                                        r"float64"):
        loss(x, minigan.tensor(np.array([0.0, 1.0, 2.0, 1.0])))
    with pytest.raises(TypeError, match="integer class indices"):             # one-hot rows
        loss(x, minigan.tensor(np.eye(3)[[0, 1, 2, 1]]))
    with pytest.raises(TypeError, match="integer class indices"):             # a bool mask
        loss(x, minigan.tensor(np.array([True, False, True, True])))
    with pytest.raises(ValueError, match=r"must have shape \(4,\).*shape \(4, 1\)"):
        loss(x, minigan.tensor(np.array([[0], [1], [2], [1]])))
    with pytest.raises(ValueError, match=r"must have shape \(4,\).*shape \(3,\)"):
        loss(x, minigan.tensor(np.array([0, 1, 2])))
    with pytest.raises(ValueError, match=r"input must have shape \(N, C\).*\(3,\)"):
        loss(minigan.tensor(np.zeros(3)), minigan.tensor(np.array(1)))
    with pytest.raises(ValueError, match=r"\(N, C\).*\(2, 2, 3\)"):
        loss(minigan.tensor(np.zeros((2, 2, 3))), minigan.tensor(np.array([0, 1])))
    with pytest.raises(ValueError, match=r"in \[0, 3\) for 3 classes.*holds 3"):
        loss(x, minigan.tensor(np.array([0, 3, 1, 2])))
    with pytest.raises(ValueError, match=r"in \[0, 3\).*holds -1 \(a negative index"):
        loss(x, minigan.tensor(np.array([0, -1, 1, 2], np.int32)))
    with pytest.raises(ValueError, match="reduction must be"):
        loss(x, minigan.tensor(np.array([0, 1, 2, 1])), reduction="avg")


def test_class_index_targets_of_either_int_width_agree():
    x = minigan.tensor(np.random.default_rng(2).standard_normal((4, 3)))
    t = np.array([2, 0, 2, 1])
    for loss in (F.cross_entropy, F.nll_loss):
        a = loss(x, minigan.tensor(t.astype(np.int64))).item()
        assert loss(x, minigan.tensor(t.astype(np.int32))).item() == a
        assert loss(x, t.astype(np.int32)).item() == a               # a bare array works too


def test_softmax_axis_arguments():
    x = minigan.tensor(np.zeros((2, 3)))
    for fn in (F.log_softmax, F.softmax):
        assert fn(x, dim=0).shape == (2, 3)
        with pytest.raises(TypeError, match="either axis= or dim="):
            fn(x, 0, dim=1)
        with pytest.raises(IndexError, match="axis 2 is out of range"):
            fn(x, 2)
    assert F.log_softmax(minigan.tensor(np.array(3.0))).item() == 0.0    # 0-d, as torch
    assert F.softmax(minigan.tensor(np.array(3.0))).item() == 1.0


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss], ids=["cross_entropy", "nll_loss"])
def test_class_index_loss_of_an_empty_batch_is_nan_as_in_torch(loss):
    x = minigan.tensor(np.zeros((0, 3), np.float32), requires_grad=True)
    t = minigan.tensor(np.zeros(0, np.int64))
    mean = loss(x, t)
    assert mean.dtype == np.float32 and np.isnan(mean.item())
    mean.backward()
    assert x.grad.shape == (0, 3)
    assert loss(x, t, reduction="sum").item() == 0.0
    assert loss(x, t, reduction="none").shape == (0,)

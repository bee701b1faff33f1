"""Resizing by whole pixels (ops/pool.py): nearest upsampling, the sum pool that is its
backward, average pooling, and the U-Net skip (concat along the channels).

Random configurations against PyTorch live in test_ops_torch.py and test_nn.py, the
same against NumPy loops (tests/reference.py) in test_ops_numpy.py and test_nn.py,
gradcheck and gradgradcheck in test_ops_gradcheck.py. Here: small examples by hand,
the pairing of upsample and sum pool (each one's backward is the other), backwards
that are differentiated again in a gradient penalty, and the errors.
"""
import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan.ops import pool as P
from conftest import needs_torch


def _t(a, grad=True, device="cpu"):
    return minigan.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, device=device)


# ------------------------------------------------------------ by hand
def test_upsample_repeats_each_pixel_and_its_backward_sums_each_block(device):
    x = _t([[[[1, 2], [3, 4]]]], device=device)
    y = F.interpolate(x, scale_factor=2)
    np.testing.assert_array_equal(y.numpy()[0, 0], [[1, 1, 2, 2], [1, 1, 2, 2],
                                                     [3, 3, 4, 4], [3, 3, 4, 4]])
    g = np.arange(16.0).reshape(1, 1, 4, 4)
    y.backward(_t(g, grad=False, device=device))
    # dx[h, w] = the sum of g over the 2 x 2 block of the copies of x[h, w]
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0 + 1 + 4 + 5, 2 + 3 + 6 + 7],
                                                         [8 + 9 + 12 + 13, 10 + 11 + 14 + 15]])


def test_avg_pool2d_by_hand_counts_the_zero_padding(device):
    x = _t(np.arange(1.0, 10.0).reshape(1, 1, 3, 3), device=device)
    y = F.avg_pool2d(x, 2)                             # stride = kernel: one window, the row
    np.testing.assert_array_equal(y.numpy(), [[[[(1 + 2 + 4 + 5) / 4]]]])  # and column 3 dropped
    z = F.avg_pool2d(x, 3, stride=2, padding=1)        # windows centred on the corners
    # the top-left window holds 1, 2, 4, 5 and five zeros of padding: mean over all 9
    np.testing.assert_allclose(z.numpy()[0, 0], [[12 / 9, 16 / 9], [24 / 9, 28 / 9]])
    z.sum().backward()
    # each pixel gets 1/9 from every window it lies in: the centre lies in all four
    np.testing.assert_allclose(x.grad.numpy()[0, 0], np.array([[1, 2, 1], [2, 4, 2],
                                                               [1, 2, 1]]) / 9)


def test_interpolate_by_size_and_float_scale_equal_the_integer_scale():
    x = _t(np.random.default_rng(0).standard_normal((2, 3, 2, 3)), grad=False)
    want = F.interpolate(x, scale_factor=(2, 3)).numpy()
    np.testing.assert_array_equal(F.interpolate(x, size=(4, 9)).numpy(), want)
    np.testing.assert_array_equal(F.upsample(x, scale_factor=(2.0, 3)).numpy(), want)
    same = F.interpolate(x, scale_factor=1)
    assert same.shape == x.shape and same.data is not x.data
    same.data[...] = 0                                  # its own, writable memory
    assert np.abs(x.numpy()).sum() > 0


# ------------------------------------------------------------ the pair
def test_upsample_and_sum_pool_are_each_others_transpose_and_backward():
    """sum(upsample(a) * b) == sum(a * sum_pool(b)) for any a, b; with create_graph the
    gradient of one is a node of the other, and back again (as conv2d and
    conv_transpose2d are in ops/conv.py)."""
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3, 3, 4)), rng.standard_normal((2, 3, 6, 12))
    up = P._upsample(_t(a, grad=False), 2, 3).numpy()
    pooled = P._sum_pool(_t(b, grad=False), 2, 3).numpy()
    assert np.isclose((up * b).sum(), (a * pooled).sum(), rtol=1e-12)
    x = _t(a)
    (gx,) = minigan.grad(F.interpolate(x, scale_factor=(2, 3)), x, _t(b), create_graph=True)
    assert gx._op == "sum_pool"
    np.testing.assert_allclose(gx.numpy(), pooled, rtol=1e-12)
    u = _t(b)
    (gu,) = minigan.grad(P._sum_pool(u, 2, 3), u, _t(a), create_graph=True)
    assert gu._op == "upsample_nearest"
    np.testing.assert_allclose(gu.numpy(), up, rtol=1e-12)


def test_avg_pool2d_backward_is_a_transposed_convolution():
    rng = np.random.default_rng(2)
    x = _t(rng.standard_normal((2, 3, 6, 5)))
    g = _t(rng.standard_normal((2, 3, 3, 3)))          # a g with a graph: the backward records
    (gx,) = minigan.grad(F.avg_pool2d(x, 3, 2, 1), x, g, create_graph=True)
    assert gx.shape == x.shape
    ops, node = [], gx
    while node._parents:                     # reshape back to NCHW, behind it the conv
        ops.append(node._op)
        node = node._parents[0]
    assert "conv_transpose2d" in ops and node is g, ops


@pytest.mark.parametrize("fn, shape", [
    (lambda x: F.interpolate(x, scale_factor=2), (1, 2, 2, 3)),
    (lambda x: F.interpolate(x, scale_factor=(1, 3)), (2, 1, 2, 2)),
    (lambda x: F.avg_pool2d(x, 2), (1, 2, 4, 4)),
    (lambda x: F.avg_pool2d(x, 3, 2, 1), (1, 2, 5, 4)),
    (lambda x: F.concat([x, x * 2.0], axis=1), (2, 2, 2, 2)),
], ids=["upsample", "upsample_1x3", "avg_pool", "avg_pool_padded", "concat_channels"])
def test_the_backward_is_itself_differentiable_in_g(fn, shape, device):
    """For a linear op gradgradcheck only sees zeros; what a penalty differentiates is
    the backward as a function of the incoming gradient g: g -> dL/dx = J^T g, whose own
    derivative (J, the op again) must come out right."""
    rng = np.random.default_rng(3)
    x = _t(rng.standard_normal(shape), device=device)
    g = _t(rng.standard_normal(fn(x).shape), device=device)

    def vjp(g):
        with minigan.enable_grad():        # the numerical side calls this in no_grad
            (gx,) = minigan.grad(fn(x), x, g, create_graph=True)
            return gx
    assert minigan.gradcheck(vjp, (g,))
    assert minigan.gradgradcheck(vjp, (g,))


def _critic_penalty(lib, fn, x, w1, w2, w3):
    """WGAN-GP's (||dD/dx|| - 1)^2 for a tiny U-Net-like critic: conv, instance norm,
    avg-pool down, upsample back, a skip joined along the channels, conv."""
    h = fn.leaky_relu(fn.instance_norm(fn.conv2d(x, w1, padding=1)), 0.2)
    down = fn.avg_pool2d(h, 2)
    up = fn.interpolate(fn.tanh(down), scale_factor=2)
    cat = lib.cat([up, h], 1) if lib is not minigan else F.concat([up, h], axis=1)
    d = (fn.conv2d(cat, w2) * w3).sum()
    if lib is minigan:
        (gx,) = minigan.grad(d, x, create_graph=True)
        return (((gx * gx).sum(axis=(1, 2, 3)) ** 0.5 - 1) ** 2).mean()
    (gx,) = lib.autograd.grad(d, x, create_graph=True)
    return (((gx * gx).sum(dim=(1, 2, 3)) ** 0.5 - 1) ** 2).mean()


def _penalty_arrays():
    rng = np.random.default_rng(4)
    return [rng.standard_normal(s) for s in ((2, 1, 4, 4), (2, 1, 3, 3), (1, 4, 3, 3),
                                             (1, 1, 2, 2))]


def test_gradient_penalty_through_the_new_layers_gradcheck():
    """The penalty's weight gradients are second derivatives through the backward of
    instance norm, avg_pool2d, upsample and concat: finite differences agree."""
    x, *ws = _penalty_arrays()
    xt = minigan.tensor(x)

    def penalty(*ws):
        with minigan.enable_grad():
            xi = xt.detach()
            xi.requires_grad = True
            return _critic_penalty(minigan, F, xi, *ws)
    assert minigan.gradcheck(penalty, [_t(w) for w in ws])


@needs_torch
def test_gradient_penalty_through_the_new_layers_agrees_with_torch(torch_one_thread):
    import torch
    arrays = _penalty_arrays()
    mt = [_t(a) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    mp = _critic_penalty(minigan, F, *mt)
    tp = _critic_penalty(torch, torch.nn.functional, *tt)
    mp.backward()
    tp.backward()
    np.testing.assert_allclose(mp.item(), tp.item(), rtol=1e-12)
    for m, t in zip(mt, tt):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------ errors
X = minigan.tensor(np.zeros((2, 3, 4, 4)))


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.interpolate(X, scale_factor=1.5), ValueError,
     ["interpolate: scale_factor must be a positive whole number", "got 1.5"]),
    (lambda: F.interpolate(X, scale_factor=(2, 0)), ValueError, ["got 0"]),
    (lambda: F.interpolate(X, scale_factor=True), ValueError, ["got True"]),
    (lambda: F.interpolate(X, scale_factor=(2, 2, 2)), ValueError, ["(h, w) pair"]),
    (lambda: F.interpolate(X, scale_factor=2, mode="bilinear"), NotImplementedError,
     ["only mode='nearest'", "'bilinear'"]),
    (lambda: F.interpolate(X), ValueError, ["either size or scale_factor"]),
    (lambda: F.interpolate(X, size=8, scale_factor=2), ValueError, ["either size or scale"]),
    (lambda: F.interpolate(X, size=(6, 8)), ValueError,
     ["size (6, 8) is not a whole multiple", "(4, 4)"]),
    (lambda: F.interpolate(X, scale_factor=2, align_corners=True), ValueError,
     ["align_corners"]),
    (lambda: F.interpolate(minigan.tensor(np.zeros((3, 4, 4))), scale_factor=2), ValueError,
     ["interpolate: the input must be 4-D (N, C, H, W), got shape (3, 4, 4)"]),
    (lambda: F.interpolate(np.zeros((1, 1, 2, 2)), scale_factor=2), TypeError,
     ["interpolate: x must be a minigan Tensor"]),
    (lambda: F.avg_pool2d(X, 5), ValueError,
     ["avg_pool2d: the kernel (5, 5) is larger than the input padded to (4, 4)",
      "(2, 3, 4, 4)"]),
    (lambda: F.avg_pool2d(X, (2, 3), padding=(1, 2)), ValueError,
     ["padding (1, 2) must be at most half of the kernel size (2, 3)", "the width"]),
    (lambda: F.avg_pool2d(X, 2, stride=0), ValueError, ["avg_pool2d: stride must be at least 1"]),
    (lambda: F.avg_pool2d(X, 2, count_include_pad=False), NotImplementedError,
     ["count_include_pad=True"]),
    (lambda: F.avg_pool2d(X, 2, divisor_override=3), NotImplementedError, ["divisor_override"]),
    (lambda: F.avg_pool2d(minigan.tensor(np.zeros((4, 4))), 2), ValueError,
     ["avg_pool2d: the input must be 4-D"]),
], ids=["fraction", "zero", "bool", "three", "bilinear", "neither", "both", "size", "corners",
        "3d", "array", "pool-large", "pool-padding", "pool-stride", "pool-pad-count",
        "pool-divisor", "pool-2d"])
def test_errors_speak_to_a_student(call, error, words):
    with pytest.raises(error) as e:
        call()
    for word in words:
        assert word in str(e.value), f"{word!r} missing from: {e.value}"

"""conv2d and conv_transpose2d: agreement with PyTorch on random configurations,
numerical gradient checks (first and second order), and the errors a student sees."""
import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan.ops import conv as C
from conftest import needs_torch
import reference as R

N_CASES = 60



def _case(index, transposed):
    """One random configuration, the same on every run (seeded by its index)."""
    rng = np.random.default_rng(1000 * transposed + index)
    while True:
        k = tuple(int(v) for v in rng.integers(1, 6, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        p = tuple(int(v) for v in rng.integers(0, 3, 2))
        d = tuple(int(v) for v in rng.integers(1, 3, 2))
        n, cin, cout = (int(v) for v in rng.integers(1, 4, 3))
        hw = tuple(int(v) for v in rng.integers(1, 10, 2))
        bias = bool(rng.integers(0, 2))
        if transposed:
            op = tuple(int(rng.integers(0, max(si, di))) for si, di in zip(s, d))
            out = [C.conv_transpose_output_size(*a) for a in zip(hw, k, s, p, op, d)]
            if min(out) >= 1:
                return dict(x=(n, cin) + hw, w=(cin, cout) + k, bias=bias, stride=s, padding=p,
                            output_padding=op, dilation=d)
        elif all(h + 2 * pi >= di * (ki - 1) + 1 for h, ki, pi, di in zip(hw, k, p, d)):
            # int arguments where both sides agree, pairs otherwise: both forms get used
            args = [a[0] if a[0] == a[1] and index % 2 else a for a in (s, p, d)]
            return dict(x=(n, cin) + hw, w=(cout, cin) + k, bias=bias, stride=args[0],
                        padding=args[1], dilation=args[2])


def _run_both(cfg, transposed, dtype, device):
    """Forward and backward of the same configuration in minigan and in torch."""
    import torch
    rng = np.random.default_rng(7)
    x = rng.standard_normal(cfg["x"]).astype(dtype)
    w = rng.standard_normal(cfg["w"]).astype(dtype)
    b = rng.standard_normal(cfg["w"][1 if transposed else 0]).astype(dtype)
    kwargs = {k: v for k, v in cfg.items() if k not in ("x", "w", "bias")}
    mx, mw, mb = (minigan.tensor(a, requires_grad=True, device=device) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    if not cfg["bias"]:
        mb = tb = None
    mf = F.conv_transpose2d if transposed else F.conv2d
    tf = torch.nn.functional.conv_transpose2d if transposed else torch.nn.functional.conv2d
    ty = tf(tx, tw, tb, **kwargs)
    my = mf(mx, mw, mb, **kwargs)
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    ty.backward(torch.tensor(g))
    my.backward(minigan.tensor(g, device=device))
    pairs = [("output", my, ty), ("d input", mx.grad, tx.grad), ("d weight", mw.grad, tw.grad)]
    if cfg["bias"]:
        pairs.append(("d bias", mb.grad, tb.grad))
    return pairs


def _rel_err(mine, ref):
    ref = ref.detach().numpy()
    mine = mine.numpy()
    assert mine.shape == ref.shape
    return float(np.abs(mine - ref).max() / max(np.abs(ref).max(), 1e-30))


@needs_torch
@pytest.mark.parametrize("transposed", [False, True], ids=["conv2d", "conv_transpose2d"])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 1e-4)],
                         ids=["float64", "float32"])
def test_agrees_with_torch_on_random_configurations(transposed, dtype, tol, device,
                                                    torch_one_thread):
    """Forward, input, weight and bias gradients on N_CASES random configurations."""
    for i in range(N_CASES):
        cfg = _case(i, transposed)
        for what, mine, ref in _run_both(cfg, transposed, dtype, device):
            err = _rel_err(mine, ref)
            assert mine.dtype == dtype, f"case {i} {cfg}: {what} is {mine.dtype}"
            assert err < tol, f"case {i} {cfg}: {what} relative error {err:.3g} >= {tol:g}"


def _run_numpy(cfg, transposed, device):
    """The configuration in minigan (float64) and in the NumPy reference (tests/reference.py)."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal(cfg["x"])
    w = rng.standard_normal(cfg["w"])
    b = rng.standard_normal(cfg["w"][1 if transposed else 0]) if cfg["bias"] else None
    kwargs = {k: v for k, v in cfg.items() if k not in ("x", "w", "bias")}
    mx, mw = (minigan.tensor(a, requires_grad=True, device=device) for a in (x, w))
    mb = None if b is None else minigan.tensor(b, requires_grad=True, device=device)
    y = (F.conv_transpose2d if transposed else F.conv2d)(mx, mw, mb, **kwargs)
    g = rng.standard_normal(y.shape)
    y.backward(minigan.tensor(g, device=device))
    ry, rdx, rdw, rdb = (R.conv_transpose2d if transposed else R.conv2d)(x, w, b, g=g, **kwargs)
    pairs = [("output", y, ry), ("d input", mx.grad, rdx), ("d weight", mw.grad, rdw)]
    if b is not None:
        pairs.append(("d bias", mb.grad, rdb))
    return pairs


@pytest.mark.parametrize("transposed", [False, True], ids=["conv2d", "conv_transpose2d"])
def test_agrees_with_numpy_reference_on_random_configurations(transposed, device):
    """The same N_CASES configurations as the PyTorch comparison, without PyTorch: forward,
    input, weight and bias gradients against a tap-by-tap NumPy loop."""
    for i in range(N_CASES):
        cfg = _case(i, transposed)
        for what, mine, ref in _run_numpy(cfg, transposed, device):
            assert mine.shape == ref.shape, f"case {i} {cfg}: {what} shape {mine.shape}"
            err = np.abs(mine.numpy() - ref).max() / max(np.abs(ref).max(), 1e-30)
            assert err < 1e-10, f"case {i} {cfg}: {what} relative error {err:.3g}"


def test_output_sizes_by_the_formulas():
    """conv: floor((H + 2p - d(k - 1) - 1) / s) + 1;
    transposed: (H - 1) s - 2p + d(k - 1) + op + 1."""
    assert C.conv_output_size(28, 4, 2, 1, 1) == 14            # DCGAN's discriminator
    assert C.conv_output_size(7, 3, 2, 1, 1) == 4 == C.conv_output_size(8, 3, 2, 1, 1)
    assert C.conv_output_size(10, 3, 3, 0, 2) == 2             # (10 - 4 - 1) // 3 + 1
    assert C.conv_transpose_output_size(7, 4, 2, 1, 0, 1) == 14
    assert C.conv_transpose_output_size(4, 3, 2, 1, 0, 1) == 7
    assert C.conv_transpose_output_size(4, 3, 2, 1, 1, 1) == 8   # output_padding adds one
    assert C.conv_transpose_output_size(3, 2, 3, 0, 2, 2) == 11  # 6 + 2 + 2 + 1
    x = minigan.tensor(np.ones((1, 1, 4, 4)))
    w = minigan.tensor(np.ones((1, 2, 3, 3)))
    assert F.conv_transpose2d(x, w, stride=2, padding=1).shape == (1, 2, 7, 7)
    assert F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1).shape == (1, 2, 8, 8)
    assert F.conv_transpose2d(x, w, stride=2, padding=1,
                              output_padding=(1, 0)).shape == (1, 2, 8, 7)
    # without padding, the extra row and column get the bias only (nothing lands there)
    y = F.conv_transpose2d(x, w, minigan.tensor(np.array([0.5, -1.0])), stride=2,
                           output_padding=1)
    assert y.shape == (1, 2, 10, 10)
    np.testing.assert_array_equal(y.numpy()[0, :, -1, :], [[0.5] * 10, [-1.0] * 10])
    np.testing.assert_array_equal(y.numpy()[0, :, :, -1], [[0.5] * 10, [-1.0] * 10])
    assert (y.numpy()[0, :, -2, :-1] != [[0.5], [-1.0]]).all()
    # conv2d with stride 2 maps both 7 and 8 back to 4; output_padding picks 8
    assert F.conv2d(minigan.tensor(np.ones((1, 2, 8, 8))), w, stride=2,
                    padding=1).shape == (1, 1, 4, 4)


def test_conv_transpose2d_scatters_the_kernel_by_hand():
    """Two input pixels, stride 2: each drops a copy of the kernel, 2 pixels apart, and
    the copies overlap in one column where they add up."""
    x = minigan.tensor(np.array([[[[1.0, 10.0]]]]))              # (1, 1, 1, 2)
    w = minigan.tensor(np.arange(1.0, 10.0).reshape(1, 1, 3, 3))
    y = F.conv_transpose2d(x, w, stride=2).numpy()[0, 0]
    k = np.arange(1.0, 10.0).reshape(3, 3)
    want = np.zeros((3, 5))
    want[:, 0:3] += k
    want[:, 2:5] += 10 * k
    np.testing.assert_array_equal(y, want)


def test_random_configurations_cover_the_space():
    """The random cases really span kernel 1..5, stride 1..3, padding 0..2, dilation 1..2."""
    seen = {k: set() for k in ("k", "s", "p", "d", "op", "bias")}
    for transposed in (False, True):
        for i in range(N_CASES):
            cfg = _case(i, transposed)
            seen["k"].update(cfg["w"][2:])
            for key, name in (("s", "stride"), ("p", "padding"), ("d", "dilation")):
                v = cfg[name]
                seen[key].update(v if isinstance(v, tuple) else (v,))
            seen["op"].update(cfg.get("output_padding", ()))
            seen["bias"].add(cfg["bias"])
    assert seen["k"] == {1, 2, 3, 4, 5} and seen["s"] == {1, 2, 3}
    assert seen["p"] == {0, 1, 2} and seen["d"] == {1, 2}
    assert seen["op"] == {0, 1, 2} and seen["bias"] == {False, True}


# ------------------------------------------------------------ known values
def test_conv2d_by_hand():
    """A 3x3 image and a 2x2 kernel of ones: every output is the sum of one window."""
    x = minigan.tensor(np.arange(9.0).reshape(1, 1, 3, 3))
    w = minigan.tensor(np.ones((1, 1, 2, 2)))
    y = F.conv2d(x, w)
    np.testing.assert_array_equal(y.numpy()[0, 0], [[0 + 1 + 3 + 4, 1 + 2 + 4 + 5],
                                                    [3 + 4 + 6 + 7, 4 + 5 + 7 + 8]])


def test_conv_transpose2d_is_the_transposed_matrix():
    """The lecture's picture: a 4x4 input, a 3x3 kernel, stride 1 give a 2x2 output
    through a 4x16 matrix C; the transposed convolution multiplies by C^T."""
    rng = np.random.default_rng(0)
    k = minigan.tensor(rng.standard_normal((1, 1, 3, 3)))
    # build C column by column: the response to each unit input image
    Cm = np.stack([F.conv2d(minigan.tensor(np.eye(16)[j].reshape(1, 1, 4, 4)), k).numpy().ravel()
                   for j in range(16)], axis=1)
    assert Cm.shape == (4, 16)
    small = rng.standard_normal(4)
    up = F.conv_transpose2d(minigan.tensor(small.reshape(1, 1, 2, 2)), k)
    assert up.shape == (1, 1, 4, 4)
    np.testing.assert_allclose(up.numpy().ravel(), Cm.T @ small, rtol=1e-12, atol=1e-12)


def test_dcgan_layer_shapes():
    z = minigan.tensor(np.zeros((2, 100, 1, 1), np.float32))
    h = F.conv_transpose2d(z, minigan.tensor(np.zeros((100, 256, 7, 7), np.float32)))
    assert h.shape == (2, 256, 7, 7)
    h = F.conv_transpose2d(h, minigan.tensor(np.zeros((256, 128, 4, 4), np.float32)), None, 2, 1)
    assert h.shape == (2, 128, 14, 14)
    img = F.conv_transpose2d(h, minigan.tensor(np.zeros((128, 1, 4, 4), np.float32)), None, 2, 1)
    assert img.shape == (2, 1, 28, 28) and img.dtype == np.float32
    d = F.conv2d(img, minigan.tensor(np.zeros((64, 1, 4, 4), np.float32)), stride=2, padding=1)
    assert d.shape == (2, 64, 14, 14)
    d = F.conv2d(d, minigan.tensor(np.zeros((128, 64, 4, 4), np.float32)), stride=2, padding=1)
    assert d.shape == (2, 128, 7, 7)


def test_unbatched_input():
    rng = np.random.default_rng(0)
    x = minigan.tensor(rng.standard_normal((2, 5, 6)))
    w = minigan.tensor(rng.standard_normal((3, 2, 3, 3)))
    y = F.conv2d(x, w, padding=1)
    assert y.shape == (3, 5, 6)
    batched = F.conv2d(x.reshape(1, 2, 5, 6), w, padding=1)
    np.testing.assert_array_equal(y.numpy(), batched.numpy()[0])
    assert F.conv_transpose2d(y, minigan.tensor(rng.standard_normal((3, 2, 3, 3))),
                              padding=1).shape == (2, 5, 6)


# --------------------------------------------------------- gradient checks
def _inputs(shapes, device, seed=0):
    rng = np.random.default_rng(seed)
    return [minigan.tensor(rng.standard_normal(s), requires_grad=True, device=device)
            for s in shapes]


CONV_SETTINGS = [
    dict(stride=1, padding=0, dilation=1),
    dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
]
CONVT_SETTINGS = [
    dict(stride=1, padding=0, output_padding=0, dilation=1),
    dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2), dilation=(1, 2)),
]


@pytest.mark.parametrize("kw", CONV_SETTINGS)
def test_conv2d_gradcheck_and_gradgradcheck(kw, device):
    x, w, b = _inputs([(2, 2, 5, 4), (3, 2, 3, 2), (3,)], device)
    assert minigan.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), (x, w, b))
    assert minigan.gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), (x, w, b))


@pytest.mark.parametrize("kw", CONVT_SETTINGS)
def test_conv_transpose2d_gradcheck_and_gradgradcheck(kw, device):
    x, w, b = _inputs([(2, 3, 3, 2), (3, 2, 2, 3), (2,)], device)
    assert minigan.gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw), (x, w, b))
    assert minigan.gradgradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw), (x, w, b))


def test_weight_gradient_op_gradcheck(device):
    """conv2d_weight (the weight gradient as an op) is itself checked, in both inputs."""
    geo = C.Geometry((2, 3), (2, 1), (1, 1), (1, 2), (5, 6), (3, 2))
    x, g = _inputs([(2, 2, 5, 6), (2, 3, 3, 2)], device)
    assert minigan.gradcheck(lambda x, g: C._conv2d_weight(x, g, geo), (x, g))


def test_each_backward_is_the_other_convolution():
    """d conv2d / dx is a conv_transpose2d node, d conv_transpose2d / dx a conv2d node,
    and both weight gradients are conv2d_weight nodes (visible with create_graph)."""
    x, w = _inputs([(1, 2, 6, 6), (3, 2, 3, 3)], "cpu")
    y = F.conv2d(x, w, stride=2, padding=1)
    gx, gw = minigan.grad(y.sum(), (x, w), create_graph=True)
    assert (gx._op, gw._op) == ("conv_transpose2d", "conv2d_weight")
    assert gx.shape == x.shape      # output_padding recovered the odd input size
    z, v = _inputs([(1, 3, 4, 4), (3, 2, 3, 3)], "cpu")
    u = F.conv_transpose2d(z, v, stride=2)
    gz, gv = minigan.grad(u.sum(), (z, v), create_graph=True)
    assert (gz._op, gv._op) == ("conv2d", "conv2d_weight")


@needs_torch
def test_gradient_penalty_through_a_conv_critic_agrees_with_torch(torch_one_thread):
    """WGAN-GP's penalty (||dD/dx|| - 1)^2 through conv -> leaky_relu -> conv_transpose
    -> sum, differentiated again with respect to the weights, matches torch."""
    import torch
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in ((2, 1, 6, 5), (4, 1, 3, 3), (4, 2, 2, 2))]

    def penalty(lib, fn, x, w1, w2):
        h = fn.leaky_relu(fn.conv2d(x, w1, stride=2, padding=1), 0.2)
        d = fn.conv_transpose2d(h, w2, stride=2).sum()
        (gx,) = lib.grad(d, x, create_graph=True) if lib is minigan else \
            lib.autograd.grad(d, x, create_graph=True)
        norm = (gx * gx).sum(axis=(1, 2, 3)) if lib is minigan else (gx * gx).sum(dim=(1, 2, 3))
        return ((norm ** 0.5 - 1) ** 2).mean()

    mt = [minigan.tensor(a, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    mp = penalty(minigan, F, *mt)
    tp = penalty(torch, torch.nn.functional, *tt)
    mp.backward()
    tp.backward()
    np.testing.assert_allclose(mp.item(), tp.item(), rtol=1e-12)
    for m, t in zip(mt[1:], tt[1:]):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_gradient_penalty_through_a_conv_critic_gradcheck():
    """The same penalty as the PyTorch comparison, checked by finite differences: the
    weight gradients of (||dD/dx|| - 1)^2, a second derivative through both convolutions."""
    rng = np.random.default_rng(3)
    x = minigan.tensor(rng.standard_normal((2, 1, 5, 4)))
    w1, w2 = (minigan.tensor(rng.standard_normal(s), requires_grad=True)
              for s in ((3, 1, 3, 3), (3, 2, 2, 2)))

    def penalty(w1, w2):
        with minigan.enable_grad():          # the numerical side calls this in no_grad
            xi = x.detach()
            xi.requires_grad = True
            h = F.leaky_relu(F.conv2d(xi, w1, stride=2, padding=1), 0.2)
            d = (F.conv_transpose2d(h, w2, stride=2) ** 2).sum()
            (gx,) = minigan.grad(d, xi, create_graph=True)
            return (((gx * gx).sum(axis=(1, 2, 3)) ** 0.5 - 1) ** 2).mean()
    assert minigan.gradcheck(penalty, (w1, w2))


# ------------------------------------------------------------------ errors
def _t(*shape, dtype=np.float32):
    return minigan.tensor(np.zeros(shape, dtype))


@pytest.mark.parametrize("call,words", [
    (lambda: F.conv2d(_t(2, 3, 8, 8), _t(4, 1, 3, 3)),
     ["conv2d", "3 channels", "(2, 3, 8, 8)", "expects 1", "(4, 1, 3, 3)"]),
    (lambda: F.conv_transpose2d(_t(2, 3, 8, 8), _t(4, 3, 3, 3)),
     ["conv_transpose2d", "3 channels", "expects 4", "(in_channels, out_channels, kh, kw)"]),
    (lambda: F.conv2d(_t(1, 1, 3, 5), _t(1, 1, 4, 2)),
     ["conv2d", "too small", "(3, 5)", "(4, 2)"]),
    (lambda: F.conv2d(_t(1, 1, 5, 5), _t(1, 1, 3, 3), dilation=3),
     ["too small", "spans (7, 7)"]),
    (lambda: F.conv_transpose2d(_t(1, 1, 3, 3), _t(1, 1, 3, 3), stride=2, output_padding=2),
     ["output_padding", "smaller than either the stride", "dilation"]),
    (lambda: F.conv_transpose2d(_t(1, 1, 3, 3), _t(1, 1, 3, 3), output_padding=1),
     ["output_padding"]),
    (lambda: F.conv2d(_t(1, 2, 5, 5), _t(3, 2, 3, 3), _t(2)),
     ["bias", "(3,)", "(2,)"]),
    (lambda: F.conv2d(_t(5, 5), _t(1, 1, 3, 3)), ["4-D", "(5, 5)"]),
    (lambda: F.conv2d(_t(1, 1, 5, 5), _t(1, 1, 3)), ["weight", "4-D", "(1, 1, 3)"]),
    (lambda: F.conv2d(_t(1, 1, 5, 5), _t(1, 1, 3, 3), stride=0), ["stride", "at least 1"]),
    (lambda: F.conv2d(_t(1, 1, 5, 5), _t(1, 1, 3, 3), padding=-1), ["padding", "at least 0"]),
    (lambda: F.conv2d(_t(1, 1, 5, 5), _t(1, 1, 3, 3), padding="same"), ["padding", "'same'"]),
    (lambda: F.conv2d(_t(1, 1, 5, 5), _t(1, 1, 3, 3), stride=1.5), ["stride", "pair of ints"]),
    (lambda: F.conv2d(_t(1, 1, 5, 5), _t(1, 1, 3, 3), stride=(1, 2, 1)), ["stride", "(1, 2, 1)"]),
    (lambda: F.conv_transpose2d(_t(1, 1, 1, 1), _t(1, 1, 2, 2), padding=1), ["output size"]),
])
def test_shape_errors_speak_to_a_student(call, words):
    with pytest.raises(ValueError) as e:
        call()
    for word in words:
        assert word in str(e.value), f"{word!r} missing from: {e.value}"


def test_the_layers_read_their_sizes_as_the_functions_do():
    # one normaliser (ops.conv.int_pair) for F.conv2d's and the layers' arguments:
    # an int means a square, a pair is taken as given, and a bad size is refused
    # by the layer's constructor, named, before any forward pass
    from minigan import nn
    from minigan.ops.conv import int_pair
    assert int_pair(4, "kernel_size", "Conv2d") == (4, 4)
    assert int_pair([3, np.int64(5)], "stride", "conv2d", 1) == (3, 5)
    layer = nn.ConvTranspose2d(2, 3, (4, 3), stride=2, padding=(1, 0), output_padding=1)
    assert (layer.kernel_size, layer.stride, layer.padding, layer.output_padding) == \
        ((4, 3), (2, 2), (1, 0), (1, 1))
    for make, words in [(lambda: nn.Conv2d(1, 1, 3, stride=0), ["Conv2d", "stride", "at least 1"]),
                        (lambda: nn.Conv2d(1, 1, 0), ["Conv2d", "kernel_size", "at least 1"]),
                        (lambda: nn.ConvTranspose2d(1, 1, 3, padding=(1, "a")),
                         ["ConvTranspose2d", "padding", "pair of ints"])]:
        with pytest.raises(ValueError) as e:
            make()
        for word in words:
            assert word in str(e.value), f"{word!r} missing from: {e.value}"


def test_refuses_groups_and_mixed_dtypes():
    with pytest.raises(NotImplementedError, match="groups=2"):
        F.conv2d(_t(1, 2, 5, 5), _t(2, 1, 3, 3), groups=2)
    with pytest.raises(NotImplementedError, match="groups=2"):
        F.conv_transpose2d(_t(1, 2, 5, 5), _t(2, 1, 3, 3), groups=2)
    with pytest.raises(TypeError, match="float64 but the weight is float32"):
        F.conv2d(_t(1, 1, 5, 5, dtype=np.float64), _t(1, 1, 3, 3))
    with pytest.raises(TypeError, match="bias is float64 but the weight is float32"):
        F.conv_transpose2d(_t(1, 1, 5, 5), _t(1, 1, 3, 3), _t(1, dtype=np.float64))


# --------------------------------------------------------- memory layout
def _channels_first_memory(a):
    """Does the (N, C, H, W) array lie in memory as (C, H, W, N), the GEMM's order?"""
    return a.transpose(1, 2, 3, 0).flags.c_contiguous


def test_outputs_stay_channels_first_and_gradients_follow_their_inputs():
    # a convolution's output is a view of its GEMM result (no copy to NCHW); the
    # activation after it keeps that memory order, the next convolution takes it
    # without a copy, and each input gradient comes back laid out like its input
    rng = np.random.default_rng(5)
    x = minigan.tensor(rng.standard_normal((4, 3, 8, 8)).astype(np.float32), requires_grad=True)
    w1 = minigan.tensor(rng.standard_normal((5, 3, 4, 4)).astype(np.float32), requires_grad=True)
    w2 = minigan.tensor(rng.standard_normal((5, 2, 4, 4)).astype(np.float32), requires_grad=True)
    h = F.leaky_relu(F.conv2d(x, w1, stride=2, padding=1), 0.2)            # (4, 5, 4, 4)
    y = F.conv_transpose2d(h, w2, stride=2, padding=1)                      # (4, 2, 8, 8)
    assert _channels_first_memory(h.data) and not h.data.flags.c_contiguous
    assert not y.data.flags.c_contiguous          # a view of col2im's padded sums
    flat = y.reshape(4, -1)                       # a Dense after it: the reshape copies
    loss = (flat * minigan.tensor(rng.standard_normal(flat.shape).astype(np.float32))).sum()
    gx, gh = minigan.grad(loss, [x, h])
    assert gx.data.flags.c_contiguous             # plain NCHW input: plain NCHW gradient
    assert _channels_first_memory(gh.data)        # channels-first input: channels-first
    # the values are what the plain layout gives
    xd, w1d, w2d = (np.ascontiguousarray(t.data) for t in (x, w1, w2))
    ref = F.conv_transpose2d(F.leaky_relu(F.conv2d(minigan.tensor(xd), minigan.tensor(w1d),
                                                   stride=2, padding=1), 0.2),
                             minigan.tensor(w2d), stride=2, padding=1)
    np.testing.assert_array_equal(y.data, ref.data)


def test_a_reshape_gradient_takes_its_inputs_memory_order():
    from minigan.ops.layout import memory_order
    rng = np.random.default_rng(6)
    base = rng.standard_normal((3, 5, 5, 4)).astype(np.float32)
    x = minigan.tensor(base, requires_grad=True)
    t = x.permute(3, 0, 1, 2)                      # (4, 3, 5, 5), channels-first memory
    g = rng.standard_normal((4, 75)).astype(np.float32)
    gt, gx = minigan.grad((t.reshape(4, 75) * minigan.tensor(g)).sum(), [t, x])
    assert memory_order(gt.data) == memory_order(t.data) == [1, 2, 3, 0]
    np.testing.assert_array_equal(gt.data, g.reshape(4, 3, 5, 5))
    np.testing.assert_array_equal(gx.data, g.reshape(4, 3, 5, 5).transpose(1, 2, 3, 0))

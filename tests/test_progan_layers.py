"""ProGAN's pieces (Karras et al. 2018): pixel norm (F.pixel_norm, nn.PixelNorm), the
minibatch standard deviation (F.minibatch_stddev, nn.MinibatchStdDev) and the
equalized learning rate (nn.EqualizedConv2d, nn.EqualizedDense).

gradcheck and gradgradcheck of the two functions are in test_ops_gradcheck.py, of
the four layers in test_nn.py; pixel norm against the same formula in torch in
test_ops_torch.py. Here: the formulas by hand, the NumPy loops of tests/reference.py,
the paper's own grouping (against a transcription of the official PyTorch code),
the equalized layers against the plain layers with weight c w, and the errors.
"""
import math

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import nn
from conftest import needs_torch
import reference as R


def _t(a, grad=True, device="cpu"):
    return minigan.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, device=device)


# ------------------------------------------------------------------ pixel norm
def test_pixel_norm_by_hand(device):
    # one pixel with features (3, 4): mean square (9 + 16) / 2 = 12.5
    x = _t([[[[3.0]], [[4.0]]]], device=device)
    y = F.pixel_norm(x, eps=0.0)
    np.testing.assert_allclose(y.numpy().ravel(), np.array([3, 4]) / np.sqrt(12.5), rtol=1e-15)
    # a batch of latent vectors (N, C): each row to unit mean square, whatever its scale
    z = np.random.default_rng(0).standard_normal((5, 8))
    out = F.pixel_norm(_t(z * 7.0, device=device)).numpy()
    np.testing.assert_allclose((out ** 2).mean(axis=1), 1.0, rtol=1e-8)     # eps = 1e-8
    np.testing.assert_allclose(out, F.pixel_norm(_t(z, device=device)).numpy(), rtol=1e-7)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (5, 7), (1, 1, 2, 2), (3, 4, 1, 3)])
def test_pixel_norm_agrees_with_the_numpy_loop(shape, device):
    rng = np.random.default_rng(sum(shape))
    x, g = rng.standard_normal(shape) * 2, rng.standard_normal(shape)
    xt = _t(x, device=device)
    y = F.pixel_norm(xt, eps=1e-3)
    y.backward(_t(g, grad=False, device=device))
    ry, rdx = R.pixel_norm(x, 1e-3, g=g)
    np.testing.assert_allclose(y.numpy(), ry, rtol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), rdx, rtol=1e-10, atol=1e-13)


def test_pixel_norm_layer_is_the_function_and_has_no_parameters():
    x = _t(np.random.default_rng(1).standard_normal((2, 3, 4, 4)), grad=False)
    layer = nn.PixelNorm(eps=1e-4)
    np.testing.assert_array_equal(layer(x).numpy(), F.pixel_norm(x, 1e-4).numpy())
    assert list(layer.parameters()) == [] and repr(layer) == "PixelNorm(eps=0.0001)"
    layer.eval()                                         # no statistics: the same in eval
    np.testing.assert_array_equal(layer(x).numpy(), F.pixel_norm(x, 1e-4).numpy())


# ----------------------------------------------------- minibatch standard deviation
def test_identical_images_give_a_zero_extra_map(device):
    """No variety in a group: the standard deviation is 0 (exactly, with eps = 0; with
    the paper's eps = 1e-8 inside the root it is sqrt(1e-8) = 1e-4, and the gradient
    stays finite)."""
    image = np.random.default_rng(2).standard_normal((3, 4, 5))
    x = _t(np.stack([image] * 8), device=device)
    y = F.minibatch_stddev(x, group_size=4, eps=0.0)
    assert y.shape == (8, 4, 4, 5)
    np.testing.assert_array_equal(y.numpy()[:, :3], x.numpy())        # the input, unchanged
    np.testing.assert_array_equal(y.numpy()[:, 3], 0.0)
    z = F.minibatch_stddev(x)
    np.testing.assert_allclose(z.numpy()[:, 3], 1e-4, rtol=1e-6)
    z.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    np.testing.assert_array_equal(x.grad.numpy(), 1.0)    # deviations 0: only the copy counts


def test_minibatch_stddev_by_hand_and_the_papers_grouping(device):
    # one feature, one pixel: two samples a, b have biased std |a - b| / 2
    y = F.minibatch_stddev(_t([[[[1.0]]], [[[4.0]]]], device=device), group_size=2, eps=0.0)
    np.testing.assert_allclose(y.numpy()[:, 1].ravel(), [1.5, 1.5])
    # N = 4 in groups of 2: M = 2 groups, sample n in group n mod 2, so {0, 2} and {1, 3}
    # (the official code's reshape to (G, M, ...)); 0 and 2 are equal, 1 and 3 are not
    x = np.zeros((4, 2, 2, 2))
    x[1], x[3] = 1.0, 3.0
    y = F.minibatch_stddev(_t(x, device=device), group_size=2, eps=0.0).numpy()[:, 2]
    np.testing.assert_allclose(y[[0, 2]], 0.0)
    np.testing.assert_allclose(y[[1, 3]], 1.0)
    # a group larger than the batch: the whole batch is one group (min(group_size, N))
    one = F.minibatch_stddev(_t(x, device=device), group_size=16, eps=0.0).numpy()[:, 2]
    np.testing.assert_allclose(one, np.sqrt(np.var([0, 1, 0, 3])))


@pytest.mark.parametrize("shape, group", [((8, 3, 4, 5), 4), ((6, 2, 3, 3), 3), ((4, 1, 2, 2), 4),
                                          ((3, 2, 2, 3), 8), ((5, 2, 1, 1), 1)])
def test_minibatch_stddev_agrees_with_the_numpy_loop(shape, group, device):
    rng = np.random.default_rng(sum(shape) + group)
    x = rng.standard_normal(shape)
    g = rng.standard_normal((shape[0], shape[1] + 1) + shape[2:])
    xt = _t(x, device=device)
    y = F.minibatch_stddev(xt, group_size=group, eps=1e-3)
    y.backward(_t(g, grad=False, device=device))
    ry, rdx = R.minibatch_stddev(x, group, 1e-3, g=g)
    np.testing.assert_allclose(y.numpy(), ry, rtol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), rdx, rtol=1e-10, atol=1e-13)


@needs_torch
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_minibatch_stddev_matches_the_official_pytorch_code(dtype, tol, torch_one_thread):
    """A transcription of MinibatchStdLayer.forward of NVIDIA's stylegan2-ada-pytorch
    (num_channels = 1, ProGAN's case), values and gradients."""
    import torch

    def official(x, group_size):
        N, C, H, W = x.shape
        G = min(group_size, N)
        y = x.reshape(G, -1, 1, C, H, W)
        y = y - y.mean(dim=0)
        y = y.square().mean(dim=0)
        y = (y + 1e-8).sqrt()
        y = y.mean(dim=[2, 3, 4])
        y = y.reshape(-1, 1, 1, 1)
        y = y.repeat(G, 1, H, W)
        return torch.cat([x, y], dim=1)

    rng = np.random.default_rng(4)
    for shape, group in [((8, 3, 4, 4), 4), ((6, 5, 2, 3), 2), ((2, 3, 4, 4), 4)]:
        x = rng.standard_normal(shape).astype(dtype)
        g = rng.standard_normal((shape[0], shape[1] + 1) + shape[2:]).astype(dtype)
        ours = minigan.tensor(x, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        y, ty = F.minibatch_stddev(ours, group), official(theirs, group)
        y.backward(minigan.tensor(g))
        ty.backward(torch.tensor(g))
        for m, t in [(y.numpy(), ty.detach().numpy()), (ours.grad.numpy(), theirs.grad.numpy())]:
            assert np.abs(m - t).max() <= tol * np.abs(t).max()


def test_minibatch_stddev_layer():
    x = _t(np.random.default_rng(5).standard_normal((4, 3, 2, 2)), grad=False)
    layer = nn.MinibatchStdDev(group_size=2)
    np.testing.assert_array_equal(layer(x).numpy(), F.minibatch_stddev(x, 2).numpy())
    assert list(layer.parameters()) == [] and repr(layer) == "MinibatchStdDev(group_size=2)"


# ------------------------------------------------------ equalized learning rate
@pytest.mark.parametrize("make, plain, fan_in, shape", [
    (lambda: nn.EqualizedConv2d(3, 4, 3, padding=1), lambda: nn.Conv2d(3, 4, 3, padding=1),
     27, (2, 3, 5, 5)),
    (lambda: nn.EqualizedConv2d(2, 3, (1, 2), stride=2, bias=False, gain=1.0),
     lambda: nn.Conv2d(2, 3, (1, 2), stride=2, bias=False), 4, (2, 2, 4, 6)),
    (lambda: nn.EqualizedDense(6, 5), lambda: nn.Dense(6, 5), 6, (4, 6)),
    (lambda: nn.EqualizedDense(7, 1, gain=1.0), lambda: nn.Dense(7, 1), 7, (3, 2, 7)),
], ids=["conv3x3", "conv1x2-gain1-nobias", "dense", "dense-gain1-3d"])
def test_equalized_layer_is_the_plain_layer_with_weight_c_w(make, plain, fan_in, shape, device):
    """Forward: the plain layer with weight c w, c = gain / sqrt(fan_in). Backward: the
    chain rule through w_hat = c w, dL/dw = c dL/dw_hat; dL/dx and dL/db unchanged."""
    layer, ref = make().to(device, "float64"), plain().to(device, "float64")
    c = layer.gain / math.sqrt(fan_in)
    assert layer.scale == pytest.approx(c, rel=1e-15)
    ref.weight.data[...] = layer.weight.data * c
    if layer.bias is not None:
        layer.bias.data[...] = np.random.default_rng(6).standard_normal(layer.bias.shape)
        ref.bias.data[...] = layer.bias.data
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape)
    xa, xb = _t(x, device=device), _t(x, device=device)
    ya, yb = layer(xa), ref(xb)
    np.testing.assert_allclose(ya.numpy(), yb.numpy(), rtol=1e-12, atol=1e-14)
    g = rng.standard_normal(ya.shape)
    ya.backward(_t(g, grad=False, device=device))
    yb.backward(_t(g, grad=False, device=device))
    np.testing.assert_allclose(layer.weight.grad.numpy(), c * ref.weight.grad.numpy(),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(xa.grad.numpy(), xb.grad.numpy(), rtol=1e-12, atol=1e-14)
    if layer.bias is not None:
        np.testing.assert_allclose(layer.bias.grad.numpy(), ref.bias.grad.numpy(), rtol=1e-12)


def test_equalized_weights_are_standard_normal_and_the_constant_is_he():
    minigan.manual_seed(0)
    conv = nn.EqualizedConv2d(64, 128, 3)
    w = conv.weight.numpy()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1.0) < 0.01          # 73,728 draws
    np.testing.assert_array_equal(conv.bias.numpy(), 0.0)
    assert conv.scale == pytest.approx(math.sqrt(2 / (64 * 9)), rel=1e-15)
    dense = nn.EqualizedDense(512, 10, gain=1.0)
    assert dense.scale == pytest.approx(1 / math.sqrt(512), rel=1e-15)
    assert [n for n, _ in conv.named_parameters()] == ["weight", "bias"]   # Conv2d's state
    plain = nn.Conv2d(64, 128, 3)
    plain.load_state_dict(conv.state_dict())
    np.testing.assert_array_equal(plain.weight.numpy(), w)
    assert "gain=1.414" in repr(conv) and "gain=1" in repr(dense)


def test_dcgan_init_leaves_the_equalized_layers_alone():
    net = nn.Sequential(nn.EqualizedConv2d(2, 3, 3), nn.Conv2d(3, 3, 3), nn.EqualizedDense(4, 2))
    before = [p.numpy().copy() for p in net.parameters()]
    nn.dcgan_init(net)
    after = [p.numpy() for p in net.parameters()]
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_array_equal(after[4], before[4])
    assert after[2].std() < 0.05                                         # the plain one: N(0, 0.02^2)


@needs_torch
def test_equalized_conv_matches_torch_conv_with_the_scaled_weight(torch_one_thread):
    import torch
    layer = nn.EqualizedConv2d(3, 4, 3, stride=2, padding=1).double()
    layer.bias.data[...] = np.random.default_rng(8).standard_normal(4)
    theirs = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(layer.weight.numpy() * layer.scale))
        theirs.bias.copy_(torch.from_numpy(layer.bias.numpy()))
    x = np.random.default_rng(9).standard_normal((2, 3, 7, 6))
    xm, xt = _t(x), torch.tensor(x, requires_grad=True)
    ym, yt = layer(xm), theirs(xt)
    (ym * ym).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(ym.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.weight.grad.numpy(), layer.scale * theirs.weight.grad.numpy(),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=1e-10)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("call, error, words", [
    (lambda: F.pixel_norm(_t(np.zeros(4))), ValueError,
     ["pixel_norm: the input must be (N, C) or (N, C, H, W)", "(4,)"]),
    (lambda: F.pixel_norm(_t(np.zeros((2, 3))), eps=-1.0), ValueError, ["eps must be >= 0"]),
    (lambda: F.pixel_norm(np.zeros((2, 3))), TypeError, ["pixel_norm: x must be a minigan Tensor"]),
    (lambda: nn.PixelNorm()(_t(np.zeros((2, 3, 4)))), ValueError,
     ["PixelNorm: expected input of shape (N, C) or (N, C, H, W), got shape (2, 3, 4)"]),
    (lambda: F.minibatch_stddev(_t(np.zeros((6, 2, 3, 3)))), ValueError,
     ["minibatch_stddev: the batch of 6 samples cannot be split into groups of 4",
      "multiple of the group size"]),
    (lambda: F.minibatch_stddev(_t(np.zeros((6, 2, 3)))), ValueError,
     ["minibatch_stddev: the input must be 4-D (N, C, H, W)", "(6, 2, 3)"]),
    (lambda: F.minibatch_stddev(_t(np.zeros((4, 2, 3, 3))), group_size=2.5), TypeError,
     ["minibatch_stddev: group_size must be a whole number >= 1", "2.5"]),
    (lambda: F.minibatch_stddev(_t(np.zeros((4, 2, 3, 3))), group_size=0), ValueError,
     ["group_size must be a whole number >= 1, got 0"]),
    (lambda: nn.MinibatchStdDev(3)(_t(np.zeros((4, 2, 3, 3)))), ValueError,
     ["batch of 4 samples cannot be split into groups of 3"]),
    (lambda: nn.MinibatchStdDev()(_t(np.zeros((4, 8)))), ValueError,
     ["MinibatchStdDev(group_size=4): expected input of shape (N, C, H, W), got shape (4, 8)"]),
    (lambda: nn.EqualizedConv2d(3, 4, 3)(_t(np.zeros((1, 2, 5, 5)))), ValueError,
     ["EqualizedConv2d(3 -> 4, 3x3): expected input of shape (N, 3, H, W)", "(1, 2, 5, 5)"]),
    (lambda: nn.EqualizedDense(3, 4)(_t(np.zeros((2, 5)))), ValueError,
     ["EqualizedDense(3 -> 4): expected input with 3 features, got shape (2, 5)"]),
    (lambda: nn.EqualizedDense(3, 4, gain=0), ValueError, ["EqualizedDense: gain must be positive"]),
], ids=["pixel-1d", "pixel-eps", "pixel-array", "PixelNorm-3d", "stddev-indivisible",
        "stddev-3d", "stddev-group-float", "stddev-group-0", "MinibatchStdDev-indivisible",
        "MinibatchStdDev-2d", "EqualizedConv2d-channels", "EqualizedDense-features",
        "EqualizedDense-gain"])
def test_errors_speak_to_a_student(call, error, words):
    with pytest.raises(error) as e:
        call()
    for word in words:
        assert word in str(e.value), f"{word!r} missing from: {e.value}"

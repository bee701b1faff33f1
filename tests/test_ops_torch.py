"""Forward values and gradients agree with PyTorch on randomized cases.

Each case runs the same computation in minigan and in torch (CPU) on the same
random inputs, back-propagates the same random upstream gradient, and compares
outputs and input gradients by max-norm relative error:
below 1e-10 in float64 and below 1e-5 in float32. Runs on CuPy too where a GPU
exists (torch stays on the CPU as the reference).
"""
import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minigan
import minigan.functional as F
from conftest import needs_torch, HAVE_TORCH

if HAVE_TORCH:
    import torch
    import torch.nn.functional as TF

pytestmark = needs_torch

TOL = {"float64": 1e-10, "float32": 1e-5}


def rel_err(got, want):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"shape {got.shape} != torch's {want.shape}"
    scale = np.abs(want).max() if want.size else 1.0
    return float(np.abs(got - want).max() / max(scale, 1e-30)) if want.size else 0.0


def gen(spec, rng):
    shape, kind = spec
    if kind == "normal":
        return rng.standard_normal(shape)
    if kind == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "away":
        return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    if kind == "ties":          # small integers: many exact ties (max, maximum, clip)
        return rng.integers(-2, 3, shape).astype(np.float64)
    if kind == "prob":
        return rng.uniform(0.0, 1.0, shape)
    raise ValueError(kind)


def N(*s):
    return (s, "normal")


def P(*s):
    return (s, "pos")


def A(*s):
    return (s, "away")


def T(*s):
    return (s, "ties")


def Q(*s):
    return (s, "prob")


CASES = []


def case(id_, ours, theirs, *specs):
    CASES.append(pytest.param(ours, theirs, specs, id=id_))


MASK = np.array([[True, False, True, False], [False, True, True, True], [True, False, False, True]])
LABELS = np.array([3, 0, 3, 1, 2, 0])      # class indices for (6, 4) logits


def _labels(x):
    return minigan.tensor(LABELS, device=x.device)


# arithmetic with broadcasting
for sa, sb in [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 4)), ((), (2, 3))]:
    t = f"{sa}{sb}".replace(" ", "")
    case(f"add{t}", lambda a, b: a + b, lambda a, b: a + b, N(*sa), N(*sb))
    case(f"sub{t}", lambda a, b: a - b, lambda a, b: a - b, N(*sa), N(*sb))
    case(f"mul{t}", lambda a, b: a * b, lambda a, b: a * b, N(*sa), N(*sb))
    case(f"div{t}", lambda a, b: a / b, lambda a, b: a / b, N(*sa), A(*sb))
    case(f"pow{t}", lambda a, b: a ** b, lambda a, b: a ** b, P(*sa), N(*sb))
    case(f"maximum{t}", F.maximum, torch.maximum if HAVE_TORCH else None, T(*sa), T(*sb))
    case(f"minimum{t}", F.minimum, torch.minimum if HAVE_TORCH else None, T(*sa), T(*sb))
case("neg", lambda a: -a, lambda a: -a, N(3, 4))
case("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, N(3, 4))
case("rpow_scalar", lambda a: 1.5 ** a, lambda a: 1.5 ** a, N(3, 4))
case("rdiv_scalar", lambda a: 2.0 / a, lambda a: 2.0 / a, A(3, 4))
case("exp", F.exp, lambda a: a.exp(), N(3, 4))
case("log", F.log, lambda a: a.log(), P(3, 4))
case("sqrt", F.sqrt, lambda a: a.sqrt(), P(3, 4))
case("abs", F.abs, lambda a: a.abs(), T(3, 4))        # includes zeros: sign(0) = 0 in both
case("clip", lambda a: F.clip(a, -1.0, 1.0), lambda a: a.clamp(-1.0, 1.0), T(4, 5))
case("clip_min", lambda a: F.clip(a, min=0.3), lambda a: a.clamp(min=0.3), N(4, 5))
case("where", lambda a, b: F.where(MASK, a, b),
     lambda a, b: torch.where(torch.from_numpy(MASK), a, b),
     N(3, 4), N(1, 4))
case("relu", F.relu, TF.relu if HAVE_TORCH else None, T(4, 5))
case("leaky_relu", lambda a: F.leaky_relu(a, 0.2), lambda a: TF.leaky_relu(a, 0.2), T(4, 5))
case("leaky_relu_default", F.leaky_relu, TF.leaky_relu if HAVE_TORCH else None, N(4, 5))
case("tanh", F.tanh, torch.tanh if HAVE_TORCH else None, N(4, 5))
case("sigmoid", lambda a: F.sigmoid(a * 20), lambda a: torch.sigmoid(a * 20), N(4, 5))
case("softplus", lambda a: F.softplus(a * 10), lambda a: TF.softplus(a * 10), N(4, 5))
case("softplus_beta", lambda a: F.softplus(a * 10, beta=2.0, threshold=5.0),
     lambda a: TF.softplus(a * 10, beta=2.0, threshold=5.0), N(4, 5))
case("log_sigmoid", lambda a: F.log_sigmoid(a * 30), lambda a: TF.logsigmoid(a * 30), N(4, 5))
# softmax over one axis, with logits up to ~+-100 (rows dominated by one class)
for name, tname in [("log_softmax", "log_softmax"), ("softmax", "softmax")]:
    ours_fn, theirs_fn = getattr(F, name), getattr(TF, tname) if HAVE_TORCH else None
    case(f"{name}_last", lambda a, f=ours_fn: f(a * 30), lambda a, f=theirs_fn: f(a * 30, dim=-1),
         N(4, 5))
    case(f"{name}_axis0", lambda a, f=ours_fn: f(a, 0), lambda a, f=theirs_fn: f(a, 0), N(4, 5))
    case(f"{name}_dim1_3d", lambda a, f=ours_fn: f(a, dim=1), lambda a, f=theirs_fn: f(a, dim=1),
         N(2, 3, 4))
    case(f"{name}_0d", ours_fn, lambda a, f=theirs_fn: f(a, dim=0), N())

# reductions
for ax, kd in [(None, False), (0, False), (-1, True), ((0, 2), False), ((1, 2), True)]:
    t = f"axis{ax}_keep{kd}".replace(" ", "")
    tdim = ax if ax is not None else tuple(range(3))
    case(f"sum_{t}", lambda a, ax=ax, kd=kd: a.sum(axis=ax, keepdims=kd),
         lambda a, d=tdim, kd=kd: a.sum(dim=d, keepdim=kd), N(2, 3, 4))
    case(f"mean_{t}", lambda a, ax=ax, kd=kd: a.mean(dim=ax, keepdim=kd),
         lambda a, d=tdim, kd=kd: a.mean(dim=d, keepdim=kd), N(2, 3, 4))
    case(f"var_{t}", lambda a, ax=ax, kd=kd: a.var(axis=ax, keepdims=kd),
         lambda a, d=tdim, kd=kd: a.var(dim=d, keepdim=kd, correction=0), N(2, 3, 4))
    case(f"var_unbiased_{t}", lambda a, ax=ax, kd=kd: a.var(axis=ax, keepdims=kd, correction=1),
         lambda a, d=tdim, kd=kd: a.var(dim=d, keepdim=kd, correction=1), N(2, 3, 4))
    case(f"max_{t}", lambda a, ax=ax, kd=kd: a.max(axis=ax, keepdims=kd),
         lambda a, d=tdim, kd=kd: a.amax(dim=d, keepdim=kd), T(2, 3, 4))   # ties split evenly

# shape ops
case("reshape", lambda a: a.reshape(4, -1), lambda a: a.reshape(4, -1), N(2, 3, 4))
case("transpose", lambda a: a.transpose(0, 2), lambda a: a.transpose(0, 2), N(2, 3, 4))
case("T", lambda a: a.T, lambda a: a.permute(1, 0), N(3, 4))
case("permute", lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1), N(2, 3, 4))
case("broadcast_to", lambda a: a.broadcast_to(2, 3, 4), lambda a: a.expand(2, 3, 4), N(3, 1))
case("concat", lambda a, b: F.concat([a, b, a], axis=1), lambda a, b: torch.cat([a, b, a], dim=1),
     N(2, 3), N(2, 2))
case("stack", lambda a, b: F.stack([a, b], dim=-1), lambda a, b: torch.stack([a, b], dim=-1),
     N(2, 3), N(2, 3))
case("pad", lambda a: F.pad(a, (1, 2, 2, 0), value=-1.0),
     lambda a: TF.pad(a, (1, 2, 2, 0), value=-1.0),
     N(2, 3, 4))
case("concat_channels_nchw", lambda a, b: F.concat([a, b], axis=1),
     lambda a, b: torch.cat([a, b], dim=1), N(2, 3, 4, 4), N(2, 2, 4, 4))
case("flatten", lambda a: a.flatten(1), lambda a: a.flatten(1), N(2, 3, 4))
case("unsqueeze_squeeze", lambda a: a.unsqueeze(0).squeeze(2), lambda a: a.unsqueeze(0).squeeze(2),
     N(3, 1, 4))

# indexing
case("index_slices", lambda a: a[1:, ::2], lambda a: a[1:, ::2], N(3, 4))
case("index_int_ellipsis", lambda a: a[..., 1], lambda a: a[..., 1], N(2, 3, 4))
case("index_repeated", lambda a: a[[0, 2, 0, 0]], lambda a: a[[0, 2, 0, 0]], N(3, 4))
case("index_two_arrays", lambda a: a[np.array([0, 1, 1]), np.array([3, 3, 0])],
     lambda a: a[torch.tensor([0, 1, 1]), torch.tensor([3, 3, 0])], N(3, 4))
case("index_column_array", lambda a: a[:, [1, 1, 3]], lambda a: a[:, [1, 1, 3]], N(3, 4))
case("index_mask", lambda a: a[MASK], lambda a: a[torch.from_numpy(MASK)], N(3, 4))

# matrix products
case("matmul", lambda a, b: a @ b, lambda a, b: a @ b, N(5, 7), N(7, 3))
case("matmul_batched_broadcast", lambda a, b: a @ b, lambda a, b: a @ b, N(2, 1, 5, 7), N(3, 7, 4))
case("matmul_vec", lambda a, b: a @ b, lambda a, b: a @ b, N(7), N(2, 7, 3))
case("linear", F.linear, TF.linear if HAVE_TORCH else None, N(6, 5), N(4, 5), N(4))
case("linear_3d_no_bias", F.linear, TF.linear if HAVE_TORCH else None, N(2, 6, 5), N(4, 5))

# the applications' layers: instance norm, nearest upsampling, average pooling
case("instance_norm", lambda x: F.instance_norm(x), lambda x: TF.instance_norm(x), N(3, 4, 5, 6))
case("instance_norm_affine", lambda x, w, b: F.instance_norm(x, weight=w, bias=b, eps=1e-3),
     lambda x, w, b: TF.instance_norm(x, weight=w, bias=b, eps=1e-3), N(2, 3, 4, 3), N(3), N(3))
case("instance_norm_far_from_0", lambda x: F.instance_norm(x * 10 + 50),
     lambda x: TF.instance_norm(x * 10 + 50), N(2, 2, 7, 5))
case("interpolate_2", lambda x: F.interpolate(x, scale_factor=2),
     lambda x: TF.interpolate(x, scale_factor=2, mode="nearest"), N(2, 3, 4, 5))
case("interpolate_3x2", lambda x: F.interpolate(x, scale_factor=(3, 2)),
     lambda x: TF.interpolate(x, scale_factor=(3, 2), mode="nearest"), N(1, 2, 3, 4))
case("interpolate_size", lambda x: F.upsample(x, size=(8, 4)),
     lambda x: TF.interpolate(x, size=(8, 4), mode="nearest"), N(2, 1, 2, 2))
for k, s_, p_ in [(2, None, 0), (3, None, 1), (3, 2, 1), ((3, 2), (1, 2), (1, 0)), (4, 3, 2)]:
    case(f"avg_pool2d_k{k}_s{s_}_p{p_}".replace(" ", ""),
         lambda x, k=k, s_=s_, p_=p_: F.avg_pool2d(x, k, s_, p_),
         lambda x, k=k, s_=s_, p_=p_: TF.avg_pool2d(x, k, s_, p_), N(2, 3, 9, 7))

# ProGAN's pixel norm (torch has none: the paper's formula in torch's operations) and
# the embedding look-up (torch's F.embedding; class indices with repeats)
case("pixel_norm", lambda x: F.pixel_norm(x),
     lambda x: x * torch.rsqrt((x * x).mean(dim=1, keepdim=True) + 1e-8), N(2, 5, 3, 4))
case("pixel_norm_latent", lambda x: F.pixel_norm(x * 3, eps=1e-4),
     lambda x: x * 3 * torch.rsqrt((x * x * 9).mean(dim=1, keepdim=True) + 1e-4), N(6, 7))
case("embedding", lambda w: F.embedding(_labels(w), w),
     lambda w: TF.embedding(torch.from_numpy(LABELS), w), N(5, 3))

# losses (targets get gradients too)
for red in ("mean", "sum", "none"):
    case(f"bce_logits_{red}",
         lambda x, t, r=red: F.binary_cross_entropy_with_logits(x * 5, t, reduction=r),
         lambda x, t, r=red: TF.binary_cross_entropy_with_logits(x * 5, t, reduction=r),
         N(6, 3), Q(6, 3))
    case(f"mse_{red}", lambda x, y, r=red: F.mse_loss(x, y, reduction=r),
         lambda x, y, r=red: TF.mse_loss(x, y, reduction=r), N(6, 3), N(6, 3))
    case(f"cross_entropy_{red}",
         lambda x, r=red: F.cross_entropy(x * 5, _labels(x), reduction=r),
         lambda x, r=red: TF.cross_entropy(x * 5, torch.from_numpy(LABELS), reduction=r),
         N(6, 4))
    case(f"nll_loss_{red}", lambda x, r=red: F.nll_loss(x, _labels(x), reduction=r),
         lambda x, r=red: TF.nll_loss(x, torch.from_numpy(LABELS), reduction=r), N(6, 4))
case("cross_entropy_int32_target",
     lambda x: F.cross_entropy(x, _labels(x).to(dtype="int32")),
     lambda x: TF.cross_entropy(x, torch.from_numpy(LABELS)), N(6, 4))
case("nll_loss_of_log_softmax", lambda x: F.nll_loss(F.log_softmax(x, dim=1), _labels(x)),
     lambda x: TF.nll_loss(TF.log_softmax(x, dim=1), torch.from_numpy(LABELS)), N(6, 4))
case("classifier_linear_cross_entropy",
     lambda x, w, b: F.cross_entropy(F.linear(x, w, b), _labels(x)),
     lambda x, w, b: TF.cross_entropy(TF.linear(x, w, b), torch.from_numpy(LABELS)),
     N(6, 5), N(4, 5), N(4))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("ours, theirs, specs", CASES)
def test_matches_torch(ours, theirs, specs, dtype, device):
    rng = np.random.default_rng(zlib.crc32(repr(specs).encode()))   # per case, reproducible
    arrays = [gen(s, rng).astype(dtype) for s in specs]
    xs = [minigan.tensor(a, requires_grad=True, device=device) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = ours(*xs), theirs(*ts)
    assert y.dtype == np.dtype(dtype), f"output dtype {y.dtype}, expected {dtype}"
    tol = TOL[dtype]
    assert rel_err(y.numpy(), ty.detach().numpy()) < tol
    g = rng.standard_normal(ty.shape).astype(dtype)
    y.backward(minigan.tensor(g, device=device))
    ty.backward(torch.tensor(g))
    for k, (x, t) in enumerate(zip(xs, ts)):
        assert x.grad is not None, f"input {k} got no gradient"
        e = rel_err(x.grad.numpy(), t.grad.numpy())
        assert e < tol, f"gradient of input {k}: relative error {e:.3g}"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_second_derivatives_match_torch(dtype, device):
    """A gradient-penalty-like quantity: d/dw of ||d out/dx||^2 for a small MLP."""
    rng = np.random.default_rng(3)
    x, w1, w2 = (rng.standard_normal(s).astype(dtype) for s in [(5, 4), (6, 4), (1, 6)])

    def ours_fn(x, w1, w2):
        return F.linear(F.tanh(F.linear(x, w1)), w2)

    def theirs_fn(x, w1, w2):
        return TF.linear(torch.tanh(TF.linear(x, w1)), w2)

    mx, mw1, mw2 = (minigan.tensor(a, requires_grad=True, device=device) for a in (x, w1, w2))
    (gx,) = minigan.grad(ours_fn(mx, mw1, mw2).sum(), mx, create_graph=True)
    ((gx * gx).sum(axis=1) - 1.0).mean().backward()
    tx, tw1, tw2 = (torch.tensor(a, requires_grad=True) for a in (x, w1, w2))
    (tgx,) = torch.autograd.grad(theirs_fn(tx, tw1, tw2).sum(), tx, create_graph=True)
    ((tgx * tgx).sum(dim=1) - 1.0).mean().backward()
    for m, t in [(mw1, tw1), (mw2, tw2), (mx, tx)]:
        assert rel_err(m.grad.numpy(), t.grad.numpy()) < TOL[dtype]


BINARY = {"add": (lambda a, b: a + b, lambda a, b: a + b),
          "mul": (lambda a, b: a * b, lambda a, b: a * b),
          "div": (lambda a, b: a / (b * b + 0.5), lambda a, b: a / (b * b + 0.5)),
          "pow": (lambda a, b: (a * a + 0.5) ** b, lambda a, b: (a * a + 0.5) ** b),
          "maximum": (F.maximum, lambda a, b: torch.maximum(a, b))}


@settings(max_examples=40, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       op=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2 ** 31))
def test_random_broadcast_shapes_match_torch(shapes, op, seed):
    """Any two broadcastable shapes (0-d and size-one axes included), float64."""
    ours, theirs = BINARY[op]
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes.input_shapes]
    xs = [minigan.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = ours(*xs), theirs(*ts)
    assert y.shape == tuple(ty.shape) == shapes.result_shape
    assert rel_err(y.numpy(), ty.detach().numpy()) < 1e-10
    g = rng.standard_normal(shapes.result_shape)
    y.backward(minigan.tensor(g))
    ty.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        assert x.grad.shape == x.shape
        assert rel_err(x.grad.numpy(), t.grad.numpy()) < 1e-10


@pytest.mark.parametrize("slope", [0.2, 0.01, 0.0, 1.0, -0.5, 1.5])
def test_leaky_relu_every_slope_bit_for_bit_with_zeros_and_nan(slope):
    # 0 <= slope <= 1 takes max(x, slope x); other slopes the general where(): both
    # must give PyTorch's numbers exactly, at 0, -0 and NaN too, on a channels-first view
    import torch
    rng = np.random.default_rng(11)
    x = rng.standard_normal((5, 6, 7, 3)).astype(np.float32)
    x[0, 0, :3, 0] = [0.0, -0.0, np.nan]
    x = x.transpose(3, 0, 1, 2)
    g = rng.standard_normal(x.shape).astype(np.float32)
    t = minigan.tensor(x, requires_grad=True)
    y = F.leaky_relu(t, slope)
    (y * minigan.tensor(g)).sum().backward()
    tx = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    ty = torch.nn.functional.leaky_relu(tx, slope)
    (ty * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    np.testing.assert_array_equal(t.grad.data, tx.grad.numpy())

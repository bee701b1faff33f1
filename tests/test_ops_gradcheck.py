"""Every differentiable op passes gradcheck and gradgradcheck in float64.

Each case is (function, input specs). An input spec is (shape, kind), where kind
picks values away from the op's kinks and singularities so that the central
difference is valid there:
  normal   standard normal
  pos      in [0.5, 2]          (log, sqrt, the base of a real power)
  away     |v| in [0.5, 2], random sign  (divisors; away from the kink of abs)
  prob     in [0.1, 0.9]        (probability targets of binary cross-entropy)
Class-index targets (cross_entropy, nll_loss) are constants, LABELS.
Shapes cover broadcasting, 0-d scalars and size-one axes.

At the end, what a derivative check cannot see: dropout's mask statistics,
scaling and seeding, and the losses' and activations' stability at huge logits.
"""
import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan.gradcheck import check_gradients, check_second_gradients


def make(spec, device, rng):
    shape, kind = spec
    if kind == "normal":
        v = rng.standard_normal(shape)
    elif kind == "pos":
        v = rng.uniform(0.5, 2.0, shape)
    elif kind == "away":
        v = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    elif kind == "prob":
        v = rng.uniform(0.1, 0.9, shape)
    else:
        raise ValueError(kind)
    return minigan.tensor(np.asarray(v, dtype=np.float64), requires_grad=True, device=device)


def N(*shape):
    return (shape, "normal")


def P(*shape):
    return (shape, "pos")


def A(*shape):
    return (shape, "away")


def Q(*shape):
    return (shape, "prob")


BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (3,)),
                 ((1,), (1,)), ((3, 1), (1, 4)), ((2, 3), ())]
UNARY_SHAPES = [(), (1,), (5,), (2, 3, 1)]


def dropout_seeded(x):
    minigan.manual_seed(7)          # the same mask at every evaluation
    return F.dropout(x, 0.4, training=True)


LABELS = np.array([2, 0, 2, 1])        # class indices for (4, C) logits, C >= 3


def _labels(x):
    return minigan.tensor(LABELS, device=x.device)


EMB_IDX = np.array([[0, 2, 2], [3, 0, 1]])     # rows of a (4, D) table, some twice

COND = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])

CASES = []


def case(id_, fn, *specs):
    CASES.append(pytest.param(fn, specs, id=id_))


# ---- arithmetic, with broadcasting, 0-d and size-one axes
for sa, sb in BINARY_SHAPES:
    tag = f"{sa}{sb}".replace(" ", "")
    case(f"add{tag}", lambda a, b: a + b, N(*sa), N(*sb))
    case(f"sub{tag}", lambda a, b: a - b, N(*sa), N(*sb))
    case(f"mul{tag}", lambda a, b: a * b, N(*sa), N(*sb))
    case(f"div{tag}", lambda a, b: a / b, N(*sa), A(*sb))
    case(f"pow_tensor_exponent{tag}", lambda a, b: a ** b, P(*sa), N(*sb))
    case(f"maximum{tag}", F.maximum, N(*sa), N(*sb))
    case(f"minimum{tag}", F.minimum, N(*sa), N(*sb))
case("scalar_plus_tensor", lambda a: 2.5 + a, N(3))
case("scalar_minus_tensor", lambda a: 1.0 - a, N(3))
case("scalar_over_tensor", lambda a: 3.0 / a, A(2, 2))
case("scalar_pow_tensor", lambda a: 2.0 ** a, N(2, 3))
case("where", lambda a, b: F.where(COND, a, b), N(3, 4), N(4))

# ---- unary ops
for s in UNARY_SHAPES:
    tag = str(s).replace(" ", "")
    case(f"neg{tag}", lambda a: -a, N(*s))
    case(f"exp{tag}", F.exp, N(*s))
    case(f"log{tag}", F.log, P(*s))
    case(f"sqrt{tag}", F.sqrt, P(*s))
    case(f"abs{tag}", F.abs, A(*s))
    case(f"pow2{tag}", lambda a: a ** 2, N(*s))
    case(f"pow3{tag}", lambda a: a ** 3, N(*s))
    case(f"pow_half{tag}", lambda a: a ** 0.5, P(*s))
    case(f"pow_neg1.5{tag}", lambda a: a ** -1.5, P(*s))
    case(f"relu{tag}", F.relu, A(*s))
    case(f"leaky_relu{tag}", lambda a: F.leaky_relu(a, 0.2), A(*s))
    case(f"tanh{tag}", F.tanh, N(*s))
    case(f"sigmoid{tag}", F.sigmoid, N(*s))
    case(f"softplus{tag}", F.softplus, N(*s))
    case(f"log_sigmoid{tag}", F.log_sigmoid, N(*s))
case("softplus_beta_threshold", lambda a: F.softplus(a * 4, beta=2.0, threshold=5.0), N(3, 4))
# slopes outside [0, 1] take leaky_relu's general form (where(), not max)
case("leaky_relu_slope_above_one", lambda a: F.leaky_relu(a, 1.5), A(3, 4))
case("leaky_relu_negative_slope", lambda a: F.leaky_relu(a, -0.5), A(3, 4))
case("clip_both", lambda a: F.clip(a, -0.5, 0.7), N(3, 4))
case("clip_min", lambda a: F.clip(a, min=0.1), N(3, 4))
case("clip_max", lambda a: a.clamp(max=-0.2), N(3, 4))
case("dropout", dropout_seeded, N(4, 5))

# ---- softmax over one axis: the default last axis, another axis, dim=, 1-d, size one, 0-d
for name in ("log_softmax", "softmax"):
    fn = getattr(F, name)
    case(f"{name}_last_axis", fn, N(3, 4))
    case(f"{name}_axis0", lambda a, f=fn: f(a, 0), N(3, 4))
    case(f"{name}_dim1_3d", lambda a, f=fn: f(a, dim=1), N(2, 3, 4))
    case(f"{name}_1d", fn, N(5))
    case(f"{name}_size_one_axis", fn, N(3, 1))
    case(f"{name}_0d", fn, N())

# ---- reductions over an axis, a tuple of axes, everything, with keepdims and aliases
for name in ("sum", "mean", "var", "max"):
    case(f"{name}_all", lambda a, n=name: getattr(a, n)(), N(2, 3, 4))
    case(f"{name}_axis0", lambda a, n=name: getattr(a, n)(axis=0), N(2, 3, 4))
    case(f"{name}_axis-1_keepdims", lambda a, n=name: getattr(a, n)(axis=-1, keepdims=True),
         N(2, 3, 4))
    case(f"{name}_axes(0,2)", lambda a, n=name: getattr(a, n)(axis=(0, 2)), N(2, 3, 4))
    case(f"{name}_dim_keepdim", lambda a, n=name: getattr(a, n)(dim=(1, 2), keepdim=True),
         N(2, 3, 4))
    case(f"{name}_size_one_axis", lambda a, n=name: getattr(a, n)(axis=1), N(3, 1, 2))
    case(f"{name}_0d", lambda a, n=name: getattr(a, n)(), N())
case("var_unbiased", lambda a: a.var(axis=1, correction=1), N(3, 4))

# ---- shape ops
case("reshape", lambda a: a.reshape(4, -1), N(2, 3, 4))
case("reshape_to_0d", lambda a: a.reshape(()), N(1, 1))
case("flatten", lambda a: a.flatten(1), N(2, 3, 4))
case("unsqueeze_squeeze", lambda a: a.unsqueeze(1).squeeze(), N(3, 1, 2))
case("transpose_T", lambda a: a.T, N(2, 3, 4))
case("transpose_swap", lambda a: a.transpose(0, 2), N(2, 3, 4))
case("permute", lambda a: a.permute(2, 0, 1), N(2, 3, 4))
case("broadcast_to", lambda a: a.broadcast_to(2, 3, 4), N(3, 1))
case("broadcast_to_from_0d", lambda a: a.broadcast_to((2, 3)), N())
case("concat_axis0", lambda a, b: F.concat([a, b, a], axis=0), N(2, 3), N(1, 3))
case("concat_dim-1", lambda a, b: F.cat([a, b], dim=-1), N(2, 3), N(2, 1))
case("stack", lambda a, b: F.stack([a, b], axis=1), N(2, 3), N(2, 3))
case("stack_0d", lambda a, b: F.stack([a, b]), N(), N())
case("pad", lambda a: F.pad(a, (1, 2, 0, 1), value=0.5), N(2, 2, 3))
# a U-Net's skip connection: two NCHW feature maps joined along the channels
case("concat_channels_nchw", lambda a, b: F.concat([a, b], axis=1), N(2, 3, 2, 2), N(2, 1, 2, 2))
case("concat_channels_then_tanh", lambda a, b: F.tanh(F.cat([a, b], dim=1)) * a.sum(),
     N(1, 2, 2, 3), N(1, 2, 2, 3))

# ---- indexing and slicing
case("index_int", lambda a: a[1], N(3, 4))
case("index_basic_slices", lambda a: a[1:, ::2], N(3, 4))
case("index_negative_step", lambda a: a[::-1, 1:3], N(3, 4))
case("index_ellipsis_none", lambda a: a[..., None, 0], N(2, 3, 4))
case("index_int_array_repeated", lambda a: a[[0, 2, 0, 0]], N(3, 4))
case("index_int_arrays_2d", lambda a: a[np.array([[0, 1], [2, 0]]), np.array([[1, 1], [3, 0]])],
     N(3, 4))
case("index_slice_and_array", lambda a: a[:, [1, 1, 3]], N(3, 4))
case("getitem_function", lambda a: F.getitem(a, (slice(None), [0, 2, 2])), N(3, 4))
case("index_bool_mask", lambda a: a[COND], N(3, 4))
case("index_tensor", lambda a: a[minigan.tensor(np.array([2, 2, 1]))], N(3, 4))

# ---- matrix products
case("matmul_2d", lambda a, b: a @ b, N(3, 4), N(4, 2))
case("matmul_batched", lambda a, b: a @ b, N(2, 3, 4), N(2, 4, 2))
case("matmul_broadcast_batch", lambda a, b: a @ b, N(1, 3, 4), N(2, 4, 2))
case("matmul_batched_by_2d", lambda a, b: a @ b, N(2, 3, 4), N(4, 2))
case("matmul_vec_mat", lambda a, b: a @ b, N(4), N(4, 3))
case("matmul_mat_vec", lambda a, b: a @ b, N(3, 4), N(4))
case("matmul_vec_vec", lambda a, b: a @ b, N(4), N(4))
case("linear_bias", F.linear, N(5, 4), N(3, 4), N(3))
case("linear_no_bias", F.linear, N(5, 4), N(3, 4))
case("linear_3d_input", F.linear, N(2, 3, 4), N(2, 4), N(2))

# ---- losses, every reduction, gradients for logits/inputs and targets
for red in ("mean", "sum", "none"):
    case(f"bce_with_logits_{red}",
         lambda x, t, r=red: F.binary_cross_entropy_with_logits(x, t, reduction=r),
         N(4, 3), Q(4, 3))
    case(f"mse_loss_{red}", lambda x, y, r=red: F.mse_loss(x, y, reduction=r), N(4, 3), N(4, 3))
    # class indices: a constant, on the logits' device (class 2 twice, class 1 once)
    case(f"cross_entropy_{red}",
         lambda x, r=red: F.cross_entropy(x, _labels(x), reduction=r), N(4, 3))
    case(f"nll_loss_{red}", lambda x, r=red: F.nll_loss(x, _labels(x), reduction=r), N(4, 3))
case("cross_entropy_int32_target",
     lambda x: F.cross_entropy(x, _labels(x).to(dtype="int32")), N(4, 3))
case("nll_loss_of_log_softmax", lambda x: F.nll_loss(F.log_softmax(x, dim=1), _labels(x)),
     N(4, 3))


# ---- the applications' layers: instance norm, nearest upsampling, average pooling
case("instance_norm", lambda x: F.instance_norm(x), N(2, 3, 2, 3))
case("instance_norm_affine", lambda x, w, b: F.instance_norm(x, weight=w, bias=b, eps=1e-3),
     N(2, 2, 3, 2), N(2), N(2))
case("instance_norm_3d_input", lambda x, w: F.instance_norm(x, weight=w), N(2, 2, 4), N(2))
case("upsample_2", lambda x: F.interpolate(x, scale_factor=2), N(2, 2, 2, 3))
case("upsample_2x3", lambda x: F.upsample(x, scale_factor=(2, 3)), N(1, 2, 3, 2))
case("upsample_size", lambda x: F.interpolate(x, size=(6, 4)), N(1, 1, 2, 2))
for k, s_, p_ in [(2, None, 0), (3, 2, 1), ((3, 2), (1, 2), (1, 0)), (2, 1, 1)]:
    case(f"avg_pool2d_k{k}_s{s_}_p{p_}".replace(" ", ""),
         lambda x, k=k, s_=s_, p_=p_: F.avg_pool2d(x, k, s_, p_), N(2, 2, 5, 4))
# linear ops: gradgradcheck above is zero against zero; through a nonlinearity the
# second derivatives must pass through each op's backward (upsample's is the sum
# pool, avg_pool2d's a transposed convolution, instance norm's rebuilt from x)
case("upsample_conv_tanh", lambda x, w: F.tanh(F.conv2d(F.interpolate(x, scale_factor=2), w)),
     N(1, 2, 2, 2), N(2, 2, 3, 3))
case("tanh_avg_pool2d_squared", lambda x: F.avg_pool2d(F.tanh(x), 3, 2, 1) ** 2, N(1, 2, 4, 5))
case("instance_norm_tanh_pool",
     lambda x, w, b: F.avg_pool2d(F.tanh(F.instance_norm(x, weight=w, bias=b)), 2),
     N(2, 2, 4, 4), N(2), N(2))


# ---- ProGAN's pixel norm and minibatch standard deviation (composed Tensor ops), and
# the embedding look-up (a getitem with the scatter-add backward); a constant table of
# indices with repeats, on the weight's device
case("pixel_norm", lambda x: F.pixel_norm(x), N(2, 3, 2, 3))
case("pixel_norm_latent_eps", lambda x: F.pixel_norm(x, eps=1e-2), N(4, 5))
case("minibatch_stddev_g2", lambda x: F.minibatch_stddev(x, 2), N(4, 3, 2, 2))
case("minibatch_stddev_one_group", lambda x: F.minibatch_stddev(x, 8, eps=1e-4), N(3, 2, 2, 3))
case("minibatch_stddev_tanh", lambda x: F.tanh(F.minibatch_stddev(x, 3)) ** 2, N(6, 2, 2, 2))
case("embedding", lambda w: F.embedding(minigan.tensor(EMB_IDX, device=w.device), w), N(4, 3))
case("embedding_tanh_squared",
     lambda w: F.tanh(F.embedding(minigan.tensor(EMB_IDX, device=w.device), w)) ** 2, N(4, 3))


# ---- a composite, as in a discriminator
case("composite_mlp", lambda x, w, b: F.sigmoid(F.leaky_relu(F.linear(x, w, b), 0.2)).mean(),
     N(4, 3), N(2, 3), N(2))
case("composite_classifier", lambda x, w, b: F.cross_entropy(F.linear(x, w, b), _labels(x)),
     N(4, 5), N(3, 5), N(3))


def _inputs(specs, device):
    rng = np.random.default_rng(1)
    return [make(s, device, rng) for s in specs]


@pytest.mark.parametrize("fn, specs", CASES)
def test_gradcheck(fn, specs, device):
    res = check_gradients(fn, _inputs(specs, device))
    assert res.passed, res.message
    assert res.n_compared > 0


@pytest.mark.parametrize("fn, specs", CASES)
def test_gradgradcheck(fn, specs, device):
    res = check_second_gradients(fn, _inputs(specs, device))
    assert res.passed, res.message


def test_public_functions_return_true(device):
    x = make(N(3, 4), device, np.random.default_rng(0))
    assert minigan.gradcheck(F.tanh, x) is True
    assert minigan.gradgradcheck(F.tanh, (x,)) is True


def test_large_input_uses_directional_checks(device):
    # 30 x 20 = 600 elements is above the full-Jacobian threshold: random directions
    x = make(N(30, 20), device, np.random.default_rng(0))
    w = make(N(20, 20), device, np.random.default_rng(1))
    assert minigan.gradcheck(lambda x, w: F.tanh(x @ w), (x, w))
    assert minigan.gradgradcheck(lambda x, w: F.tanh(x @ w).sum(axis=1), (x, w))


# ---------------------------------------------------------------------------------
# What a gradient check cannot see: dropout's randomness and the losses' stability.
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
def test_dropout_mask_statistics_and_scaling(p, device):
    x = minigan.tensor(np.ones((200, 500), np.float32), requires_grad=True, device=device)
    y = F.dropout(x, p, training=True)
    v = y.numpy()
    dropped = (v == 0).mean()
    sigma = np.sqrt(p * (1 - p) / v.size)
    assert abs(dropped - p) < 5 * sigma                          # each unit dropped w.p. p
    np.testing.assert_array_equal(np.unique(v), [0.0, np.float32(1 / (1 - p))])   # inverted
    assert abs(v.mean() - 1.0) < 5 * sigma / (1 - p)             # the expectation is kept
    assert y.dtype == np.float32
    y.backward(minigan.tensor(np.ones(v.shape, np.float32), device=device))
    np.testing.assert_array_equal(x.grad.numpy(), v)             # d/dx = mask / (1 - p)


def test_dropout_eval_and_edge_probabilities(device):
    x = minigan.tensor(np.random.default_rng(0).standard_normal((4, 5)), device=device)
    assert F.dropout(x, 0.5, training=False) is x                # evaluation: the identity
    assert F.dropout(x, 0.0, training=True) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0, training=True).numpy(), np.zeros((4, 5)))
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="probability"):
            F.dropout(x, bad)


def test_dropout_is_reproducible_from_the_seed(device):
    x = minigan.tensor(np.ones((50, 40), np.float32), device=device)
    minigan.manual_seed(123)
    a = F.dropout(x, 0.5).numpy()
    b = F.dropout(x, 0.5).numpy()
    minigan.manual_seed(123)
    c = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, c)                          # same seed, same mask
    assert (a != b).any()                                        # the stream moves on


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_with_logits_is_exact_at_huge_logits(dtype, device):
    x = minigan.tensor(np.array([1e4, -1e4, 1e4, -1e4, 1e4, -1e4], dtype), requires_grad=True,
                       device=device)
    t = minigan.tensor(np.array([1.0, 1.0, 0.0, 0.0, 0.3, 0.3], dtype), device=device)
    with np.errstate(over="raise", invalid="raise", divide="raise"):   # no overflow, no nan
        per = F.binary_cross_entropy_with_logits(x, t, reduction="none")
        per.backward(minigan.tensor(np.ones(6, dtype), device=device))
    # l = max(x, 0) - x t + log(1 + e^-|x|): the log term is exactly 0 at |x| = 1e4
    np.testing.assert_array_equal(per.numpy(), np.array([0, 1e4, 1e4, 0, 7e3, 3e3], dtype))
    # dl/dx = sigmoid(x) - t, with sigmoid(1e4) = 1 and sigmoid(-1e4) = 0 exactly
    np.testing.assert_allclose(x.grad.numpy(), np.array([0, -1, 1, 0, 0.7, -0.3], dtype),
                               rtol=1e-6, atol=0)
    x.grad = None
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        mean = F.binary_cross_entropy_with_logits(x, t)
        mean.backward()
        total = F.binary_cross_entropy_with_logits(x, t, reduction="sum")
    assert mean.item() == pytest.approx(30e3 / 6, rel=1e-6)
    assert total.item() == pytest.approx(30e3, rel=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), np.array([0, -1, 1, 0, 0.7, -0.3]) / 6, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activations_are_finite_and_exact_at_huge_inputs(dtype, device):
    big = np.array([1e4, -1e4], dtype)
    expected = {                        # (value, derivative) at +1e4 and -1e4
        F.sigmoid: ([1, 0], [0, 0]),
        F.log_sigmoid: ([0, -1e4], [0, 1]),
        F.softplus: ([1e4, 0], [1, 0]),
        F.tanh: ([1, -1], [0, 0]),
    }
    for fn, (value, slope) in expected.items():
        x = minigan.tensor(big, requires_grad=True, device=device)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            y = fn(x)
            y.sum().backward()
        np.testing.assert_array_equal(y.numpy(), np.array(value, dtype), err_msg=fn.__name__)
        np.testing.assert_array_equal(x.grad.numpy(), np.array(slope, dtype), err_msg=fn.__name__)


@pytest.mark.parametrize("reduction, value", [("mean", 10.25), ("sum", 41.0), ("none", None)])
def test_mse_loss_reductions(reduction, value):
    x = minigan.tensor(np.array([1.0, 2.0, 3.0, 4.0]), requires_grad=True)
    y = minigan.tensor(np.array([4.0, 6.0, 3.0, 0.0]))
    loss = F.mse_loss(x, y, reduction=reduction)
    if value is None:
        np.testing.assert_array_equal(loss.numpy(), [9.0, 16.0, 0.0, 16.0])
        loss.sum().backward()
    else:
        assert loss.item() == value
        loss.backward()
    scale = {"mean": 0.25, "sum": 1.0, "none": 1.0}[reduction]
    np.testing.assert_allclose(x.grad.numpy(), scale * 2 * (x.numpy() - y.numpy()))


@pytest.mark.parametrize("loss", [F.binary_cross_entropy_with_logits, F.mse_loss],
                         ids=["bce_with_logits", "mse_loss"])
def test_mean_loss_of_an_empty_batch_is_nan_as_in_torch(loss):
    """An empty batch (0 examples): reduction='mean' gives NaN like PyTorch (not a
    ZeroDivisionError), 'sum' gives 0, and backward gives the empty gradient."""
    x = minigan.tensor(np.zeros((0, 1), np.float32), requires_grad=True)
    t = minigan.tensor(np.zeros((0, 1), np.float32))
    mean = loss(x, t)
    assert mean.dtype == np.float32 and np.isnan(mean.item())
    mean.backward()
    assert x.grad.shape == (0, 1)
    assert loss(x, t, reduction="sum").item() == 0.0
    assert loss(x, t, reduction="none").shape == (0, 1)


@pytest.mark.parametrize("target", [[0.0, 1.5], [-0.1, 1.0], [0.5, float("nan")]])
def test_bce_target_outside_zero_one_is_refused(target):
    x = minigan.tensor(np.zeros(2))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits.*\[0, 1\]"):
        F.binary_cross_entropy_with_logits(x, minigan.tensor(np.array(target)))


def test_bce_targets_at_the_ends_are_fine():
    x = minigan.tensor(np.array([2.0, -1.0, 0.0]))
    loss = F.binary_cross_entropy_with_logits(x, minigan.tensor(np.array([0.0, 1.0, 0.5])))
    sp = np.log1p(np.exp(-np.abs([2.0, -1.0, 0.0])))
    want = np.mean(np.maximum([2.0, -1.0, 0.0], 0) - np.array([0.0, -1.0, 0.0]) + sp)
    assert loss.item() == pytest.approx(want, rel=1e-12)

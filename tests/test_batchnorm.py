"""batch_norm: agreement with PyTorch (outputs, gradients, running statistics),
numerical gradient checks of the fused backward (first and second order), errors."""
import numpy as np
import pytest

import minigan
import minigan.functional as F
from conftest import needs_torch
import reference as R

SHAPES = [(8, 3), (4, 3, 5), (4, 3, 5, 6)]



def _arrays(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    C = shape[1]
    x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
    w = (1 + 0.5 * rng.standard_normal(C)).astype(dtype)
    b = rng.standard_normal(C).astype(dtype)
    return x, w, b


@needs_torch
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 1e-4)],
                         ids=["float64", "float32"])
def test_training_step_agrees_with_torch(shape, affine, dtype, tol, device, torch_one_thread):
    """Output and the gradients of x, weight and bias in training mode."""
    import torch
    x, w, b = _arrays(shape, dtype)
    g = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    mx, mw, mb = (minigan.tensor(a, requires_grad=True, device=device) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    if not affine:
        mw = mb = tw = tb = None
    C = shape[1]
    mrm = minigan.tensor(np.zeros(C, dtype), device=device)
    mrv = minigan.tensor(np.ones(C, dtype), device=device)
    trm, trv = torch.zeros(C, dtype=tx.dtype), torch.ones(C, dtype=tx.dtype)
    my = F.batch_norm(mx, mrm, mrv, mw, mb, training=True)
    ty = torch.nn.functional.batch_norm(tx, trm, trv, tw, tb, training=True)
    my.backward(minigan.tensor(g, device=device))
    ty.backward(torch.tensor(g))
    pairs = [(my, ty), (mx.grad, tx.grad), (mrm, trm), (mrv, trv)]
    if affine:
        pairs += [(mw.grad, tw.grad), (mb.grad, tb.grad)]
    for k, (mine, ref) in enumerate(pairs):
        ref = ref.detach().numpy()
        assert mine.dtype == dtype
        err = np.abs(mine.numpy() - ref).max() / np.abs(ref).max()
        assert err < tol, f"comparison {k}: relative error {err:.3g}"


@needs_torch
@pytest.mark.parametrize("shape", [(16, 4), (6, 4, 3, 5)])
@pytest.mark.parametrize("momentum", [0.1, 0.35])
def test_running_statistics_and_eval_agree_with_torch(shape, momentum, device, torch_one_thread):
    """Five training steps on shifting batches, then an evaluation pass."""
    import torch
    C = shape[1]
    bn = torch.nn.BatchNorm2d(C, momentum=momentum) if len(shape) == 4 else \
        torch.nn.BatchNorm1d(C, momentum=momentum)
    bn = bn.double()
    rm = minigan.tensor(np.zeros(C), device=device)
    rv = minigan.tensor(np.ones(C), device=device)
    _, w, b = _arrays(shape, np.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(w))
        bn.bias.copy_(torch.tensor(b))
    mw, mb = minigan.tensor(w, device=device), minigan.tensor(b, device=device)
    rng = np.random.default_rng(5)
    for step in range(5):
        x = rng.standard_normal(shape) * (1 + step) + step      # statistics drift
        F.batch_norm(minigan.tensor(x, device=device), rm, rv, mw, mb, training=True,
                     momentum=momentum)
        bn.train()(torch.tensor(x))
        np.testing.assert_allclose(rm.numpy(), bn.running_mean.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(rv.numpy(), bn.running_var.numpy(), rtol=1e-12)
    x = rng.standard_normal(shape)
    y = F.batch_norm(minigan.tensor(x, device=device), rm, rv, mw, mb, training=False)
    with torch.no_grad():
        ty = bn.eval()(torch.tensor(x))
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-12, atol=1e-13)


def test_formulas_by_hand():
    """Training output has zero mean and unit (biased) variance per channel; the running
    variance moves toward the unbiased variance with PyTorch's momentum convention."""
    x = minigan.tensor(np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 16.0], [7.0, 16.0]]))
    rm, rv = minigan.tensor(np.zeros(2)), minigan.tensor(np.ones(2))
    y = F.batch_norm(x, rm, rv, training=True, momentum=0.5, eps=0.0)
    np.testing.assert_allclose(y.numpy().mean(axis=0), [0, 0], atol=1e-15)
    np.testing.assert_allclose(y.numpy().var(axis=0), [1, 1], rtol=1e-12)
    np.testing.assert_allclose(rm.numpy(), [0.5 * 4, 0.5 * 13])
    # unbiased variances: [20/3, 36/3]
    np.testing.assert_allclose(rv.numpy(), [0.5 + 0.5 * 20 / 3, 0.5 + 0.5 * 12])


def test_running_statistics_after_three_calls_by_hand():
    """PyTorch's convention with momentum 0.1: running = 0.9 running + 0.1 batch, and the
    running variance takes the unbiased batch variance (n - 1 in the denominator).

    batch [1, 3]:  mean 2, unbiased var 2   ->  rm = 0.2,   rv = 0.9 + 0.2   = 1.1
    batch [2, 6]:  mean 4, unbiased var 8   ->  rm = 0.58,  rv = 0.99 + 0.8  = 1.79
    batch [-1, 1]: mean 0, unbiased var 2   ->  rm = 0.522, rv = 1.611 + 0.2 = 1.811
    """
    rm, rv = minigan.tensor(np.zeros(1)), minigan.tensor(np.ones(1))
    for batch, (want_m, want_v) in [([1.0, 3.0], (0.2, 1.1)), ([2.0, 6.0], (0.58, 1.79)),
                                    ([-1.0, 1.0], (0.522, 1.811))]:
        F.batch_norm(minigan.tensor(np.array(batch).reshape(2, 1)), rm, rv, training=True,
                     momentum=0.1)
        np.testing.assert_allclose(rm.numpy(), [want_m], rtol=1e-14)
        np.testing.assert_allclose(rv.numpy(), [want_v], rtol=1e-14)


@pytest.mark.parametrize("shape", [(16, 4), (6, 4, 3, 5), (4, 3, 5)])
@pytest.mark.parametrize("momentum", [0.1, 0.35])
@pytest.mark.parametrize("affine", [True, False])
def test_training_and_eval_agree_with_numpy_reference(shape, momentum, affine, device):
    """What the PyTorch comparison checks, without PyTorch: five training steps on
    drifting batches (output, gradients of x, weight and bias, running statistics),
    then an evaluation pass with the running statistics."""
    C = shape[1]
    _, w, b = _arrays(shape, np.float64)
    if not affine:
        w = b = None
    mw, mb = (None, None) if not affine else \
        (minigan.tensor(a, requires_grad=True, device=device) for a in (w, b))
    rm = minigan.tensor(np.zeros(C), device=device)
    rv = minigan.tensor(np.ones(C), device=device)
    ref_m, ref_v = np.zeros(C), np.ones(C)
    rng = np.random.default_rng(5)
    for step in range(5):
        x = rng.standard_normal(shape) * (1 + step) + step      # statistics drift
        g = rng.standard_normal(shape)
        mx = minigan.tensor(x, requires_grad=True, device=device)
        for t in (mw, mb):
            if t is not None:
                t.grad = None
        y = F.batch_norm(mx, rm, rv, mw, mb, training=True, momentum=momentum)
        y.backward(minigan.tensor(g, device=device))
        ry, ref_m, ref_v, rdx, rdw, rdb = R.batch_norm_train(x, w, b, ref_m, ref_v, momentum,
                                                             g=g)
        np.testing.assert_allclose(y.numpy(), ry, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(mx.grad.numpy(), rdx, rtol=1e-9, atol=1e-11)
        if affine:
            np.testing.assert_allclose(mw.grad.numpy(), rdw, rtol=1e-10, atol=1e-11)
            np.testing.assert_allclose(mb.grad.numpy(), rdb, rtol=1e-10, atol=1e-11)
        np.testing.assert_allclose(rm.numpy(), ref_m, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(rv.numpy(), ref_v, rtol=1e-12)
    x = rng.standard_normal(shape)
    y = F.batch_norm(minigan.tensor(x, device=device), rm, rv, mw, mb, training=False)
    np.testing.assert_allclose(y.numpy(), R.batch_norm_eval(x, ref_m, ref_v, w, b),
                               rtol=1e-12, atol=1e-13)
    assert not np.allclose(y.numpy(), R.batch_norm_train(x, w, b)[0])   # not batch statistics


def test_eval_uses_running_statistics_and_leaves_them_alone():
    x = minigan.tensor(np.array([[2.0], [4.0]]))
    rm, rv = minigan.tensor(np.array([1.0])), minigan.tensor(np.array([4.0]))
    y = F.batch_norm(x, rm, rv, minigan.tensor(np.array([3.0])), minigan.tensor(np.array([0.5])),
                     training=False, eps=0.0)
    np.testing.assert_allclose(y.numpy(), [[3 * 0.5 + 0.5], [3 * 1.5 + 0.5]])
    assert rm.numpy().tolist() == [1.0] and rv.numpy().tolist() == [4.0]


def test_training_without_running_statistics():
    x = minigan.tensor(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))
    y = F.batch_norm(x, None, None, training=True)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy().mean(axis=0), 0, atol=1e-6)


# --------------------------------------------------------- gradient checks
def _leaves(shape, device, affine=True):
    x, w, b = _arrays(shape, np.float64)
    ts = [minigan.tensor(a, requires_grad=True, device=device) for a in (x, w, b)]
    return ts if affine else ts[:1]


@pytest.mark.parametrize("shape", [(5, 2), (3, 2, 2, 3)])
def test_training_gradcheck_and_gradgradcheck(shape, device):
    C = shape[1]

    def fn(x, w, b):
        # fresh running statistics each call: the numerical check calls fn many times
        rm = minigan.tensor(np.zeros(C), device=device)
        rv = minigan.tensor(np.ones(C), device=device)
        return F.batch_norm(x, rm, rv, w, b, training=True)
    inputs = _leaves(shape, device)
    assert minigan.gradcheck(fn, inputs)
    assert minigan.gradgradcheck(fn, inputs)


def test_training_without_affine_gradcheck_and_gradgradcheck(device):
    def fn(x):
        return F.batch_norm(x, None, None, training=True)
    inputs = _leaves((4, 2, 3), device, affine=False)
    assert minigan.gradcheck(fn, inputs)
    assert minigan.gradgradcheck(fn, inputs)


def test_eval_gradcheck_and_gradgradcheck(device):
    rm = minigan.tensor(np.array([0.5, -1.0]), device=device)
    rv = minigan.tensor(np.array([2.0, 0.3]), device=device)

    def fn(x, w, b):
        return F.batch_norm(x, rm, rv, w, b, training=False)
    inputs = _leaves((3, 2, 2, 2), device)
    assert minigan.gradcheck(fn, inputs)
    assert minigan.gradgradcheck(fn, inputs)


def test_second_derivative_is_not_the_first_order_shortcut():
    """With create_graph the fused backward is rebuilt from x: the gradient of
    sum((dL/dx)^2) must change with x (it would not if xhat were a frozen constant)."""
    x, w, b = _leaves((4, 2), "cpu")
    g = minigan.tensor(np.random.default_rng(2).standard_normal((4, 2)))
    y = F.batch_norm(x, None, None, w, b, training=True)
    (gx,) = minigan.grad(y, x, g, create_graph=True)
    (ggx,) = minigan.grad((gx * gx).sum(), x)
    assert np.abs(ggx.numpy()).max() > 1e-3


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("call,words", [
    (lambda: F.batch_norm(minigan.tensor(np.zeros((4, 3))), minigan.tensor(np.zeros(2)),
                          minigan.tensor(np.ones(3))),
     ["batch_norm", "running_mean", "(3,)", "(2,)", "(4, 3)"]),
    (lambda: F.batch_norm(minigan.tensor(np.zeros((4, 3))), None, None,
                          minigan.tensor(np.ones(4)), training=True),
     ["weight", "(3,)", "(4,)"]),
    (lambda: F.batch_norm(minigan.tensor(np.zeros((1, 3))), None, None, training=True),
     ["more than one value per channel", "(1, 3)"]),
    (lambda: F.batch_norm(minigan.tensor(np.zeros(3)), None, None, training=True),
     ["(N, C)", "(3,)"]),
    (lambda: F.batch_norm(minigan.tensor(np.zeros((4, 3))), None, None, training=False),
     ["running_mean and running_var"]),
])
def test_errors_speak_to_a_student(call, words):
    with pytest.raises(ValueError) as e:
        call()
    for word in words:
        assert word in str(e.value), f"{word!r} missing from: {e.value}"


def _cumulative_layer(shape, device):
    from minigan import nn
    layer = (nn.BatchNorm2d if len(shape) == 4 else nn.BatchNorm1d)(shape[1], momentum=None,
                                                                   dtype="float64")
    return layer.to(device)


@pytest.mark.parametrize("shape", [(16, 4), (6, 4, 3, 5)])
def test_momentum_none_keeps_the_plain_mean_of_every_batch(shape, device):
    """momentum=None: after k batches the running mean is the average of the k batch
    means, and the running variance that of the k unbiased batch variances."""
    layer = _cumulative_layer(shape, device)
    assert int(layer.num_batches_tracked.numpy()) == 0
    rng = np.random.default_rng(3)
    axes = (0,) + tuple(range(2, len(shape)))
    means, variances = [], []
    for k in range(1, 5):
        x = rng.standard_normal(shape) * k + 3 * k          # statistics drift
        layer(minigan.tensor(x, device=device))
        means.append(x.mean(axis=axes))
        variances.append(x.var(axis=axes, ddof=1))
        assert int(layer.num_batches_tracked.numpy()) == k
        np.testing.assert_allclose(layer.running_mean.numpy(), np.mean(means, axis=0),
                                   rtol=1e-12)
        np.testing.assert_allclose(layer.running_var.numpy(), np.mean(variances, axis=0),
                                   rtol=1e-12)
    # a checkpoint carries the count: the copy goes on averaging where this one stopped
    copy = _cumulative_layer(shape, device)
    copy.load_state_dict(layer.state_dict())
    x = rng.standard_normal(shape)
    layer(minigan.tensor(x, device=device))
    copy(minigan.tensor(x, device=device))
    np.testing.assert_array_equal(copy.running_mean.numpy(), layer.running_mean.numpy())
    assert int(copy.num_batches_tracked.numpy()) == 5
    layer.eval()(minigan.tensor(x, device=device))       # evaluation counts nothing
    assert int(layer.num_batches_tracked.numpy()) == 5
    layer.reset_running_stats()
    assert int(layer.num_batches_tracked.numpy()) == 0
    layer.train()(minigan.tensor(x, device=device))      # batch 1 again: its own statistics
    np.testing.assert_allclose(layer.running_mean.numpy(), x.mean(axis=axes), rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("shape", [(16, 4), (6, 4, 3, 5)])
def test_momentum_none_agrees_with_torch(shape, device, torch_one_thread):
    import torch
    mine = _cumulative_layer(shape, device)
    ref = (torch.nn.BatchNorm2d if len(shape) == 4 else torch.nn.BatchNorm1d)(
        shape[1], momentum=None).double()
    rng = np.random.default_rng(4)
    for step in range(5):
        x = rng.standard_normal(shape) * (1 + step) + step
        mine(minigan.tensor(x, device=device))
        ref(torch.tensor(x))
    np.testing.assert_allclose(mine.running_mean.numpy(), ref.running_mean.numpy(), rtol=1e-12,
                               atol=1e-14)
    np.testing.assert_allclose(mine.running_var.numpy(), ref.running_var.numpy(), rtol=1e-12)
    assert int(mine.num_batches_tracked.numpy()) == int(ref.num_batches_tracked)
    x = rng.standard_normal(shape)
    with torch.no_grad():
        np.testing.assert_allclose(mine.eval()(minigan.tensor(x, device=device)).numpy(),
                                   ref.eval()(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-13)


def test_momentum_none_is_chosen_when_the_layer_is_made():
    from minigan import nn
    layer = nn.BatchNorm1d(3)                 # a number: no count of batches to keep
    layer.momentum = None
    with pytest.raises(ValueError, match="when the layer is made"):
        layer(minigan.tensor(np.ones((4, 3))))
    with pytest.raises(ValueError, match=r"\[0, 1\] or None"):
        nn.BatchNorm1d(3, momentum=1.5)

"""Reference and virtual batch norm: the formulas by hand and against PyTorch's batch
norm, gradient checks, independence from the batch, and clear errors."""
import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import nn
from conftest import needs_torch


def _by_hand(x, ref, eps=1e-5):
    """Virtual batch norm sample by sample: plain batch-norm statistics of the reference
    batch with the sample appended (NumPy, float64)."""
    out = np.empty_like(x)
    for i in range(len(x)):
        pool = np.concatenate([ref, x[i:i + 1]])
        m = pool.mean(axis=(0, 2, 3), keepdims=True)
        v = pool.var(axis=(0, 2, 3), keepdims=True)
        out[i] = ((x[i:i + 1] - m) / np.sqrt(v + eps))[0]
    return out


def test_virtual_batch_norm_is_the_reference_batch_with_the_sample_appended():
    rng = np.random.default_rng(0)
    x, ref = rng.standard_normal((5, 3, 4, 4)) * 2 + 1, rng.standard_normal((7, 3, 4, 4))
    y = F.virtual_batch_norm(minigan.tensor(x), minigan.tensor(ref))
    np.testing.assert_allclose(y.numpy(), _by_hand(x, ref), rtol=1e-10, atol=1e-12)


def test_reference_batch_norm_is_eval_mode_batch_norm_with_the_references_statistics():
    rng = np.random.default_rng(1)
    x, ref = rng.standard_normal((4, 2, 3, 3)), rng.standard_normal((6, 2, 3, 3)) + 0.5
    w, b = rng.standard_normal(2), rng.standard_normal(2)
    y = F.virtual_batch_norm(minigan.tensor(x), minigan.tensor(ref), minigan.tensor(w),
                             minigan.tensor(b), include_self=False)
    rm, rv = ref.mean(axis=(0, 2, 3)), ref.var(axis=(0, 2, 3))       # biased, by hand
    want = (x - rm[:, None, None]) / np.sqrt(rv[:, None, None] + 1e-5) * w[:, None, None] \
        + b[:, None, None]
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-10, atol=1e-12)


@needs_torch
def test_against_torch_batch_norm_of_the_pooled_batch(torch_one_thread):
    # PyTorch has no virtual batch norm; its training-mode batch norm of [reference, x_i]
    # gives x_i's row of virtual batch norm
    import torch
    rng = np.random.default_rng(2)
    x, ref = rng.standard_normal((3, 4, 5, 5)), rng.standard_normal((8, 4, 5, 5))
    w, b = rng.standard_normal(4), rng.standard_normal(4)
    layer = nn.VirtualBatchNorm2d(4, reference=ref, dtype="float64")
    layer.weight.data[...], layer.bias.data[...] = w, b
    y = layer(minigan.tensor(x)).numpy()
    for i in range(3):
        pooled = torch.tensor(np.concatenate([ref, x[i:i + 1]]))
        t = torch.nn.functional.batch_norm(pooled, None, None, torch.tensor(w), torch.tensor(b),
                                           training=True, eps=1e-5)
        np.testing.assert_allclose(y[i], t[-1].numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("include_self", [True, False])
def test_gradcheck_and_gradgradcheck_including_the_reference(include_self):
    rng = np.random.default_rng(3)
    leaves = [minigan.tensor(a, requires_grad=True) for a in
              (rng.standard_normal((3, 2, 2, 3)), rng.standard_normal((4, 2, 2, 3)),
               rng.standard_normal(2), rng.standard_normal(2))]

    def fn(x, ref, w, b):
        return F.virtual_batch_norm(x, ref, w, b, include_self=include_self)
    assert minigan.gradcheck(fn, leaves)
    assert minigan.gradgradcheck(fn, leaves)


def test_a_samples_output_does_not_depend_on_its_batch_mates():
    rng = np.random.default_rng(4)
    layer = nn.VirtualBatchNorm2d(3, reference=rng.standard_normal((16, 3, 6, 6)))
    x = rng.standard_normal((8, 3, 6, 6)).astype(np.float32)
    alone = np.stack([layer(minigan.tensor(x[i:i + 1])).numpy()[0] for i in range(8)])
    other = x.copy()
    other[1:] = rng.standard_normal((7, 3, 6, 6)) * 5 + 3            # new batch mates for x[0]
    together = layer(minigan.tensor(x)).numpy()
    np.testing.assert_allclose(together, alone, rtol=0, atol=1e-6)
    np.testing.assert_allclose(layer(minigan.tensor(other)).numpy()[0], together[0],
                               rtol=0, atol=1e-6)
    # plain batch norm in training mode fails the same test (the test can fail)
    bn = nn.BatchNorm2d(3)
    assert np.abs(bn(minigan.tensor(other)).numpy()[0] - bn(minigan.tensor(x)).numpy()[0]).max() > 0.1


def test_reference_batch_wrapper_follows_the_weights_and_keeps_samples_independent():
    rng = np.random.default_rng(5)
    minigan.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.VirtualBatchNorm2d(4), nn.ReLU(),
                        nn.Conv2d(4, 1, 3, padding=1))
    model = nn.ReferenceBatch(net, rng.standard_normal((6, 1, 5, 5)).astype(np.float32))
    x = minigan.tensor(rng.standard_normal((4, 1, 5, 5)).astype(np.float32))
    y = model(x)
    np.testing.assert_allclose(y.numpy()[2], model(x[2:3]).numpy()[0], atol=1e-6)
    y.sum().backward()                         # gradients reach the first conv through both passes
    assert np.abs(net[0].weight.grad.numpy()).max() > 0
    assert net[1]._captured is None            # nothing left over for the next call
    with pytest.raises(ValueError, match="no reference batch"):
        net(x)                                 # the layer alone has none


def test_every_reference_layer_passes_gradcheck_through_its_parameters():
    from test_nn import _as_function
    rng = np.random.default_rng(6)
    for cls in (nn.VirtualBatchNorm2d, nn.ReferenceBatchNorm2d):
        layer = cls(2, reference=rng.standard_normal((3, 2, 2, 2))).double()
        fn, params = _as_function(layer)
        inputs = [minigan.tensor(rng.standard_normal((2, 2, 2, 2)), requires_grad=True)] + \
            [minigan.tensor(p.data.copy(), requires_grad=True) for p in params]
        assert minigan.gradcheck(fn, inputs)
        assert minigan.gradgradcheck(fn, inputs)


def test_the_reference_is_a_buffer_saved_with_the_model():
    layer = nn.VirtualBatchNorm2d(2, reference=np.ones((3, 2, 2, 2)) * np.arange(2)[:, None, None])
    state = layer.state_dict()
    assert state["reference"].shape == (3, 2, 2, 2) and layer.reference.dtype == np.float32
    assert "reference=(3, 2, 2, 2)" in repr(layer)


@pytest.mark.parametrize("ref, match", [
    (np.zeros((4, 3, 2, 2)), r"VirtualBatchNorm2d\(2\): the reference batch must have shape "
                             r"\(R, 2, H, W\) with R >= 1, got shape \(4, 3, 2, 2\)"),
    (np.zeros((4, 2)), r"got shape \(4, 2\)"),
    (np.zeros((0, 2, 2, 2)), r"got shape \(0, 2, 2, 2\)"),
    (np.zeros((1, 2, 1, 1)), "too few for a variance"),
])
def test_a_reference_batch_of_the_wrong_shape_is_refused_at_construction(ref, match):
    with pytest.raises(ValueError, match=match):
        nn.VirtualBatchNorm2d(2, reference=ref)


def test_wrong_inputs_are_named():
    layer = nn.VirtualBatchNorm2d(2, reference=np.zeros((3, 2, 2, 2)))
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 2, H, W\), got shape"):
        layer(minigan.tensor(np.zeros((3, 4, 2, 2), np.float32)))
    with pytest.raises(ValueError, match="no ReferenceBatchNorm2d or VirtualBatchNorm2d"):
        nn.ReferenceBatch(nn.Sequential(nn.ReLU()), np.zeros((2, 3)))

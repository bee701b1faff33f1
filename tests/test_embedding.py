"""Embedding (F.embedding, nn.Embedding): rows of a table looked up by integer index,
PyTorch's semantics; its backward is getitem's scatter-add (ops/shape.py).

gradcheck and gradgradcheck of F.embedding are in test_ops_gradcheck.py too, and its
parity with torch's F.embedding in test_ops_torch.py. Here: the look-up by hand, the
scatter-add against a NumPy loop, the layer against torch.nn.Embedding, the
initialization, and the errors.
"""
import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import nn
from conftest import needs_torch


def _w(rows, dim, device="cpu", seed=0):
    a = np.random.default_rng(seed).standard_normal((rows, dim))
    return minigan.tensor(a, requires_grad=True, device=device)


def _idx(a, device="cpu"):
    return minigan.tensor(np.asarray(a, dtype=np.int64), device=device)


def test_lookup_by_hand_for_indices_of_any_shape(device):
    w = _w(5, 3, device)
    table = w.numpy()
    np.testing.assert_array_equal(F.embedding(_idx([4, 0, 4], device), w).numpy(),
                                  table[[4, 0, 4]])
    out = F.embedding(_idx([[1, 2], [3, 1], [0, 0]], device), w)
    assert out.shape == (3, 2, 3)
    np.testing.assert_array_equal(out.numpy()[1, 0], table[3])
    assert F.embedding(_idx(2, device), w).shape == (3,)                 # a 0-d index
    assert F.embedding(_idx(np.zeros((0,)), device), w).shape == (0, 3)  # an empty batch
    assert F.embedding(_idx(np.array([1, 2], np.int32), device), w).shape == (2, 3)
    labels = np.array([2, 2], np.uint8)                                  # an array will do
    np.testing.assert_array_equal(F.embedding(minigan.tensor(labels, device=device).data, w)
                                  .numpy(), table[[2, 2]])


def test_backward_is_a_scatter_add_against_a_loop(device):
    """dL/dweight[r] = the sum of the gradients of every look-up of row r; rows never
    looked up get 0 (a class drawn twice in a batch collects both)."""
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 6, (4, 5))
    g = rng.standard_normal((4, 5, 3))
    w = _w(7, 3, device)
    F.embedding(_idx(idx, device), w).backward(minigan.tensor(g, device=device))
    want = np.zeros((7, 3))
    for i in range(4):
        for j in range(5):
            want[idx[i, j]] += g[i, j]
    np.testing.assert_allclose(w.grad.numpy(), want, rtol=1e-14)
    np.testing.assert_array_equal(w.grad.numpy()[6], 0.0)                # row 6: never used


def test_gradcheck_and_gradgradcheck(device):
    idx = _idx([[0, 2, 2], [3, 0, 1]], device)                            # repeats on purpose
    w = _w(4, 3, device)
    assert minigan.gradcheck(lambda w: F.embedding(idx, w), (w,))
    # the look-up is linear in w: through tanh the second derivative must pass the scatter
    fn = (lambda w: F.tanh(F.embedding(idx, w)) ** 2)
    assert minigan.gradcheck(fn, (w,))
    assert minigan.gradgradcheck(fn, (w,))


def test_the_layer_draws_standard_normal_rows():
    minigan.manual_seed(0)
    emb = nn.Embedding(1000, 64)
    w = emb.weight.numpy()
    assert w.shape == (1000, 64) and w.dtype == np.float32
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1.0) < 0.01           # torch's N(0, 1)
    assert repr(emb) == "Embedding(1000, 64)"
    assert [n for n, _ in emb.named_parameters()] == ["weight"]


@needs_torch
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-6)])
def test_the_layer_matches_torch(dtype, tol, device, torch_one_thread):
    import torch
    ours = nn.Embedding(10, 4).to(device, dtype)
    theirs = torch.nn.Embedding(10, 4).to(torch.float64 if dtype == np.float64 else torch.float32)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.numpy()))
    rng = np.random.default_rng(2)
    for shape in [(6,), (3, 5), (2, 2, 3)]:
        idx = rng.integers(0, 10, shape)
        g = rng.standard_normal(shape + (4,)).astype(dtype)
        ours.zero_grad()
        theirs.zero_grad()
        y, ty = ours(_idx(idx, device)), theirs(torch.from_numpy(idx))
        y.backward(minigan.tensor(g, device=device))
        ty.backward(torch.from_numpy(g))
        assert y.dtype == dtype and y.shape == tuple(ty.shape)
        np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                                   rtol=tol, atol=tol)


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.embedding(_idx([0, 5]), _w(5, 2)), IndexError,
     ["embedding: index 5 is out of range for a table of 5 rows", "0..4"]),
    (lambda: F.embedding(_idx([-1, 2]), _w(5, 2)), IndexError,
     ["embedding: index -1 is out of range", "0..4"]),
    (lambda: F.embedding(minigan.tensor(np.array([0.0, 1.0])), _w(5, 2)), TypeError,
     ["embedding: input must hold integer indices", "float64", "astype('int64')"]),
    (lambda: F.embedding(minigan.tensor(np.array([True, False])), _w(5, 2)), TypeError,
     ["must hold integer indices", "bool"]),
    (lambda: F.embedding([0, 1], _w(5, 2)), TypeError,
     ["embedding: input must be a minigan Tensor", "(type list)"]),
    (lambda: F.embedding(_idx([0]), np.zeros((5, 2))), TypeError,
     ["embedding: weight must be a minigan Tensor"]),
    (lambda: F.embedding(_idx([0]), minigan.tensor(np.zeros(5))), ValueError,
     ["embedding: weight must be a 2-D table (num_embeddings, embedding_dim)", "(5,)"]),
    (lambda: nn.Embedding(10, 3)(_idx([[3, 10]])), IndexError,
     ["index 10 is out of range for a table of 10 rows"]),
    (lambda: nn.Embedding(10, 3)([1, 2]), TypeError,
     ["Embedding(10, 3): the input must be a minigan Tensor", "(type list)"]),
    (lambda: nn.Embedding(0, 3), ValueError, ["Embedding: num_embeddings must be a whole number "
                                              ">= 1, got 0"]),
    (lambda: nn.Embedding(4.0, 3), TypeError, ["Embedding: num_embeddings must be a whole number"]),
    (lambda: nn.Embedding(4, 3, padding_idx=0), NotImplementedError,
     ["Embedding: padding_idx, max_norm", "not implemented"]),
], ids=["too-large", "negative", "float", "bool", "list", "weight-array", "weight-1d",
        "layer-range", "layer-list", "zero-rows", "float-rows", "padding_idx"])
def test_errors_speak_to_a_student(call, error, words):
    with pytest.raises(error) as e:
        call()
    for word in words:
        assert word in str(e.value), f"{word!r} missing from: {e.value}"

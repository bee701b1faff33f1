"""The Tensor: dtype rules, devices, shape methods, and the errors that teach.
(The graph, backward() and grad() behind it: test_autograd.py.)"""
import sys
import types
import warnings

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import backend
from conftest import HAVE_TORCH

if HAVE_TORCH:
    import torch


def t64(values, **kw):
    return minigan.tensor(np.asarray(values, dtype=np.float64), **kw)


# ------------------------------------------------------------------ errors that teach
def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match=r"floating-point.*int64.*dtype="):
        minigan.tensor(np.arange(3), requires_grad=True)
    t = minigan.tensor(np.arange(3))
    with pytest.raises(TypeError, match="int64"):
        t.requires_grad = True


def test_requires_grad_only_changes_on_leaves():
    x = t64([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad = False


@pytest.mark.parametrize("op, name", [(lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"),
                                      (lambda a, b: a * b, "mul"), (lambda a, b: a / b, "div"),
                                      (lambda a, b: a ** b, "pow"), (F.maximum, "maximum"),
                                      (lambda a, b: a @ b, "matmul"),
                                      (F.mse_loss, "mse_loss"),
                                      (F.binary_cross_entropy_with_logits, "binary_cross_entropy")])
def test_shape_mismatch_names_op_and_both_shapes(op, name):
    a, b = t64(np.ones((2, 3))), t64(np.ones((4, 5)))
    with pytest.raises(ValueError) as err:
        op(a, b)
    msg = str(err.value)
    assert name in msg and "(2, 3)" in msg and "(4, 5)" in msg, msg


def test_linear_shape_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"linear.*\(2, 3\).*\(4, 5\)"):
        F.linear(t64(np.ones((2, 3))), t64(np.ones((4, 5))))


# ------------------------------------------------------------------ dtype rules
def test_dtype_rules():
    assert minigan.tensor(1.5).dtype == np.float32                 # python scalar
    assert minigan.tensor(3).dtype == np.float32                   # python int too
    assert minigan.tensor([1, 2]).dtype == np.float32              # lists
    assert minigan.tensor([[1.0], [2.0]]).dtype == np.float32
    assert minigan.tensor(np.zeros(2)).dtype == np.float64         # arrays keep their dtype
    assert minigan.tensor(np.zeros(2, np.float32)).dtype == np.float32
    assert minigan.tensor(np.arange(2)).dtype == np.int64
    assert minigan.tensor([1, 2], dtype="float64").dtype == np.float64
    x32, x64 = minigan.tensor([1.0, 2.0]), t64([1.0, 2.0])
    for x in (x32, x64):                                           # scalars never change it
        for y in (x * 0.5, 0.5 * x, x + 1, 1 - x, x / 3, 2.0 / x, x ** 2, 2 ** x,
                  x * np.float64(0.1), F.clip(x, 0.0, 1.5), F.maximum(x, 1.2),
                  F.leaky_relu(x, 0.3), F.softplus(x, beta=2.0), F.dropout(x, 0.5)):
            assert y.dtype == x.dtype
    assert (x32 + x64).dtype == np.float64                         # arrays promote as numpy does
    assert ((x32 > 1) * 2).dtype == np.int64                       # a mask times a count


@pytest.mark.parametrize("data,words", [
    (None, ["tensor(None)", "numbers"]),
    ([1.0, None], ["None", "numbers"]),
    ("0.5", ["strings", "numbers"]),
    (["1", "2"], ["strings"]),
    (np.array([1.0, None]), ["object"]),
    (np.array(["a"]), ["<U1"]),
])
def test_non_numbers_are_a_type_error_not_nan(data, words):
    """NumPy turns None into nan; a tensor refuses it (and strings, and objects)."""
    for make in (lambda: minigan.tensor(data), lambda: minigan.tensor(data, dtype="float64"),
                 lambda: minigan.Tensor(data)):
        with pytest.raises(TypeError) as e:
            make()
        for word in words:
            assert word in str(e.value), f"{word!r} missing from: {e.value}"


@pytest.mark.parametrize("shape,axis", [((0,), None), ((0, 3), None), ((0, 3), 0),
                                        ((3, 0), 1), ((2, 0, 4), (1, 2))])
def test_mean_of_nothing_is_nan_as_in_torch(shape, axis):
    """torch.zeros(0).mean() is nan (0/0): so is minigan's, quietly, and its gradient
    is the empty gradient of the empty input."""
    x = minigan.tensor(np.zeros(shape), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # no "mean of empty slice" warning
        y = x.mean(axis=axis)
        expected_shape = np.zeros(shape).sum(axis=axis).shape
        assert y.shape == expected_shape and np.isnan(y.numpy()).all()
        y.sum().backward()
    assert x.grad.shape == shape
    if HAVE_TORCH:
        t = torch.zeros(shape, dtype=torch.float64).mean(**({} if axis is None else {"dim": axis}))
        assert tuple(t.shape) == y.shape and torch.isnan(t).all()


def test_gradients_keep_the_dtype():
    x = minigan.tensor([1.0, 2.0], requires_grad=True)
    (F.sigmoid(x * 3.0) ** 2).sum().backward()
    assert x.grad.dtype == np.float32


# ------------------------------------------------------------------ devices
def test_cuda_without_cupy_raises_one_clear_error(monkeypatch):
    """Simulates a machine without CuPy (the import fails)."""
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_cupy_error", None)
    monkeypatch.setitem(sys.modules, "cupy", None)                 # `import cupy` -> ImportError
    assert not backend.cuda_available()
    with pytest.raises(RuntimeError, match=r"device='cuda'.*CuPy is not installed.*pip install"):
        minigan.tensor([1.0], device="cuda")
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        minigan.tensor([1.0]).to("cuda")


def test_cuda_without_gpu_raises_one_clear_error(monkeypatch):
    """Simulates CuPy installed on a machine with no usable GPU."""
    def no_device():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")
    fake = types.SimpleNamespace(cuda=types.SimpleNamespace(
        runtime=types.SimpleNamespace(getDeviceCount=no_device)))
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_cupy_error", None)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    with pytest.raises(RuntimeError, match=r"device='cuda'.*no usable GPU.*no CUDA-capable"):
        minigan.tensor([1.0], device="cuda")


def test_real_cuda_request_without_gpu():
    if backend.cuda_available():
        pytest.skip("a GPU is present here")
    with pytest.raises(RuntimeError, match=r"device='cuda' was asked for, but"):
        minigan.tensor([1.0], device="cuda")


def test_minigan_device_environment_variable(monkeypatch):
    monkeypatch.setenv("MINIGAN_DEVICE", "cpu")
    assert backend.default_device() == "cpu"
    assert minigan.tensor([1.0]).device == "cpu"
    monkeypatch.setenv("MINIGAN_DEVICE", "tpu")
    with pytest.raises(ValueError, match="tpu"):
        minigan.tensor([1.0])
    monkeypatch.setenv("MINIGAN_DEVICE", "cuda")
    if backend.cuda_available():
        assert minigan.tensor([1.0]).device == "cuda"
    else:
        with pytest.raises(RuntimeError, match="device='cuda'"):
            minigan.tensor([1.0])


def test_tensors_on_two_devices_raise_naming_both():
    if not backend.cuda_available():
        pytest.skip("needs a GPU to have two devices")
    a, b = minigan.tensor([1.0, 2.0]), minigan.tensor([1.0, 2.0], device="cuda")
    for op in (lambda: a + b, lambda: a * b, lambda: F.linear(a[None], b[None])):
        with pytest.raises(RuntimeError, match=r"cpu.*cuda|cuda.*cpu"):
            op()


def test_to_moves_and_casts_with_gradient(device):
    x = t64([1.0, 2.0], requires_grad=True)
    y = x.to(device).to(dtype=np.float32)
    assert y.device == device and y.dtype == np.float32
    (y * y).sum().backward()
    assert x.grad.device == "cpu" and x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_shape_ops_on_zero_d_tensors_and_numpy_integer_axes():
    t = minigan.tensor(3.0, dtype="float64", requires_grad=True)
    assert t.flatten().shape == (1,)
    assert t.squeeze(0).shape == ()
    assert t.permute().shape == ()
    t.flatten().sum().backward()
    assert t.grad.item() == 1.0
    x = minigan.tensor(np.ones((2, 3)))
    assert x.sum(axis=np.int64(1)).shape == (2,)
    assert x.mean(axis=[0, 1]).shape == ()
    with pytest.raises(IndexError, match="flatten: axis 5"):
        x.flatten(5)
    with pytest.raises(ValueError, match="not a permutation"):
        x.permute(0)

"""Which array library backs a tensor: NumPy on the CPU, CuPy on a GPU.

minigan keeps one code path for both. Array code never does ``import numpy as
np`` for tensor math; it asks the array which module it belongs to::

    xp = array_module(a)      # numpy or cupy
    y = xp.exp(a)

Devices are named ``"cpu"`` and ``"cuda"``. The default device is ``"cpu"``
unless the environment variable ``MINIGAN_DEVICE`` says otherwise. Nothing is
copied between host and device unless the user asks (``Tensor.to``,
``Tensor.numpy``).

Randomness goes through one seeded ``Generator`` per backend (``manual_seed``),
so the same seed gives the same run.
"""
import os

import numpy

_cupy = None          # the cupy module once imported
_cupy_error = None    # why it could not be used, if it could not


def _try_cupy():
    """Import CuPy lazily: a CPU user never pays for it, and never sees its errors."""
    global _cupy, _cupy_error
    if _cupy is not None or _cupy_error is not None:
        return _cupy
    try:
        import cupy
    except ImportError:
        _cupy_error = ("CuPy is not installed. Install minigan's GPU extra "
                       "(pip install -e '.[gpu]', or pip install cupy-cuda12x "
                       "matching your CUDA version) to use device='cuda'.")
        return None
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # no driver, no device, broken CUDA install
        _cupy_error = f"CuPy is installed but no usable GPU was found ({e})."
        return None
    if n == 0:
        _cupy_error = "CuPy is installed but no GPU was found."
        return None
    _cupy = cupy
    return _cupy


def cuda_available():
    """True when device='cuda' would work (CuPy importable and a GPU present)."""
    return _try_cupy() is not None


def require_cupy():
    """The cupy module, or a RuntimeError that says what is missing and how to fix it."""
    cp = _try_cupy()
    if cp is None:
        raise RuntimeError(f"device='cuda' was asked for, but {_cupy_error}")
    return cp


def default_device():
    """The device new tensors go to: $MINIGAN_DEVICE, else 'cpu'."""
    return normalize_device(os.environ.get("MINIGAN_DEVICE", "cpu") or "cpu")


def normalize_device(device):
    """Map None/'cpu'/'cuda'/'cuda:0'/'gpu' to 'cpu' or 'cuda'; refuse anything else."""
    if device is None:
        return default_device()
    d = str(device).lower()
    if d == "cpu":
        return "cpu"
    if d in ("cuda", "gpu") or d.startswith("cuda:"):
        return "cuda"
    raise ValueError(f"unknown device {device!r}: use 'cpu' or 'cuda'")


def module_for(device):
    """numpy for 'cpu', cupy for 'cuda' (with a clear error if CuPy cannot run)."""
    return numpy if normalize_device(device) == "cpu" else require_cupy()


def array_module(*arrays):
    """The module (numpy or cupy) that owns these arrays: Chainer's get_array_module."""
    if _cupy is not None:
        for a in arrays:
            if isinstance(a, _cupy.ndarray):
                return _cupy
    return numpy


def device_of(a):
    """'cuda' for a CuPy array, 'cpu' for anything else."""
    return "cuda" if (_cupy is not None and isinstance(a, _cupy.ndarray)) else "cpu"


def to_device(a, device):
    """Move an array to a device; a no-op when it is already there."""
    device = normalize_device(device)
    if device == device_of(a):
        return a
    if device == "cpu":
        return a.get()
    return require_cupy().asarray(a)


def to_numpy(a):
    """A NumPy array on the host (copies from the GPU if needed)."""
    return a.get() if device_of(a) == "cuda" else numpy.asarray(a)


# ---------------------------------------------------------------- randomness
_seed = None
_generators = {}


def manual_seed(seed):
    """Seed every backend's generator, so the same seed gives the same run."""
    global _seed
    _seed = int(seed)
    _generators.clear()


def generator(device="cpu"):
    """The one seeded random Generator of this device's backend."""
    device = normalize_device(device)
    g = _generators.get(device)
    if g is None:
        xp = module_for(device)
        g = xp.random.default_rng(_seed)
        _generators[device] = g
    return g

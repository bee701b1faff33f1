"""Which array library backs a tensor: NumPy on the CPU, CuPy on a GPU.

minigan keeps one code path for both. Array code never does ``import numpy as
np`` for tensor math; it asks the array which module it belongs to::

    xp = array_module(a)      # numpy or cupy
    y = xp.exp(a)

Devices are named ``"cpu"`` and ``"cuda"``. The default device, where every new
tensor and layer parameter goes, is ``"cpu"`` unless the environment variable
``MINIGAN_DEVICE`` says otherwise. Nothing is copied between host and device
unless the user asks (``Tensor.to``, ``Tensor.numpy``, ``Tensor.item``).

Every copy from the device to the host goes through ``to_numpy`` (a training
step makes one, with ``fetch_floats``): on a GPU each such copy waits for all the
work queued before it, so they are worth counting, and tests count them.

Randomness goes through one seeded generator per backend (``manual_seed``), so
the same seed gives the same run, and a checkpoint can save where each one is
(``rng_state`` and ``set_rng_state``).
"""
import os

import numpy

from . import checks

# The GPU extra to install for each CUDA major version: prebuilt CuPy wheels
# (the plain `cupy` package on PyPI is the source distribution, compiled on install).
GPU_EXTRAS = {12: ("gpu-cuda12", "cupy-cuda12x"), 13: ("gpu-cuda13", "cupy-cuda13x")}
INSTALL_HINT = ("pip install 'minigan[gpu-cuda12]' for CUDA 12 or 'minigan[gpu-cuda13]' "
                "for CUDA 13 (from a checkout: pip install -e '.[gpu-cuda12]'; `nvidia-smi` "
                "shows your CUDA version)")

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
        _cupy_error = f"CuPy is not installed. Install minigan's GPU extra: {INSTALL_HINT}."
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
    """Map None/'cpu'/'cuda'/'cuda:0'/'gpu' to 'cpu' or 'cuda'; refuse anything else.
    None means the default device."""
    if device is None:
        return default_device()
    d = str(device).lower()
    if d == "cpu":
        return "cpu"
    if d in ("cuda", "gpu") or d.startswith("cuda:"):
        return "cuda"
    raise ValueError(f"unknown device {device!r}: use 'cpu' or 'cuda'")


def module_for(device):
    """numpy for 'cpu', cupy for 'cuda' (with a clear error if CuPy cannot run).
    None means the default device."""
    return numpy if normalize_device(device) == "cpu" else require_cupy()


def is_device_array(a):
    """True for a CuPy array, known by its type's module, without importing CuPy:
    a CuPy array must never be taken for a host one (NumPy cannot read it)."""
    t = type(a)
    return t is not numpy.ndarray and t.__module__.startswith("cupy")


def _cupy_of(a):
    """The cupy module, for an array that is already a CuPy array (so CuPy works)."""
    if _cupy is None:
        require_cupy()
    return _cupy


def array_module(*arrays):
    """The module (numpy or cupy) that owns these arrays: Chainer's get_array_module."""
    for a in arrays:
        if is_device_array(a):
            return _cupy_of(a)
    return numpy


def device_of(a):
    """'cuda' for a CuPy array, 'cpu' for anything else."""
    return "cuda" if is_device_array(a) else "cpu"


def to_device(a, device):
    """Move an array to a device; a no-op when it is already there."""
    device = normalize_device(device)
    if device == device_of(a):
        return a
    if device == "cpu":
        return to_numpy(a)
    return require_cupy().asarray(a)


def to_numpy(a):
    """A NumPy array on the host (copies from the GPU if needed).

    The one door from the device to the host: ``Tensor.numpy``, ``Tensor.item``,
    ``fetch_floats`` and the metrics all come through here."""
    return a.get() if is_device_array(a) else numpy.asarray(a)


def fetch_floats(arrays):
    """Python floats of one-element arrays (on one device), copied to the host in ONE
    transfer: stacked on the device first, then fetched with ``to_numpy``.

    A training step reports a dozen numbers (losses, D's outputs, gradient norms).
    Fetching each with ``.item()`` would make the host wait for the GPU a dozen
    times a step; this waits once. The values are exact: float32 widens to float64
    without rounding, so they are the floats ``.item()`` would give."""
    if not arrays:
        return []
    xp = array_module(*arrays)
    stacked = xp.stack([xp.asarray(a).reshape(()) for a in arrays])
    return to_numpy(stacked).tolist()


# ---------------------------------------------------------------- randomness
_seed = None
_generators = {}

# CuPy's random generators keep their state in device memory and cannot save or
# restore it. On the GPU, minigan therefore draws each batch of random numbers
# from a fresh counter-based generator (Philox) keyed by (seed, number of draws so
# far): its whole state is those two integers, which a checkpoint saves, so a
# resumed GPU run draws exactly what an uninterrupted one would have.
_GPU_RNG_THREADS = 1 << 16     # curand states per draw (each one a Philox counter)


class CountedGenerator:
    """A random generator whose state is (seed, draws): draw number k comes from a
    fresh Philox generator seeded with ``SeedSequence([seed, k])``.

    It answers the methods of a NumPy/CuPy ``Generator`` (``random``,
    ``standard_normal``, ``integers``, ``permutation``...): each method looked up
    is one draw, from its own generator. ``state()`` is ``{"seed", "draws"}``;
    ``set_state`` continues from one exactly. ``module`` is the array module to
    draw with (cupy for the GPU; numpy is accepted, which is how the CPU tests
    check the bookkeeping).
    """

    def __init__(self, seed=None, module=None):
        if seed is None:                      # unseeded: fresh entropy, still saveable
            seed = numpy.random.SeedSequence().entropy
        self.seed, self.draws = int(seed), 0
        self._module = module

    def _next_generator(self):
        xp = self._module if self._module is not None else require_cupy()
        key = numpy.random.SeedSequence([self.seed, self.draws])
        self.draws += 1
        if xp is numpy:
            return numpy.random.Generator(numpy.random.Philox(key))
        return xp.random.Generator(xp.random.Philox4x3210(key, size=_GPU_RNG_THREADS))

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._next_generator(), name)

    def state(self):
        return {"seed": self.seed, "draws": self.draws}

    def set_state(self, state):
        self.seed, self.draws = int(state["seed"]), int(state["draws"])

    def __repr__(self):
        return f"CountedGenerator(seed={self.seed}, draws={self.draws})"


def manual_seed(seed):
    """Seed every backend's generator, so the same seed gives the same run.

    The seed is a whole number >= 0 (a NumPy integer will do): 1.7 is refused rather
    than becoming 1, True rather than becoming 1, and -1 now rather than at the
    first random draw, where NumPy would refuse it far from the mistake."""
    global _seed
    _seed = checks.whole_number(seed, "seed", "manual_seed")
    _generators.clear()


def generator(device="cpu"):
    """The one seeded random generator of this device's backend: NumPy's default
    ``Generator`` on the CPU, a ``CountedGenerator`` over CuPy on the GPU."""
    device = normalize_device(device)
    g = _generators.get(device)
    if g is None:
        if device == "cpu":
            g = numpy.random.default_rng(_seed)
        else:
            g = CountedGenerator(_seed, require_cupy())
        _generators[device] = g
    return g


def rng_state():
    """Where each generator made so far stands, as JSON-friendly dicts by device:
    the CPU's NumPy bit-generator state, the GPU's (seed, draws)."""
    out = {}
    for device, g in _generators.items():
        out[device] = g.bit_generator.state if device == "cpu" else g.state()
    return out


def set_rng_state(states):
    """Continue each generator in `states` (what ``rng_state`` returned) exactly."""
    for device, st in states.items():
        device = normalize_device(device)
        if device == "cpu":
            generator("cpu").bit_generator.state = st
        else:
            g = _generators.get(device)
            if g is None:                 # made without CuPy: it is asked for at the first draw
                g = _generators[device] = CountedGenerator(st["seed"])
            g.set_state(st)

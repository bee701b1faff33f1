"""A stand-in for CuPy on the CPU, to rehearse minigan's GPU path where no GPU is.

Its arrays are a NumPy subclass whose type lives in a module named like CuPy's
(``cupy._core.core``), so minigan takes them for GPU arrays ("cuda") and every
CuPy branch of the code runs: the default device, device checks, the bound
check of integer indices, the counted GPU random generator, checkpoints of
device tensors, ``--device cuda`` experiments.

It also counts what a GPU would make the host wait for:

* ``transfers``: explicit copies to the host (``.get()``, which ``backend.to_numpy``
  calls);
* ``implicit``: conversions that would each be a hidden copy from a real GPU
  (``float(a)``, ``int(a)``, ``bool(a)``, ``a.item()``, ``a.tolist()``).

What it cannot show: the real arithmetic is NumPy's (CuPy's wrap-around of
out-of-range indices, for one, does not happen here), and NumPy would read such
an array where CuPy raises. The tests that need the real thing run on CuPy where
a GPU is found (``needs_gpu``).
"""
import sys
import types

import numpy


class ndarray(numpy.ndarray):
    """An array 'on the device'."""

    def get(self):
        FAKE.transfers += 1
        return numpy.array(self)                   # a plain host copy

    def __float__(self):
        FAKE.implicit += 1
        return float(numpy.asarray(self))

    def __int__(self):
        FAKE.implicit += 1
        return int(numpy.asarray(self))

    def __bool__(self):
        FAKE.implicit += 1
        return bool(numpy.asarray(self))

    def item(self, *args):
        FAKE.implicit += 1
        return numpy.asarray(self).item(*args)

    def tolist(self):
        FAKE.implicit += 1
        return numpy.asarray(self).tolist()


ndarray.__module__ = "cupy._core.core"             # where CuPy's ndarray lives


def _on_device(v):
    """Results of NumPy functions, as device arrays."""
    if isinstance(v, numpy.ndarray) and not isinstance(v, ndarray):
        return v.view(ndarray)
    if isinstance(v, numpy.generic):
        return numpy.asarray(v).view(ndarray)
    if isinstance(v, tuple):
        return tuple(_on_device(u) for u in v)
    return v


class _Generator:
    """cupy.random.Generator over NumPy's, returning device arrays."""

    def __init__(self, bit_generator):
        self._g = numpy.random.Generator(bit_generator)

    def __getattr__(self, name):
        f = getattr(self._g, name)
        return (lambda *a, **k: _on_device(f(*a, **k))) if callable(f) else f


class _Module(types.ModuleType):
    """The `cupy` module: NumPy's functions, with device arrays for results."""

    def __getattr__(self, name):
        v = getattr(numpy, name)
        if callable(v) and not isinstance(v, (type, numpy.ufunc)):
            return lambda *a, **k: _on_device(v(*a, **k))
        return v


FAKE = _Module("cupy")
FAKE.ndarray = ndarray
FAKE.transfers = 0
FAKE.implicit = 0
FAKE.asnumpy = lambda a: numpy.array(a)
FAKE.random = types.SimpleNamespace(
    Generator=_Generator,
    Philox4x3210=lambda seed, size=None: numpy.random.Philox(seed),
    default_rng=lambda seed=None: _Generator(numpy.random.PCG64(seed)))
FAKE.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 1))


def install(monkeypatch):
    """Make `import cupy` give the stand-in for one test (undone after it), with
    minigan's backend as if it had never looked for CuPy. Returns the module."""
    from minigan import backend
    monkeypatch.setitem(sys.modules, "cupy", FAKE)
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_cupy_error", None)
    monkeypatch.setattr(backend, "_generators", {})
    FAKE.transfers = FAKE.implicit = 0
    return FAKE

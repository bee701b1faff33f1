"""The Tensor: an array with an optional gradient and a record of how it was computed.

``Tensor`` holds one array (``.data``: numpy or cupy) and, once it is computed
from tensors that require grad, its place in the graph (autograd.py). This
module gives it its Python operators and methods (each one an op of
``minigan/ops``), the ``tensor()`` factory with torch.tensor's dtype and device
rules, and the two doors into the engine: ``Tensor.backward()``, which fills
``.grad`` on the leaves, and ``grad()``, which returns gradients without
touching ``.grad`` (gradient penalties differentiate them again).

The engine's public names can be imported from here as well, beside ``Tensor``
(``make_op`` from autograd.py; ``no_grad``, ``enable_grad``, ``is_grad_enabled``
and ``detect_anomaly`` from grad_mode.py).
"""
import numpy

from . import autograd, backend, checks
from .autograd import make_op  # noqa: F401  (re-exported, see above)
from .grad_mode import (no_grad, enable_grad, is_grad_enabled,  # noqa: F401
                        detect_anomaly)

DEFAULT_DTYPE = numpy.float32


# ------------------------------------------------------------- construction
def _as_array(data, dtype=None, device=None):
    """Turn data into an array on `device`, following torch.tensor's dtype rules.

    numpy/cupy arrays keep their dtype; Python scalars and lists become float32
    (bools stay bool, and lists of ints become int64 only if asked for).
    Anything that is not real numbers in a rectangular shape is refused with a
    sentence: None (NumPy would quietly make it nan), strings and other objects,
    complex numbers (NumPy would drop the imaginary part, or keep a complex tensor
    no op is written for), and ragged lists (rows of different lengths).
    """
    if isinstance(data, Tensor):
        data = data.data
    if device is None:        # an array stays where it is, numbers go to the default device
        device = backend.device_of(data) if hasattr(data, "dtype") else backend.default_device()
    xp = backend.module_for(device)
    if hasattr(data, "dtype") and hasattr(data, "shape"):   # an array (or numpy scalar)
        _check_real(data.dtype, data)
        arr = backend.to_device(data, device) if backend.device_of(data) != device else data
        arr = xp.asarray(arr, dtype=dtype)
    else:
        if data is None:
            raise TypeError("tensor(None): a tensor needs numbers (a number, a list of "
                            "numbers or an array), got None")
        try:
            probe = numpy.asarray(data)
        except ValueError:                        # NumPy's "inhomogeneous shape"
            raise ValueError(f"tensor: data must be a number, or lists nested as a rectangle "
                             f"(every row of the same length), got {checks.given(data)}, "
                             f"whose rows differ in length; pad them, or make one tensor "
                             f"per row") from None
        _check_real(probe.dtype, data)
        if dtype is None:
            dtype = probe.dtype if probe.dtype == numpy.bool_ else DEFAULT_DTYPE
        arr = xp.asarray(data, dtype=dtype)
    return arr


def _check_real(dtype, data):
    """Refuse an array, number or list that does not hold real numbers (bool, int,
    float: the dtype kinds 'biuf')."""
    if dtype.kind in "biuf":
        return
    if dtype.kind == "c":
        raise TypeError(f"tensor: data must be real numbers (bool, int or float), got "
                        f"{checks.given(data)}, complex; take .real, .imag or abs() first")
    if not hasattr(data, "dtype"):                 # None inside a list, strings, objects
        what = "strings" if dtype.kind in "US" else \
            "None or other objects that are not numbers (F.stack combines tensors)"
        raise TypeError(f"a tensor holds numbers, but {repr(data)[:60]} holds {what}; "
                        f"give a number, a list of numbers or an array")
    raise TypeError(f"a tensor holds numbers, but this array holds {dtype} "
                    f"values; convert them to numbers first")


def _check_grad_dtype(dtype):
    if not numpy.issubdtype(dtype, numpy.floating):
        raise TypeError(f"only floating-point tensors can require gradients, but this "
                        f"tensor is {numpy.dtype(dtype).name}; convert it first, e.g. "
                        f"minigan.tensor(x, dtype='float64', requires_grad=True)")


class Tensor:
    """An array with an optional gradient and a record of how it was computed.

    Attributes: ``data`` (the numpy/cupy array), ``grad`` (a Tensor, filled in by
    ``backward`` on leaves that require grad), ``requires_grad``.
    """
    __slots__ = ("data", "grad", "_requires_grad", "_parents", "_backward", "_op", "__weakref__")
    __array_ufunc__ = None     # make numpy defer to Tensor's operators: array * tensor -> Tensor

    def __init__(self, data, requires_grad=False, dtype=None, device=None):
        self.data = _as_array(data, dtype, device)
        self.grad = None
        self._parents = ()
        self._backward = None
        self._op = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    # -------------------------------------------------------------- basics
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if self._backward is not None:
            raise RuntimeError("requires_grad can only be changed on a leaf tensor "
                               "(one not computed from others); use .detach() first")
        if flag:
            _check_grad_dtype(self.data.dtype)
        self._requires_grad = bool(flag)

    @property
    def is_leaf(self):
        return self._backward is None

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def device(self):
        return backend.device_of(self.data)

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        body = numpy.array2string(backend.to_numpy(self.data), precision=4, separator=", ",
                                  prefix="tensor(")
        extra = f", dtype={self.dtype.name}" if self.dtype != DEFAULT_DTYPE else ""
        extra += ", device='cuda'" if self.device == "cuda" else ""
        if self._op is not None:
            extra += f", grad_fn={self._op}"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def numpy(self):
        """The data as a NumPy array on the host (a copy from the GPU if needed)."""
        return backend.to_numpy(self.data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return backend.to_numpy(self.data).reshape(()).item()    # a copy from the GPU

    def tolist(self):
        return self.numpy().tolist()

    def detach(self):
        """The same data, cut from the graph (shares memory, requires no grad)."""
        return wrap(self.data)

    def to(self, device=None, dtype=None):
        """A copy on another device and/or with another dtype (differentiable)."""
        from .ops import shape as _s
        return _s.to(self, device, dtype)

    def astype(self, dtype):
        return self.to(dtype=dtype)

    def float(self):
        return self.to(dtype=numpy.float32)

    def double(self):
        return self.to(dtype=numpy.float64)

    def zero_grad(self):
        self.grad = None

    # ------------------------------------------------------------ autodiff
    def backward(self, grad=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``grad`` is dL/d(self); it may be left out only for a one-element tensor
        (then it is 1). With ``create_graph=True`` the backward pass is itself
        recorded, so the ``.grad`` tensors can be differentiated again.

        Calling ``backward()`` twice: minigan keeps the graph (it never frees
        intermediate results as PyTorch does without ``retain_graph``), so a
        second call works and *adds* the same gradients again into ``.grad``,
        exactly like PyTorch's accumulation. Zero the gradients in between
        (``optimizer.zero_grad()``) unless accumulation is what you want.
        """
        if not self._requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: no input "
                               "of the computation had requires_grad=True")
        autograd.backprop([self], [_initial_grad(self, grad)], create_graph)

    # Python operators and methods are attached at the bottom of this file,
    # once the ops modules (which import this one) are loaded.


def wrap(data):
    """The array `data` as a Tensor, as it is: no copy, no dtype or device change.

    The ops wrap every array they compute with it (``make_op`` does, then adds
    the graph node), and so do backward formulas for their constants. It skips
    every check ``tensor()`` makes on user data, which is why it is fast, and why
    it is meant for arrays that array code has just produced."""
    t = object.__new__(Tensor)
    t.data = data
    t.grad = None
    t._requires_grad = False
    t._parents = ()
    t._backward = None
    t._op = None
    return t


autograd.connect(wrap)      # the graph's nodes: make_op wraps every result with it


def lift(x, like, op="this operation"):
    """`x` as a Tensor: Tensors pass through; scalars take `like`'s dtype and device.

    This is why a Python scalar never changes a tensor's dtype: ``t32 * 0.5`` is float32.
    What is not a number, a list of numbers or an array (None, a string, a dict) is
    refused with a TypeError naming `op`: NumPy would make None a nan, silently.
    """
    if isinstance(x, Tensor):
        return x
    if hasattr(x, "dtype") and hasattr(x, "shape") and not isinstance(x, numpy.generic):
        return Tensor(x)                           # an array keeps its dtype
    if not isinstance(x, (float, int)) and not _real_numbers(x):
        raise TypeError(f"{op}: the other operand must be a Tensor, a real number or an "
                        f"array of them, got {checks.given(x)}")
    xp = backend.array_module(like.data)
    dt = like.data.dtype
    if not numpy.issubdtype(dt, numpy.floating) and isinstance(x, float):
        dt = DEFAULT_DTYPE
    elif dt == numpy.bool_ and not isinstance(x, (bool, numpy.bool_)):
        dt = numpy.int64                           # mask * 2 counts, it does not stay a bool
    return wrap(xp.asarray(x, dtype=dt))


def _real_numbers(x):
    """Whether `x` (not a Python int or float) is a NumPy real number or a rectangular
    list of real numbers: what ``lift`` may turn into an array of `like`'s dtype."""
    if isinstance(x, numpy.generic):
        return x.dtype.kind in "biuf"
    if not isinstance(x, (list, tuple)):
        return False
    try:
        return numpy.asarray(x).dtype.kind in "biuf"
    except ValueError:                             # ragged
        return False


def check_devices(name, *tensors):
    """Refuse an operation over tensors on different devices, naming both."""
    if backend._cupy is None:          # only numpy exists: nothing can differ
        return
    devs = [t.device for t in tensors]
    if any(d != devs[0] for d in devs):
        raise RuntimeError(f"{name}: tensors are on different devices ({' and '.join(devs)}); "
                           f"move one with .to('{devs[0]}') or .to('{devs[-1]}')")


# ------------------------------------------------------------ the two doors
def _initial_grad(t, grad):
    """dL/d(root): 1 for a one-element output, else the gradient the caller gave."""
    if grad is None:
        if t.data.size != 1:
            raise RuntimeError(f"backward() without a gradient argument needs a one-element "
                               f"output, but this tensor has shape {t.shape}; reduce it first "
                               f"(e.g. .sum() or .mean()) or pass grad=")
        xp = backend.array_module(t.data)
        return wrap(xp.ones_like(t.data))
    grad = lift(grad, t, "backward(grad=...)")
    if grad.shape != t.shape:
        raise ValueError(f"backward(): the gradient has shape {grad.shape} but the tensor "
                         f"has shape {t.shape}")
    return grad


def grad(outputs, inputs, grad_outputs=None, create_graph=False, allow_unused=False):
    """d(outputs)/d(inputs), returned as a tuple, without touching any ``.grad``.

    ``outputs``: a tensor or a sequence of tensors; ``grad_outputs`` the matching
    dL/d(output) (may be left out for one-element outputs). With
    ``create_graph=True`` the returned gradients are part of the graph and can be
    differentiated again: a gradient penalty ||d D(x)/dx||^2 is built this way.
    An input that the outputs do not depend on gets ``None`` if
    ``allow_unused=True``, else an error.
    """
    single_out = isinstance(outputs, Tensor)
    outputs = [outputs] if single_out else list(outputs)
    single_in = isinstance(inputs, Tensor)
    inputs = [inputs] if single_in else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("grad(): an input does not require grad, so it has no gradient")
    roots, gs = [], []
    for o, g in zip(outputs, grad_outputs):
        if not o._requires_grad:
            raise RuntimeError("grad(): an output does not depend on any tensor that requires grad")
        roots.append(o)
        gs.append(_initial_grad(o, g))
    found = autograd.backprop(roots, gs, create_graph, wanted=inputs)
    result = []
    for i, t in enumerate(inputs):
        g = found.get(id(t))
        if g is None and not allow_unused:
            raise RuntimeError(f"grad(): input {i} (shape {t.shape}) was not used to compute "
                               f"the outputs; pass allow_unused=True to get None for it")
        result.append(g)
    return tuple(result)


def placement(data, device=None):
    """The device that ``tensor(data, device=device)`` puts its data on.

    As ``torch.tensor`` does: a device named wins; else a Tensor or a CuPy array
    stays on its own device, and everything else (NumPy arrays, numbers, lists)
    goes to the default device, $MINIGAN_DEVICE or 'cpu'. So with
    MINIGAN_DEVICE=cuda, ``tensor(numpy_array)`` is on the GPU (or fails at once
    with the message that says how to install CuPy).

    (The class ``Tensor(array)``, which the library uses to wrap arrays it has just
    computed, leaves an array where it lies.)
    """
    if device is not None:
        return backend.normalize_device(device)
    if isinstance(data, Tensor):
        return data.device
    return "cuda" if backend.is_device_array(data) else backend.default_device()


def tensor(data, requires_grad=False, dtype=None, device=None):
    """Make a tensor (the analogue of torch.tensor).

    NumPy/CuPy arrays keep their dtype; Python numbers and lists become float32.
    ``device`` is 'cpu' or 'cuda'; without one, host data (NumPy arrays, numbers,
    lists) goes to the default device ($MINIGAN_DEVICE, else 'cpu'), and a Tensor
    or CuPy array stays where it is (``placement``).
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype,
                  device=placement(data, device))


# ------------------------------------------------- operators and methods
from .ops import math as _m, reduce as _r, shape as _s, linalg as _l  # noqa: E402


def _install_methods():
    T = Tensor
    T.__add__ = lambda a, b: _m.add(a, b)
    T.__radd__ = lambda a, b: _m.add(b, a)
    T.__sub__ = lambda a, b: _m.sub(a, b)
    T.__rsub__ = lambda a, b: _m.sub(b, a)
    T.__mul__ = lambda a, b: _m.mul(a, b)
    T.__rmul__ = lambda a, b: _m.mul(b, a)
    T.__truediv__ = lambda a, b: _m.div(a, b)
    T.__rtruediv__ = lambda a, b: _m.div(b, a)
    T.__neg__ = lambda a: _m.neg(a)
    T.__pos__ = lambda a: a
    T.__pow__ = lambda a, b: _m.pow(a, b)
    T.__rpow__ = lambda a, b: _m.pow(b, a)
    T.__matmul__ = lambda a, b: _l.matmul(a, b)
    T.__rmatmul__ = lambda a, b: _l.matmul(b, a)
    T.__abs__ = lambda a: _m.abs(a)
    T.__getitem__ = lambda a, idx: _s.getitem(a, idx)
    # comparisons give boolean tensors outside the graph (they have no gradient)
    T.__lt__ = lambda a, b: wrap(a.data < lift(b, a, "compare (<)").data)
    T.__le__ = lambda a, b: wrap(a.data <= lift(b, a, "compare (<=)").data)
    T.__gt__ = lambda a, b: wrap(a.data > lift(b, a, "compare (>)").data)
    T.__ge__ = lambda a, b: wrap(a.data >= lift(b, a, "compare (>=)").data)
    T.eq = lambda a, b: wrap(a.data == lift(b, a, "eq").data)
    # tensors are hashed by identity, so that they can be dict keys and set members
    T.__hash__ = object.__hash__

    for name in ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "softplus",
                 "log_sigmoid", "leaky_relu", "clip", "maximum", "minimum"):
        setattr(T, name, getattr(_m, name))
    T.clamp = _m.clip
    for name in ("sum", "mean", "var", "max"):
        setattr(T, name, getattr(_r, name))
    for name in ("reshape", "transpose", "permute", "broadcast_to", "flatten",
                 "unsqueeze", "squeeze", "pad"):
        setattr(T, name, getattr(_s, name))
    T.view = _s.reshape
    T.expand = _s.broadcast_to
    T.T = property(lambda a: _s.transpose(a))
    T.matmul = _l.matmul


_install_methods()

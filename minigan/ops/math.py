"""Elementwise arithmetic and activations, each forward beside its backward.

Every backward receives ``g = dL/d(out)`` and returns ``dL/d(input)`` per input,
using the local derivative written in the comment. Broadcasting is not handled
here: the engine sums gradients back to each input's shape (autograd.unbroadcast).
"""
import numpy    # host-side shape bookkeeping only

from .. import backend
from ..autograd import make_op
from ..grad_mode import is_grad_enabled
from ..checks import given, not_a_tensor
from ..tensor import Tensor, lift, check_devices, wrap
from .shape import _axis


def _operands(a, b, name):
    """Both operands as tensors on one device (a Python scalar takes the other's dtype).
    One of them must be a Tensor; the other may be a number or an array (``lift``)."""
    if isinstance(a, Tensor):
        b = lift(b, a, name)
    elif isinstance(b, Tensor):
        a = lift(a, b, name)
    else:
        raise TypeError(f"{name}: a or b must be a minigan Tensor, got {given(a)} and "
                        f"{given(b)}")
    check_devices(name, a, b)
    if a.shape != b.shape:
        _check_broadcastable(name, a.shape, b.shape)
    return a, b


def _check_broadcastable(name, *shapes):
    """Refuse shapes that do not broadcast, naming the op and every shape."""
    try:
        numpy.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{name}: shapes {' and '.join(str(tuple(s)) for s in shapes)} cannot "
                         f"be broadcast together (trailing axes must be equal or 1)") from None


def _const(array):
    """An array used as a constant in a backward formula (a mask, a sign)."""
    return wrap(array)


def _times(g, d):
    """g * d for a constant array d (an activation's local derivative). A plain
    array product in a first-order backward, where no graph is being built; a
    Tensor product under create_graph, so that it differentiates again. The
    same numbers either way; the plain one skips an op's bookkeeping, which for
    a small MLP costs as much as the multiply."""
    if not is_grad_enabled():
        return wrap(g.data * d)                # a bool mask multiplies as 0 and 1
    return g * _const(d.astype(g.dtype, copy=False))


# ------------------------------------------------------------- arithmetic
def add(a, b):
    """a + b.   d/da = 1, d/db = 1."""
    a, b = _operands(a, b, "add")
    return make_op(a.data + b.data, (a, b), lambda g, out: (g, g), "add")


def sub(a, b):
    """a - b.   d/da = 1, d/db = -1."""
    a, b = _operands(a, b, "sub")
    return make_op(a.data - b.data, (a, b),
                   lambda g, out: (g, -g if b._requires_grad else None), "sub")


def mul(a, b):
    """a * b.   d/da = b, d/db = a."""
    a, b = _operands(a, b, "mul")

    def backward(g, out):
        return (g * b if a._requires_grad else None,
                g * a if b._requires_grad else None)
    return make_op(a.data * b.data, (a, b), backward, "mul")


def div(a, b):
    """a / b.   d/da = 1/b, d/db = -a/b^2."""
    a, b = _operands(a, b, "div")

    def backward(g, out):
        return (g / b if a._requires_grad else None,
                -g * a / (b * b) if b._requires_grad else None)
    return make_op(a.data / b.data, (a, b), backward, "div")


def neg(a):
    """-a.   d/da = -1."""
    if not isinstance(a, Tensor):
        raise not_a_tensor("neg", "a", a)
    return make_op(-a.data, (a,), lambda g, out: (-g,), "neg")


def pow(a, b):
    """a ** b, where b may be a tensor too.   d/da = b a^(b-1),  d/db = a^b log a."""
    a, b = _operands(a, b, "pow")

    def backward(g, out):
        return (g * b * a ** (b - 1) if a._requires_grad else None,
                g * out * log(a) if b._requires_grad else None)
    return make_op(a.data ** b.data, (a, b), backward, "pow")


def exp(a):
    """e^a.   d/da = e^a (the output itself)."""
    if not isinstance(a, Tensor):
        raise not_a_tensor("exp", "a", a)
    return make_op(backend.array_module(a.data).exp(a.data), (a,),
                   lambda g, out: (g * out,), "exp")


def log(a):
    """Natural log.   d/da = 1/a."""
    if not isinstance(a, Tensor):
        raise not_a_tensor("log", "a", a)
    return make_op(backend.array_module(a.data).log(a.data), (a,),
                   lambda g, out: (g / a,), "log")


def sqrt(a):
    """Square root.   d/da = 1 / (2 sqrt(a))."""
    if not isinstance(a, Tensor):
        raise not_a_tensor("sqrt", "a", a)
    return make_op(backend.array_module(a.data).sqrt(a.data), (a,),
                   lambda g, out: (g * 0.5 / out,), "sqrt")


def abs(a):
    """|a|.   d/da = sign(a) (0 at 0, as in PyTorch)."""
    if not isinstance(a, Tensor):
        raise not_a_tensor("abs", "a", a)
    xp = backend.array_module(a.data)
    return make_op(xp.abs(a.data), (a,),
                   lambda g, out: (g * _const(xp.sign(a.data)),), "abs")


# ------------------------------------------------------ choices and clips
def maximum(a, b):
    """Elementwise max. The gradient goes to the larger input; ties split it in half."""
    a, b = _operands(a, b, "maximum")
    xp = backend.array_module(a.data)

    def backward(g, out):
        m = (a.data > b.data) + 0.5 * (a.data == b.data)
        wa = _const(m.astype(g.dtype, copy=False))
        return (g * wa if a._requires_grad else None,
                g * (1 - wa) if b._requires_grad else None)
    return make_op(xp.maximum(a.data, b.data), (a, b), backward, "maximum")


def minimum(a, b):
    """Elementwise min. The gradient goes to the smaller input; ties split it in half."""
    a, b = _operands(a, b, "minimum")
    xp = backend.array_module(a.data)

    def backward(g, out):
        m = (a.data < b.data) + 0.5 * (a.data == b.data)
        wa = _const(m.astype(g.dtype, copy=False))
        return (g * wa if a._requires_grad else None,
                g * (1 - wa) if b._requires_grad else None)
    return make_op(xp.minimum(a.data, b.data), (a, b), backward, "minimum")


def clip(x, min=None, max=None):
    """Clamp x into [min, max] (either may be None).  d/dx = 1 inside, 0 outside."""
    if not isinstance(x, Tensor):
        raise not_a_tensor("clip", "x", x)
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    xp = backend.array_module(x.data)
    lo = -xp.inf if min is None else min
    hi = xp.inf if max is None else max
    if min is not None and max is not None and min > max:
        raise ValueError(f"clip: min ({min}) is larger than max ({max})")

    def backward(g, out):
        inside = (x.data >= lo) & (x.data <= hi)
        return (g * _const(inside.astype(g.dtype)),)
    return make_op(xp.clip(x.data, lo, hi).astype(x.dtype, copy=False), (x,), backward, "clip")


def where(cond, a, b):
    """Pick a where cond is true, else b. The gradient follows the same choice."""
    if isinstance(cond, Tensor):
        cond = cond.data
    a, b = _operands(a, b, "where")
    xp = backend.array_module(a.data)
    cond = xp.asarray(cond, dtype=bool)
    _check_broadcastable("where", cond.shape, a.shape, b.shape)

    def backward(g, out):
        m = _const(cond.astype(g.dtype))
        return (g * m if a._requires_grad else None,
                g * (1 - m) if b._requires_grad else None)
    return make_op(xp.where(cond, a.data, b.data), (a, b), backward, "where")


# ------------------------------------------------------------- activations
def relu(x):
    """max(x, 0).   d/dx = 1 where x > 0, else 0."""
    if not isinstance(x, Tensor):
        raise not_a_tensor("relu", "x", x)
    xp = backend.array_module(x.data)
    return make_op(xp.maximum(x.data, 0), (x,),
                   lambda g, out: (_times(g, x.data > 0),), "relu")


def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, else negative_slope * x.   d/dx = 1 or negative_slope.

    For the usual slopes 0 <= a <= 1 this is max(x, a x), and its derivative
    max(1[x > 0], a): two plain passes over memory each. ``where(x > 0, ...)``
    gives the same numbers but picks element by element on a mask that follows
    the data, which a CPU mispredicts half the time, and is several times slower
    on a DCGAN activation. Other slopes take that general form.
    """
    if not isinstance(x, Tensor):
        raise not_a_tensor("leaky_relu", "x", x)
    xp = backend.array_module(x.data)
    slope = xp.asarray(negative_slope, dtype=x.dtype)
    plain = 0 <= negative_slope <= 1

    def backward(g, out):
        pos = x.data > 0
        if plain:
            d = xp.asarray(pos, dtype=g.dtype)                # 1 where x > 0, else 0
            xp.maximum(d, slope.astype(g.dtype), out=d)       # ... else the slope
        else:
            d = xp.where(pos, xp.asarray(1, g.dtype), slope.astype(g.dtype))
        return (_times(g, d),)
    if plain:
        y = xp.multiply(x.data, slope, out=xp.empty_like(x.data))
        xp.maximum(y, x.data, out=y)                          # max(x, a x)
    else:
        y = xp.where(x.data > 0, x.data, x.data * slope)
    return make_op(y, (x,), backward, "leaky_relu")


def tanh(x):
    """tanh(x).   d/dx = 1 - tanh(x)^2."""
    if not isinstance(x, Tensor):
        raise not_a_tensor("tanh", "x", x)
    xp = backend.array_module(x.data)

    def backward(g, out):
        if not is_grad_enabled():
            return (_times(g, 1 - out.data * out.data),)
        return (g * (1 - out * out),)          # out stays in the graph: second derivatives
    return make_op(xp.tanh(x.data), (x,), backward, "tanh")


def _sigmoid_array(xp, a):
    # 1/(1+e^-a) computed as exp(-log(1 + e^-a)): never overflows, exact in both tails
    return xp.exp(-xp.logaddexp(0, -a))


def sigmoid(x):
    """1 / (1 + e^-x).   d/dx = s (1 - s)."""
    if not isinstance(x, Tensor):
        raise not_a_tensor("sigmoid", "x", x)
    xp = backend.array_module(x.data)
    return make_op(_sigmoid_array(xp, x.data), (x,),
                   lambda g, out: (g * out * (1 - out),), "sigmoid")


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (as PyTorch).

    d/dx = sigmoid(beta x) (and 1 in the linear region).
    """
    if not isinstance(x, Tensor):
        raise not_a_tensor("softplus", "x", x)
    xp = backend.array_module(x.data)
    bx = x.data * beta
    linear = bx > threshold
    y = xp.where(linear, x.data, xp.logaddexp(0, bx) / beta).astype(x.dtype, copy=False)

    def backward(g, out):
        s = sigmoid(x * beta)
        return (g * where(linear, _const(xp.ones_like(x.data)), s),)
    return make_op(y, (x,), backward, "softplus")


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), computed without overflow.   d/dx = sigmoid(-x)."""
    if not isinstance(x, Tensor):
        raise not_a_tensor("log_sigmoid", "x", x)
    xp = backend.array_module(x.data)
    return make_op(-xp.logaddexp(0, -x.data), (x,),
                   lambda g, out: (g * sigmoid(-x),), "log_sigmoid")


# ------------------------------------------------- softmax over one axis
def _softmax_axis(x, axis, dim, name):
    """The one axis a softmax normalizes over (``dim`` is PyTorch's name for it)."""
    if dim is not None:
        if axis != -1:
            raise TypeError(f"{name}: give either axis= or dim=, not both")
        axis = dim
    axis = _axis(axis, x.ndim, name)
    return axis if x.ndim else None         # a 0-d tensor: its one element is the whole axis


def _log_softmax_array(xp, a, axis):
    # x - max - log(sum(exp(x - max))): every exponent is <= 0, so nothing overflows,
    # and the largest term is exp(0) = 1, so the log never sees 0
    if a.size == 0:
        return a.copy()
    s = a - a.max(axis=axis, keepdims=True)
    return s - xp.log(xp.exp(s).sum(axis=axis, keepdims=True))


def log_softmax(x, axis=-1, *, dim=None):
    """log softmax(x) along one axis (``dim=`` works too, as in PyTorch):

        y_i = x_i - log(sum_j e^{x_j}) = (x_i - m) - log(sum_j e^{x_j - m}),   m = max_j x_j

    The second form is the one computed: finite for any logits (at +-1e4 too).
    dL/dx = g - softmax(x) * sum_j g_j   (softmax(x) = e^y, the output exponentiated).
    """
    if not isinstance(x, Tensor):
        raise not_a_tensor("log_softmax", "x", x)
    axis = _softmax_axis(x, axis, dim, "log_softmax")
    xp = backend.array_module(x.data)
    return make_op(_log_softmax_array(xp, x.data, axis), (x,),
                   lambda g, out: (g - exp(out) * g.sum(axis=axis, keepdims=True),),
                   "log_softmax")


def softmax(x, axis=-1, *, dim=None):
    """softmax(x) along one axis (``dim=`` works too, as in PyTorch):

        p_i = e^{x_i} / sum_j e^{x_j} = e^{x_i - m} / sum_j e^{x_j - m},   m = max_j x_j

    dL/dx = p * (g - sum_j g_j p_j).
    """
    if not isinstance(x, Tensor):
        raise not_a_tensor("softmax", "x", x)
    axis = _softmax_axis(x, axis, dim, "softmax")
    xp = backend.array_module(x.data)
    e = xp.exp(x.data - x.data.max(axis=axis, keepdims=True)) if x.size else x.data.copy()
    return make_op(e / e.sum(axis=axis, keepdims=True), (x,),
                   lambda g, out: (out * (g - (g * out).sum(axis=axis, keepdims=True)),),
                   "softmax")


def dropout(x, p=0.5, training=True):
    """Zero each element with probability p and scale the rest by 1/(1-p) (inverted dropout).

    In evaluation (training=False) or with p=0 it is the identity. The mask comes
    from minigan's seeded generator, so the same seed drops the same units.
    d/dx = mask / (1 - p).
    """
    if not isinstance(x, Tensor):
        raise not_a_tensor("dropout", "x", x)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    xp = backend.array_module(x.data)
    if p == 1.0:
        scale = xp.zeros(x.shape, dtype=x.dtype)
    else:
        keep = backend.generator(x.device).random(x.shape) >= p
        scale = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))
    return make_op(x.data * scale, (x,), lambda g, out: (g * _const(scale.astype(g.dtype, copy=False)),),
                   "dropout")

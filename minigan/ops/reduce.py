"""Reductions over an axis, a tuple of axes, or everything.

Names follow NumPy (``axis``, ``keepdims``); PyTorch's ``dim`` and ``keepdim``
are accepted as aliases. The backward of every reduction spreads the incoming
gradient back over the reduced axes, so it first puts those axes back as size 1
(``_restore``) and lets broadcasting stretch them.
"""
import builtins
import operator

from ..autograd import make_op
from ..checks import not_a_tensor
from ..tensor import Tensor, wrap


def _axes(x, axis, dim, keepdims, keepdim):
    """Resolve NumPy/PyTorch argument names into (axis tuple or None, keepdims)."""
    if dim is not None:
        if axis is not None:
            raise TypeError("give either axis= or dim=, not both")
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    if axis is None:
        return None, bool(keepdims)
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    nd = x.ndim
    out = []
    for a in axes:
        a = operator.index(a)                   # ints and NumPy integers alike
        if not -nd <= a < builtins.max(nd, 1):   # `max` below is the reduction
            raise ValueError(f"axis {a} is out of range for a tensor of shape {x.shape}")
        out.append(a % nd if nd else 0)
    return tuple(out), bool(keepdims)


def _restore(g, x_shape, axes):
    """The gradient of a reduction, reshaped to keepdims form (size-1 reduced axes)."""
    if axes is None:
        return g.reshape((1,) * len(x_shape))
    shape = list(x_shape)
    for a in axes:
        shape[a] = 1
    return g.reshape(tuple(shape))


def _count(x, axes):
    if axes is None:
        return x.size
    n = 1
    for a in axes:
        n *= x.shape[a]
    return n


def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Sum over axes.   dL/dx = dL/dy, broadcast back over the summed axes."""
    if not isinstance(x, Tensor):
        raise not_a_tensor("sum", "x", x)
    axes, keep = _axes(x, axis, dim, keepdims, keepdim)
    data = x.data.sum(axis=axes, keepdims=keep)
    return make_op(data, (x,), lambda g, out: (_restore(g, x.shape, axes).broadcast_to(x.shape),),
                   "sum")


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Mean over axes.   dL/dx = dL/dy / n, with n the number of averaged elements.

    The mean of nothing (n = 0, e.g. an empty batch) is NaN, as in PyTorch; its
    gradient is empty, like x.
    """
    if not isinstance(x, Tensor):
        raise not_a_tensor("mean", "x", x)
    axes, keep = _axes(x, axis, dim, keepdims, keepdim)
    n = _count(x, axes)
    if n == 0:           # 0/0: NaN, without NumPy's "mean of empty slice" warning
        data = x.data.sum(axis=axes, keepdims=keep) * float("nan")
        return make_op(data, (x,), lambda g, out: (_restore(g, x.shape, axes).broadcast_to(
            x.shape),), "mean")                   # x is empty: so is its gradient
    data = x.data.mean(axis=axes, keepdims=keep)
    return make_op(data, (x,),
                   lambda g, out: (_restore(g, x.shape, axes).broadcast_to(x.shape) * (1.0 / n),),
                   "mean")


def var(x, axis=None, keepdims=False, correction=0, *, ddof=None, dim=None, keepdim=None,
        unbiased=None):
    """Variance sum((x - mean)^2) / (n - correction).

    The default is NumPy's: ``correction=0``, the biased (population) variance,
    which is also what batch normalization divides by. PyTorch's ``torch.var``
    defaults to ``correction=1`` (unbiased): pass ``correction=1`` (or
    ``ddof=1``, or ``unbiased=True``) to get it.

    dL/dx = dL/dy * 2 (x - mean) / (n - correction).
    """
    if not isinstance(x, Tensor):
        raise not_a_tensor("var", "x", x)
    if ddof is not None:
        correction = ddof
    if unbiased is not None:
        correction = 1 if unbiased else 0
    axes, keep = _axes(x, axis, dim, keepdims, keepdim)
    n = _count(x, axes)
    if n - correction <= 0:
        raise ValueError(f"var: {n} element(s) with correction={correction} leaves no "
                         f"degrees of freedom")
    data = x.data.var(axis=axes, keepdims=keep, ddof=correction)

    def backward(g, out):
        centered = x - x.mean(axis=axes, keepdims=True)
        return (_restore(g, x.shape, axes) * centered * (2.0 / (n - correction)),)
    return make_op(data, (x,), backward, "var")


def max(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Maximum over axes (values only; see ``argmax`` on ``.data`` for indices).

    The gradient goes to the maximal elements; when several tie, it is split
    evenly among them (as ``torch.amax`` does).
    """
    if not isinstance(x, Tensor):
        raise not_a_tensor("max", "x", x)
    if x.size == 0:
        raise ValueError("max of an empty tensor")
    axes, keep = _axes(x, axis, dim, keepdims, keepdim)
    data = x.data.max(axis=axes, keepdims=keep)

    def backward(g, out):
        m = (x.data == x.data.max(axis=axes, keepdims=True)).astype(g.dtype)
        m /= m.sum(axis=axes, keepdims=True)
        return (_restore(g, x.shape, axes) * wrap(m),)
    return make_op(data, (x,), backward, "max")

"""Shape operations: they move numbers around without changing them, so each
backward moves the gradient back the same way (reshape back, transpose by the
inverse permutation, slice the padding off, scatter into the indexed places)."""
import builtins
import operator

import numpy    # only to tell NumPy from CuPy, and Python from NumPy integers

from .. import backend
from ..autograd import make_op
from ..checks import given, not_a_tensor
from ..tensor import Tensor, check_devices
from .layout import laid_out_like


def _shape_args(shape):
    """Accept reshape(2, 3) and reshape((2, 3)) alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def reshape(x, *shape):
    """The same elements in a new shape (one dimension may be -1)."""
    if not isinstance(x, Tensor):
        raise not_a_tensor("reshape", "x", x)
    shape = _shape_args(shape)
    try:
        data = x.data.reshape(shape)
    except ValueError:
        raise ValueError(f"reshape: cannot view {x.size} elements of shape {x.shape} "
                         f"as shape {shape}") from None
    return make_op(data, (x,), lambda g, out: (laid_out_like(g.reshape(x.shape), x.data),),
                   "reshape")


def _axis(d, nd, op):
    """Axis d (possibly negative) as 0..nd-1. A 0-d tensor answers to axis 0 and -1,
    as in PyTorch."""
    span = builtins.max(nd, 1)
    d = operator.index(d)
    if not -span <= d < span:
        raise IndexError(f"{op}: axis {d} is out of range for a tensor with {nd} axes")
    return d % span


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dimensions start_dim..end_dim into one (PyTorch's flatten; a 0-d tensor
    becomes shape (1,))."""
    if not isinstance(x, Tensor):
        raise not_a_tensor("flatten", "x", x)
    nd = x.ndim
    s, e = _axis(start_dim, nd, "flatten"), _axis(end_dim, nd, "flatten")
    if nd == 0:
        return reshape(x, (1,))
    n = 1
    for d in x.shape[s:e + 1]:
        n *= d
    return reshape(x, x.shape[:s] + (n,) + x.shape[e + 1:])


def unsqueeze(x, dim):
    """Insert an axis of size one at position dim."""
    if not isinstance(x, Tensor):
        raise not_a_tensor("unsqueeze", "x", x)
    dim = dim % (x.ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def squeeze(x, dim=None):
    """Drop axes of size one (only `dim`, if given)."""
    if not isinstance(x, Tensor):
        raise not_a_tensor("squeeze", "x", x)
    if dim is None:
        return reshape(x, tuple(d for d in x.shape if d != 1))
    dim = _axis(dim, x.ndim, "squeeze")
    if x.ndim == 0 or x.shape[dim] != 1:
        return x
    return reshape(x, x.shape[:dim] + x.shape[dim + 1:])


def permute(x, *dims):
    """Reorder the axes: output axis i is input axis dims[i].  Backward: the inverse order."""
    if not isinstance(x, Tensor):
        raise not_a_tensor("permute", "x", x)
    dims = _shape_args(dims)
    if len(dims) != x.ndim or sorted(_axis(d, x.ndim, "permute") for d in dims) != list(range(x.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of the {x.ndim} axes of {x.shape}")
    dims = tuple(d % x.ndim for d in dims)
    inverse = tuple(sorted(range(len(dims)), key=dims.__getitem__))
    return make_op(x.data.transpose(dims), (x,), lambda g, out: (permute(g, inverse),),
                   "permute")


def transpose(x, *axes):
    """Transpose. No argument: reverse all axes (``x.T``). Two integers: swap those
    two axes (PyTorch's ``transpose(d0, d1)``). One tuple: a full permutation
    (NumPy's ``transpose(axes)``)."""
    if not isinstance(x, Tensor):
        raise not_a_tensor("transpose", "x", x)
    if not axes:
        return permute(x, tuple(range(x.ndim))[::-1])
    if len(axes) == 2 and all(isinstance(a, int) for a in axes):
        order = list(range(x.ndim))
        a, b = axes[0] % x.ndim, axes[1] % x.ndim
        order[a], order[b] = order[b], order[a]
        return permute(x, tuple(order))
    return permute(x, _shape_args(axes))


def swapaxes(x, a, b):
    """Swap two axes (NumPy's name for PyTorch's transpose(d0, d1))."""
    return transpose(x, a, b)


def broadcast_to(x, *shape):
    """Stretch size-one (or missing leading) axes to `shape` without copying.
    Backward: the engine sums the gradient back over the stretched axes."""
    if not isinstance(x, Tensor):
        raise not_a_tensor("broadcast_to", "x", x)
    shape = _shape_args(shape)
    xp = backend.array_module(x.data)
    try:
        data = xp.broadcast_to(x.data, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: shape {x.shape} cannot be broadcast to {shape}") from None
    return make_op(data, (x,), lambda g, out: (g,), "broadcast_to")


def _tensor_list(tensors, op):
    """concat's and stack's `tensors`: a non-empty sequence of Tensors, as a list."""
    if isinstance(tensors, Tensor) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{op}: tensors must be a list or tuple of minigan Tensors, got "
                        f"{given(tensors)}")
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: needs at least one tensor")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise not_a_tensor(op, f"tensors[{i}]", t)
    return tensors


def concat(tensors, axis=0, *, dim=None):
    """Join tensors along an existing axis.  Backward: each input gets its slice of g."""
    axis = dim if dim is not None else axis
    tensors = _tensor_list(tensors, "concat")
    check_devices("concat", *tensors)
    nd = tensors[0].ndim
    axis = axis % nd
    for t in tensors[1:]:
        if t.ndim != nd or any(a != b for i, (a, b) in enumerate(zip(t.shape, tensors[0].shape))
                               if i != axis):
            raise ValueError(f"concat along axis {axis}: shapes "
                             f"{[tuple(u.shape) for u in tensors]} differ off that axis")
    xp = backend.array_module(tensors[0].data)
    data = xp.concatenate([t.data for t in tensors], axis=axis)
    bounds = [0]
    for t in tensors:
        bounds.append(bounds[-1] + t.shape[axis])

    def backward(g, out):
        pre = (slice(None),) * axis
        return tuple(g[pre + (slice(bounds[i], bounds[i + 1]),)] if t._requires_grad else None
                     for i, t in enumerate(tensors))
    return make_op(data, tuple(tensors), backward, "concat")


cat = concat


def stack(tensors, axis=0, *, dim=None):
    """Join same-shape tensors along a new axis."""
    axis = dim if dim is not None else axis
    tensors = _tensor_list(tensors, "stack")
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: all tensors need one shape, got "
                             f"{[tuple(u.shape) for u in tensors]}")
    return concat([unsqueeze(t, axis) for t in tensors], axis=axis)


def pad(x, pad, mode="constant", value=0.0):
    """Constant padding, PyTorch's ``F.pad`` convention: ``pad`` lists (before, after)
    pairs starting from the *last* axis, e.g. (1, 1, 2, 2) pads the last axis by 1
    and the one before it by 2.  Backward: slice the padding off the gradient."""
    if not isinstance(x, Tensor):
        raise not_a_tensor("pad", "x", x)
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is implemented, got {mode!r}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: needs (before, after) pairs for at most {x.ndim} axes, got {pad}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {pad} is not supported")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    xp = backend.array_module(x.data)
    data = xp.pad(x.data, widths, mode="constant", constant_values=value)
    index = tuple(slice(b, b + n) for (b, _), n in zip(widths, x.shape))
    return make_op(data, (x,), lambda g, out: (g[index],), "pad")


def _index_arrays(idx, xp):
    """Turn Tensors inside an index into arrays (integer or boolean index arrays)."""
    if isinstance(idx, tuple):
        return tuple(_index_arrays(i, xp) for i in idx)
    if isinstance(idx, Tensor):
        return idx.data
    if isinstance(idx, list) or (hasattr(idx, "dtype") and getattr(idx, "ndim", 0) > 0):
        return xp.asarray(idx)       # lists, and NumPy index arrays used on a CuPy tensor
    return idx


def _integer_index_arrays(idx, ndim):
    """(axis, array) for every integer index array in `idx`, with the axis it indexes.

    Walks the index as NumPy reads it: None adds an axis and uses none, ... stands for
    the axes nobody else names, a boolean array uses as many axes as it has, and an
    integer, a slice or an integer array uses one."""
    items = idx if isinstance(idx, tuple) else (idx,)

    def used(i):
        if i is None or i is Ellipsis:
            return 0
        if hasattr(i, "dtype") and i.dtype == bool:
            return i.ndim
        return 1
    axis, found = 0, []
    for i in items:
        if i is Ellipsis:
            axis += ndim - builtins.sum(used(j) for j in items)
            continue
        if hasattr(i, "dtype") and i.dtype.kind in "iu" and not isinstance(i, numpy.integer):
            found.append((axis, i))               # an array, not one (NumPy) integer
        axis += used(i)
    return found


def check_index_bounds(idx, shape):
    """Raise IndexError, as NumPy does, if an integer index array points outside `shape`.

    CuPy does not check: it wraps an index of 5 on an axis of 3 around to 2 (and
    its ``add.at`` does the same), so values and gradients would be silently wrong.
    The smallest and largest entry of every integer index array are fetched in one
    copy: one wait for the GPU, paid only by indexing with integer arrays on CuPy.
    NumPy checks by itself, so ``getitem`` calls this for CuPy arrays alone.
    """
    arrays = [(axis, a) for axis, a in _integer_index_arrays(idx, len(shape)) if a.size]
    if not arrays:
        return
    for axis, _ in arrays:
        if axis >= len(shape):
            raise IndexError(f"too many indices for an array with {len(shape)} axes")
    ends = [end for _, a in arrays for end in (a.min(), a.max())]
    ends = backend.to_numpy(backend.array_module(*ends).stack(ends)).tolist()
    for k, (axis, _) in enumerate(arrays):
        n = shape[axis]
        for bad in ends[2 * k:2 * k + 2]:
            if not -n <= bad < n:
                raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {n}")


def getitem(x, idx):
    """x[idx] for basic slices, integers, None/..., and integer or boolean arrays.

    Backward: scatter g into a zero tensor of x's shape at the same places,
    adding where an index repeats (so x[[0, 0]] gets gradient 2 g at row 0).
    Indices out of range raise IndexError on both backends (``check_index_bounds``).
    """
    if not isinstance(x, Tensor):
        raise not_a_tensor("getitem", "x", x)
    xp = backend.array_module(x.data)
    idx = _index_arrays(idx, xp)
    try:
        if xp is not numpy:
            check_index_bounds(idx, x.shape)     # CuPy would wrap them around
        data = x.data[idx]
    except IndexError as e:
        raise IndexError(f"indexing a tensor of shape {x.shape}: {e}") from None
    return make_op(data, (x,), lambda g, out: (_scatter_add(g, idx, x.shape),), "getitem")


def _is_advanced(idx):
    items = idx if isinstance(idx, tuple) else (idx,)
    return any(hasattr(i, "shape") and getattr(i, "ndim", 0) > 0 for i in items)


def _scatter_add(g, idx, shape):
    """zeros(shape) with g added at idx: the transpose of getitem (its backward is getitem)."""
    xp = backend.array_module(g.data)
    z = xp.zeros(shape, dtype=g.dtype)
    if _is_advanced(idx):
        xp.add.at(z, idx, g.data)        # repeated indices must add up, not overwrite
    else:
        z[idx] = g.data
    return make_op(z, (g,), lambda gg, out: (getitem(gg, idx),), "scatter_add")


def to(x, device=None, dtype=None):
    """A copy of x on `device` with `dtype`. Backward: the gradient goes back likewise."""
    if not isinstance(x, Tensor):
        raise not_a_tensor("to", "x", x)
    data = x.data
    if device is not None:
        data = backend.to_device(data, device)
    if dtype is not None:
        data = data.astype(dtype, copy=False)
    if data is x.data:
        return x
    src_device, src_dtype = x.device, x.dtype
    return make_op(data, (x,), lambda g, out: (to(g, src_device, src_dtype),), "to")


def embedding(input, weight):
    """Rows of a table by their indices, PyTorch's ``F.embedding``: out[..., :] =
    weight[input[...], :], so integer indices of any shape (N,) or (N, L) give
    vectors of shape (N, D) or (N, L, D), weight being (num_embeddings, D).

    It is ``weight[input]``, getitem with an integer array, and has its backward:
    dL/dweight is zero but for the rows looked up, each getting the sum of the
    gradients of its look-ups (a scatter-add, ``_scatter_add``: a class drawn twice
    in a batch collects both). ``input``: a Tensor (or NumPy/CuPy array) of
    integers in 0..num_embeddings-1; a negative or too large index is an error, not
    a row counted from the end. The range is checked here for both backends: on
    the GPU that is one copy of two numbers (the smallest and largest index).
    """
    op = "embedding"
    if not isinstance(weight, Tensor):
        raise not_a_tensor(op, "weight", weight)
    if weight.ndim != 2:
        raise ValueError(f"{op}: weight must be a 2-D table (num_embeddings, embedding_dim), "
                         f"got shape {weight.shape}")
    idx = input.data if isinstance(input, Tensor) else input
    if not (hasattr(idx, "dtype") and hasattr(idx, "shape")):
        raise not_a_tensor(op, "input", input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: input must hold integer indices (which rows of the table), got "
                        f"dtype {idx.dtype}; turn labels into integers with .astype('int64')")
    if isinstance(input, Tensor):
        check_devices(op, weight, input)
    elif backend.device_of(idx) != weight.device:
        raise RuntimeError(f"{op}: the indices are on '{backend.device_of(idx)}' and the "
                           f"weight on '{weight.device}'; move one with minigan.tensor(..., "
                           f"device='{weight.device}')")
    n = weight.shape[0]
    if idx.size:
        low, high = (int(v) for v in backend.to_numpy(
            backend.array_module(idx).stack([idx.min(), idx.max()])))
        if low < 0 or high >= n:
            bad = low if low < 0 else high
            raise IndexError(f"{op}: index {bad} is out of range for a table of {n} rows; "
                             f"indices must be in 0..{n - 1}")
    return make_op(weight.data[idx], (weight,),
                   lambda g, out: (_scatter_add(g, idx, weight.shape),), op)

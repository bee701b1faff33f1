"""Matrix products: batched matmul, and linear (x W^T + b) fused into one node."""
from ..autograd import make_op
from ..grad_mode import is_grad_enabled
from ..checks import given, not_a_tensor
from ..tensor import check_devices, lift, Tensor, wrap


def matmul(a, b):
    """a @ b with NumPy's batching rules (leading axes broadcast).

    For C = A B:  dL/dA = G B^T,  dL/dB = A^T G  (batched over leading axes; the
    engine sums over axes that broadcasting stretched). 1-D operands are treated
    as a row (left) or column (right) vector, as in NumPy.
    """
    if isinstance(a, Tensor):
        b = lift(b, a, "matmul")
    elif isinstance(b, Tensor):
        a = lift(a, b, "matmul")
    else:
        raise TypeError(f"matmul: a or b must be a minigan Tensor, got {given(a)} and "
                        f"{given(b)}")
    check_devices("matmul", a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: scalars are not matrices; use * instead")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not fit (the last axis of "
                         f"the first, {a.shape[-1]}, must equal the "
                         f"{'second-to-last' if b.ndim > 1 else 'only'} axis of the second, "
                         f"{b.shape[-2 if b.ndim > 1 else 0]})")
    if a.ndim == 1 and b.ndim == 1:                      # the dot product
        return matmul(a.reshape(1, -1), b.reshape(-1, 1)).reshape(())
    if a.ndim == 1:
        return matmul(a.reshape(1, -1), b).squeeze(-2)
    if b.ndim == 1:
        return matmul(a, b.reshape(-1, 1)).squeeze(-1)

    def backward(g, out):
        return (g @ b.transpose(-1, -2) if a._requires_grad else None,
                a.transpose(-1, -2) @ g if b._requires_grad else None)
    try:
        data = a.data @ b.data
    except ValueError:
        raise ValueError(f"matmul: the batch axes of shapes {a.shape} and {b.shape} cannot be "
                         f"broadcast together") from None
    return make_op(data, (a, b), backward, "matmul")


def linear(x, weight, bias=None):
    """y = x W^T + b, PyTorch's layout: W is (out_features, in_features).

    One node instead of three (transpose, matmul, add) because it is the hot
    path of every MLP.  dL/dx = G W,  dL/dW = G^T x,  dL/db = sum of G over rows.
    """
    if not isinstance(x, Tensor):
        raise not_a_tensor("linear", "x", x)
    if not isinstance(weight, Tensor):
        raise not_a_tensor("linear", "weight", weight)
    if bias is not None and not isinstance(bias, Tensor):
        raise not_a_tensor("linear", "bias", bias)
    check_devices("linear", x, weight, *(() if bias is None else (bias,)))
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the "
                         f"weight expects {weight.shape[1]} (weight shape {weight.shape})")
    y = x.data @ weight.data.T
    if bias is not None:
        y += bias.data
    parents = (x, weight) if bias is None else (x, weight, bias)
    out_f = weight.shape[0]

    def backward(g, out):
        if not is_grad_enabled():
            return _linear_backward_arrays(g, x, weight, bias)
        # create_graph: Tensor operations, so that the gradient differentiates again
        gx = g @ weight if x._requires_grad else None
        gw = None
        if weight._requires_grad:
            g2 = g if g.ndim == 2 else g.reshape(-1, out_f)
            x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
            gw = g2.transpose(0, 1) @ x2
        if bias is None:
            return gx, gw
        return gx, gw, (g if bias._requires_grad else None)   # summed over rows by the engine
    return make_op(y, parents, backward, "linear")


def _linear_backward_arrays(g, x, weight, bias):
    """linear's first-order backward on the arrays themselves: the same three
    products and sum as the Tensor version above, without a graph node, a shape
    check and a device check per product. An MLP step calls this a dozen times,
    and for small layers that bookkeeping costs as much as the arithmetic."""
    gd = g.data
    gx = wrap(gd @ weight.data) if x._requires_grad else None
    gw = None
    if weight._requires_grad:
        g2 = gd if gd.ndim == 2 else gd.reshape(-1, gd.shape[-1])
        x2 = x.data if x.ndim == 2 else x.data.reshape(-1, x.shape[-1])
        gw = wrap(g2.T @ x2)
    if bias is None:
        return gx, gw
    gb = None
    if bias._requires_grad:          # dL/db: G summed over every row
        gb = wrap(gd.sum(axis=tuple(range(gd.ndim - 1))))
    return gx, gw, gb

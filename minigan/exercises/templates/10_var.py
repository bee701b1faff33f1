"""Exercise 10: the variance over an axis (lecture 3, medium).

DCGAN puts batch normalization in both networks, and batch norm divides by the
standard deviation of each feature over the batch. That variance is the
*biased* (population) one, divided by n, not n - 1 (NumPy's default, and
minigan's; PyTorch's torch.var divides by n - 1 unless told otherwise):

    out = x.var(axis=axis, keepdims=keepdims)
    v = (1/n) sum_j (x_j - m)^2,    m = (1/n) sum_j x_j,   over the n elements x_j of a group

Your task: write backward(g, x, out, axis, keepdims), returning dL/dx.

What to derive: dv/dx_i. Careful: the mean m depends on x_i too, so there are
two paths from x_i to v. Work out the second one; you will find that it adds
nothing (why?).

Hint: put the reduced axes back into g with keepdims_shape (as in exercise 9);
the mean with keepdims, x.mean(axis=axis, keepdims=True), broadcasts against x.

(README.md says how forward and backward are plugged into the engine.)
"""


def keepdims_shape(shape, axis):
    """Given. The shape of the variance with keepdims=True (see exercise 9)."""
    if axis is None:
        return (1,) * len(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    reduced = {a % len(shape) for a in axes}
    return tuple(1 if i in reduced else size for i, size in enumerate(shape))


def forward(x, axis=None, keepdims=False):
    """Given. The biased variance (divided by n) of the array x over `axis`."""
    return x.var(axis=axis, keepdims=keepdims)


def backward(g, x, out, axis=None, keepdims=False):
    """Your turn. g, out: minigan Tensors of the variance's shape; x: the input Tensor.

    Return dL/dx, a Tensor of x's shape.
    """
    raise NotImplementedError("your turn: dL/dx of the variance (mind the mean's own path)")

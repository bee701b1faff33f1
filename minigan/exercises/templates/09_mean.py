"""Exercise 9: the mean over an axis (lecture 3, easy).

The lecture's value V(G, D) = E[log D(x)] + E[log(1 - D(G(z)))] is made of
expectations; in training each one is a mean over the batch. A mean can run
over one axis, several, or all of them:

    out = x.mean(axis=axis, keepdims=keepdims)

    x of shape (2, 3, 4):  axis=1 -> (2, 4);  axis=(0, 2) -> (3,);
                           axis=None -> ();   axis=1, keepdims=True -> (2, 1, 4)

Your task: write backward(g, x, out, axis, keepdims), returning dL/dx. g has
out's shape.

What to derive: out[k] = (1/n) sum of the n elements x[j] in group k. How much
does each x[j] change out[k]? And so what is dL/dx[j]?

Hint: every element of a group gets the same share of that group's g. Put the
averaged axes back into g as axes of size 1 (keepdims_shape below gives that
shape, and g.reshape(...) makes it), then g.broadcast_to(x.shape) stretches it
over the group. n is the number of elements averaged into one output, not
x.size (unless axis is None).

(README.md says how forward and backward are plugged into the engine.)
"""


def keepdims_shape(shape, axis):
    """Given. The shape of the mean with keepdims=True: the averaged axes kept,
    with size 1. keepdims_shape((2, 3, 4), 1) == (2, 1, 4),
    keepdims_shape((2, 3, 4), (0, 2)) == (1, 3, 1), keepdims_shape((2, 3, 4), None) == (1, 1, 1)."""
    if axis is None:
        return (1,) * len(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    averaged = {a % len(shape) for a in axes}          # negative axes count from the end
    return tuple(1 if i in averaged else size for i, size in enumerate(shape))


def forward(x, axis=None, keepdims=False):
    """Given. The mean of the array x over `axis` (an int, a tuple of ints, or None for all)."""
    return x.mean(axis=axis, keepdims=keepdims)


def backward(g, x, out, axis=None, keepdims=False):
    """Your turn. g, out: minigan Tensors of the mean's shape; x: the input Tensor.

    Return dL/dx, a Tensor of x's shape.
    """
    raise NotImplementedError("your turn: spread g back over the averaged elements")

"""Exercise 17: average pooling (lecture 4, medium).

The applications of lecture 4 look at images at several sizes: a multi-scale
discriminator (pix2pixHD) judges an image and its half-size copy, made by
average pooling. Each output pixel is the mean of one k x k window of the
image, padded with `padding` zeros on every side, the windows `stride` pixels
apart (PyTorch's defaults: stride = kernel_size, and the zeros of the padding
count in the mean):

    y[n, c, oh, ow] = (1 / k^2) sum over i, j < k of xpad[n, c, oh*stride + i, ow*stride + j]
    OH = (H + 2 padding - k) // stride + 1           (likewise OW)

Your task: write backward(g, x, out, kernel_size, stride, padding), returning
dL/dx. g has y's shape.

What to derive: which output pixels does xpad[n, c, h, w] enter, and with what
weight? With stride < kernel_size the windows overlap, and a pixel enters
several of them. Then: what becomes of the gradient that lands on the padding?

Hint: the forward visits the windows one kernel tap (i, j) at a time, a strided
slice of xpad per tap (window_slices, given). Go the same way back: a zero array
of xpad's shape, and for every tap add g / k^2 into the same slice (add, +=:
where windows overlap the contributions add up). Then cut the padding off, back
to x's shape. This backward may work on NumPy arrays (g.data) and return a NumPy
array: it is checked to first order only.

(README.md says how forward and backward are plugged into the engine.)
"""
import numpy as np


def output_size(size, k, stride, padding):
    """Given. How many windows of size k fit along an axis of `size` pixels."""
    return (size + 2 * padding - k) // stride + 1


def window_slices(i, j, stride, OH, OW):
    """Given. The pixels of xpad that kernel tap (i, j) reads, one per window: rows
    i, i + stride, ..., i + stride (OH - 1), and the same for the columns."""
    return (slice(None), slice(None), slice(i, i + stride * (OH - 1) + 1, stride),
            slice(j, j + stride * (OW - 1) + 1, stride))


def forward(x, kernel_size=2, stride=None, padding=0):
    """Given. The mean of each kernel_size x kernel_size window of x (N, C, H, W)."""
    k = kernel_size
    stride = k if stride is None else stride
    N, C, H, W = x.shape
    OH, OW = output_size(H, k, stride, padding), output_size(W, k, stride, padding)
    xpad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    y = np.zeros((N, C, OH, OW), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            y += xpad[window_slices(i, j, stride, OH, OW)]
    return y / (k * k)


def backward(g, x, out, kernel_size=2, stride=None, padding=0):
    """Your turn. g, out: minigan Tensors (N, C, OH, OW); x: the input Tensor (N, C, H, W).

    Return dL/dx, of x's shape (a Tensor or a NumPy array).
    """
    raise NotImplementedError("your turn: share each window's gradient among its pixels")

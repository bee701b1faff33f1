"""Exercise 13: conv2d by im2col (lecture 4, hard).

Lecture 4: "The convolution operation can be conducted by a matrix
multiplication." im2col (below, given) copies every window the kernel visits
into one column of a matrix; the convolution is then one matrix product of the
kernel, flattened to a matrix, with those columns:

    cols  = im2col(x)                       (C*kh*kw, N*OH*OW)
    W_mat = w.reshape(O, C*kh*kw)           (O, C*kh*kw)
    Y_mat = W_mat @ cols + b                (O, N*OH*OW), b added to every column
    y     = Y_mat as (N, O, OH, OW)

x: (N, C, H, W); w: (O, C, kh, kw) (PyTorch's layout); b: (O,); stride and
padding are the same along both axes: OH = (H + 2 padding - kh) // stride + 1.

Your task: write backward(g, x, w, b, out, stride, padding), returning
(dL/dx, dL/dw, dL/db).

What to derive: undo the steps in reverse order. g reshaped the way y was
made from Y_mat gives G_mat = dL/dY_mat. Y_mat = W_mat @ cols is exercise 5:
it gives dL/dW_mat and dL/dcols. b is exercise 4's broadcast bias. Last,
cols = im2col(x) copied every x pixel into each window that covers it: so
dL/dx adds up the gradients of all those copies. That is col2im (given): it
sends a gradient on the columns back onto the image, adding where windows
overlap.

Hint: g has shape (N, O, OH, OW) and G_mat is (O, N*OH*OW) with the columns in
im2col's order (n, oh, ow): g.data.transpose(1, 0, 2, 3).reshape(O, -1).
This backward may work on NumPy arrays (x.data, w.data, g.data) and return
NumPy arrays: it is checked to first order only.

(README.md says how forward and backward are plugged into the engine.)
"""
import numpy as np


def output_size(size, k, stride, padding):
    """Given. How many windows of size k fit along an axis of `size` pixels."""
    return (size + 2 * padding - k) // stride + 1


def im2col(x, kh, kw, stride, padding):
    """Given. x (N, C, H, W) -> matrix (C*kh*kw, N*OH*OW): one column per window.

    Row (c, i, j), column (n, oh, ow) holds xpad[n, c, oh*stride + i, ow*stride + j],
    xpad being x with `padding` zeros around each image.
    """
    N, C, H, W = x.shape
    OH, OW = output_size(H, kh, stride, padding), output_size(W, kw, stride, padding)
    xpad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = np.empty((C, kh, kw, N, OH, OW), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            # kernel tap (i, j) sees the pixels i, i + stride, ... of every window
            window = xpad[:, :, i:i + stride * OH:stride, j:j + stride * OW:stride]
            cols[:, i, j] = window.transpose(1, 0, 2, 3)
    return cols.reshape(C * kh * kw, N * OH * OW)


def col2im(cols, x_shape, kh, kw, stride, padding):
    """Given. The way back: a (C*kh*kw, N*OH*OW) matrix onto an image of x_shape
    (N, C, H, W), every entry added into the pixel its window took it from, so
    that where windows overlap their contributions add up. (It is im2col's
    transpose: for any x and cols, sum(im2col(x) * cols) == sum(x * col2im(cols)).)
    """
    N, C, H, W = x_shape
    OH, OW = output_size(H, kh, stride, padding), output_size(W, kw, stride, padding)
    cols = cols.reshape(C, kh, kw, N, OH, OW)
    xpad = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            xpad[:, :, i:i + stride * OH:stride, j:j + stride * OW:stride] += \
                cols[:, i, j].transpose(1, 0, 2, 3)
    return xpad[:, :, padding:padding + H, padding:padding + W]


def forward(x, w, b, stride=1, padding=0):
    """Given. conv2d of x (N, C, H, W) with w (O, C, kh, kw) and bias b (O,)."""
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    OH, OW = output_size(H, kh, stride, padding), output_size(W, kw, stride, padding)
    cols = im2col(x, kh, kw, stride, padding)
    y = w.reshape(O, -1) @ cols + b.reshape(O, 1)          # the one matrix product
    return y.reshape(O, N, OH, OW).transpose(1, 0, 2, 3)


def backward(g, x, w, b, out, stride=1, padding=0):
    """Your turn. g: dL/dy (N, O, OH, OW); x, w, b: the inputs; out: y. minigan Tensors.

    Return (dL/dx, dL/dw, dL/db), of the shapes of x, w and b (Tensors or NumPy arrays).
    """
    raise NotImplementedError("your turn: conv2d's three gradients, by im2col and col2im")

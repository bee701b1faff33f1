"""Exercise 14: the transposed convolution, conv2d's backward (lecture 4, hard).

Lecture 4: a convolution is a matrix C applied to the flattened image, and
"going backward" is the transposed matrix C^T. DCGAN's generator upsamples
with C^T, the transposed convolution: every input pixel scatters a copy of the
kernel, weighted by its value, into the output, `stride` pixels apart, and
where the copies overlap they add up (the forward below does exactly that).

    x: (N, Cin, H, W);  w: (Cin, Cout, kh, kw), the layout of the conv2d it reverses;
    b: (Cout,);  y: (N, Cout, OH, OW),  OH = (H - 1) stride - 2 padding + kh

conv_transpose2d(., w) is the gradient of conv2d(., w) with respect to its
input (exercise 13's dL/dx). Applying the transpose twice gives the matrix
back: so the backward of a transposed convolution is ... a convolution.

Your task: write backward(g, x, w, b, out, stride, padding), returning
(dL/dx, dL/dw, dL/db).

What to derive:
  dL/dx: C^T's transpose is C. With the same w, stride and padding, the
         convolution maps an image of y's size back to x's size.
  dL/dw: y[n, o, h*stride + i - padding, v*stride + j - padding] received
         x[n, c, h, v] * w[c, o, i, j]; so dL/dw[c, o, i, j] sums g at those
         places times x. im2col(g) (given, as in exercise 13) lines every
         window of g up with the input pixel (h, v) that wrote into it.
  dL/db: exercise 4 again.

Hint: you may use minigan's own conv2d for dL/dx
(import minigan.functional as F; F.conv2d(g, w, stride=stride, padding=padding):
its weight layout (out, in, kh, kw) is w's (Cin, Cout, kh, kw) read as
out = Cin, in = Cout), or im2col and a matrix product. For dL/dw, x as a
(Cin, N*H*W) matrix is x.data.transpose(1, 0, 2, 3).reshape(Cin, -1). NumPy
arrays may be returned: this op is checked to first order only.

(README.md says how forward and backward are plugged into the engine.)
"""
import numpy as np


def output_size(size, k, stride, padding):
    """Given. How many windows of size k fit along an axis of `size` pixels (conv2d's size)."""
    return (size + 2 * padding - k) // stride + 1


def im2col(x, kh, kw, stride, padding):
    """Given (the same as exercise 13's). x (N, C, H, W) -> (C*kh*kw, N*OH*OW):
    row (c, i, j), column (n, oh, ow) holds xpad[n, c, oh*stride + i, ow*stride + j]."""
    N, C, H, W = x.shape
    OH, OW = output_size(H, kh, stride, padding), output_size(W, kw, stride, padding)
    xpad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = np.empty((C, kh, kw, N, OH, OW), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            window = xpad[:, :, i:i + stride * OH:stride, j:j + stride * OW:stride]
            cols[:, i, j] = window.transpose(1, 0, 2, 3)
    return cols.reshape(C * kh * kw, N * OH * OW)


def forward(x, w, b, stride=1, padding=0):
    """Given. The transposed convolution of x (N, Cin, H, W) with w (Cin, Cout, kh, kw)."""
    N, Cin, H, W = x.shape
    _, Cout, kh, kw = w.shape
    OH, OW = (H - 1) * stride - 2 * padding + kh, (W - 1) * stride - 2 * padding + kw
    ypad = np.zeros((N, Cout, OH + 2 * padding, OW + 2 * padding), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            # input pixel (h, v) adds sum_c x[n, c, h, v] w[c, :, i, j] at (h*stride + i, v*stride + j)
            ypad[:, :, i:i + stride * H:stride, j:j + stride * W:stride] += \
                np.einsum("nchv,co->nohv", x, w[:, :, i, j])
    return ypad[:, :, padding:padding + OH, padding:padding + OW] + b.reshape(1, -1, 1, 1)


def backward(g, x, w, b, out, stride=1, padding=0):
    """Your turn. g: dL/dy (N, Cout, OH, OW); x, w, b: the inputs; out: y. minigan Tensors.

    Return (dL/dx, dL/dw, dL/db), of the shapes of x, w and b (Tensors or NumPy arrays).
    """
    raise NotImplementedError("your turn: the transposed convolution's three gradients")

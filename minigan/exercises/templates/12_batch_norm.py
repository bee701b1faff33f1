"""Exercise 12: batch normalization's backward, training mode (lecture 4, hard).

Batch norm (Ioffe and Szegedy, 2015; used by DCGAN in both networks)
normalizes each feature (channel, axis 1) over the batch, and over the pixels
for images, then scales and shifts it with learned weight and bias:

    mu    = (1/n) sum x              over the n values of one channel
    var   = (1/n) sum (x - mu)^2     (biased, exercise 10)
    xhat  = (x - mu) / sqrt(var + eps)
    y     = weight * xhat + bias

Lecture 4: "Back-propagation computes the gradient through the normalization."
That is this exercise: in training mode mu and var are computed from the
batch, so they depend on every x in it.

Your task: write backward(g, x, weight, bias, out, eps), returning
(dL/dx, dL/dweight, dL/dbias).

What to derive: dL/dbias and dL/dweight first (sums over the n values of a
channel). Then dL/dx: three paths lead from one x_i to the loss: directly
through xhat_i, and through mu and var, which every xhat_j uses. Work out
dL/dxhat, then dL/dvar and dL/dmu, then combine them.

Hint: per-channel sums are g.sum(axis=stat_axes(x.ndim), keepdims=True), and
per_channel(weight, x.ndim) shapes a (C,) Tensor to broadcast against x.
Compute mu, var and xhat again from x with Tensor operations (x.mean(...),
x.var(...), ** -0.5). A backward that forgets the paths through mu and var
is a classic mistake; the gradient check catches it.

(README.md says how forward and backward are plugged into the engine.)
"""
import numpy as np


def stat_axes(ndim):
    """Given. The axes the statistics run over: all but the channel axis 1,
    (0,) for (N, C) and (0, 2, 3) for (N, C, H, W)."""
    return (0,) + tuple(range(2, ndim))


def per_channel(a, ndim):
    """Given. A (C,) array or Tensor reshaped to (1, C, 1, ...) to broadcast against x."""
    return a.reshape((1, -1) + (1,) * (ndim - 2))


def forward(x, weight, bias, eps=1e-5):
    """Given. Batch norm in training mode: x (N, C) or (N, C, H, W); weight, bias (C,)."""
    axes = stat_axes(x.ndim)
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    xhat = (x - mu) / np.sqrt(var + eps)
    return xhat * per_channel(weight, x.ndim) + per_channel(bias, x.ndim)


def backward(g, x, weight, bias, out, eps=1e-5):
    """Your turn. g: dL/dy (x's shape); x; weight, bias: (C,); out: y. minigan Tensors.

    Return (dL/dx, dL/dweight, dL/dbias), Tensors of the shapes of x, weight and bias.
    """
    raise NotImplementedError("your turn: the three gradients of batch norm in training mode")

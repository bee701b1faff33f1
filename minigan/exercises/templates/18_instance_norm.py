"""Exercise 18: instance normalization's backward, twice differentiable (lecture 4, hard).

pix2pix's and CycleGAN's generators (lecture 4's applications) normalize with
instance norm (Ulyanov et al., 2016), not batch norm: every sample's channel is
normalized over its own pixels alone, so one image's style never leaks into
another's through the batch statistics:

    mu    = (1/n) sum x[n, c, :, :]          over the n = H W pixels of one sample's channel
    var   = (1/n) sum (x[n, c] - mu)^2       (biased)
    xhat  = (x - mu) / sqrt(var + eps)
    y     = weight[c] * xhat + bias[c]

Exercise 12's formula with other statistics: mu and var now have shape
(N, C, 1, 1), one pair per sample and channel.

Your task: write backward(g, x, weight, bias, out, eps), returning
(dL/dx, dL/dweight, dL/dbias), with Tensor operations only: the grader also
differentiates your backward again (as a gradient penalty through a critic
with instance norm does), so it must be built from x, not from x.data.

What to derive: dL/dbias and dL/dweight first: weight[c] and bias[c] are used
at every pixel of every sample, so sum over all of them (axes (0, 2, 3)). Then
dL/dx: as in exercise 12, three paths lead from x[n, c, h, w] to the loss,
directly through xhat, and through mu and var of its own sample and channel.

Hint: per-sample sums are g.sum(axis=(2, 3), keepdims=True). Rebuild mu, var
and xhat from x with Tensor operations (x.mean(...), ** -0.5). The classic
mistakes: leaving out the path through mu or var, and using batch norm's
statistics (over the batch too, axes (0, 2, 3)) where instance norm's are per
sample.

(README.md says how forward and backward are plugged into the engine.)
"""
import numpy as np


def per_channel(a):
    """Given. A (C,) array or Tensor reshaped to (1, C, 1, 1) to broadcast against x."""
    return a.reshape(1, -1, 1, 1)


def forward(x, weight, bias, eps=1e-5):
    """Given. Instance norm of x (N, C, H, W); weight, bias (C,)."""
    mu = x.mean(axis=(2, 3), keepdims=True)
    var = x.var(axis=(2, 3), keepdims=True)
    xhat = (x - mu) / np.sqrt(var + eps)
    return xhat * per_channel(weight) + per_channel(bias)


def backward(g, x, weight, bias, out, eps=1e-5):
    """Your turn. g: dL/dy (x's shape); x; weight, bias: (C,); out: y. minigan Tensors.

    Return (dL/dx, dL/dweight, dL/dbias), Tensors of the shapes of x, weight and bias.
    """
    raise NotImplementedError("your turn: the three gradients of instance norm")

"""Exercise 1: sigmoid (lecture 2, easy).

The discriminator of the lecture's Keras GAN ends in a sigmoid, which turns a
score x into the probability that the input was real:

    out = sigmoid(x) = 1 / (1 + e^(-x))

Your task: write backward(g, x, out). The engine gives it g = dL/d(out), the
gradient of the loss with respect to this op's output, and wants dL/dx back.
Elementwise, the chain rule says

    dL/dx = g * d sigmoid(x) / dx

What to derive: d sigmoid(x)/dx, written with the output `out` alone (no
exponential). That is why an op keeps its output for the backward pass.

Hint: differentiate (1 + e^(-x))^(-1) with the chain rule, then notice that
e^(-x) / (1 + e^(-x)) = 1 - sigmoid(x). The grader also tries saturated inputs
(x = -1e4, where e^(-x) overflows to inf): one more reason to use `out`.

(README.md says how forward and backward are plugged into the engine.)
"""
import numpy as np


def forward(x):
    """Given. sigmoid of the array x, computed as exp(-log(1 + e^(-x))) so that
    it never overflows, whatever the size of x."""
    return np.exp(-np.logaddexp(0.0, -x))


def backward(g, x, out):
    """Your turn. g, x, out: minigan Tensors (g has out's shape, which is x's).

    Return dL/dx, a Tensor of x's shape, written with Tensor operations
    (+ - * / on g, x and out).
    """
    raise NotImplementedError("your turn: dL/dx = g * (d sigmoid/dx, written with out)")

"""Exercise 3: leaky ReLU (lecture 2, easy).

Every hidden layer of the lecture's Keras GAN is followed by LeakyReLU(0.2):

    out = x                    where x > 0
    out = negative_slope * x   where x <= 0        (negative_slope = 0.2)

Unlike ReLU it keeps a small gradient for negative inputs, so a unit that
went negative can still learn (a discriminator that passes no gradient back
to the generator is what a GAN must avoid).

Your task: write backward(g, x, out), returning dL/dx = g * d out/dx.

What to derive: the derivative on each side of 0. (At exactly 0 take the
negative side's, as PyTorch does; the grader never tests 0 itself.)

Hint: which side an element is on is a constant, not something to
differentiate: compute it from the array, e.g. `x.data > 0` (a NumPy array of
booleans), and np.where can turn it into the slope of every element. A
Tensor times a NumPy array is a Tensor.

(README.md says how forward and backward are plugged into the engine.)
"""
import numpy as np


def forward(x, negative_slope=0.2):
    """Given. Leaky ReLU of the array x."""
    return np.where(x > 0, x, negative_slope * x)


def backward(g, x, out, negative_slope=0.2):
    """Your turn. g, x, out: minigan Tensors of one shape.

    Return dL/dx, a Tensor of x's shape.
    """
    raise NotImplementedError("your turn: dL/dx = g * (the slope on x's side of 0)")

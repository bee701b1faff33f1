"""Exercise 15: the WGAN-GP gradient penalty (lecture 5, hard).

Lecture 5 names better losses, the Wasserstein GAN first. Its critic D must be
1-Lipschitz, and WGAN-GP (Gulrajani et al., 2017) asks for it softly: the norm
of D's gradient with respect to its input should be 1 at points xhat between
real and fake samples,

    penalty = lam * (1/N) sum_i (||grad_x D(xhat_i)||_2 - 1)^2,
    xhat_i  = eps_i x_real_i + (1 - eps_i) x_fake_i,   eps_i in [0, 1]

The critic is trained on its loss plus this penalty, so the penalty is
differentiated with respect to D's weights, and it contains a gradient:
that is a gradient of a gradient. The engine can do it only if every backward
inside D is itself made of Tensor operations, which it can differentiate
again (minigan.grad(..., create_graph=True) records the backward pass).

Your task has two parts.

Part 1. The critic the grader builds is D(x) = softplus(x W1^T + b1) w2, with
your softplus, softplus(x) = log(1 + e^x), a smooth ReLU. Write its backward,
backward(g, x, out) -> dL/dx, so that it can be differentiated again.
What to derive: d softplus/dx (you have met it in exercise 1).

Part 2. Write gradient_penalty(critic, real, fake, eps, lam): the formula
above. critic maps samples (N, d) to scores (N,).

Hints. Part 1: write the derivative with Tensor operations on x (x.sigmoid(),
x.exp(), ...). Computed from x.data with NumPy it is right to first order, but
the engine sees a constant: its own derivative comes out 0, and the grader's
second-order check (gradgradcheck) says so. Part 2: make xhat a leaf that
requires a gradient (xhat = (...).detach(); xhat.requires_grad = True); take
(grad,) = minigan.grad(critic(xhat).sum(), xhat, create_graph=True) (summing is
exact: sample i's score depends on sample i alone), its norm per sample
(over every axis but the first), and the mean. Without create_graph=True the
penalty is right but has no gradient for D's weights.

(README.md says how forward and backward are plugged into the engine.)
"""
import numpy as np


def forward(x):
    """Given. softplus(x) = log(1 + e^x), computed without overflow."""
    return np.logaddexp(0.0, x)


def backward(g, x, out):
    """Your turn (part 1). g, x, out: minigan Tensors of one shape.

    Return dL/dx, a Tensor of x's shape made of Tensor operations on x (or out).
    """
    raise NotImplementedError("your turn: softplus's backward, differentiable again")


def gradient_penalty(critic, real, fake, eps, lam=10.0):
    """Your turn (part 2). critic: a function from a Tensor (N, d) to scores (N,);
    real, fake: Tensors (N, d); eps: a Tensor (N, 1) of numbers in [0, 1]; lam: a number.

    Return the penalty, a 0-d Tensor that the engine can differentiate with
    respect to the critic's weights.
    """
    raise NotImplementedError("your turn: lam * mean((||grad_x critic(xhat)|| - 1)^2)")

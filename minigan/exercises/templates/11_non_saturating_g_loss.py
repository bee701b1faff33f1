"""Exercise 11: the non-saturating generator loss (lecture 4, medium).

In the minimax game the generator minimizes E[log(1 - D(G(z)))]. Lecture 4
works out its gradient with respect to D's logit a, with D = sigmoid(a):

    d/da log(1 - sigmoid(a)) = -sigmoid(a)

which goes to 0 exactly when D confidently rejects the fakes (a << 0): early
in training the generator learns nothing. The fix is to let the generator
minimize -E[log D(G(z))] instead, the non-saturating loss. On the logits
a_1..a_n of a batch of fakes:

    L = -(1/n) sum_i log sigmoid(a_i) = (1/n) sum_i log(1 + e^(-a_i))

(the second form is the forward below: finite for any logit).

Your task: write backward(g, logits, out), returning dL/d(logits).

What to derive: d/da [-log sigmoid(a)], as the lecture derives the saturating
one above; then the mean's 1/n. Compare the two: where is each one large?

Hint: the grader tries logits of +-1e4 (a discriminator that is sure). Your
formula must stay finite and exact there: a sigmoid computed as x.sigmoid()
(a Tensor operation) is safe; a division by sigmoid(a) is not, it is 0 there.
g is a number (a 0-d Tensor).

(README.md says how forward and backward are plugged into the engine.)
"""
import numpy as np


def forward(logits):
    """Given. -mean(log sigmoid(logits)), as the mean of log(1 + e^(-logits))."""
    return np.logaddexp(0.0, -logits).mean()


def backward(g, logits, out):
    """Your turn. g: dL/d(out), a 0-d Tensor; logits: D's logits on the fakes. minigan Tensors.

    Return dL/d(logits), a Tensor of the logits' shape.
    """
    raise NotImplementedError("your turn: the gradient of -mean(log sigmoid(a)) with respect to a")

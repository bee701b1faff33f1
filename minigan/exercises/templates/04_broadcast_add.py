"""Exercise 4: addition with broadcasting, and the unbroadcast rule (lecture 2, medium).

A Dense layer adds its bias b, of shape (units,), to every row of a batch of
shape (batch, units): NumPy *broadcasts* b, stretching it over the rows. In
general the shapes are lined up from the right, and an axis that one operand
lacks (on the left) or has with size 1 is stretched to the other's size:

    (3, 4) + (4,)      -> (3, 4)       b is used by every row
    (3, 1) + (1, 4)    -> (3, 4)       a is used by every column, b by every row
    (2, 3, 4) + (3, 1) -> (2, 3, 4)
    () + (2, 3)        -> (2, 3)       a number added everywhere

    out = a + b

Your task: write backward(g, a, b, out), returning (dL/da, dL/db), each with
the shape of its own input. g has out's shape.

What to derive: take out[i, j] = a[i, j] + b[j]. Every out[i, j] with the same
j used b[j], so dL/db[j] collects the gradient from all of them:
dL/db[j] = sum over i of g[i, j]. Generalize: over which axes of g must you sum
to get back to an input's shape?

Hint: write a helper unbroadcast(g, shape) and use it for both inputs: sum g
over the leading axes the shape lacks, then over the axes where the shape has
size 1 but g does not (g.sum(axis=..., keepdims=True) keeps them as size 1),
and finally reshape to `shape`. minigan's engine applies this rule in one
place for every op (minigan/autograd.py); here the grader refuses a gradient of
the wrong shape, so the rule is yours to write.

(README.md says how forward and backward are plugged into the engine.)
"""


def forward(a, b):
    """Given. a + b, NumPy broadcasting the two shapes to one."""
    return a + b


def backward(g, a, b, out):
    """Your turn. g, a, b, out: minigan Tensors; g and out have the broadcast shape.

    Return (dL/da, dL/db): two Tensors, of a's shape and of b's shape.
    """
    raise NotImplementedError("your turn: sum g back to a.shape and to b.shape")

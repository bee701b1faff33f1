"""Exercise 6: the linear (Dense) layer (lecture 2, medium).

Keras' Dense(units=256, input_dim=100) and minigan's nn.Dense compute

    y = x W^T + b,    x: (N, in),  W: (out, in),  b: (out,),  y: (N, out)

with the weight stored out x in, as PyTorch's Linear stores it (and
minigan.functional.linear). In the lecture's summary() the first Dense layer
has 100 * 256 + 256 = 25,856 parameters: W and b.

Your task: write backward(g, x, w, b, out), returning (dL/dx, dL/dW, dL/db).

What to derive: this is exercise 5 with B = W^T, followed by exercise 4's
rule for the bias, which is broadcast over the N rows of the batch.

Hint: write y = x B + b with B = W^T and use exercise 5; then turn dL/dB
into dL/dW (how are the entries of B and W related?). Each gradient has the
shape of its input: dL/dW is (out, in) like W, dL/db is (out,) like b.

(README.md says how forward and backward are plugged into the engine.)
"""


def forward(x, w, b):
    """Given. The Dense layer x W^T + b."""
    return x @ w.T + b


def backward(g, x, w, b, out):
    """Your turn. g: dL/dy (N, out); x: (N, in); w: (out, in); b: (out,). minigan Tensors.

    Return (dL/dx, dL/dw, dL/db), Tensors of the shapes of x, w and b.
    """
    raise NotImplementedError("your turn: dL/dx, dL/dW and dL/db of y = x W^T + b")

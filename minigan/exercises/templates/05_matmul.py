"""Exercise 5: matrix multiplication (lecture 2, medium).

A Dense layer is a matrix product: a batch of inputs (one per row) times a
weight matrix. Lecture 4 shows that a convolution is one too.

    C = A B,    A: (n, m),  B: (m, p),  C: (n, p),    C[i, k] = sum_j A[i, j] B[j, k]

Your task: write backward(g, a, b, out), returning (dL/dA, dL/dB), given the
gradient G = dL/dC of shape (n, p).

What to derive: dL/dA[i, j] = sum_k G[i, k] dC[i, k]/dA[i, j]. Which entries
of B meet which entries of G? Write the sum as one matrix product; do the same
for B.

Hint: check your answer on 1 x 1 matrices (then C = AB and dL/dA = G B), and
let the shapes decide the transposes: dL/dA must have A's shape (n, m) and be
made of G (n, p) and B (m, p). `t.T` is the transpose of a Tensor t and `@`
multiplies Tensors.

(README.md says how forward and backward are plugged into the engine.)
"""


def forward(a, b):
    """Given. The matrix product of a (n, m) and b (m, p)."""
    return a @ b


def backward(g, a, b, out):
    """Your turn. g: dL/dC (n, p); a: (n, m); b: (m, p); out: C. All minigan Tensors.

    Return (dL/da, dL/db), Tensors of shapes (n, m) and (m, p).
    """
    raise NotImplementedError("your turn: dL/dA and dL/dB, each one matrix product")

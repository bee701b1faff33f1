def backward(g, a, b, out):
    # dL/dA = G B^T, dL/dB = A^T G (minigan/ops/linalg.py: matmul)
    return g @ b.T, a.T @ g

def backward(g, x, w, b, out):
    # dL/dx = G W, dL/dW = G^T x, dL/db = sum of G over rows (minigan/ops/linalg.py: linear)
    return g @ w, g.T @ x, g.sum(axis=0)

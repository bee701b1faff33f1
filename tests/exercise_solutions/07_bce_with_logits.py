def backward(g, x, t, out):
    # dl/dx = sigmoid(x) - t, times 1/n for the mean (minigan/ops/loss.py)
    return g * (x.sigmoid() - t) * (1.0 / x.size)

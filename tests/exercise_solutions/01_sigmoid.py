def backward(g, x, out):
    # d sigmoid/dx = s (1 - s), s = sigmoid(x) = out (minigan/ops/math.py: sigmoid)
    return g * out * (1 - out)

# given by the template; declared here only so that this file reads alone
# (fill.py copies the functions and imports, never this line)
keepdims_shape = None


def backward(g, x, out, axis=None, keepdims=False):
    # dL/dx = g * 2 (x - mean) / n (minigan/ops/reduce.py: var)
    kept = keepdims_shape(x.shape, axis)
    n = x.size // g.reshape(kept).size
    centered = x - x.mean(axis=axis, keepdims=True)
    return g.reshape(kept) * centered * (2.0 / n)

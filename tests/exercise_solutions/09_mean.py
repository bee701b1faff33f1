# given by the template; declared here only so that this file reads alone
# (fill.py copies the functions and imports, never this line)
keepdims_shape = None


def backward(g, x, out, axis=None, keepdims=False):
    # dL/dx = g spread over the averaged elements, / n (minigan/ops/reduce.py: mean)
    kept = keepdims_shape(x.shape, axis)
    n = x.size // g.reshape(kept).size
    return g.reshape(kept).broadcast_to(x.shape) * (1.0 / n)

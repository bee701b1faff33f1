def unbroadcast(g, shape):
    # minigan/autograd.py: unbroadcast
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and g.shape[lead + i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def backward(g, a, b, out):
    return unbroadcast(g, a.shape), unbroadcast(g, b.shape)

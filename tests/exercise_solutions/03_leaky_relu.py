import numpy as np


def backward(g, x, out, negative_slope=0.2):
    # slope 1 where x > 0, negative_slope elsewhere (minigan/ops/math.py: leaky_relu)
    return g * np.where(x.data > 0, 1.0, negative_slope)

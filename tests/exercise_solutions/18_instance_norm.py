# given by the template; declared here only so that this file reads alone
# (fill.py copies the functions and imports, never this line)
per_channel = None


def backward(g, x, weight, bias, out, eps=1e-5):
    # minigan/ops/norm.py: dL/dx = (weight / std) (g - mean(g) - xhat mean(g xhat)),
    # the means over each sample's own pixels
    axes = (2, 3)
    n = x.shape[2] * x.shape[3]
    centered = x - x.mean(axis=axes, keepdims=True)
    inv_std = ((centered * centered).mean(axis=axes, keepdims=True) + eps) ** -0.5
    xhat = centered * inv_std
    sum_g = g.sum(axis=axes, keepdims=True)
    sum_gxh = (g * xhat).sum(axis=axes, keepdims=True)
    dx = inv_std * per_channel(weight) * (g - sum_g * (1.0 / n) - xhat * (sum_gxh * (1.0 / n)))
    return dx, sum_gxh.sum(axis=(0, 2, 3)), sum_g.sum(axis=(0, 2, 3))

# given by the template; declared here only so that this file reads alone
# (fill.py copies the functions and imports, never this line)
stat_axes = per_channel = None


def backward(g, x, weight, bias, out, eps=1e-5):
    # minigan/ops/norm.py: dL/dx = (weight / std) (g - mean(g) - xhat mean(g xhat))
    axes = stat_axes(x.ndim)
    n = x.size // x.shape[1]
    centered = x - x.mean(axis=axes, keepdims=True)
    inv_std = ((centered * centered).mean(axis=axes, keepdims=True) + eps) ** -0.5
    xhat = centered * inv_std
    sum_g = g.sum(axis=axes, keepdims=True)
    sum_gxh = (g * xhat).sum(axis=axes, keepdims=True)
    dx = inv_std * per_channel(weight, x.ndim) * (g - sum_g * (1.0 / n)
                                                  - xhat * (sum_gxh * (1.0 / n)))
    return dx, sum_gxh.reshape(-1), sum_g.reshape(-1)

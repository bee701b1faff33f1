"""Plain NumPy references for the tests that must catch bugs without PyTorch.

Written the slow, obvious way (a loop over kernel taps, the formulas of the
papers), sharing no code with minigan: where minigan and these agree, and where
torch is installed minigan and torch agree too, a bug has nowhere to hide.
Each function returns the output and, given the gradient ``g`` arriving at the
output, the gradients of the inputs.
"""
import numpy as np


def _pair(v):
    return (v, v) if np.isscalar(v) else tuple(v)


def _taps(kh, kw, dh, dw, sh, sw, OH, OW):
    """For each kernel tap (i, j): the strided slices of the padded large image that
    the tap meets, one row/column per small pixel:  h = oh * s + i * d."""
    for i in range(kh):
        for j in range(kw):
            yield i, j, (slice(i * dh, i * dh + sh * (OH - 1) + 1, sh),
                         slice(j * dw, j * dw + sw * (OW - 1) + 1, sw))


def conv_output_size(size, k, s, p, d):
    """floor((size + 2p - d (k - 1) - 1) / s) + 1."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def conv_transpose_output_size(size, k, s, p, op, d):
    """(size - 1) s - 2p + d (k - 1) + op + 1."""
    return (size - 1) * s - 2 * p + d * (k - 1) + op + 1


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, g=None):
    """y[n, o, oh, ow] = b[o] + sum_{c, i, j} w[o, c, i, j] xpad[n, c, oh s + i d, ow s + j d].

    Returns y, or (y, dx, dw, db) when the output gradient g is given.
    """
    (sh, sw), (ph, pw), (dh, dw_) = _pair(stride), _pair(padding), _pair(dilation)
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    OH, OW = conv_output_size(H, kh, sh, ph, dh), conv_output_size(W, kw, sw, pw, dw_)
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y = np.zeros((N, O, OH, OW))
    for i, j, (hs, ws) in _taps(kh, kw, dh, dw_, sh, sw, OH, OW):
        y += np.einsum("nchw,oc->nohw", xpad[:, :, hs, ws], w[:, :, i, j])
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    if g is None:
        return y
    dxpad, dwt = np.zeros_like(xpad), np.zeros(w.shape)
    for i, j, (hs, ws) in _taps(kh, kw, dh, dw_, sh, sw, OH, OW):
        dxpad[:, :, hs, ws] += np.einsum("nohw,oc->nchw", g, w[:, :, i, j])
        dwt[:, :, i, j] = np.einsum("nohw,nchw->oc", g, xpad[:, :, hs, ws])
    dx = dxpad[:, :, ph:ph + H, pw:pw + W]
    return y, dx, dwt, (g.sum(axis=(0, 2, 3)) if b is not None else None)


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1, g=None):
    """Every small pixel scatters w[c, :, :, :] x[n, c, h, w] into the large image:
    ypad[n, o, h s + i d, w s + j d] += w[c, o, i, j] x[n, c, h, w], then the padding is cut.

    Returns y, or (y, dx, dw, db) when the output gradient g is given.
    """
    (sh, sw), (ph, pw), (dh, dw_) = _pair(stride), _pair(padding), _pair(dilation)
    oph, opw = _pair(output_padding)
    N, C, H, W = x.shape
    _, O, kh, kw = w.shape
    LH = conv_transpose_output_size(H, kh, sh, ph, oph, dh)
    LW = conv_transpose_output_size(W, kw, sw, pw, opw, dw_)
    ypad = np.zeros((N, O, LH + 2 * ph, LW + 2 * pw))
    for i, j, (hs, ws) in _taps(kh, kw, dh, dw_, sh, sw, H, W):
        ypad[:, :, hs, ws] += np.einsum("nchw,co->nohw", x, w[:, :, i, j])
    y = ypad[:, :, ph:ph + LH, pw:pw + LW].copy()
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    if g is None:
        return y
    gpad = np.pad(g, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dx, dwt = np.zeros(x.shape), np.zeros(w.shape)
    for i, j, (hs, ws) in _taps(kh, kw, dh, dw_, sh, sw, H, W):
        dx += np.einsum("nohw,co->nchw", gpad[:, :, hs, ws], w[:, :, i, j])
        dwt[:, :, i, j] = np.einsum("nchw,nohw->co", x, gpad[:, :, hs, ws])
    return y, dx, dwt, (g.sum(axis=(0, 2, 3)) if b is not None else None)


def _channel_shape(x):
    return (1, -1) + (1,) * (x.ndim - 2)


def batch_norm_train(x, weight=None, bias=None, running_mean=None, running_var=None,
                     momentum=0.1, eps=1e-5, g=None):
    """Training mode, PyTorch's conventions:

        mean, var = the batch's per-channel mean and *biased* variance
        y = (x - mean) / sqrt(var + eps) * weight + bias
        running_mean <- (1 - momentum) running_mean + momentum mean
        running_var  <- (1 - momentum) running_var  + momentum var n / (n - 1)   (unbiased)

    Returns (y, new_running_mean, new_running_var), plus (dx, dweight, dbias) given g:
        dx = weight / sqrt(var + eps) * (g - mean(g) - xhat mean(g xhat))
    """
    axes = (0,) + tuple(range(2, x.ndim))
    n = x.size // x.shape[1]
    cs = _channel_shape(x)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    xhat = (x - mean.reshape(cs)) / np.sqrt(var.reshape(cs) + eps)
    w = np.ones(x.shape[1]) if weight is None else weight
    y = xhat * w.reshape(cs) + (0.0 if bias is None else bias.reshape(cs))
    rm = None if running_mean is None else (1 - momentum) * running_mean + momentum * mean
    rv = None if running_var is None else \
        (1 - momentum) * running_var + momentum * var * n / (n - 1)
    if g is None:
        return y, rm, rv
    gm = g.mean(axis=axes, keepdims=True)
    gxm = (g * xhat).mean(axis=axes, keepdims=True)
    dx = (w / np.sqrt(var + eps)).reshape(cs) * (g - gm - xhat * gxm)
    return y, rm, rv, dx, (g * xhat).sum(axis=axes), g.sum(axis=axes)


def batch_norm_eval(x, running_mean, running_var, weight=None, bias=None, eps=1e-5):
    """y = (x - running_mean) / sqrt(running_var + eps) * weight + bias."""
    cs = _channel_shape(x)
    y = (x - running_mean.reshape(cs)) / np.sqrt(running_var.reshape(cs) + eps)
    if weight is not None:
        y = y * weight.reshape(cs)
    if bias is not None:
        y = y + bias.reshape(cs)
    return y


def instance_norm(x, weight=None, bias=None, eps=1e-5, g=None):
    """Each sample's channel on its own, over its H W pixels, one (n, c) at a time:

        y = (x - mean) / sqrt(var + eps) * weight + bias        (var biased)

    Returns y, or (y, dx, dweight, dbias) given g, with dx from the batch norm
    paper's formula applied to the pixels of one (n, c):
        dx = (1 / m) (1 / std) (m g' - sum g' - xhat sum(g' xhat)),  g' = weight g, m = H W
    """
    N, C = x.shape[:2]
    w = np.ones(C) if weight is None else weight
    b = np.zeros(C) if bias is None else bias
    y, dx = np.zeros(x.shape), np.zeros(x.shape)
    dw, db = np.zeros(C), np.zeros(C)
    for n in range(N):
        for c in range(C):
            v = x[n, c]
            m = v.size
            std = np.sqrt(((v - v.mean()) ** 2).sum() / m + eps)
            xhat = (v - v.mean()) / std
            y[n, c] = xhat * w[c] + b[c]
            if g is not None:
                gw = g[n, c] * w[c]
                dx[n, c] = (m * gw - gw.sum() - xhat * (gw * xhat).sum()) / (m * std)
                dw[c] += (g[n, c] * xhat).sum()
                db[c] += g[n, c].sum()
    if g is None:
        return y
    return y, dx, (dw if weight is not None else None), (db if bias is not None else None)


def upsample_nearest(x, scale, g=None):
    """Every output pixel copies its nearest input pixel: y[n, c, h, w] = x[n, c, h // s, w // s].
    Given g, each input pixel collects the gradients of all its copies (dx)."""
    sh, sw = _pair(scale)
    N, C, H, W = x.shape
    y = np.zeros((N, C, H * sh, W * sw))
    dx = np.zeros(x.shape)
    for h in range(H * sh):
        for w in range(W * sw):
            y[:, :, h, w] = x[:, :, h // sh, w // sw]
            if g is not None:
                dx[:, :, h // sh, w // sw] += g[:, :, h, w]
    return y if g is None else (y, dx)


def avg_pool2d(x, kernel_size, stride=None, padding=0, g=None):
    """The mean of each window of the zero-padded image, the padding counted
    (PyTorch's count_include_pad=True), stride defaulting to the kernel size.
    Given g, every pixel of a window gets g / (kh kw) from it (dx)."""
    kh, kw = _pair(kernel_size)
    sh, sw = (kh, kw) if stride is None else _pair(stride)
    ph, pw = _pair(padding)
    N, C, H, W = x.shape
    OH, OW = conv_output_size(H, kh, sh, ph, 1), conv_output_size(W, kw, sw, pw, 1)
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y, dxpad = np.zeros((N, C, OH, OW)), np.zeros(xpad.shape)
    for oh in range(OH):
        for ow in range(OW):
            window = (slice(None), slice(None), slice(oh * sh, oh * sh + kh),
                      slice(ow * sw, ow * sw + kw))
            y[:, :, oh, ow] = xpad[window].sum(axis=(2, 3)) / (kh * kw)
            if g is not None:
                dxpad[window] += g[:, :, oh, ow, None, None] / (kh * kw)
    return y if g is None else (y, dxpad[:, :, ph:ph + H, pw:pw + W])


def pixel_norm(x, eps=1e-8, g=None):
    """ProGAN's pixel norm, pixel by pixel: v = x[n, :, h, w], r = sqrt(mean(v^2) + eps),
    y = v / r. Given g: dx = g / r - v (g . v) / (C r^3)."""
    x4 = x.reshape(x.shape + (1,) * (4 - x.ndim))
    g4 = None if g is None else g.reshape(x4.shape)
    N, C, H, W = x4.shape
    y, dx = np.zeros(x4.shape), np.zeros(x4.shape)
    for n in range(N):
        for h in range(H):
            for w in range(W):
                v = x4[n, :, h, w]
                r = np.sqrt((v * v).sum() / C + eps)
                y[n, :, h, w] = v / r
                if g is not None:
                    gv = g4[n, :, h, w]
                    dx[n, :, h, w] = gv / r - v * (gv * v).sum() / (C * r ** 3)
    y, dx = y.reshape(x.shape), dx.reshape(x.shape)
    return y if g is None else (y, dx)


def minibatch_stddev(x, group_size=4, eps=1e-8, g=None):
    """ProGAN's minibatch standard deviation, group by group as the paper's code groups:
    G = min(group_size, N), M = N / G, group m = samples m, m + M, m + 2M, ...;
    std = sqrt(biased variance over the group + eps) per feature and pixel, s its mean,
    the output x with one more channel filled with the group's s. Given g: dx = g's
    first C channels, plus, through s, (sum of g's last channel over the group)
    (x_j - mean) / (G std C H W) (the derivative of each std, averaged)."""
    N, C, H, W = x.shape
    G = min(group_size, N)
    M = N // G
    y = np.zeros((N, C + 1, H, W))
    y[:, :C] = x
    dx = None if g is None else g[:, :C].copy()
    for m in range(M):
        members = [m + j * M for j in range(G)]
        v = x[members]                                   # (G, C, H, W)
        mean = v.mean(axis=0)
        std = np.sqrt(((v - mean) ** 2).mean(axis=0) + eps)
        s = std.mean()
        for n in members:
            y[n, C] = s
        if g is not None:
            gs = sum(g[n, C].sum() for n in members)
            for j, n in enumerate(members):
                dx[n] += gs * (v[j] - mean) / (G * std * C * H * W)
    return y if g is None else (y, dx)


def unbroadcast(g, shape):
    """The gradient of a broadcast: sum g over the axes that broadcasting added or
    stretched from size 1, so that it has `shape` again."""
    g = np.asarray(g)
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g.reshape(shape)

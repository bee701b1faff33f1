"""Batch normalization (Ioffe and Szegedy, 2015), forward beside its fused backward.

For each channel c (axis 1; statistics over the batch and, for images, the pixels):

    mean  = (1/n) sum x                  var = (1/n) sum (x - mean)^2     (biased)
    xhat  = (x - mean) / sqrt(var + eps)
    y     = weight * xhat + bias

Training mode uses the batch's mean and var and updates the running statistics
in place; evaluation mode uses the running statistics instead, so the output of
one example no longer depends on the rest of its batch.

Momentum convention (PyTorch's): after every training step

    running_mean = (1 - momentum) * running_mean + momentum * mean
    running_var  = (1 - momentum) * running_var  + momentum * var * n / (n - 1)

(the running variance takes the *unbiased* batch variance). Keras and Chainer
call the other factor the momentum or decay: their ``momentum=0.99`` (or
``decay=0.9``) is PyTorch's and minigan's ``momentum=0.01`` (``0.1``).

Instance normalization is the same formula with the statistics taken per
sample, over its pixels alone; both are one fused node (``_normalize``) whose
backward is written once. Reference and virtual batch norm, at the end, take
their statistics from a fixed reference batch.
"""
from .. import backend
from ..autograd import make_op
from ..grad_mode import is_grad_enabled
from ..checks import not_a_tensor
from ..tensor import Tensor, check_devices, wrap


def _stat_axes(x):
    """Every axis but the channel axis 1: (0,) for (N, C), (0, 2, 3) for (N, C, H, W)."""
    return (0,) + tuple(range(2, x.ndim))


def _per_channel(a, ndim):
    """A (C,) array or tensor shaped to broadcast against the input: (1, C, 1, ...)."""
    return a.reshape((1, -1) + (1,) * (ndim - 2))


def _check(x, running_mean, running_var, weight, bias, op="batch_norm"):
    if not isinstance(x, Tensor):
        raise not_a_tensor(op, "x", x)
    if x.ndim < 2:
        raise ValueError(f"{op}: the input must be (N, C) or (N, C, H, W) with channels "
                         f"on axis 1, got shape {x.shape}")
    C = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (C,):
            raise ValueError(f"{op}: {name} must have shape ({C},), one value per channel "
                             f"of the input {x.shape}, got {tuple(t.shape)}")
    check_devices(op, x, *(t for t in (running_mean, running_var, weight, bias)
                           if isinstance(t, Tensor)))


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalize each channel of x (axis 1), then scale by weight and shift by bias.

    x: (N, C) or (N, C, H, W) (any (N, C, ...)). running_mean, running_var: (C,)
    tensors updated in place when ``training`` (either may be None, then it is
    neither used nor updated); weight, bias: optional (C,) affine parameters.
    See the module docstring for the formulas and the momentum convention.
    """
    _check(x, running_mean, running_var, weight, bias)
    if training:
        return _batch_norm_train(x, running_mean, running_var, weight, bias, momentum, eps)
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: evaluation mode (training=False) normalizes with the "
                         "running statistics, so running_mean and running_var are needed")
    return _batch_norm_eval(x, running_mean, running_var, weight, bias, eps)


def _batch_norm_eval(x, running_mean, running_var, weight, bias, eps):
    """y = (x - running_mean) / sqrt(running_var + eps) * weight + bias.

    The statistics are constants here, so y is an affine function of x; it is
    written as one scale and one shift per channel, in Tensor ops (the engine
    differentiates it, to any order).
    """
    rm, rv = _data(running_mean), _data(running_var)
    xp = backend.array_module(x.data)
    inv_std = wrap((1.0 / xp.sqrt(rv + eps)).astype(x.dtype, copy=False))
    scale = inv_std if weight is None else weight * inv_std
    shift = -wrap(rm.astype(x.dtype, copy=False)) * scale
    if bias is not None:
        shift = shift + bias
    return x * _per_channel(scale, x.ndim) + _per_channel(shift, x.ndim)


def _data(t):
    """The array of a tensor (or an array passed directly)."""
    return t.data if isinstance(t, Tensor) else t


def _sum_of_products(xp, a, b, axes):
    """sum over `axes` of a * b, the other axes kept in the result, without
    building a * b (einsum reads both once; the product-then-sum writes and
    reads a whole temporary array, twice the memory traffic)."""
    letters = "abcdefghij"[:a.ndim]
    kept = "".join(c for i, c in enumerate(letters) if i not in axes)
    return xp.einsum(f"{letters},{letters}->{kept}", a, b)


def _per_channel_total(s):
    """A statistic's shape (1, C, 1, 1) or (N, C, 1, 1) summed to (C,): the
    gradient of a per-channel weight or bias adds up every place it was used."""
    return s.sum(axis=_stat_axes(s))


def _batch_norm_train(x, running_mean, running_var, weight, bias, momentum, eps):
    """Training mode: normalize with the batch statistics; one fused graph node."""
    n = x.size // x.shape[1]
    if n < 2:
        raise ValueError(f"batch_norm: training needs more than one value per channel to "
                         f"compute a variance, got input shape {x.shape}")
    y, mean, var = _normalize(x, weight, bias, _stat_axes(x), eps, "batch_norm")
    _update_running(running_mean, mean.reshape(-1), momentum)
    _update_running(running_var, var.reshape(-1) * (n / (n - 1)), momentum)      # unbiased
    return y


# ---------------------------------- the normalization batch and instance norm share
def _normalize(x, weight, bias, axes, eps, name):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, mean and (biased) var taken
    over `axes`: every axis but the channels for batch norm, the pixels of each
    sample for instance norm. One fused graph node; returns (y, mean, var), the
    statistics as arrays shaped to broadcast against x ((1, C, 1, 1) or (N, C, 1, 1))."""
    xp = backend.array_module(x.data)
    ndim = x.ndim
    n = 1
    for a in axes:
        n *= x.shape[a]
    kept = tuple(1 if a in axes else d for a, d in enumerate(x.shape))
    mean = x.data.mean(axis=axes, keepdims=True)
    xhat = x.data - mean                                             # centered, for now
    var = (_sum_of_products(xp, xhat, xhat, axes) / n).astype(x.dtype, copy=False)
    var = var.reshape(kept)                                          # biased
    inv_std = 1.0 / xp.sqrt(var + eps)
    xhat *= inv_std                                                  # xhat, in place
    if weight is not None:
        y = xhat * _per_channel(weight.data, ndim)
    else:
        y = xhat.copy()
    if bias is not None:
        y += _per_channel(bias.data, ndim)

    def backward(g, out):
        if is_grad_enabled():
            return _normalize_backward(x, g, weight, bias, axes, n, eps)
        # first-order only: the values saved by the forward pass and plain array
        # arithmetic. With constants a, b, c per statistic the formula below is
        # dL/dx = a g + b xhat + c: three passes over memory, not eight.
        gd = g.data
        sum_g = gd.sum(axis=axes, keepdims=True)                     # dL/dbias: its total
        sum_gxh = _sum_of_products(xp, gd, xhat, axes).reshape(kept)  # dL/dweight: its total
        gx = None
        if x._requires_grad:
            scale = inv_std if weight is None else inv_std * _per_channel(weight.data, ndim)
            # dL/dx = scale (g - mean(g) - xhat mean(g xhat)) (see _normalize_backward)
            gxd = gd * scale
            gxd += xhat * (-scale * sum_gxh / n)
            gxd += -scale * sum_g / n
            gx = wrap(gxd.astype(x.dtype, copy=False))
        grads = [gx]
        if weight is not None:
            grads.append(wrap(_per_channel_total(sum_gxh).astype(weight.dtype, copy=False))
                         if weight._requires_grad else None)
        if bias is not None:
            grads.append(wrap(_per_channel_total(sum_g).astype(bias.dtype, copy=False))
                         if bias._requires_grad else None)
        return tuple(grads)
    parents = (x,) + tuple(t for t in (weight, bias) if t is not None)
    return make_op(y, parents, backward, name), mean, var


def _normalize_backward(x, g, weight, bias, axes, n, eps):
    """The normalization's backward as Tensor operations, so that it can be
    differentiated again (create_graph: a gradient penalty through a D with batch
    or instance norm). xhat and 1/std are rebuilt from x, so the gradient is itself
    a function of x."""
    m = x.mean(axis=axes, keepdims=True)
    c = x - m
    istd = ((c * c).mean(axis=axes, keepdims=True) + eps) ** -0.5
    xh = c * istd
    # sums over the statistics' axes (keepdims), shared by the three gradients
    sum_g = g.sum(axis=axes, keepdims=True)
    sum_gxh = (g * xh).sum(axis=axes, keepdims=True)
    gx = None
    if x._requires_grad:
        # dL/dx = (weight * inv_std) * (g - mean(g) - xhat * mean(g * xhat)),
        # the means over the n values that share one mean and variance: the
        # (1/n) inv_std (n g' - sum g' - xhat sum(g' xhat)) of the batch norm paper
        # with g' = weight g. The two mean terms are there because the mean and
        # the variance depend on every one of those n values too.
        scale = istd if weight is None else istd * _per_channel(weight, x.ndim)
        gx = scale * (g - sum_g * (1.0 / n) - xh * (sum_gxh * (1.0 / n)))
    grads = [gx]
    if weight is not None:                                       # sum g xhat
        grads.append(_per_channel_total(sum_gxh) if weight._requires_grad else None)
    if bias is not None:                                         # sum g
        grads.append(_per_channel_total(sum_g) if bias._requires_grad else None)
    return tuple(grads)


def _update_running(running, batch_stat, momentum):
    """running = (1 - momentum) running + momentum batch, in place, outside any graph."""
    if running is None:
        return
    r = _data(running)
    r *= (1.0 - momentum)
    r += (momentum * batch_stat).astype(r.dtype, copy=False)


# ------------------------------------------------------------ instance norm
def instance_norm(x, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalize each channel of each sample over its own pixels (Ulyanov et al. 2016),
    then scale by weight and shift by bias: the normalization of pix2pix's and
    CycleGAN's generators, where an image's contrast is its own business.

    For sample n and channel c, over the H*W values x[n, c, :, :]:

        mean = (1/HW) sum x        var = (1/HW) sum (x - mean)^2      (biased)
        y    = (x - mean) / sqrt(var + eps) * weight[c] + bias[c]

    Batch norm's formula with the statistics taken per sample (axes (2, 3) instead
    of (0, 2, 3)), so the same fused node computes it, backward included (to any
    order). x: (N, C, H, W) (any (N, C, ...) with pixels); weight, bias: optional (C,).
    PyTorch's signature, kept simple: there are no running statistics, so
    running_mean and running_var must be None and use_input_stats True (the
    default) -- an instance's statistics are always its own, in training and in
    evaluation alike. ``momentum`` is accepted and unused.
    """
    op = "instance_norm"
    if not isinstance(x, Tensor):
        raise not_a_tensor(op, "x", x)
    if x.ndim < 3:
        raise ValueError(f"{op}: the input must be (N, C, H, W) (or (N, C, L)), each sample's "
                         f"channels normalized over its pixels, got shape {x.shape}")
    if running_mean is not None or running_var is not None or not use_input_stats:
        raise NotImplementedError(f"{op}: running statistics are not supported; each sample is "
                                  f"normalized with its own statistics (leave running_mean and "
                                  f"running_var None and use_input_stats True)")
    _check(x, None, None, weight, bias, op)
    pixels = tuple(range(2, x.ndim))
    if x.size and x.size // (x.shape[0] * x.shape[1]) < 2:
        raise ValueError(f"{op}: each sample needs more than one pixel per channel to compute "
                         f"a variance, got input shape {x.shape}")
    y, _, _ = _normalize(x, weight, bias, pixels, eps, op)
    return y


# ------------------------------------------ reference and virtual batch norm
def virtual_batch_norm(x, reference, weight=None, bias=None, eps=1e-5, include_self=True):
    """Normalize each sample of x with the statistics of a fixed reference batch
    (Salimans et al. 2016, "Improved techniques for training GANs").

    x: (N, C, ...) and reference: (R, C, ...), channels on axis 1. For channel c,
    with the reference's n_r values (R times its pixels) and the sample's own n_s
    values (its pixels), a = n_s / (n_r + n_s) when ``include_self`` (virtual batch
    norm: the sample is pooled with the reference batch), a = 0 otherwise
    (reference batch norm: the reference alone):

        mean_i = (1 - a) mean_ref + a mean_i,self
        var_i  = (1 - a) (var_ref + (mean_ref - mean_i)^2) + a (var_i,self + (mean_i,self - mean_i)^2)
        y_i    = (x_i - mean_i) / sqrt(var_i + eps) * weight + bias

    (the variance of the pooled values, from each part's mean and biased variance:
    exact, and without the cancellation of E[x^2] - E[x]^2). Sample i's output
    depends on x_i and the reference only, never on the other samples of its
    batch: that is the point of it. Written in Tensor operations, so the engine
    differentiates it to any order, with respect to the reference too when the
    reference is itself computed by the network.
    """
    if not isinstance(x, Tensor):
        raise not_a_tensor("virtual_batch_norm", "x", x)
    if not isinstance(reference, Tensor):
        raise not_a_tensor("virtual_batch_norm", "reference", reference)
    if x.ndim < 2 or reference.ndim != x.ndim or reference.shape[1] != x.shape[1]:
        raise ValueError(f"virtual_batch_norm: the reference batch must have the input's "
                         f"channels and number of axes, (R, {x.shape[1] if x.ndim > 1 else 'C'}"
                         f", ...); got input {tuple(x.shape)} and reference "
                         f"{tuple(reference.shape)}")
    _check(x, None, None, weight, bias)
    check_devices("virtual_batch_norm", x, reference)
    pixels = tuple(range(2, x.ndim))
    n_ref = reference.size // reference.shape[1]
    n_self = x.size // (x.shape[0] * x.shape[1]) if x.shape[0] else 1
    if n_ref + (n_self if include_self else 0) < 2:
        raise ValueError(f"virtual_batch_norm: a variance needs at least two values per "
                         f"channel; the reference {tuple(reference.shape)} has {n_ref}")
    mean_ref = reference.mean(axis=_stat_axes(reference), keepdims=True)
    dev = reference - mean_ref
    var_ref = (dev * dev).mean(axis=_stat_axes(reference), keepdims=True)
    if not include_self:
        mean, var = mean_ref, var_ref
    else:
        a = n_self / (n_ref + n_self)
        if pixels:
            mean_self = x.mean(axis=pixels, keepdims=True)            # (N, C, 1, 1)
            d = x - mean_self
            var_self = (d * d).mean(axis=pixels, keepdims=True)
        else:
            mean_self, var_self = x, None                              # one value per channel
        mean = mean_ref * (1.0 - a) + mean_self * a
        shift_ref, shift_self = mean_ref - mean, mean_self - mean
        var = (var_ref + shift_ref * shift_ref) * (1.0 - a) + shift_self * shift_self * a
        if var_self is not None:
            var = var + var_self * a
    y = (x - mean) * (var + eps) ** -0.5
    if weight is not None:
        y = y * _per_channel(weight, x.ndim)
    if bias is not None:
        y = y + _per_channel(bias, x.ndim)
    return y


# ------------------------------------------------------------ pixel norm
def pixel_norm(x, eps=1e-8):
    """Pixel-wise feature normalization (Karras et al. 2018, "Progressive growing of
    GANs", section 4.2): each pixel's feature vector scaled to unit mean square,

        b[n, c, h, w] = a[n, c, h, w] / sqrt((1/C) sum over c' of a[n, c', h, w]^2 + eps)

    ProGAN's generator uses it after each convolution instead of batch norm, to keep
    G's and D's magnitudes from escalating; there are no statistics over the batch and
    no parameters, so one image's output never depends on its batch mates. x: (N, C)
    (a batch of latent vectors, normalized the same way) or (N, C, H, W), channels on
    axis 1. Written as composed Tensor operations, so the engine differentiates it to
    any order: the mean square, the inverse square root, a product.
    """
    op = "pixel_norm"
    if not isinstance(x, Tensor):
        raise not_a_tensor(op, "x", x)
    if x.ndim < 2:
        raise ValueError(f"{op}: the input must be (N, C) or (N, C, H, W) with the features "
                         f"on axis 1, got shape {x.shape}")
    if not eps >= 0:
        raise ValueError(f"{op}: eps must be >= 0 (it keeps the square root of an all-zero "
                         f"pixel away from 0), got {eps}")
    mean_square = (x * x).mean(axis=1, keepdims=True)       # (1/C) sum_c a^2, per pixel
    return x * (mean_square + eps) ** -0.5

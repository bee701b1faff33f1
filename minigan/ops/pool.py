"""Resizing images by whole pixels: nearest-neighbour upsampling, the sum pool that
is its backward, and average pooling.

The applications' networks change an image's size by whole factors: a U-Net's
decoder (pix2pix) doubles it, a multi-scale discriminator halves it. For a
scale s (one per axis, sh and sw):

    upsample(x)[n, c, h, w] = x[n, c, h // sh, w // sw]            each pixel repeated sh x sw
    sum_pool(x)[n, c, h, w] = sum over i < sh, j < sw of x[n, c, h sh + i, w sw + j]
                                                                  each sh x sw block added up

Both are linear, and each is the other's transpose: for any a and b,
sum(upsample(a) * b) == sum(a * sum_pool(b)). So each one's backward is the
other, as for conv2d and conv_transpose2d (ops/conv.py):

    y = upsample(x)   dx = sum_pool(g)   (the sh sw copies of a pixel hand back their gradients)
    y = sum_pool(x)   dx = upsample(g)   (every pixel of a block gets the block's gradient)

and both differentiate to any order. ``avg_pool2d`` is conv2d with a fixed
kernel (see there). Images are NCHW.
"""
import numbers

from .. import backend
from ..autograd import make_op
from ..checks import not_a_tensor
from ..tensor import Tensor, wrap
from .conv import conv2d, int_pair


# ------------------------------------------------ upsample and sum pool, a pair
def _upsample(x, sh, sw):
    """Nearest-neighbour upsampling by whole factors: y[n, c, h, w] = x[n, c, h // sh, w // sw].
    Backward: dx = sum_pool(g), the sum of the gradients of a pixel's sh x sw copies."""
    N, C, H, W = x.shape
    xp = backend.array_module(x.data)
    y = xp.empty((N, C, H, sh, W, sw), dtype=x.dtype)
    y[...] = x.data[:, :, :, None, :, None]                  # one pass, every copy at once
    y = y.reshape(N, C, H * sh, W * sw)
    return make_op(y, (x,), lambda g, out: (_sum_pool(g, sh, sw),), "upsample_nearest")


def _sum_pool(x, sh, sw):
    """Each sh x sw block added up: y[n, c, h, w] = sum_{i<sh, j<sw} x[n, c, h sh + i, w sw + j].
    The size must be a multiple of the block. Backward: dx = upsample(g), every pixel
    of a block getting the block's gradient."""
    N, C, H, W = x.shape
    y = x.data.reshape(N, C, H // sh, sh, W // sw, sw).sum(axis=(3, 5))
    return make_op(y, (x,), lambda g, out: (_upsample(g, sh, sw),), "sum_pool")


def _whole_factor(op, value, name):
    """A positive whole number (2 and 2.0 alike), or the error that says why not."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) \
            and float(value).is_integer() and value >= 1:
        return int(value)
    raise ValueError(f"{op}: {name} must be a positive whole number (nearest-neighbour "
                     f"upsampling repeats each pixel scale_factor x scale_factor times), got "
                     f"{value!r}")


def scale_pair(op, scale_factor):
    """scale_factor (a number or an (h, w) pair) as two positive ints; the layer
    nn.Upsample reads its argument with it too."""
    pair = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else \
        (scale_factor, scale_factor)
    if len(pair) != 2:
        raise ValueError(f"{op}: scale_factor must be a number or an (h, w) pair, got "
                         f"{scale_factor!r}")
    return tuple(_whole_factor(op, v, "scale_factor") for v in pair)


def _check_image(op, x):
    if not isinstance(x, Tensor):
        raise not_a_tensor(op, "x", x)
    if x.ndim != 4:
        raise ValueError(f"{op}: the input must be 4-D (N, C, H, W), got shape {x.shape}")


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Upsample NCHW images by whole factors, PyTorch's ``F.interpolate`` for
    mode='nearest': y[n, c, h, w] = x[n, c, h // s, w // s], each pixel repeated s x s.

    Give ``scale_factor`` (a whole number, or an (h, w) pair) or ``size`` (the output
    (H, W), a whole multiple of the input's). Other modes and fractional scales are
    not implemented. Backward: each s x s block of the gradient summed (the sum pool).
    """
    op = "interpolate"
    _check_image(op, x)
    if mode != "nearest":
        raise NotImplementedError(f"{op}: only mode='nearest' is implemented, got {mode!r}")
    if align_corners is not None:
        raise ValueError(f"{op}: align_corners only applies to the linear modes; leave it "
                         f"None for mode='nearest'")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give either size or scale_factor (exactly one of them)")
    if size is not None:
        H, W = x.shape[2:]
        out = int_pair(size, "size", op, 1)
        if out[0] % H or out[1] % W:
            raise ValueError(f"{op}: size {out} is not a whole multiple of the input's size "
                             f"({H}, {W}) (input shape {x.shape}); nearest-neighbour "
                             f"upsampling here repeats pixels a whole number of times")
        scale_factor = (out[0] // H, out[1] // W)
    sh, sw = scale_pair(op, scale_factor)
    return _upsample(x, sh, sw)


upsample = interpolate        # PyTorch's older name for it


# ------------------------------------------------------------ average pooling
def check_padding(op, kernel, padding):
    """PyTorch's rule: the padding at most half the kernel, so that no window sees
    padding alone."""
    for k, p, axis in zip(kernel, padding, ("height", "width")):
        if p > k // 2:
            raise ValueError(f"{op}: padding {tuple(padding)} must be at most half of the kernel "
                             f"size {tuple(kernel)} (a window must see the image, not padding "
                             f"alone); the {axis} breaks it")


def check_window(op, shape, kernel, padding):
    """The pooling window must fit the padded image (and the padding be at most
    half the kernel)."""
    check_padding(op, kernel, padding)
    padded = (shape[2] + 2 * padding[0], shape[3] + 2 * padding[1])
    if padded[0] < kernel[0] or padded[1] < kernel[1]:
        raise ValueError(f"{op}: the kernel {tuple(kernel)} is larger than the input padded to "
                         f"{padded} (input shape {tuple(shape)}, padding {tuple(padding)})")


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """The mean of each kh x kw window, every channel on its own (PyTorch's defaults:
    stride = kernel_size, zero padding counted in the mean, output size rounded down):

        y[n, c, oh, ow] = (1 / (kh kw)) sum over i < kh, j < kw of xpad[n, c, oh sh + i, ow sw + j]
        OH = floor((H + 2 padding - kh) / sh) + 1      (likewise OW)

    It is computed as what it is, a convolution of every channel with one fixed
    kernel of 1 / (kh kw): the channels folded into the batch make it conv2d's
    one-channel case, (N, C, H, W) -> (N C, 1, H, W). So the output size, the
    padding and the strides are conv2d's, and so is the backward, to any order:
    conv_transpose2d with the same kernel spreads each gradient evenly over its
    window, dx[n, c, h, w] = (1 / (kh kw)) sum of g over the windows that hold (h, w).
    (conv2d has no groups=C, so a depthwise kernel is not an option; this reuses
    checked code instead of a new im2col.)
    ceil_mode=True, count_include_pad=False and divisor_override are not implemented.
    """
    op = "avg_pool2d"
    _check_image(op, x)
    if ceil_mode or not count_include_pad or divisor_override is not None:
        raise NotImplementedError(f"{op}: only PyTorch's defaults are implemented (ceil_mode="
                                  f"False, count_include_pad=True, divisor_override=None)")
    kernel = int_pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None else int_pair(stride, "stride", op, 1)
    padding = int_pair(padding, "padding", op, 0)
    check_window(op, x.shape, kernel, padding)
    N, C, H, W = x.shape
    xp = backend.array_module(x.data)
    mean_kernel = wrap(xp.full((1, 1) + kernel, 1.0 / (kernel[0] * kernel[1]), dtype=x.dtype))
    y = conv2d(x.reshape(N * C, 1, H, W), mean_kernel, stride=stride, padding=padding)
    return y.reshape(N, C, y.shape[2], y.shape[3])

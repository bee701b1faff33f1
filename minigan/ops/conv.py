"""Convolutions as matrix products: conv2d, conv_transpose2d and conv2d's weight gradient.

A 2-D convolution is a matrix product in disguise. ``im2col`` copies every
window the kernel visits into one column of a matrix; the convolution is then
a single product  (out_channels x C*kh*kw) @ (C*kh*kw x OH*OW*N), one big GEMM
over the whole batch that NumPy/CuPy hands to BLAS. ``col2im`` is the way back:
it adds every column into the place its window came from, summing where windows
overlap. Both live in layout.py, with the memory order that makes them fast.

The transposed convolution is the same matrix, transposed (the lecture's
"convolution matrix" C and its C^T). Three ops share one geometry and each
one's backward is made of the others, so everything differentiates twice:

    y  = conv2d(x, w)            dx = conv_transpose2d(g, w)   dw = conv2d_weight(x, g)
    y  = conv_transpose2d(x, w)  dx = conv2d(g, w)             dw = conv2d_weight(g, x)
    dw = conv2d_weight(x, g)     dx = conv_transpose2d(g, G)   dg = conv2d(x, G)

(``G`` is the gradient arriving at ``dw``.) All three are bilinear, so each
derivative is the same kind of product with one factor swapped for the
incoming gradient. The geometry remembers the exact size of the large image,
so conv2d's input gradient comes out with the input's size even when several
sizes map to the same output (a stride-2 conv maps both 13 and 14 pixels to
7): that is conv_transpose2d with output_padding = (H + 2p - d(k-1) - 1) mod s.

Layouts follow PyTorch: images are NCHW; conv2d's weight is
(out_channels, in_channels, kh, kw); conv_transpose2d's is
(in_channels, out_channels, kh, kw), the same array as the conv2d it reverses.
"""
import numbers

from .. import backend
from ..autograd import make_op
from ..checks import not_a_tensor
from ..tensor import Tensor, check_devices
from .layout import im2col, col2im, channels_first, batch_first, is_nchw


# ---------------------------------------------------------------- geometry
class Geometry:
    """How a convolution lines up a large image (H, W) with a small one (OH, OW).

    conv2d maps large -> small, the transposed convolution small -> large,
    along the same lines: small pixel (oh, ow) and kernel tap (i, j) meet the
    large (padded) pixel

        h = oh * stride_h + i * dilation_h,   w = ow * stride_w + j * dilation_w

    of the large image padded by ``padding`` on each side.
    """
    __slots__ = ("kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw", "H", "W", "OH", "OW")

    def __init__(self, kernel, stride, padding, dilation, large, small):
        (self.kh, self.kw), (self.sh, self.sw) = kernel, stride
        (self.ph, self.pw), (self.dh, self.dw) = padding, dilation
        (self.H, self.W), (self.OH, self.OW) = large, small

    def __repr__(self):
        return (f"Geometry(kernel=({self.kh}, {self.kw}), stride=({self.sh}, {self.sw}), "
                f"padding=({self.ph}, {self.pw}), dilation=({self.dh}, {self.dw}), "
                f"large=({self.H}, {self.W}), small=({self.OH}, {self.OW}))")


def conv_output_size(size, kernel, stride, padding, dilation):
    """floor((size + 2 padding - dilation (kernel - 1) - 1) / stride) + 1 (PyTorch's formula)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv_transpose_output_size(size, kernel, stride, padding, output_padding, dilation):
    """(size - 1) stride - 2 padding + dilation (kernel - 1) + output_padding + 1."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


# ------------------------------------------------------------ the three ops
def _gemm(a, b):
    """The one matrix product each convolution does (BLAS, on every core)."""
    return a @ b


def _bias_backward(g, bias):
    """dL/db = g summed over batch and pixels (each bias value is added everywhere)."""
    return g.sum(axis=(0, 2, 3)) if bias is not None and bias._requires_grad else None


def _conv2d(x, weight, bias, geo, x_cols=None, nchw=False):
    """conv2d on a fixed geometry (x is the large side). y = W_mat @ im2col(x).

    ``x_cols`` is im2col(x) when the caller already has it (saves a copy);
    ``nchw``: y in plain NCHW memory rather than channels-first (``batch_first``).
    """
    N = x.shape[0]
    O = weight.shape[0]
    cols = im2col(x.data, geo) if x_cols is None else x_cols
    y = _gemm(weight.data.reshape(O, -1), cols)                 # (O, OH*OW*N): the one GEMM
    y = batch_first(y, N, geo.OH, geo.OW, nchw)
    if bias is not None:
        y += bias.data.reshape(1, O, 1, 1)

    def backward(g, out):
        needed = x._requires_grad or weight._requires_grad
        g_mat = channels_first(g.data) if needed else None   # shared by both products
        # dx: the transposed convolution of g with the same weight (C^T g), on the
        # same geometry, i.e. with the output_padding that gives back x's size
        gx = (_conv_transpose2d(g, weight, None, geo, x_mat=g_mat, nchw=is_nchw(x.data))
              if x._requires_grad else None)
        # dw: the correlation of x with g, dW[o, c, i, j] = sum_{n,oh,ow} g[n,o,oh,ow] xpad[n,c,..]
        gw = _conv2d_weight(x, g, geo, x_cols=cols, g_mat=g_mat) if weight._requires_grad else None
        return (gx, gw) if bias is None else (gx, gw, _bias_backward(g, bias))
    parents = (x, weight) if bias is None else (x, weight, bias)
    return make_op(y, parents, backward, "conv2d")


def _conv_transpose2d(x, weight, bias, geo, x_mat=None, nchw=False):
    """conv_transpose2d on a fixed geometry (x is the small side). y = col2im(W_mat^T @ x).

    ``x_mat`` is x as a (Cin, IH*IW*N) matrix when the caller already has it;
    ``nchw``: y in plain NCHW memory rather than channels-first (``col2im``).
    """
    N = x.shape[0]
    Cin, Cout = weight.shape[0], weight.shape[1]
    if x_mat is None:
        x_mat = channels_first(x.data)                          # (Cin, IH*IW*N)
    cols = _gemm(weight.data.reshape(Cin, -1).T, x_mat)          # (Cout*kh*kw, IH*IW*N): one GEMM
    y = col2im(cols, N, Cout, geo, nchw)
    if bias is not None:
        y += bias.data.reshape(1, Cout, 1, 1)

    def backward(g, out):
        needed = x._requires_grad or weight._requires_grad
        g_cols = im2col(g.data, geo) if needed else None      # shared by both products
        # dx: the convolution of g with the same weight (C applied to g)
        gx = (_conv2d(g, weight, None, geo, x_cols=g_cols, nchw=is_nchw(x.data))
              if x._requires_grad else None)
        # dw: the correlation of g (the large side now) with x
        gw = (_conv2d_weight(g, x, geo, x_cols=g_cols, g_mat=x_mat)
              if weight._requires_grad else None)
        return (gx, gw) if bias is None else (gx, gw, _bias_backward(g, bias))
    parents = (x, weight) if bias is None else (x, weight, bias)
    return make_op(y, parents, backward, "conv_transpose2d")


def _conv2d_weight(x, g, geo, x_cols=None, g_mat=None):
    """The weight gradient of conv2d: dW = g_mat @ im2col(x)^T, shape (O, C, kh, kw).

    dW[o, c, i, j] = sum over n, oh, ow of g[n, o, oh, ow] * xpad[n, c, oh*sh + i*dh, ow*sw + j*dw],
    the correlation of the input with the output gradient. It is an op of its
    own so that a gradient penalty can differentiate through it: it is
    bilinear in (x, g), so for an incoming gradient G (shaped like the weight)
    d/dx = conv_transpose2d(g, G) and d/dg = conv2d(x, G).
    ``x_cols`` / ``g_mat`` are the im2col(x) / channels-first g when the
    caller already has them (saves a copy).
    """
    C = x.shape[1]
    O = g.shape[1]
    if x_cols is None:
        x_cols = im2col(x.data, geo)
    if g_mat is None:
        g_mat = channels_first(g.data)                          # (O, OH*OW*N)
    dw = _gemm(g_mat, x_cols.T).reshape(O, C, geo.kh, geo.kw)   # one GEMM over batch and pixels

    def backward(gg, out):
        return (_conv_transpose2d(g, gg, None, geo, nchw=is_nchw(x.data))
                if x._requires_grad else None,
                _conv2d(x, gg, None, geo, nchw=is_nchw(g.data)) if g._requires_grad else None)
    return make_op(dw, (x, g), backward, "conv2d_weight")


# ----------------------------------------------------------- the public API
def int_pair(value, name, op, minimum=None):
    """An int or a pair of ints -> a pair of ints (kernel_size=4 means 4 x 4), checked
    against its smallest allowed value when `minimum` is given. The conv functions
    and the conv layers (nn/layers.py) read their size arguments with it; an error
    names `op` and the argument."""
    if isinstance(value, str):
        raise ValueError(f"{op}: {name}={value!r} is not supported; give an int or a pair of ints")
    if isinstance(value, numbers.Integral):
        pair = (value, value)
    else:
        pair = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(pair) != 2 or not all(isinstance(v, numbers.Integral) for v in pair):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    pair = (int(pair[0]), int(pair[1]))
    if minimum is not None and min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return pair


def _check_inputs(op, x, weight, bias, groups, layout):
    """Shared checks; returns (x, unbatched) with x made 4-D."""
    if groups != 1:
        raise NotImplementedError(f"{op}: groups={groups} is not supported, only groups=1")
    if not isinstance(x, Tensor):
        raise not_a_tensor(op, "x", x)
    if not isinstance(weight, Tensor):
        raise not_a_tensor(op, "weight", weight)
    if bias is not None and not isinstance(bias, Tensor):
        raise not_a_tensor(op, "bias", bias)
    check_devices(op, x, weight, *(() if bias is None else (bias,)))
    if weight.ndim != 4:
        raise ValueError(f"{op}: the weight must be 4-D {layout}, got shape {weight.shape}")
    unbatched = x.ndim == 3
    if unbatched:
        x = x.reshape((1,) + x.shape)
    if x.ndim != 4:
        raise ValueError(f"{op}: the input must be 4-D (N, C, H, W) or 3-D (C, H, W), "
                         f"got shape {x.shape}")
    if x.dtype != weight.dtype:
        raise TypeError(f"{op}: the input is {x.dtype.name} but the weight is "
                        f"{weight.dtype.name}; convert one, e.g. x.to(dtype=weight.dtype)")
    return x, unbatched


def _check_channels(op, x, weight, C, Cw, layout):
    """The input's channel count must be the one the weight was built for."""
    if C != Cw:
        raise ValueError(f"{op}: the input has {C} channels (shape {x.shape}) but the weight "
                         f"expects {Cw} (weight shape {weight.shape}, layout {layout})")


def _check_bias(op, bias, channels, dtype):
    if bias is None:
        return
    if bias.shape != (channels,):
        raise ValueError(f"{op}: the bias must have shape ({channels},), one value per output "
                         f"channel, got {bias.shape}")
    if bias.dtype != dtype:
        raise TypeError(f"{op}: the bias is {bias.dtype.name} but the weight is {dtype.name}")


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (a cross-correlation, as in every deep-learning library).

    x: (N, C, H, W); weight: (out_channels, C, kh, kw); bias: (out_channels,).
    y[n, o, oh, ow] = b[o] + sum over c, i, j of w[o, c, i, j] * xpad[n, c, oh*s + i*d, ow*s + j*d]
    with output size OH = floor((H + 2p - d(kh - 1) - 1) / s) + 1 (likewise OW).
    stride, padding and dilation are ints or (h, w) pairs.
    """
    op = "conv2d"
    x, unbatched = _check_inputs(op, x, weight, bias, groups, "(out_channels, in_channels, kh, kw)")
    stride, padding = int_pair(stride, "stride", op, 1), int_pair(padding, "padding", op, 0)
    dilation = int_pair(dilation, "dilation", op, 1)
    N, C, H, W = x.shape
    O, Cw, kh, kw = weight.shape
    _check_channels(op, x, weight, C, Cw, "(out_channels, in_channels, kh, kw)")
    _check_bias(op, bias, O, weight.dtype)
    span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    if H + 2 * padding[0] < span[0] or W + 2 * padding[1] < span[1]:
        raise ValueError(f"{op}: the input is too small for the kernel: padded size "
                         f"({H + 2 * padding[0]}, {W + 2 * padding[1]}) (input shape {x.shape}, "
                         f"padding {padding}) but the kernel spans {span} "
                         f"(kernel ({kh}, {kw}), dilation {dilation})")
    small = tuple(conv_output_size(n, k, s, p, d) for n, k, s, p, d in
                  zip((H, W), (kh, kw), stride, padding, dilation))
    geo = Geometry((kh, kw), stride, padding, dilation, (H, W), small)
    y = _conv2d(x, weight, bias, geo)
    return y.reshape(y.shape[1:]) if unbatched else y


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1,
                     groups=1):
    """2-D transposed convolution: the gradient of conv2d with respect to its input.

    x: (N, C_in, H, W); weight: (C_in, out_channels, kh, kw), the layout of the
    conv2d it reverses; bias: (out_channels,). Every input pixel scatters a
    weighted copy of the kernel into the output, stride pixels apart, and
    overlaps add up:  y = col2im(W_mat^T @ x_mat).
    Output size (H - 1) s - 2p + d(kh - 1) + output_padding + 1; output_padding
    picks among the input sizes a stride-s conv2d maps to the same H, and must
    be smaller than the stride or the dilation.
    """
    op = "conv_transpose2d"
    x, unbatched = _check_inputs(op, x, weight, bias, groups, "(in_channels, out_channels, kh, kw)")
    stride, padding = int_pair(stride, "stride", op, 1), int_pair(padding, "padding", op, 0)
    dilation = int_pair(dilation, "dilation", op, 1)
    output_padding = int_pair(output_padding, "output_padding", op, 0)
    N, C, H, W = x.shape
    Cw, O, kh, kw = weight.shape
    _check_channels(op, x, weight, C, Cw, "(in_channels, out_channels, kh, kw)")
    _check_bias(op, bias, O, weight.dtype)
    for a in (0, 1):
        if output_padding[a] >= stride[a] and output_padding[a] >= dilation[a]:
            raise ValueError(f"{op}: output_padding {output_padding} must be smaller than either "
                             f"the stride {stride} or the dilation {dilation}")
    large = tuple(conv_transpose_output_size(n, k, s, p, op_, d) for n, k, s, p, op_, d in
                  zip((H, W), (kh, kw), stride, padding, output_padding, dilation))
    if min(large) < 1:
        raise ValueError(f"{op}: the output size would be {large} for input shape {x.shape}; "
                         f"the padding {padding} is too large for kernel ({kh}, {kw})")
    geo = Geometry((kh, kw), stride, padding, dilation, large, (H, W))
    y = _conv_transpose2d(x, weight, bias, geo)
    return y.reshape(y.shape[1:]) if unbatched else y


# ------------------------------------------------- the lecture's matrix C
def conv_matrix(weight, input_size, stride=1, padding=0):
    """The convolution as an explicit matrix C, for teaching: conv2d(x, w) = C vec(x).

    weight: an array or Tensor (out_channels, in_channels, kh, kw), as for conv2d;
    input_size: (H, W) of the input image. Returns a NumPy array of shape
    (O*OH*OW, C*H*W): row (o, oh, ow), column (c, h, w), both in C order (the
    order ``reshape`` flattens an NCHW image in), holding

        C[(o, oh, ow), (c, h, w)] = w[o, c, i, j]   where h = oh*s + i - p, w = ow*s + j - p

    and 0 elsewhere; taps that land in the zero padding have no column.
    It is built from this formula tap by tap, not by calling conv2d, so it can be
    checked against conv2d. Its transpose is the transposed convolution with the
    same weight: conv_transpose2d(y, w, stride=s, padding=p, output_padding=op)
    = C^T vec(y), with output_padding op choosing the large size (H, W) among those
    a strided conv maps to the same (OH, OW). Dense and quadratic in the image
    size: meant for the lecture's 4 x 4 examples, not for training.
    """
    w = backend.to_numpy(weight.data if isinstance(weight, Tensor) else weight)
    if w.ndim != 4:
        raise ValueError(f"conv_matrix: the weight must be 4-D (out_channels, in_channels, kh, "
                         f"kw), got shape {w.shape}")
    (H, W) = int_pair(input_size, "input_size", "conv_matrix", 1)
    (sh, sw), (ph, pw) = (int_pair(stride, "stride", "conv_matrix", 1),
                          int_pair(padding, "padding", "conv_matrix", 0))
    O, C, kh, kw = w.shape
    OH, OW = conv_output_size(H, kh, sh, ph, 1), conv_output_size(W, kw, sw, pw, 1)
    if OH < 1 or OW < 1:
        raise ValueError(f"conv_matrix: a {kh}x{kw} kernel does not fit an input of size "
                         f"{(H, W)} with padding {(ph, pw)}")
    import numpy                  # a teaching aid on the host, whatever the weight's device
    mat = numpy.zeros((O, OH, OW, C, H, W), dtype=w.dtype)
    for oh in range(OH):
        for ow in range(OW):
            for i in range(kh):
                h = oh * sh + i - ph
                if not 0 <= h < H:
                    continue          # this tap sits on the zero padding
                for j in range(kw):
                    x = ow * sw + j - pw
                    if 0 <= x < W:
                        mat[:, oh, ow, :, h, x] = w[:, :, i, j]
    return mat.reshape(O * OH * OW, C * H * W)

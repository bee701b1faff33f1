"""Memory layouts for the convolutions: im2col and col2im, and the views between
NCHW and the channels-first order of their matrix products.

conv.py states each convolution as one matrix product; this module moves the
numbers into and out of those matrices fast.

Inside the matrices the batch is the *last* axis: the GEMM columns run over
(oh, ow, n), and im2col/col2im work on images laid out (C, H, W, N). Then the
innermost loop of every copy and every slice-add runs over the batch, in
contiguous memory, instead of over a short row of a few strided pixels. The
outputs stay in that order too: each is an NCHW-shaped view of its GEMM's
result (``batch_first``), so most layers never copy between the two orders at
all; ``laid_out_like`` puts a gradient back into its input's order where a
reshape lost it.

Every copy is cut by channel into one slice per CPU thread (``threads.parallel``):
channels never mix, so each thread writes its own rows, and the result is the
same, bit for bit, as with one thread.
"""
from .. import backend
from ..autograd import make_op
from . import threads


def _by_channel(n_channels, work, a):
    """work(c0, c1) for slices of the channels, side by side on the CPU's threads."""
    threads.parallel(n_channels, work, a.size, on_cpu=backend.device_of(a) == "cpu")


def im2col(x, geo):
    """Array (N, C, H, W) -> matrix (C*kh*kw, OH*OW*N): one column per window.

    Row (c, i, j), column (oh, ow, n) holds xpad[n, c, oh*sh + i*dh, ow*sw + j*dw],
    with xpad the input padded by (ph, pw) zeros. The windows are first a strided
    *view* of the padded image (no copy: all windows are slices of the same
    memory); the one reshape at the end copies them into the contiguous matrix
    that BLAS wants.
    """
    xp = backend.array_module(x)
    N, C, H, W = x.shape
    alloc = xp.zeros if geo.ph or geo.pw else xp.empty
    padded = alloc((C, H + 2 * geo.ph, W + 2 * geo.pw, N), dtype=x.dtype)
    x_chwn = x.transpose(1, 2, 3, 0)
    sC, sH, sW, sN = padded.strides
    windows = xp.lib.stride_tricks.as_strided(
        padded, shape=(C, geo.kh, geo.kw, geo.OH, geo.OW, N),
        strides=(sC, geo.dh * sH, geo.dw * sW, geo.sh * sH, geo.sw * sW, sN))
    cols = xp.empty(windows.shape, dtype=x.dtype)

    def copy(c0, c1):
        padded[c0:c1, geo.ph:geo.ph + H, geo.pw:geo.pw + W, :] = x_chwn[c0:c1]
        cols[c0:c1] = windows[c0:c1]
    _by_channel(C, copy, cols)
    return cols.reshape(C * geo.kh * geo.kw, geo.OH * geo.OW * N)


def col2im(cols, N, C, geo, nchw=False):
    """Matrix (C*kh*kw, OH*OW*N) -> array (N, C, H, W): the transpose of im2col.

    Every entry goes back to the pixel its window took it from, and where
    windows overlap (stride < kernel) the contributions add up. One strided
    slice-add per kernel tap (kh*kw of them), each covering the whole batch and
    all channels at once; the padding is cut off at the end. The result is a view
    in channels-first memory, or a plain NCHW copy with ``nchw=True`` (see
    ``batch_first``).
    """
    xp = backend.array_module(cols)
    cols = cols.reshape(C, geo.kh, geo.kw, geo.OH, geo.OW, N)
    out = xp.zeros((C, geo.H + 2 * geo.ph, geo.W + 2 * geo.pw, N), dtype=cols.dtype)
    h_span, w_span = geo.sh * (geo.OH - 1) + 1, geo.sw * (geo.OW - 1) + 1
    image = xp.empty((N, C, geo.H, geo.W), dtype=cols.dtype) if nchw else None

    def add(c0, c1):
        for i in range(geo.kh):
            h0 = i * geo.dh
            for j in range(geo.kw):
                w0 = j * geo.dw
                out[c0:c1, h0:h0 + h_span:geo.sh, w0:w0 + w_span:geo.sw, :] += cols[c0:c1, i, j]
        if nchw:        # cut the padding off and go to plain NCHW
            image[:, c0:c1] = out[c0:c1, geo.ph:geo.ph + geo.H,
                                  geo.pw:geo.pw + geo.W, :].transpose(3, 0, 1, 2)
    _by_channel(C, add, cols)
    if nchw:
        return image
    # the padding cut off, as an NCHW view of the channels-first sums (see batch_first)
    return out[:, geo.ph:geo.ph + geo.H, geo.pw:geo.pw + geo.W, :].transpose(3, 0, 1, 2)


def channels_first(a):
    """(N, C, h, w) -> contiguous (C, h*w*N): the GEMM layout of an image (batch last).

    Free when ``a`` already lies in memory as (C, h, w, N), as every convolution's
    output does (see ``batch_first``); a transposing copy otherwise.
    """
    N, C, h, w = a.shape
    chwn = a.transpose(1, 2, 3, 0)
    if chwn.flags.c_contiguous:
        return chwn.reshape(C, h * w * N)
    out = backend.array_module(a).empty((C, h, w, N), dtype=a.dtype)

    def copy(c0, c1):
        out[c0:c1] = chwn[c0:c1]
    _by_channel(C, copy, a)
    return out.reshape(C, h * w * N)


def batch_first(m, N, h, w, nchw=False):
    """(C, h*w*N) -> (N, C, h, w), as a *view*: no copy.

    The result has the NCHW shape every op expects, but its memory stays in the
    GEMM's (C, h, w, N) order. NumPy's elementwise ops and reductions work on any
    memory order and write their results in the order of their inputs, so batch
    norm, the activation and their gradients keep it too, and the next
    convolution finds its input (or gradient) already channels-first: the copy
    to NCHW and the copy back are both saved.

    ``nchw=True`` copies into plain NCHW memory instead: for a gradient whose
    input lies that way, since an elementwise op between two arrays of different
    memory orders runs many times slower than between two of the same.
    """
    C = m.shape[0]
    chwn = m.reshape(C, h, w, N)
    if not nchw:
        return chwn.transpose(3, 0, 1, 2)
    out = backend.array_module(m).empty((N, C, h, w), dtype=m.dtype)

    def copy(c0, c1):
        out[:, c0:c1] = chwn[c0:c1].transpose(3, 0, 1, 2)
    _by_channel(C, copy, m)
    return out


def is_nchw(a):
    """Does the array lie in memory as plain NCHW (not the convolutions' channels-first)?"""
    return a.flags.c_contiguous


# ------------------------------------------------- memory order of a gradient
def memory_order(a):
    """The axes of `a` from the largest memory stride to the smallest (size-1 axes left out)."""
    return sorted((i for i in range(a.ndim) if a.shape[i] > 1), key=lambda i: -a.strides[i])


def laid_out_like(t, ref):
    """`t` with its values laid out in memory the way the array `ref` is (same shape).

    An identity for the values; only the memory order changes, and only when it
    differs. Why: a convolution's output lies channels-first in memory (see
    ``batch_first``), and an elementwise op between two arrays of different
    memory orders runs many times slower than between two of the same.
    A reshape's gradient comes out in plain order, so it is laid out again here,
    like the input it is the gradient of, before it meets that input's neighbours.
    """
    if memory_order(t.data) == memory_order(ref):
        return t
    data = backend.array_module(ref).empty_like(ref)
    data[...] = t.data
    return make_op(data, (t,), lambda g, out: (g,), "relayout")

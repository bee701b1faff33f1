"""A feature computed across the minibatch: ProGAN's minibatch standard deviation.

A discriminator that sees one image at a time cannot tell that a generator gives
the same image every time (mode collapse); one that sees a statistic of the batch
can. Karras et al. (2018, "Progressive growing of GANs", section 3) give D's last
block one more feature map, the batch's variety in one number:

    std[f, h, w] = sqrt(var over the group of x[., f, h, w] + eps)    (var biased)
    s            = mean over f, h, w of std[f, h, w]
    output       = x with one more channel, constant s                (N, C + 1, H, W)

taken per group of ``group_size`` samples. Written in Tensor operations (reshape,
mean, square root, broadcast, concat), so the engine differentiates it to any order.
"""
from ..checks import not_a_tensor, whole_number
from ..tensor import Tensor
from .shape import broadcast_to, concat


def minibatch_stddev(x, group_size=4, eps=1e-8):
    """x (N, C, H, W) with one more channel, (N, C + 1, H, W): the standard deviation of
    each feature and pixel over a group of the batch, averaged over the features and
    pixels into one number per group, the same at every pixel of the group's samples.

    The groups follow the paper's code: G = min(group_size, N) samples per group, so a
    batch smaller than the group is one group; N must then be a multiple of G (else
    an error: a smaller last group would have a noisier statistic, which D could
    learn to read). There are M = N / G groups, and sample n belongs to group
    n mod M, as in the official code's reshape to (G, M, C, H, W): samples m, m + M,
    m + 2M, ... form group m. The variance is the biased one (mean over the group),
    and eps is added inside the square root (the paper's code uses 1e-8), which
    keeps its derivative finite when a group holds identical images: their map is
    sqrt(eps), not 0.
    """
    op = "minibatch_stddev"
    if not isinstance(x, Tensor):
        raise not_a_tensor(op, "x", x)
    if x.ndim != 4:
        raise ValueError(f"{op}: the input must be 4-D (N, C, H, W), got shape {x.shape}")
    group_size = whole_number(group_size, "group_size", op, minimum=1)
    if not eps >= 0:
        raise ValueError(f"{op}: eps must be >= 0, got {eps}")
    N, C, H, W = x.shape
    G = min(group_size, N)
    if N == 0 or N % G:
        raise ValueError(f"{op}: the batch of {N} samples cannot be split into groups of "
                         f"{G} (group_size={group_size}, or the batch size when smaller); "
                         f"use a batch size that is a multiple of the group size")
    M = N // G
    y = x.reshape(G, M, C, H, W)                       # y[g, m] is sample g M + m
    y = y - y.mean(axis=0, keepdims=True)               # deviations from the group's mean
    std = ((y * y).mean(axis=0) + eps) ** 0.5           # (M, C, H, W): sqrt(var + eps)
    s = std.mean(axis=(1, 2, 3))                        # (M,): one number per group
    feature = broadcast_to(s.reshape(1, M, 1, 1, 1), (G, M, 1, H, W)).reshape(N, 1, H, W)
    return concat([x, feature], axis=1)

"""Figures of matrices: the convolution matrix C and its transpose, each entry
labelled by the kernel tap that sits there."""
import textwrap

import numpy

from .style import plt, suptitle, save


def _draw(ax, mat, kernel, title, rows_name, cols_name):
    """mat holds tap numbers 1..k*k (0 for no tap): colour and label each tap w_ij."""
    taps = numpy.ma.masked_equal(mat, 0)
    ax.imshow(taps, cmap="tab20" if kernel * kernel <= 20 else "nipy_spectral",
              vmin=1, vmax=max(kernel * kernel, 2), interpolation="nearest", aspect="equal")
    ax.set_xticks(numpy.arange(-0.5, mat.shape[1], 1), minor=True)
    ax.set_yticks(numpy.arange(-0.5, mat.shape[0], 1), minor=True)
    ax.grid(which="minor", color="#bbbbbb", linewidth=0.5)
    ax.tick_params(which="minor", length=0)
    ax.set_xticks(range(mat.shape[1]))
    ax.set_yticks(range(mat.shape[0]))
    ax.tick_params(labelsize=6)
    small = max(mat.shape) > 12
    for (r, c), v in numpy.ndenumerate(mat):
        if v:
            i, j = divmod(int(v) - 1, kernel)
            ax.text(c, r, f"w{i}{j}", ha="center", va="center", fontsize=5.5 if small else 7)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(cols_name, fontsize=8)
    ax.set_ylabel(rows_name, fontsize=8)


def conv_matrices(items, path, title, subtitle=None):
    """items: list of (name, C, kernel size, transpose?). C's rows are output pixels
    and its columns input pixels; with transpose the figure draws C^T instead."""
    transpose = items[0][3]
    n = len(items)
    if transpose:          # tall matrices side by side
        fig, axes = plt.subplots(1, n, figsize=(3.0 * n + 0.6, 8.0))
    else:                  # wide matrices one above the other
        fig, axes = plt.subplots(n, 1, figsize=(10.5, 2.2 * n + 0.9))
    for ax, (name, mat, kernel, t) in zip(numpy.atleast_1d(axes), items):
        m = mat.T if t else mat
        label = (f"C^T ({m.shape[0]} x {m.shape[1]})" if t else f"C ({m.shape[0]} x {m.shape[1]})")
        small_px, large_px = "output pixel (oh, ow) of conv2d", "input pixel (h, w) of conv2d"
        # a tall C^T's panel is narrow: its name wraps to the panel's width
        shown = textwrap.fill(name, 26) if t else name
        _draw(ax, m, kernel, f"{shown}\n{label}", large_px if t else small_px,
              small_px if t else large_px)
    suptitle(fig, title, subtitle)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    return save(fig, path)

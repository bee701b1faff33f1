"""Figures of stacked MNIST: which of the 1,000 modes a GAN draws, and its samples in colour.

The coverage picture lays the 10 x 10 x 10 histogram out as ten 10 x 10 panels, one
per first digit d0; inside a panel the row is the second digit d1 and the column the
third d2. A cell's colour is its count on a log scale; a mode no sample has is black.
"""
import numpy

from .style import plt, suptitle, title_band, title_room
from .images import _save

GAP = 1                   # blank columns between the panels of two first digits
EMPTY = 0.5               # a mode without samples (0 has no logarithm: it would be a gap)


def coverage_image(counts):
    """The 1,000 counts (mode 100 d0 + 10 d1 + d2) as a (10, 10 * 10 + 9 GAP) array: ten
    10 x 10 panels side by side, panel d0 at columns d0 (10 + GAP)..; gaps are NaN,
    empty modes ``EMPTY``."""
    c = numpy.asarray(counts, dtype=numpy.float64).reshape(10, 10, 10)    # d0, d1, d2
    c = numpy.where(c > 0, c, EMPTY)     # under a log scale's floor of 1: drawn black
    out = numpy.full((10, 10 * 10 + 9 * GAP), numpy.nan)
    for d0 in range(10):
        x = d0 * (10 + GAP)
        out[:, x:x + 10] = c[d0]
    return out


def mode_coverage(panels, path, title, subtitle=None):
    """One coverage strip per row: `panels` is a list of (label, counts of the 1,000 modes)."""
    from matplotlib.colors import LogNorm
    top = max(c for _, counts in panels for c in counts)
    body = 1.15 * len(panels) + 0.6
    head = title_band(body, subtitle)
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, body + head), squeeze=False)
    # white: the gaps between panels; black (under the floor of 1): a mode with no sample
    cmap = plt.get_cmap("viridis").with_extremes(bad="white", under="black")
    for ax, (label, counts) in zip(axes[:, 0], panels):
        im = ax.imshow(coverage_image(counts), cmap=cmap, interpolation="nearest",
                       norm=LogNorm(vmin=1, vmax=max(top, 2)))
        ax.set_xticks([d0 * (10 + GAP) + 4.5 for d0 in range(10)])
        ax.set_xticklabels([f"d0={d0}" for d0 in range(10)], fontsize=8)
        ax.set_yticks([0, 9])
        ax.set_yticklabels(["d1=0", "d1=9"], fontsize=7)
        ax.set_title(label, fontsize=10)
    axes[-1, 0].set_xlabel("first digit d0; within a panel, second digit d1 down, third "
                           "d2 across", fontsize=8)
    suptitle(fig, title, subtitle)
    top_frac = title_room(fig, head)
    fig.subplots_adjust(top=top_frac, hspace=0.7, left=0.06, right=0.86)
    bar = fig.add_axes((0.88, 0.12, 0.015, top_frac - 0.2))
    fig.colorbar(im, cax=bar, label="samples of the mode\n(black: none)")
    return _save(fig, path)


def rgb_tile(pixels, ncol, pad=2):
    """(N, 28, 28, 3) uint8 -> one RGB image, ncol per row, black gaps."""
    n, h, w, _ = pixels.shape
    nrow = -(-n // ncol)
    out = numpy.zeros((nrow * (h + pad) + pad, ncol * (w + pad) + pad, 3), numpy.uint8)
    for i, img in enumerate(pixels):
        r, c = divmod(i, ncol)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y:y + h, x:x + w] = img
    return out


def rgb_rows(panels, path, title, subtitle=None, ncol=8):
    """Grids of RGB samples side by side: `panels` is a list of (label, (N, 28, 28, 3))."""
    n_rows = max(-(-len(p) // ncol) for _, p in panels)
    body = 0.42 * n_rows + 0.5
    head = title_band(body, subtitle)
    fig, axes = plt.subplots(1, len(panels), figsize=(0.42 * ncol * len(panels) + 0.6,
                                                      body + head), squeeze=False)
    for ax, (label, pixels) in zip(axes[0], panels):
        ax.imshow(rgb_tile(pixels, ncol), interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(label, fontsize=9)
    suptitle(fig, title, subtitle)
    fig.subplots_adjust(top=title_room(fig, head), wspace=0.05, left=0.02, right=0.98)
    return _save(fig, path)

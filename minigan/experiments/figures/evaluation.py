"""Evaluation made visible: each sample beside its nearest training image (is the
GAN copying?), and the conditional GAN's confusion matrix (does it draw the digit
it was asked for?)."""
import numpy

from .images import _show
from .style import plt, suptitle, title_band, title_room, save


def nearest_training(samples, nearest, distances, path, title, subtitle=None):
    """Two rows of digits: samples (uint8, (n, 28, 28)) above their nearest training
    images, each pair labelled by its Euclidean distance (pixels in [-1, 1])."""
    n = len(samples)
    body = 2 * 0.9 + 0.9
    top = title_band(body, subtitle)
    fig, axes = plt.subplots(2, 1, figsize=(max(0.75 * n + 0.8, 7.5), body + top))
    _show(axes[0], samples, n, "generated samples")
    _show(axes[1], nearest, n, "the nearest training image of each (distance below)")
    width = axes[1].get_xlim()[1] / n
    axes[1].set_xticks([width * (i + 0.5) for i in range(n)])
    axes[1].set_xticklabels([f"{d:.1f}" for d in distances], fontsize=8)
    suptitle(fig, title, subtitle)
    fig.tight_layout(rect=(0, 0, 1, title_room(fig, top)))
    return save(fig, path)


def confusion(matrix, path, title, subtitle=None):
    """A row-normalized confusion matrix: row r = the samples asked to be digit r,
    column c = the share the classifier sees as digit c."""
    m = numpy.asarray(matrix, dtype=numpy.float64)
    shares = m / numpy.maximum(m.sum(axis=1, keepdims=True), 1)
    top = title_band(5.4, subtitle)
    fig, ax = plt.subplots(figsize=(6.4, 5.4 + top))
    im = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    k = len(shares)
    for r in range(k):
        for c in range(k):
            if shares[r, c] >= 0.005:
                ax.text(c, r, f"{100 * shares[r, c]:.0f}", ha="center", va="center",
                        fontsize=7, color="white" if shares[r, c] > 0.5 else "black")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("digit the classifier sees")
    ax.set_ylabel("digit requested")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of the row's samples")
    suptitle(fig, title, subtitle)
    fig.tight_layout(rect=(0, 0, 1, title_room(fig, top)))
    return save(fig, path)

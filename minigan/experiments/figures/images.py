"""Figures of image GANs: sample grids, the digits emerging over training as a GIF,
and the conditional model's grid with one row per requested digit."""
import pathlib

import numpy

from .style import plt, suptitle, title_band, title_room, FuncAnimation, PillowWriter


def tile(pixels, ncol, pad=2, gutter=0):
    """Lay (N, 28, 28) pixels out as one image, ncol per row, `pad` pixels of the value
    `gutter` between them (0: the background of an MNIST digit). uint8 pixels stay
    uint8; float images (differences) stay float."""
    n, h, w = pixels.shape
    nrow = -(-n // ncol)
    dtype = numpy.uint8 if pixels.dtype == numpy.uint8 else numpy.float64
    out = numpy.full((nrow * (h + pad) + pad, ncol * (w + pad) + pad), gutter, dtype)
    for i, img in enumerate(pixels):
        r, c = divmod(i, ncol)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y:y + h, x:x + w] = img
    return out


def _show(ax, pixels, ncol, title=None):
    if pixels.dtype == numpy.uint8:
        ax.imshow(255 - tile(pixels, ncol), cmap="gray", vmin=0, vmax=255,
                  interpolation="nearest")      # dark strokes on white paper
    else:                                       # a signed difference, in [-1, 1]: red +, blue -
        ax.imshow(tile(pixels, ncol), cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)


def sample_grid(pixels, path, title, subtitle=None, ncol=8):
    """One grid of samples as a PNG."""
    n_rows = -(-len(pixels) // ncol)
    fig, ax = plt.subplots(figsize=(0.75 * ncol + 0.4, 0.75 * n_rows + 0.9))
    _show(ax, pixels, ncol)
    suptitle(fig, title, subtitle)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    return _save(fig, path)


def stages(snapshots, path, title, subtitle=None, ncol=8):
    """Several grids side by side: the same fixed noise at increasing steps.
    snapshots: list of (label, pixels)."""
    k = len(snapshots)
    n_rows = -(-len(snapshots[0][1]) // ncol)
    fig, axes = plt.subplots(1, k, figsize=(0.45 * ncol * k + 0.5, 0.45 * n_rows + 1.0))
    for ax, (label, pixels) in zip(numpy.atleast_1d(axes), snapshots):
        _show(ax, pixels, ncol, label)
    suptitle(fig, title, subtitle)
    fig.tight_layout(rect=(0, 0, 1, title_room(fig)))
    return _save(fig, path)


def class_grid(pixels, path, title, subtitle=None, row_labels=None):
    """The conditional model's 10 x 10 grid: row r holds samples asked to be digit r."""
    fig, ax = plt.subplots(figsize=(7.2, 7.6))
    _show(ax, pixels, 10)
    if row_labels is not None:
        step = (ax.get_ylim()[0] - ax.get_ylim()[1]) / len(row_labels)
        ax.set_yticks([step * (i + 0.5) for i in range(len(row_labels))])
        ax.set_yticklabels(row_labels, fontsize=9)
        ax.set_ylabel("requested digit")
    suptitle(fig, title, subtitle)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    return _save(fig, path)


def emerging_gif(frames, path, ncol=8, fps=4):
    """A GIF of the same fixed noise through training. frames: list of (label, pixels)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n_rows = -(-len(frames[0][1]) // ncol)
    fig, ax = plt.subplots(figsize=(0.5 * ncol + 0.3, 0.5 * n_rows + 0.6))
    image = ax.imshow(255 - tile(frames[0][1], ncol), cmap="gray", vmin=0, vmax=255,
                      interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    heading = ax.set_title(frames[0][0], fontsize=10)
    fig.tight_layout()

    def update(i):
        image.set_data(255 - tile(frames[i][1], ncol))
        heading.set_text(frames[i][0])
        return [image, heading]

    FuncAnimation(fig, update, frames=len(frames), blit=False).save(
        path, writer=PillowWriter(fps=fps), dpi=80)
    plt.close(fig)
    return path


def _save(fig, path):
    from .style import save
    return save(fig, path)


def rows(panels, path, title, subtitle=None, ncol=8):
    """Grids one above the other, each with its label: panels is a list of (label, pixels).
    uint8 pixels are drawn as digits; float images as signed differences in [-1, 1]
    (red where positive, blue where negative, white at 0)."""
    heights = [-(-len(p) // ncol) for _, p in panels]
    body = 0.62 * sum(heights) + 0.45 * len(panels) + 0.2    # inches: digits, labels
    top = title_band(body, subtitle)
    fig, axes = plt.subplots(len(panels), 1, figsize=(max(0.62 * ncol + 0.6, 7.5), body + top),
                             gridspec_kw={"height_ratios": heights}, layout="compressed")
    # "compressed": the panels' images keep their aspect and sit close, with no blank
    # band where a fixed-aspect image does not fill its share of the height
    fig.get_layout_engine().set(rect=(0, 0, 1, title_room(fig, top)))
    for ax, (label, pixels) in zip(numpy.atleast_1d(axes), panels):
        _show(ax, pixels, ncol, label)
    suptitle(fig, title, subtitle)
    return _save(fig, path)

"""What every figure of the lab shares: matplotlib set up for files, one colour per
idea, titles with a key number under them, PNG and GIF writers.

Every figure says what it shows: a title, axis labels, a legend, the
equilibrium marked, and a subtitle carrying the key number, so that a
student can read it without the code beside it. Functions draw into an
``Axes`` they are given (so figures compose) or return a finished ``Figure``.
"""
import os
import pathlib

import matplotlib
matplotlib.use("Agg")      # files only, never a window (must precede pyplot)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.animation import FuncAnimation, PillowWriter  # noqa: E402

# one fixed colour per idea, so the same method looks the same in every figure
COLORS = {
    "simultaneous": "#d62728", "alternating": "#ff7f0e", "optimistic": "#2ca02c",
    "extragradient": "#1f77b4", "consensus": "#9467bd", "sga": "#8c564b",
    "standard": "#d62728", "non-saturating": "#ff7f0e", "wgan": "#7f7f7f",
    "wgan (clip)": "#bcbd22", "wgan-gp": "#17becf", "instance noise": "#1f77b4",
    "R1": "#2ca02c", "saturating": "#d62728",
    "p_data": "#1f77b4", "p_g": "#2ca02c", "D": "#d62728", "D*": "#000000",
}


# methods whose curves coincide on some game get a dash pattern, so both stay visible
STYLES = {"extragradient": (0, (5, 3)), "sga": (0, (1.5, 2)), "wgan (clip)": (0, (5, 3))}


def color(name, i=0):
    return COLORS.get(name, f"C{i % 10}")


def style(label, i=0):
    """(colour, linestyle, linewidth) for a curve labelled "name" or "name: number"."""
    name = label.split(":")[0].strip()
    dashed = name in STYLES
    return color(name, i), STYLES.get(name, "-"), 2.2 if dashed else 1.6


class FigureTextOverlap(AssertionError):
    """Two texts of a figure (titles, labels, legends, notes) are drawn over each other."""


def text_boxes(fig):
    """(the text, its box in display pixels) for every visible, non-empty text of
    `fig` that a reader reads: the figure's own texts, and each axes' title, axis
    labels, notes and legend. Tick labels are left out (matplotlib spaces them)."""
    renderer = fig.canvas.get_renderer()
    texts = list(fig.texts) + ([fig._suptitle] if fig._suptitle is not None else [])
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        texts += list(ax.texts)         # notes placed in the axes
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            texts.append(legend)
    out, seen = [], set()
    for t in texts:
        if id(t) in seen:              # the suptitle is among fig.texts too
            continue
        seen.add(id(t))
        if not t.get_visible() or (hasattr(t, "get_text") and not t.get_text().strip()):
            continue
        box = t.get_window_extent(renderer)
        if box.width > 0 and box.height > 0:
            out.append((t.get_text() if hasattr(t, "get_text") else "legend", box))
    return out


def overlapping_texts(fig, slack=1.0):
    """Pairs of texts of `fig` whose boxes overlap by more than `slack` pixels each way."""
    fig.canvas.draw()
    boxes = text_boxes(fig)
    pairs = []
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            dx = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
            dy = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
            if dx > slack and dy > slack:
                pairs.append((a, b))
    return pairs


def save(fig, path, dpi=110):
    """Write `fig` as a PNG (creating the folder) and close it; returns the path.

    With the environment variable MINIGAN_CHECK_FIGURES set (the tests set it), a
    figure with two texts drawn over each other is refused (FigureTextOverlap)."""
    path = pathlib.Path(path)
    if os.environ.get("MINIGAN_CHECK_FIGURES"):
        pairs = overlapping_texts(fig)
        if pairs:
            plt.close(fig)
            raise FigureTextOverlap(f"{path.name}: texts drawn over each other: "
                                    + "; ".join(f"{a[:50]!r} and {b[:50]!r}" for a, b in pairs))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


# the subtitle's top sits this share of the figure's height under the figure's top,
# and at least this many inches (in a short figure, not on the title)
SUBTITLE_DROP, SUBTITLE_MIN_INCHES = 0.045, 0.24


def suptitle(fig, title, subtitle=None):
    """A bold title and, under it, a caption-like line with the key number."""
    fig.suptitle(title, fontsize=13, fontweight="bold", y=1.0)
    if subtitle:
        below = max(SUBTITLE_DROP, SUBTITLE_MIN_INCHES / fig.get_figheight())
        fig.text(0.5, 1.0 - below, subtitle, ha="center", va="top",
                 fontsize=9.5, color="#444444", transform=fig.transFigure)


def title_band(body_inches, subtitle=None, line_inches=0.2, gap_inches=0.15):
    """Inches that ``suptitle`` needs above `body_inches` of axes: down to the subtitle's
    top, its lines, and a gap. The subtitle's top depends on the whole height
    h = body + band (``SUBTITLE_DROP`` * h, at least ``SUBTITLE_MIN_INCHES``), so

        band = max(MIN + c, (DROP * body + c) / (1 - DROP)),   c = lines * line + gap.
    """
    c = (subtitle.count("\n") + 1 if subtitle else 0) * line_inches + gap_inches
    return max(SUBTITLE_MIN_INCHES + c, (SUBTITLE_DROP * body_inches + c) / (1 - SUBTITLE_DROP))


def title_room(fig, inches=0.55):
    """The top of the area left to the axes (a figure fraction) under ``suptitle``'s
    two lines, for ``tight_layout(rect=(0, 0, 1, title_room(fig)))``."""
    return 1.0 - inches / fig.get_figheight()


def animate(draw_frame, n_frames, path, fps=8, figsize=(7, 4)):
    """A GIF: ``draw_frame(fig, i)`` draws frame i on a cleared figure."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = plt.figure(figsize=figsize)

    def update(i):
        fig.clear()
        draw_frame(fig, i)
        return []

    anim = FuncAnimation(fig, update, frames=n_frames, blit=False)
    anim.save(path, writer=PillowWriter(fps=fps), dpi=80)
    plt.close(fig)
    return path

"""Figures of GANs in the plane: where the samples are, and what D thinks of the plane.

* ``scatter_row``/``scatter_rows``: real and generated samples side by side at
  increasing steps (one row per run);
* ``occupancy_map``: a modes x steps heat map of which modes G covers over time
  (mode collapse shows as one bright cell moving from row to row);
* ``gan_lab_panel``: GAN-Lab style, D's output as a heat map over the plane,
  the real and the generated samples, and on each generated sample an arrow
  for the direction G's gradient step moves it (-dL_G/dx);
* ``training_gif``: those panels over training, as a GIF;
* ``compare_panels``: final samples of several methods side by side, with scores.

The numbers come from ``minigan.experiments.mog.snapshot`` (NumPy arrays);
nothing here touches tensors.
"""
import numpy

from .style import plt, animate

FAKE = "#d62728"       # generated samples: red
CENTER = "#1f77b4"     # mode centres: blue crosses


def _plane(ax, mixture, extent, title=None, label_modes=False):
    """Axes of the plane, with small crosses at the mode centres (and their
    numbers, matching the rows of the occupancy map)."""
    c = mixture.centers
    ax.scatter(c[:, 0], c[:, 1], marker="+", s=25, color=CENTER, linewidths=0.8, zorder=2,
               label="mode centre")
    if label_modes:
        r = numpy.linalg.norm(c, axis=1, keepdims=True)
        off = 0.09 * (extent[1] - extent[0]) * numpy.where(r > 0, c / numpy.maximum(r, 1e-12), 0)
        for k, (x, y) in enumerate(c + off):
            ax.text(x, y, str(k), fontsize=6, color=CENTER, ha="center", va="center")
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def _legend_below(fig, ax, ncol=4):
    """One legend for the whole row, under the panels (it never hides a sample)."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=8, markerscale=3,
               frameon=False, bbox_to_anchor=(0.5, -0.06))


def extent_of(mixture, margin=0.35):
    """A square window around the modes, with a margin of `margin` times its size."""
    lo, hi = mixture.centers.min(), mixture.centers.max()
    pad = margin * (hi - lo) + 4 * mixture.std
    return (lo - pad, hi + pad, lo - pad, hi + pad)


def _score_line(s):
    return f"{s['modes']}/{s['n_modes']} modes, {100 * s['high_quality']:.0f}% HQ"


def scatter_rows(rows, mixture, real, title=None, n_show=1000):
    """One row of panels per run, one panel per snapshot: real samples (black) and
    G's samples (red).

    ``rows``: list of (label, snapshots), snapshots a list of Snapshot (``.step``,
    ``.fake``, ``.scores``); the label goes at the left of its row (None: no label).
    ``real``: (N, 2) array of real samples.
    """
    n = max(len(snaps) for _, snaps in rows)
    fig, axes = plt.subplots(len(rows), n, figsize=(2.1 * n, 2.5 * len(rows)), squeeze=False)
    ext = extent_of(mixture)
    for axrow, (label, snaps) in zip(axes, rows):
        for ax, snap in zip(axrow, snaps):
            ax.scatter(snap.fake[:n_show, 0], snap.fake[:n_show, 1], s=3, color=FAKE,
                       alpha=0.5, label="generated", rasterized=True, zorder=3)
            ax.scatter(real[:n_show, 0], real[:n_show, 1], s=2, color="black", alpha=0.8,
                       label="real", rasterized=True, zorder=4)
            _plane(ax, mixture, ext, f"step {snap.step}\n{_score_line(snap.scores)}",
                   label_modes=True)
        for ax in axrow[len(snaps):]:
            ax.axis("off")
        if label:
            axrow[0].set_ylabel(label, fontsize=9)
    _legend_below(fig, axes[-1][0], ncol=3)
    if title:
        fig.suptitle(title, fontsize=11, y=1.0 + 0.04 / len(rows))
    return fig


def scatter_row(snapshots, mixture, real, title=None, n_show=1000):
    """``scatter_rows`` with a single row: one panel per snapshot."""
    return scatter_rows([(None, snapshots)], mixture, real, title, n_show)


def occupancy_map(occupancy, steps, title=None, changes=None,
                  what="share of G's samples on the mode"):
    """Heat map: rows are modes, columns snapshots, colour the share of G's samples
    that land on that mode. ``occupancy``: (K, T) array."""
    occ = numpy.asarray(occupancy)
    K, T = occ.shape
    fig, ax = plt.subplots(figsize=(min(12, 1.2 + 0.22 * T), 0.8 + 0.28 * K))
    im = ax.imshow(occ, aspect="auto", cmap="magma", vmin=0, vmax=max(occ.max(), 1e-9),
                   origin="lower", interpolation="nearest")
    ax.set_yticks(range(K))
    ax.set_yticklabels([f"mode {k}" for k in range(K)], fontsize=7)
    ticks = numpy.unique(numpy.linspace(0, T - 1, min(T, 10)).astype(int))
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(steps[i]) for i in ticks], fontsize=7)
    ax.set_xlabel("training step")
    cb = fig.colorbar(im, ax=ax, pad=0.01)
    cb.set_label(what, fontsize=8)
    sub = f" (dominant mode changed {changes} times)" if changes is not None else ""
    ax.set_title((title or "which modes the generator covers") + sub, fontsize=10)
    return fig


def gan_lab_panel(ax, snap, mixture, real, n_arrows=60, show_colorbar=False, fig=None):
    """D's output over the plane (heat map), real (grey) and generated (red)
    samples, and arrows -dL_G/dx: where G's next step pushes each sample."""
    ext = snap.extent
    im = None
    if snap.d_field is not None:
        label = "D(x) = P(real)" if snap.d_is_probability else "critic D(x)"
        vmin, vmax = (0.0, 1.0) if snap.d_is_probability else (None, None)
        im = ax.imshow(snap.d_field, extent=ext, origin="lower", cmap="RdBu_r", vmin=vmin,
                       vmax=vmax, alpha=0.9, interpolation="bilinear")
        if show_colorbar and fig is not None:
            cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
            cb.set_label(label, fontsize=8)
    ax.scatter(snap.fake[:1000, 0], snap.fake[:1000, 1], s=4, color=FAKE, alpha=0.6,
               label="generated", rasterized=True, zorder=3)
    ax.scatter(real[:500, 0], real[:500, 1], s=3, color="black", alpha=0.8, label="real",
               rasterized=True, zorder=4)
    if snap.arrows is not None:
        k = min(n_arrows, len(snap.arrows))
        a = snap.arrows[:k]
        length = numpy.linalg.norm(a, axis=1).max() + 1e-12
        scale = 0.12 * (ext[1] - ext[0]) / length     # longest arrow: 12% of the window
        ax.quiver(snap.fake[:k, 0], snap.fake[:k, 1], a[:, 0] * scale, a[:, 1] * scale,
                  angles="xy", scale_units="xy", scale=1, color="#2ca02c", width=0.005,
                  label="G's step (-dL_G/dx)", zorder=5)
    _plane(ax, mixture, ext, f"step {snap.step}: {_score_line(snap.scores)}", label_modes=True)
    return im


def gan_lab_row(snapshots, mixture, real, title=None):
    """gan_lab_panel for several snapshots in one row."""
    n = len(snapshots)
    fig, axes = plt.subplots(1, n, figsize=(2.9 * n, 3.1), squeeze=False)
    im = None
    for ax, snap in zip(axes[0], snapshots):
        im = gan_lab_panel(ax, snap, mixture, real) or im
    _legend_below(fig, axes[0][0])
    if im is not None:
        cb = fig.colorbar(im, ax=list(axes[0]), fraction=0.02, pad=0.01)
        cb.set_label("D(x) = P(real)" if snapshots[0].d_is_probability else "critic D(x)",
                     fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11, y=1.02)
    return fig


def training_gif(snapshots, mixture, real, path, fps=4, title=""):
    """A GIF with one GAN-Lab panel per snapshot."""
    def draw(fig, i):
        ax = fig.add_subplot(1, 1, 1)
        gan_lab_panel(ax, snapshots[i], mixture, real, show_colorbar=True, fig=fig)
        if title:
            fig.suptitle(title, fontsize=10)
    return animate(draw, len(snapshots), path, fps=fps, figsize=(5.0, 4.6))


def compare_panels(panels, mixture, real, title=None):
    """Final samples of several runs side by side, and under each one the histogram
    of its high-quality samples over the modes (flat = reverse KL 0).
    ``panels``: list of (label, samples (N, 2) array, scores dict)."""
    n = len(panels)
    fig, axes = plt.subplots(2, n, figsize=(3.8 * n, 5.6), squeeze=False,
                             gridspec_kw={"height_ratios": [3.2, 1]})
    ext = extent_of(mixture)
    for j, (label, x, s) in enumerate(panels):
        ax = axes[0][j]
        # real underneath (large, grey), generated on top: where does G put its mass?
        ax.scatter(real[:1000, 0], real[:1000, 1], s=14, color="0.6", alpha=0.4,
                   label="real", rasterized=True, zorder=3)
        ax.scatter(x[:, 0], x[:, 1], s=2, color=FAKE, alpha=0.5, label="generated",
                   rasterized=True, zorder=4)
        _plane(ax, mixture, ext,
               f"{label}\n{_score_line(s)}, reverse KL {s['reverse_kl']:.3f}",
               label_modes=mixture.n_modes <= 12)
        bx = axes[1][j]
        counts = numpy.asarray(s["counts"], dtype=float)
        share = counts / max(1.0, float(len(x)))
        bx.bar(range(len(counts)), share, color=FAKE, alpha=0.8)
        bx.axhline(1.0 / len(counts), color="black", lw=1, ls="--", label="uniform")
        bx.set_xticks(range(len(counts)) if len(counts) <= 12 else [])
        bx.tick_params(labelsize=7)
        bx.set_xlabel("mode", fontsize=8)
        bx.set_ylabel("share of samples\n(high quality)", fontsize=7)
        bx.set_ylim(0, max(2.0 / len(counts), share.max() * 1.1))
        bx.legend(fontsize=7, loc="upper right", frameon=False)
    _legend_below(fig, axes[0][0], ncol=3)
    if title:
        fig.suptitle(title, fontsize=11, y=1.0)
    fig.tight_layout()
    return fig

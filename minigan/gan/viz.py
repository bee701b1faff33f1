"""Figures and animations for the lecture experiments (matplotlib, Agg backend).

Every figure says what it shows: a title, axis labels, a legend, the
equilibrium marked, and a subtitle carrying the key number, so that a
student can read it without the code beside it. Functions draw into an
``Axes`` they are given (so figures compose) or return a finished ``Figure``;
``save`` writes PNGs and ``animate`` writes GIFs.
"""
import pathlib

import numpy

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


def save(fig, path, dpi=110):
    """Write `fig` as a PNG (creating the folder) and close it; returns the path."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def suptitle(fig, title, subtitle=None):
    """A bold title and, under it, a caption-like line with the key number."""
    fig.suptitle(title, fontsize=13, fontweight="bold", y=1.0)
    if subtitle:
        fig.text(0.5, 0.955, subtitle, ha="center", va="top", fontsize=9.5, color="#444444",
                 transform=fig.transFigure)


# ------------------------------------------------------------ games
def phase_portrait(ax, field, trajectories, xlim, ylim, equilibrium=(0.0, 0.0),
                   xlabel="x", ylabel="y", title=None, show_ends=True, field_style="stream"):
    """The vector field (stream lines, or arrows with field_style="quiver"), with
    trajectories drawn over it.

    field:        (X, Y, U, V) from ``games.vector_field``
    trajectories: {label: array (steps + 1, 2)} of visited states
    """
    X, Y, U, V = field
    speed = numpy.hypot(U, V)
    if field_style == "quiver":      # cheap to redraw: used for animations
        s = (slice(None, None, 3), slice(None, None, 3))
        ax.quiver(X[s], Y[s], U[s], V[s], color="#9a9a9a", angles="xy", width=0.003)
    else:
        ax.streamplot(X, Y, U, V, color=speed, cmap="Greys", density=1.1, linewidth=0.7,
                      arrowsize=0.8, norm=matplotlib.colors.Normalize(0, speed.max() * 1.6))
    for i, (label, path) in enumerate(trajectories.items()):
        c, ls, lw = style(label, i)
        ax.plot(path[:, 0], path[:, 1], color=c, ls=ls, lw=lw, label=label, alpha=0.9)
        if show_ends:
            ax.plot(path[-1, 0], path[-1, 1], "o", color=c, ms=5, mec="white", mew=0.8)
    first = next(iter(trajectories.values()))
    ax.plot(first[0, 0], first[0, 1], "s", color="black", ms=7, label="start", zorder=5)
    ax.plot(*equilibrium, "*", color="gold", ms=17, mec="black", mew=1.0,
            label="equilibrium", zorder=6)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_aspect("equal", adjustable="box")
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def distance_plot(ax, distances, title=None, rates=None, ylabel="distance to equilibrium"):
    """Distance to the equilibrium against steps, log scale.

    distances: {label: 1-D array}; rates: optional {label: per-step factor from
    theory}, drawn on top as thin black dotted lines from the same start.
    """
    theory_labelled = False
    for i, (label, d) in enumerate(distances.items()):
        c, ls, lw = style(label, i)
        d = numpy.maximum(numpy.asarray(d, float), 1e-300)    # log scale: no zeros
        ax.semilogy(numpy.arange(len(d)), d, color=c, ls=ls, lw=lw + 0.4, label=label)
    for label, d in distances.items():
        if rates and rates.get(label):
            t = numpy.arange(len(d))
            ax.semilogy(t, d[0] * rates[label] ** t, ":", color="black", lw=1.1, zorder=5,
                        label=None if theory_labelled else "theory: d0 * rate^step")
            theory_labelled = True
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    if title:
        ax.set_title(title, fontsize=11)
    return ax


# ------------------------------------------------------------- 1-D GAN
def density_panel(ax, xs, p_data, D, D_star=None, p_g=None, g_samples=None, title=None,
                  legend=True, d_label="D(x)"):
    """One stage of a 1-D GAN (Goodfellow et al. 2014, Figure 1).

    Densities on the left axis (p_data line, p_g line and/or a histogram of
    generator samples), the discriminator on a [0, 1] right axis with D* dashed.
    """
    ax.fill_between(xs, p_data, color=color("p_data"), alpha=0.25)
    ax.plot(xs, p_data, color=color("p_data"), lw=1.8, label="p_data")
    if g_samples is not None:
        ax.hist(g_samples, bins=60, range=(xs[0], xs[-1]), density=True, histtype="stepfilled",
                color=color("p_g"), alpha=0.35, label="G samples (histogram)")
    if p_g is not None:
        ax.plot(xs, p_g, color=color("p_g"), lw=1.8, label="p_g")
    ax.set_xlim(xs[0], xs[-1])
    top = max(numpy.max(p_data), numpy.max(p_g) if p_g is not None else 0)
    ax.set_ylim(0, top * 1.15)
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    ax2 = ax.twinx()
    ax2.plot(xs, D, color=color("D"), lw=2.0, label=d_label)
    if D_star is not None:
        ax2.plot(xs, D_star, "--", color=color("D*"), lw=1.4, label="D* = p_data/(p_data+p_g)")
    ax2.axhline(0.5, color="grey", lw=0.6, ls=":")
    ax2.set_ylim(0, 1.05)
    ax2.set_ylabel("D(x)")
    if title:
        ax.set_title(title, fontsize=10.5)
    if legend:
        h, lab = panel_legend_entries(ax, ax2)
        ax.legend(h, lab, loc="upper left", fontsize=8, framealpha=0.85)
    return ax, ax2


def panel_legend_entries(ax, ax2):
    """The legend handles and labels of a density panel's two axes, together."""
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    return h1 + h2, l1 + l2


def row_legend(fig, ax, ax2):
    """One legend for a row of density panels, centred under them."""
    h, lab = panel_legend_entries(ax, ax2)
    fig.legend(h, lab, loc="lower center", ncol=len(h), fontsize=9, frameon=False,
               bbox_to_anchor=(0.5, -0.02))


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


def animate_paths(field, paths, path, xlim, ylim, title="", xlabel="x", ylabel="y",
                  frames=40, fps=10, equilibrium=(0.0, 0.0)):
    """A GIF of trajectories unfolding over the vector field.

    The field is drawn as arrows (stream plots are slow to redraw) and each
    frame only extends the lines, which keeps a 40-frame GIF to a few seconds.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5.6, 5.4))
    empty = {label: p[:1] for label, p in paths.items()}
    phase_portrait(ax, field, empty, xlim, ylim, equilibrium, xlabel, ylabel, show_ends=False,
                   field_style="quiver")
    lines = ax.get_lines()[:len(paths)]
    heads = [ax.plot([], [], "o", color=ln.get_color(), ms=5, mec="white", mew=0.8)[0]
             for ln in lines]
    ax.legend(loc="upper left", fontsize=7, framealpha=0.9)
    n_steps = len(next(iter(paths.values()))) - 1
    idx = numpy.linspace(1, n_steps, frames).astype(int)
    heading = ax.set_title("")

    def update(i):
        n = idx[i] + 1
        for ln, hd, p in zip(lines, heads, paths.values()):
            ln.set_data(p[:n, 0], p[:n, 1])
            hd.set_data(p[n - 1:n, 0], p[n - 1:n, 1])
        heading.set_text(f"{title}  step {idx[i]} of {n_steps}")
        return lines + heads + [heading]

    anim = FuncAnimation(fig, update, frames=frames, blit=False)
    anim.save(path, writer=PillowWriter(fps=fps), dpi=80)
    plt.close(fig)
    return path


def animate_density(xs, p_data, frames, path, fps=8):
    """A GIF of a 1-D GAN over training: the panel is drawn once, then each frame
    only moves its curves (p_g, D, D*) and changes the title.

    frames: a list of dicts with keys "D", "D_star", "p_g" (arrays on xs) and "title".
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4))
    first = frames[0]
    ax, ax2 = density_panel(ax, xs, p_data, first["D"], first["D_star"], p_g=first["p_g"])
    top = max(numpy.max(p_data), max(numpy.max(f["p_g"]) for f in frames))
    ax.set_ylim(0, top * 1.15)
    pg_line = ax.get_lines()[1]
    d_line, dstar_line = ax2.get_lines()[:2]
    ax.set_title(first["title"], fontsize=10.5)      # before the layout, so it fits
    fig.tight_layout()

    def update(i):
        f = frames[i]
        pg_line.set_ydata(f["p_g"])
        d_line.set_ydata(f["D"])
        dstar_line.set_ydata(f["D_star"])
        ax.set_title(f["title"], fontsize=10.5)
        return [pg_line, d_line, dstar_line]

    anim = FuncAnimation(fig, update, frames=len(frames), blit=False)
    anim.save(path, writer=PillowWriter(fps=fps), dpi=80)
    plt.close(fig)
    return path

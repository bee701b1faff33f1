"""Figures of a GAN on the real line: densities, the discriminator and D* on one
panel (Goodfellow et al. 2014, Figure 1), and the same over training as a GIF.
"""
import pathlib

import numpy

from .style import plt, color, FuncAnimation, PillowWriter

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

"""Figures of two-player games in the phase plane: the vector field of the
simultaneous gradient, trajectories over it, and distances to the equilibrium.
"""
import pathlib

import matplotlib
import numpy

from .style import plt, style, FuncAnimation, PillowWriter

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

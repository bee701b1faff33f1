"""Figures of GAN inversion: the error over descent steps, and the editing objective."""
import numpy

from ...eval.pixels import to_pixels
from .style import plt, suptitle, save


def descent_curves(histories, encoder_error, path):
    """Mean squared error per descent step for each start, the encoder's alone as a line."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, (name, h) in enumerate(histories.items()):
        ax.plot(numpy.arange(1, len(h) + 1), h, color=f"C{i}", label=name)
    ax.axhline(encoder_error, color="k", linestyle="--", linewidth=1, label="encoder alone")
    ax.set_yscale("log")
    ax.set_xlabel("Adam step on z")
    ax.set_ylabel("mean squared pixel error ||G(z) - x||^2 / 784")
    ax.legend()
    ends = ", ".join(f"{k} {h[-1]:.4f}" for k, h in histories.items())
    suptitle(fig, "Inversion by gradient descent: where it starts matters", f"last step: {ends}")
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    return save(fig, path)


def editing(edits, target, lambda1, path):
    """One row per setting: the original, its reconstruction G(z0), the edit G(z*),
    each with the classifier's verdict."""
    labels = ("original x", "G(z0), z0 its code", "edited G(z*)")
    fig, axes = plt.subplots(len(edits), 3, figsize=(6.6, 2.9 * len(edits) + 1.0))
    for r, (name, e) in enumerate(edits.items()):
        for c in range(3):
            ax = axes[r, c]
            ax.imshow(255 - to_pixels(e["images"][c][None])[0], cmap="gray", vmin=0, vmax=255)
            p = e["probs"][c]
            ax.set_title(f"{labels[c]}\nclassifier: {int(p.argmax())} "
                         f"(p({target}) = {p[target]:.2f})", fontsize=8.5)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(name, fontsize=9)
    suptitle(fig, f"Editing: argmin U(G(z)) + l1 ||z - z0||^2 - l2 D(G(z)), toward {target}",
             f"U = classifier cross-entropy toward {target}; lambda1 = {lambda1:g}")
    fig.tight_layout(rect=(0, 0, 1, 0.88))
    return save(fig, path)

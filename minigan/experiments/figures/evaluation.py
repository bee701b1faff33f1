"""Evaluation made visible: each sample beside its nearest training image (is the
GAN copying?), the conditional GAN's confusion matrix (does it draw the digit
it was asked for?), and a classifier's test accuracy with and without generated
digits (the lecture's second measure)."""
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


MODEL_COLORS = {"mnist-mlp": "#9467bd", "dcgan": "#d62728", "cgan": "#2ca02c"}


def real_fraction_curves(counts, alone, added, generated_only, path, title, subtitle=None,
                         labelled=None):
    """Test accuracy against the real training digits used (log x axis): one line
    trained on the real subset alone, one per way of adding the generated digits,
    each point the mean over seeds with a bar from the lowest to the highest seed;
    and, as horizontal lines, the classifiers trained on generated digits only.

    counts: {row key: real digits}; alone: {row key: {"mean", "min", "max"}}; added:
    {line label: such rows}; generated_only: {model: {"mean", ...}}; labelled:
    {model: how its digits were labelled}, said in the legend."""
    keys = list(counts)
    n = numpy.array([counts[k] for k in keys], dtype=float)
    top = title_band(5.6, subtitle)
    fig, ax = plt.subplots(figsize=(9.4, 5.6 + top))
    lines = [("real digits alone", alone)] + list(added.items())
    shifts = numpy.linspace(0.95, 1.05, len(lines))        # bars side by side
    for (label, rows), color, shift in zip(lines, ("#1f77b4", "#ff7f0e", "#8c564b", "#e377c2"),
                                           shifts):
        mean = numpy.array([rows[k]["mean"] for k in keys])
        low = mean - numpy.array([rows[k]["min"] for k in keys])
        high = numpy.array([rows[k]["max"] for k in keys]) - mean
        ax.errorbar(n * shift, 100 * mean, yerr=100 * numpy.vstack([low, high]), fmt="o-",
                    color=color, lw=1.8, ms=5, capsize=4, label=label)
    for i, (model, r) in enumerate(generated_only.items()):
        how = f", labelled by {labelled[model]}" if labelled and model in labelled else ""
        ax.axhline(100 * r["mean"], color=MODEL_COLORS.get(model, f"C{i + 4}"), ls="--",
                   lw=1.3, label=f"only {model}'s digits{how}: {100 * r['mean']:.1f}%")
    ax.set_xscale("log")
    ax.set_xticks(n, [f"{k}\n({int(c):,})" for k, c in zip(keys, n)])
    ax.minorticks_off()
    ax.set_xlim(n.min() / 1.6, n.max() * 1.6)
    ax.set_xlabel("real training digits used (share of the 60,000; class-balanced)")
    ax.set_ylabel("accuracy on the real MNIST test digits (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2,
              frameon=False)
    suptitle(fig, title, subtitle)
    fig.tight_layout(rect=(0, 0, 1, title_room(fig, top)))
    return save(fig, path)

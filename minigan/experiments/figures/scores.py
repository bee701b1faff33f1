"""Scores side by side: each stage of an improved recipe, through two judges' eyes."""
import textwrap

import numpy

from .style import plt, suptitle, save

JUDGE_COLORS = ("#1f77b4", "#ff7f0e")


def improvements(stages, path, title):
    """Two panels, Inception Score (higher is better) and Frechet distance (lower is
    better), one pair of bars per stage: the first judge's (which chose the settings)
    beside the second judge's (which took no part in the choice). A stage's label
    says which samples it scores (all of them, or those a truncation kept)."""
    labels = [textwrap.fill(s["stage"], 18) + f"\n({s['samples']} samples)" for s in stages]
    x = numpy.arange(len(stages))
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2))
    for ax, key, name in ((axes[0], "inception_score", "Inception Score (higher is better)"),
                          (axes[1], "frechet_distance", "Frechet distance (lower is better)")):
        for j, (prefix, judge) in enumerate((("", "judge 1: the CNN (chose the settings)"),
                                             ("judge2_", "judge 2: the MLP (took no part)"))):
            values = [s[prefix + key] for s in stages]
            bars = ax.bar(x + (j - 0.5) * 0.38, values, 0.38, color=JUDGE_COLORS[j],
                          label=judge)
            ax.bar_label(bars, fmt="%.2f", fontsize=8, padding=2)
        ax.set_xticks(x, labels, fontsize=8)
        ax.set_title(name, fontsize=10)
        ax.margins(y=0.15)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=2, fontsize=9, frameon=False)
    fig.subplots_adjust(top=0.8, bottom=0.27, wspace=0.2)
    suptitle(fig, title, "each stage adds one improvement to the one before; "
                         "the judges' scales differ, compare within a colour")
    return save(fig, path)

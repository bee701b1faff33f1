"""ProGAN beside the plain DCGAN: the scores of each run against the wall time it had
trained for."""
from .style import plt, suptitle, save

MODEL_COLORS = {"progan": "#2ca02c", "dcgan": "#d62728"}


def score_curves(runs, compare_at, path, title, subtitle=None):
    """Two panels, Frechet distance (lower is better) and Inception Score (higher is
    better) against training seconds: one line per run (model and seed), a dot per
    scored snapshot; `compare_at` (seconds) marked where the claim compares.

    runs: list of (model, seed, [{"seconds", "frechet_distance", "inception_score"}])."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    seen = set()
    for model, seed, snaps in runs:
        t = [s["seconds"] for s in snaps]
        label = None if model in seen else model
        seen.add(model)
        for ax, key in zip(axes, ("frechet_distance", "inception_score")):
            ax.plot(t, [s[key] for s in snaps], "o-", color=MODEL_COLORS.get(model, "C0"),
                    lw=1.4, ms=3.5, alpha=0.85, label=label)
    for ax, name in zip(axes, ("Frechet distance (lower is better)",
                               "Inception Score (higher is better)")):
        ax.axvline(compare_at, color="#444444", ls=":", lw=1.2)
        ax.set_xlabel("training wall time (s)")
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_yscale("log")
    axes[0].legend(fontsize=9, loc="upper right")
    fig.tight_layout(rect=(0, 0, 1, 0.86))
    suptitle(fig, title, subtitle)
    return save(fig, path)

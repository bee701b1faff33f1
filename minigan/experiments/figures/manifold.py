"""Poor samples or missing modes? Runs placed by precision against recall, and by
density against coverage, beside real data scored the same way."""
from .style import plt, suptitle, save

# filled markers, one per run in turn (colours repeat after ten)
MARKERS = "osD^vP<>Xhp*"
REAL = dict(marker="*", s=260, color="black", zorder=4)


def precision_recall(runs, path, title="Precision against recall, each run beside real data"):
    """Two panels, one point per run: precision (x) against recall (y), and density
    (x) against coverage (y). `runs`: a list of (label, metrics), metrics holding
    ``precision``, ``recall``, ``density``, ``coverage`` and their
    ``..._real_train_vs_test`` values (real training images against the same test
    images, as many as the run scored), which are marked by a black star: the best a
    generator can score with that many samples. A point far left lacks quality; one
    low lacks variety."""
    if not runs:
        raise ValueError("precision_recall: runs is empty; give at least one (label, metrics)")
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.4))
    panels = ((axes[0], "precision", "recall", "precision (share of samples that look real)",
               "recall (share of real data the samples reach)"),
              (axes[1], "density", "coverage", "density (1 = as crowded as real data)",
               "coverage (share of real points with a sample nearby)"))
    reals = {}
    for i, (label, m) in enumerate(runs):
        for ax, xkey, ykey, _, _ in panels:
            ax.scatter(m[xkey], m[ykey], marker=MARKERS[i % len(MARKERS)], s=70,
                       color=f"C{i % 10}", edgecolor="black", linewidth=0.5, zorder=3,
                       label=label)
        real = tuple(m[f"{key}_real_train_vs_test"] for key in
                     ("precision", "recall", "density", "coverage"))
        reals.setdefault(real, m.get("n_samples"))
    for j, (real, n) in enumerate(reals.items()):
        name = "real vs real" + (f" ({n:,} training images)" if n else "")
        for ax, (x, y) in zip(axes, ((real[0], real[1]), (real[2], real[3]))):
            ax.scatter(x, y, label=name if j == 0 else None, **REAL)
    for ax, xkey, ykey, xlabel, ylabel in panels:
        ax.set_xlabel(xlabel, fontsize=9)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.grid(alpha=0.3)
        xs = [m[xkey] for _, m in runs] + [r[0 if xkey == "precision" else 2] for r in reals]
        ys = [m[ykey] for _, m in runs] + [r[1 if ykey == "recall" else 3] for r in reals]
        ax.set_xlim(min(0.0, min(xs)) - 0.02, max(1.0, max(xs)) + 0.05)
        ax.set_ylim(min(0.0, min(ys)) - 0.02, max(1.0, max(ys)) + 0.05)
    axes[0].set_title("precision and recall (Kynkaanniemi et al. 2019)", fontsize=10)
    axes[1].set_title("density and coverage (Naeem et al. 2020)", fontsize=10)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=min(4, len(names)), fontsize=9,
               frameon=False)
    rows = (len(names) + 3) // 4
    fig.subplots_adjust(top=0.8, bottom=0.17 + 0.05 * rows, wspace=0.25)
    k = runs[0][1].get("manifold_k", 5)
    suptitle(fig, title, f"in the evaluator's feature space, k = {k}; the black star: real "
                         f"training images scored against the same test images")
    return save(fig, path)

"""Figures of the autoencoder experiment: test digits beside their reconstructions,
and the training curves with the classifiers' test accuracies."""
import numpy
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from .images import _show
from ...eval.pixels import to_pixels
from .style import plt, suptitle, save


def reconstructions(x, x_hat, mean_image, mse, baseline, code_dim, path):
    """Three rows: test digits, Dec(E(x)) through a code of `code_dim` numbers, and the
    mean training image (the constant answer the autoencoder must beat)."""
    n = len(x)
    panels = [("test digits x", to_pixels(x)),
              (f"Dec(E(x)) through a code of {code_dim} numbers: test MSE {mse:.4f}",
               to_pixels(x_hat)),
              (f"the mean training image for every digit: MSE {baseline:.4f}",
               to_pixels(numpy.repeat(mean_image, n, axis=0)))]
    fig, axes = plt.subplots(3, 1, figsize=(0.62 * n + 0.6, 4.3))
    for ax, (label, pixels) in zip(axes, panels):
        _show(ax, pixels, n, label)
    suptitle(fig, "The convolutional autoencoder: reconstructions of test digits",
             f"L2 loss, no labels; mean squared pixel error over the test images "
             f"(pixels in [-1, 1]): {mse:.4f}, {baseline / mse:.1f} times below the mean "
             f"image's {baseline:.4f}")
    fig.tight_layout(rect=(0, 0, 1, 0.91))
    return save(fig, path)


def _plain_log(ax):
    """A log y axis whose ticks read as plain numbers (0.05, not 5 x 10^-2)."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _smooth(h, k=25):
    h = numpy.asarray(h, numpy.float64)
    k = max(1, min(k, len(h) // 5 or 1))
    return numpy.convolve(h, numpy.ones(k) / k, mode="valid")


def training_and_accuracy(ae_history, mse, baseline, curves, accuracies, early, early_step,
                          n_labels, n_test, path, marked=lambda title: title):
    """Left: the autoencoder's L2 loss per step, the test MSE and the mean image's.
    Middle: the classifiers' cross-entropy on the labelled batches (first draw).
    Right: each variant's test accuracy, one dot per draw of the labels, the mean as a
    bar; hollow dots: after `early_step` steps (`early`, where measured)."""
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(15, 4.4))
    s = _smooth(ae_history)
    a1.plot(numpy.arange(len(s)) + (len(ae_history) - len(s)), s, color="C0",
            label="training loss (smoothed)")
    a1.axhline(mse, color="C2", ls="--", label=f"test MSE {mse:.4f}")
    a1.axhline(baseline, color="C3", ls=":", label=f"mean image {baseline:.4f}")
    _plain_log(a1)
    a1.set_xlabel("step (batch 64)")
    a1.set_ylabel("mean squared pixel error")
    a1.set_title("autoencoder, L2 loss")
    a1.legend(fontsize=8)
    for i, (variant, h) in enumerate(curves.items()):
        a2.plot(_smooth(h, 10), color=f"C{i}", label=variant)
    _plain_log(a2)
    a2.set_xlabel(f"step (batch 50 of the {n_labels} labelled images)")
    a2.set_ylabel("cross-entropy (smoothed)")
    a2.set_title("classifiers, first draw of the labels")
    a2.legend(fontsize=8)
    names = list(accuracies)
    for i, v in enumerate(names):
        acc = 100 * numpy.asarray(accuracies[v])
        a3.bar(i, acc.mean(), color=f"C{i}", alpha=0.35)
        a3.plot(numpy.full(len(acc), i) + numpy.linspace(-0.12, 0.12, len(acc)), acc, "o",
                color=f"C{i}")
        a3.text(i + 0.2, acc.mean(), f"{acc.mean():.1f}%", ha="left", va="center",
                fontsize=9)
        if variant_early := early.get(v):
            e = 100 * numpy.asarray(variant_early)
            a3.plot(numpy.full(len(e), i) + numpy.linspace(-0.12, 0.12, len(e)), e, "o",
                    mfc="none", color=f"C{i}",
                    label=f"after {early_step} steps" if i == 0 else None)
    if early:
        a3.legend(fontsize=8, loc="lower left")
    lo = min(100 * min(a) for a in list(accuracies.values()) + list(early.values()))
    a3.set_ylim(max(0, lo - 5), 100)
    a3.set_xticks(range(len(names)))
    a3.set_xticklabels(names, fontsize=9)
    a3.set_ylabel(f"test accuracy (%), {n_test} test images")
    a3.set_title(f"{n_labels} labels, {len(accuracies[names[0]])} draws (dots), "
                 f"mean (bars)")
    means = {v: 100 * numpy.mean(a) for v, a in accuracies.items()}
    suptitle(fig, marked(f"The autoencoder's encoder as the start of a classifier: "
                         f"{n_labels} labels"),
             "test accuracy at the end: " + ", ".join(f"{v} {m:.1f}%" for v, m in means.items()))
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    return save(fig, path)

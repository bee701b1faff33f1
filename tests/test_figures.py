"""Every experiment's --quick figures, drawn with the figure check on (conftest sets
MINIGAN_CHECK_FIGURES: a figure with two texts drawn over each other is refused by
figures/style.py: save). The runs are shortened to a few steps (the figures' layout,
not their content, is under test); --quick draws every figure the full run draws."""
import pytest

from minigan import experiments
from minigan.experiments.figures import style

# experiment -> extra arguments that shorten its --quick run further
SHORT = {
    "bilinear": ["--steps", "20"], "dirac-gan": ["--steps", "20"],
    "optimal-discriminator": ["--steps", "20"], "gan-1d": ["--steps", "20"],
    "vanishing-gradients": ["--steps", "20"], "mog": ["--steps", "20"],
    "mog-collapse": ["--steps", "20"],
    "mnist-mlp": ["--steps", "3"], "dcgan": ["--steps", "3"], "dcgan-plus": ["--steps", "3"],
    "cgan": ["--steps", "3"], "dcgan-clusters": ["--steps", "3"],
    "convt-matrix": [], "bn-correlation": [], "latent-walk": [],
    "invert": ["--steps", "5"],
    "autoencoder": ["--steps", "5", "--set", "clf_steps=5", "--set", "test_images=200"],
    "pix2pix": ["--steps", "3", "--set", "test_images=200"],
    "cyclegan": ["--steps", "3", "--set", "test_images=200", "--set", "classifier_steps=5"],
    "stargan": ["--steps", "3", "--set", "test_images=200", "--set", "classifier_steps=5"],
    "progan": ["--set", "minutes=0.01", "--set", "samples=200"],
    "stackgan": ["--steps", "3", "--set", "samples_per_sentence=2"],
    "simgan": ["--steps", "3", "--set", "test_images=200", "--set", "classifier_steps=5",
               "--set", "synthetic_images=200"],
    "stacked-mnist": ["--steps", "3", "--set", "samples=200"],
    "classifier-score": ["--steps", "3", "--set", "gan_steps=1", "--set",
                         "generated_images=200", "--set", "test_images=200"],
}
# figures a run must draw beyond those all its kind draw
MUST = {
    "dcgan-plus": ["dcgan-plus_jacobian.png", "dcgan-plus_improvements.png"],
    "cgan": ["cgan_confusion.png", "cgan_grid.png"],
    "latent-walk": ["latent_walk.gif", "latent_walk.png", "latent_arithmetic.png"],
    "pix2pix": ["pix2pix.png"], "cyclegan": ["cyclegan.png", "cyclegan_printed.png"],
    "stargan": ["stargan.png"],
    "progan": ["progan_growth.png", "progan_scores.png", "progan_training.gif"],
    "stackgan": ["stackgan.png", "stackgan_training.gif"],
    "simgan": ["simgan.png", "simgan_training.png", "simgan_training.gif"],
    "stacked-mnist": ["stacked_mnist_modes.png", "stacked_mnist_samples.png"],
    "classifier-score": ["classifier_score.png", "classifier_score_digits.png"],
}
IMAGE_GANS = ("mnist-mlp", "dcgan", "dcgan-plus", "cgan", "dcgan-clusters")
NO_FIGURES = ("mnist-classifier", "mog-table")   # the judge, and a table: numbers only


def test_every_experiment_is_drawn_here():
    assert set(SHORT) | set(NO_FIGURES) == set(experiments.load_all())


def test_two_texts_over_each_other_are_refused(tmp_path):
    fig, ax = style.plt.subplots()
    ax.set_title("one title")
    ax.text(0.5, 1.02, "another text on top", transform=ax.transAxes, ha="center")
    assert ax.title.get_text() and style.overlapping_texts(fig)
    with pytest.raises(style.FigureTextOverlap, match="one title"):
        style.save(fig, tmp_path / "x.png")
    fig, ax = style.plt.subplots()
    ax.set_title("alone")
    style.save(fig, tmp_path / "y.png")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHORT))
def test_the_quick_figures_have_no_overlapping_texts(name, tmp_path, monkeypatch, mnist_dir):
    from minigan.__main__ import main
    from minigan.eval import evaluate
    from minigan.experiments import invert
    monkeypatch.setattr(evaluate, "N_SAMPLES", 300)       # scored samples: layout only
    monkeypatch.setattr(invert, "N_QUICK", 6)
    monkeypatch.setenv("MINIGAN_MODELS", str(tmp_path / "models"))
    out = tmp_path / name
    assert main(["run", name, "--quick", "--no-progress", "--out", str(out)]
                + SHORT[name]) == 0
    drawn = {p.name for p in out.glob("*.png")} | {p.name for p in out.glob("*.gif")}
    assert drawn, f"{name} drew no figure"
    must = list(MUST.get(name, []))
    if name in IMAGE_GANS:
        must += [f"{name}_nearest.png", f"{name}_stages.png", f"{name}_training.gif"]
    assert set(must) <= drawn, f"{name} did not draw {sorted(set(must) - drawn)}"


def test_precision_recall_figure_of_several_runs(tmp_path):
    """One point per run (labelled in the legend), real vs real starred; five runs
    close together still leave no text over another."""
    from minigan.experiments.figures import manifold as figs
    real = {"precision_real_train_vs_test": 0.92, "recall_real_train_vs_test": 0.93,
            "density_real_train_vs_test": 0.94, "coverage_real_train_vs_test": 0.94}
    runs = [(f"dcgan-seed{i}", dict(real, precision=0.48 + 0.01 * i, recall=0.82,
                                    density=0.2 + 0.3 * i, coverage=0.24, n_samples=10_000))
            for i in range(5)]
    path = figs.precision_recall(runs, tmp_path / "pr.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="runs is empty"):
        figs.precision_recall([], tmp_path / "none.png")

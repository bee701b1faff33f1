"""The lecture's second measure (minigan/experiments/classifier_score.py): a short
seeded classifier trained on a few generated digits reads real test digits far
above chance (and near chance when the same digits' labels are shuffled); the
class-balanced subset has the size and the classes it should; an unconditional
G's labels are the evaluator's prediction, a conditional G's its request; a
missing model is found, trained or refused with a clear message; --quick runs
end to end."""
import json

import numpy as np
import pytest

from minigan import data
from minigan.eval import evaluate
from minigan.experiments import RunConfig, load_all
from minigan.experiments import classifier_score as cs
from minigan.experiments.image_gans import RECIPES
from minigan.experiments.trained import MissingModel, load_recipe_gan
from minigan.experiments.translation import train_classifier_on
from minigan.gan import pretrained
from minigan.gan.recipes import build, make_trainer


@pytest.fixture(scope="module")
def shipped_digits():
    """300 digits of the shipped trained DCGAN, labelled by the evaluator."""
    G, _ = pretrained.load_dcgan()
    return cs.generate_labelled(G, False, 300, seed=5, evaluator=evaluate.load_classifier())


STEPS = 80


def test_a_short_seeded_classifier_on_a_few_generated_digits_reads_real_digits(
        mnist_dir, shipped_digits):
    """300 generated digits, 80 steps of batch 64: at least 50% on 1,000 real test
    digits (chance is 10%); the same digits with their labels shuffled teach nothing
    (under 25%)."""
    pixels, labels, _ = shipped_digits
    x = evaluate.as_images(pixels)
    test = tuple(a[:1000] for a in data.mnist("test", mnist_dir))
    cfg = RunConfig("classifier-score", seed=3, progress=False)
    _, acc = train_classifier_on(cfg, "t", x, labels, 10, STEPS, test)
    assert acc >= 0.5, acc
    shuffled = np.random.default_rng(0).permutation(labels)
    _, chance = train_classifier_on(cfg, "t", x, shuffled, 10, STEPS, test)
    assert chance < 0.25, chance


def test_digits_of_a_collapsed_g_missing_classes_still_train_a_ten_class_classifier(
        mnist_dir):
    """A G that draws only 3s and 8s: the classifier keeps its ten outputs, reads those
    two digits and can never read the others."""
    x, y = data.mnist("test", mnist_dir)
    keep = np.flatnonzero((y == 3) | (y == 8))[:300]
    cfg = RunConfig("classifier-score", seed=0, progress=False)
    model, acc = train_classifier_on(cfg, "t", x[keep], y[keep], 10, 30, (x[:1000], y[:1000]))
    probs, _ = evaluate.classify(model, x[:1000])
    assert probs.shape == (1000, 10)
    assert set(np.unique(probs.argmax(axis=1))) <= {3, 8}
    share = float(np.isin(y[:1000], (3, 8)).mean())
    assert 0.5 * share < acc <= share + 1e-9


def test_the_class_balanced_subset_has_its_size_and_every_class_equally(mnist_dir):
    _, y = data.mnist("train", mnist_dir)
    idx = cs.balanced_subset(y, 0.01, seed=0)
    assert len(idx) == 600 and len(np.unique(idx)) == 600
    assert np.bincount(y[idx], minlength=10).tolist() == [60] * 10
    assert np.bincount(y[cs.balanced_subset(y, 0.1, seed=0)]).tolist() == [600] * 10
    assert np.array_equal(idx, cs.balanced_subset(y, 0.01, seed=0))      # seeded
    assert not np.array_equal(idx, cs.balanced_subset(y, 0.01, seed=1))
    assert np.array_equal(cs.balanced_subset(y, 1.0, seed=0), np.arange(len(y)))
    for bad in (0, -0.1, 1.5, True):
        with pytest.raises(ValueError, match="fraction must be in"):
            cs.balanced_subset(y, bad, seed=0)
    with pytest.raises(ValueError, match="no example of a class"):
        cs.balanced_subset(y[:100], 0.01, seed=0)


def test_an_unconditional_gs_labels_are_the_evaluators_prediction(shipped_digits):
    pixels, labels, probs = shipped_digits
    judged, _ = evaluate.classify(evaluate.load_classifier(), pixels)
    assert np.array_equal(labels, judged.argmax(axis=1))
    assert np.allclose(probs, judged)
    assert len(np.unique(labels)) >= 8           # the shipped G draws most digits


def test_a_conditional_gs_labels_are_the_classes_it_was_asked_for():
    G, _ = build(RECIPES["cgan"])                 # untrained: the labels still say the request
    pixels, labels, _ = cs.generate_labelled(G, True, 25, seed=0,
                                             evaluator=evaluate.load_classifier())
    assert pixels.shape == (25, 28, 28) and pixels.dtype == np.uint8
    assert labels.tolist() == [i % 10 for i in range(25)]


def _one_step_run(folder, name):
    """A run folder of the recipe `name` as `python -m minigan run NAME --out folder`
    leaves it (one training step)."""
    x, y = data.mnist("train")
    trainer = make_trainer(RECIPES[name], x[:256], y[:256], seed=0,
                           out_dir=str(folder / "checkpoints" / name), verbose=False)
    trainer.fit(1)
    trainer.save_checkpoint()
    return trainer


def test_models_are_found_in_the_model_folder_and_the_missing_ones_trained(
        mnist_dir, tmp_path, capsys):
    models = tmp_path / "runs"
    _one_step_run(models / "dcgan", "dcgan")
    load_all()
    cfg = RunConfig("classifier-score", quick=True, progress=False, out=tmp_path / "out",
                    model=str(models), options={"gan_steps": "2"},
                    kinds={"seeds": int, "generated_images": int, "test_images": int,
                           "gan_steps": int})
    found = cs.find_generators(cfg, cs.settings(cfg))
    out = capsys.readouterr().out
    assert set(found) == set(cs.MODELS)
    dcgan = found["dcgan"][1]
    assert not dcgan["trained_here"] and dcgan["step"] == 1 and not dcgan["finished"]
    assert "reached step 1 of its recipe's 3,750" in out
    for name in ("mnist-mlp", "cgan"):
        assert found[name][1]["trained_here"] and found[name][1]["step"] == 2
        assert f"has no {name}/: training {name} here" in out
        # where it was trained is a run folder a later --model finds
        assert (tmp_path / "out" / "models" / name / "checkpoints" / name /
                "checkpoint.npz").exists()


def test_a_model_that_is_not_there_or_not_of_its_kind_is_refused_clearly(
        mnist_dir, tmp_path, capsys):
    from minigan.__main__ import main
    assert main(["run", "classifier-score", "--quick", "--no-progress", "--out",
                 str(tmp_path / "o"), "--model", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert "--model" in err and "mnist-mlp/, dcgan/, cgan/" in err
    (tmp_path / "runs" / "cgan").mkdir(parents=True)        # a folder with no checkpoint
    assert main(["run", "classifier-score", "--quick", "--no-progress", "--out",
                 str(tmp_path / "o"), "--model", str(tmp_path / "runs")]) == 2
    assert "holds no checkpoints/cgan/checkpoint.npz" in capsys.readouterr().err
    trainer = _one_step_run(tmp_path / "d", "dcgan")
    with pytest.raises(MissingModel, match="not a cgan generator"):
        load_recipe_gan(trainer._checkpoint_path(), "cgan")


def test_quick_runs_end_to_end(mnist_dir, tmp_path):
    from minigan.__main__ import main
    out = tmp_path / "q"
    assert main(["run", "classifier-score", "--quick", "--no-progress", "--out", str(out),
                 "--jobs", "1", "--steps", "5", "--set", "gan_steps=1", "--set",
                 "generated_images=1200", "--set", "test_images=200"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert set(m["generated_only"]) == set(cs.MODELS)
    assert m["real_images"] == {"1%": 600, "10%": 6000, "100%": 60000}
    for rows in (m["real_only"], *m["real_plus_generated"].values()):
        assert set(rows) == {"1%", "10%", "100%"}
        assert all(0 <= r["mean"] <= 1 for r in rows.values())
    # a seed: 3 generated-only; alone, once, equal at 1% and 10%; alone, once at 100%
    assert len(m["runs"]) == 11 and len(m["claims"]) == 4
    runs = {r["which"]: r for r in m["runs"]}
    assert runs["1% + cgan once"]["train_images"] == 600 + 1200
    assert runs["1% + cgan equal"]["train_images"] == 2 * 600 + 1200     # real repeated
    assert runs["10% + cgan equal"]["train_images"] == 6000 + 1200       # at least once
    assert runs["1% + cgan equal"]["real_images"] == 600
    # at 100% the two mixes are the same set, trained once
    assert m["real_plus_generated"]["equal"]["100%"] == m["real_plus_generated"]["once"]["100%"]
    for mix in ("once", "equal"):
        gain = m["gain_points"][mix]["1%"]["per_seed"][0]
        assert gain == pytest.approx(100 * (m["real_plus_generated"][mix]["1%"]["mean"]
                                            - m["real_only"]["1%"]["mean"]))
        assert m["improves"][mix]["1%"] == (gain > 0)
    assert m["models"]["mnist-mlp"]["labels"] == "the evaluator (weaker test)"
    assert m["models"]["cgan"]["label_counts"] == [120] * 10
    assert (out / "classifier_score.png").exists()
    assert (out / "classifier_score_digits.png").exists()
    # the docs' tables read it (docs/metrics/full/classifier-score.json)
    from minigan.experiments import tables
    (tmp_path / "docs" / "full").mkdir(parents=True)
    (tmp_path / "docs" / "full" / "classifier-score.json").write_text(json.dumps(m))
    part1 = tables.build("classifier-score", tmp_path / "docs")
    assert "cgan's generated digits only | the class asked for |" in part1
    part2 = tables.build("classifier-score-augmentation", tmp_path / "docs")
    gains = ", ".join(f"{g:+.2f}" for g in m["gain_points"]["equal"]["1%"]["per_seed"])
    assert "| 1% (600) | alone |" in part2
    assert "| + the cgan's digits, real repeated to an equal share | " in part2
    assert f"| {gains} |" in part2

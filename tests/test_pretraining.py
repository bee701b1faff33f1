"""The convolutional autoencoder (L2 loss), and its encoder initializing a classifier
trained on few labels: the library (lessons/pretraining.py) and the experiment."""
import json

import numpy as np
import pytest

import minigan
from minigan.lessons import pretraining as A
from minigan import data


def _images(n, seed=0):
    """n random images in [-1, 1], MNIST-shaped, and labels 0..9 (for the mechanics)."""
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32),
            rng.integers(0, 10, n).astype(np.int64))


def _params(module):
    return {k: np.array(v.numpy() if hasattr(v, "numpy") else v) for k, v in
            module.state_dict().items()}


def _changed(before, module):
    after = _params(module)
    return [k for k in before if not np.array_equal(before[k], after[k])]


# ----------------------------------------------------------------- the models
def test_the_shapes_encoder_to_code_and_decoder_back_to_an_image():
    ae = A.Autoencoder()
    x, _ = _images(3)
    z = ae.encode(minigan.tensor(x))
    assert z.shape == (3, A.CODE_DIM)
    out = ae(minigan.tensor(x)).numpy()
    assert out.shape == (3, 1, 28, 28) and np.abs(out).max() <= 1.0      # tanh: pixel range
    assert len([m for m in ae.encoder if type(m).__name__ in ("Conv2d", "Dense")]) == 4
    assert len([m for m in ae.decoder if type(m).__name__ in ("ConvTranspose2d", "Dense")]) == 4


def test_an_untrained_decoder_draws_the_mean_pixel_so_tanh_starts_unsaturated():
    dec = A.upconv_decoder(mean_pixel=-0.74)
    z = minigan.tensor(np.random.default_rng(0).standard_normal((8, A.CODE_DIM))
                       .astype(np.float32))
    out = dec(z).numpy()
    assert abs(out.mean() + 0.74) < 0.05 and out.std() < 0.1
    with pytest.raises(ValueError, match=r"mean_pixel must be inside \(-1, 1\)"):
        A.upconv_decoder(mean_pixel=-1.0)


def test_images_of_the_wrong_shape_or_range_and_bad_labels_are_refused():
    x, y = _images(4)
    with pytest.raises(ValueError, match=r"shape \(N, 1, 28, 28\).*got shape \(4, 28, 28\)"):
        A.train_autoencoder(x[:, 0], 1)
    with pytest.raises(ValueError, match=r"pixels must be in \[-1, 1\]"):
        A.reconstruction_mse(A.Autoencoder(), (x + 1) * 127.5)
    with pytest.raises(ValueError, match="NaN"):
        A.mean_image_mse(x, np.full_like(x, np.nan))
    model = A.CodeClassifier(A.conv_encoder(), A.classifier_head())
    with pytest.raises(ValueError, match="expected 4 integer labels"):
        A.train_classifier(model, x, y[:3], steps=1)
    with pytest.raises(ValueError, match="expected 4 integer labels"):
        A.accuracy(model, x, y.astype(np.float32))
    with pytest.raises(TypeError, match="expected a CodeClassifier"):
        A.train_classifier(A.Autoencoder(), x, y, steps=1)


# ----------------------------------------------------------------- the few labels
def test_the_labelled_subset_is_balanced_seeded_and_differs_between_seeds():
    labels = np.random.default_rng(0).integers(0, 10, 5000)
    a, b, c = (A.labelled_subset(labels, 600, s) for s in (0, 0, 1))
    np.testing.assert_array_equal(a, b)
    assert len(set(a)) == 600 and np.bincount(labels[a], minlength=10).tolist() == [60] * 10
    assert len(set(a) & set(c)) < 300                      # another draw, other images
    with pytest.raises(ValueError, match="multiple of 10"):
        A.labelled_subset(labels, 605)
    with pytest.raises(ValueError, match="only .* examples of class 3"):
        A.labelled_subset(np.where(labels == 3, 4, labels), 100)


def test_a_frozen_encoder_stays_as_it_was_and_fine_tuning_moves_it():
    x, y = _images(40)
    minigan.manual_seed(1)
    enc = A.conv_encoder(width=4)
    for freeze in (True, False):
        model = A.CodeClassifier(enc, A.classifier_head())
        enc_before, head_before = _params(model.encoder), _params(model.head)
        seen = []
        model, history = A.train_classifier(model, x, y, steps=3, batch_size=20,
                                            freeze_encoder=freeze,
                                            on_step=lambda step, m: seen.append(step))
        assert len(history) == 3 and seen == [1, 2, 3] and not model.training
        assert len(_changed(head_before, model.head)) == len(head_before)   # the head learns
        moved = _changed(enc_before, model.encoder)
        assert moved == [] if freeze else len(moved) == len(enc_before)


def test_the_variants_share_the_head_and_copy_the_autoencoders_encoder():
    from minigan.experiments import pretraining as lab
    minigan.manual_seed(5)
    ae = A.Autoencoder()
    ae_before = _params(ae)
    models = {v: lab.classifier(v, ae, seed=7) for v in lab.VARIANTS}
    heads = [_params(m.head) for m in models.values()]
    for h in heads[1:]:
        for k in h:
            np.testing.assert_array_equal(h[k], heads[0][k])
    w = ae.encoder[0].weight.numpy()
    np.testing.assert_array_equal(models["encoder fine-tuned"].encoder[0].weight.numpy(), w)
    assert not np.array_equal(models["from scratch"].encoder[0].weight.numpy(), w)
    x, y = _images(20)
    A.train_classifier(models["encoder fine-tuned"], x, y, steps=2, batch_size=10)
    assert _changed(ae_before, ae) == []        # fine-tuning trains a copy, not the autoencoder


def test_a_classifier_learns_a_separable_problem():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    x = np.full((200, 1, 28, 28), -1.0, np.float32)
    x[y == 1, :, :14] = 1.0                    # class 1: the top half lit
    x += rng.uniform(0, 0.2, x.shape).astype(np.float32) * np.sign(-x)
    model = A.CodeClassifier(A.conv_encoder(width=4), A.classifier_head(n_classes=2))
    A.train_classifier(model, x, y, steps=40, batch_size=50)
    assert A.accuracy(model, x, y) > 0.95


# ----------------------------------------------------------------- on MNIST
def test_the_autoencoder_reconstructs_test_digits_far_better_than_the_mean_image(mnist_dir):
    """A small autoencoder (width 8), 120 steps on 3,000 training digits: its test MSE
    falls below half the mean image's (the experiment's full one reaches about a
    sixth)."""
    train_x, _ = data.mnist("train")
    test_x, _ = data.mnist("test")
    minigan.manual_seed(0)
    ae = A.Autoencoder(width=8, mean_pixel=float(train_x[:3000].mean()))
    ae, history = A.train_autoencoder(train_x[:3000], steps=120, seed=0, ae=ae)
    mse = A.reconstruction_mse(ae, test_x[:1000]).mean()
    baseline = A.mean_image_mse(train_x, test_x[:1000]).mean()
    assert 0.2 < baseline < 0.3                  # MNIST's spread about its mean image
    assert mse < 0.5 * baseline, (mse, baseline)
    assert np.mean(history[-10:]) < 0.5 * history[0]


def test_the_experiment_writes_its_numbers_and_figures_and_caches_the_autoencoder(
        mnist_dir, tmp_path, monkeypatch):
    from minigan.__main__ import main
    monkeypatch.setenv("MINIGAN_MODELS", str(tmp_path / "models"))
    args = ["run", "autoencoder", "--quick", "--no-progress", "--steps", "20",
            "--set", "clf_steps=4", "--set", "test_images=200", "--set", "labels=100"]
    out = tmp_path / "out"
    assert main(args + ["--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    ae, clf = m["autoencoder"], m["classifier"]
    assert ae["source"].startswith("trained now (20 steps")
    assert (tmp_path / "models" / "autoencoder-20-seed0.npz").exists()
    assert 0 < ae["test_mse"] and 0.2 < ae["mean_image_mse"] < 0.3
    assert clf["labels"] == 100 and clf["steps"] == 4 and clf["test_images"] == 200
    assert set(clf["variants"]) == {"from scratch", "encoder fine-tuned", "encoder frozen"}
    for v in clf["variants"].values():
        assert len(v["per_seed"]) == 1 and 0 <= v["test_accuracy_mean"] <= 1
    for name in ("autoencoder_reconstructions.png", "autoencoder_classifiers.png"):
        assert (out / name).stat().st_size > 10_000
    again = tmp_path / "again"
    assert main(args + ["--out", str(again)]) == 0
    m2 = json.loads((again / "metrics.json").read_text())
    assert m2["autoencoder"]["source"].endswith("autoencoder-20-seed0.npz")
    assert m2["autoencoder"]["test_mse"] == ae["test_mse"]


@pytest.mark.parametrize("option, message", [("labels=605", "multiple of 10"),
                                             ("seeds=0", "must be >= 1"),
                                             ("width=3", "has no option width")])
def test_bad_options_are_refused_before_anything_trains(tmp_path, monkeypatch, capsys,
                                                        option, message):
    from minigan.__main__ import main
    monkeypatch.setenv("MINIGAN_MODELS", str(tmp_path / "models"))
    assert main(["run", "autoencoder", "--quick", "--set", option,
                 "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "models").exists()


def _stop_at(n):
    def stop(trainer, step):
        if step == n:
            trainer.request_stop()
    return stop


def test_the_autoencoder_and_the_classifiers_resume_exactly_after_a_stop(tmp_path):
    """The lesson's trainings run on the library's runner: stopped (as by Ctrl-C) and
    resumed, they end where an uninterrupted training ends, bit for bit."""
    rng = np.random.default_rng(0)
    x = np.tanh(rng.standard_normal((40, 1, 28, 28))).astype(np.float32)
    y = np.arange(40) % 10
    whole, h_whole = A.train_autoencoder(x, steps=6, batch_size=16, seed=1)
    run = {"out_dir": str(tmp_path / "ae"), "callbacks": [_stop_at(3)]}
    A.train_autoencoder(x, steps=6, batch_size=16, seed=1, runner=run)
    part, h_part = A.train_autoencoder(x, steps=6, batch_size=16, seed=1,
                                       runner={"out_dir": str(tmp_path / "ae")}, resume=True)
    assert h_part == h_whole
    for p, q in zip(whole.parameters(), part.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())

    def fresh():
        minigan.manual_seed(3)
        return A.CodeClassifier(A.conv_encoder(), A.classifier_head())
    for frozen in (False, True):
        out = str(tmp_path / f"clf{frozen}")
        m1, h1 = A.train_classifier(fresh(), x, y, steps=5, batch_size=8, seed=2,
                                    freeze_encoder=frozen)
        A.train_classifier(fresh(), x, y, steps=5, batch_size=8, seed=2, freeze_encoder=frozen,
                           runner={"out_dir": out, "callbacks": [_stop_at(2)]})
        m2, h2 = A.train_classifier(fresh(), x, y, steps=5, batch_size=8, seed=2,
                                    freeze_encoder=frozen, runner={"out_dir": out}, resume=True)
        assert h1 == h2
        for p, q in zip(m1.parameters(), m2.parameters()):
            np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_the_batches_resume_where_they_stopped():
    from minigan.supervised import IndexBatches
    a = IndexBatches(10, 4, seed=5, take=lambda idx: idx)
    seen = [a(4).tolist() for _ in range(7)]          # 2 batches a pass, then a reshuffle
    b = IndexBatches(10, 4, seed=5, take=lambda idx: idx)
    b.load_state_dict({"position": 4})
    assert [b(4).tolist() for _ in range(3)] == seen[4:]
    assert len(set(seen[0]) | set(seen[1])) == 8       # one pass: no index twice

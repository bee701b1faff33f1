"""The image GANs: the lecture's models exactly, the conditional Trainer path, the
evaluator and its numbers, and a short DCGAN run that the numbers see improving."""
import re

import numpy as np
import pytest

import minigan
from minigan import nn, optim
from minigan import data
from minigan.eval import evaluate
from minigan.gan import models
from minigan.gan.runner import Trainer


def _docstring_table(fn):
    """(layer, output shape, params) rows and the total from a model's docstring summary."""
    rows = re.findall(r"(\d+) \((\w+)\)\s+(\(None[^)]*\))\s+([\d,]+)", fn.__doc__)
    total = re.search(r"Total params: ([\d,]+)", fn.__doc__).group(1)
    return rows, total


@pytest.mark.parametrize("fn, shape", [(models.keras_mlp_generator, (100,)),
                                       (models.keras_mlp_discriminator, (784,)),
                                       (models.dcgan_generator, (100,)),
                                       (models.dcgan_discriminator, (1, 28, 28))])
def test_each_models_docstring_summary_is_its_real_summary(fn, shape):
    text = fn().summary(input_shape=shape, print_fn=None)
    rows, total = _docstring_table(fn)
    assert rows and f"Total params: {total}" in text
    for index, kind, out, params in rows:
        assert re.search(rf"{index} \({kind}\)\s+{re.escape(out)}\s+{params}\b", text), \
            (index, kind, out, params)


def test_the_keras_mlp_gan_is_the_lectures():
    G, D = models.keras_mlp_generator(), models.keras_mlp_discriminator()
    count = lambda m: sum(p.size for p in m.parameters())      # noqa: E731
    assert (count(G), count(D)) == (1_486_352, 1_460_225)
    for m in (G, D):
        for layer in m:
            if isinstance(layer, nn.Dense):                     # glorot-uniform, zero bias
                fan_in, fan_out = layer.in_features, layer.out_features
                a = np.sqrt(6 / (fan_in + fan_out))
                w = layer.weight.numpy()
                assert np.abs(w).max() <= a and np.abs(w).max() > 0.95 * a
                assert not layer.bias.numpy().any()
    drops = [l for l in D if isinstance(l, nn.Dropout)]
    assert [d.p for d in drops] == [0.3, 0.3, 0.3]
    assert [l.negative_slope for l in D if isinstance(l, nn.LeakyReLU)] == [0.2] * 3
    z = minigan.tensor(np.random.default_rng(0).standard_normal((5, 100)).astype(np.float32))
    x = G(z)
    assert x.shape == (5, 784) and np.abs(x.numpy()).max() <= 1.0
    assert D(x).shape == (5, 1)


def test_dcgan_discriminator_has_the_lectures_two_convolutions_and_plus_three():
    count = lambda m: sum(p.size for p in m.parameters())      # noqa: E731
    D3, D2 = models.dcgan_discriminator(depth=3), models.dcgan_discriminator()
    assert (count(D3), count(D2)) == (432_321, 138_817)
    assert [l.stride for l in D3 if isinstance(l, nn.Conv2d)] == [(2, 2)] * 3
    x = minigan.tensor(np.zeros((2, 1, 28, 28), np.float32))
    assert D3(x).shape == D2(x).shape == (2, 1)
    convs = [l for l in models.ConditionalDiscriminator().net if isinstance(l, nn.Conv2d)]
    assert len(convs) == 2 and convs[0].in_channels == 11
    with pytest.raises(ValueError, match="depth must be 2 or 3"):
        models.dcgan_discriminator(depth=4)


def test_dcgan_starts_from_the_papers_init():
    G, D = models.dcgan_generator(), models.dcgan_discriminator()
    for m in (G, D):
        for layer in m.modules():
            if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Dense)):
                assert abs(layer.weight.numpy().std() - 0.02) < 0.004
    z = minigan.tensor(np.random.default_rng(0).standard_normal((3, 100)).astype(np.float32))
    x = G(z)
    assert x.shape == (3, 1, 28, 28) and np.abs(x.numpy()).max() <= 1.0
    assert D(x).shape == (3, 1)


def test_one_hot_refuses_bad_labels():
    with pytest.raises(ValueError, match=r"labels must be in 0\.\.9, got values from 0 to 10"):
        models.one_hot(minigan.tensor(np.array([0, 10])))
    with pytest.raises(ValueError, match="integer class labels"):
        models.one_hot(minigan.tensor([0.0, 1.0]))


class Spy(nn.Module):
    """Wraps a model and records the labels it is called with."""

    def __init__(self, net):
        super().__init__()
        self.net, self.calls = net, []

    def forward(self, x, y):
        self.calls.append((x.shape[0], y.numpy().copy()))
        return self.net(x, y)


def test_conditional_trainer_feeds_real_labels_to_d_and_sampled_classes_to_g():
    # a tiny labelled data set: image i is filled with the value of its label / 10
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 40)
    imgs = np.repeat((labels / 10.0).astype(np.float32), 784).reshape(40, 1, 28, 28)
    minigan.manual_seed(0)
    G, D = Spy(models.ConditionalGenerator(width=8)), Spy(models.ConditionalDiscriminator(width=8))
    seen_real = []
    real = data.sampler((imgs, labels))

    def sample_real(m):
        x, y = real(m)
        seen_real.append((x.numpy()[:, 0, 0, 0], y.numpy()))
        return x, y
    noise = data.labelled_noise_sampler("cpu", 100, 10)
    tr = Trainer(G, D, optim.Adam(G.parameters(), lr=1e-3), optim.Adam(D.parameters(), lr=1e-3),
                 sample_real, noise, batch_size=8, progress=False)
    tr.fit(2)
    x0, y0 = seen_real[0]
    np.testing.assert_allclose(x0, y0 / 10.0, rtol=1e-6)       # the pairs stay together
    # per step: D on the real batch (its own labels), G on sampled classes, D on those
    # fakes with the same classes, then G's step: G and D again with fresh classes
    assert [n for n, _ in D.calls] == [8, 8, 8, 8, 8, 8]
    np.testing.assert_array_equal(D.calls[0][1], y0)
    np.testing.assert_array_equal(D.calls[1][1], G.calls[0][1])   # fakes judged as asked
    np.testing.assert_array_equal(D.calls[2][1], G.calls[1][1])
    assert not np.array_equal(G.calls[0][1], G.calls[1][1])      # classes are sampled
    assert all(0 <= c <= 9 for _, ys in G.calls for c in ys)


# ------------------------------------------------------------ the evaluator
@pytest.fixture(scope="module")
def classifier():
    return evaluate.load_classifier()


def test_shipped_weights_are_checked(tmp_path, classifier):
    bad = tmp_path / "clf.npz"
    bad.write_bytes(open(evaluate.WEIGHTS, "rb").read()[:-10] + b"0123456789")
    with pytest.raises(ValueError, match="SHA-256 .* expected " + evaluate.WEIGHTS_SHA256):
        evaluate.load_classifier(bad, sha256=evaluate.WEIGHTS_SHA256)
    with pytest.raises(FileNotFoundError, match="python -m minigan run mnist-classifier"):
        evaluate.load_classifier(tmp_path / "missing.npz")


def test_real_test_images_score_high_and_one_repeated_image_scores_one(mnist_dir, classifier):
    x, y = data.mnist("test")
    probs, feats = evaluate.classify(classifier, x)
    assert (probs.argmax(1) == y).mean() >= 0.99
    from minigan.eval import metrics
    assert metrics.inception_score(probs)[0] >= 9.7
    repeated = np.repeat(x[:1], 1000, axis=0)
    assert metrics.inception_score(evaluate.classify(classifier, repeated)[0])[0] < 1.001
    assert metrics.frechet_distance(feats[:2000], feats[:2000]) < 1e-6


def test_the_second_judge_is_another_network_shipped_and_checked_the_same_way(mnist_dir,
                                                                              classifier):
    judge2 = evaluate.load_classifier(judge="mlp")
    assert type(judge2) is models.MnistMLPClassifier
    assert not any(isinstance(m, nn.Conv2d) for m in judge2.modules())
    network, path, sha = evaluate.JUDGES["mlp"]
    assert minigan.serialization.sha256_of(path) == sha
    with pytest.raises(ValueError, match="judge must be one of cnn, mlp"):
        evaluate.load_classifier(judge="vit")
    x, y = data.mnist("test")
    probs, feats = evaluate.classify(judge2, x)
    assert feats.shape == (len(x), 128)
    assert (probs.argmax(1) == y).mean() >= 0.975
    # the second opinion of the test images on themselves: the judge's own real IS, a
    # Frechet distance near zero
    report = evaluate.second_opinion(np.round((x[:, 0] + 1) * 127.5).astype(np.uint8), judge2)
    assert report["judge2_inception_score"] == pytest.approx(
        report["judge2_inception_score_real_test"], rel=0.02)
    assert report["judge2_frechet_distance"] < 0.5


@pytest.mark.slow
def test_a_few_hundred_dcgan_steps_lower_the_frechet_distance(mnist_dir, classifier):
    from minigan.experiments import image_gans as lab
    from minigan.eval import metrics
    train_x, train_y = data.mnist("train")
    test_f = evaluate.classify(classifier, data.mnist("test")[0][:2000])[1]
    tr = lab.make_trainer(lab.RECIPES["dcgan"], train_x, train_y, seed=0)
    z = minigan.tensor(np.random.default_rng(1).standard_normal((2000, 100)).astype(np.float32))

    def fd():
        return metrics.frechet_distance(evaluate.classify(classifier, lab.generate(tr.G, z))[1],
                                        test_f)
    before = fd()
    tr.fit(200)
    after = fd()
    assert after < 0.5 * before, (before, after)


def test_a_checkpoint_of_another_architecture_lists_the_mismatched_entries(mnist_dir, tmp_path,
                                                                          capsys):
    from minigan.__main__ import main
    from minigan.experiments import image_gans as lab
    x, y = data.mnist("train")
    tr = lab.make_trainer(lab.RECIPES["mnist-mlp"], x[:256], y[:256])
    tr.fit(1)
    tr.save_checkpoint(tmp_path / "checkpoints" / "dcgan" / "checkpoint.npz")
    assert main(["run", "dcgan", "--steps", "5", "--resume", "--no-progress",
                 "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "does not fit the run 'dcgan'" in err
    assert "0.weight: checkpoint has shape (256, 100)" in err          # entry by entry
    assert "missing keys" in err and "4.weight" in err


def test_samples_saved_class_by_class_still_score_in_random_splits(mnist_dir, classifier):
    # the conditional run saves its samples digit by digit; the Inception Score's ten
    # splits must still each be a random tenth (in saved order each would hold one
    # digit and score about 1)
    x, y = data.mnist("test")
    order = np.argsort(y, kind="stable")
    pixels = np.round((x[order, 0] + 1) * 127.5).astype(np.uint8)
    report = evaluate.evaluate(pixels, requested=y[order], classifier=classifier,
                               nn_samples=50)
    assert report["inception_score"] >= 9.7
    assert report["class_accuracy"] >= 0.99
    assert report["frechet_distance"] < 1e-6 + 0.5          # the test set against itself
    # the test set against itself: every point in its own ball, each ball holding its
    # centre and its 5 nearest neighbours (density 6/5, eval.manifold)
    assert report["precision"] == report["recall"] == report["coverage"] == 1.0
    assert report["density"] == pytest.approx(6 / 5, abs=1e-3) and report["manifold_k"] == 5
    # 10,000 training images against the test images: high, but not 1 (measured: 0.924,
    # 0.928, 0.940, 0.939)
    for key in ("precision", "recall", "density", "coverage"):
        assert 0.85 < report[f"{key}_real_train_vs_test"] < 1.0, key


def test_manifold_scores_catch_a_collapse_that_real_vs_real_does_not_show(mnist_dir, classifier):
    """One digit drawn a thousand times: it looks real (precision 1) but reaches almost
    none of the test set (recall 0, coverage a few balls out of 10,000), while 1,000
    real training images score high on all four."""
    x, _ = data.mnist("train")
    ref = evaluate.reference(id(classifier), classifier)
    _, feats = evaluate.classify(classifier, np.repeat(x[:1], 1000, axis=0))
    out = evaluate.manifold_scores(feats, ref)
    assert out["precision"] == 1.0 and out["recall"] == 0.0 and out["coverage"] < 0.005
    assert 0.8 < out["recall_real_train_vs_test"] < 1 and out["manifold_k"] == 5
    assert 0.8 < out["precision_real_train_vs_test"] < 1
    with pytest.raises(ValueError, match="n must be at most the 10000 training images"):
        evaluate.manifold_reference(ref, 10_001)


@pytest.mark.slow
def test_a_dcgan_run_with_jacobian_truncation_scores_the_kept_samples(mnist_dir, tmp_path,
                                                                      monkeypatch):
    import json
    from dataclasses import replace
    from minigan.__main__ import main
    from minigan.experiments import image_gans as lab
    assert lab.RECIPES["dcgan-plus"].jacobian_keep == 0.4
    assert lab.RECIPES["dcgan-plus"].jacobian_clusters == 100
    monkeypatch.setattr(evaluate, "N_SAMPLES", 1000)       # seconds, not minutes
    out = tmp_path / "o"
    assert main(["run", "dcgan-plus", "--steps", "4", "--no-progress", "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["jacobian_keep"] == 0.4 and m["jacobian_threshold"] > 0
    assert m["jacobian_clusters"] == 100 and m["jacobian_pool"] == 2500
    assert "inception_score_untruncated" in m and "frechet_distance_untruncated" in m
    assert 0 < m["train_seconds"] < m["wall_time_s"]          # the trainer's own clock
    assert m["seconds_per_step"] == m["train_seconds"] / 4
    samples = np.load(out / "samples.npy")
    assert samples.shape == (1000, 28, 28) and samples.dtype == np.uint8
    assert (out / "dcgan-plus_jacobian.png").exists()
    # each improvement scored by both judges; the truncation's kept samples are the
    # run's headline, its untruncated samples the averaged stage
    stages = m["improvements"]
    assert [s["samples"] for s in stages] == ["all", "all", "kept 40%"]
    assert stages[1]["inception_score"] == m["inception_score_untruncated"]
    assert stages[2]["inception_score"] == m["inception_score"]
    assert stages[0]["inception_score"] == m["inception_score_own_weights"]
    assert stages[2]["judge2_inception_score"] == m["judge2_inception_score"]
    assert all(1 <= s["judge2_inception_score"] <= 10 and s["judge2_frechet_distance"] > 0
               for s in stages)
    assert (out / "dcgan-plus_improvements.png").exists()
    with pytest.raises(ValueError, match="unconditional"):
        replace(lab.RECIPES["cgan"], jacobian_keep=0.8)
    with pytest.raises(ValueError, match="jacobian_keep is None"):
        replace(lab.RECIPES["mnist-mlp"], jacobian_clusters=10)


def test_generate_draws_in_eval_mode_and_leaves_g_as_it_was():
    from minigan.experiments.image_gans import generate
    G = models.dcgan_generator(width=4)
    z = minigan.tensor(np.random.default_rng(0).standard_normal((3, 100)).astype("float32"))
    for mode in (True, False):
        G.train(mode)
        pixels = generate(G, z)
        assert all(m.training == mode for m in G.modules())
        # each sample on its own (running statistics): the same as drawing it alone
        np.testing.assert_array_equal(pixels[1:2], generate(G, z[1:2]))


def test_rescore_adds_the_second_judges_scores_and_prdc_to_a_finished_run(mnist_dir, tmp_path):
    import json
    from minigan.experiments import rescore
    x, y = data.mnist("test")
    pixels = np.round((x[:, 0] + 1) * 127.5).astype(np.uint8)
    np.save(tmp_path / "samples.npy", pixels)
    np.save(tmp_path / "labels.npy", y)
    (tmp_path / "metrics.json").write_text(json.dumps({"inception_score": 1.5}))
    assert rescore.main([str(tmp_path)]) == 0
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert m["inception_score"] == 1.5 and m["judge2_rescored"] is True
    assert m["judge2_class_accuracy"] >= 0.97              # real digits, their own labels
    assert m["judge2_frechet_distance"] < 0.5               # the test images against themselves
    assert 8.0 < m["judge2_inception_score"] <= 10
    # and precision, recall, density and coverage: the test images against themselves
    assert m["manifold_rescored"] is True and m["manifold_k"] == 5
    assert m["precision"] == m["recall"] == m["coverage"] == 1.0
    assert 0.85 < m["coverage_real_train_vs_test"] < 1.0
    # a second time nothing is missing, and the file stays as it was, byte for byte
    before = (tmp_path / "metrics.json").read_bytes()
    assert rescore.rescore(tmp_path) == {}
    assert (tmp_path / "metrics.json").read_bytes() == before
    # and the runs drawn by precision against recall
    assert rescore.main(["--figure", str(tmp_path / "pr.png"), str(tmp_path)]) == 0
    assert (tmp_path / "pr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_real_images_reference_is_never_another_judges(mnist_dir):
    """evaluate.reference is keyed by id(classifier), and a freed classifier's id is
    given to the next object made: the rescore of a run once compared the main
    judge's features of its samples with the second judge's of the test digits
    (precision 0 for the test digits against themselves). The entry keeps its
    classifier alive, and a key found with another classifier is computed again."""
    from minigan.eval import evaluate
    main, mlp = evaluate.load_classifier(), evaluate.load_classifier(judge="mlp")
    key = ("the same key for both", )
    a = evaluate.reference(key, main)
    assert a["classifier"] is main
    b = evaluate.reference(key, mlp)                   # as if mlp had been given main's id
    assert b["classifier"] is mlp
    np.testing.assert_array_equal(b["test_features"], evaluate.classify(mlp, b["test_images"])[1])
    assert evaluate.reference(key, mlp) is b           # computed once per classifier

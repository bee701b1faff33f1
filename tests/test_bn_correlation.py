"""bn-correlation: batch norm in G ties a batch together, virtual batch norm does not;
and the trained-model finder the lecture experiments share."""
import json

import numpy as np
import pytest

import minigan
from minigan.experiments import RunConfig, bn_correlation as lab, trained
from minigan.gan import models
from minigan.serialization import save


def test_the_intra_batch_correlation_finds_a_shared_component_and_only_that():
    rng = np.random.default_rng(0)
    independent = rng.standard_normal((400, 50))
    assert abs(lab.intra_batch_correlation(independent, 8)) < 0.02
    shared = np.repeat(rng.standard_normal((50, 50)), 8, axis=0)       # s^2 = 1 per batch
    mixed = independent + shared * np.sqrt(1 / 3)                       # e^2 = 1, s^2 = 1/3
    assert abs(lab.intra_batch_correlation(mixed, 8) - 0.25) < 0.04


@pytest.fixture
def model_cache(tmp_path, monkeypatch):
    """An untrained DCGAN in a model cache of its own (the experiment only needs weights),
    its running statistics those of a large batch, as after training."""
    monkeypatch.setenv("MINIGAN_MODELS", str(tmp_path / "models"))
    minigan.manual_seed(0)
    G, D = models.dcgan_generator(), models.dcgan_discriminator(depth=3)   # dcgan-plus's
    for layer in (G[2], G[5]):
        layer.momentum = 1.0
    with minigan.no_grad():
        G(minigan.tensor(np.random.default_rng(2).standard_normal((512, 100)).astype(np.float32)))
    (tmp_path / "models").mkdir()
    save({"generator": G.state_dict(), "discriminator": D.state_dict()},
         tmp_path / "models" / "dcgan-plus.npz")
    return tmp_path


def test_the_experiment_shows_batch_norm_depends_on_batch_mates_and_virtual_does_not(
        model_cache):
    from minigan.__main__ import main
    out = model_cache / "out"
    assert main(["run", "bn-correlation", "--quick", "--no-progress", "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    bn, vbn = m["variants"]["batch norm (batch statistics)"], m["variants"]["virtual batch norm"]
    assert bn["max_change_of_one_sample"] > 1e-3
    assert vbn["max_change_of_one_sample"] < 1e-6
    assert bn["intra_batch_correlation"] > vbn["intra_batch_correlation"] + 0.05
    assert m["model"].endswith("dcgan-plus.npz") and m["gan"] == "dcgan-plus"
    for name in ("bn_correlation_batches.png", "bn_correlation_same_code.png"):
        assert (out / name).stat().st_size > 10_000


def test_a_lesson_can_be_pointed_at_the_plain_dcgan(model_cache, capsys):
    """--set gan=dcgan: the lesson loads the plain DCGAN (two-convolution D), says so in
    its output and its metrics; the dcgan-plus model beside it is not touched."""
    from minigan.__main__ import main
    minigan.manual_seed(1)
    G, D = models.dcgan_generator(), models.dcgan_discriminator()
    save({"generator": G.state_dict(), "discriminator": D.state_dict()},
         model_cache / "models" / "dcgan.npz")
    out = model_cache / "plain"
    assert main(["run", "bn-correlation", "--quick", "--no-progress", "--out", str(out),
                 "--set", "gan=dcgan"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["gan"] == "dcgan" and m["model"].endswith("dcgan.npz")
    assert f"the trained dcgan from {model_cache / 'models' / 'dcgan.npz'}" in \
        capsys.readouterr().out


def test_a_virtual_copy_keeps_the_weights_and_draws_each_sample_alone():
    rng = np.random.default_rng(1)
    minigan.manual_seed(0)
    G = models.dcgan_generator(width=8)
    V = models.with_reference_batch(G, rng.standard_normal((16, 100)).astype(np.float32))
    np.testing.assert_array_equal(V.net[4].weight.numpy(), G[4].weight.numpy())
    z = minigan.tensor(rng.standard_normal((5, 100)).astype(np.float32))
    np.testing.assert_allclose(V(z).numpy()[3], V(z[3:4]).numpy()[0], atol=1e-6)
    with pytest.raises(ValueError, match="norm must be one of batch, virtual, reference"):
        models.dcgan_generator(norm="layer")


def test_a_missing_model_names_the_command_that_makes_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_MODELS", str(tmp_path / "empty"))
    monkeypatch.chdir(tmp_path)
    cfg = RunConfig("invert", out=tmp_path / "out")
    with pytest.raises(trained.MissingModel, match=r"python -m minigan run dcgan --out runs/dcgan"):
        trained.load_gan(cfg, "dcgan", train=False)
    cfg.data_dir = str(tmp_path / "no-mnist-here")
    with pytest.raises(trained.MissingModel, match=r"without MNIST.*python -m minigan run cgan"):
        trained.load_gan(cfg, "cgan")


def test_a_model_file_of_another_architecture_is_refused(model_cache):
    save({"generator": {"0.weight": np.zeros((3, 3))}, "discriminator": {}},
         model_cache / "models" / "dcgan-plus.npz")
    cfg = RunConfig("invert", out=model_cache / "out")
    with pytest.raises(ValueError, match="does not hold a dcgan-plus of minigan's architecture"):
        trained.load_gan(cfg, "dcgan-plus", train=False)


def test_with_no_model_anywhere_one_is_trained_cached_and_then_reused(mnist_dir, tmp_path,
                                                                     monkeypatch, capsys):
    """The 'train if absent' path, shortened to 3 steps: trained with a progress bar,
    cached as dcgan-quick.npz, found there by the next --quick run; a full run does not
    take that quick model for a trained one (not from the cache, nor from --out)."""
    monkeypatch.setenv("MINIGAN_MODELS", str(tmp_path / "models"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(trained.FALLBACK, "dcgan", (5, 3))
    cfg = RunConfig("latent-walk", out=tmp_path / "out", quick=True, data_dir=str(mnist_dir))
    G, D, source = trained.load_gan(cfg, "dcgan")
    cached = tmp_path / "models" / "dcgan-quick.npz"
    assert source.startswith("trained now (3 steps)") and cached.exists()
    err = capsys.readouterr().err
    assert "dcgan (for latent-walk)" in err and "3/3" in err         # the progress bar
    assert not G.training
    G2, _, again = trained.load_gan(cfg, "dcgan", train=False)
    assert again == str(cached)
    np.testing.assert_array_equal(G2[0].weight.numpy(), G[0].weight.numpy())
    full = RunConfig("latent-walk", out=tmp_path / "out", data_dir=str(mnist_dir))
    with pytest.raises(trained.MissingModel):
        trained.load_gan(full, "dcgan", train=False)


def test_a_run_checkpoint_gives_the_lessons_the_averaged_g_its_run_scored(model_cache):
    """A full dcgan run keeps G's weight average in its checkpoint; the lessons get that
    G (the averaged weights, batch norm's statistics recomputed from the run's seed and
    batch size), the one that drew the run's scored samples, not G's last weights."""
    from minigan.experiments.image_gans import RECIPES, bn_batches
    from minigan.gan.tricks.averaging import WeightAverage
    minigan.manual_seed(0)
    G, D = models.dcgan_generator(), models.dcgan_discriminator(depth=3)
    average = WeightAverage(G, 0.999)
    rng = np.random.default_rng(3)
    average.average = [a + 0.01 * rng.standard_normal(a.shape).astype(a.dtype)
                       for a in average.average]
    run = model_cache / "out" / "checkpoints" / "dcgan-plus"
    run.mkdir(parents=True)
    save({"generator": G.state_dict(), "discriminator": D.state_dict(),
          "callbacks": {"0": average.state_dict()},
          "config": json.dumps({"seed": 5, "batch_size": 32})}, run / "checkpoint.npz")
    A, _, source = trained.load_gan(RunConfig("latent-walk", out=model_cache / "out"),
                                    "dcgan-plus", train=False)
    assert source == f"{run / 'checkpoint.npz'} (G's weights averaged over training)"
    assert not A.training
    for p, avg in zip(A.parameters(), average.average):
        np.testing.assert_array_equal(p.numpy(), avg)
    scored = average.averaged_model(bn_batches(RECIPES["dcgan-plus"], None, 5, "cpu"))
    z = minigan.tensor(rng.standard_normal((4, 100)).astype(np.float32))
    np.testing.assert_array_equal(A(z).numpy(), scored(z).numpy())

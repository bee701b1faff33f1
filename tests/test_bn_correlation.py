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


def plain_run(folder, seed=1):
    """An untrained plain DCGAN saved as a run's checkpoint, at RUN/checkpoints/dcgan/."""
    minigan.manual_seed(seed)
    G, D = models.dcgan_generator(), models.dcgan_discriminator()       # two convolutions
    run = folder / "checkpoints" / "dcgan"
    run.mkdir(parents=True)
    save({"generator": G.state_dict(), "discriminator": D.state_dict()}, run / "checkpoint.npz")
    return G, run / "checkpoint.npz"


def test_the_experiment_shows_batch_norm_depends_on_batch_mates_and_virtual_does_not(
        tmp_path, capsys):
    from minigan.__main__ import main
    out = tmp_path / "out"
    assert main(["run", "bn-correlation", "--quick", "--no-progress", "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    bn, vbn = m["variants"]["batch norm (batch statistics)"], m["variants"]["virtual batch norm"]
    assert bn["max_change_of_one_sample"] > 1e-3
    assert vbn["max_change_of_one_sample"] < 1e-6
    assert bn["intra_batch_correlation"] > vbn["intra_batch_correlation"] + 0.02
    assert [c["held"] for c in m["claims"]] == [True]
    assert "ships with minigan" in m["model"] and "ships with minigan" in capsys.readouterr().out
    for name in ("bn_correlation_batches.png", "bn_correlation_same_code.png"):
        assert (out / name).stat().st_size > 10_000


def test_the_claim_fails_when_virtual_batch_norm_would_leak_the_batch():
    out = {"batch norm (batch statistics)": {"max_change_of_one_sample": 0.8},
           "virtual batch norm": {"max_change_of_one_sample": 0.01}}
    assert [c.held for c in lab.bn_claims(out)] == [False]
    out["virtual batch norm"]["max_change_of_one_sample"] = 0.0
    assert [c.held for c in lab.bn_claims(out)] == [True]


def test_a_lesson_can_be_pointed_at_the_plain_dcgan_and_never_picks_up_a_stray_one(
        tmp_path, monkeypatch, capsys):
    """--model runs/dcgan: the lesson loads that run's G, says so in its output and its
    metrics. Without --model, a runs/dcgan lying in the working folder is not used."""
    from minigan.__main__ import main
    monkeypatch.chdir(tmp_path)
    G, path = plain_run(tmp_path / "runs" / "dcgan")
    out = tmp_path / "plain"
    assert main(["run", "bn-correlation", "--quick", "--no-progress", "--out", str(out),
                 "--model", "runs/dcgan"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["model"] == "the trained dcgan of runs/dcgan/checkpoints/dcgan/checkpoint.npz"
    assert m["config"]["model"] == "runs/dcgan"
    assert "G is the trained dcgan of runs/dcgan" in capsys.readouterr().out
    assert main(["run", "bn-correlation", "--quick", "--no-progress", "--out",
                 str(tmp_path / "default")]) == 0
    m = json.loads((tmp_path / "default" / "metrics.json").read_text())
    assert "ships with minigan" in m["model"]


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


def test_a_model_that_cannot_be_read_is_refused_by_name(tmp_path):
    cfg = RunConfig("invert", out=tmp_path / "out", model=str(tmp_path / "missing"))
    with pytest.raises(trained.MissingModel, match="no such file or folder"):
        trained.load_gan(cfg)
    (tmp_path / "empty-run").mkdir()
    cfg.model = str(tmp_path / "empty-run")
    with pytest.raises(trained.MissingModel, match="must hold one trained DCGAN"):
        trained.load_gan(cfg)
    save({"generator": {"0.weight": np.zeros((3, 3))}, "discriminator": {}},
         tmp_path / "odd.npz")
    cfg.model = str(tmp_path / "odd.npz")
    with pytest.raises(trained.MissingModel, match="not a DCGAN of minigan's architecture"):
        trained.load_gan(cfg)
    save({"weights": np.zeros(3)}, tmp_path / "other.npz")
    cfg.model = str(tmp_path / "other.npz")
    with pytest.raises(trained.MissingModel, match="not a trained DCGAN"):
        trained.load_gan(cfg)


def test_the_shipped_dcgan_is_checked_and_a_changed_copy_refused(tmp_path):
    from minigan.gan import pretrained
    G, D = pretrained.load_dcgan()
    assert not G.training and len(D) > 0
    copy = tmp_path / "copy.npz"
    data = bytearray(open(pretrained.WEIGHTS, "rb").read())
    data[-100] ^= 1
    copy.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="not the ones minigan ships"):
        pretrained.load_dcgan(copy, sha256=pretrained.WEIGHTS_SHA256)
    with pytest.raises(FileNotFoundError, match="python -m minigan.experiments.trained --ship"):
        pretrained.load_dcgan(tmp_path / "none.npz")


def test_shipping_writes_the_file_the_lessons_load(tmp_path):
    """--ship: a run's checkpoint becomes a file load_dcgan reads, with the same G."""
    from minigan.gan import pretrained
    G, _ = plain_run(tmp_path / "run")
    dest, sha = trained.ship(tmp_path / "run", tmp_path / "shipped.npz")
    G2, D2 = pretrained.load_dcgan(dest, sha256=sha)
    z = minigan.tensor(np.random.default_rng(0).standard_normal((3, 100)).astype(np.float32))
    np.testing.assert_array_equal(G2(z).numpy(), G.eval()(z).numpy())
    assert len(D2) == len(models.dcgan_discriminator())


def test_a_run_checkpoint_gives_the_lessons_the_averaged_g_its_run_scored(tmp_path):
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
    run = tmp_path / "out" / "checkpoints" / "dcgan-plus"
    run.mkdir(parents=True)
    save({"generator": G.state_dict(), "discriminator": D.state_dict(),
          "callbacks": {"0": average.state_dict()},
          "config": json.dumps({"seed": 5, "batch_size": 32})}, run / "checkpoint.npz")
    A, _, source = trained.load_gan(RunConfig("latent-walk", out=tmp_path / "o",
                                              model=str(tmp_path / "out")))
    assert source == (f"the trained dcgan-plus of {run / 'checkpoint.npz'} (G's weights "
                      f"averaged over training)")
    assert not A.training
    for p, avg in zip(A.parameters(), average.average):
        np.testing.assert_array_equal(p.numpy(), avg)
    scored = average.averaged_model(bn_batches(RECIPES["dcgan-plus"], None, 5, "cpu"))
    z = minigan.tensor(rng.standard_normal((4, 100)).astype(np.float32))
    np.testing.assert_array_equal(A(z).numpy(), scored(z).numpy())

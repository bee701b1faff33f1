"""Stacked MNIST: the data, the mode count (on stacks whose modes are known), packing of
images, the unrolled GAN's look-ahead through a convolutional D, and the experiment
``stacked-mnist`` (its rows, its errors, its --quick run)."""
import json
import math

import numpy as np
import pytest

import minigan
from minigan import data, nn
from minigan.data import stacked as S
from minigan.eval import evaluate
from minigan.eval import stacked as count
from minigan.gan import models
from minigan.tensor import Tensor


# ------------------------------------------------------------------ data
def test_stacked_mnist_shapes_range_and_labels(mnist_dir):
    x, y = S.stacked_mnist(500, "test", seed=3)
    assert x.shape == (500, 3, 28, 28) and x.dtype == np.float32
    assert y.shape == (500, 3) and y.dtype == np.int64
    assert x.min() == -1.0 and x.max() == 1.0
    # each channel is the MNIST image its index row names, and its label is that image's
    images, labels = data.mnist("test")
    idx = S.stacked_indices(500, len(images), seed=3)
    assert np.array_equal(x[7, 2], images[idx[7, 2], 0])
    assert np.array_equal(y, labels[idx])
    # the channels are drawn independently: every digit in every channel, about evenly
    for c in range(3):
        share = np.bincount(y[:, c], minlength=10) / 500
        assert share.min() > 0.04 and share.max() < 0.17


def test_stacked_mnist_is_seeded(mnist_dir):
    a, ya = S.stacked_mnist(50, "test", seed=1)
    b, yb = S.stacked_mnist(50, "test", seed=1)
    c, _ = S.stacked_mnist(50, "test", seed=2)
    assert np.array_equal(a, b) and np.array_equal(ya, yb)
    assert not np.array_equal(a, c)


def test_stacked_bad_input_is_refused():
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        S.stacked_mnist(5, "validation")
    with pytest.raises(ValueError, match="n must be a whole number"):
        S.stacked_indices(-1, 10)
    with pytest.raises(ValueError, match=r"index rows of shape \(n, 3\)"):
        S.stack(np.zeros((4, 1, 2, 2)), np.zeros((3, 2), int))


def test_stacked_sampler_walks_a_fixed_set_and_resumes(mnist_dir):
    images, _ = data.mnist("test")
    minigan.manual_seed(0)
    s = S.StackedSampler(images, 20, seed=4)       # 6 + 6 within one epoch
    first = s(6).numpy()
    assert first.shape == (6, 3, 28, 28)
    state = s.state_dict()
    nxt = s(6).numpy()
    s.load_state_dict(state)
    assert np.array_equal(s(6).numpy(), nxt)
    # only the 20 stacks of the set ever appear
    pool = {S.stack(images, S.stacked_indices(20, len(images), 4))[i].tobytes()
            for i in range(20)}
    assert {img.tobytes() for img in np.concatenate([first, nxt])} <= pool


# ------------------------------------------------------------ counting
def test_modes_and_kl_by_hand():
    assert count.modes_of([[1, 2, 3], [0, 0, 7], [9, 9, 9]]).tolist() == [123, 7, 999]
    one = np.zeros(1000, int)
    one[5] = 40
    s = count.mode_scores(one)
    assert s["modes"] == 1 and s["kl"] == pytest.approx(math.log(1000))   # all on one mode
    flat = count.mode_scores(np.full(1000, 26))
    assert flat["modes"] == 1000 and flat["kl"] == pytest.approx(0.0, abs=1e-12)
    half = np.zeros(1000, int)
    half[:500] = 2                                    # p = 1/500 on half the modes: ln 2
    assert count.mode_scores(half)["kl"] == pytest.approx(math.log(2))
    with pytest.raises(ValueError, match="digits must be in 0..9"):
        count.modes_of([[1, 2, 10]])
    with pytest.raises(ValueError, match="empty"):
        count.mode_scores(np.zeros(1000, int))
    with pytest.raises(ValueError, match=r"shape \(1000,\)"):
        count.mode_scores(np.ones(10))


def _read_right(mnist_dir, per_digit):
    """Per digit, test images the evaluator reads as that digit (their label)."""
    images, labels = data.mnist("test")
    judge = evaluate.load_classifier()
    probs, _ = evaluate.classify(judge, images[:3000])
    ok = probs.argmax(1) == labels[:3000]
    return images, {d: np.flatnonzero(ok & (labels[:3000] == d))[:per_digit] for d in range(10)}


def _stacks_of(images, pick, modes, rng):
    """One stack of real digits for each mode in `modes`, each channel an image of its digit."""
    rows = [[rng.choice(pick[m // 100]), rng.choice(pick[m // 10 % 10]), rng.choice(pick[m % 10])]
            for m in modes]
    return S.stack(images, np.array(rows))


def test_counting_a_stack_of_real_digits_with_37_known_modes(mnist_dir):
    images, pick = _read_right(mnist_dir, 20)
    rng = np.random.default_rng(0)
    chosen = rng.choice(1000, 37, replace=False)
    reps = np.arange(1, 38)                            # mode i of the 37 drawn i times
    modes = np.repeat(chosen, reps)
    x = _stacks_of(images, pick, modes, rng)
    s = count.score_stacked(evaluate.load_classifier(), x)
    assert s["modes"] == 37 and s["samples"] == reps.sum()
    assert sorted(np.flatnonzero(s["counts"])) == sorted(chosen)
    p = reps / reps.sum()
    assert s["kl"] == pytest.approx(float((p * np.log(1000 * p)).sum()), rel=1e-9)


def test_every_mode_once_is_uniform_and_a_collapse_is_not(mnist_dir):
    images, pick = _read_right(mnist_dir, 20)
    rng = np.random.default_rng(1)
    judge = evaluate.load_classifier()
    s = count.score_stacked(judge, _stacks_of(images, pick, np.arange(1000), rng))
    assert s["modes"] == 1000 and s["kl"] == pytest.approx(0.0, abs=1e-12)
    same = _stacks_of(images, pick, np.full(50, 418), rng)     # 50 stacks, all (4, 1, 8)
    s = count.score_stacked(judge, Tensor(same))               # a Tensor is accepted too
    assert s["modes"] == 1 and s["counts"][418] == 50
    with pytest.raises(ValueError, match=r"\(N, 3, 28, 28\)"):
        count.score_stacked(judge, images[:4])


# ------------------------------------------------------------- packing
def test_pack_images_stacks_consecutive_samples_as_channels():
    x = Tensor(np.arange(6 * 3 * 2 * 2, dtype=np.float32).reshape(6, 3, 2, 2))
    p = models.pack(x, 2).numpy()
    assert p.shape == (3, 6, 2, 2)
    for i in range(3):
        for j in range(2):              # image 2i + j in channels 3j..3j + 2 of pack i
            assert np.array_equal(p[i, 3 * j:3 * j + 3], x.numpy()[2 * i + j])
    assert models.pack(Tensor(np.zeros((6, 4), np.float32)), 3).shape == (2, 12)   # points


def test_packed_dcgan_discriminator_and_its_errors():
    minigan.manual_seed(0)
    D = models.dcgan_discriminator(3, 8, pack=2)
    assert isinstance(D, models.Packed) and D.net[0].in_channels == 6
    x = Tensor(np.random.default_rng(0).uniform(-1, 1, (4, 3, 28, 28)).astype(np.float32))
    assert np.allclose(D(x).numpy(), D.net(models.pack(x, 2)).numpy())
    assert D(x).shape == (2, 1)
    with pytest.raises(ValueError, match="divisible by 2"):
        D(Tensor(np.zeros((3, 3, 28, 28), np.float32)))
    with pytest.raises(ValueError, match="pack must be a positive integer"):
        models.dcgan_discriminator(3, 8, pack=0)


def test_the_one_channel_dcgan_is_unchanged_and_three_channels_work():
    G = models.dcgan_generator()
    assert sum(p.data.size for p in G.parameters()) == 766_017
    assert sum(p.data.size for p in models.dcgan_discriminator().parameters()) == 138_817
    G3 = models.dcgan_generator(width=8, channels=3)
    assert G3(Tensor(np.zeros((2, 100), np.float32))).shape == (2, 3, 28, 28)
    with pytest.raises(ValueError, match="channels must be a positive integer"):
        models.dcgan_generator(channels=0)


# ------------------------------------------- the unrolled GAN, conv D
def test_forward_with_a_conv_d_is_d_and_leaves_its_statistics_alone():
    from minigan.gan.tricks.unrolled import forward_with
    minigan.manual_seed(0)
    D = models.dcgan_discriminator(3, 8, pack=2)
    x = Tensor(np.random.default_rng(1).normal(size=(6, 3, 28, 28)).astype(np.float32))
    before = D.net[3].running_mean.numpy().copy()
    out = forward_with(D, list(D.parameters()), x).numpy()
    assert np.array_equal(D.net[3].running_mean.numpy(), before)
    assert np.allclose(out, D(x).numpy(), atol=1e-5)       # train mode: batch statistics
    with pytest.raises(ValueError, match="knows Dense, Conv2d and batch norm"):
        forward_with(nn.Sequential(nn.InstanceNorm2d(3, affine=True)), [], x)


# --------------------------------------------------------- the rows
def test_a_short_seeded_run_trains_d_and_repeats(mnist_dir):
    from minigan.experiments import stacked_mnist as E
    images, _ = data.mnist("test")

    def run(steps, row="pacdcgan2"):
        t = E.build_trainer(row, seed=5, train_images=images, train_stacks=2000,
                            batch_size=16, progress=False)
        t.fit(steps)
        return t.history["loss_d"]
    loss = run(60)
    # D starts at chance, 2 ln 2 (BCE of a logit near 0 on both sides), and learns
    # to tell real stacks from G's early ones (the default D, a quarter of G's feature
    # maps, needs some 40 steps to halve its loss: 0.28 of 1.27 at step 80)
    assert loss[0] == pytest.approx(2 * math.log(2), abs=0.35)
    assert loss[-3:].mean() < 0.5 * loss[0]
    assert np.array_equal(run(3), loss[:3])                # the same seed, the same run


def test_the_unrolled_row_steps_with_a_conv_d(mnist_dir):
    from minigan.experiments import stacked_mnist as E
    images, _ = data.mnist("test")
    t = E.build_trainer("unrolled", seed=0, train_images=images, train_stacks=200,
                        batch_size=8, progress=False)
    g0 = [p.numpy().copy() for p in t.G.parameters()]
    t.fit(2)
    assert np.isfinite(t.history["loss_g"]).all()
    assert any(not np.array_equal(a, p.numpy()) for a, p in zip(g0, t.G.parameters()))


def test_rows_and_their_errors(mnist_dir):
    from minigan.experiments import stacked_mnist as E, OptionError, RunConfig
    with pytest.raises(ValueError, match="unknown row 'wgan'; rows: dcgan, pacdcgan2"):
        E.get_row("wgan")
    with pytest.raises(ValueError, match=r"batch \(63 samples\) must be divisible by the "
                                         r"pack of the row 'pacdcgan2' \(2\)"):
        E.build_trainer("pacdcgan2", batch_size=63, train_images=np.zeros((5, 1, 28, 28)))
    cfg = RunConfig("stacked-mnist", options={"rows": "dcgan,nope"}, kinds={"rows": str,
                    "seeds": int, "samples": int, "d_width": int})
    with pytest.raises(OptionError, match="--set rows= takes row names"):
        E.settings(cfg)
    cfg = RunConfig("stacked-mnist", quick=True, options={"rows": "pacdcgan2, dcgan"},
                    kinds={"rows": str, "seeds": int, "samples": int, "d_width": int})
    s = E.settings(cfg)
    assert s["rows"] == ["pacdcgan2", "dcgan"] and s["samples"] == E.N_COUNT_QUICK
    assert s["d_width"] == E.D_WIDTH == 8          # a quarter of G's 32 and 64 maps
    cfg = RunConfig("stacked-mnist", options={"d_width": 0}, kinds={
        "rows": str, "seeds": int, "samples": int, "d_width": int})
    with pytest.raises(OptionError, match="d_width must be at least 1"):
        E.settings(cfg)


def test_the_claim_is_decided_seed_by_seed():
    from minigan.experiments.stacked_mnist import stacked_claims
    rows = {"dcgan": {"modes": [80, 300], "kl": [4.5, 2.0]},
            "pacdcgan2": {"modes": [900, 310], "kl": [0.3, 1.9]}}
    assert stacked_claims(rows, [0, 1])[0].held
    rows["pacdcgan2"]["kl"][1] = 2.1                   # more modes, but a higher KL
    assert not stacked_claims(rows, [0, 1])[0].held
    assert stacked_claims({"dcgan": rows["dcgan"]}, [0, 1]) == []


@pytest.mark.slow
def test_the_quick_run_writes_its_measures(tmp_path, mnist_dir):
    from minigan.__main__ import main
    out = tmp_path / "run"
    assert main(["run", "stacked-mnist", "--quick", "--no-progress", "--out", str(out),
                 "--steps", "2", "--set", "samples=300", "--set", "rows=dcgan,pacdcgan2"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert set(m["rows"]) == {"dcgan", "pacdcgan2"}
    for row in m["rows"].values():
        assert len(row["modes"]) == 1 and 1 <= row["modes"][0] <= 300
        assert 0 <= row["kl"][0] <= math.log(1000) + 1e-9
        assert sum(row["counts"][0]) == 300
    assert m["pacgan_table2"][-1] == {"row": "PacDCGAN2", "modes": 1000.0, "kl": 0.06}
    assert len(m["claims"]) == 1
    assert (out / "stacked_mnist_modes.png").exists()
    assert (out / "stacked_mnist_samples.png").exists()

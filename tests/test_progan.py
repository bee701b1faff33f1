"""Progressive growing (minigan.gan.apps.progressive): the fade-in at alpha 0 is the
smaller network's output upsampled and at alpha 1 the new block's alone, in G and
(mirrored) in D; the schedule; clear errors for a resolution that is not a stage;
checkpoints that restore the stage and alpha; a short seeded run that must learn.

The layers' own tests (equalized learning rate scaling the weight's gradient by
c = gain / sqrt(fan_in), the minibatch standard deviation of identical images being
zero, pixel norm) are in test_progan_layers.py."""
import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import optim, data
from minigan.eval import metrics
from minigan.gan.apps import progressive as pg

CH = (8, 4, 4)                       # small networks: the tests are about the wiring


def nets(seed=0):
    minigan.manual_seed(seed)
    return pg.ProgressiveGenerator(channels=CH), pg.ProgressiveDiscriminator(channels=CH)


def noise(n=8, seed=1):
    return minigan.tensor(np.random.default_rng(seed).standard_normal((n, pg.NOISE_DIM))
                          .astype(np.float32))


def out(net, x, resolution, alpha):
    net.grow_to(resolution, alpha)
    with minigan.no_grad():
        return net(x).numpy()


def blobs(n, size=28, seed=0):
    """Round blobs in [-1, 1], of random place and size: a data set a small G learns."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    x = np.full((n, 1, size, size), -1.0, np.float32)
    for i in range(n):
        cy, cx = rng.uniform(size / 3, 2 * size / 3, 2)
        r = rng.uniform(size / 6, size / 4)
        x[i, 0] = np.where((yy - cy) ** 2 + (xx - cx) ** 2 < r * r, 1.0, -1.0)
    return x


# ------------------------------------------------------------------ the fade-in
@pytest.mark.parametrize("low, high", [(7, 14), (14, 28)])
def test_generator_at_alpha_0_is_the_smaller_stage_upsampled(low, high):
    G, _ = nets()
    z = noise()
    small = out(G, z, low, 1.0)
    grown = out(G, z, high, 0.0)
    assert small.shape == (8, 1, low, low) and grown.shape == (8, 1, high, high)
    np.testing.assert_array_equal(grown, small.repeat(2, axis=2).repeat(2, axis=3))


@pytest.mark.parametrize("low, high", [(7, 14), (14, 28)])
def test_generator_at_alpha_1_is_the_new_block_alone_and_between_a_blend(low, high):
    """At alpha 1 the old toRGB plays no part: changing it changes nothing. Between,
    the output is (1 - alpha) old + alpha new, the two ends mixed."""
    G, _ = nets()
    z = noise()
    level = G.stages.index(high)
    new, old = out(G, z, high, 1.0), out(G, z, high, 0.0)
    third = out(G, z, high, 0.3)
    np.testing.assert_allclose(third, 0.7 * old + 0.3 * new, rtol=1e-5, atol=1e-6)
    G.to_rgb[level - 1].weight.data[...] += 1.0             # the old branch's toRGB
    np.testing.assert_array_equal(out(G, z, high, 1.0), new)
    assert np.abs(out(G, z, high, 0.3) - third).max() > 1e-3
    # and by hand: the new block's toRGB after the trunk
    G.grow_to(high, 1.0)
    with minigan.no_grad():
        h = F.pixel_norm(z).reshape(8, -1)
        h = F.pixel_norm(F.leaky_relu(G.project(h), 0.2).reshape(8, CH[0], 7, 7))
        h = G.first(h)
        for block in G.blocks[:level]:
            h = block(h)
        np.testing.assert_allclose(G.to_rgb[level](h).numpy(), new, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("low, high", [(7, 14), (14, 28)])
def test_discriminator_at_alpha_0_judges_the_pooled_image_and_at_1_the_new_block(low, high):
    _, D = nets()
    x = minigan.tensor(blobs(8, high))
    pooled = F.avg_pool2d(x, 2)
    # equal up to rounding (the blend's array is laid out anew for the next convolution)
    np.testing.assert_allclose(out(D, x, high, 0.0), out(D, pooled, low, 1.0), rtol=1e-5,
                               atol=1e-6)
    level = D.stages.index(high)
    at_one = out(D, x, high, 1.0)
    D.from_rgb[level - 1][0].weight.data[...] += 1.0        # the old branch's fromRGB
    np.testing.assert_array_equal(out(D, x, high, 1.0), at_one)
    assert not np.allclose(out(D, x, high, 1.0), out(D, pooled, low, 1.0))


def test_real_images_are_pooled_to_the_stage_and_blended_during_a_fade():
    x = minigan.tensor(blobs(4))
    p14 = F.avg_pool2d(x, 2).numpy()
    np.testing.assert_allclose(pg.real_at(x, 14, 1.0).numpy(), p14, rtol=1e-6)
    np.testing.assert_allclose(pg.real_at(x, 7, 1.0).numpy(), F.avg_pool2d(x, 4).numpy(),
                               rtol=1e-6, atol=1e-7)
    p7_up = F.avg_pool2d(x, 4).numpy().repeat(2, axis=2).repeat(2, axis=3)
    np.testing.assert_allclose(pg.real_at(x, 14, 0.0).numpy(), p7_up, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(pg.real_at(x, 14, 0.25).numpy(), 0.75 * p7_up + 0.25 * p14,
                               rtol=1e-5, atol=1e-6)
    assert pg.full_size(minigan.tensor(np.zeros((2, 1, 7, 7), np.float32))).shape == (2, 1, 28, 28)


# ------------------------------------------------------------------ the schedule
def test_the_schedule_rises_alpha_linearly_during_each_fade_then_holds_it():
    s = pg.ProgressiveSchedule(fade=4, stabilize=(3, 2, 5))
    got = [s.at(i) for i in range(s.total + 2)]
    assert s.total == 3 + 4 + 2 + 4 + 5
    assert got[:3] == [(7, 1.0)] * 3
    assert got[3:7] == [(14, 0.0), (14, 0.25), (14, 0.5), (14, 0.75)]
    assert got[7:9] == [(14, 1.0)] * 2
    assert got[9:13] == [(28, 0.0), (28, 0.25), (28, 0.5), (28, 0.75)]
    assert got[13:] == [(28, 1.0)] * 7                      # the last stage, after the plan too
    assert s.boundaries()[:3] == [(0, 7, "stabilize"), (3, 14, "fade"), (7, 14, "stabilize")]


# ------------------------------------------------------------------ errors
def test_a_resolution_that_is_not_a_stage_gets_a_clear_error():
    G, D = nets()
    with pytest.raises(ValueError, match=r"grow_to: resolution must be one of 7, 14, 28 "
                                         r"\(the stages\), got 21"):
        G.grow_to(21)
    with pytest.raises(ValueError, match="resolution must be one of 7, 14, 28"):
        D.grow_to(32, 0.5)
    with pytest.raises(ValueError, match=r"alpha must be a number in \[0, 1\], got 1.5"):
        G.grow_to(14, 1.5)
    with pytest.raises(ValueError, match="no smaller stage to fade from: alpha must be 1"):
        G.grow_to(7, 0.5)
    D.grow_to(14)
    with pytest.raises(ValueError, match=r"at stage 14x14: expected images of shape "
                                         r"\(N, 1, 14, 14\), got \(4, 1, 28, 28\)"):
        D(minigan.tensor(blobs(4)))
    with pytest.raises(ValueError, match=r"expected noise of shape \(N, 100\)"):
        G(minigan.tensor(np.zeros((2, 10), np.float32)))
    with pytest.raises(ValueError, match="each stage must be twice the one before"):
        pg.ProgressiveGenerator(stages=(7, 14, 21), channels=CH)
    with pytest.raises(ValueError, match="fade must be a whole number of steps >= 0"):
        pg.ProgressiveSchedule(fade=-1, stabilize=3)
    with pytest.raises(ValueError, match="stabilize must be one number or one per stage"):
        pg.ProgressiveSchedule(fade=2, stabilize=(3, 3))
    with pytest.raises(ValueError, match="schedule's stages"):
        _trainer(G, D, pg.ProgressiveSchedule(2, 2, stages=(7, 14)), blobs(8))


# ------------------------------------------------------------------ training
def _trainer(G, D, schedule, x, seed=0, **kw):
    adam = lambda net: optim.Adam(net.parameters(), lr=2e-3, betas=(0.0, 0.99))  # noqa: E731
    kw.setdefault("loss", "non-saturating")
    kw.setdefault("gp_weight", 0.0)
    kw.setdefault("drift", 0.0)
    return pg.ProgressiveTrainer(G, D, adam(G), adam(D), data.sampler(x),
                                 data.noise_sampler("cpu", pg.NOISE_DIM), schedule,
                                 batch_size=16, progress=False, verbose=False, seed=seed, **kw)


def pixel_frechet(G, x, resolution, n=256):
    """The Frechet distance between G's images and the data's, pooled to `resolution`,
    over raw pixels (a judge small enough for a test)."""
    G.grow_to(resolution)
    fake = pg.sample_images(G, noise(n, seed=9), size=resolution).reshape(n, -1)
    real = pg.downsample(minigan.tensor(x[:n]), resolution).numpy().reshape(n, -1)
    return metrics.frechet_distance_from_stats(*metrics.feature_statistics(fake.astype(float)),
                                               *metrics.feature_statistics(real.astype(float)))


def test_a_short_seeded_run_learns_and_the_same_seed_gives_the_same_run():
    """200 steps at 7x7, then a fade to 14x14: the pixel Frechet distance at 7x7 falls
    to under half its value at initialization; the history follows the schedule."""
    x = blobs(512)
    G, D = nets()
    before = pixel_frechet(G, x, 7)
    trainer = _trainer(G, D, pg.ProgressiveSchedule(fade=4, stabilize=(200, 1, 0),
                                                    stages=(7, 14, 28)), x)
    trainer.fit(204)
    after = pixel_frechet(G, x, 7)
    assert after < 0.5 * before, (before, after)
    h = trainer.history
    assert list(h["resolution"][198:]) == [7, 7, 14, 14, 14, 14]
    assert list(h["alpha"][200:]) == [0.0, 0.25, 0.5, 0.75]
    assert np.isfinite(h["loss_d"]).all()
    G2, D2 = nets()
    again = _trainer(G2, D2, pg.ProgressiveSchedule(fade=4, stabilize=(200, 1, 0)), x)
    again.fit(5)
    assert again.history.records == h.records[:5]


def test_wgan_gp_with_drift_adds_both_terms_to_d_loss():
    """The paper's loss: with the same seed and batch, lambda > 0 and eps_drift > 0
    each make D's first loss larger (both terms are positive)."""
    def first_loss_d(gp, drift):
        G, D = nets()
        step = pg.ProgressiveStep(G, D, optim.Adam(G.parameters()), optim.Adam(D.parameters()),
                                  data.sampler(blobs(16), shuffle=False),
                                  data.noise_sampler("cpu", pg.NOISE_DIM),
                                  pg.ProgressiveSchedule(2, 2), loss="wasserstein",
                                  gp_weight=gp, drift=drift, batch_size=8)
        return step.step()["loss_d"]
    plain = first_loss_d(0.0, 0.0)
    assert first_loss_d(10.0, 0.0) > plain + 1e-4
    assert first_loss_d(0.0, 100.0) > plain + 1e-4


def test_a_resumed_run_has_its_stage_and_alpha_back_and_ends_where_a_straight_one_does(
        tmp_path):
    x = blobs(64, seed=3)

    def build(out):
        G, D = nets()
        return _trainer(G, D, pg.ProgressiveSchedule(fade=2, stabilize=(2, 1, 1)), x,
                        out_dir=out)
    straight = build(tmp_path / "straight")
    straight.fit(6)
    half = build(tmp_path / "half")
    half.fit(4)                                          # the last step: 14x14 at alpha 0.5
    assert (half.G.stage, half.G.alpha, half.D.stage, half.D.alpha) == (14, 0.5, 14, 0.5)
    resumed = build(tmp_path / "half")
    assert (resumed.G.stage, resumed.G.alpha) == (7, 1.0)
    resumed.load_checkpoint()
    assert (resumed.G.stage, resumed.G.alpha, resumed.D.stage, resumed.D.alpha) == (14, 0.5,
                                                                                    14, 0.5)
    resumed.fit(6, resume=True)
    assert resumed.history.records == straight.history.records
    assert (resumed.G.stage, resumed.G.alpha) == (28, 0.0)
    for p, q in zip(resumed.G.parameters(), straight.G.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


# ------------------------------------------------------------------ the experiment
def test_the_experiment_compares_at_one_wall_time_and_refuses_bad_options(tmp_path, capsys):
    from minigan.__main__ import main
    from minigan.experiments import progan
    snaps = [{"seconds": 0.0, "frechet_distance": 100.0}, {"seconds": 10.0,
                                                           "frechet_distance": 50.0}]
    assert progan.at_time(snaps, 4.0, "frechet_distance") == pytest.approx(80.0)
    summary = {m: {"frechet_distance_mean": fd, "frechet_distance_std": sd}
               for m, fd, sd in (("progan", 40.0, 5.0), ("dcgan", 60.0, 2.0))}
    faster, stable = progan.progan_claims(summary, 240.0, seeds=3)
    assert faster.held and not stable.held
    assert len(progan.progan_claims(summary, 240.0, seeds=1)) == 1    # one seed: no spread
    for option, words in (("minutes=0", "--set minutes must be a positive number"),
                          ("seeds=0", "--set seeds must be at least 1"),
                          ("loss=hinge", "expected one of non-saturating, wgan-gp")):
        assert main(["run", "progan", "--quick", "--no-progress", "--out",
                     str(tmp_path / "o"), "--set", option]) == 2
        assert words in capsys.readouterr().err
    assert main(["run", "progan", "--quick", "--steps", "3", "--no-progress", "--out",
                 str(tmp_path / "o")]) == 2
    assert "set by --set minutes" in capsys.readouterr().err

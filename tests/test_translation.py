"""The translation applications' library code (minigan.gan.apps): network shapes,
the skip connections on odd sizes, clear errors, and short seeded runs of pix2pix,
CycleGAN and StarGAN that must measurably learn from their initialization."""
import numpy as np
import pytest

import minigan
from minigan import optim, data
from minigan.gan.apps import networks as nets
from minigan.gan.apps.translation import (Pix2PixTrainer, CycleTrainer, StarTrainer,
                                          Pix2PixStep, CycleStep, StarStep, translate)


def images(n, size=28, channels=1, seed=0):
    """Smooth random images in [-1, 1]: blobs a small network can learn to map."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    out = np.full((n, channels, size, size), -1.0, np.float32)
    for i in range(n):
        cy, cx = rng.uniform(size / 4, 3 * size / 4, 2)
        r = rng.uniform(size / 9, size / 5)
        out[i, :] = np.where((yy - cy) ** 2 + (xx - cx) ** 2 < r * r, 1.0, -1.0)
    return out


def adam(*modules, lr=2e-3):
    return optim.Adam([p for m in modules for p in m.parameters()], lr=lr, betas=(0.5, 0.999))


# ------------------------------------------------------------------ shapes
@pytest.mark.parametrize("size", [28, 29, 30, 15, 8])
@pytest.mark.parametrize("skips", [True, False])
def test_unet_gives_back_the_input_size_even_when_a_halving_is_odd(size, skips):
    G = nets.UNet(1, 1, width=4, skips=skips)
    x = minigan.tensor(images(2, size))
    assert G(x).shape == (2, 1, size, size)


def test_unet_skips_join_maps_of_the_same_size():
    """28 -> 14 -> 7 -> 3 down; up to 7 must meet e2 (7x7), up to 14 must meet e1: the
    first up-convolution needs output_padding 1 to reach 7 from 3."""
    G = nets.UNet(1, 1, width=4)
    e3 = minigan.tensor(np.zeros((1, 16, 3, 3), np.float32))
    assert nets.up_to(G.up2, e3, (7, 7)).shape == (1, 8, 7, 7)
    assert nets.up_to(G.up2, e3, (6, 6)).shape == (1, 8, 6, 6)
    with pytest.raises(ValueError, match="3x3 to 6x6 or one more, not 9x9"):
        nets.up_to(G.up2, e3, (9, 9))
    # the skips double the decoder's inputs: with them the decoder has more weights
    assert G.up1.in_channels == 2 * nets.UNet(1, 1, width=4, skips=False).up1.in_channels


@pytest.mark.parametrize("size", [28, 29])
def test_resnet_generator_and_patch_discriminator_shapes(size):
    G = nets.ResnetGenerator(1, 1, width=4, blocks=1)
    x = minigan.tensor(images(3, size))
    assert G(x).shape == (3, 1, size, size)
    D = nets.PatchDiscriminator(2, width=4)
    assert D(x, x).shape == (3, 1, size // 4, size // 4)


def test_star_networks_shapes():
    G, D = nets.StarGenerator(4, width=4, blocks=1), nets.StarDiscriminator(4, width=4)
    x = minigan.tensor(images(5))
    y = G(x, minigan.tensor(np.array([0, 1, 2, 3, 0])))
    src, cls = D(y)
    assert y.shape == (5, 1, 28, 28) and src.shape == (5, 1, 7, 7) and cls.shape == (5, 4)


def test_with_domain_spreads_the_one_hot_over_every_pixel():
    x = minigan.tensor(np.zeros((2, 1, 5, 5), np.float32))
    h = nets.with_domain(x, minigan.tensor(np.array([2, 0])), 3).numpy()
    assert h.shape == (2, 4, 5, 5)
    assert (h[0, 3] == 1).all() and (h[0, 1:3] == 0).all() and (h[1, 1] == 1).all()


# ------------------------------------------------------------------ errors
def test_bad_inputs_get_clear_errors():
    G = nets.UNet(1, 1, width=4)
    with pytest.raises(ValueError, match=r"UNet: expected images of shape \(N, 1, H, W\), "
                                         r"got \(2, 3, 28, 28\)"):
        G(minigan.tensor(np.zeros((2, 3, 28, 28), np.float32)))
    with pytest.raises(ValueError, match="at least 8x8"):
        G(minigan.tensor(np.zeros((2, 1, 6, 6), np.float32)))
    with pytest.raises(ValueError, match="PatchDiscriminator: expected images of shape "
                                         r"\(N, 2, H, W\)"):
        nets.PatchDiscriminator(2, 4)(minigan.tensor(np.zeros((2, 1, 28, 28), np.float32)))
    with pytest.raises(ValueError, match="sized for 28x28 images, got 32x32"):
        nets.StarDiscriminator(4, 4)(minigan.tensor(np.zeros((1, 1, 32, 32), np.float32)))
    with pytest.raises(ValueError, match="norm must be one of batch, instance, none"):
        nets.UNet(norm="layer")
    with pytest.raises(ValueError, match="labels must be in 0..3"):
        nets.StarGenerator(4, 4, 1)(minigan.tensor(images(1)), minigan.tensor(np.array([4])))
    sample = data.sampler((images(4), images(4)))
    with pytest.raises(ValueError, match="a discriminator and its optimizer, or neither"):
        Pix2PixStep(G, nets.PatchDiscriminator(2, 4), adam(G), None, sample)
    with pytest.raises(ValueError, match="nothing to learn"):
        Pix2PixStep(G, None, adam(G), None, sample, l1_weight=0)
    with pytest.raises(ValueError, match="l1_weight must be a number >= 0"):
        Pix2PixStep(G, None, adam(G), None, sample, l1_weight=-1)
    with pytest.raises(ValueError, match="distance must be one of l1, l2"):
        CycleStep(G, G, None, None, adam(G), adam(G), sample, sample, distance="l3")
    with pytest.raises(ValueError, match="n_domains must be an integer >= 2"):
        StarStep(G, None, adam(G), adam(G), sample, n_domains=1)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        StarStep(G, None, adam(G), adam(G), sample, n_domains=3, batch_size=0)


# ------------------------------------------------- short runs that must learn
def _first_and_last(history, column, k=5):
    values = history[column]
    return values[:k].mean(), values[-k:].mean()


def test_pix2pix_learns_a_mapping_from_pairs():
    """x -> its photographic negative: L1 to the target falls by more than half."""
    x = images(64)
    G, D = nets.UNet(1, 1, width=4), nets.PatchDiscriminator(2, width=4)
    trainer = Pix2PixTrainer(G, D, adam(G), adam(D), data.sampler((x, -x)), batch_size=16,
                             progress=False, verbose=False, seed=0)
    trainer.fit(60)
    first, last = _first_and_last(trainer.history, "loss_l1")
    assert last < 0.5 * first, (first, last)
    assert np.isfinite(trainer.history["loss_d"]).all() and trainer.history["loss_d"][-1] > 0


def test_pix2pix_with_l1_alone_has_no_discriminator_in_its_history():
    x = images(32)
    G = nets.UNet(1, 1, width=4)
    trainer = Pix2PixTrainer(G, None, adam(G), None, data.sampler((x, -x)), batch_size=8,
                             progress=False, verbose=False)
    trainer.fit(3)
    assert (trainer.history["loss_d"] == 0).all() and (trainer.history["loss_l1"] > 0).all()


def _cycle(cycle_weight, seed=0, steps=40):
    a = images(64, seed=1)
    b = -images(64, seed=2)                  # the other domain: negatives of other blobs
    minigan.manual_seed(seed)
    g_ab, g_ba = (nets.ResnetGenerator(1, 1, 4, 1) for _ in range(2))
    d_a, d_b = (nets.PatchDiscriminator(1, 4, norm="instance") for _ in range(2))
    trainer = CycleTrainer(g_ab, g_ba, d_a, d_b, adam(g_ab, g_ba), adam(d_a, d_b),
                           data.sampler(a), data.sampler(b), cycle_weight=cycle_weight,
                           batch_size=8, progress=False, verbose=False, seed=seed)
    trainer.fit(steps)
    return trainer


def test_cyclegan_lowers_its_cycle_error_and_the_same_seed_gives_the_same_run():
    """The cycle error falls, and ends far lower than the same run's without the
    cycle term in G's loss (the term is still measured there, never descended)."""
    trainer = _cycle(10.0)
    first, last = _first_and_last(trainer.history, "loss_cycle")
    assert last < 0.6 * first, (first, last)
    _, unguided = _first_and_last(_cycle(0.0).history, "loss_cycle")
    assert last < 0.7 * unguided, (last, unguided)
    again = _cycle(10.0, steps=10)
    assert again.history.records == trainer.history.records[:10]


def test_cyclegan_resumes_to_the_same_place(tmp_path):
    a, b = images(32, seed=1), -images(32, seed=2)

    def build(out):
        minigan.manual_seed(0)
        g_ab, g_ba = (nets.ResnetGenerator(1, 1, 4, 1) for _ in range(2))
        d_a, d_b = (nets.PatchDiscriminator(1, 4, norm="instance") for _ in range(2))
        return CycleTrainer(g_ab, g_ba, d_a, d_b, adam(g_ab, g_ba), adam(d_a, d_b),
                            data.sampler(a), data.sampler(b), batch_size=4, identity_weight=1.0,
                            progress=False, verbose=False, seed=0, out_dir=out)
    straight = build(tmp_path / "straight")
    straight.fit(6)
    half = build(tmp_path / "half")
    half.fit(3)
    resumed = build(tmp_path / "half")
    resumed.fit(6, resume=True)
    assert resumed.history.records == straight.history.records
    for p, q in zip(resumed.g_ab.parameters(), straight.g_ab.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_stargan_learns_to_hit_the_target_domain():
    """Two domains, blobs and their negatives: D's domain loss on reals and the
    reconstruction loss fall, and the trained D reads G's outputs as their target
    domain far more often for the trained G than for G at its initialization."""
    x = images(64)
    xs = np.concatenate([x[:32], -x[32:]])
    dom = np.repeat(np.arange(2), 32)
    minigan.manual_seed(0)
    G, D = nets.StarGenerator(2, 4, 1), nets.StarDiscriminator(2, 4)
    G0 = nets.StarGenerator(2, 4, 1)
    G0.load_state_dict(G.state_dict())
    trainer = StarTrainer(G, D, adam(G), adam(D), data.sampler((xs, dom)), 2, batch_size=16,
                          progress=False, verbose=False, seed=0)
    trainer.fit(60)
    for column in ("loss_cls_real", "loss_rec"):
        first, last = _first_and_last(trainer.history, column)
        assert last < 0.6 * first, (column, first, last)
    target = 1 - dom

    def hit_rate(generator):
        out = translate(generator, xs, target)
        with minigan.no_grad():
            _, cls = D.eval()(minigan.tensor(out))
        return (cls.numpy().argmax(1) == target).mean()
    assert hit_rate(G) >= 0.9 and hit_rate(G) > hit_rate(G0) + 0.3, (hit_rate(G), hit_rate(G0))


def test_star_targets_are_never_the_source_domain():
    G = nets.StarGenerator(3, 4, 1)
    step = StarStep(G, nets.StarDiscriminator(3, 4), adam(G), adam(G),
                    data.sampler(images(4)), n_domains=3)
    source = minigan.tensor(np.tile(np.arange(3), 100))
    t = step.targets(source).numpy()
    assert (t != source.numpy()).all() and set(t.tolist()) == {0, 1, 2}


def test_translate_leaves_the_mode_as_it_was_and_batches():
    G = nets.UNet(1, 1, width=4)
    G.train()
    x = images(7)
    out = translate(G, x, batch=3)
    assert out.shape == (7, 1, 28, 28) and out.dtype == np.float32 and G.training
    np.testing.assert_allclose(out, translate(G, x, batch=100), atol=1e-6)


def test_stargan_gradient_penalty_is_added_to_d_loss_only_when_asked():
    """With the same seed and batch, gp_weight > 0 makes D's loss larger by the
    penalty (a positive number at initialization), and a negative weight is refused."""
    def first_loss_d(gp):
        minigan.manual_seed(0)
        G, D = nets.StarGenerator(2, 4, 1), nets.StarDiscriminator(2, 4)
        step = StarStep(G, D, adam(G), adam(D), data.sampler((images(8), np.arange(8) % 2),
                                                             shuffle=False),
                        2, batch_size=8, loss="wasserstein", gp_weight=gp)
        return step.step()["loss_d"]
    assert first_loss_d(10.0) > first_loss_d(0.0) + 1e-3
    G = nets.StarGenerator(2, 4, 1)
    with pytest.raises(ValueError, match="gp_weight"):
        StarStep(G, nets.StarDiscriminator(2, 4), adam(G), adam(G), data.sampler(images(4)), 2,
                 gp_weight=-1.0)

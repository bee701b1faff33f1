"""SimGAN's library code (minigan.gan.apps.refiner): the refiner keeps an image's size,
a short seeded run moves synthetic images towards the real ones (measured against
the known real version of each), the same seed gives the same run, a run with the
history buffer resumes exactly, and bad input gets a clear error. The buffer itself
is tested in tests/test_history.py."""
import numpy as np
import pytest

import minigan
from minigan import optim, data
from minigan.gan.apps import networks as nets
from minigan.gan.apps.refiner import Refiner, RefinerStep, RefinerTrainer, refine
from minigan.gan.tricks.history import ImageHistory


def blobs(n, seed=0, size=28):
    """Synthetic images: white discs (1) on black (-1)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    out = np.full((n, 1, size, size), -1.0, np.float32)
    for i in range(n):
        cy, cx = rng.uniform(size / 4, 3 * size / 4, 2)
        r = rng.uniform(size / 9, size / 5)
        out[i, 0] = np.where((yy - cy) ** 2 + (xx - cx) ** 2 < r * r, 1.0, -1.0)
    return out


def as_real(x):
    """The 'real' look of a synthetic image: grey discs (0) instead of white ones."""
    return np.where(x > 0, 0.0, -1.0).astype(np.float32)


def adam(module, lr=2e-3):
    return optim.Adam(module.parameters(), lr=lr, betas=(0.5, 0.999))


def _trainer(steps, seed=0, history=True, out_dir=None, reg_weight=2.0, fit=True):
    x, real = blobs(64, seed=1), as_real(blobs(64, seed=2))    # unpaired: other discs
    minigan.manual_seed(seed)
    R, D = Refiner(1, 8, 1), nets.PatchDiscriminator(1, 8, norm="none")
    trainer = RefinerTrainer(R, D, adam(R), adam(D), data.sampler(x), data.sampler(real),
                             reg_weight=reg_weight,
                             history=ImageHistory(256, seed=seed) if history else None,
                             batch_size=16, progress=False, verbose=False, seed=seed,
                             out_dir=out_dir)
    if fit:
        trainer.fit(steps)
    return trainer, x


def _reach(R):
    """How far (in pixels, along the diagonal) a change of one corner pixel travels
    through R: the last pixel (i, i) that it changes."""
    minigan.manual_seed(5)
    R.out.weight.data[...] = np.random.default_rng(0).normal(
        0, 1, R.out.weight.shape).astype(np.float32)       # no longer the identity
    x = np.random.default_rng(1).uniform(-0.5, 0.5, (1, 1, 28, 28)).astype(np.float32)
    y = x.copy()
    y[0, 0, 0, 0] = 0.9                                    # change a corner pixel
    a, b = refine(R, x), refine(R, y)
    changed = [i for i in range(28) if (a[0, 0, i, :i + 1] != b[0, 0, i, :i + 1]).any()
               or (a[0, 0, :i + 1, i] != b[0, 0, :i + 1, i]).any()]
    return max(changed)


@pytest.mark.parametrize("dilated, reach", [(False, 5), (True, 7)])
def test_the_refiner_keeps_the_size_and_sees_the_neighbourhood_its_formula_says(dilated, reach):
    """A refined pixel depends on a (3 + 4 * sum of the dilations)-wide neighbourhood:
    11 pixels for two plain blocks (a reach of 5), 15 for dilations 1 and 2 (7)."""
    R = Refiner(1, 4, 2, dilated=dilated)
    for size in (28, 13):
        assert R(minigan.tensor(blobs(3, size=size))).shape == (3, 1, size, size)
    assert _reach(R) == reach


def test_an_untrained_refiner_is_the_identity():
    x = blobs(4)
    np.testing.assert_array_equal(refine(Refiner(1, 4, 2), x), x)


def test_a_short_run_moves_synthetic_images_towards_the_real_ones():
    """Each disc's true real version is known (grey, not white). The untrained R, and
    the L1 term alone, keep R(x) = x, at the raw images' distance to it; the
    adversarial term must take the refined images well past that."""
    trainer, x = _trainer(300)
    truth = as_real(x)
    raw = np.abs(x - truth).mean()
    after = np.abs(refine(trainer.R, x) - truth).mean()
    assert after < 0.4 * raw, (after, raw)
    # the discs were dimmed, not erased: the foreground is near the real grey (0)
    assert abs(refine(trainer.R, x)[x > 0].mean()) < 0.3
    h = trainer.history
    assert np.isfinite(h["loss_d"]).all()
    assert h["loss_reg"][0] == 0 and (h["loss_reg"][1:] > 0).all()    # R starts as x


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    a, _ = _trainer(8)
    b, _ = _trainer(8)
    c, _ = _trainer(8, seed=1)
    assert a.history.records == b.history.records
    assert a.history.records != c.history.records
    for p, q in zip(a.R.parameters(), b.R.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_a_run_with_the_history_buffer_resumes_to_the_same_place(tmp_path):
    straight, _ = _trainer(8, out_dir=tmp_path / "straight")
    _trainer(4, out_dir=tmp_path / "half")
    resumed, _ = _trainer(0, out_dir=tmp_path / "half", fit=False)
    resumed.fit(8, resume=True)
    assert resumed.history.records == straight.history.records
    assert len(resumed.image_history) == len(straight.image_history) > 0
    for p, q in zip(resumed.D.parameters(), straight.D.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_the_history_buffer_changes_what_d_sees():
    """Same seed, same batches: with the buffer D trains on other fakes from step 2 on."""
    with_h, _ = _trainer(3)
    without, _ = _trainer(3, history=False)
    assert with_h.history.records[0] == without.history.records[0]
    assert with_h.history["loss_d"][2] != without.history["loss_d"][2]


def test_bad_input_gets_clear_errors():
    R, D = Refiner(1, 4, 1), nets.PatchDiscriminator(1, 4, norm="none")
    x = data.sampler(blobs(8))
    with pytest.raises(ValueError, match="reg_weight must be a number >= 0, got -1"):
        RefinerStep(R, D, adam(R), adam(D), x, x, reg_weight=-1)
    with pytest.raises(TypeError, match="history must be an ImageHistory"):
        RefinerStep(R, D, adam(R), adam(D), x, x, history=256)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        RefinerStep(R, D, adam(R), adam(D), x, x, batch_size=0)
    step = RefinerStep(R, D, adam(R), adam(D), x, data.sampler(blobs(8, size=32)), batch_size=4)
    with pytest.raises(ValueError, match=r"synthetic images have shape \(1, 28, 28\) and the "
                                         r"real ones \(1, 32, 32\)"):
        step.step()
    with pytest.raises(ValueError, match=r"Refiner: expected images of shape \(N, 1, H, W\), "
                                         r"got \(2, 3, 28, 28\)"):
        R(minigan.tensor(np.zeros((2, 3, 28, 28), np.float32)))
    with pytest.raises(ValueError, match="blocks must be an integer >= 0"):
        Refiner(1, 4, -1)
    with pytest.raises(ValueError, match="dilated must be True or False, got 2"):
        Refiner(1, 4, 2, dilated=2)


def test_the_experiment_settings_take_the_dilated_refiner_and_refuse_bad_values():
    from minigan.experiments import simgan as E, OptionError, RunConfig
    kinds = {"seeds": int, "reg_weight": float, "classifier_steps": int, "test_images": int,
             "synthetic_images": int, "dilated": int}
    assert E.settings(RunConfig("simgan", kinds=kinds))["dilated"] is E.DILATED is False
    assert E.settings(RunConfig("simgan", options={"dilated": 1}, kinds=kinds))["dilated"]
    with pytest.raises(OptionError, match="dilated must be 0 or 1, got 3"):
        E.settings(RunConfig("simgan", options={"dilated": 3}, kinds=kinds))
    with pytest.raises(OptionError, match=r"reg_weight \(lambda\) must be >= 0, got -1"):
        E.settings(RunConfig("simgan", options={"reg_weight": -1.0}, kinds=kinds))

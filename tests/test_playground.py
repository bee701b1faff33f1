"""The playground's runs are the library's runs: a preset stepped
in a playground session, with views taken between the steps as the page takes them,
gives the same losses, weights and metrics as the lab's run of the same method and
seed (``mog_recipes.make_trainer``, then ``fit``) after the same number of steps.
Two tabs' runs do not disturb each other."""
import numpy as np
import pytest

from minigan import data
from minigan.eval import metrics
from minigan.experiments import mog_recipes as recipes
from minigan.playground import session, views
from minigan.tensor import Tensor, no_grad

N = 30


def lab_run(method, steps, seed=0):
    ring = data.mixture("ring")
    schedule = recipes.Schedule(steps=recipes.steps_of(method, None, ring))
    tr = recipes.make_trainer(method, ring, seed=seed, schedule=schedule)
    tr.fit(steps)
    return tr


def weights(module):
    return [p.numpy().copy() for p in module.parameters()]


@pytest.mark.parametrize("preset", ["mog-gan", "mog-best"])
def test_a_preset_gives_the_labs_numbers(preset, monkeypatch):
    monkeypatch.setattr(views, "METRICS_EVERY", 0.0)     # measured at every view
    p = session.presets()[preset]
    run = session.Session(p["settings"])
    try:
        for _ in range(3):                       # steps with views between them
            run.step(N // 3)
            view = views.snapshot(run)
        lab = lab_run(p["method"], N)
        assert view["step"] == lab.global_step == N
        np.testing.assert_array_equal(np.asarray(run.curves["loss_d"]), lab.history["loss_d"])
        np.testing.assert_array_equal(np.asarray(run.curves["loss_g"]), lab.history["loss_g"])
        for a, b in zip(weights(run.trainer.G) + weights(run.trainer.D),
                        weights(lab.G) + weights(lab.D)):
            np.testing.assert_array_equal(a, b)
        # the metrics the page shows are mode_scores of the lab's G on the same z
        with no_grad():
            lab_scores = metrics.mode_scores(lab.G(Tensor(run.z_eval)).numpy(),
                                             data.mixture("ring"))
        assert view["metrics"]["step"] == N
        assert view["metrics"]["modes"] == lab_scores["modes"]
        assert view["metrics"]["high_quality"] == lab_scores["high_quality"]
        kl = view["metrics"]["reverse_kl"]
        assert (kl is None and np.isnan(lab_scores["reverse_kl"])) or \
            kl == pytest.approx(lab_scores["reverse_kl"], rel=1e-12)
        # and the lr schedule is the lab's
        assert view["lr"]["g"] == lab.g_optimizer.param_groups[0]["lr"]
    finally:
        run.close()


def test_presets_are_the_labs_methods():
    p = session.presets()
    gan, best = p["mog-gan"]["settings"], p["mog-best"]["settings"]
    assert (gan["pack"], gan["scale"], gan["decay_steps"], gan["batch_size"]) == (1, 1.0, 3000, 240)
    assert (best["pack"], best["scale"], best["decay_steps"]) == (2, 2.0, 10_000)
    assert recipes.BEST == p["mog-best"]["method"]
    for s in (gan, best):
        assert session.check_settings(s)["g_width"] == recipes.HIDDEN


def test_two_tabs_do_not_disturb_each_other():
    alone = session.Session({"seed": 3})
    alone.step(12)
    expect = list(alone.curves["loss_d"])
    alone.close()
    a, b = session.Session({"seed": 3}), session.Session({"seed": 4, "loss": "hinge"})
    try:
        for _ in range(4):
            a.step(3)
            b.step(2)
            b.d_step()
            views.snapshot(b)
        assert a.curves["loss_d"] == expect
    finally:
        a.close()
        b.close()


def test_one_d_step_moves_d_only_and_one_g_step_g_only():
    run = session.Session({})
    try:
        g0, d0 = weights(run.trainer.G), weights(run.trainer.D)
        run.act("d_step")
        assert (run.trainer.global_step, run.d_updates, run.g_updates) == (0, 1, 0)
        assert all(np.array_equal(a, b) for a, b in zip(weights(run.trainer.G), g0))
        assert not all(np.array_equal(a, b) for a, b in zip(weights(run.trainer.D), d0))
        d1 = weights(run.trainer.D)
        run.act("g_step")
        assert (run.d_updates, run.g_updates) == (1, 1)
        assert all(np.array_equal(a, b) for a, b in zip(weights(run.trainer.D), d1))
    finally:
        run.close()


def test_views_are_the_library_functions_on_the_run():
    run = session.Session({"pack": 2})
    try:
        run.step(5)
        v = views.snapshot(run)
        assert len(v["field"]["values"]) == views.FIELD_RES ** 2
        assert np.shape(v["manifold"]["points"]) == (views.MANIFOLD_N ** 2, 2)
        assert np.shape(v["arrows"]) == (views.N_ARROWS, 2)
        assert "Packed" in v["where"]["field"]
        # an arrow is -dL_G/dx: a small move along it lowers G's loss
        fake = np.asarray(v["fake"][:views.N_ARROWS], dtype=np.float32)
        arrows = views.generator_arrows(run.trainer.D, run.trainer.loss, fake)
        with no_grad():
            before = run.trainer.loss.g_loss(run.trainer.D(Tensor(fake))).item()
            after = run.trainer.loss.g_loss(run.trainer.D(Tensor(
                fake + 1e-3 * arrows / np.abs(arrows).max()))).item()
        assert after < before
    finally:
        run.close()

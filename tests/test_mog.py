"""The mode-collapse lab: collapse is caught, the best recipe is not, bad input is refused."""

import numpy as np
import pytest

import minigan
from minigan import data
from minigan.eval import metrics
from minigan.gan import models
from minigan.gan.tricks.unrolled import UnrolledTrainer, forward_with
from minigan.experiments import mog_recipes as mog
from minigan.experiments.mog import snapshot


def test_packed_discriminator_judges_m_samples_at_once():
    D = models.mlp_discriminator(pack=3)
    x = minigan.tensor(np.arange(12, dtype=np.float32).reshape(6, 2))
    assert D(x).shape == (2, 1)
    # consecutive samples form one pack: D's first layer sees [x0 x1 x2] and [x3 x4 x5]
    np.testing.assert_allclose(D(x).numpy(), D.net(x.reshape(2, 6)).numpy())


def test_packing_degree_must_divide_the_batch():
    D = models.mlp_discriminator(pack=4)
    with pytest.raises(ValueError, match=r"divisible by 4, got shape \(6, 2\)"):
        D(minigan.tensor(np.zeros((6, 2), np.float32)))
    sched = mog.Schedule(steps=1, batch_size=250)
    with pytest.raises(ValueError, match="packing degree 3 does not divide the batch size 250"):
        mog.make_trainer("pacgan3", data.ring(), schedule=sched)


def test_unknown_method_lists_the_known_ones():
    with pytest.raises(ValueError,
                       match="unknown mode-collapse method 'pacgan9'.*pacgan4.*unrolled"):
        mog.train_mog("pacgan9", "ring", steps=1)


def test_forward_with_own_parameters_is_the_module():
    for pack in (1, 2):
        D = models.mlp_discriminator(pack=pack)
        x = minigan.tensor(np.random.default_rng(0).standard_normal((8, 2)).astype(np.float32))
        np.testing.assert_allclose(forward_with(D, list(D.parameters()), x).numpy(),
                                   D(x).numpy(), rtol=1e-6)


def test_unrolled_generator_gradient_flows_through_the_lookahead():
    # With k = 0 look-ahead steps the unrolled G gradient is the plain one; with k > 0
    # it differs, because D's look-ahead depends on G's samples.
    ring = data.ring()
    grads = {}
    for k in (0, 3):
        minigan.manual_seed(0)
        tr = mog.make_trainer(mog.Method("u", "u", unroll=max(k, 1), unroll_lr=0.5), ring,
                              schedule=mog.Schedule(steps=1))
        tr.unroll = k
        G, D = tr.G, tr.D
        z = data.noise_sampler("cpu")(64)
        fake = G(z)
        theta = list(D.parameters())
        for _ in range(k):
            real = ring.sample(64)
            ld = tr.loss.d_loss(forward_with(D, theta, real), forward_with(D, theta, fake))
            g = minigan.grad(ld, theta, create_graph=True)
            theta = [p - 0.5 * gi for p, gi in zip(theta, g)]
        lg = tr.loss.g_loss(forward_with(D, theta, fake))
        grads[k] = minigan.grad(lg, list(G.parameters()))[0].numpy()
    assert np.abs(grads[3] - grads[0]).max() > 1e-4 * np.abs(grads[0]).max()


def test_best_recipe_works_in_rescaled_coordinates():
    # On the grid G ends in Rescale(4) and D starts with Rescale(1/4), so G's output is
    # 4 x that of its Dense layers; the grid's own lr (1.5 x 1e-3) applies.
    best = mog.get_method(mog.BEST)
    grid = best.for_mixture(data.grid())
    assert (grid.scale, grid.lr_scale) == (4.0, 1.5) and best.for_mixture(data.ring()).scale == 2.0
    assert mog.get_method("gan").for_mixture(data.grid()) == mog.get_method("gan")
    tr = mog.make_trainer(mog.BEST, data.grid(), schedule=mog.Schedule(steps=100))
    assert isinstance(tr.G[-1], models.Rescale) and tr.G[-1].factor == 4.0
    assert isinstance(tr.D.net[0], models.Rescale) and tr.D.net[0].factor == 0.25
    assert tr.g_optimizer.param_groups[0]["lr"] == pytest.approx(1.5e-3)
    z = minigan.tensor(np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32))
    h = z
    for layer in list(tr.G)[:-1]:
        h = layer(h)
    np.testing.assert_allclose(tr.G(z).numpy(), 4.0 * h.numpy(), rtol=1e-6)


def test_lr_schedule_decays_linearly_after_the_plateau():
    lr_at = mog.Schedule(steps=100, lr=1e-3, final_lr=1e-5, decay_from=0.4).lr_lambda()
    assert lr_at(0) == lr_at(39) == 1e-3
    assert lr_at(100) == pytest.approx(1e-5)
    assert lr_at(70) == pytest.approx((1e-3 + 1e-5) / 2)
    # the Trainer steps the schedule: the lr of step t (0-based) is lr_at(t), times
    # the method's factor (1.5 for the best recipe on the grid)
    tr = mog.make_trainer(mog.BEST, data.grid(), schedule=mog.Schedule(steps=8))
    grid_lr = mog.Schedule(steps=8, decay_from=0.25, final_lr=1e-6).lr_lambda()
    for t in range(4):
        assert tr.g_optimizer.param_groups[0]["lr"] == 1.5 * grid_lr(t)
        assert tr.d_optimizer.param_groups[0]["lr"] == 1.5 * grid_lr(t)
        tr.step()


def test_same_seed_same_run():
    a = mog.train_mog("gan", "ring", seed=3, steps=5)
    b = mog.train_mog("gan", "ring", seed=3, steps=5)
    np.testing.assert_array_equal(a.samples, b.samples)


def test_snapshot_has_field_arrows_and_occupancy():
    tr = mog.make_trainer("gan", data.ring(), schedule=mog.Schedule(steps=2))
    tr.fit(2)
    snap = snapshot(tr, data.ring(), 2, resolution=20, n_arrows=30)
    assert snap.d_field.shape == (20, 20) and 0 <= snap.d_field.min() <= snap.d_field.max() <= 1
    assert snap.arrows.shape == (30, 2) and np.isfinite(snap.arrows).all()
    assert snap.occupancy.shape == (8,) and snap.occupancy.sum() <= 1.0


def test_every_method_takes_a_step():
    for name in mog.METHODS:
        run = mog.train_mog(name, "grid", seed=0, steps=2, schedule=mog.Schedule(batch_size=24))
        assert run.samples.shape == (2500, 2) and np.isfinite(run.samples).all()
        assert len(run.trainer.history) == 2


def test_short_vanilla_run_misses_modes_that_the_best_recipe_covers():
    # The same seed, 400 steps of batch 120 (seconds): the vanilla GAN is caught on at
    # most a few modes, PacGAN (the best recipe) already spreads over the whole ring.
    # (The exact numbers depend on the BLAS thread count; these bounds hold for 1 and 2.)
    sched = mog.Schedule(batch_size=120)
    vanilla = mog.train_mog("gan", "ring", seed=0, steps=400, schedule=sched)
    best = mog.train_mog(mog.BEST, "ring", seed=0, steps=400, schedule=sched)
    assert vanilla.scores["modes"] <= 3, vanilla.scores
    assert best.scores["modes"] == 8, best.scores
    kl_vanilla = vanilla.scores["reverse_kl"]      # NaN: not one high-quality sample
    assert best.scores["reverse_kl"] < (np.log(8) if np.isnan(kl_vanilla) else kl_vanilla)


def test_table_is_recomputed_from_the_saved_samples(tmp_path):
    from minigan.experiments import mog_table as lab
    ring, grid = data.ring(), data.grid()
    minigan.manual_seed(0)
    (tmp_path / "samples").mkdir()
    for seed in range(3):
        np.save(tmp_path / "samples" / f"ring__gan__seed{seed}.npy",
                np.repeat(ring.centers[:2 + seed], 100, axis=0))        # 2, 3, 4 modes
        np.save(tmp_path / "samples" / f"grid__pacgan2__seed{seed}.npy",
                grid.sample(metrics.N_EVAL).numpy())
    rows = lab.recompute_table(tmp_path)
    by = {(r["dataset"], r["method"]): r for r in rows}
    gan = by[("ring", "gan")]
    assert gan["seeds"] == 3 and gan["modes"] == 3.0 and gan["modes_min"] == 2
    assert gan["modes_se"] == pytest.approx(1 / np.sqrt(3))           # std 1 over sqrt(3)
    assert gan["high_quality"] == 100.0
    assert gan["reverse_kl"] == pytest.approx(np.mean([np.log(8 / k) for k in (2, 3, 4)]))
    pac = by[("grid", "pacgan2")]
    assert pac["modes"] == 25 and abs(pac["high_quality"] - 98.89) < 1.0
    md = lab.write_table(rows, tmp_path)
    assert "| ring | gan | 3 | 3.0 +- 0.6 / 8 | 2 |" in md
    assert "PacGAN4 (PacGAN Table 1)" in md and (tmp_path / "table.csv").exists()


def test_recompute_without_samples_says_what_to_run(tmp_path):
    from minigan.experiments import mog_table as lab
    with pytest.raises(FileNotFoundError, match="mog-table"):
        lab.recompute_table(tmp_path)


def test_table_workers_change_the_time_not_the_numbers(tmp_path):
    # Two worker processes (one BLAS thread each) and one in-process run of the same
    # job give the same samples: the runs are seeded, whatever process trains them.
    from minigan.experiments import mog_table as lab
    jobs = dict(methods=["gan", "pacgan2"], datasets=("ring",), seeds=[0], steps=3,
                progress=False)
    two = lab.run_table(tmp_path / "a", jobs=2, **jobs)
    assert [(r["method"], r["steps"]) for r in two] == [("gan", 3), ("pacgan2", 3)]
    one = lab.run_table(tmp_path / "b", jobs=1, **jobs)
    assert [(r["method"], r["steps"]) for r in one] == [("gan", 3), ("pacgan2", 3)]
    for r in ("gan", "pacgan2"):
        a = np.load(tmp_path / "a" / "samples" / f"ring__{r}__seed0.npy")
        b = np.load(tmp_path / "b" / "samples" / f"ring__{r}__seed0.npy")
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_resumed_table_still_counts_the_training_it_loads(tmp_path):
    # --resume of a finished run just loads its checkpoint: the cost it reports must
    # be the training's (kept in the checkpoint), not the few seconds of the loading
    from minigan.experiments import mog_table as lab
    job = dict(methods=["gan"], datasets=("ring",), seeds=[0], steps=400, progress=False,
               jobs=1)
    (first,) = lab.run_table(tmp_path, **job)
    saved = minigan.load(tmp_path / "checkpoints" / lab.run_name("ring", "gan", 0)
                         / "checkpoint.npz")
    (again,) = lab.run_table(tmp_path, resume=True, **job)
    assert again["steps"] == 400 and again["high_quality"] == first["high_quality"]
    assert again["cpu_seconds"] >= float(saved["train_cpu_seconds"]) > 0
    assert again["seconds"] >= float(saved["train_seconds"]) > 0


def test_each_method_trains_its_own_steps_unless_told():
    assert mog.steps_of("gan") == mog.Schedule().steps == 3000
    assert mog.steps_of("unrolled") == 1000 and mog.steps_of(mog.BEST) == mog.BEST_STEPS
    run = mog.train_mog("unrolled", "ring", steps=2, schedule=mog.Schedule(batch_size=24))
    assert len(run.trainer.history) == 2


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_unrolled_lookahead_continues_d_adam_state(weight_decay):
    # The first look-ahead step from D's Adam state equals what D's optimizer would do
    # with the same gradient: compare theta_1 with a real Adam step on a copy.
    ring = data.ring()
    tr = mog.make_trainer("unrolled", ring, schedule=mog.Schedule(batch_size=24, steps=3))
    tr.d_optimizer.param_groups[0]["weight_decay"] = weight_decay
    tr.fit(2)                                        # D's Adam has a state now
    theta = list(tr.D.parameters())
    g = [minigan.tensor(np.random.default_rng(i).standard_normal(p.shape).astype(np.float32))
         for i, p in enumerate(theta)]
    new, _ = tr._lookahead(theta, g, tr._adam_start(theta), 1)
    before = [p.numpy().copy() for p in theta]
    for p, gi in zip(theta, g):
        p.grad = gi
    tr.d_optimizer.step()
    for p, b, n in zip(theta, before, new):
        np.testing.assert_allclose(n.numpy(), p.numpy(), rtol=1e-5, atol=1e-7)
        assert np.abs(p.numpy() - b).max() > 0


def test_watching_the_run_does_not_change_it():
    # The `mog` figure's snapshots use their own fixed noise: the trained run is the
    # same with and without them, and they land at the steps asked for.
    from minigan.experiments import mog as lab
    ring, sched = data.ring(), mog.Schedule(batch_size=24)
    watch = lab.fixed_noise_snapshots(ring, 10, seed=0, fractions=(0.2, 1.0))
    a = mog.train_mog("gan", ring, seed=0, steps=10, schedule=sched, callbacks=[watch])
    b = mog.train_mog("gan", ring, seed=0, steps=10, schedule=sched)
    np.testing.assert_array_equal(a.samples, b.samples)
    snaps = lab.as_snapshots(watch)
    assert [s.step for s in snaps] == [2, 10] and snaps[0].fake.shape == (2500, 2)


def test_adam_lookahead_without_adam_is_refused():
    from minigan.optim import SGD
    ring = data.ring()
    tr = mog.make_trainer("gan", ring, schedule=mog.Schedule(steps=1))
    with pytest.raises(ValueError, match="optimizer is SGD.*unroll_lr"):
        UnrolledTrainer(tr.G, tr.D, tr.g_optimizer, SGD(tr.D.parameters(), lr=0.1),
                            tr.sample_real, tr.sample_noise)


def test_a_method_may_train_other_steps_on_one_mixture():
    m = mog.Method("x", "x", steps=50, per_mixture=(("grid25", (("steps", 7),)),))
    assert mog.steps_of(m) == 50 and mog.steps_of(m, mixture=data.ring()) == 50
    assert mog.steps_of(m, mixture=data.grid()) == 7
    run = mog.train_mog(m, "grid", schedule=mog.Schedule(batch_size=24))
    assert len(run.trainer.history) == 7


def test_sample_generator_leaves_g_in_the_mode_it_was_in():
    from minigan.experiments.mog_recipes import sample_generator
    G = models.mlp_generator(noise_dim=4)
    for mode in (True, False):
        G.train(mode)
        assert sample_generator(G, 10).shape == (10, 2)
        assert all(m.training == mode for m in G.modules())

"""The alternating training loop: the algorithm (k D steps, one G step, each player
held fixed while the other learns; one step equal to PyTorch's), the history files,
callbacks, the progress bar, exact resume from checkpoints, Ctrl-C, and divergence."""
import json
import os

import numpy as np
import pytest

import minigan
from minigan import backend, nn, optim
from minigan.gan import losses as L
from minigan.gan.runner import Trainer, History, Callback, TrainingDiverged, train_gan
from conftest import needs_torch

NOISE, DATA = 3, 2


def sample_real(m):
    """A Gaussian blob around (2, -1), drawn from minigan's seeded generator."""
    x = backend.generator("cpu").normal(size=(m, DATA)) * 0.5 + np.array([2.0, -1.0])
    return minigan.tensor(x.astype(np.float32))


def sample_noise(m):
    return minigan.tensor(backend.generator("cpu").normal(size=(m, NOISE)).astype(np.float32))


def make_models(dropout=False, batchnorm=False):
    minigan.manual_seed(123)
    G = nn.Sequential(nn.Dense(NOISE, 16), *( [nn.BatchNorm1d(16)] if batchnorm else []),
                      nn.ReLU(), nn.Dense(16, DATA))
    D = nn.Sequential(nn.Dense(DATA, 16), nn.LeakyReLU(0.2),
                      *([nn.Dropout(0.3)] if dropout else []), nn.Dense(16, 1))
    return G, D


def make_trainer(out_dir=None, dropout=False, batchnorm=False, **kw):
    G, D = make_models(dropout, batchnorm)
    kw.setdefault("progress", False)
    kw.setdefault("batch_size", 16)
    return Trainer(G, D, optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999)),
                   optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999)),
                   sample_real, sample_noise, out_dir=out_dir, **kw)


def params(module):
    return [p.numpy().copy() for p in module.parameters()]


def assert_same_bits(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert np.array_equal(x.view(np.uint8), y.view(np.uint8))


# ------------------------------------------------------------ the algorithm
class CountingOptimizer:
    """Wraps an optimizer and counts its steps."""

    def __init__(self, opt):
        self.opt, self.steps = opt, 0

    def zero_grad(self):
        self.opt.zero_grad()

    def step(self):
        self.steps += 1
        self.opt.step()

    def state_dict(self):
        return self.opt.state_dict()

    def load_state_dict(self, s):
        self.opt.load_state_dict(s)


def test_k_discriminator_steps_per_generator_step():
    G, D = make_models()
    g_opt = CountingOptimizer(optim.SGD(G.parameters(), lr=0.01))
    d_opt = CountingOptimizer(optim.SGD(D.parameters(), lr=0.01))
    calls = {"real": [], "noise": []}

    def real(m):
        calls["real"].append(m)
        return sample_real(m)

    def noise(m):
        calls["noise"].append(m)
        return sample_noise(m)
    tr = Trainer(G, D, g_opt, d_opt, real, noise, d_steps=3, batch_size=8, progress=False)
    rec = tr.step()
    assert (d_opt.steps, g_opt.steps) == (3, 1)
    assert calls["real"] == [8] * 3 and calls["noise"] == [8] * 4   # k D batches, then G's
    assert set(rec) == set(History.COLUMNS) and rec["step"] == 1
    tr.step()
    assert (d_opt.steps, g_opt.steps) == (6, 2) and tr.global_step == 2 and len(tr.history) == 2


def test_each_player_is_held_fixed_while_the_other_learns():
    tr = make_trainer(d_steps=1)
    rec = tr.step()
    # G's step must not add gradients into D: D's .grad is still the D step's gradient
    d_grad_norm = np.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in tr.D.parameters()))
    assert d_grad_norm == pytest.approx(rec["grad_norm_d"], rel=1e-6)
    assert all(p.requires_grad for p in tr.D.parameters())          # unfrozen again
    assert rec["grad_norm_g"] > 0 and rec["grad_norm_d"] > 0


def test_one_d_step_and_one_g_step_each_move_one_player_only():
    """discriminator_step / generator_step: one update of one player, on the batches
    step() would draw; the step count, schedules and history stay where they were."""
    tr = make_trainer(d_steps=1)
    g0, d0 = params(tr.G), params(tr.D)
    rec = tr.discriminator_step()
    assert set(rec) == {"loss_d", "d_real", "d_fake", "grad_norm_d", "penalty"}
    assert_same_bits(params(tr.G), g0)
    assert any(not np.array_equal(a, b) for a, b in zip(params(tr.D), d0))
    assert tr.global_step == 0 and len(tr.history) == 0
    d1 = params(tr.D)
    rec = tr.generator_step()
    assert set(rec) == {"loss_g", "grad_norm_g"} and rec["grad_norm_g"] > 0
    assert_same_bits(params(tr.D), d1)
    assert any(not np.array_equal(a, b) for a, b in zip(params(tr.G), g0))
    assert tr.global_step == 0 and len(tr.history) == 0
    # a D step then a G step is step() with k = 1: the same numbers, bit for bit
    other = make_trainer(d_steps=1)
    other.step()
    assert_same_bits(params(other.D), d1)
    assert_same_bits(params(other.G), params(tr.G))
    # G held fixed: no G step to take
    fixed = Trainer(*make_models(), None, optim.SGD(make_models()[1].parameters(), lr=0.1),
                    sample_real, sample_noise, progress=False)
    with pytest.raises(ValueError, match="held fixed"):
        fixed.generator_step()


@needs_torch
@pytest.mark.parametrize("loss", ["non-saturating", "minimax", "wasserstein"])
def test_two_steps_match_pytorch(loss):
    """Two full iterations (2 D steps + 1 G step each, SGD) equal the same algorithm in torch."""
    import torch
    import torch.nn.functional as TF
    rng = np.random.default_rng(0)
    batches = {"real": [rng.normal(size=(8, DATA)) for _ in range(4)],
               "noise": [rng.normal(size=(8, NOISE)) for _ in range(6)]}
    G, D = make_models()
    G.double(), D.double()
    it = {k: iter(v) for k, v in batches.items()}
    tr = Trainer(G, D, optim.SGD(G.parameters(), lr=0.1), optim.SGD(D.parameters(), lr=0.1),
                 lambda m: minigan.tensor(next(it["real"])),
                 lambda m: minigan.tensor(next(it["noise"])),
                 loss=loss, d_steps=2, batch_size=8, progress=False,
                 label_smoothing=0.1 if loss == "minimax" else 0.0)
    tnn = torch.nn
    tG = tnn.Sequential(tnn.Linear(NOISE, 16), tnn.ReLU(), tnn.Linear(16, DATA)).double()
    tD = tnn.Sequential(tnn.Linear(DATA, 16), tnn.LeakyReLU(0.2), tnn.Linear(16, 1)).double()
    for tm, m in ((tG, G), (tD, D)):
        with torch.no_grad():
            for tp, p in zip(tm.parameters(), m.parameters()):
                tp.copy_(torch.tensor(p.numpy()))

    def sgd_step(module, loss):       # by hand: torch.optim's first use costs seconds of imports
        grads = torch.autograd.grad(loss, list(module.parameters()))
        with torch.no_grad():
            for p, g in zip(module.parameters(), grads):
                p -= 0.1 * g
    real_t = iter(torch.tensor(b) for b in batches["real"])
    noise_t = iter(torch.tensor(b) for b in batches["noise"])
    for _ in range(2):
        tr.step()
        for _ in range(2):
            z, x = next(noise_t), next(real_t)
            fake = tG(z).detach()
            rl, fl = tD(x), tD(fake)
            if loss == "wasserstein":
                ld = fl.mean() - rl.mean()
            else:
                target = 0.9 if loss == "minimax" else 1.0
                ld = (TF.binary_cross_entropy_with_logits(rl, torch.full_like(rl, target))
                      + TF.binary_cross_entropy_with_logits(fl, torch.zeros_like(fl)))
            sgd_step(tD, ld)
        fl = tD(tG(next(noise_t)))
        lg = {"non-saturating":
              lambda: TF.binary_cross_entropy_with_logits(fl, torch.ones_like(fl)),
              "minimax": lambda: -TF.softplus(fl).mean(),
              "wasserstein": lambda: -fl.mean()}[loss]()
        sgd_step(tG, lg)                  # only G moves: D is held fixed
    for tm, m in ((tG, G), (tD, D)):
        for tp, p in zip(tm.parameters(), m.parameters()):
            np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert tr.history[-1]["loss_g"] == pytest.approx(lg.item(), rel=1e-10)


def test_same_seed_same_run_and_other_seed_other_run():
    a = make_trainer(seed=5, dropout=True)
    a.fit(5)
    b = make_trainer(seed=5, dropout=True)
    b.fit(5)
    c = make_trainer(seed=6, dropout=True)
    c.fit(5)
    assert a.history.records == b.history.records
    assert a.history.records != c.history.records


# ------------------------------------------------------ what is recorded
def test_history_reports_probabilities_for_bce_and_raw_outputs_otherwise():
    bce = make_trainer(loss="non-saturating")
    logits = minigan.tensor(np.array([[-3.0], [0.0], [5.0]], dtype=np.float32))
    probs = 1 / (1 + np.exp(-logits.numpy()))
    assert bce._report(logits).item() == pytest.approx(probs.mean(), rel=1e-6)
    wgan = make_trainer(loss="wasserstein")
    assert wgan._report(logits).item() == pytest.approx(2.0 / 3.0, rel=1e-6)
    bce.fit(3)
    for col in ("d_real", "d_fake"):
        assert ((bce.history[col] > 0) & (bce.history[col] < 1)).all()


def test_history_files_in_out_dir(tmp_path):
    tr = make_trainer(out_dir=tmp_path, penalty=L.r1_penalty)
    hist = tr.fit(4)
    assert hist is tr.history and len(hist) == 4
    assert list(hist["step"]) == [1, 2, 3, 4]
    assert (hist["penalty"] > 0).all()
    back = History.read_csv(tmp_path / "history.csv")
    assert back.records == hist.records                 # repr() of floats round-trips exactly
    assert json.loads((tmp_path / "history.json").read_text()) == hist.records
    assert (tmp_path / "checkpoint.npz").exists()       # fit ends with a checkpoint
    with pytest.raises(KeyError, match="loss_d"):
        hist["loss"]


def test_penalty_is_added_to_the_discriminator_loss():
    seen = []

    def constant_penalty(D, real, fake):
        seen.append((real.shape, fake.shape))
        return minigan.tensor(np.float32(7.0))
    ra = make_trainer(seed=1).step()        # (one global generator: build each, then step)
    rb = make_trainer(seed=1, penalty=constant_penalty).step()
    assert seen == [((16, DATA), (16, DATA))]
    assert rb["loss_d"] == pytest.approx(ra["loss_d"] + 7.0, rel=1e-6) and rb["penalty"] == 7.0


def test_lazy_penalty_every_nth_d_update_scaled_by_n():
    calls = []

    def constant_penalty(D, real, fake):
        calls.append(1)
        return minigan.tensor(np.float32(7.0))
    tr = make_trainer(seed=1, penalty=constant_penalty, penalty_every=3, d_steps=2)
    tr.fit(3)                                   # D updates 0..5: the penalty on 0 and 3
    assert len(calls) == 2
    assert list(tr.history["penalty"]) == [21.0 / 2, 21.0 / 2, 0.0]   # averaged over k = 2
    for bad in (0, 1.5, -2):
        with pytest.raises(ValueError, match="penalty_every"):
            make_trainer(penalty=constant_penalty, penalty_every=bad)


def test_lazy_penalty_resumes_on_the_same_updates(tmp_path):
    whole = make_trainer(seed=2, penalty=L.r1_penalty, penalty_every=3)
    whole.fit(5)
    first = make_trainer(seed=2, penalty=L.r1_penalty, penalty_every=3, out_dir=tmp_path)
    first.fit(2)
    rest = make_trainer(seed=2, penalty=L.r1_penalty, penalty_every=3, out_dir=tmp_path)
    rest.fit(5, resume=True)
    assert rest.history.records == whole.history.records
    assert [p > 0 for p in whole.history["penalty"]] == [True, False, False, True, False]


def test_label_smoothing_and_weight_clipping():
    tr = make_trainer(label_smoothing=0.1)
    r = minigan.tensor(np.array([[1.0], [-2.0]], dtype=np.float32))
    f = minigan.tensor(np.array([[0.5], [3.0]], dtype=np.float32))
    assert tr._d_loss(r, f).item() == L.bce_d_loss(r, f, real_target=0.9).item()
    assert tr._d_loss(r, f).item() != L.bce_d_loss(r, f).item()
    wc = make_trainer(loss="wasserstein", weight_clip=0.01, d_steps=2)
    wc.step()
    assert max(np.abs(p).max() for p in params(wc.D)) <= 0.01


def test_callbacks_every_and_at_end():
    every_step, every_3 = [], []
    tr = make_trainer(callbacks=[
        lambda t, s: every_step.append(s),
        Callback(lambda t, s: every_3.append((s, len(t.history))), every=3)])
    tr.fit(10)
    assert every_step == list(range(1, 11))
    assert every_3 == [(3, 3), (6, 6), (9, 9), (10, 10)]
    with pytest.raises(ValueError, match="every"):
        Callback(print, every=0)


def test_progress_bar_shows_losses_and_can_be_disabled(capsys):
    make_trainer(progress=True).fit(3)
    err = capsys.readouterr().err
    assert "loss_d" in err and "loss_g" in err and "3/3" in err
    make_trainer(progress=False).fit(3)
    assert capsys.readouterr().err == ""


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="minimax.*non-saturating.*hinge"):
        make_trainer(loss="vanilla")
    with pytest.raises(ValueError, match="label smoothing.*wasserstein"):
        make_trainer(loss="wasserstein", label_smoothing=0.1)
    with pytest.raises(ValueError, match="d_steps"):
        make_trainer(d_steps=0)
    with pytest.raises(ValueError, match="out_dir"):
        make_trainer(checkpoint_every=5)
    with pytest.raises(ValueError, match="out_dir"):
        make_trainer(checkpoint_seconds=300)
    with pytest.raises(ValueError, match="checkpoint_seconds"):
        make_trainer(out_dir="x", checkpoint_seconds=-1)
    with pytest.raises(ValueError, match="label_smoothing"):
        make_trainer(label_smoothing=1.0)


# ------------------------------------------------------------ checkpoints
RUN = dict(dropout=True, batchnorm=True, d_steps=2, penalty=L.gradient_penalty)


def straight_run(steps):
    tr = make_trainer(**RUN)
    tr.fit(steps)
    return tr


def assert_same_run(a, b):
    assert_same_bits(params(a.G), params(b.G))
    assert_same_bits(params(a.D), params(b.D))
    assert_same_bits([x.numpy() for x in a.G.buffers()], [x.numpy() for x in b.G.buffers()])
    assert a.history.records == b.history.records
    assert a.global_step == b.global_step


def test_resume_continues_exactly_like_an_uninterrupted_run(tmp_path):
    straight = straight_run(20)
    first = make_trainer(out_dir=tmp_path, checkpoint_every=5, **RUN)
    first.fit(10)
    assert minigan.load(tmp_path / "checkpoint.npz")["step"] == 10
    second = make_trainer(out_dir=tmp_path, **RUN)     # a fresh process, as it were
    second.fit(20, resume=True)
    assert_same_run(straight, second)
    # and the optimizer states agree too
    sa, sb = straight.d_optimizer.state_dict(), second.d_optimizer.state_dict()
    for k in sa["state"]:
        assert_same_bits([sa["state"][k]["exp_avg_sq"]], [sb["state"][k]["exp_avg_sq"]])


def test_checkpoint_holds_everything(tmp_path):
    tr = make_trainer(out_dir=tmp_path, checkpoint_every=3, **RUN)
    tr.fit(3)
    ck = minigan.load(tmp_path / "checkpoint.npz")
    assert set(ck) >= {"generator", "discriminator", "g_optimizer", "d_optimizer", "step",
                       "history", "rng"}
    assert ck["step"] == 3 and len(json.loads(ck["history"])) == 3
    assert isinstance(json.loads(ck["rng"])["cpu"], dict)          # bit_generator.state
    assert set(ck["generator"]) == {k for k, _ in tr.G.state_dict().items()}


def test_ctrl_c_saves_a_checkpoint_and_the_run_resumes_exactly(tmp_path, capsys):
    def interrupt(trainer, step):
        if step == 7:
            raise KeyboardInterrupt
    tr = make_trainer(out_dir=tmp_path, checkpoint_every=5, callbacks=[interrupt], **RUN)
    hist = tr.fit(20)                                   # returns cleanly
    assert tr.interrupted and len(hist) == 7
    out = capsys.readouterr().out
    assert str(tmp_path / "checkpoint.npz") in out and "step 7" in out
    assert minigan.load(tmp_path / "checkpoint.npz")["step"] == 7
    resumed = make_trainer(out_dir=tmp_path, **RUN)
    resumed.fit(20, resume=True)
    assert not resumed.interrupted
    assert_same_run(straight_run(20), resumed)


class _Killed(BaseException):
    """Stands for a kill with no Ctrl-C (out of memory, a reboot): nothing saves on the way out."""


@pytest.mark.parametrize("every_seconds", [0, 3600])
def test_an_experiments_run_saves_on_a_timer_so_a_killed_run_loses_little(
        tmp_path, monkeypatch, every_seconds):
    from minigan import experiments
    monkeypatch.setattr(experiments, "SAVE_EVERY_SECONDS", every_seconds)

    def kill(trainer, step):
        if step == 14:
            raise _Killed
    cfg = experiments.RunConfig("x", out=tmp_path, resume=True)

    def build(callbacks=()):
        settings = cfg.trainer_settings("run", callbacks)
        return make_trainer(settings.pop("out_dir"), **settings, **RUN)
    with pytest.raises(_Killed):
        build([kill]).fit(20, resume=cfg.resume)
    path = tmp_path / "checkpoints" / "run" / "checkpoint.npz"
    if every_seconds:                      # the timer never ran out: the kill lost everything
        assert not path.exists()
        return
    assert minigan.load(path)["step"] == 13        # saved after every step but the killed one
    resumed = build()
    resumed.fit(20, resume=cfg.resume)
    assert_same_run(straight_run(20), resumed)


def test_training_time_is_kept_across_a_resume(tmp_path):
    def interrupt(trainer, step):
        if step == 7:
            raise KeyboardInterrupt
    tr = make_trainer(out_dir=tmp_path, callbacks=[interrupt], **RUN)
    tr.fit(20)
    state = minigan.load(tmp_path / "checkpoint.npz")
    saved, saved_cpu = float(state["train_seconds"]), float(state["train_cpu_seconds"])
    assert 0 < saved <= tr.train_seconds
    assert 0 < saved_cpu <= tr.train_cpu_seconds
    resumed = make_trainer(out_dir=tmp_path, **RUN)
    resumed.fit(20, resume=True)
    assert resumed.train_seconds > saved         # the first 7 steps still count
    assert resumed.train_cpu_seconds > saved_cpu
    state = minigan.load(tmp_path / "checkpoint.npz")
    del state["train_seconds"], state["train_cpu_seconds"]   # a checkpoint missing them
    older = make_trainer(**RUN)
    with pytest.raises(ValueError, match="it lacks train_seconds, train_cpu_seconds"):
        older.load_state_dict(state)
    assert older.train_seconds == 0.0 and older.global_step == 0     # left as it was


@pytest.fixture
def takes_ctrl_c():
    """Python's own SIGINT handler for the test: a test process started in the background
    (`pytest &` in a script) inherits SIGINT ignored, which the Runner rightly respects;
    a test of Ctrl-C needs the process a terminal gives."""
    import signal
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_a_real_ctrl_c_finishes_the_step_before_saving(tmp_path, capsys, takes_ctrl_c):
    """SIGINT arriving in the middle of a step: the step completes, then the run stops,
    so the checkpoint holds whole steps and the resumed run is still exact."""
    import signal
    calls = []

    def real(m):
        calls.append(m)
        if len(calls) == 9:                   # the first D batch of step 5 (d_steps=2)
            os.kill(os.getpid(), signal.SIGINT)
        return sample_real(m)
    G, D = make_models(dropout=True, batchnorm=True)
    RUN_NO_MODELS = {k: v for k, v in RUN.items() if k not in ("dropout", "batchnorm")}
    tr = Trainer(G, D, optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999)),
                 optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999)), real, sample_noise,
                 batch_size=16, out_dir=tmp_path, progress=False, **RUN_NO_MODELS)
    tr.fit(20)
    assert tr.interrupted and tr.global_step == 5 and len(calls) == 10
    assert "finishing this step" in capsys.readouterr().out
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # handler put back
    resumed = make_trainer(out_dir=tmp_path, **RUN)
    resumed.fit(20, resume=True)
    assert_same_run(straight_run(20), resumed)


def test_trainer_runs_on_every_device(device):
    G, D = make_models(batchnorm=True)
    G.to(device), D.to(device)

    def real(m):
        return sample_real(m).to(device)

    def noise(m):
        return sample_noise(m).to(device)
    tr = Trainer(G, D, optim.Adam(G.parameters()), optim.Adam(D.parameters()), real, noise,
                 batch_size=16, d_steps=2, penalty=L.gradient_penalty, progress=False)
    tr.fit(3)
    assert all(np.isfinite(tr.history[c]).all() for c in History.COLUMNS)
    assert all(p.device == device for p in G.parameters())


def test_resume_without_a_checkpoint_starts_from_zero(tmp_path, capsys):
    tr = make_trainer(out_dir=tmp_path)
    tr.fit(2, resume=True)
    assert "no checkpoint" in capsys.readouterr().err and tr.global_step == 2
    quiet = make_trainer(out_dir=tmp_path / "q", verbose=False)      # said all the same
    quiet.fit(1, resume=True)
    assert "Trainer: no checkpoint at" in capsys.readouterr().err


def test_nan_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    calls = []

    def poisoned_real(m):
        calls.append(m)
        x = sample_real(m)
        if len(calls) == 8:                             # the D step of step 8
            x.data[0, 0] = np.nan
        return x
    G, D = make_models()
    tr = Trainer(G, D, optim.Adam(G.parameters()), optim.Adam(D.parameters()), poisoned_real,
                 sample_noise, batch_size=16, out_dir=tmp_path, checkpoint_every=5, progress=False)
    with pytest.raises(TrainingDiverged, match=r"step 8: loss_d is nan") as e:
        tr.fit(20)
    assert isinstance(e.value, FloatingPointError)
    assert e.value.step == 8 and e.value.loss_name == "loss_d"
    assert e.value.checkpoint == os.path.join(tmp_path, "checkpoint.npz")
    assert "checkpoint" in str(e.value)
    ck = minigan.load(tmp_path / "checkpoint.npz")
    assert ck["step"] == 5
    assert all(np.isfinite(a).all() for a in ck["generator"].values())
    assert len(History.read_csv(tmp_path / "history.csv")) == 7    # the good steps


def test_non_finite_weights_never_overwrite_a_good_checkpoint(tmp_path):
    tr = make_trainer(out_dir=tmp_path)
    tr.fit(2)
    before = (tmp_path / "checkpoint.npz").read_bytes()
    next(iter(tr.D.parameters())).data[0, 0] = np.inf
    with pytest.raises(TrainingDiverged, match="discriminator's weights"):
        tr.save_checkpoint()
    assert (tmp_path / "checkpoint.npz").read_bytes() == before


# ---------------------------------------------------------------- learning
def test_a_small_gan_learns_a_1d_gaussian():
    """The phenomenon, not only the code path: G's samples move onto N(3, 0.5^2)."""
    minigan.manual_seed(0)
    G = nn.Sequential(nn.Dense(1, 16), nn.LeakyReLU(0.2), nn.Dense(16, 1))
    D = nn.Sequential(nn.Dense(1, 16), nn.LeakyReLU(0.2), nn.Dense(16, 1))

    def real(m):
        return minigan.tensor((backend.generator("cpu").normal(size=(m, 1)) * 0.5 + 3.0)
                              .astype(np.float32))

    def noise(m):
        return minigan.tensor(backend.generator("cpu").normal(size=(m, 1)).astype(np.float32))
    tr = train_gan(G, D, real, noise, steps=400, lr=5e-3, batch_size=64, progress=False)
    with minigan.no_grad():
        x = G(noise(2000)).numpy()
    assert abs(x.mean() - 3.0) < 0.3, x.mean()
    assert 0.2 < x.std() < 0.9, x.std()
    assert len(tr.history) == 400


def test_resuming_with_other_settings_warns(tmp_path):
    make_trainer(out_dir=tmp_path).fit(2)
    with pytest.warns(UserWarning, match="d_steps: 1 -> 2"):
        make_trainer(out_dir=tmp_path, d_steps=2).fit(3, resume=True)


# ------------------------------------------------- G held fixed, schedules
def test_without_a_generator_optimizer_g_is_held_fixed():
    G, D = make_models()
    before = params(G)
    tr = Trainer(G, D, None, optim.Adam(D.parameters(), lr=1e-2), sample_real, sample_noise,
                 batch_size=16, progress=False)
    d_before = params(D)
    tr.fit(5)
    assert_same_bits(params(G), before)                      # G never moved
    assert any(np.abs(a - b).max() > 0 for a, b in zip(params(D), d_before))
    h = tr.history
    assert (h["grad_norm_g"] == 0).all() and np.isfinite(h["loss_g"]).all()


def test_schedules_step_with_the_trainer_and_resume_exactly(tmp_path):
    def run(out, steps, resume=False):
        tr = make_trainer(out)
        sched = optim.LambdaLR(tr.d_optimizer, optim.hold_then_decay(6, hold=0.5, end=0.1))
        tr.schedulers.append(sched)
        lrs = []
        tr.callbacks.append(Callback(lambda t, s: lrs.append(t.d_optimizer.param_groups[0]["lr"])))
        tr.fit(steps, resume=resume)
        return tr, lrs
    full, lrs = run(tmp_path / "a", 6)
    f = optim.hold_then_decay(6, hold=0.5, end=0.1)
    # after step s (1-based) the lr is the one for step s (0-based): 1e-3 * f(s)
    np.testing.assert_allclose(lrs, [1e-3 * f(s) for s in range(1, 7)], rtol=1e-12)
    assert lrs[1] == 1e-3 and lrs[-1] == pytest.approx(1e-4)
    run(tmp_path / "b", 4)
    resumed, _ = run(tmp_path / "b", 6, resume=True)
    assert resumed.schedulers[0].last_step == 6
    assert_same_bits(params(resumed.D), params(full.D))
    assert_same_bits(params(resumed.G), params(full.G))


# ------------------------------------------------------- all-or-nothing loads
def test_a_failed_load_changes_nothing(tmp_path):
    tr = make_trainer(tmp_path)
    tr.fit(3)
    path = tr.save_checkpoint()
    other = make_trainer()
    other.D = nn.Sequential(nn.Dense(DATA, 8), nn.LeakyReLU(0.2), nn.Dense(8, 1))  # another D
    other.d_optimizer = optim.Adam(other.D.parameters(), lr=1e-3)
    g, d = params(other.G), params(other.D)
    g_state = other.g_optimizer.state_dict()
    with pytest.raises(RuntimeError, match="(?s)checkpoint.s discriminator does not fit.*shape mismatch"):
        other.load_checkpoint(path)
    assert_same_bits(params(other.G), g)            # G was not overwritten before D failed
    assert_same_bits(params(other.D), d)
    assert other.global_step == 0 and len(other.history) == 0
    assert other.g_optimizer.state_dict()["state"].keys() == g_state["state"].keys()
    assert other.last_checkpoint is None


def test_a_checkpoint_that_is_not_a_trainers_gets_a_clear_error(tmp_path):
    G, _ = make_models()
    minigan.save(G.state_dict(), tmp_path / "g.npz")
    tr = make_trainer()
    with pytest.raises(ValueError, match=r"not a Trainer checkpoint: it lacks generator.*"
                                         r"model.load_state_dict"):
        tr.load_checkpoint(tmp_path / "g.npz")

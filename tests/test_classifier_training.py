"""A classifier trained on the library's runner (minigan.supervised): the step
is the cross-entropy update written out (equal to PyTorch's), and the runner gives
it what a GAN's run has: history files, exact resume, Ctrl-C, the NaN stop, and a
clear error for a checkpoint of another kind."""
import numpy as np
import pytest

import minigan
from minigan import nn, optim
from minigan.supervised import SupervisedStep as ClassifierStep, ClassifierTrainer
from minigan.gan.runner import TrainingDiverged, CheckpointMismatch
from minigan.experiments.image_gans import ShiftedPasses
from conftest import needs_torch

N, DIM, CLASSES = 60, 4, 3


class Blobs:
    """Three Gaussian blobs, one per class, taken in order with a saved position."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.y = rng.integers(0, CLASSES, N)
        self.x = (rng.normal(size=(N, DIM)) + 2.0 * np.eye(CLASSES, DIM)[self.y]).astype(
            np.float32)
        self.position = 0

    def __call__(self, m):
        idx = (np.arange(m) + self.position * m) % N
        self.position += 1
        return minigan.tensor(self.x[idx]), minigan.tensor(self.y[idx])

    def state_dict(self):
        return {"position": self.position}

    def load_state_dict(self, state):
        self.position = int(state["position"])


def make(out_dir=None, lr=0.05, **kw):
    minigan.manual_seed(5)
    model = nn.Sequential(nn.Dense(DIM, 8), nn.ReLU(), nn.Dense(8, CLASSES))
    opt = optim.Adam(model.parameters(), lr=lr)
    sched = optim.LambdaLR(opt, lambda s: 1.0 / (1 + 0.1 * s))
    kw.setdefault("progress", False)
    return ClassifierTrainer(model, opt, Blobs(), batch_size=12, schedulers=[sched],
                             out_dir=out_dir, **kw)


def weights(model):
    return [p.data.copy() for p in model.parameters()]


def test_the_loss_falls_and_the_history_is_written(tmp_path):
    tr = make(tmp_path)
    tr.fit(40)
    loss = tr.history["loss"]
    assert len(loss) == 40 and loss[-5:].mean() < 0.5 * loss[:5].mean()
    header = (tmp_path / "history.csv").read_text().splitlines()[0]
    assert header == "step,loss"
    with pytest.raises(KeyError, match="columns: step, loss"):
        tr.history["loss_d"]


def test_resume_continues_exactly_like_an_uninterrupted_run(tmp_path):
    whole = make(tmp_path / "a")
    whole.fit(20)
    first = make(tmp_path / "b")
    first.fit(8)
    second = make(tmp_path / "b")
    second.fit(20, resume=True)
    assert second.global_step == 20 and len(second.history) == 20
    for p, q in zip(weights(whole.model), weights(second.model)):
        np.testing.assert_array_equal(p, q)
    assert whole.history.records == second.history.records


def test_ctrl_c_saves_and_the_run_resumes_exactly(tmp_path):
    whole = make(tmp_path / "a")
    whole.fit(12)

    def stop_at_5(trainer, step):
        if step == 5:
            trainer.request_stop()
    stopped = make(tmp_path / "b", callbacks=[stop_at_5], verbose=False)
    stopped.fit(12)
    assert stopped.interrupted and stopped.global_step == 5
    resumed = make(tmp_path / "b")
    resumed.fit(12, resume=True)
    for p, q in zip(weights(whole.model), weights(resumed.model)):
        np.testing.assert_array_equal(p, q)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_nan_loss_stops_with_the_step_named(tmp_path):
    tr = make(tmp_path, lr=1e30)
    with pytest.raises(TrainingDiverged, match=r"at step \d+: loss is nan"):
        tr.fit(50)


def test_a_gans_checkpoint_is_refused_by_name(tmp_path):
    from test_runner import make_trainer
    gan = make_trainer(tmp_path)
    gan.fit(2)
    with pytest.raises(CheckpointMismatch, match="not a SupervisedTrainer checkpoint: it "
                                                 "lacks model, optimizer"):
        make(tmp_path).fit(4, resume=True)


def test_bad_settings_are_explained():
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        ClassifierStep(None, None, None, batch_size=0)
    with pytest.raises(ValueError, match="SupervisedTrainer: checkpoint_every needs an out_dir"):
        make(checkpoint_every=3)


@needs_torch
def test_one_step_matches_pytorch():
    import torch
    tr = make(lr=0.01)
    x, y = Blobs()(12)
    tm = torch.nn.Sequential(torch.nn.Linear(DIM, 8), torch.nn.ReLU(), torch.nn.Linear(8, CLASSES))
    with torch.no_grad():
        for (name, p), layer in zip([(0, tr.model[0]), (2, tr.model[2])], (tm[0], tm[2])):
            layer.weight.copy_(torch.tensor(p.weight.data))
            layer.bias.copy_(torch.tensor(p.bias.data))
    opt = torch.optim.Adam(tm.parameters(), lr=0.01)
    loss = torch.nn.functional.cross_entropy(tm(torch.tensor(x.data)),
                                             torch.tensor(y.data).long())
    opt.zero_grad()
    loss.backward()
    opt.step()
    record = tr.step()
    assert record["loss"] == pytest.approx(loss.item(), rel=1e-6)
    np.testing.assert_allclose(tr.model[0].weight.data, tm[0].weight.detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_the_judges_batches_resume_where_they_stopped():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 50)
    a, b = ShiftedPasses(x, y, 16, seed=3), ShiftedPasses(x, y, 16, seed=3)
    whole = [a(16) for _ in range(9)]           # 4 batches an epoch, the last of 2
    assert [len(t[1].data) for t in whole[:5]] == [16, 16, 16, 2, 16]
    for _ in range(6):
        b(16)
    c = ShiftedPasses(x, y, 16, seed=3)
    c.load_state_dict(b.state_dict())
    for want, got in zip(whole[6:], [c(16) for _ in range(3)]):
        np.testing.assert_array_equal(want[0].data, got[0].data)
        np.testing.assert_array_equal(want[1].data, got[1].data)

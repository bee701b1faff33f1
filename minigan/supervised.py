"""Supervised training on the library's runner: a classifier (the judges, a
classifier on an encoder), an autoencoder, an encoder of G's codes.

One supervised step:

    sample a minibatch of m inputs x and their targets y
    L = loss(f(x), y)        (cross-entropy for labels; mean squared error for
                              an autoencoder, y = x, or an encoder, y = z)
    theta -= step(dL/dtheta) (the optimizer's rule)

``SupervisedStep.step`` is that, line for line; ``SupervisedTrainer`` runs it
with ``minigan.gan.runner.Runner``, so every training in minigan gets the same
history, checkpoints, exact resume, Ctrl-C and NaN check as a GAN's.
``IndexBatches`` feeds shuffled passes over a data set with its position saved.
"""
import math

import numpy

from . import functional as F
from .gan.runner import Runner
from .tensor import Tensor


class SupervisedStep:
    """A `model`, its `optimizer`, and ``sample(m)``: m inputs and their targets, as
    Tensors (x, y). `loss(prediction, y)` (default: the cross-entropy of logits and
    labels). `forward(x)`: how the prediction is made (default: ``model(x)``; a
    classifier on a frozen encoder passes its own). `schedulers`: learning-rate
    schedules, each stepped after every step."""

    def __init__(self, model, optimizer, sample, batch_size=128, schedulers=(),
                 loss=F.cross_entropy, forward=None):
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"SupervisedStep: batch_size must be a positive integer, "
                             f"got {batch_size!r}")
        self.model, self.optimizer, self.sample = model, optimizer, sample
        self.batch_size = int(batch_size)
        self.schedulers = list(schedulers or ())
        self.loss_fn, self.forward = loss, forward or model
        self.global_step = 0

    def step(self):
        """One update on one minibatch; returns the step's record (its loss)."""
        self.model.train()
        x, y = self.sample(self.batch_size)                 # m inputs, m targets
        loss = self.loss_fn(self.forward(x), y)             # L
        self.optimizer.zero_grad()
        loss.backward()                                     # dL/dtheta
        self.optimizer.step()                               # theta -= step(...)
        value = float(loss.item())
        if not math.isfinite(value):
            self._diverged("loss", value)
        for schedule in self.schedulers:                    # the next step's rate
            schedule.step()
        self.global_step += 1
        return {"step": self.global_step, "loss": value}


class SupervisedTrainer(Runner, SupervisedStep):
    """``SupervisedStep`` run by ``Runner``'s ``fit`` (the arguments from ``out_dir``
    on: ``minigan.gan.runner.Runner``). A ``sample`` with ``state_dict()`` and
    ``load_state_dict()`` has its position saved in checkpoints."""
    HISTORY_COLUMNS = ("step", "loss")
    SHOWN = ("loss",)

    def __init__(self, model, optimizer, sample, batch_size=128, schedulers=(),
                 loss=F.cross_entropy, forward=None, out_dir=None, checkpoint_every=None,
                 checkpoint_seconds=None, callbacks=(), progress=True, seed=0, verbose=True,
                 name=None, on_interrupt="return"):
        SupervisedStep.__init__(self, model, optimizer, sample, batch_size, schedulers, loss,
                                forward)
        self._setup_runner(out_dir, checkpoint_every, checkpoint_seconds, callbacks,
                           progress, seed, verbose, name, on_interrupt)

    def checkpoint_parts(self):
        return [("model", self.model), ("optimizer", self.optimizer)]

    def networks(self):
        return [("model", self.model)]

    def samplers(self):
        return [("data", self.sample)]

    def settings(self):
        return {"batch_size": self.batch_size, "seed": self.seed}


# the judges' trainer: a classifier, the cross-entropy
ClassifierTrainer = SupervisedTrainer


class IndexBatches:
    """Shuffled passes over n items, `batch_size` indices a step, from
    ``numpy.random.default_rng(seed)``: a pass is reshuffled when the next batch
    would run past its end. ``position`` (the steps drawn) is what a checkpoint
    keeps; loading it replays the draws, so a resumed run gets the very batches an
    uninterrupted one would. ``take(idx)`` turns a batch of indices into (x, y)."""

    def __init__(self, n, batch_size, seed, take):
        self.n, self.batch_size, self.seed, self.take = int(n), int(batch_size), seed, take
        self._restart(0)

    def _restart(self, position):
        self.rng = numpy.random.default_rng(self.seed)
        self.order, self.at, self.position = self.rng.permutation(self.n), 0, 0
        for _ in range(position):
            self._next()

    def _next(self):
        if self.at + self.batch_size > self.n:          # a new pass: reshuffle
            self.order, self.at = self.rng.permutation(self.n), 0
        idx = self.order[self.at:self.at + self.batch_size]
        self.at += self.batch_size
        self.position += 1
        return idx

    def __call__(self, m):
        return self.take(self._next())

    def state_dict(self):
        return {"position": self.position}

    def load_state_dict(self, state):
        self._restart(int(state["position"]))


def tensors(x, y, device="cpu"):
    """(Tensor(x), Tensor(y)) on `device`: what a sampler returns."""
    return Tensor(x, device=device), Tensor(y, device=device)

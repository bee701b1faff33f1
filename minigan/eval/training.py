"""Training an evaluator classifier on the library's runner.

One supervised step, the classifier's Algorithm 1:

    sample a minibatch of m examples x and their labels y
    L = 1/m sum_i -log softmax(f(x_i))[y_i]          (the cross-entropy)
    theta -= step(dL/dtheta)                          (the optimizer's rule)

``ClassifierStep.step`` is that, line for line; ``ClassifierTrainer`` runs it
with ``minigan.gan.runner.Runner``, so a judge's training gets the same history,
checkpoints, exact resume, Ctrl-C and NaN check as a GAN's.
"""
import math

from .. import functional as F
from ..gan.runner import Runner


class ClassifierStep:
    """A classifier ``model``, its ``optimizer``, and ``sample(m)``: m examples and
    their labels, as Tensors (x, y). ``schedulers``: learning-rate schedules, each
    stepped after every step."""

    def __init__(self, model, optimizer, sample, batch_size=128, schedulers=()):
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"ClassifierStep: batch_size must be a positive integer, "
                             f"got {batch_size}")
        self.model, self.optimizer, self.sample = model, optimizer, sample
        self.batch_size = int(batch_size)
        self.schedulers = list(schedulers or ())
        self.global_step = 0

    def step(self):
        """One update on one minibatch; returns the step's record (its loss)."""
        self.model.train()
        x, y = self.sample(self.batch_size)                 # m examples, m labels
        loss = F.cross_entropy(self.model(x), y)            # L
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


class ClassifierTrainer(Runner, ClassifierStep):
    """``ClassifierStep`` run by ``Runner``'s ``fit`` (the arguments from ``out_dir``
    on: ``minigan.gan.runner.Runner``). A ``sample`` with ``state_dict()`` and
    ``load_state_dict()`` has its position saved in checkpoints."""
    HISTORY_COLUMNS = ("step", "loss")
    SHOWN = ("loss",)

    def __init__(self, model, optimizer, sample, batch_size=128, schedulers=(),
                 out_dir=None, checkpoint_every=None, checkpoint_seconds=None, callbacks=(),
                 progress=True, seed=0, verbose=True, name=None, on_interrupt="return"):
        ClassifierStep.__init__(self, model, optimizer, sample, batch_size, schedulers)
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

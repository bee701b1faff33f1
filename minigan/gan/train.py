"""The alternating training loop of a GAN (Goodfellow et al. 2014, Algorithm 1).

    for number of training iterations:
        for k steps:
            sample a minibatch of m noise samples z and m examples x
            update D by ascending   1/m sum [log D(x) + log(1 - D(G(z)))]
        sample a minibatch of m noise samples z
        update G by descending  1/m sum log(1 - D(G(z)))      (or another G loss)

``Trainer.step`` is that loop body, line for line. Everything else in this file
is bookkeeping a real run needs: a history of the losses (CSV and JSON), a
progress bar, callbacks for figures, checkpoints that resume to exactly the same
run, a clean stop on Ctrl-C, and a clear error when a loss becomes NaN or inf.

Both players *minimize* here: "ascending V" for D is "descending -V", the
discriminator loss of ``minigan.gan.losses``.
"""
import contextlib
import csv
import json
import math
import os
import signal
import threading
import time
import warnings

import numpy
from tqdm.auto import tqdm

from .. import backend
from ..serialization import save, load
from .. import functional as F
from ..tensor import Tensor, no_grad
from .losses import LOSSES, get_loss, clip_weights

CHECKPOINT_NAME = "checkpoint.npz"
# settings a checkpoint may predate: its value when the checkpoint does not name it
_CONFIG_DEFAULTS = {"penalty_every": 1}
TRAINER_STATE_KEYS = ("generator", "discriminator", "g_optimizer", "d_optimizer", "step",
                      "history", "rng", "config")


class TrainingDiverged(FloatingPointError):
    """A loss became NaN or inf. ``step``, ``loss_name``, ``value`` and ``checkpoint``
    (the last good checkpoint, or None) say where and what."""

    def __init__(self, message, step, loss_name, value, checkpoint=None):
        super().__init__(message)
        self.step, self.loss_name, self.value, self.checkpoint = step, loss_name, value, checkpoint


# ----------------------------------------------------------------- history
class History:
    """One record per generator step:

    * ``loss_d``, ``loss_g``: the losses the players minimized (loss_d includes the penalty);
    * ``d_real``, ``d_fake``: the mean of D's output on real samples and on fakes, as
      a probability sigmoid(logit) for the BCE losses (minimax, non-saturating) and
      raw for the others; at the game's equilibrium both are 1/2 (for BCE);
    * ``grad_norm_d``, ``grad_norm_g``: the L2 norm of each player's whole gradient;
    * ``penalty``: the value of the penalty term (0 without one; with a lazy penalty,
      ``penalty_every`` times the penalty on the updates that have it, 0 on the others).

    D's entries are averaged over its ``d_steps`` updates of that step.
    ``history["loss_d"]`` is a column as a NumPy array (for plotting);
    ``history[-1]`` the last record as a dict; ``len(history)`` the number of steps.
    """
    COLUMNS = ("step", "loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "grad_norm_g",
               "penalty")

    def __init__(self, records=()):
        self.records = [dict(r) for r in records]

    def append(self, record):
        self.records.append(record)    # the same dict step() returns (a subclass may amend it)

    def __len__(self):
        return len(self.records)

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in self.COLUMNS:
                raise KeyError(f"History has no column {key!r}; columns: {', '.join(self.COLUMNS)}")
            return numpy.array([r[key] for r in self.records], dtype=numpy.float64)
        return self.records[key]

    def __repr__(self):
        return f"History({len(self)} steps)"

    def to_json(self):
        """The records as JSON text (floats written exactly, so a checkpoint round-trips)."""
        return json.dumps(self.records)

    @classmethod
    def from_json(cls, text):
        return cls(json.loads(text))

    def save(self, out_dir):
        """Write history.csv and history.json into out_dir (each atomically)."""
        os.makedirs(out_dir, exist_ok=True)
        lines = [",".join(self.COLUMNS)]
        for r in self.records:
            lines.append(",".join(repr(r[c]) for c in self.COLUMNS))
        _atomic_write_text(os.path.join(out_dir, "history.csv"), "\n".join(lines) + "\n")
        _atomic_write_text(os.path.join(out_dir, "history.json"), self.to_json() + "\n")

    @classmethod
    def read_csv(cls, path):
        """Read a history.csv back (for plotting a finished run)."""
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        return cls([{k: (int(v) if k == "step" else float(v)) for k, v in r.items()} for r in rows])


def _atomic_write_text(path, text):
    """Write to a temporary file beside `path`, then rename it into place."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


# --------------------------------------------------------------- callbacks
class Callback:
    """Call ``fn(trainer, step)`` every ``every`` steps, and (``at_end``) after the
    last step of ``fit`` as well. A plain function given to the Trainer is called
    after every step."""

    def __init__(self, fn, every=1, at_end=True):
        if int(every) < 1:
            raise ValueError(f"Callback: every must be a positive number of steps, got {every}")
        self.fn, self.every, self.at_end = fn, int(every), at_end

    def __call__(self, trainer, step, last=False):
        if step % self.every == 0 or (last and self.at_end):
            self.fn(trainer, step)


class Recorder(Callback):
    """A callback that keeps what ``fn(trainer, step)`` returns: a dict of numbers,
    strings, lists and arrays (None keeps nothing), appended to ``records``.

    The records are part of the Trainer's checkpoint, so a run that was stopped
    and resumed ends with the same records as one that never stopped. ``take``
    records once by hand (e.g. at step 0, before ``fit``).
    """

    def __init__(self, fn, every=1, at_end=True):
        super().__init__(fn, every, at_end)
        self.records = []

    def __call__(self, trainer, step, last=False):
        if step % self.every == 0 or (last and self.at_end):
            self.take(trainer, step)

    def take(self, trainer, step):
        record = self.fn(trainer, step)
        if record is not None:
            self.records.append(record)
        return record

    def state_dict(self):
        return {"records": list(self.records)}

    def load_state_dict(self, state):
        self.records = list(state["records"])


# ------------------------------------------------------------ small helpers
class DeviceNorm:
    """An L2 norm whose squared parts are still on the device: sqrt(sum of squares),
    taken on the host once ``fetch_numbers`` has brought the parts over."""
    __slots__ = ("squares",)

    def __init__(self, squares):
        self.squares = list(squares)


def _grad_norm(module):
    """sqrt(sum over parameters of ||dL/dp||^2): how hard this step pushed the player.

    Returned as a ``DeviceNorm``: each parameter's sum of squares is computed where
    the gradient is, and ``fetch_numbers`` takes the root with the step's other
    numbers (the sum runs on the host in float64, parameter by parameter)."""
    return DeviceNorm((p.grad.data * p.grad.data).sum()
                      for p in module.parameters() if p.grad is not None)


def _is_array(v):
    return isinstance(v, Tensor) or (hasattr(v, "dtype") and hasattr(v, "shape"))


def fetch_numbers(numbers):
    """The numbers a step reports, as Python floats, copied from the device at once.

    `numbers` is a nested tuple or list whose entries are Python numbers, one-element
    Tensors or arrays (on the device), or ``DeviceNorm``s. Every array among them is
    fetched in ONE copy (``backend.fetch_floats``): each copy from a GPU waits for
    all the work queued before it, so a step that fetched its dozen numbers one by
    one would wait a dozen times. Returns the same structure, with tuples for lists
    and floats for every entry."""
    pending = []

    def collect(v):
        if isinstance(v, (tuple, list)):
            for u in v:
                collect(u)
        elif isinstance(v, DeviceNorm):
            pending.extend(v.squares)
        elif _is_array(v):
            pending.append(v.data if isinstance(v, Tensor) else v)
    collect(numbers)
    fetched = iter(backend.fetch_floats(pending))

    def build(v):
        if isinstance(v, (tuple, list)):
            return tuple(build(u) for u in v)
        if isinstance(v, DeviceNorm):
            return math.sqrt(sum(next(fetched) for _ in v.squares))
        return next(fetched) if _is_array(v) else float(v)
    return build(numbers)


def _all_finite(module):
    """True when no parameter or buffer holds NaN or inf (one copy from the device)."""
    flags = [backend.array_module(t.data).isfinite(t.data).all()
             for t in list(module.parameters()) + list(module.buffers())]
    return all(backend.fetch_floats(flags))


@contextlib.contextmanager
def frozen(*modules):
    """Hold players fixed: their parameters get no gradient inside this block (so the
    other player's backward pass, or an inversion's descent on z, does not waste time
    on them); each flag is restored afterwards. A module given as None is skipped."""
    params = [p for m in modules if m is not None for p in m.parameters()]
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad = False
    try:
        yield
    finally:
        for p, f in zip(params, flags):
            p.requires_grad = f


def _parts(sample):
    """A sample is a Tensor, or a tuple (tensor, labels) when training with labels."""
    return tuple(sample) if isinstance(sample, (tuple, list)) else (sample,)


def _derived_seed(seed, step):
    """A seed for (seed, step): a generator the checkpoint holds no state for (one
    written before GPU generators were saved) is re-seeded with this on resume."""
    return int(numpy.random.SeedSequence([int(seed), int(step)]).generate_state(1)[0])


# ------------------------------------------------------------------ Trainer
class Trainer:
    """Train a generator G and a discriminator D against each other.

    What the run is fed (the two ways to supply samples):

    * ``sample_real(m)``: m real samples, a Tensor on the models' device;
    * ``sample_noise(m)``: m noise vectors z.

    Training with labels (the conditional GAN): ``sample_real(m)`` returns the pair
    (x, y) of images and their classes, ``sample_noise(m)`` the pair (z, y) of
    noise and the classes G is asked for. The same loop then calls D(x, y) on
    the real batch and G(z, y), D(G(z, y), y) on the fakes.

    They should draw their randomness from ``minigan.backend.generator(device)``:
    then the same ``seed`` gives the same run, and a resumed run continues exactly.
    A sampler with ``state_dict()`` and ``load_state_dict()`` (a shuffled pass over
    a data set, ``minigan.gan.data.sampler``) has its position saved in checkpoints.

    The override points (a subclass replaces one of these and keeps the rest:
    history, schedules, checkpoints, Ctrl-C):

    * ``update_discriminator(x, z)``: one D update on real x and fakes G(z);
    * ``update_generator(z)``: one G update, D held fixed (the unrolled GAN,
      ``minigan.gan.unrolled``, replaces this one).

    ``loss`` names a pair from ``minigan.gan.losses.LOSSES``; ``d_steps`` is the
    lecture's k; ``penalty(D, real, fake)`` is added to D's loss (e.g.
    ``gradient_penalty``, ``r1_penalty``); ``penalty_every`` n > 1 makes it lazy
    (Karras et al. 2020): it is computed on every n-th D update only, times n, which
    keeps its average push and saves most of its second backward pass;
    ``label_smoothing`` s makes the real label
    1 - s (one-sided); ``weight_clip`` c clips D's weights into [-c, c] after each
    D update (the original WGAN). ``g_optimizer=None`` holds G fixed and trains D
    alone (the optimal discriminator of a given G). ``schedulers``: learning-rate
    schedules (``minigan.optim.LambdaLR``), each stepped after every step.
    With ``out_dir`` the history is written there as CSV and JSON and checkpoints
    go to ``out_dir/checkpoint.npz`` (every ``checkpoint_every`` steps, at the first
    step boundary after each ``checkpoint_seconds`` of training, at the end
    of ``fit``, and on Ctrl-C). ``progress``: a tqdm bar over the steps (True),
    none (False), or a dict of tqdm options for the bar, such as ``desc`` and
    ``position``. ``verbose=False``: no messages (a caller that reports itself).
    ``request_stop()`` (from a callback, another thread or a signal handler) stops
    ``fit`` at the next step boundary, as a Ctrl-C does. ``train_seconds``: the wall
    time ``fit`` has spent on steps and callbacks, summed over resumes;
    ``train_cpu_seconds``: the CPU time of this process (all its threads) over the
    same stretches, summed alike.
    """

    def __init__(self, generator, discriminator, g_optimizer, d_optimizer, sample_real,
                 sample_noise, loss="non-saturating", d_steps=1, batch_size=64, penalty=None,
                 label_smoothing=0.0, weight_clip=None, out_dir=None, checkpoint_every=None,
                 checkpoint_seconds=None,
                 callbacks=(), progress=True, seed=0, schedulers=(), verbose=True,
                 penalty_every=1):
        self.G, self.D = generator, discriminator
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.sample_real, self.sample_noise = sample_real, sample_noise
        self.loss = get_loss(loss)
        if int(d_steps) != d_steps or d_steps < 1:
            raise ValueError(f"Trainer: d_steps (the k of the algorithm) must be a positive "
                             f"integer, got {d_steps}")
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"Trainer: batch_size must be a positive integer, got {batch_size}")
        if int(penalty_every) != penalty_every or penalty_every < 1:
            raise ValueError(f"Trainer: penalty_every must be a positive integer (the penalty "
                             f"is applied on every n-th D update), got {penalty_every}")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"Trainer: label_smoothing must be in [0, 1) (the real label is "
                             f"1 - label_smoothing), got {label_smoothing}")
        if label_smoothing and not self.loss.smoothable:
            smoothable = [n for n, pair in LOSSES.items() if pair.smoothable]
            raise ValueError(f"Trainer: label smoothing has no meaning for the "
                             f"'{self.loss.name}' loss; it applies to: {', '.join(smoothable)}")
        if weight_clip is not None and weight_clip <= 0:
            raise ValueError(f"Trainer: weight_clip must be positive, got {weight_clip}")
        if checkpoint_every is not None and (int(checkpoint_every) != checkpoint_every
                                             or checkpoint_every < 1):
            raise ValueError(f"Trainer: checkpoint_every must be a positive integer, "
                             f"got {checkpoint_every}")
        if checkpoint_every is not None and out_dir is None:
            raise ValueError("Trainer: checkpoint_every needs an out_dir to write checkpoints to")
        if checkpoint_seconds is not None and not checkpoint_seconds >= 0:
            raise ValueError(f"Trainer: checkpoint_seconds must be a number of seconds >= 0, "
                             f"got {checkpoint_seconds}")
        if checkpoint_seconds is not None and out_dir is None:
            raise ValueError("Trainer: checkpoint_seconds needs an out_dir to write checkpoints "
                             "to")
        self.d_steps, self.batch_size = int(d_steps), int(batch_size)
        self.penalty, self.penalty_every = penalty, int(penalty_every)
        self._d_update = 0              # the number of the D update under way (0, 1, ...)
        self.label_smoothing = float(label_smoothing)
        self.weight_clip = weight_clip
        self.out_dir = None if out_dir is None else os.fspath(out_dir)
        self.checkpoint_every = checkpoint_every
        # a run killed outright (out of memory, a reboot) gets no Ctrl-C save: saving on
        # a timer bounds what it loses
        self.checkpoint_seconds = checkpoint_seconds
        # wall seconds spent in fit's steps and callbacks, summed over resumes (in the
        # checkpoint), so a resumed run still reports what its training cost
        self.train_seconds = 0.0
        self.train_cpu_seconds = 0.0    # the same stretches in CPU time (process_time)
        self._clock = None              # (the two clocks, the two sums) when fit began
        self.callbacks = [cb if isinstance(cb, Callback) else Callback(cb)
                          for cb in (callbacks or ())]
        self.schedulers = list(schedulers or ())
        self.progress = progress
        self.verbose = bool(verbose)   # print where a checkpoint went on Ctrl-C, resume...
        self.seed = int(seed)
        self.history = History()
        self.global_step = 0            # generator steps done so far
        self.interrupted = False        # True after fit was stopped with Ctrl-C
        self.last_checkpoint = None     # path of the last checkpoint written or loaded
        self._saved_step = None         # the step that checkpoint holds
        self._in_step = False
        self._stop_requested = False
        backend.manual_seed(self.seed)  # all randomness below comes from this seed

    # ------------------------------------------------------------ one step
    def step(self):
        """One iteration of the lecture's algorithm: ``d_steps`` (k) discriminator
        updates, then one generator update. Returns this step's record (also appended
        to ``self.history``); D's numbers in it are averaged over its k updates."""
        self._in_step = True
        self.G.train()
        self.D.train()
        m = self.batch_size
        d_stats = []
        for i in range(self.d_steps):                      # for k steps:
            self._d_update = self.global_step * self.d_steps + i
            z = self.sample_noise(m)                       #   sample m noise samples
            x = self.sample_real(m)                        #   sample m examples
            d_stats.append(self.update_discriminator(x, z))    # ascend V (descend L_D)
        if self.g_optimizer is not None:
            z = self.sample_noise(m)                       # sample m noise samples
            loss_g, grad_norm_g = self.update_generator(z)     # descend L_G
        else:                                              # G held fixed: report its loss
            loss_g, grad_norm_g = self._generator_loss(z), 0.0

        # The step's numbers stayed on the device until now: fetch them in one copy.
        d_stats, (loss_g, grad_norm_g) = fetch_numbers((d_stats, (loss_g, grad_norm_g)))
        for stats in d_stats:                              # a NaN or inf stops the run here,
            self._check_finite("loss_d", stats[0])         # naming the step and the loss
        self._check_finite("loss_g", loss_g)
        for schedule in self.schedulers:                   # the next step's learning rates
            schedule.step()
        self.global_step += 1
        loss_d, d_real, d_fake, grad_norm_d, penalty = (float(numpy.mean(column))
                                                         for column in zip(*d_stats))
        record = {"step": self.global_step, "loss_d": loss_d, "loss_g": loss_g,
                  "d_real": d_real, "d_fake": d_fake, "grad_norm_d": grad_norm_d,
                  "grad_norm_g": grad_norm_g, "penalty": penalty}
        self.history.append(record)
        self._in_step = False
        return record

    def update_discriminator(self, x, z):
        """Override point: one D update on real samples x and fakes G(z), G held fixed.

            L_D = loss.d_loss(D(x), D(G(z))) [+ penalty(D, x, G(z))],   theta_D -= step(dL_D)

        Returns (loss_d, mean D(x), mean D(G(z)), ||grad L_D||, penalty); the means
        are probabilities for the BCE losses. Each may be a Python number or a
        one-element tensor still on the device (``step`` fetches them all at once,
        and stops the run if loss_d is NaN or inf)."""
        (x, *x_labels), (z, *z_labels) = _parts(x), _parts(z)
        with no_grad():                                    # G is held fixed while D learns
            fake = self.G(z, *z_labels)
        real_logits, fake_logits = self.D(x, *x_labels), self.D(fake, *z_labels)
        loss_d = self._d_loss(real_logits, fake_logits)    # = -V(D, G) for the BCE losses
        if self.penalty is not None and (x_labels or z_labels):
            raise ValueError("Trainer: a penalty on labelled samples is not supported (it "
                             "would mix real and fake samples of different classes)")
        penalty = None
        if self.penalty is not None and self._d_update % self.penalty_every == 0:
            penalty = self.penalty(self.D, x, fake)
            if self.penalty_every > 1:                     # lazy: n times, every n-th update
                penalty = penalty * float(self.penalty_every)
            loss_d = loss_d + penalty
        self.d_optimizer.zero_grad()
        loss_d.backward()
        grad_norm = _grad_norm(self.D)
        self.d_optimizer.step()
        if self.weight_clip is not None:
            clip_weights(self.D, self.weight_clip)
        return (loss_d.detach(), self._report(real_logits), self._report(fake_logits),
                grad_norm, 0.0 if penalty is None else penalty.detach())

    def update_generator(self, z):
        """Override point: one G update on the fakes G(z), D held fixed.

            L_G = loss.g_loss(D(G(z))),   theta_G -= step(dL_G/dtheta_G)

        Returns (loss_g, ||dL_G/dtheta_G||): the norm of the gradient the step applied,
        as Python numbers or one-element tensors on the device (see
        ``update_discriminator``)."""
        z, *labels = _parts(z)
        with frozen(self.D):
            loss_g = self.loss.g_loss(self.D(self.G(z, *labels), *labels))
            self.g_optimizer.zero_grad()
            loss_g.backward()
        grad_norm = _grad_norm(self.G)
        self.g_optimizer.step()
        return loss_g.detach(), grad_norm

    def _generator_loss(self, z):
        """L_G of the current players on z, without an update (G held fixed)."""
        z, *labels = _parts(z)
        with no_grad():
            return self.loss.g_loss(self.D(self.G(z, *labels), *labels))

    def _d_loss(self, real_logits, fake_logits):
        if self.label_smoothing:
            return self.loss.d_loss(real_logits, fake_logits,
                                    real_target=1.0 - self.label_smoothing)
        return self.loss.d_loss(real_logits, fake_logits)

    def _report(self, logits):
        """Mean of D's output: a probability sigmoid(logit) for the BCE losses, raw otherwise
        (a one-element tensor, left on the device)."""
        with no_grad():
            out = F.sigmoid(logits.detach()) if self.loss.probabilities else logits.detach()
            return out.mean()

    def _check_finite(self, name, value):
        """Stop the run with TrainingDiverged if `value` (a Python number) is NaN or inf."""
        if math.isfinite(value):
            return
        step = self.global_step + 1
        where = (f"the last good checkpoint is {self.last_checkpoint} (kept)"
                 if self.last_checkpoint else "no checkpoint was written")
        self._in_step = False
        raise TrainingDiverged(
            f"training diverged at step {step}: {name} is {value}; {where}. Try a smaller "
            f"learning rate, a penalty, or another loss.", step, name, value,
            self.last_checkpoint)

    # ----------------------------------------------------------------- fit
    def fit(self, steps, resume=False):
        """Train until ``global_step`` reaches ``steps`` (the total, counting steps
        done before a resume); returns ``self.history``.

        ``resume=True`` first loads ``out_dir/checkpoint.npz`` (``resume`` may also
        be a path), so the same call after a crash or Ctrl-C carries the run on to
        the same place an uninterrupted run would have reached. Ctrl-C finishes the
        current step, saves a checkpoint, prints where, and returns.
        """
        if resume:
            path = resume if isinstance(resume, (str, os.PathLike)) else self._checkpoint_path()
            if os.path.exists(path):
                self.load_checkpoint(path)
            else:
                self._say(f"no checkpoint at {path}: starting from step {self.global_step}")
        self.interrupted = False
        # progress: True/False, or a dict of tqdm options (desc, position) for a run
        # that shares the terminal with others
        opts = dict(unit="step", desc="training", dynamic_ncols=True)
        opts.update(self.progress if isinstance(self.progress, dict) else {})
        bar = tqdm(total=steps, initial=min(self.global_step, steps),
                   disable=not self.progress, **opts)
        self._clock = (time.perf_counter(), self.train_seconds,
                       time.process_time(), self.train_cpu_seconds)
        self._last_save = time.monotonic()          # checkpoint_seconds counts from here
        try:
            with self._ctrl_c_finishes_the_step():
                while self.global_step < steps:
                    rec = self.step()
                    self._tick()
                    bar.update(1)
                    bar.set_postfix(loss_d=f"{rec['loss_d']:.4f}", loss_g=f"{rec['loss_g']:.4f}",
                                    refresh=False)
                    s = self.global_step
                    for cb in self.callbacks:
                        cb(self, s, last=(s == steps))
                    if ((self.checkpoint_every and s % self.checkpoint_every == 0)
                            or (self.checkpoint_seconds is not None and
                                time.monotonic() - self._last_save >= self.checkpoint_seconds)):
                        self.save_checkpoint()
                    if self._stop_requested:
                        raise KeyboardInterrupt
        except KeyboardInterrupt:
            bar.close()
            self._on_interrupt()
            return self.history
        except TrainingDiverged:
            bar.close()
            if self.out_dir is not None:
                self.history.save(self.out_dir)
            raise
        finally:
            self._tick()
            self._clock = None
        bar.close()
        if self.out_dir is not None:
            if self._saved_step != self.global_step:
                self.save_checkpoint()
            self.history.save(self.out_dir)
        return self.history

    def _tick(self):
        """Inside ``fit``: bring ``train_seconds`` and ``train_cpu_seconds`` up to now."""
        if self._clock is not None:
            started, before, cpu_started, cpu_before = self._clock
            self.train_seconds = before + time.perf_counter() - started
            self.train_cpu_seconds = cpu_before + time.process_time() - cpu_started

    def request_stop(self):
        """Stop ``fit`` after the current step, saving a checkpoint as a Ctrl-C does."""
        self._stop_requested = True

    def _say(self, text):
        if self.verbose:
            print(text)

    def _on_interrupt(self):
        """Ctrl-C: save a checkpoint of the last complete step and say where it is."""
        self.interrupted = True
        self._stop_requested = False
        if self._in_step:             # stopped in the middle of a step: it cannot be saved
            self._in_step = False
            where = (f"the last checkpoint is {self.last_checkpoint}" if self.last_checkpoint
                     else "nothing was saved")
            self._say(f"\ninterrupted in the middle of step {self.global_step + 1}; {where}")
        elif self.out_dir is None:
            self._say(f"\ninterrupted after step {self.global_step}; no out_dir was given, "
                      f"so no checkpoint was saved")
        else:
            path = self.save_checkpoint()
            self.history.save(self.out_dir)
            self._say(f"\ninterrupted after step {self.global_step}; checkpoint saved to "
                      f"{path}. Call fit(..., resume=True) to continue.")

    @contextlib.contextmanager
    def _ctrl_c_finishes_the_step(self):
        """While fit runs, a first Ctrl-C lets the current step finish (a checkpoint
        of half a step could not resume exactly); a second one stops at once."""
        if (threading.current_thread() is not threading.main_thread()
                or signal.getsignal(signal.SIGINT) is signal.SIG_IGN):
            yield                     # signals reach the main thread only; a process that
            return                    # ignores Ctrl-C (a worker) is stopped by request_stop

        def handler(signum, frame):
            if self._in_step and not self._stop_requested:
                self._stop_requested = True
                self._say("\nCtrl-C: finishing this step, then saving (press again to stop now)")
            else:
                raise KeyboardInterrupt
        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    # --------------------------------------------------------- checkpoints
    def _checkpoint_path(self):
        if self.out_dir is None:
            raise ValueError("Trainer: no out_dir was given, so there is no checkpoint path; "
                             "pass out_dir=... or a path")
        return os.path.join(self.out_dir, CHECKPOINT_NAME)

    def state_dict(self):
        """Everything a run needs to continue exactly: both networks, both optimizers,
        the schedules, the step, the history, and the random generators' states
        (as JSON text)."""
        # numpy's bit_generator.state is a dict of (large) ints: JSON keeps them exact;
        # the GPU's generator, where there is one, is (seed, draws) (backend.CountedGenerator)
        rng = backend.rng_state()
        rng["cpu"] = backend.generator("cpu").bit_generator.state
        return {"generator": self.G.state_dict(), "discriminator": self.D.state_dict(),
                "g_optimizer": ({} if self.g_optimizer is None
                                else self.g_optimizer.state_dict()),
                "d_optimizer": self.d_optimizer.state_dict(),
                "schedulers": json.dumps([s.state_dict() for s in self.schedulers]),
                "callbacks": {str(i): cb.state_dict() for i, cb in enumerate(self._recording())},
                "samplers": {name: fn.state_dict() for name, fn in self._stateful_samplers()},
                "step": self.global_step, "history": self.history.to_json(),
                "train_seconds": float(self.train_seconds),
                "train_cpu_seconds": float(self.train_cpu_seconds),
                "rng": json.dumps(rng), "config": json.dumps(self._config())}

    def _stateful_samplers(self):
        """Samplers with a position to remember (a shuffled pass over a data set)."""
        return [(name, fn) for name, fn in (("real", self.sample_real),
                                            ("noise", self.sample_noise))
                if hasattr(fn, "state_dict")]

    def _recording(self):
        """The callbacks whose state belongs in a checkpoint (Recorders and the like)."""
        return [cb for cb in self.callbacks if hasattr(cb, "state_dict")]

    def _config(self):
        """The settings that must not change across a resume for it to be exact."""
        return {"loss": self.loss.name, "d_steps": self.d_steps, "batch_size": self.batch_size,
                "label_smoothing": self.label_smoothing, "seed": self.seed,
                "penalty_every": self.penalty_every}

    def load_state_dict(self, state):
        """Continue from ``state`` (what ``state_dict`` returned, e.g. via a checkpoint).

        All or nothing: if any part does not fit (a network of another shape, an
        optimizer of other groups), the error names it and the Trainer is left
        exactly as it was."""
        missing = [k for k in TRAINER_STATE_KEYS if k not in state]
        if missing:
            raise ValueError(
                f"this is not a Trainer checkpoint: it lacks {', '.join(missing)} (it holds "
                f"{', '.join(map(str, state)) or 'nothing'}). A model saved with "
                f"minigan.save(model.state_dict(), path) loads with "
                f"model.load_state_dict(minigan.load(path))")
        # read every text part first: a malformed one fails before anything changes
        history = History.from_json(str(state["history"]))
        saved = json.loads(str(state["config"]))
        rng = json.loads(str(state["rng"]))
        if "cpu" not in rng:
            raise ValueError("this Trainer checkpoint holds no state for the CPU's random "
                             "generator (its 'rng' entry lacks 'cpu')")
        for device in rng:
            backend.normalize_device(device)               # 'cpu' or 'cuda', else an error now
        schedules = json.loads(str(state["schedulers"])) if "schedulers" in state else []
        before = self.state_dict()
        try:
            self._load_parts(state, schedules)
        except Exception:
            self._load_parts(before, json.loads(before["schedulers"]))   # undo what loaded
            raise
        self.global_step = int(state["step"])
        self.history = history
        # a checkpoint from before the time was kept: unknown, not zero
        self.train_seconds = float(state.get("train_seconds", float("nan")))
        self.train_cpu_seconds = float(state.get("train_cpu_seconds", float("nan")))
        now = self._config()
        changed = [f"{k}: {saved.get(k, _CONFIG_DEFAULTS.get(k))!r} -> {now.get(k)!r}"
                   for k in sorted(set(saved) | set(now))
                   if saved.get(k, _CONFIG_DEFAULTS.get(k)) != now.get(k)]
        if changed:
            warnings.warn("resuming with other settings than the checkpoint's ("
                          + "; ".join(changed) + "): the run will not match an uninterrupted one")
        # Generators: each one the checkpoint holds continues exactly (the CPU's NumPy
        # state; the GPU's (seed, draws)). One it lacks (a GPU generator in a checkpoint
        # from before they were saved) is re-seeded from (seed, step): same statistics.
        backend.manual_seed(_derived_seed(self.seed, self.global_step))
        backend.set_rng_state(rng)

    def _load_parts(self, state, schedules):
        """Load the networks, optimizers and schedules; an error names the part."""
        parts = [("generator", self.G), ("discriminator", self.D),
                 ("g_optimizer", self.g_optimizer), ("d_optimizer", self.d_optimizer)]
        for name, part in parts:
            if part is None:                               # G held fixed: no optimizer
                continue
            try:
                part.load_state_dict(state[name])
            except (ValueError, RuntimeError, KeyError, TypeError) as e:
                raise type(e)(f"the checkpoint's {name} does not fit this Trainer's: "
                              f"{e}") from e
        # the networks first: a checkpoint of other models says so, entry by entry
        if len(schedules) != len(self.schedulers):
            raise ValueError(f"the checkpoint has {len(schedules)} learning-rate schedules, "
                             f"this Trainer {len(self.schedulers)}")
        missing = [n for n, _ in self._stateful_samplers() if n not in (state.get("samplers")
                                                                        or {})]
        if missing:
            raise ValueError(f"the checkpoint has no position for the {missing[0]} sampler; "
                             f"it was written by a Trainer fed another way")
        recorded = state.get("callbacks") or {}
        if len(recorded) != len(self._recording()):
            raise ValueError(f"the checkpoint holds the state of {len(recorded)} recording "
                             f"callbacks, this Trainer has {len(self._recording())}")
        for schedule, st in zip(self.schedulers, schedules):
            schedule.load_state_dict(st)
        for i, cb in enumerate(self._recording()):
            cb.load_state_dict(state["callbacks"][str(i)])
        for name, fn in self._stateful_samplers():
            fn.load_state_dict(state["samplers"][name])

    def save_checkpoint(self, path=None):
        """Write the checkpoint atomically (``minigan.save``) and return its path.

        Refuses (TrainingDiverged) to overwrite a good checkpoint with non-finite
        weights."""
        path = os.fspath(path) if path is not None else self._checkpoint_path()
        for name, module in (("generator", self.G), ("discriminator", self.D)):
            if not _all_finite(module):
                where = (f"the last good checkpoint {self.last_checkpoint} is kept"
                         if self.last_checkpoint else "no checkpoint was written")
                raise TrainingDiverged(
                    f"training diverged by step {self.global_step}: the {name}'s weights "
                    f"contain NaN or inf; {where}", self.global_step, f"{name} weights",
                    float("nan"), self.last_checkpoint)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._tick()
        save(self.state_dict(), path)
        self._last_save = time.monotonic()
        self.last_checkpoint = path
        self._saved_step = self.global_step
        return path

    def load_checkpoint(self, path=None):
        """Load a checkpoint written by ``save_checkpoint`` (default: out_dir's)."""
        path = os.fspath(path) if path is not None else self._checkpoint_path()
        self.load_state_dict(load(path))
        self.last_checkpoint = path
        self._saved_step = self.global_step
        return path


def train_gan(generator, discriminator, sample_real, sample_noise, steps, lr=2e-4,
              betas=(0.5, 0.999), **trainer_kwargs):
    """Train with two Adam optimizers (DCGAN's lr=2e-4, betas=(0.5, 0.999)) and return
    the Trainer (its ``history`` holds the run). Other arguments go to ``Trainer``."""
    from ..optim import Adam
    trainer = Trainer(generator, discriminator,
                      Adam(generator.parameters(), lr=lr, betas=betas),
                      Adam(discriminator.parameters(), lr=lr, betas=betas),
                      sample_real, sample_noise, **trainer_kwargs)
    trainer.fit(steps)
    return trainer

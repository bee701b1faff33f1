"""The runner around a training step: fit, history, callbacks, checkpoints, Ctrl-C.

``Runner`` holds what a real run needs besides its step; ``Trainer`` is
``GANStep`` (``minigan.gan.step``, the algorithm) run by it, and
``minigan.supervised.SupervisedTrainer`` a supervised step (a classifier, an
autoencoder, an encoder) run by it. What
a real run needs: a history of the losses (CSV and JSON), a progress bar,
callbacks for figures, checkpoints that resume to exactly the same run, a clean
stop on Ctrl-C, and a clear error when a loss becomes NaN or inf. Everything a
run is set up with goes in when it is built; ``fit`` is the one way to train.
"""
import contextlib
import csv
import json
import os
import signal
import sys
import threading
import time
import warnings

import numpy
from tqdm.auto import tqdm

from .. import backend, checks
from ..serialization import save, load, atomic_write
from .step import GANStep, TrainingDiverged

CHECKPOINT_NAME = "checkpoint.npz"
# what every runner's checkpoint holds besides its step's parts (networks, optimizers)
RUNNER_STATE_KEYS = ("step", "history", "rng", "config", "schedulers", "train_seconds",
                     "train_cpu_seconds")


class CheckpointMismatch(ValueError):
    """``fit(resume=True)`` found a checkpoint that does not fit this Trainer (other
    networks, optimizers, schedules or samplers); the message names the part."""


class TrainingInterrupted(Exception):
    """``fit`` was stopped (Ctrl-C, ``request_stop``) with ``on_interrupt="raise"``;
    the checkpoint of the last complete step is saved. ``name`` and ``step`` say
    which run stopped where."""

    def __init__(self, name, step):
        super().__init__(f"the run {name!r} was interrupted after step {step}")
        self.name, self.step = name, step


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

    def __init__(self, records=(), columns=None):
        self.records = [dict(r) for r in records]
        self.columns = tuple(columns or self.COLUMNS)   # another step's records (a classifier's)

    def append(self, record):
        self.records.append(record)    # the same dict step() returns (a subclass may amend it)

    def __len__(self):
        return len(self.records)

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in self.columns:
                raise KeyError(f"History has no column {key!r}; columns: {', '.join(self.columns)}")
            return numpy.array([r[key] for r in self.records], dtype=numpy.float64)
        return self.records[key]

    def __repr__(self):
        return f"History({len(self)} steps)"

    def to_json(self):
        """The records as JSON text (floats written exactly, so a checkpoint round-trips)."""
        return json.dumps(self.records)

    @classmethod
    def from_json(cls, text, columns=None):
        return cls(json.loads(text), columns)

    def save(self, out_dir):
        """Write history.csv and history.json into out_dir (each atomically)."""
        os.makedirs(out_dir, exist_ok=True)
        lines = [",".join(self.columns)]
        for r in self.records:
            lines.append(",".join(repr(r[c]) for c in self.columns))
        atomic_write(os.path.join(out_dir, "history.csv"), "\n".join(lines) + "\n")
        atomic_write(os.path.join(out_dir, "history.json"), self.to_json() + "\n")

    @classmethod
    def read_csv(cls, path):
        """Read a history.csv back (for plotting a finished run)."""
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
        return cls([{k: (int(v) if k == "step" else float(v)) for k, v in r.items()} for r in rows],
                   reader.fieldnames)


# --------------------------------------------------------------- callbacks
class Callback:
    """Call ``fn(trainer, step)`` every ``every`` steps, and (``at_end``) after the
    last step of ``fit`` as well. A plain function given to the Trainer is called
    after every step.

    A subclass may also define ``on_fit_start(trainer)`` (called once ``fit`` has
    resumed, before the first step) and ``on_fit_end(trainer)`` (after the last step,
    or at once when there is none to do)."""

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
    and resumed ends with the same records as one that never stopped.
    ``at_start``: record the untrained state too (step 0, when ``fit`` starts a
    fresh run). ``take`` records once by hand.
    """

    def __init__(self, fn, every=1, at_end=True, at_start=False):
        super().__init__(fn, every, at_end)
        self.at_start = bool(at_start)
        self.records = []

    def on_fit_start(self, trainer):
        if self.at_start and trainer.global_step == 0:
            self.take(trainer, 0)

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


def _all_finite(module):
    """True when no parameter or buffer holds NaN or inf (one copy from the device)."""
    flags = [backend.array_module(t.data).isfinite(t.data).all()
             for t in list(module.parameters()) + list(module.buffers())]
    return all(backend.fetch_floats(flags))


def _derived_seed(seed, step):
    """A seed for (seed, step): on resume, a generator the checkpoint holds no state
    for (a GPU's, for a run checkpointed on the CPU) is re-seeded with this."""
    return int(numpy.random.SeedSequence([int(seed), int(step)]).generate_state(1)[0])


class Runner:
    """What a real run needs around a step, whatever the step trains: ``fit``, a
    history, a progress bar, callbacks, checkpoints that resume to exactly the
    same run, a clean stop on Ctrl-C, and a clear error when a loss becomes NaN
    or inf (Chainer's trainer around its updater).

    A runner is a step class with this one mixed in before it, ``class
    Trainer(Runner, GANStep)``. The step class gives ``step()`` (one update,
    returning a record whose keys are ``HISTORY_COLUMNS``), ``global_step`` and
    ``schedulers``; the subclass says what a checkpoint holds:

    * ``checkpoint_parts()``: [(name, network or optimizer)], networks first (None
      for an absent part), each with ``state_dict`` and ``load_state_dict``;
    * ``networks()``: [(name, module)] whose weights must be finite to be saved;
    * ``samplers()``: [(name, fn)], what it is fed (a sampler with ``state_dict``
      has its position saved);
    * ``settings()``: what must not change across a resume for it to be exact.

    The samplers should draw their randomness from ``minigan.backend.generator(device)``
    (or carry their position): then the same ``seed`` gives the same run, and a
    resumed run continues exactly.

    With ``out_dir`` the history is written there as CSV and JSON and checkpoints
    go to ``out_dir/checkpoint.npz`` (every ``checkpoint_every`` steps, at the first
    step boundary after each ``checkpoint_seconds`` of training, at the end of
    ``fit``, and on Ctrl-C). ``callbacks``: ``Callback``s or plain functions
    ``fn(trainer, step)`` called after every step. ``progress``: a tqdm bar over the
    steps (True), none (False), or a dict of tqdm options (``desc``, ``position``).
    ``verbose=False``: no messages (a caller that reports itself). ``name``: the
    run's name in messages. ``on_interrupt``: what ``fit`` does once a Ctrl-C or
    ``request_stop()`` (from a callback, another thread or a signal handler) has
    stopped it at a step boundary and saved the checkpoint: return the history
    ("return", with ``interrupted`` set) or raise ``TrainingInterrupted`` ("raise").

    ``train_seconds``: the wall time ``fit`` has spent on steps and callbacks, summed
    over resumes (it is in the checkpoint); ``train_cpu_seconds``: the CPU time of
    this process (all its threads) over the same stretches, summed alike;
    ``session_seconds`` and ``session_cpu_seconds``: the same in this process only.
    """
    HISTORY_COLUMNS = History.COLUMNS
    SHOWN = ()                          # the record's numbers shown beside the progress bar

    def _setup_runner(self, out_dir=None, checkpoint_every=None, checkpoint_seconds=None,
                      callbacks=(), progress=True, seed=0, verbose=True, name=None,
                      on_interrupt="return"):
        """The runner's settings (the step class's ``__init__`` has run first)."""
        what = type(self).__name__
        if checkpoint_every is not None and (int(checkpoint_every) != checkpoint_every
                                             or checkpoint_every < 1):
            raise ValueError(f"{what}: checkpoint_every must be a positive integer, "
                             f"got {checkpoint_every}")
        if checkpoint_every is not None and out_dir is None:
            raise ValueError(f"{what}: checkpoint_every needs an out_dir to write checkpoints to")
        if checkpoint_seconds is not None and not checkpoint_seconds >= 0:
            raise ValueError(f"{what}: checkpoint_seconds must be a number of seconds >= 0, "
                             f"got {checkpoint_seconds}")
        if checkpoint_seconds is not None and out_dir is None:
            raise ValueError(f"{what}: checkpoint_seconds needs an out_dir to write "
                             f"checkpoints to")
        if on_interrupt not in ("return", "raise"):
            raise ValueError(f"{what}: on_interrupt must be 'return' or 'raise', got "
                             f"{on_interrupt!r}")
        self.name, self.on_interrupt = name, on_interrupt
        self.out_dir = None if out_dir is None else os.fspath(out_dir)
        self.checkpoint_every = checkpoint_every
        # a run killed outright (out of memory, a reboot) gets no Ctrl-C save: saving on
        # a timer bounds what it loses
        self.checkpoint_seconds = checkpoint_seconds
        # wall seconds spent in fit's steps and callbacks, summed over resumes (in the
        # checkpoint), so a resumed run still reports what its training cost
        self.train_seconds = 0.0
        self.train_cpu_seconds = 0.0    # the same stretches in CPU time (process_time)
        self.session_seconds = 0.0      # the same, in this process only
        self.session_cpu_seconds = 0.0
        self._clock = None              # (the two clocks, the sums) when fit began
        self.callbacks = [cb if isinstance(cb, Callback) else Callback(cb)
                          for cb in (callbacks or ())]
        self.progress = progress
        self.verbose = bool(verbose)   # print where a checkpoint went on Ctrl-C, resume...
        self.seed = int(seed)
        self.history = History(columns=self.HISTORY_COLUMNS)
        self.interrupted = False        # True after fit was stopped with Ctrl-C
        self.last_checkpoint = None     # path of the last checkpoint written or loaded
        self._saved_step = None         # the step that checkpoint holds
        self._in_step = False
        self._stop_requested = False
        backend.manual_seed(self.seed)  # all randomness below comes from this seed

    def step(self):
        """One step of the algorithm (the step class's), its record kept in the history."""
        self._in_step = True            # a checkpoint of half a step could not resume
        record = super().step()
        self.history.append(record)
        self._in_step = False
        return record

    def _diverged(self, name, value):
        """A loss became NaN or inf: stop, naming the step, the loss and the last good
        checkpoint (kept)."""
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
        the same place an uninterrupted run would have reached (a checkpoint that does
        not fit raises ``CheckpointMismatch``). Ctrl-C finishes the current step,
        saves a checkpoint, prints where, and returns (or raises
        ``TrainingInterrupted``: ``on_interrupt``).

        ``steps`` is a whole number >= 0, checked before anything is done: -1 would
        train nothing and 2.5 would train 3, each without a word.
        """
        steps = checks.whole_number(steps, "steps", f"{type(self).__name__}.fit")
        if self.out_dir is not None:
            os.makedirs(self.out_dir, exist_ok=True)     # the run's folder, from its start
        if resume:
            path = resume if isinstance(resume, (str, os.PathLike)) else self._checkpoint_path()
            if os.path.exists(path):
                try:
                    self.load_checkpoint(path)
                except (ValueError, RuntimeError) as e:
                    run = (f"the run {self.name!r}" if self.name
                           else f"this {type(self).__name__}")
                    raise CheckpointMismatch(f"the checkpoint {path} does not fit {run}: "
                                             f"{e}") from e
            else:
                # said even when not verbose: a resume that finds nothing starts over
                print(f"{self.name or type(self).__name__}: no checkpoint at {path}: starting "
                      f"from step {self.global_step}", file=sys.stderr)
        self.interrupted = False
        for cb in self.callbacks:
            if hasattr(cb, "on_fit_start"):
                cb.on_fit_start(self)
        # progress: True/False, or a dict of tqdm options (desc, position) for a run
        # that shares the terminal with others
        opts = dict(unit="step", desc="training", dynamic_ncols=True)
        opts.update(self.progress if isinstance(self.progress, dict) else {})
        bar = tqdm(total=steps, initial=min(self.global_step, steps),
                   disable=not self.progress, **opts)
        self._clock = (time.perf_counter(), self.train_seconds, self.session_seconds,
                       time.process_time(), self.train_cpu_seconds, self.session_cpu_seconds)
        self._last_save = time.monotonic()          # checkpoint_seconds counts from here
        try:
            with self._ctrl_c_finishes_the_step():
                while self.global_step < steps:
                    rec = self.step()
                    self._tick()
                    bar.update(1)
                    bar.set_postfix({k: f"{rec[k]:.4f}" for k in self.SHOWN}, refresh=False)
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
            if self.on_interrupt == "raise":
                raise TrainingInterrupted(self.name, self.global_step) from None
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
        for cb in self.callbacks:
            if hasattr(cb, "on_fit_end"):
                cb.on_fit_end(self)
        return self.history

    def _tick(self):
        """Inside ``fit``: bring the training clocks (``train_seconds``,
        ``session_seconds`` and their CPU twins) up to now."""
        if self._clock is not None:
            started, before, session, cpu_started, cpu_before, cpu_session = self._clock
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            self.train_seconds, self.session_seconds = before + wall, session + wall
            self.train_cpu_seconds, self.session_cpu_seconds = cpu_before + cpu, cpu_session + cpu

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
            raise ValueError(f"{type(self).__name__}: no out_dir was given, so there is no "
                             f"checkpoint path; "
                             "pass out_dir=... or a path")
        return os.path.join(self.out_dir, CHECKPOINT_NAME)

    def state_dict(self):
        """Everything a run needs to continue exactly: the networks, the optimizers,
        the schedules, the step, the history, and the random generators' states
        (as JSON text)."""
        # numpy's bit_generator.state is a dict of (large) ints: JSON keeps them exact;
        # the GPU's generator, where there is one, is (seed, draws) (backend.CountedGenerator)
        rng = backend.rng_state()
        rng["cpu"] = backend.generator("cpu").bit_generator.state
        parts = {name: {} if part is None else part.state_dict()
                 for name, part in self.checkpoint_parts()}
        return {**parts,
                "schedulers": json.dumps([s.state_dict() for s in self.schedulers]),
                "callbacks": {str(i): cb.state_dict() for i, cb in enumerate(self._recording())},
                "samplers": {name: fn.state_dict() for name, fn in self._stateful_samplers()},
                "step": self.global_step, "history": self.history.to_json(),
                "train_seconds": float(self.train_seconds),
                "train_cpu_seconds": float(self.train_cpu_seconds),
                "rng": json.dumps(rng), "config": json.dumps(self.settings())}

    def _stateful_samplers(self):
        """Samplers with a position to remember (a shuffled pass over a data set)."""
        return [(name, fn) for name, fn in self.samplers() if hasattr(fn, "state_dict")]

    def _recording(self):
        """The callbacks whose state belongs in a checkpoint (Recorders and the like)."""
        return [cb for cb in self.callbacks if hasattr(cb, "state_dict")]

    def load_state_dict(self, state):
        """Continue from ``state`` (what ``state_dict`` returned, e.g. via a checkpoint).

        All or nothing: if any part does not fit (a network of another shape, an
        optimizer of other groups), the error names it and the Trainer is left
        exactly as it was."""
        needed = [name for name, _ in self.checkpoint_parts()] + list(RUNNER_STATE_KEYS)
        missing = [k for k in needed if k not in state]
        if missing:
            raise ValueError(
                f"this is not a {type(self).__name__} checkpoint: it lacks {', '.join(missing)} (it holds "
                f"{', '.join(map(str, state)) or 'nothing'}). A model saved with "
                f"minigan.save(model.state_dict(), path) loads with "
                f"model.load_state_dict(minigan.load(path))")
        # read every text part first: a malformed one fails before anything changes
        history = History.from_json(str(state["history"]), self.HISTORY_COLUMNS)
        saved = json.loads(str(state["config"]))
        rng = json.loads(str(state["rng"]))
        if "cpu" not in rng:
            raise ValueError("this checkpoint holds no state for the CPU's random "
                             "generator (its 'rng' entry lacks 'cpu')")
        for device in rng:
            backend.normalize_device(device)               # 'cpu' or 'cuda', else an error now
        schedules = json.loads(str(state["schedulers"]))
        before = self.state_dict()
        try:
            self._load_parts(state, schedules)
        except Exception:
            self._load_parts(before, json.loads(before["schedulers"]))   # undo what loaded
            raise
        self.global_step = int(state["step"])
        self.history = history
        self.train_seconds = float(state["train_seconds"])
        self.train_cpu_seconds = float(state["train_cpu_seconds"])
        now = self.settings()
        changed = [f"{k}: {saved.get(k)!r} -> {now.get(k)!r}"
                   for k in sorted(set(saved) | set(now)) if saved.get(k) != now.get(k)]
        if changed:
            warnings.warn("resuming with other settings than the checkpoint's ("
                          + "; ".join(changed) + "): the run will not match an uninterrupted one")
        # Generators: each one the checkpoint holds continues exactly (the CPU's NumPy
        # state; the GPU's (seed, draws)). One it lacks (the GPU's, in a checkpoint
        # written on the CPU) is re-seeded from (seed, step): same statistics.
        backend.manual_seed(_derived_seed(self.seed, self.global_step))
        backend.set_rng_state(rng)

    def _load_parts(self, state, schedules):
        """Load the networks, optimizers and schedules; an error names the part."""
        what = type(self).__name__
        for name, part in self.checkpoint_parts():
            if part is None:                               # G held fixed: no optimizer
                continue
            try:
                part.load_state_dict(state[name])
            except (ValueError, RuntimeError, KeyError, TypeError) as e:
                raise type(e)(f"the checkpoint's {name} does not fit this {what}'s: "
                              f"{e}") from e
        # the networks first: a checkpoint of other models says so, entry by entry
        if len(schedules) != len(self.schedulers):
            raise ValueError(f"the checkpoint has {len(schedules)} learning-rate schedules, "
                             f"this {what} {len(self.schedulers)}")
        missing = [n for n, _ in self._stateful_samplers() if n not in (state.get("samplers")
                                                                        or {})]
        if missing:
            raise ValueError(f"the checkpoint has no position for the {missing[0]} sampler; "
                             f"it was written by a {what} fed another way")
        recorded = state.get("callbacks") or {}
        if len(recorded) != len(self._recording()):
            raise ValueError(f"the checkpoint holds the state of {len(recorded)} recording "
                             f"callbacks, this {what} has {len(self._recording())}")
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
        for name, module in self.networks():
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


class TwoPlayers:
    """What a checkpoint of a Runner holds, and which networks it reports, where the
    players are ``self.G`` and ``self.D``, each with its optimizer
    (``self.g_optimizer``, ``self.d_optimizer``). Put before ``Runner`` in the bases."""

    def checkpoint_parts(self):
        return [("generator", self.G), ("discriminator", self.D),
                ("g_optimizer", self.g_optimizer), ("d_optimizer", self.d_optimizer)]

    def networks(self):
        return [("generator", self.G), ("discriminator", self.D)]


class Trainer(TwoPlayers, Runner, GANStep):
    """Train a generator G and a discriminator D against each other: ``GANStep`` (its
    arguments, up to ``schedulers``, say what one step does) run by ``Runner``'s
    ``fit`` (the arguments from ``out_dir`` on: ``Runner``).

    A sampler with ``state_dict()`` and ``load_state_dict()`` (a shuffled pass over
    a data set, ``minigan.data.sampler``) has its position saved in checkpoints.
    """
    SHOWN = ("loss_d", "loss_g")

    def __init__(self, generator, discriminator, g_optimizer, d_optimizer, sample_real,
                 sample_noise, loss="non-saturating", d_steps=1, batch_size=64, penalty=None,
                 label_smoothing=0.0, weight_clip=None, out_dir=None, checkpoint_every=None,
                 checkpoint_seconds=None, callbacks=(), progress=True, seed=0, schedulers=(),
                 verbose=True, penalty_every=1, name=None, on_interrupt="return"):
        GANStep.__init__(self, generator, discriminator, g_optimizer, d_optimizer,
                         sample_real, sample_noise, loss, d_steps, batch_size, penalty,
                         penalty_every, label_smoothing, weight_clip, schedulers)
        self._setup_runner(out_dir, checkpoint_every, checkpoint_seconds, callbacks,
                           progress, seed, verbose, name, on_interrupt)

    def samplers(self):
        return [("real", self.sample_real), ("noise", self.sample_noise)]

    def settings(self):
        return {"loss": self.loss.name, "d_steps": self.d_steps, "batch_size": self.batch_size,
                "label_smoothing": self.label_smoothing, "seed": self.seed,
                "penalty_every": self.penalty_every}


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

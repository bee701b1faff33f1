"""One training run per browser tab: its settings, checked; its Trainer; the thread
that steps it; and the rule that stops it when the tab goes away.

A run is built from library parts only: the data (``minigan.data.mixtures``: the
ring, the grid, or the user's points as a mixture of small Gaussians), the players
(``minigan.gan.models.mlp_generator`` / ``mlp_discriminator``, packed by
``Packed``), the optimizers and the lab's learning-rate schedule
(``minigan.optim``), the losses and penalties (``minigan.gan.losses``) and the
training step (``minigan.gan.runner.Trainer``, or ``UnrolledTrainer`` from
``minigan.gan.tricks.unrolled``). The playground adds no update rule of its own:
"step" is ``Trainer.step`` (k D updates, one G update), "one D step" is
``Trainer.discriminator_step`` and "one G step" ``Trainer.generator_step``.

Threads. The engine has one global grad mode and one seeded generator per device,
so all engine work (training steps and the views) runs under ``ENGINE_LOCK``, and
each run swaps its own random state in and out around it (``Session.engine``): two
tabs never disturb each other's runs, and a run in the page is the same run, step
for step, as the library's with the same seed (``tests/test_playground.py``).

Lifetime. The page sends a heartbeat (every view request is one). When none has
come for ``HEARTBEAT_TIMEOUT`` seconds the run is paused (training stops within 2
seconds of the page closing); after ``FORGET_AFTER`` seconds without one it is
removed, which frees its place among the ``MAX_SESSIONS``.
"""
import contextlib
import math
import secrets
import threading
import time
from dataclasses import replace

import numpy

from .. import backend, optim
from ..data import mixtures, noise_sampler
from ..gan import losses
from ..gan.models import mlp_generator, mlp_discriminator
from ..gan.runner import Trainer
from ..gan.step import TrainingDiverged
from ..gan.tricks.unrolled import UnrolledTrainer

MAX_SESSIONS = 4            # runs (tabs) at once: each one is a thread stepping a model
HEARTBEAT_TIMEOUT = 1.5     # s without a heartbeat: the run pauses
FORGET_AFTER = 30.0         # s without a heartbeat: the run is removed
MAX_POINTS = 2000           # points a user may draw
DRAW_BOX = 2.0              # drawn points lie in [-DRAW_BOX, DRAW_BOX]^2
DRAWN_STD = 0.02            # each drawn point is a small Gaussian of this std
NOISE_DIM = 2               # z is 2-D, so G's manifold is a sheet over a grid of z
SPEEDS = (1, 5, 20, 100, 0)     # steps a second; 0 = as fast as the machine goes
CHUNK_SECONDS = 0.01        # the training thread holds the engine at most this long

ENGINE_LOCK = threading.RLock()


class SettingsError(ValueError):
    """A setting out of range; the message names it and what it may be."""


# ---------------------------------------------------------------- settings
# name: (kind, default, low, high) for numbers; (kind, default, choices) for choices
SPEC = {
    "data": ("choice", "ring", ("ring", "grid", "drawn")),
    "g_width": ("int", 32, 1, 256), "g_depth": ("int", 2, 1, 4),
    "d_width": ("int", 32, 1, 256), "d_depth": ("int", 2, 1, 4),
    "loss": ("choice", "non-saturating", tuple(losses.LOSSES)),
    "gp": ("float", 0.0, 0.0, 100.0),            # WGAN-GP's lambda (gradient_penalty)
    "r1": ("float", 0.0, 0.0, 100.0),            # R1's gamma (r1_penalty)
    "g_optimizer": ("choice", "adam", ("adam", "sgd")),
    "d_optimizer": ("choice", "adam", ("adam", "sgd")),
    "g_lr": ("float", 1e-3, 1e-6, 1.0), "d_lr": ("float", 1e-3, 1e-6, 1.0),
    "beta1": ("float", 0.5, 0.0, 0.999), "beta2": ("float", 0.999, 0.0, 0.9999),
    "decay_steps": ("int", 0, 0, 1_000_000),     # 0: constant lr; T: the lab's schedule
    "d_steps": ("int", 1, 1, 10),
    "pack": ("int", 1, 1, 4),
    "unroll": ("int", 0, 0, 10),
    "label_smoothing": ("float", 0.0, 0.0, 0.5),
    "batch_size": ("int", 64, 4, 512),
    "scale": ("float", 1.0, 0.1, 10.0),          # models.Rescale: G's output x s, D's input / s
    "seed": ("int", 0, 0, 2 ** 32 - 1),
}
DEFAULTS = {name: spec[1] for name, spec in SPEC.items()}


def check_settings(given):
    """The settings `given` (a dict from the page) over the defaults, each checked:
    a SettingsError names the first one out of range and what it may be."""
    if not isinstance(given, dict):
        raise SettingsError("settings must be a JSON object of name: value")
    unknown = sorted(set(given) - set(SPEC) - {"points", "preset"})
    if unknown:
        raise SettingsError(f"unknown setting {unknown[0]!r}; known: {', '.join(SPEC)}, points")
    out = dict(DEFAULTS)
    for name, value in given.items():
        if name in ("points", "preset"):
            continue
        kind, *rule = SPEC[name]
        if kind == "choice":
            if value not in rule[1]:
                raise SettingsError(f"{name} must be one of {', '.join(rule[1])}; got {value!r}")
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    not math.isfinite(value):
                raise SettingsError(f"{name} must be a number, got {value!r}")
            if kind == "int" and value != int(value):
                raise SettingsError(f"{name} must be a whole number, got {value}")
            low, high = rule[1], rule[2]
            if not low <= value <= high:
                raise SettingsError(f"{name} must be between {low:g} and {high:g}; got {value:g}")
            value = int(value) if kind == "int" else float(value)
        out[name] = value
    if out["batch_size"] % out["pack"]:
        raise SettingsError(f"batch_size ({out['batch_size']}) must be divisible by pack "
                            f"({out['pack']}): D judges packs of {out['pack']} samples")
    if out["gp"] and out["r1"]:
        raise SettingsError("choose one penalty: gp (WGAN-GP) or r1, not both")
    if out["label_smoothing"] and not losses.LOSSES[out["loss"]].smoothable:
        ok = [n for n, pair in losses.LOSSES.items() if pair.smoothable]
        raise SettingsError(f"label_smoothing applies to the {', '.join(ok)} losses, not to "
                            f"{out['loss']}; set it to 0")
    if out["unroll"] and out["d_optimizer"] != "adam":
        raise SettingsError("unroll repeats D's Adam steps: set d_optimizer to adam, or "
                            "unroll to 0")
    out["points"] = check_points(given.get("points")) if out["data"] == "drawn" else None
    return out


def check_points(points):
    """The drawn points as an (n, 2) float64 array: 1 to MAX_POINTS pairs, each
    coordinate a number in [-DRAW_BOX, DRAW_BOX]."""
    if not isinstance(points, list) or not points:
        raise SettingsError("data 'drawn' needs points: draw some on the plane first "
                            f"(a list of [x, y], 1 to {MAX_POINTS} of them)")
    if len(points) > MAX_POINTS:
        raise SettingsError(f"at most {MAX_POINTS} drawn points; got {len(points)}")
    for p in points:
        if (not isinstance(p, list) or len(p) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                           and math.isfinite(v) and abs(v) <= DRAW_BOX for v in p)):
            raise SettingsError(f"each drawn point must be [x, y] with x and y in "
                                f"[-{DRAW_BOX:g}, {DRAW_BOX:g}]; got {p!r}"[:200])
    return numpy.asarray(points, dtype=numpy.float64)


# ---------------------------------------------------------------- presets
def presets():
    """The `mog` lesson's two runs on the ring (``minigan.experiments.mog_recipes``):
    its vanilla GAN (METHODS["gan"]) and the training part of its best recipe (BEST:
    PacGAN2 in rescaled coordinates). The best recipe's last stage, discriminator
    rejection sampling, filters samples after training has ended; it has no place in
    a live run, so the preset stops before it.

    Each preset is the method's own settings on the lab's shared architecture and
    schedule (width 128, depth 2, batch 240, Adam lr 1e-3, held for 40% of the
    method's steps, then decayed to 1e-5)."""
    from ..experiments import mog_recipes as recipes
    ring = mixtures.mixture("ring")
    out = {}
    for key, name, title in (("mog-gan", "gan", "mog lesson: vanilla GAN"),
                             ("mog-best", recipes.BEST,
                              "mog lesson: best recipe (PacGAN2 rescaled; training part, "
                              "no rejection sampling)")):
        m = recipes.get_method(name).for_mixture(ring)
        schedule = replace(recipes.Schedule(), **dict(m.schedule))
        lr = schedule.lr * m.lr_scale
        out[key] = {"title": title, "method": name, "settings": {
            "data": "ring", "g_width": recipes.HIDDEN, "g_depth": m.depth,
            "d_width": recipes.HIDDEN, "d_depth": m.depth, "loss": m.loss, "gp": m.gp,
            "r1": 0.0, "g_optimizer": "adam", "d_optimizer": "adam", "g_lr": lr,
            "d_lr": lr * m.d_lr_scale, "beta1": m.betas[0], "beta2": m.betas[1],
            "decay_steps": recipes.steps_of(m, schedule, ring), "d_steps": m.d_steps,
            "pack": m.pack, "unroll": m.unroll, "label_smoothing": m.label_smoothing,
            "batch_size": schedule.batch_size, "scale": m.scale, "seed": 0}}
        assert schedule.final_lr / schedule.lr == FINAL_LR_FACTOR
        assert schedule.decay_from == DECAY_FROM
    return out


# the lab's schedule (mog_recipes.Schedule): lr held for 40% of the steps, then down to 1%
DECAY_FROM, FINAL_LR_FACTOR = 0.4, 0.01


# ---------------------------------------------------------------- building
def data_of(settings):
    """The real distribution: the ring or grid of ``minigan.data.mixtures``, or the
    drawn points, each a small Gaussian (a ``GaussianMixture`` with one mode a point)."""
    if settings["data"] == "drawn":
        return mixtures.GaussianMixture(settings["points"], DRAWN_STD, name="drawn")
    return mixtures.mixture(settings["data"])


def build_trainer(settings, mixture=None):
    """The Trainer of checked `settings` (not trained), seeded with settings["seed"].

    The same order of random draws as the lab's ``mog_recipes.make_trainer``: seed,
    G's weights, D's weights, then the Trainer re-seeds its stream of batches."""
    s = settings
    mixture = mixture if mixture is not None else data_of(s)
    backend.manual_seed(s["seed"])
    G = mlp_generator(NOISE_DIM, s["g_width"], s["g_depth"], out_scale=s["scale"])
    D = mlp_discriminator(s["pack"], s["d_width"], s["d_depth"], in_scale=s["scale"])
    opts = []
    for who, net in (("g", G), ("d", D)):
        if s[f"{who}_optimizer"] == "adam":
            opts.append(optim.Adam(net.parameters(), lr=s[f"{who}_lr"],
                                   betas=(s["beta1"], s["beta2"])))
        else:
            opts.append(optim.SGD(net.parameters(), lr=s[f"{who}_lr"]))
    schedulers = ([optim.LambdaLR(o, optim.hold_then_decay(s["decay_steps"], DECAY_FROM, 1.0,
                                                           FINAL_LR_FACTOR)) for o in opts]
                  if s["decay_steps"] else [])
    def gp(D_, real, fake):
        return losses.gradient_penalty(D_, real, fake, lam=s["gp"])

    def r1(D_, real, fake):
        return losses.r1_penalty(D_, real, gamma=s["r1"])
    penalty = gp if s["gp"] else r1 if s["r1"] else None
    kwargs = dict(loss=s["loss"], d_steps=s["d_steps"], batch_size=s["batch_size"],
                  penalty=penalty, label_smoothing=s["label_smoothing"],
                  schedulers=schedulers, progress=False, seed=s["seed"], verbose=False)
    sample_real = lambda n: mixture.sample(n)          # noqa: E731
    sample_noise = noise_sampler("cpu", NOISE_DIM)
    if s["unroll"]:
        return UnrolledTrainer(G, D, opts[0], opts[1], sample_real, sample_noise,
                               unroll=s["unroll"], **kwargs)
    return Trainer(G, D, opts[0], opts[1], sample_real, sample_noise, **kwargs)


# ---------------------------------------------------------------- one run
class Session:
    """One tab's run: settings, Trainer, counters, curves, and its training thread.

    ``d_updates`` and ``g_updates`` count each player's updates (a step of both adds
    ``d_steps`` and 1); ``curves`` holds the losses of every step and the metrics of
    every view taken (``views.snapshot`` appends them)."""

    def __init__(self, settings, sid=None):
        self.id = sid or secrets.token_urlsafe(12)
        self.playing = False
        self.speed = 0
        self.error = None
        self.closed = False
        self.last_seen = time.monotonic()
        self._wake = threading.Event()
        self.configure(settings)
        self.thread = threading.Thread(target=self._train, name=f"playground-{self.id[:6]}",
                                       daemon=True)
        self.thread.start()

    # ------------------------------------------------------------ settings
    def configure(self, settings):
        """Build a fresh run from checked `settings` (a reset)."""
        settings = check_settings(settings)
        mixture = data_of(settings)
        # the views' fixed noise: its own generator, so watching never changes the run
        z = numpy.random.default_rng(settings["seed"] + 7919).standard_normal(
            (2500, NOISE_DIM)).astype(numpy.float32)
        with ENGINE_LOCK:                            # the old run's thread is between chunks
            try:
                trainer = build_trainer(settings, mixture)
            except ValueError as e:                  # a combination the library refuses
                raise SettingsError(str(e)) from None
            backend.generator("cpu")                 # made now, so its state can be kept
            self.rng = backend.rng_state()
            self.settings, self.mixture, self.trainer = settings, mixture, trainer
            self.z_eval = z
            self.d_updates = self.g_updates = 0
            self.curves = {"step": [], "loss_d": [], "loss_g": [], "metric_step": [],
                           "modes": [], "high_quality": [], "reverse_kl": []}
            self.error = None
            self.playing = False
            self.real_points = None                  # drawn once, by the views
            self.version = getattr(self, "version", 0) + 1

    @contextlib.contextmanager
    def engine(self):
        """Hold the engine, with this run's random state swapped in (and kept after)."""
        with ENGINE_LOCK:
            backend.set_rng_state(self.rng)
            try:
                yield self.trainer
            finally:
                self.rng = backend.rng_state()

    # ------------------------------------------------------------ actions
    def step(self, n=1):
        """n steps of both players (``Trainer.step``); returns the last record."""
        rec = None
        with self.engine() as tr:
            for _ in range(n):
                rec = tr.step()
                self.d_updates += tr.d_steps
                self.g_updates += 1
                c = self.curves
                c["step"].append(rec["step"])
                c["loss_d"].append(rec["loss_d"])
                c["loss_g"].append(rec["loss_g"])
        return rec

    def d_step(self):
        """One D update alone (``Trainer.discriminator_step``)."""
        with self.engine() as tr:
            rec = tr.discriminator_step()
            self.d_updates += 1
        return rec

    def g_step(self):
        """One G update alone (``Trainer.generator_step``)."""
        with self.engine() as tr:
            rec = tr.generator_step()
            self.g_updates += 1
        return rec

    def act(self, action, speed=None):
        """What a button does: play, pause, step, d_step, g_step, reset."""
        if speed is not None:
            if speed not in SPEEDS:
                raise SettingsError(f"speed must be one of {', '.join(map(str, SPEEDS))} "
                                    f"steps a second (0: as fast as it goes); got {speed!r}")
            self.speed = speed
        if action == "play":
            self.error = None
            self.playing = True
            self._wake.set()
        elif action == "pause":
            self.playing = False
        elif action in ("step", "d_step", "g_step"):
            self.playing = False
            with ENGINE_LOCK:                        # after the training thread's chunk
                try:
                    {"step": self.step, "d_step": self.d_step, "g_step": self.g_step}[action]()
                except TrainingDiverged as e:
                    self.error = str(e)
        elif action == "reset":
            self.configure(self.settings_as_given())
        elif action != "speed":
            raise SettingsError(f"unknown action {action!r}; known: play, pause, step, "
                                f"d_step, g_step, reset, speed")

    def settings_as_given(self):
        s = dict(self.settings)
        if s["points"] is not None:
            s["points"] = s["points"].tolist()
        else:
            s.pop("points")
        return s

    def heartbeat(self):
        self.last_seen = time.monotonic()

    def close(self):
        self.closed = True
        self.playing = False
        self._wake.set()

    # ------------------------------------------------------------ the thread
    def _train(self):
        """Step while playing, in chunks of at most CHUNK_SECONDS (a view waiting for
        the engine gets it between chunks), paced to ``speed`` steps a second."""
        next_at = time.monotonic()
        while not self.closed:
            if not self.playing:
                self._wake.wait(0.1)
                self._wake.clear()
                next_at = time.monotonic()
                continue
            try:
                if self.speed:
                    now = time.monotonic()
                    if now < next_at:
                        time.sleep(min(next_at - now, 0.1))
                        continue
                    self.step(1)
                    next_at = max(next_at + 1.0 / self.speed, now - 0.5)
                else:
                    with ENGINE_LOCK:
                        start = time.perf_counter()
                        while (self.playing and not self.closed
                               and time.perf_counter() - start < CHUNK_SECONDS):
                            self.step(1)
                    time.sleep(0.001)                # let a waiting view take the engine
            except TrainingDiverged as e:
                self.error = str(e)
                self.playing = False
            except Exception as e:                   # shown in the page, never lost
                self.error = f"training stopped: {type(e).__name__}: {e}"
                self.playing = False


class Sessions:
    """The runs of every tab, up to MAX_SESSIONS, and the reaper that pauses and then
    removes the runs whose page stopped sending heartbeats."""

    def __init__(self, limit=MAX_SESSIONS, timeout=HEARTBEAT_TIMEOUT, forget=FORGET_AFTER):
        self.limit, self.timeout, self.forget = limit, timeout, forget
        self.runs = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.reaper = threading.Thread(target=self._reap, name="playground-reaper", daemon=True)
        self.reaper.start()

    def create(self, settings):
        with self.lock:
            if len(self.runs) >= self.limit:
                raise LimitError(f"at most {self.limit} runs at once (one per tab); close "
                                 f"another playground tab, or wait {self.forget:.0f} s after "
                                 f"closing one")
            run = Session(settings)
            self.runs[run.id] = run
            return run

    def get(self, sid):
        with self.lock:
            return self.runs.get(sid)

    def remove(self, sid):
        with self.lock:
            run = self.runs.pop(sid, None)
        if run is not None:
            run.close()
            run.thread.join(timeout=2.0)
        return run is not None

    def _reap(self):
        while not self.stopped.wait(0.1):
            now = time.monotonic()
            with self.lock:
                runs = list(self.runs.items())
            for sid, run in runs:
                quiet = now - run.last_seen
                if quiet > self.forget:
                    self.remove(sid)
                elif quiet > self.timeout and run.playing:
                    run.playing = False
                    run.error = ("paused: the page sent no heartbeat for "
                                 f"{self.timeout:g} s (was it closed or hidden?)")

    def close_all(self):
        """Stop every run and the reaper, joining their threads."""
        self.stopped.set()
        for sid in list(self.runs):
            self.remove(sid)
        self.reaper.join(timeout=2.0)


class LimitError(RuntimeError):
    """No room for another run (MAX_SESSIONS)."""

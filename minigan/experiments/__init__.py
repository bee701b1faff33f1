"""The experiments that ``python -m minigan run NAME`` runs, one per lecture idea.

An experiment is a function ``fn(cfg: RunConfig) -> dict`` registered with the
``@experiment(name, summary)`` decorator. It writes its figures into
``cfg.out`` and returns its key numbers; the command line adds the
configuration and the wall time and saves them as ``metrics.json``.

Every training run of an experiment is a Trainer built with
``cfg.trainer_settings(NAME)`` and trained by its ``fit(steps, resume=cfg.resume)``:
its checkpoint and history live under ``out/checkpoints/NAME/``, ``--resume``
continues it from there, and a Ctrl-C saves it and raises ``TrainingInterrupted``,
which the command line turns into an honest ``metrics.json`` and exit code 130.
It is also saved every ``SAVE_EVERY_SECONDS`` of training (the Trainer's
``checkpoint_seconds``), so a run killed without a Ctrl-C resumes from at most
a minute back.

The modules that define experiments are imported only when the registry is
asked for (``load_all``), so ``import minigan`` stays light.
"""
import importlib
import pathlib
import time
from dataclasses import dataclass, field, asdict

from ..gan.runner import Callback

EXPERIMENTS = {}          # name -> Experiment

# A run killed outright (out of memory, a reboot, a closed laptop) gets no Ctrl-C
# save; RunConfig.fit has the Trainer save at the first step boundary after this many
# seconds of training since the last save, so such a run loses at most about this much.
SAVE_EVERY_SECONDS = 60

# modules in minigan/experiments/ that register experiments, in listing order
_MODULES = ("games", "toy1d", "vanishing", "mog", "mog_table", "image_gans", "convt_matrix",
            "bn_correlation", "invert", "latent_walk", "pretraining", "translation",
            "progan", "stackgan", "simgan", "classifier_score", "stacked_mnist")


@dataclass(frozen=True)
class Experiment:
    name: str
    summary: str          # one line for `python -m minigan list`
    fn: object            # fn(cfg) -> dict of key numbers
    module: str           # where it is defined
    options: dict = field(default_factory=dict)   # --set NAME=VALUE it takes: name -> kind
    lecture: int = None   # the lecture (1-5, LECTURES) whose idea it shows
    loads_model: bool = False   # starts from trained models (takes --model PATH)

    def run(self, cfg):
        """Check cfg's --set options against the ones this experiment takes (an unknown
        name or a value of the wrong kind is refused before anything runs), then run."""
        if cfg.model and not self.loads_model:
            raise OptionError(f"{self.name} trains its own models and takes no --model; the "
                              f"experiments that start from trained models do: "
                              f"{', '.join(n for n, e in EXPERIMENTS.items() if e.loads_model)}")
        unknown = sorted(set(cfg.options) - set(self.options))
        if unknown:
            takes = ", ".join(f"{n}={_kind_name(k)}" for n, k in sorted(self.options.items()))
            raise OptionError(f"{self.name} has no option {', '.join(unknown)}; "
                              + (f"its options: {takes}" if takes else "it takes no --set "
                                 "options"))
        for name, value in cfg.options.items():
            _convert(name, value, self.options[name])
        cfg.kinds = dict(self.options)
        result = self.fn(cfg)
        if isinstance(result, dict) and "claims" in result:    # the demo's verdicts
            from .claims import as_records
            for c in result["claims"]:
                print(c.line(quick=cfg.quick))
            result["claims"] = as_records(result["claims"])
        return result


def choice(*values):
    """An option kind that takes one of `values` (strings)."""
    def convert(value):
        if value not in values:
            raise ValueError(f"expected one of {', '.join(values)}")
        return value
    convert.__name__ = "|".join(values)
    return convert


def _kind_name(kind):
    return getattr(kind, "__name__", str(kind))


def _convert(name, value, kind):
    try:
        return kind(value)
    except ValueError as e:
        detail = str(e) if kind not in (int, float) else f"expected {_kind_name(kind)}"
        raise OptionError(f"--set {name}={value}: {detail}") from None


@dataclass
class RunConfig:
    """How to run one experiment.

    steps: training steps, or None for the experiment's own default.
    quick: a short run (``QUICK_TAKES``) that still draws every figure.
    jobs: worker processes for an experiment made of independent runs (None: one
    per CPU core on the CPU, one on a GPU).
    """
    name: str
    steps: int = None
    seed: int = 0
    device: str = "cpu"
    out: pathlib.Path = field(default_factory=lambda: pathlib.Path("runs"))
    quick: bool = False
    progress: bool = True
    jobs: int = None
    resume: bool = False
    data_dir: str = None   # MNIST's folder (None: $MINIGAN_DATA, else the per-user cache)
    options: dict = field(default_factory=dict)   # --set NAME=VALUE, an experiment's own knobs
    model: str = None      # --model PATH: the trained DCGAN a lesson loads (None: the shipped one)
    kinds: dict = field(default_factory=dict, repr=False)   # their kinds, set by Experiment.run

    def steps_or(self, default, quick_default=None):
        """The step count to use: --steps if given, else the (quick) default."""
        if self.steps is not None:
            return int(self.steps)
        if self.quick and quick_default is not None:
            return int(quick_default)
        return int(default)

    def option(self, name, default):
        """The experiment's option `name` (``--set name=value``), converted to the kind
        the experiment declared for it, else `default`."""
        if name not in self.kinds:
            raise KeyError(f"{self.name} reads an option {name!r} it does not declare "
                           f"(@experiment(..., options=...))")
        if name not in self.options:
            return default
        return _convert(name, self.options[name], self.kinds[name])

    def as_dict(self):
        d = asdict(self)
        d["out"] = str(self.out)
        del d["kinds"]
        return d

    def run_dir(self, name):
        """Where the training run `name` keeps its checkpoint and history."""
        return pathlib.Path(self.out) / "checkpoints" / name

    def trainer_settings(self, name, callbacks=()):
        """What the training run `name` of this experiment is built with (``Trainer``
        arguments): its checkpoint and history in ``run_dir(name)``, saved every
        ``SAVE_EVERY_SECONDS`` of training, no messages of its own (the command line
        reports), a stop asked of the worker processes honoured at a step boundary,
        and a fit stopped by Ctrl-C raising ``TrainingInterrupted``; `callbacks`, the
        run's own, come first. Train it with ``trainer.fit(steps, resume=cfg.resume)``."""
        return {"name": name, "out_dir": str(self.run_dir(name)), "verbose": False,
                "checkpoint_seconds": SAVE_EVERY_SECONDS, "on_interrupt": "raise",
                "callbacks": list(callbacks) + [Reached(name), Callback(_stop_if_asked)]}


def trainer_settings(cfg, name, callbacks=()):
    """``cfg.trainer_settings(name, callbacks)``, or without a RunConfig (a call from
    code or a test) a plain Trainer's: just the `callbacks`."""
    if cfg is None:
        return {"callbacks": list(callbacks)}
    return cfg.trainer_settings(name, callbacks)


def resuming(cfg):
    """Whether this experiment's runs continue from their checkpoints (--resume)."""
    return cfg is not None and cfg.resume


def _stop_if_asked(trainer, step):
    from . import workers
    if workers.stop_requested():
        trainer.request_stop()


# name of each training run of this process's experiment -> the step it reached
REACHED = {}


class Reached(Callback):
    """Keeps ``REACHED[name]`` at the step the training run `name` has reached, for
    the report of an interrupted experiment."""

    def __init__(self, name):
        super().__init__(self._note)
        self.name = name

    def _note(self, trainer, step):
        REACHED[self.name] = step

    def on_fit_start(self, trainer):
        REACHED[self.name] = trainer.global_step

    on_fit_end = on_fit_start


class RunClock:
    """A run's wall and CPU seconds, its training counted over every process.

    After a ``--resume`` this process's own clocks miss the steps trained before
    the interruption, and a finished run that just loads would cost almost
    nothing. The Trainer keeps its training time in the checkpoint
    (``train_seconds``, ``train_cpu_seconds``), so a run costs this process's time
    outside ``fit`` plus that total. Use: ``clock = RunClock()`` before the run,
    ``clock.seconds(trainer)`` after it.
    """

    def __init__(self):
        self._wall0, self._cpu0 = time.perf_counter(), time.process_time()

    def seconds(self, trainer):
        """(wall, CPU) seconds: this process's time outside the trainer's fit, plus its
        training over every process."""
        outside_wall = time.perf_counter() - self._wall0 - trainer.session_seconds
        outside_cpu = time.process_time() - self._cpu0 - trainer.session_cpu_seconds
        return (outside_wall + trainer.train_seconds,
                outside_cpu + trainer.train_cpu_seconds)


class OptionError(ValueError):
    """A --set NAME=VALUE that the experiment does not have, or a value of the wrong kind."""


class Interrupted(Exception):
    """An experiment stopped by Ctrl-C, every trainer's checkpoint saved.
    ``steps``: each training run's name -> the step it reached."""

    def __init__(self, steps):
        super().__init__(f"interrupted ({len(steps)} runs)")
        self.steps = dict(steps)


# What --quick promises, said once (--help, the docs): the longest --quick run measured,
# on the slowest machine measured, stays under it (docs/quick-runs.md).
QUICK_TAKES = "at most 5 minutes on 2 CPU cores, most of them seconds"


@dataclass(frozen=True)
class Lecture:
    """One of the five lectures minigan teaches: its topic, its text in
    ``../shared/lectures/``, and its page in ``docs/lectures/``."""
    number: int
    topic: str
    text: str
    page: str


# one numbering, 1 to 5, in the order the course gives them
LECTURES = {lec.number: lec for lec in (
    Lecture(1, "Introduction of GAN", "000_f12157249819388b.txt",
            "docs/lectures/1-introduction.md"),
    Lecture(2, "GAN: the algorithm and the Keras MLP GAN", "001_8c3b75c24c12195d.txt",
            "docs/lectures/2-the-algorithm.md"),
    Lecture(3, "GAN: formulation, non-convergence, mode collapse, DCGAN",
            "002_f68536fa2c38644f.txt", "docs/lectures/3-formulation-and-dcgan.md"),
    Lecture(4, "GANs: transposed convolution, training tricks, conditional GAN, evaluation",
            "003_34216867ed223503.txt", "docs/lectures/4-convolutions-tricks-evaluation.md"),
    Lecture(5, "GANs: autoencoders and the two-player game", "004_04ad1ad1d3b237c0.txt",
            "docs/lectures/5-autoencoders-and-the-game.md"),
)}


def experiment(name, summary, options=None, *, lecture, loads_model=False):
    """Decorator: register ``fn(cfg) -> dict`` under `name` with a one-line summary.
    `options`: the ``--set NAME=VALUE`` options it takes, name -> kind (int, float,
    str or ``choice(...)``); any other name is refused before the run starts.
    `lecture`: the number (``LECTURES``) of the lecture whose idea it shows;
    `loads_model`: it starts from a trained DCGAN (``trained.load_gan``, ``--model``)."""
    if lecture not in LECTURES:
        raise ValueError(f"experiment {name!r}: lecture must be one of {sorted(LECTURES)}, "
                         f"got {lecture!r}")

    def register(fn):
        if name in EXPERIMENTS and EXPERIMENTS[name].fn is not fn:
            raise ValueError(f"experiment {name!r} is registered twice "
                             f"({EXPERIMENTS[name].module} and {fn.__module__})")
        EXPERIMENTS[name] = Experiment(name, summary, fn, fn.__module__, dict(options or {}),
                                       lecture, loads_model)
        return fn
    return register


def load_all():
    """Import every experiment module (a missing optional one is skipped) and
    return the registry."""
    for mod in _MODULES:
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as e:
            # only skip a module that does not exist; a broken import inside it must show
            if e.name != f"{__name__}.{mod}":
                raise
    return EXPERIMENTS


def get(name):
    """The registered experiment `name`, or a KeyError listing the known ones."""
    exps = load_all()
    if name not in exps:
        known = ", ".join(exps)
        raise KeyError(f"unknown experiment {name!r}; known experiments: {known}")
    return exps[name]

"""The experiments that ``python -m minigan run NAME`` runs, one per lecture idea.

An experiment is a function ``fn(cfg: RunConfig) -> dict`` registered with the
``@experiment(name, summary)`` decorator. It writes its figures into
``cfg.out`` and returns its key numbers; the command line adds the
configuration and the wall time and saves them as ``metrics.json``.

The modules that define experiments are imported only when the registry is
asked for (``load_all``), so ``import minigan`` stays light.
"""
import importlib
import pathlib
from dataclasses import dataclass, field, asdict

EXPERIMENTS = {}          # name -> Experiment

# modules in minigan/experiments/ that register experiments, in listing order
_MODULES = ("games", "toy1d", "vanishing", "mog", "mog_table")


@dataclass(frozen=True)
class Experiment:
    name: str
    summary: str          # one line for `python -m minigan list`
    fn: object            # fn(cfg) -> dict of key numbers
    module: str           # where it is defined


@dataclass
class RunConfig:
    """How to run one experiment.

    steps: training steps, or None for the experiment's own default.
    quick: a short run (under a minute on 2 CPU cores) that still draws every figure.
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

    def steps_or(self, default, quick_default=None):
        """The step count to use: --steps if given, else the (quick) default."""
        if self.steps is not None:
            return int(self.steps)
        if self.quick and quick_default is not None:
            return int(quick_default)
        return int(default)

    def as_dict(self):
        d = asdict(self)
        d["out"] = str(self.out)
        return d


def experiment(name, summary):
    """Decorator: register ``fn(cfg) -> dict`` under `name` with a one-line summary."""
    def register(fn):
        if name in EXPERIMENTS and EXPERIMENTS[name].fn is not fn:
            raise ValueError(f"experiment {name!r} is registered twice "
                             f"({EXPERIMENTS[name].module} and {fn.__module__})")
        EXPERIMENTS[name] = Experiment(name, summary, fn, fn.__module__)
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

"""The command line: ``python -m minigan list``, ``run NAME``, ``exercises ...`` and
``playground``.

    python -m minigan list
    python -m minigan run NAME [--steps N] [--seed S] [--device cpu|cuda]
                               [--out DIR] [--quick] [--no-progress] [--jobs J] [--resume]
    python -m minigan exercises list | new DIR | check DIR     (minigan/exercises/cli.py)
    python -m minigan playground [--port N] [--no-browser]     (minigan/playground/)

``playground`` serves the live page on 127.0.0.1 (a free port unless --port) and
opens it in the default browser; Ctrl-C stops it.

``run`` writes the experiment's figures (PNG, and GIF where training unfolds
over time) and ``metrics.json`` (its key numbers, the configuration and the
wall time) into DIR, by default ``runs/NAME/``. Everything that can be checked
before training (the name, the step count, the device, the output folder) is
checked first, so a mistake costs seconds, not a training run. A mistake found
later (MNIST missing, damaged or not downloadable; the output folder removed or
made read-only during the run) prints its message alone on stderr, without a
traceback, and exits with code 2, as a mistake in the command line does.

Ctrl-C stops every training run of the experiment at a step boundary and saves
its checkpoint under DIR/checkpoints/; ``metrics.json`` then says
``"interrupted": true`` with the step each run reached, and the command exits
with code 130. ``--resume`` continues every unfinished run from its checkpoint,
to the same result an uninterrupted run gives.
"""
import argparse
import contextlib
import json
import math
import os
import pathlib
import re
import sys
import tempfile
import time

MAX_STEPS = 1_000_000


class UsageError(Exception):
    """A mistake in the command line, reported as one line without a traceback."""


def _parser():
    from .experiments import QUICK_TAKES
    p = argparse.ArgumentParser(prog="python -m minigan",
                                description="minigan: run the GAN lecture experiments, "
                                            "or hand out and grade the class exercises.")
    sub = p.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="the experiments, lecture by lecture, one line each")
    ls.add_argument("--names", action="store_true",
                    help="only their names, one a line (for scripts)")
    r = sub.add_parser("run", help="run one experiment, writing figures and metrics.json")
    r.add_argument("name", help="experiment name (see `python -m minigan list`)")
    r.add_argument("--steps", type=int, default=None,
                   help=f"training steps, 1..{MAX_STEPS} (default: the experiment's own)")
    r.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    r.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                   help="cpu (NumPy) or cuda (CuPy)")
    r.add_argument("--out", default=None, help="output folder (default runs/NAME/)")
    r.add_argument("--quick", action="store_true",
                   help=f"a short run ({QUICK_TAKES}), every figure still drawn")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")
    r.add_argument("--data-dir", default=None,
                   help="folder with the four MNIST files (default: $MINIGAN_DATA, else a "
                        "per-user cache, downloaded into on first use)")
    r.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="an experiment's own option, e.g. --set lambda1=0.1 for invert "
                        "(repeatable)")
    r.add_argument("--model", default=None, metavar="PATH",
                   help="the trained DCGAN a lesson on a trained G starts from (latent-walk, "
                        "invert, bn-correlation): a run's folder or checkpoint, e.g. "
                        "runs/dcgan (default: the one that ships with minigan); for "
                        "classifier-score, a folder holding the runs mnist-mlp/, dcgan/ and "
                        "cgan/ (a model missing there is trained)")
    r.add_argument("--resume", action="store_true",
                   help="continue an interrupted run in --out from its checkpoints")
    r.add_argument("--jobs", type=int, default=None,
                   help="worker processes for experiments made of many independent runs "
                        "(mog-table; default: one per CPU core, 1 with --device cuda)")
    from .exercises import cli as exercises_cli
    exercises_cli.add_parser(sub)
    pg = sub.add_parser("playground", help="the live page: train a GAN on 2-D data in the "
                                           "browser, every view computed by minigan")
    pg.add_argument("--port", type=int, default=0,
                    help="the port on 127.0.0.1 (default: a free one)")
    pg.add_argument("--no-browser", action="store_true",
                    help="print the address only; do not open a browser")
    return p


def check_out_dir(out):
    """Create `out` and prove it is writable (write and delete a probe file)."""
    out = pathlib.Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".minigan-probe-", dir=out)
        os.close(fd)
        os.remove(probe)
    except OSError as e:
        raise UsageError(f"cannot write to the output folder {str(out)!r} "
                         f"({e.strerror or e}); choose another with --out DIR") from None
    return out


def _check_device(device):
    if device == "cuda":
        from . import backend
        if not backend.cuda_available():
            raise UsageError("--device cuda: " + (backend._cupy_error or "no GPU found"))


def _jsonable(v):
    """Numbers from numpy (or cupy) as plain Python numbers; an undefined value (NaN,
    inf) as None, which JSON writes as null."""
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if hasattr(v, "tolist"):                   # numpy scalars and arrays
        return _jsonable(v.tolist())
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def _metrics_owner(path):
    """The experiment whose metrics.json `path` is (None if unreadable)."""
    try:
        return json.loads(path.read_text()).get("config", {}).get("name")
    except (OSError, ValueError, AttributeError):
        return None


def write_metrics(out, metrics, cfg, wall_time):
    """metrics.json = the experiment's numbers + "config" + "wall_time_s" (atomic write).

    Experiments may share an --out (``latent-walk`` finds the DCGAN a ``dcgan`` run
    left there): another experiment's metrics.json is first kept as
    metrics-ITSNAME.json, so a half-hour run's numbers are never overwritten."""
    record = dict(_jsonable(metrics))
    record["config"] = _jsonable(cfg.as_dict())
    record["wall_time_s"] = round(wall_time, 3)
    if cfg.resume:          # the process before the interruption is not in wall_time_s
        record["wall_time_note"] = ("--resume: wall_time_s and the other timings count this "
                                    "process alone, but for the image GANs' train_seconds "
                                    "and the mog runs' seconds and cpu_seconds, which sum "
                                    "the training over every process")
    path = pathlib.Path(out) / "metrics.json"
    owner = _metrics_owner(path) if path.exists() else None
    if owner and owner != cfg.name and re.fullmatch(r"[\w.-]+", owner):
        os.replace(path, path.with_name(f"metrics-{owner}.json"))
        print(f"kept {owner}'s metrics.json as metrics-{owner}.json")
    from .serialization import atomic_write
    atomic_write(path, json.dumps(record, indent=2, allow_nan=False) + "\n")
    return path


def saved_steps(out):
    """{training run: the step its checkpoint holds} for every checkpoint under
    OUT/checkpoints/ (a second Ctrl-C can stop a run between its last save and the
    step the process reached: the checkpoint is what a resume continues from)."""
    from .serialization import load
    steps = {}
    for path in sorted(pathlib.Path(out).glob("checkpoints/*/checkpoint.npz")):
        try:
            steps[path.parent.name] = int(load(path)["step"])
        except (OSError, ValueError, KeyError, TypeError):
            continue                          # unreadable: nothing to resume from there
    return steps


def write_interrupted(out, name, reached, cfg, wall_time):
    """metrics.json of a run stopped by Ctrl-C: what each training run reached."""
    record = {"interrupted": True, "steps_reached": dict(sorted(reached.items()))}
    return write_metrics(out, record, cfg, wall_time)


# the settings that make a run what it is: --resume must be given the same ones
RUN_SETTINGS = ("name", "steps", "seed", "device", "quick", "options", "model")


def run_file(out, name):
    """OUT/run-NAME.json: a run's settings, written when it starts (before any
    training), so that --resume can check them even after a run killed outright."""
    return pathlib.Path(out) / f"run-{name}.json"


def write_run_file(out, cfg):
    from .serialization import atomic_write
    atomic_write(run_file(out, cfg.name), json.dumps(
        {k: v for k, v in cfg.as_dict().items() if k in RUN_SETTINGS}, indent=2) + "\n")


def check_resume(out, cfg):
    """--resume must continue the same run: the settings of the interrupted one
    (its run-NAME.json, else its metrics.json), else a clear refusal naming them."""
    path = run_file(out, cfg.name)
    if not path.exists():
        path = pathlib.Path(out) / "metrics.json"
        if path.exists() and _metrics_owner(path) not in (None, cfg.name):
            path = path.with_name(f"metrics-{cfg.name}.json")   # kept there by write_metrics
    if not path.exists():
        if not (pathlib.Path(out) / "checkpoints").exists():
            raise UsageError(f"--resume: nothing to resume in {str(out)!r} (no checkpoints/ "
                             f"and no metrics.json); run without --resume, or give the "
                             f"--out of the interrupted run")
        return
    try:
        record = json.loads(path.read_text())
    except ValueError:
        raise UsageError(f"--resume: {path} is not readable JSON, so the run's settings "
                         f"cannot be checked; start a new run without --resume") from None
    old = record.get("config", record) if isinstance(record, dict) else {}
    keys = RUN_SETTINGS
    changed = [f"{k} {old.get(k)!r} -> {getattr(cfg, k)!r}" for k in keys
               if k in old and old.get(k) != getattr(cfg, k)]
    if changed:
        raise UsageError(f"--resume: the run in {str(out)!r} had other settings ("
                         + ", ".join(changed) + "); resume with the same ones, or start a "
                         "new run without --resume")


def cmd_list(names_only=False):
    from .experiments import load_all, LECTURES
    exps = load_all()
    if names_only:
        print("\n".join(exps))
        return 0
    width = max(len(n) for n in exps) if exps else 0
    for number, lecture in LECTURES.items():
        names = [n for n in exps if exps[n].lecture == number]   # in registration order
        print(f"Lecture {number}: {lecture.topic} ({lecture.page})")
        for name in names or ["(none yet)"]:
            print(f"  {name:<{width}}  {exps[name].summary if name in exps else ''}".rstrip())
        print()
    return 0


def cmd_run(args):
    from .experiments import get, RunConfig, Interrupted, REACHED, OptionError
    from .gan.runner import CheckpointMismatch, TrainingInterrupted
    from .experiments.trained import MissingModel
    from .data.mnist_files import MNISTError
    try:
        exp = get(args.name)
    except KeyError as e:
        raise UsageError(e.args[0]) from None
    if args.steps is not None and not 1 <= args.steps <= MAX_STEPS:
        raise UsageError(f"--steps must be between 1 and {MAX_STEPS}, got {args.steps}")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    if not 0 <= args.seed < 2 ** 32:
        raise UsageError(f"--seed must be between 0 and {2 ** 32 - 1}, got {args.seed}")
    _check_device(args.device)
    if args.out is not None and not args.out.strip():
        raise UsageError(f"--out must name a folder, got {args.out!r}; leave --out out to "
                         f"write into runs/{args.name}/")
    out = check_out_dir(args.out if args.out is not None else pathlib.Path("runs") / args.name)

    options = {}
    for item in args.set:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise UsageError(f"--set {item}: expected NAME=VALUE, e.g. --set lambda1=0.1")
        options[name.strip()] = value.strip()
    from . import backend
    backend.manual_seed(args.seed)
    cfg = RunConfig(name=args.name, steps=args.steps, seed=args.seed, device=args.device,
                    out=out, quick=args.quick, progress=not args.no_progress,
                    jobs=args.jobs, resume=args.resume, data_dir=args.data_dir,
                    options=options, model=args.model)
    if args.resume:
        check_resume(out, cfg)
    with _output_failures_reported(out):
        write_run_file(out, cfg)
    print(f"running {exp.name}: {exp.summary}")
    start = time.perf_counter()
    REACHED.clear()
    try:
        with _output_failures_reported(out):
            metrics = exp.run(cfg) or {}
    except CheckpointMismatch as e:
        raise UsageError(f"--resume: {e}") from None
    except (OptionError, MissingModel, MNISTError) as e:
        raise UsageError(str(e)) from None
    except (Interrupted, TrainingInterrupted, KeyboardInterrupt) as e:
        reached = dict(REACHED, **getattr(e, "steps", {}))
        reached.update(saved_steps(out))        # what --resume continues from, on disk
        with _output_failures_reported(out):
            write_interrupted(out, exp.name, reached, cfg, time.perf_counter() - start)
        where = (f"checkpoints in {out / 'checkpoints'}; continue with: python -m minigan "
                 f"run {exp.name} --out {out}" + _same_settings(args) + " --resume"
                 if reached else "nothing to resume; run it again")
        print(f"\ninterrupted: {where}", file=sys.stderr)
        return 130
    wall = time.perf_counter() - start
    with _output_failures_reported(out):
        path = write_metrics(out, metrics, cfg, wall)
        files = sorted(p.name for p in out.iterdir() if p.suffix in (".png", ".gif"))
    print(f"done in {wall:.1f} s; wrote {path}" + (f" and {', '.join(files)}" if files else ""))
    return 0


@contextlib.contextmanager
def _output_failures_reported(out):
    """A file of the run that could not be written into `out` (the folder removed or made
    read-only during the run, the disk full) as a UsageError naming the file: the
    folder was checked at the start, so what changed is outside the program, and a
    traceback would only hide the path. Other OSErrors (not under `out`) pass."""
    try:
        yield
    except OSError as e:
        if e.filename is None or not _inside(e.filename, out):
            raise
        raise UsageError(f"could not write {os.fspath(e.filename)!r} ({e.strerror or e}); the "
                         f"output folder {str(out)!r} must stay writable until the run ends "
                         f"(was it removed, made read-only, or is the disk full?)") from None


def _inside(path, folder):
    """Whether `path` is `folder` or lies under it (False for what is not a path: an
    OSError's filename may be a file descriptor)."""
    try:
        path, folder = os.path.abspath(os.fspath(path)), os.path.abspath(os.fspath(folder))
        return os.path.commonpath([path, folder]) == folder
    except (TypeError, ValueError):
        return False


def _same_settings(args):
    """Every option the run was started with, so that the "continue with" line
    works verbatim (quoted for a shell)."""
    import shlex
    opts = []
    if args.steps is not None:
        opts += ["--steps", str(args.steps)]
    if args.seed:
        opts += ["--seed", str(args.seed)]
    if args.device != "cpu":
        opts += ["--device", args.device]
    if args.quick:
        opts += ["--quick"]
    if args.no_progress:
        opts += ["--no-progress"]
    if args.data_dir is not None:
        opts += ["--data-dir", args.data_dir]
    if args.model is not None:
        opts += ["--model", args.model]
    if args.jobs is not None:
        opts += ["--jobs", str(args.jobs)]
    for item in args.set:
        opts += ["--set", item]
    return "".join(" " + shlex.quote(o) for o in opts)


def cmd_playground(args):
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 (a free port) and 65535, got {args.port}")
    from .playground import server
    try:
        return server.serve(args.port, open_browser=not args.no_browser)
    except OSError as e:
        raise UsageError(f"cannot listen on 127.0.0.1:{args.port} ({e.strerror or e}); "
                         f"choose another --port, or leave it out for a free one") from None


def main(argv=None):
    args = _parser().parse_args(argv)
    from .exercises.cli import UsageError as ExercisesUsageError, run as run_exercises
    try:
        if args.command == "list":
            return cmd_list(args.names)
        if args.command == "exercises":
            return run_exercises(args)
        if args.command == "playground":
            return cmd_playground(args)
        return cmd_run(args)
    except (UsageError, ExercisesUsageError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

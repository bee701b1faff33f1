"""A student's workspace: the exercise files, a README, and the test file for pytest.

    python -m minigan exercises new DIR [--only NAME,...] [--force]

writes into DIR one file per exercise (a copy of ``templates/NN_name.py``:
forward given, backward a stub raising NotImplementedError("your turn: ...")),
``README.md`` (how to work and how to check), ``test_exercises.py`` (so that
``pytest DIR`` grades it) and ``.minigan-exercises``, which marks the folder as
a workspace and lists the exercises handed out. Nothing of the answers is
written: the installed library is the reference, and reading it is allowed.

Writing never destroys a student's work. A file that already exists with
other content than the template's is left alone, and ``new`` stops with an
error naming it, unless ``--force`` is given; then the old file is kept beside
the new one as ``NAME.py.bak`` (``.bak2``, ... if that exists). New exercises can be added to a workspace at
any time with ``--only``. Every file is written with ``minigan.serialization.
atomic_write``, so an interrupted ``new`` leaves each file whole, old or new.
"""
import json
import pathlib

from ..serialization import atomic_write
from . import catalogue

MARKER = ".minigan-exercises"
TEMPLATES = pathlib.Path(__file__).resolve().parent / "templates"


class WorkspaceError(Exception):
    """A folder that cannot be used as asked; the message says what to do."""


def template_text(exercise):
    return (TEMPLATES / exercise.filename).read_text()


README = """\
# minigan exercises

Each `NN_name.py` file here is one operation of minigan's engine. Its
`forward` is given; its `backward` is yours to write. The docstring at the
top of the file says what to derive, with the math and a hint.

    python -m minigan exercises check .           # grade everything here
    python -m minigan exercises check . --only sigmoid,tanh
    pytest .                                      # the same verdicts, as tests
    python -m minigan exercises list              # all exercises, in the suggested order

A check prints one row per exercise: `pass`, `FAIL`, `not started` (your
functions still raise the template's `NotImplementedError("your turn: ...")`)
or `missing file`; for a failure, the wrong number, yours beside the right
one, and often a hint. Under the table, your total counts every exercise
here (not only those you attempted), the same total your instructor's grading
gives this folder.

## How your code is plugged into the engine

The grader builds one op of the engine out of your file, the same way
minigan's own ops are built (read `minigan/ops/math.py`, the simplest):

    out = make_op(forward(x.data, ...), (x, ...), lambda g, out: backward(g, x, ..., out), name)

- `forward` works on NumPy arrays and returns an array.
- `backward(g, <the inputs>, out, <the parameters>)` receives minigan Tensors:
  `g` is dL/d(out), the gradient of the loss with respect to the op's output,
  and it returns dL/d(input) for each input (a tuple when there are several),
  each with the shape of its input. Write it with Tensor operations
  (`+ - * / **`, `@`, `.sum(axis=..., keepdims=True)`, `.reshape`, `.T`,
  `.exp()`, `.sigmoid()`, ...). `x.data` is the NumPy array inside a Tensor.

The grader then checks your backward three ways: against central differences
of forward (`minigan.gradcheck`, in float64), against minigan's own op on
random inputs and edge cases, and, for the gradient penalty and instance norm,
to second order (`minigan.gradgradcheck`). Each file runs in a process of its
own under a time limit, so an error or an endless loop fails that exercise
alone.

minigan itself is the reference: reading its source is allowed, and it is
where every formula here is implemented. Deriving them yourself is the point.
"""

TEST_FILE = '''\
"""`pytest` on this folder grades it, one test per exercise, with the verdicts of
`python -m minigan exercises check`: pass -> passed, fail -> failed, not started -> skipped."""
import pathlib

import pytest

from minigan.exercises import grading
from minigan.exercises.workspace import exercises_in

HERE = pathlib.Path(__file__).resolve().parent


@pytest.mark.parametrize("name", [e.name for e in exercises_in(HERE)])
def test_exercise(name):
    grading.pytest_verdict(HERE, name)
'''


def _read_marker(folder):
    """The exercise names the marker lists ([] if it is missing or unreadable)."""
    try:
        data = json.loads((pathlib.Path(folder) / MARKER).read_text())
        return [n for n in data.get("exercises", []) if n in catalogue.BY_NAME]
    except (OSError, ValueError, AttributeError):
        return []


def exercises_in(folder):
    """The exercises of a workspace: handed out (the marker) or present (a file), in order."""
    folder = pathlib.Path(folder)
    names = set(_read_marker(folder))
    names.update(e.name for e in catalogue.EXERCISES if (folder / e.filename).is_file())
    return [e for e in catalogue.EXERCISES if e.name in names]


def is_workspace(folder):
    folder = pathlib.Path(folder)
    return folder.is_dir() and ((folder / MARKER).is_file() or bool(exercises_in(folder)))


def require_workspace(folder):
    """`folder` as a Path, or a WorkspaceError saying why it is not a workspace."""
    folder = pathlib.Path(folder)
    if not folder.exists():
        raise WorkspaceError(f"{folder}: no such folder; make a workspace with: python -m "
                             f"minigan exercises new {folder}")
    if not is_workspace(folder):
        raise WorkspaceError(f"{folder} is not an exercise workspace (it has no {MARKER} "
                             f"file and no exercise files such as 01_sigmoid.py); make one "
                             f"with: python -m minigan exercises new DIR")
    return folder


def _backup_name(path):
    """NAME.py.bak, or NAME.py.bak2, .bak3, ... when earlier backups exist: none is lost."""
    backup, k = path.with_name(path.name + ".bak"), 1
    while backup.exists():
        k += 1
        backup = path.with_name(f"{path.name}.bak{k}")
    return backup


def new_workspace(folder, exercises=None, force=False):
    """Write a workspace (or add exercises to one). Returns what was done, as a dict of
    lists of file names: written, unchanged, replaced (old copies in NAME.bak), kept.

    Raises WorkspaceError, before writing anything, when an exercise file would
    replace different content and `force` is False, or when `folder` is a
    non-empty folder that is not a workspace (a typo could otherwise litter a
    home directory) and `force` is False.
    """
    folder = pathlib.Path(folder)
    exercises = list(catalogue.EXERCISES if exercises is None else exercises)
    if folder.exists() and not folder.is_dir():
        raise WorkspaceError(f"{folder} is a file, not a folder")
    if folder.is_dir() and not force and not is_workspace(folder) \
            and any(p for p in folder.iterdir() if not p.name.startswith(".")):
        raise WorkspaceError(f"{folder} already holds other files and is not an exercise "
                             f"workspace; choose a new or empty folder (or add --force to "
                             f"write into it anyway)")
    planned = [(e.filename, template_text(e), True) for e in exercises]
    planned += [("README.md", README, False), ("test_exercises.py", TEST_FILE, False)]

    clashes = [name for name, text, is_exercise in planned if is_exercise
               and (folder / name).is_file() and (folder / name).read_text() != text]
    if clashes and not force:
        raise WorkspaceError(
            f"nothing was written: {folder} already holds {', '.join(clashes)}, changed "
            f"since it was handed out (a student's work?). Leave those exercises out with "
            f"--only, or add --force to replace them with fresh templates (the old files are "
            f"kept as NAME.py.bak)")

    done = {"written": [], "unchanged": [], "replaced": [], "kept": []}
    folder.mkdir(parents=True, exist_ok=True)
    for name, text, is_exercise in planned:
        path = folder / name
        if not path.exists():
            atomic_write(path, text)
            done["written"].append(name)
        elif path.read_text() == text:
            done["unchanged"].append(name)
        elif is_exercise:                       # a clash, and force was given
            atomic_write(_backup_name(path), path.read_bytes())    # the student's bytes, kept
            atomic_write(path, text)
            done["replaced"].append(name)
        else:                                   # a README or test file the student changed
            done["kept"].append(name)
    handed_out = set(_read_marker(folder)) | {e.name for e in exercises}
    marker = {"kit": "minigan exercises", "version": 1,
              "exercises": [e.name for e in catalogue.EXERCISES if e.name in handed_out]}
    atomic_write(folder / MARKER, json.dumps(marker, indent=2) + "\n")
    return done

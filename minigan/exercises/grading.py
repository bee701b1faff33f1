"""The grader: each student file in a process of its own that only answers, the
verdict decided here, one student at a time, the package checked between them.

``grade_workspace(folder)`` grades one student's exercise files and returns one
``Result`` per exercise (the six states are in results.py). For each file it

1. reads the file (a class's files are all read before any student's code runs,
   so that no student's code can change another's file before it is graded);
2. starts the student's process on a copy (``remote.StudentProcess``): it loads
   the file and then only answers calls (forward, backward, step, ...) on the
   inputs the checks send; up to ``jobs`` processes are started ahead, so that
   their start-up overlaps the checking of the file before;
3. runs the checks here, in the grader (``grade_one``), under a time limit;
4. kills the process's whole process group (with anything it started).

The checks, the verdict and the answer key never enter a student's process.

``grade_class(parent)`` does the same for every workspace under one folder
(one per student), one student after the other. Before the first student and
after each, the installed package is compared with the digests taken before any
student's code ran (``integrity.py``): a change marks that student "tampered"
and stops the class run (``integrity.PackageChanged``, which carries what was
graded so far). ``write_csv`` and the reports live in reports.py.

``pytest_verdict`` gives ``pytest DIR`` the same verdicts: the test file that
``exercises new`` writes into a workspace calls it once per exercise (pass:
passed, not started: skipped, anything else: failed).
"""
import os
import pathlib
import time

from . import catalogue, grade_one, integrity
from .integrity import PackageChanged
from .remote import StudentProcess
from .reports import (report, class_report, format_table, format_failures, write_csv,
                      CSV_COLUMNS, CODES)
from .results import (PASS, FAIL, NOT_STARTED, MISSING, ERROR, TAMPERED, STATES, FAILING,
                      REASON_MAX, Result, Score, tally)
from .workspace import WorkspaceError, exercises_in, require_workspace

# the grader's surface: grading, and what it gives (results.py, reports.py) in one place
__all__ = ["grade_file", "grade_workspace", "grade_class", "student_folders", "pytest_verdict",
           "default_jobs", "DEFAULT_TIME_LIMIT", "KILL_GRACE", "PackageChanged",
           "report", "class_report", "format_table", "format_failures", "write_csv",
           "CSV_COLUMNS", "CODES", "PASS", "FAIL", "NOT_STARTED", "MISSING", "ERROR", "TAMPERED",
           "STATES", "FAILING", "REASON_MAX", "Result", "Score", "tally"]

#: Seconds each exercise may take (its checks take well under one on a laptop).
DEFAULT_TIME_LIMIT = 20.0
#: Extra seconds before a process that ignores its own timer is killed.
KILL_GRACE = 10.0


def default_jobs():
    return max(1, os.cpu_count() or 1)


# ------------------------------------------------------------ one student
def _read(exercise, path):
    """(exercise, file name, its bytes or None when it is not in the folder)."""
    path = pathlib.Path(path)
    try:
        return exercise, path.name, path.read_bytes() if path.is_file() else None
    except OSError:
        return exercise, path.name, None


def _missing(exercise, filename):
    return Result(exercise, MISSING, f"{filename} is not in the folder (python -m minigan "
                                     f"exercises new DIR --only {exercise.name} writes a "
                                     f"fresh copy)")


def _start(filename, source, time_limit):
    try:
        return StudentProcess.start(filename, source, time_limit)
    except OSError as e:
        return e


def _grade_files(files, jobs, time_limit, kill_grace):
    """files: [(exercise, file name, bytes or None)] -> [Result], in the same order,
    one student's files, `jobs` processes started ahead."""
    jobs = max(1, jobs or default_jobs())
    results = [None] * len(files)
    todo = []
    for i, (exercise, filename, source) in enumerate(files):
        if source is None:
            results[i] = _missing(exercise, filename)
        else:
            todo.append(i)
    started = {}
    try:
        for k, i in enumerate(todo):
            for j in todo[k:k + jobs]:
                if j not in started:
                    started[j] = _start(files[j][1], files[j][2], time_limit)
            exercise, filename, _ = files[i]
            process = started.pop(i)
            begin = time.perf_counter()
            if isinstance(process, OSError):
                results[i] = Result(exercise, ERROR, f"no verdict: the process for {filename} "
                                                     f"could not be started ({process})")
                continue
            try:
                status, message = grade_one.grade(exercise, process, filename, time_limit,
                                                  kill_grace)
            finally:
                process.close()
            results[i] = Result(exercise, status, message, time.perf_counter() - begin)
    finally:
        for process in started.values():
            if not isinstance(process, OSError):
                process.close()
    return results


def _tampered(results, changes, who):
    """Every result of a student during whose grading minigan's files changed."""
    files = ", ".join(map(str, changes))
    return [Result(r.exercise, TAMPERED,
                   f"minigan's own files changed while {who} code ran: {files}. None of "
                   f"these results can be trusted (the file was: {r.status}); reinstall "
                   f"minigan before grading again", r.seconds) for r in results]


def _check_package_before(manifest):
    changes = manifest.changes()
    if changes:
        raise PackageChanged(changes)


def grade_file(exercise, path, time_limit=DEFAULT_TIME_LIMIT, kill_grace=KILL_GRACE):
    """Grade one student file in a process of its own; always returns a Result
    (a change to minigan's files makes it "tampered").

    The student's process stops a call after the time left of `time_limit`
    seconds (saying where the student's code was); if it is still silent
    `kill_grace` seconds later (stuck inside C code, or its timer silenced), it
    is killed.
    """
    manifest = integrity.baseline()             # before any student code runs
    _check_package_before(manifest)
    results = _grade_files([_read(exercise, path)], 1, time_limit, kill_grace)
    changes = manifest.changes()
    return _tampered(results, changes, "your")[0] if changes else results[0]


def grade_workspace(folder, only=None, time_limit=DEFAULT_TIME_LIMIT, jobs=None,
                    kill_grace=KILL_GRACE):
    """One Result per exercise of the workspace (or of `only`), in catalogue order."""
    folder = require_workspace(folder)
    exercises = only if only is not None else exercises_in(folder)
    if not exercises:
        raise WorkspaceError(f"{folder} holds no exercise files; add some with: python -m "
                             f"minigan exercises new {folder} --only NAME")
    manifest = integrity.baseline()
    _check_package_before(manifest)
    files = [_read(e, folder / e.filename) for e in exercises]
    results = _grade_files(files, jobs, time_limit, kill_grace)
    changes = manifest.changes()
    return _tampered(results, changes, "your") if changes else results


# ------------------------------------------------------------ a class
def student_folders(parent):
    """The student workspaces directly under `parent`, and the other things found
    there (folders that are not workspaces, and plain files), to list as skipped."""
    parent = pathlib.Path(parent)
    if not parent.is_dir():
        raise WorkspaceError(f"--class {parent}: no such folder")
    workspaces, others = [], []
    for p in sorted(p for p in parent.iterdir() if not p.name.startswith(".")):
        if not p.is_dir():
            others.append(p)
            continue
        try:
            require_workspace(p)
            workspaces.append(p)
        except WorkspaceError:
            others.append(p)
    if not workspaces:
        raise WorkspaceError(f"--class {parent}: none of its folders is an exercise workspace "
                             f"(one folder per student, each made by `exercises new`)")
    return workspaces, others


def grade_class(parent, only=None, time_limit=DEFAULT_TIME_LIMIT, jobs=None,
                kill_grace=KILL_GRACE):
    """{student folder name: [Result]} for every workspace under `parent`, all graded
    on the same exercises: `only`, else every exercise handed out to anyone.

    Raises ``PackageChanged`` when minigan's files differ from what the grader
    started with, before the first student or after one (that student's results
    are then all "tampered", and the exception carries every result so far).
    """
    workspaces, _ = student_folders(parent)
    if only is None:
        names = {e.name for d in workspaces for e in exercises_in(d)}
        only = [e for e in catalogue.EXERCISES if e.name in names]
    manifest = integrity.baseline()
    _check_package_before(manifest)
    # every file read before any student's code runs
    files = {d.name: [_read(e, d / e.filename) for e in only] for d in workspaces}
    graded = {}
    for k, d in enumerate(workspaces):
        results = _grade_files(files[d.name], jobs, time_limit, kill_grace)
        changes = manifest.changes()
        if changes:
            graded[d.name] = _tampered(results, changes, f"{d.name}'s")
            raise PackageChanged(changes, d.name, graded, [w.name for w in workspaces[k + 1:]])
        graded[d.name] = results
    return graded


# ------------------------------------------------------------ pytest
def pytest_verdict(folder, name, time_limit=DEFAULT_TIME_LIMIT):
    """Grade one exercise of a workspace and tell pytest: pass, skip (not started) or
    fail (any other state, with its message)."""
    import pytest                      # only here: the library does not need pytest
    exercise = catalogue.get(name)
    result = grade_file(exercise, pathlib.Path(folder) / exercise.filename, time_limit)
    if result.status == NOT_STARTED:
        pytest.skip(f"not started: {result.message}")
    if result.status != PASS:
        state = "FAIL" if result.status == FAIL else result.status
        pytest.fail(f"{exercise.filename}: {state}\n{result.message}", pytrace=False)

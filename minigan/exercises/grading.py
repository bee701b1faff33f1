"""The grader: every student file in a process of its own, a table, a score, a CSV.

``grade_workspace(folder)`` runs ``python -m minigan.exercises.grade_one`` once
per exercise file (several at a time, ``jobs``), each under a time limit, and
collects one ``Result`` per exercise, in one of four states:

    pass          every check passed
    fail          a check failed, or the code raised, looped or crashed
    not started   every function the exercise asks for still raises the
                  template's NotImplementedError("your turn: ..."), from the
                  student's file, on every input tried (``harness.not_started``)
    missing file  the exercise's file is not in the folder

A student's code never runs in the grader's own process, so an exception, an
endless loop, a wrong shape or a crash of the interpreter is that exercise's
failure, with its message, and the other exercises are graded as usual.

``grade_class(parent)`` does the same for every workspace under one folder
(one per student) and ``write_csv`` writes the class's scores.

``tally`` is the one place where a total is counted: the student's ``check``
prints it and the CSV holds it, so both read the same numbers for a folder.

``pytest_verdict`` gives ``pytest DIR`` the same verdicts: the test file that
``exercises new`` writes into a workspace calls it once per exercise (pass:
passed, fail: failed, not started: skipped).
"""
import csv
import io
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..serialization import atomic_write
from . import catalogue
from .workspace import WorkspaceError, exercises_in, require_workspace

#: Seconds each exercise may take (its checks take well under one on a laptop).
DEFAULT_TIME_LIMIT = 20.0
#: Extra seconds before a process that ignores its own timer is killed.
KILL_GRACE = 10.0
PASS, FAIL, NOT_STARTED, MISSING = "pass", "fail", "not started", "missing file"
STATES = (PASS, FAIL, NOT_STARTED, MISSING)
#: The longest reason a CSV cell holds (the whole message is in `check DIR`).
REASON_MAX = 500


@dataclass
class Result:
    exercise: catalogue.Exercise
    status: str
    message: str
    seconds: float = 0.0

    @property
    def reason(self):
        """Why it did not pass, on one line (for a CSV cell); empty for a pass and for
        not started. The message's lines joined by ' | ': the check or the error and
        the wrong element, the two values side by side, where the error was raised,
        the hints; the allowance and the explanations in parentheses are left out."""
        if self.status in (PASS, NOT_STARTED):
            return ""
        parts, values = [], []
        for line in self.message.splitlines():
            line = " ".join(line.split())
            if not line or line.startswith(("|difference|", "(")):
                continue
            value = VALUE_LINE.match(line)
            if value:                          # 'yours -0.66 (what ...)' -> 'yours -0.66'
                if not values:
                    parts.append(values)
                values.append(f"{value[1]} {value[2]}")
                continue
            parts.append(line)
        text = " | ".join(", ".join(p) if isinstance(p, list) else p for p in parts)
        return text if len(text) <= REASON_MAX else text[:REASON_MAX - 3] + "..."


#: A line of values in a failure message: "yours 1.85 (...)", "measured 0.27 (...)", ...
VALUE_LINE = re.compile(r"^(yours|measured|minigan|Adam) (\S+)")


def _package_root():
    """The folder that holds the `minigan` package this grader belongs to."""
    return str(pathlib.Path(__file__).resolve().parents[2])


def _child_env():
    """The grading process imports this same minigan, on the CPU, on one thread
    (the shapes are tiny: threads would only wait for each other)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = _package_root() + (os.pathsep + env["PYTHONPATH"]
                                          if env.get("PYTHONPATH") else "")
    env["MINIGAN_DEVICE"] = "cpu"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    env.pop("PYTHONSTARTUP", None)
    return env


def _tail(path, lines=8, size=4096):
    """The last lines of a file of a process's output, for a crash report."""
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - size))
        text = f.read().decode("utf-8", "replace")
    kept = [ln for ln in text.strip().splitlines() if ln.strip()]
    return "\n".join("    " + ln for ln in kept[-lines:]) or "    (none)"


def grade_file(exercise, path, time_limit=DEFAULT_TIME_LIMIT, kill_grace=KILL_GRACE):
    """Grade one student file in a fresh Python process; always returns a Result.

    The process stops its own checks after `time_limit` seconds (saying where the
    student's code was); if it is still alive `kill_grace` seconds later (stuck
    inside C code, or its timer silenced), it is killed.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        return Result(exercise, MISSING, f"{path.name} is not in the folder (python -m minigan "
                                         f"exercises new DIR --only {exercise.name} writes a "
                                         f"fresh copy)")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="minigan-grade-") as scratch:
        result_file = os.path.join(scratch, "verdict.json")
        cmd = [sys.executable, "-m", "minigan.exercises.grade_one", exercise.name,
               str(path.resolve()), result_file, str(time_limit)]
        errors = os.path.join(scratch, "stderr.txt")
        # The scratch folder is the working directory: nothing the student left lying
        # around (a file named like a module) can be imported by accident. The
        # student's print() output goes nowhere; stderr goes to a file (not a pipe,
        # which a runaway loop could fill without limit), read for a crash report.
        with open(errors, "w") as err:
            proc = subprocess.Popen(cmd, cwd=scratch, env=_child_env(), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err,
                                    start_new_session=(os.name == "posix"))
            try:
                proc.wait(timeout=time_limit + kill_grace)
            except subprocess.TimeoutExpired:
                _kill(proc)
                proc.wait()
                return Result(exercise, FAIL, f"took longer than {time_limit:g} s and was "
                                              f"stopped (an endless loop inside NumPy?)",
                              time.perf_counter() - start)
        seconds = time.perf_counter() - start
        try:
            with open(result_file) as f:
                verdict = json.load(f)
        except (OSError, ValueError):
            return Result(exercise, FAIL,
                          f"your code ended the process that was checking it before the "
                          f"checks finished (exit code {proc.returncode}: a crash, or "
                          f"os._exit?); the last lines it wrote:\n{_tail(errors)}", seconds)
    return Result(exercise, verdict["status"], verdict["message"], seconds)


def _kill(proc):
    """Kill the grading process and anything the student's code started."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


def default_jobs():
    return max(1, os.cpu_count() or 1)


def _run_all(tasks, jobs, time_limit):
    """tasks: [(exercise, path)] -> [Result], in the same order, `jobs` at a time."""
    jobs = max(1, min(jobs or default_jobs(), len(tasks) or 1))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda t: grade_file(t[0], t[1], time_limit), tasks))


def grade_workspace(folder, only=None, time_limit=DEFAULT_TIME_LIMIT, jobs=None):
    """One Result per exercise of the workspace (or of `only`), in catalogue order."""
    folder = require_workspace(folder)
    exercises = only if only is not None else exercises_in(folder)
    if not exercises:
        raise WorkspaceError(f"{folder} holds no exercise files; add some with: python -m "
                             f"minigan exercises new {folder} --only NAME")
    return _run_all([(e, folder / e.filename) for e in exercises], jobs, time_limit)


def student_folders(parent):
    """The student workspaces directly under `parent`, and the other folders found there."""
    parent = pathlib.Path(parent)
    if not parent.is_dir():
        raise WorkspaceError(f"--class {parent}: no such folder")
    workspaces, others = [], []
    for d in sorted(p for p in parent.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            require_workspace(d)
            workspaces.append(d)
        except WorkspaceError:
            others.append(d)
    if not workspaces:
        raise WorkspaceError(f"--class {parent}: none of its folders is an exercise workspace "
                             f"(one folder per student, each made by `exercises new`)")
    return workspaces, others


def grade_class(parent, only=None, time_limit=DEFAULT_TIME_LIMIT, jobs=None):
    """{student folder name: [Result]} for every workspace under `parent`, all graded
    on the same exercises: `only`, else every exercise handed out to anyone."""
    workspaces, _ = student_folders(parent)
    if only is None:
        names = {e.name for d in workspaces for e in exercises_in(d)}
        only = [e for e in catalogue.EXERCISES if e.name in names]
    tasks = [(e, d / e.filename) for d in workspaces for e in only]
    results = _run_all(tasks, jobs, time_limit)
    k = len(only)
    return {d.name: results[i * k:(i + 1) * k] for i, d in enumerate(workspaces)}


# ------------------------------------------------------------ reports
def _paint(text, code, color):
    return f"\033[{code}m{text}\033[0m" if color else text


STATUS_WIDTH = max(len(s) for s in STATES)


def _status_text(status, color):
    width = STATUS_WIDTH
    if status == PASS:
        return _paint(f"{'pass':<{width}}", "32", color)
    if status == FAIL:
        return _paint(f"{'FAIL':<{width}}", "1;31", color)
    if status == MISSING:
        return _paint(f"{status:<{width}}", "1;31", color)
    return f"{status:<{width}}"


def _first_line(message, width=60):
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line if len(line) <= width else line[:width - 3] + "..."


@dataclass(frozen=True)
class Score:
    """A student's total over the exercises graded: how many passed out of all of
    them (not out of those attempted), and the attempted ones (pass or fail)
    counted apart. Made by ``tally``; ``check DIR`` prints it and the CSV holds
    the same numbers, so a student and the instructor never see two totals."""
    passed: int
    failed: int
    not_started: int
    missing: int

    @property
    def out_of(self):
        return self.passed + self.failed + self.not_started + self.missing

    @property
    def attempted(self):
        return self.passed + self.failed

    @property
    def percent(self):
        """Passed, in percent of every exercise graded, as text with one decimal."""
        return f"{100.0 * self.passed / self.out_of if self.out_of else 0.0:.1f}"

    @property
    def total(self):
        """'6/15 passed': the word keeps a spreadsheet from reading 6/15 as a date."""
        return f"{self.passed}/{self.out_of} passed"

    def lines(self):
        """What `check DIR` prints under its table."""
        return (f"total: {self.total} ({self.percent}%)\n"
                f"attempted: {self.attempted} of {self.out_of} ({self.failed} of them failed); "
                f"not started: {self.not_started}; missing file: {self.missing}")


def tally(results):
    """The Score of a list of Results: the one function that counts a total."""
    count = {s: sum(r.status == s for r in results) for s in STATES}
    unknown = [r.status for r in results if r.status not in STATES]
    if unknown:
        raise ValueError(f"unknown result state {unknown[0]!r}; the states are "
                         f"{', '.join(STATES)}")
    return Score(count[PASS], count[FAIL], count[NOT_STARTED], count[MISSING])


def format_table(results, color=False):
    """One row per exercise: number, name, lecture, difficulty, result, time, first line."""
    w = max([len(r.exercise.name) for r in results] + [8])
    head = (f"{'#':>3}  {'exercise':<{w}}  lecture  {'difficulty':<10}  "
            f"{'result':<{STATUS_WIDTH}}  {'time':>5}")
    lines = [_paint(head, "1", color), "-" * (len(head) + 40)]
    for r in results:
        e = r.exercise
        why = _first_line(r.message) if r.status in (FAIL, MISSING) else ""
        lines.append(f"{e.number:>3}  {e.name:<{w}}  {e.lecture:>7}  {e.difficulty:<10}  "
                     f"{_status_text(r.status, color)}  {r.seconds:>4.1f}s  {why}".rstrip())
    return "\n".join(lines)


def format_failures(results, color=False):
    """The whole message of every failure and missing file, each under a header
    naming the file."""
    blocks = []
    for r in results:
        if r.status not in (FAIL, MISSING):
            continue
        state = "FAIL" if r.status == FAIL else MISSING
        title = f"--- {r.exercise.number} {r.exercise.name} ({r.exercise.filename}): {state}"
        blocks.append(_paint(title, "1;31", color) + "\n" + r.message.rstrip())
    return "\n\n".join(blocks)


def report(folder, results, color=False):
    """What `exercises check DIR` prints."""
    parts = [f"minigan exercises in {folder}\n", format_table(results, color)]
    failures = format_failures(results, color)
    if failures:
        parts.append("\n" + failures)
    parts.append("\n" + _paint(tally(results).lines(), "1", color))
    return "\n".join(parts)


CODES = {PASS: "P", FAIL: "F", NOT_STARTED: "-", MISSING: "M"}


def class_report(parent, graded, others=(), color=False):
    """What `exercises check --class PARENT` prints: one row per student."""
    any_results = next(iter(graded.values()))
    exercises = [r.exercise for r in any_results]
    w = max([len(s) for s in graded] + [7])
    numbers = " ".join(f"{e.number:>2}" for e in exercises)
    lines = [f"minigan exercises: the class in {parent} ({len(graded)} students, "
             f"{len(exercises)} exercises)\n",
             _paint(f"{'student':<{w}}  {'passed':>7}  {'attempted':>9}  {numbers}", "1", color)]
    for student, results in graded.items():
        s = tally(results)
        cells = " ".join(f"{CODES[r.status]:>2}" for r in results)
        lines.append(f"{student:<{w}}  {s.passed:>3}/{s.out_of:<3}  {s.attempted:>9}  {cells}")
    lines.append(f"\n(P pass, F fail, - not started, M missing file; exercise numbers as in "
                 f"`python -m minigan exercises list`; `exercises check {parent}/STUDENT` shows "
                 f"one student's messages, and the same total when that student was handed "
                 f"these exercises)")
    for d in others:
        lines.append(f"skipped {d.name}/: not an exercise workspace")
    return "\n".join(lines)


CSV_COLUMNS = ("student", "total", "percent", "passed", "attempted", "out_of", "failed",
               "not_started", "missing_file")


def _cell(text):
    """A text cell a spreadsheet shows as text: one that starts like a formula
    (= + - @) gets a leading apostrophe, as spreadsheets themselves write it."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def write_csv(path, graded):
    """The class's scores as CSV, one row per student, written atomically:

        student, total ('6/15 passed'), percent (of every exercise graded), passed,
        attempted (pass or fail), out_of, failed, not_started, missing_file,
        then one column per exercise with its state (pass, fail, not started,
        missing file), then one '<exercise> reason' column per exercise (why it
        failed or is missing, on one line; empty for pass and not started).

    The totals come from ``tally``, as `check DIR` prints them.
    """
    if not graded:
        raise ValueError("write_csv: no student was graded, so there is nothing to write")
    any_results = next(iter(graded.values()))
    names = [r.exercise.name for r in any_results]
    path = pathlib.Path(path)
    text = io.StringIO()
    out = csv.writer(text)
    out.writerow(list(CSV_COLUMNS) + names + [f"{n} reason" for n in names])
    for student, results in graded.items():
        if [r.exercise.name for r in results] != names:
            raise ValueError(f"write_csv: {student} was graded on "
                             f"{', '.join(r.exercise.name for r in results)}, the first "
                             f"student on {', '.join(names)}; every row needs the same "
                             f"exercises")
        s = tally(results)
        out.writerow([_cell(student), s.total, s.percent, s.passed, s.attempted, s.out_of,
                      s.failed, s.not_started, s.missing]
                     + [r.status for r in results] + [_cell(r.reason) for r in results])
    atomic_write(path, text.getvalue())
    return path


# ------------------------------------------------------------ pytest
def pytest_verdict(folder, name, time_limit=DEFAULT_TIME_LIMIT):
    """Grade one exercise of a workspace and tell pytest: pass, fail (a failure or a
    missing file) or skip (not started)."""
    import pytest                      # only here: the library does not need pytest
    exercise = catalogue.get(name)
    result = grade_file(exercise, pathlib.Path(folder) / exercise.filename, time_limit)
    if result.status == NOT_STARTED:
        pytest.skip(f"not started: {result.message}")
    if result.status in (FAIL, MISSING):
        state = "FAIL" if result.status == FAIL else MISSING
        pytest.fail(f"{exercise.filename}: {state}\n{result.message}", pytrace=False)

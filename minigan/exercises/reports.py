"""What the grader prints and writes: one student's table, a class's rows, the CSV.

Every total comes from ``results.tally``, so `check DIR`, the class table and
the CSV give a folder the same numbers.
"""
import csv
import io
import pathlib

from ..serialization import atomic_write
from .results import (PASS, FAIL, NOT_STARTED, MISSING, ERROR, TAMPERED, STATES, FAILING,
                      tally)


def _paint(text, code, color):
    return f"\033[{code}m{text}\033[0m" if color else text


STATUS_WIDTH = max(len(s) for s in STATES)
#: How each state is shown in a table: the text, and its terminal color.
SHOWN = {PASS: ("pass", "32"), FAIL: ("FAIL", "1;31"), NOT_STARTED: ("not started", ""),
         MISSING: ("missing file", "1;31"), ERROR: ("ERROR", "1;33"),
         TAMPERED: ("TAMPERED", "1;35")}


def _status_text(status, color):
    text, code = SHOWN[status]
    text = f"{text:<{STATUS_WIDTH}}"
    return _paint(text, code, color) if code else text


def _first_line(message, width=60):
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line if len(line) <= width else line[:width - 3] + "..."


def format_table(results, color=False):
    """One row per exercise: number, name, lecture, difficulty, result, time, first line."""
    w = max([len(r.exercise.name) for r in results] + [8])
    head = (f"{'#':>3}  {'exercise':<{w}}  lecture  {'difficulty':<10}  "
            f"{'result':<{STATUS_WIDTH}}  {'time':>5}")
    lines = [_paint(head, "1", color), "-" * (len(head) + 40)]
    for r in results:
        e = r.exercise
        why = _first_line(r.message) if r.status in FAILING else ""
        lines.append(f"{e.number:>3}  {e.name:<{w}}  {e.lecture:>7}  {e.difficulty:<10}  "
                     f"{_status_text(r.status, color)}  {r.seconds:>4.1f}s  {why}".rstrip())
    return "\n".join(lines)


def format_failures(results, color=False):
    """The whole message of every failure, missing file, error and tampering, each
    under a header naming the file."""
    blocks = []
    for r in results:
        if r.status not in FAILING:
            continue
        state = SHOWN[r.status][0]
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


CODES = {PASS: "P", FAIL: "F", NOT_STARTED: "-", MISSING: "M", ERROR: "E", TAMPERED: "T"}


def class_report(parent, graded, others=(), color=False):
    """What `exercises check --class PARENT` prints: one row per student, then what
    was skipped (`others`: folders that are not workspaces, and plain files)."""
    lines = []
    if graded:
        any_results = next(iter(graded.values()))
        exercises = [r.exercise for r in any_results]
        w = max([len(s) for s in graded] + [7])
        numbers = " ".join(f"{e.number:>2}" for e in exercises)
        lines += [f"minigan exercises: the class in {parent} ({len(graded)} students, "
                  f"{len(exercises)} exercises)\n",
                  _paint(f"{'student':<{w}}  {'passed':>7}  {'attempted':>9}  {numbers}", "1",
                         color)]
        for student, results in graded.items():
            s = tally(results)
            cells = " ".join(f"{CODES[r.status]:>2}" for r in results)
            lines.append(f"{student:<{w}}  {s.passed:>3}/{s.out_of:<3}  {s.attempted:>9}  "
                         f"{cells}")
        lines.append(f"\n(P pass, F fail, - not started, M missing file, E error: no verdict, "
                     f"T tampered: minigan's files changed while that student's code ran; "
                     f"exercise numbers as in `python -m minigan exercises list`; `exercises "
                     f"check {parent}/STUDENT` shows one student's messages, and the same "
                     f"total when that student was handed these exercises)")
    for p in others:
        if p.is_dir():
            lines.append(f"skipped {p.name}/: not an exercise workspace")
        else:
            lines.append(f"skipped {p.name}: a file, not a student's folder")
    return "\n".join(lines)


CSV_COLUMNS = ("student", "total", "percent", "passed", "attempted", "out_of", "failed",
               "not_started", "missing_file", "error", "tampered")


def _cell(text):
    """A text cell a spreadsheet shows as text: one that starts like a formula
    (= + - @) gets a leading apostrophe, as spreadsheets themselves write it."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def write_csv(path, graded):
    """The class's scores as CSV, one row per student, written atomically:

        student, total ('6/15 passed'), percent (of every exercise graded), passed,
        attempted (pass or fail), out_of, failed, not_started, missing_file, error,
        tampered, then one column per exercise with its state (pass, fail, not
        started, missing file, error, tampered), then one '<exercise> reason'
        column per exercise (why it did not pass, on one line; empty for pass and
        not started).

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
                      s.failed, s.not_started, s.missing, s.errors, s.tampered]
                     + [r.status for r in results] + [_cell(r.reason) for r in results])
    atomic_write(path, text.getvalue())
    return path

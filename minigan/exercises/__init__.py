"""The class exercise kit: students write backward formulas, gradient checks grade them.

    python -m minigan exercises list                    # the exercises, in the suggested order
    python -m minigan exercises new DIR [--only ...]    # a student's workspace
    python -m minigan exercises check DIR               # grade it (or: pytest DIR)
    python -m minigan exercises check --class PARENT --csv scores.csv

The engine's own ops are the exercises and ``minigan.gradcheck`` is the grader.
Reading order:

    catalogue.py   the exercises: number, name, lecture, difficulty, summary
    templates/     one file per exercise, as the student receives it (forward
                   given, backward a stub with the math and a hint)
    workspace.py   writing a workspace without ever overwriting a student's work
    harness.py     the student's forward and backward as one engine op; gradcheck,
                   the comparison with minigan's own op, messages and hints
    checks.py      what each exercise is checked with
    wire.py        the pipe protocol: JSON and NumPy arrays, never pickle
    student_side.py      the student's process: loads their file, only answers calls
    remote.py      the grader's side of that process: start, ask, kill its group
    grade_one.py   one student file: the checks run here, the verdict decided here
    integrity.py   the digests of minigan's own files, checked between students
    results.py     the six states, Result, the one total (tally)
    grading.py     the grader: a workspace, a class, one student after another
    reports.py     the table, the class's rows, the CSV
    cli.py         the command line
"""
from .catalogue import EXERCISES, get

__all__ = ["EXERCISES", "get"]

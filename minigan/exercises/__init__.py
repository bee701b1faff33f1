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
    grade_one.py   one student file, graded in a process of its own
    grading.py     the grader: processes, time limits, the table, the score, CSV
    cli.py         the command line
"""
from .catalogue import EXERCISES, get

__all__ = ["EXERCISES", "get"]

"""What grading gives: one Result per exercise, in one of six states, and the total.

    pass          every check passed
    fail          a check failed, or the code raised, looped or crashed
    not started   every function the exercise asks for still raises the
                  template's NotImplementedError("your turn: ..."), from the
                  student's file, on every input tried (``harness.not_started``)
    missing file  the exercise's file is not in the folder
    error         no verdict could be reached: the answer from the student's
                  process could not be read (empty, not JSON, of an unknown
                  kind), or the grader itself failed; the reason says which
    tampered      minigan's own files changed while this student's code ran
                  (``integrity.py``): none of this student's results can be
                  trusted, and a class run stops there

``tally`` is the one place where a total is counted: the student's ``check``
prints it and the CSV holds it, so both read the same numbers for a folder.
"""
import re
from dataclasses import dataclass

from . import catalogue

PASS, FAIL, NOT_STARTED, MISSING = "pass", "fail", "not started", "missing file"
ERROR, TAMPERED = "error", "tampered"
STATES = (PASS, FAIL, NOT_STARTED, MISSING, ERROR, TAMPERED)
#: The states that make `check DIR` exit with 1 (not started is not a failure).
FAILING = (FAIL, MISSING, ERROR, TAMPERED)
#: The longest reason a CSV cell holds (the whole message is in `check DIR`).
REASON_MAX = 500
#: A line of values in a failure message: "yours 1.85 (...)", "measured 0.27 (...)", ...
VALUE_LINE = re.compile(r"^(yours|measured|minigan|Adam) (\S+)")


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
    errors: int = 0
    tampered: int = 0

    @property
    def out_of(self):
        return (self.passed + self.failed + self.not_started + self.missing + self.errors
                + self.tampered)

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
                f"not started: {self.not_started}; missing file: {self.missing}; "
                f"error: {self.errors}; tampered: {self.tampered}")


def tally(results):
    """The Score of a list of Results: the one function that counts a total."""
    unknown = [r.status for r in results if r.status not in STATES]
    if unknown:
        raise ValueError(f"unknown result state {unknown[0]!r}; the states are "
                         f"{', '.join(STATES)}")
    count = {s: sum(r.status == s for r in results) for s in STATES}
    return Score(count[PASS], count[FAIL], count[NOT_STARTED], count[MISSING], count[ERROR],
                 count[TAMPERED])

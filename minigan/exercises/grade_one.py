"""Grade one student file, in a process of its own:

    python -m minigan.exercises.grade_one NAME FILE RESULT.json SECONDS

The grader (``grading.py``) starts one such process per exercise file, so that
nothing a student's code does (an exception, an endless loop, sys.exit, a
crash of the interpreter) can take the grader down with it. This process
loads FILE, runs the exercise's checks (``checks.CHECKS[NAME]``) and writes
its verdict to RESULT.json:

    {"status": "pass" | "fail" | "not started", "message": "...", "checks": N}

Writing the verdict to a file, not to stdout, leaves stdout to the student's
own print() calls. SECONDS is the time limit: on POSIX an interval timer stops
the checks with a message saying where the student's code was; the grader
also kills this process a little later if it is still alive (a loop inside C
code, which no timer interrupts).
"""
import importlib.util
import json
import os
import signal
import sys
import time
import warnings

from ..serialization import atomic_write
from .catalogue import get
from .harness import Failure, NotStarted, ExerciseTimeout, describe_exception, _short
from .checks import CHECKS


def load_student_file(name, path):
    """Run the student's file as a module of its own (it is never put on sys.path)."""
    spec = importlib.util.spec_from_file_location(f"minigan_exercise_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _on_alarm(signum, frame):
    raise ExerciseTimeout()


def _warning_note(caught):
    """NumPy's first runtime warning (an overflow, a division by zero), if there was one."""
    for w in caught:
        if issubclass(w.category, RuntimeWarning):
            return f"\nnote: NumPy warned: {w.message} ({_short(w.filename)}, line {w.lineno})"
    return ""


def grade(name, path, seconds):
    """The verdict on one file, as a dict (never raises for anything the student did)."""
    exercise = get(name)
    base = os.path.basename(path)
    if hasattr(signal, "setitimer"):
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.perf_counter()
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                module = load_student_file(exercise.name, path)
            except ExerciseTimeout:
                raise
            except BaseException as e:       # SyntaxError, an import error, sys.exit() ...
                return {"status": "fail", "checks": 0,
                        "message": f"{base} could not be loaded:\n{describe_exception(e, path)}"}
            n = CHECKS[exercise.name](module, path, exercise.name)
        return {"status": "pass", "checks": n, "message": f"{n} checks passed"}
    except NotStarted as e:
        return {"status": "not started", "checks": 0, "message": str(e)}
    except Failure as e:
        return {"status": "fail", "checks": 0, "message": str(e) + _warning_note(caught)}
    except ExerciseTimeout as e:
        # where the student's code was when the timer rang (the timer's own frame left out)
        where = [ln for ln in describe_exception(e, path).splitlines()[1:]
                 if not ln.strip().startswith("(raised in")]
        at = ("\n" + "\n".join(where)) if where else " (in the grader's checks)"
        return {"status": "fail", "checks": 0,
                "message": f"took longer than {seconds:g} s (an endless loop?); it was stopped"
                           f"{at}"}
    except SystemExit as e:
        return {"status": "fail", "checks": 0,
                "message": f"your code called sys.exit({e.code!r}) (or exit()): "
                           f"{describe_exception(e, path)}"}
    except Exception as e:                   # an error that no check caught: still a verdict
        return {"status": "fail", "checks": 0,
                "message": f"the checks stopped with an error after "
                           f"{time.perf_counter() - start:.1f} s:\n{describe_exception(e, path)}"}
    finally:
        if hasattr(signal, "setitimer"):
            signal.setitimer(signal.ITIMER_REAL, 0)


def main(argv=None):
    name, path, result_path, seconds = (argv or sys.argv[1:])[:4]
    verdict = grade(name, os.path.abspath(path), float(seconds))
    atomic_write(result_path, json.dumps(verdict))      # the grader never reads half a verdict
    return 0


if __name__ == "__main__":
    sys.exit(main())

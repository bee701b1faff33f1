"""One student file graded: its process asked, the verdict decided here.

``grade(exercise, process, filename)`` runs the exercise's checks
(``checks.CHECKS[NAME]``) in the grader's own process, on the student's file
loaded in `process` (a ``remote.StudentProcess``, started by grading.py). The
student's process only answers calls on the inputs the checks choose; every
comparison is made here and the verdict is this function's return value,
never something that process wrote. Nothing a student's code does (an
exception, an endless loop, sys.exit, a crash, garbage on the pipe) can take
the grader down: each ends this exercise in a state of its own.
"""
import traceback

from .checks import CHECKS
from .harness import Failure, NotStarted
from .remote import (ExerciseTimeout, ProcessEnded, ProtocolError, RemoteModule,
                     StudentRaised)
from .results import PASS, FAIL, NOT_STARTED, ERROR


def grade(exercise, process, filename, time_limit, kill_grace):
    """(state, message) for one file: pass, fail, not started or error."""
    process.begin(time_limit, kill_grace)
    try:
        try:
            callables = process.loaded()
        except StudentRaised as e:           # SyntaxError, an import error, sys.exit() ...
            return FAIL, f"{filename} could not be loaded:\n{e.text}"
        module = RemoteModule(process, callables)
        n = CHECKS[exercise.name](module, filename, exercise.name)
        return PASS, f"{n} checks passed"
    except NotStarted as e:
        return NOT_STARTED, str(e)
    except Failure as e:
        note = f"\nnote: {process.warning}" if process.warning else ""
        return FAIL, str(e) + note
    except (ExerciseTimeout, ProcessEnded) as e:
        return FAIL, str(e)
    except ProtocolError as e:
        return ERROR, (f"no verdict: the answer of the process that ran {filename} could not "
                       f"be read ({e}); this says nothing about the code yet: your "
                       f"instructor will look at it")
    except Exception as e:                   # the grader's own failure, not the student's
        where = traceback.extract_tb(e.__traceback__)[-1]
        return ERROR, (f"no verdict: the grader itself failed ({type(e).__name__}: {e}, in "
                       f"{where.filename.rsplit('minigan', 1)[-1].lstrip('/')}, line "
                       f"{where.lineno}); this is not a mistake in {filename}: please report "
                       f"it")

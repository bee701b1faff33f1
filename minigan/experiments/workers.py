"""Independent training runs in worker processes, one per CPU core.

A table of 90 seeded runs, or the two runs of the ``mog`` figure, do not
depend on each other, so they can train at the same time. Each worker is a
fresh interpreter (``spawn``) told to use one BLAS thread before NumPy loads:
two workers on two cores then do twice the work of one process, and every run
sees the same thread count, so its numbers do not depend on how many workers
there were.

Ctrl-C: the workers ignore it; the main process catches it and sets one shared
stop flag. Every running trainer sees the flag at its next step boundary
(the runs' Trainers poll ``stop_requested``: ``RunConfig.trainer_settings``), saves its checkpoint and stops;
a job that had not started returns at once. ``run_all`` then raises
``Interrupted`` with the step every run reached. A second Ctrl-C abandons the
wait.
"""
import multiprocessing
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed

from . import Interrupted, REACHED
from ..gan.runner import TrainingInterrupted

_ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_STOP = threading.Event()       # in a worker: replaced by the run's shared flag


def stop_requested():
    """True once a Ctrl-C asked every run of the experiment to stop."""
    return _STOP.is_set()


def n_workers(jobs, n_runs, device="cpu"):
    """How many workers to use: `jobs` if given, else one per CPU core (one on a
    GPU, which the runs would share), never more than there are runs."""
    n = jobs or (1 if device == "cuda" else os.cpu_count() or 1)
    return max(1, min(int(n), n_runs))


def _worker_init(stop):
    global _STOP
    _STOP = stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # the main process handles Ctrl-C


def _call(fn, job):
    """Run one job here: (True, result, steps reached) or, when stopped, (False, None, steps)."""
    if stop_requested():
        return False, None, {}
    try:
        return True, fn(job), dict(REACHED)
    except Interrupted as e:
        return False, None, e.steps
    except TrainingInterrupted:
        return False, None, dict(REACHED)


def run_all(fn, jobs_list, workers=1):
    """Yield ``fn(job)`` for every job, as each finishes (not in order); raise
    ``Interrupted`` at the end if a Ctrl-C stopped any of them.

    ``fn`` must be a module-level function (the workers import it by name).
    With ``workers=1`` the jobs run here, one after the other.
    """
    reached, stopped = {}, False
    if workers <= 1:
        _STOP.clear()
        for job in jobs_list:
            done, result, steps = _call(fn, job)
            reached.update(steps)
            if not done:
                _STOP.set()                                 # the jobs after it do not start
                stopped = True
                continue
            yield result
        _STOP.clear()
    else:
        saved = {k: os.environ.get(k) for k in _ONE_THREAD}
        os.environ.update({k: "1" for k in _ONE_THREAD})      # inherited by the workers
        ctx = multiprocessing.get_context("spawn")
        stop = ctx.Event()

        def on_ctrl_c(signum, frame):
            if stop.is_set():
                raise KeyboardInterrupt                     # a second Ctrl-C: stop waiting
            stop.set()
            print("\nCtrl-C: every run stops at its next step and saves its checkpoint "
                  "(press again to abandon them)", flush=True)
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, on_ctrl_c) if in_main else None
        try:
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init,
                                     initargs=(stop,)) as pool:
                futures = [pool.submit(_call, fn, job) for job in jobs_list]
                try:
                    for fut in as_completed(futures):
                        done, result, steps = fut.result()
                        reached.update(steps)
                        if done:
                            yield result
                        else:
                            stopped = True
                finally:
                    for fut in futures:                     # on an error: stop the rest
                        fut.cancel()
        finally:
            if in_main:
                signal.signal(signal.SIGINT, previous)
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    REACHED.update(reached)
    if stopped:
        raise Interrupted(REACHED)

"""Independent training runs in worker processes, one per CPU core.

A table of 90 seeded runs, or the two runs of the ``mog`` figure, do not
depend on each other, so they can train at the same time. Each worker is a
fresh interpreter (``spawn``) told to use one BLAS thread before NumPy loads:
two workers on two cores then do twice the work of one process, and every run
sees the same thread count, so its numbers do not depend on how many workers
there were.
"""
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed

_ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def n_workers(jobs, n_runs, device="cpu"):
    """How many workers to use: `jobs` if given, else one per CPU core (one on a
    GPU, which the runs would share), never more than there are runs."""
    n = jobs or (1 if device == "cuda" else os.cpu_count() or 1)
    return max(1, min(int(n), n_runs))


def run_all(fn, jobs_list, workers=1):
    """Yield ``fn(job)`` for every job, as each finishes (not in order).

    ``fn`` must be a module-level function (the workers import it by name).
    With ``workers=1`` the jobs run here, one after the other.
    """
    if workers <= 1:
        for job in jobs_list:
            yield fn(job)
        return
    saved = {k: os.environ.get(k) for k in _ONE_THREAD}
    os.environ.update({k: "1" for k in _ONE_THREAD})      # inherited by the workers
    try:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            futures = [pool.submit(fn, job) for job in jobs_list]
            try:
                for fut in as_completed(futures):
                    yield fut.result()
            finally:
                for fut in futures:                         # on an error: stop the rest
                    fut.cancel()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

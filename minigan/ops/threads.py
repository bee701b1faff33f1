"""Big array copies split over the CPU's threads.

NumPy runs one copy, one slice-add or one elementwise pass on one core; only
its matrix products (BLAS) use them all. The convolutions move whole batches
between layouts (im2col, col2im, NCHW <-> CHWN: layout.py), and an optimizer
step passes over every parameter several times; on a machine with few cores
that work would leave all but one of them idle. NumPy lets go of Python's lock
while it copies, so the same work cut into one slice per thread runs side by
side.

``parallel(n, work)`` calls ``work(lo, hi)`` on consecutive slices covering
range(n), one per thread, and returns when all are done. Each slice touches
its own part of the output, so the result is the same, bit for bit, as one
``work(0, n)``. The thread count follows the BLAS setting
(``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS``, else the number of cores) or
``set_num_threads``. On a GPU (CuPy) and for small arrays it simply calls
``work(0, n)``.
"""
import os
from concurrent.futures import ThreadPoolExecutor

_threads = None
_pool = None
MIN_ELEMENTS = 1 << 15        # below this, starting threads costs more than it saves


def num_threads():
    """How many threads big copies use."""
    global _threads
    if _threads is None:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            value = os.environ.get(var, "")
            if value.isdigit() and int(value) > 0:
                _threads = int(value)
                break
        else:
            _threads = os.cpu_count() or 1
    return _threads


def set_num_threads(n):
    """Use `n` threads for big copies from now on (PyTorch's torch.set_num_threads)."""
    global _threads, _pool
    if int(n) < 1:
        raise ValueError(f"set_num_threads: need at least 1 thread, got {n}")
    _threads = int(n)
    if _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None


def parallel(n, work, elements, on_cpu=True):
    """work(lo, hi) over consecutive slices of range(n), one per thread.

    ``elements``: how many numbers the whole job moves (small jobs run inline);
    ``on_cpu``: False for CuPy arrays, which the GPU already runs in parallel.
    """
    global _pool
    k = min(num_threads(), n)
    if k <= 1 or not on_cpu or elements < MIN_ELEMENTS:
        work(0, n)
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(num_threads(), thread_name_prefix="minigan-copy")
    bounds = [n * i // k for i in range(k + 1)]
    futures = [_pool.submit(work, lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]
    for f in futures:
        f.result()                      # re-raises a worker's error here

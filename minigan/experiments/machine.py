"""Where and when a run was measured, for the results pages: a figure another
machine would not reproduce (GAN training is chaotic, BLAS kernels differ) says
what it came from."""
import datetime
import os
import platform


def cpu_name():
    """The CPU's model name (Linux's /proc/cpuinfo), else what platform knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def measured_on(device="cpu"):
    """{"cpu", "cores", "threads", "device", "date"} of this run: the threads are
    minigan's and BLAS's (``OPENBLAS_NUM_THREADS``, else one per core), the date UTC."""
    from ..ops.threads import num_threads
    return {"cpu": cpu_name(), "cores": os.cpu_count(), "threads": num_threads(),
            "device": str(device),
            "date": datetime.datetime.now(datetime.timezone.utc).date().isoformat()}

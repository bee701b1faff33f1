"""Where the time of a GAN step goes: GEMM, im2col/col2im, batch norm, elementwise
ops, the optimizer, and Python overhead.

    python benchmarks/profile_step.py                 # dcgan_mnist, 30 steps, 2 threads
    python benchmarks/profile_step.py --workload mlp_gan --threads 1

It runs the workload of ``gan_step.py`` under cProfile and files every
function's own time (``tottime``) under the part of the engine it belongs to,
by the file and function it lives in. Time spent inside NumPy (a copy, a
reduction) is split among its callers, so ``numpy.ascontiguousarray`` called by
``im2col`` counts as im2col. What is left (the Tensor engine, modules, the
graph, the interpreter) is Python overhead.
"""
import argparse
import cProfile
import os
import pstats
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

LAYOUT = {"im2col", "col2im", "_channels_first", "_batch_first"}


def category(func):
    """The part of the engine a profiled function (file, line, name) belongs to."""
    path, _, name = func
    base = os.path.basename(path)
    if name == "_gemm" or base == "linalg.py":
        return "GEMM"
    if base == "conv.py":
        return "im2col/col2im" if name in LAYOUT else "conv (glue)"
    if base == "norm.py":
        return "batch norm"
    if base in ("math.py", "reduce.py", "loss.py", "shape.py") and "ops" in path:
        return "elementwise and shape"
    if base == "optim.py":
        return "optimizer"
    return None        # not ours, or the engine itself


def shares(stats):
    """{category: seconds}, builtins' time given to their callers' categories."""
    out = {}
    for func, (cc, nc, tt, ct, callers) in stats.stats.items():
        cat = category(func)
        if cat is not None:
            out[cat] = out.get(cat, 0.0) + tt
        elif func[0] == "~" or func[0].startswith("<"):        # a builtin: split by caller
            for caller, (_, _, ctt, _) in callers.items():
                out_cat = category(caller) or "Python overhead"
                out[out_cat] = out.get(out_cat, 0.0) + ctt
        else:
            out["Python overhead"] = out.get("Python overhead", 0.0) + tt
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workload", default="dcgan_mnist")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(a.threads)
    sys.path.insert(0, os.path.dirname(HERE))
    sys.path.insert(0, HERE)
    from gan_step import WORKLOADS, run_minigan
    step, sync = run_minigan(a.workload, WORKLOADS[a.workload], 0, "cpu")
    for _ in range(3):
        step()
    t0 = time.perf_counter()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(a.steps):
        step()
    prof.disable()
    wall = (time.perf_counter() - t0) / a.steps
    sec = shares(pstats.Stats(prof))
    total = sum(sec.values())
    print(f"{a.workload}, batch {WORKLOADS[a.workload]}, {a.threads} threads: "
          f"{1e3 * wall:.0f} ms a step under the profiler")
    print("| part | share of the step |")
    print("|---|---|")
    for cat in ("GEMM", "im2col/col2im", "conv (glue)", "batch norm", "elementwise and shape",
                "optimizer", "Python overhead"):
        print(f"| {cat} | {100 * sec.get(cat, 0.0) / total:.0f}% |")


if __name__ == "__main__":
    main()

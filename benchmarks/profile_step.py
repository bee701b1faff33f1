"""Where the time of a GAN step goes: GEMM, im2col/col2im, batch norm, elementwise
ops, the optimizer, and Python overhead.

    python benchmarks/profile_step.py                 # dcgan_mnist, 30 steps, 2 threads
    python benchmarks/profile_step.py --workload mlp_gan --threads 1
    python benchmarks/profile_step.py --torch         # the same workload in PyTorch

It runs the workload of ``gan_step.py`` under cProfile and files every
function's own time (``tottime``) under the part of the engine it belongs to,
by the file and function it lives in. Time spent inside NumPy (a copy, a
reduction) is split among its callers, so ``numpy.ascontiguousarray`` called by
``im2col`` counts as im2col. What is left (the Tensor engine, modules, the
graph, the interpreter) is Python overhead.

``--torch`` profiles the same workload in PyTorch (``torch.profiler``) and files
each operator's own time under the parts PyTorch has: its convolutions (forward
and backward, oneDNN's direct kernels: no im2col), batch norm, the optimizer's
whole step, and everything else (the Dense layers, activations, losses, the
autograd engine).
"""
import argparse
import cProfile
import os
import pstats
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

LAYOUT = {"im2col", "col2im", "channels_first", "batch_first",
          "copy", "add"}       # the last two: the per-thread slices of those four


def category(func):
    """The part of the engine a profiled function (file, line, name) belongs to."""
    path, _, name = func
    base = os.path.basename(path)
    if name == "_gemm" or base == "linalg.py":
        return "GEMM"
    if base == "layout.py":       # the convolutions' copies; a gradient's relayout is shape work
        return "im2col/col2im" if name in LAYOUT else "elementwise and shape"
    if base == "conv.py":
        return "conv (glue)"
    if base == "norm.py":
        return "batch norm"
    if base in ("math.py", "reduce.py", "loss.py", "shape.py") and "ops" in path:
        return "elementwise and shape"
    if base == "optim.py":
        return "optimizer"
    return None        # not ours, or the engine itself


def passes_through(func):
    """Code that only serves its caller: minigan's ops/threads.py (and layout.py's
    ``_by_channel`` that calls it) and the standard library's thread pool, which
    hand a copy to worker threads and wait for them, and NumPy's Python wrappers
    (np.sum, np.mean, as_strided)."""
    path, _, name = func
    base = os.path.basename(path)
    return (name == "_by_channel" or base in ("threads.py", "threading.py", "_methods.py", "fromnumeric.py",
                     "_stride_tricks_impl.py", "stride_tricks.py")
            or os.path.join("concurrent", "futures") in path)


def owners(func, stats, depth=0):
    """{category: fraction} that a function's own time belongs to. cProfile sees the
    main thread alone, so while the worker threads of ops/threads.py copy, the main
    thread's wait for them is what it measures: that wait, like the time of any
    code that only serves its caller (``passes_through``), goes to whoever asked
    for the work (im2col, col2im, the optimizer, a reduction in batch norm), in
    proportion to the time each caller spent there."""
    cat = category(func)
    if cat is not None and not passes_through(func):
        return {cat: 1.0}
    if passes_through(func) and depth < 12:
        callers = stats.stats[func][4]
        total = sum(ct for (_, _, _, ct) in callers.values())
        out = {}
        for caller, (_, _, _, ct) in callers.items():
            for c, f in owners(caller, stats, depth + 1).items():
                out[c] = out.get(c, 0.0) + f * ct / total if total else f
        if out:
            return out
    return {"Python overhead": 1.0}


def shares(stats):
    """{category: seconds}, builtins' time given to their callers' categories."""
    out = {}

    def add(func, seconds):
        for cat, frac in owners(func, stats).items():
            out[cat] = out.get(cat, 0.0) + seconds * frac
    for func, (cc, nc, tt, ct, callers) in stats.stats.items():
        if func[0] == "~" or func[0].startswith("<"):          # a builtin: split by caller
            for caller, (_, _, ctt, _) in callers.items():
                add(caller, ctt)
        else:
            add(func, tt)
    return out


def torch_shares(events):
    """{part: seconds} of a PyTorch profile (``key_averages()``): operators' own time
    by name, and the optimizer's step as a whole (its adds and multiplies would
    otherwise count as elementwise work)."""
    out = {}
    for e in events:
        name = e.key
        if name.startswith("Optimizer.step"):
            part, seconds = "optimizer", e.cpu_time_total
        elif name.startswith("ProfilerStep"):
            continue
        else:
            part = ("convolutions" if "convolution" in name.lower() else
                    "batch norm" if "batch_norm" in name else None)
            seconds = e.self_cpu_time_total
        if part is not None:
            out[part] = out.get(part, 0.0) + seconds / 1e6
        out["all"] = out.get("all", 0.0) + e.self_cpu_time_total / 1e6
    out["everything else"] = out["all"] - sum(v for k, v in out.items() if k != "all")
    return out


def profile_torch(workload, steps, threads):
    from gan_step import WORKLOADS, run_torch
    from torch.profiler import profile, ProfilerActivity
    step, sync = run_torch(workload, WORKLOADS[workload], 0, "cpu", threads)
    for _ in range(3):
        step()
    t0 = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    wall = (time.perf_counter() - t0) / steps
    sec = torch_shares(prof.key_averages())
    print(f"PyTorch {workload}, batch {WORKLOADS[workload]}, {threads} threads: "
          f"{1e3 * wall:.0f} ms a step under the profiler")
    print("| part | share of the step |")
    print("|---|---|")
    for part in ("convolutions", "batch norm", "optimizer", "everything else"):
        print(f"| {part} | {100 * sec.get(part, 0.0) / sec['all']:.0f}% |")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workload", default="dcgan_mnist")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--torch", action="store_true", help="profile PyTorch instead")
    a = p.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(a.threads)
    sys.path.insert(0, os.path.dirname(HERE))
    sys.path.insert(0, HERE)
    if a.torch:
        return profile_torch(a.workload, a.steps, a.threads)
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

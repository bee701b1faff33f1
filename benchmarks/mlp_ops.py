"""Per-op overhead: a small MLP's forward and backward, minigan against PyTorch.

    python benchmarks/mlp_ops.py [--device cuda] [--repeats 300] [--threads 2] [--clock cpu]

The workload is deliberately small (batch 512, 64 -> 128 -> 128 -> 1, ReLU,
BCE-with-logits loss, float32): the GEMMs take tens of microseconds, so the
Python cost of building the graph and running backward shows up. Both
libraries run in the same process on the same data with the same number of
threads; each step is timed alternately (minigan, torch, minigan, ...) so that
a busy machine slows both alike, and the median of many repeats after warm-up
is reported. Target: minigan within 2x of PyTorch.
"""
import argparse
import os
import sys
import time

_ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
_ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
_ap.add_argument("--repeats", type=int, default=300)
_ap.add_argument("--warmup", type=int, default=30)
_ap.add_argument("--threads", type=int, default=2)
_ap.add_argument("--batch", type=int, default=512)
_ap.add_argument("--clock", default="wall", choices=["wall", "cpu"],
                 help="wall: elapsed time (the default); cpu: this process's CPU time, "
                      "steadier on a busy shared machine (use with --threads 1)")
_ap.add_argument("--profile", action="store_true", help="cProfile minigan's step instead")
ARGS = _ap.parse_args()

# BLAS reads its thread count when numpy is first imported
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # a checkout
import minigan  # noqa: E402
import minigan.functional as F  # noqa: E402
from minigan import backend  # noqa: E402

SIZES = [64, 128, 128, 1]


def make_data(batch, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, SIZES[0])).astype(np.float32)
    y = (rng.random((batch, 1)) < 0.5).astype(np.float32)
    params = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1 / np.sqrt(n_in)
        params.append(rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (n_out,)).astype(np.float32))
    return x, y, params


# ------------------------------------------------------------------ minigan
def minigan_setup(x, y, params, device):
    xs = minigan.tensor(x, device=device)
    ys = minigan.tensor(y, device=device)
    ps = [minigan.tensor(p, requires_grad=True, device=device) for p in params]
    sync = (lambda: backend.require_cupy().cuda.Device().synchronize()) if device == "cuda" \
        else (lambda: None)

    def forward():
        h = xs
        for i in range(0, len(ps) - 2, 2):
            h = F.relu(F.linear(h, ps[i], ps[i + 1]))
        logits = F.linear(h, ps[-2], ps[-1])
        return F.binary_cross_entropy_with_logits(logits, ys)

    def backward(loss):
        for p in ps:
            p.grad = None
        loss.backward()
    return forward, backward, sync, lambda: [p.grad.numpy() for p in ps]


# ------------------------------------------------------------------ torch
def torch_setup(x, y, params, device):
    import torch
    import torch.nn.functional as TF
    torch.set_num_threads(ARGS.threads)
    dev = device if (device == "cpu" or torch.cuda.is_available()) else "cpu"
    xs, ys = torch.tensor(x, device=dev), torch.tensor(y, device=dev)
    ps = [torch.tensor(p, device=dev, requires_grad=True) for p in params]
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)

    def forward():
        h = xs
        for i in range(0, len(ps) - 2, 2):
            h = TF.relu(TF.linear(h, ps[i], ps[i + 1]))
        logits = TF.linear(h, ps[-2], ps[-1])
        return TF.binary_cross_entropy_with_logits(logits, ys)

    def backward(loss):
        for p in ps:
            p.grad = None
        loss.backward()
    return forward, backward, sync, lambda: [p.grad.cpu().numpy() for p in ps], dev


CLOCK = time.perf_counter if ARGS.clock == "wall" else time.process_time


def time_step(forward, backward, sync):
    """(forward seconds, backward seconds) of one step."""
    sync()
    t0 = CLOCK()
    loss = forward()
    sync()
    t1 = CLOCK()
    backward(loss)
    sync()
    t2 = CLOCK()
    return t1 - t0, t2 - t1


def main():
    x, y, params = make_data(ARGS.batch)
    m_fwd, m_bwd, m_sync, m_grads = minigan_setup(x, y, params, ARGS.device)
    if ARGS.profile:
        import cProfile
        import pstats
        for _ in range(ARGS.warmup):
            m_bwd(m_fwd())
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(ARGS.repeats):
            m_bwd(m_fwd())
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
        return

    t_fwd, t_bwd, t_sync, t_grads, t_dev = torch_setup(x, y, params, ARGS.device)
    # the same numbers first: a benchmark of a wrong computation is worthless
    m_bwd(m_fwd())
    t_bwd(t_fwd())
    worst = max(float(np.abs(a - b).max() / (np.abs(b).max() + 1e-30))
                for a, b in zip(m_grads(), t_grads()))
    for _ in range(ARGS.warmup):
        time_step(m_fwd, m_bwd, m_sync)
        time_step(t_fwd, t_bwd, t_sync)
    mt, tt = [], []
    for _ in range(ARGS.repeats):
        mt.append(time_step(m_fwd, m_bwd, m_sync))
        tt.append(time_step(t_fwd, t_bwd, t_sync))
    mt, tt = np.array(mt), np.array(tt)

    print(f"MLP {' -> '.join(map(str, SIZES))}, ReLU, BCE-with-logits, batch {ARGS.batch}, "
          f"float32, {ARGS.threads} threads")
    print(f"minigan on {ARGS.device} (numpy {np.__version__}), torch on {t_dev}; "
          f"median {ARGS.clock} time of {ARGS.repeats} steps after {ARGS.warmup} warm-up")
    print(f"gradients agree with torch: max relative difference {worst:.1e}\n")
    print(f"{'':<18}{'minigan':>12}{'torch':>12}{'ratio':>9}")
    rows = [("forward", mt[:, 0], tt[:, 0]), ("backward", mt[:, 1], tt[:, 1]),
            ("forward+backward", mt.sum(1), tt.sum(1))]
    for name, m, t in rows:
        mm, tm = np.median(m), np.median(t)
        print(f"{name:<18}{mm * 1e6:>9.0f} us{tm * 1e6:>9.0f} us{mm / tm:>8.2f}x")
    ratio = np.median(mt.sum(1)) / np.median(tt.sum(1))
    print(f"\nminigan / torch = {ratio:.2f}x ({'within' if ratio <= 2 else 'over'} the 2x target)")


if __name__ == "__main__":
    main()

"""NumPy's BLAS against PyTorch's on the MLP GAN's own matrix products.

    python benchmarks/gemm_floor.py [--threads 1] [--rounds 11]

Each Dense layer of the lecture's MLP GAN does one matrix product in the
forward pass (X W) and up to two in the backward pass (X^T dY for the weights,
dY W^T for the input). minigan hands them to NumPy, that is to NumPy's BLAS
(OpenBLAS in the pip wheels); PyTorch uses its own (MKL or oneDNN on x86).
Neither framework's code can change how fast these products run, so this part
of `gan_step.py --workload mlp_gan` is set by the two BLAS libraries on the
machine at hand, and this script measures it: the products' time per step in
each, and their ratio. Set beside the whole step's time from `gan_step.py`, it
splits the gap into the BLAS's share and the rest (minigan's own code).

It times the products of one step at batch 128: the D step runs G
(100-256-512-1024-784) forward and D (784-1024-512-256-1) forward and backward
on a real and a fake batch, the G step runs both forward and backward; no
product is done for the input gradient of data or of z. Interleaved rounds:
NumPy and PyTorch in one process, with the same thread count, taking turns
(NumPy first in even rounds), each round giving one ratio. It reports the
median ratio and its spread.
"""
import argparse
import datetime
import os
import statistics
import time

_ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
_ap.add_argument("--threads", type=int, default=1)
_ap.add_argument("--rounds", type=int, default=11)
_ap.add_argument("--block", type=int, default=20, help="GAN steps' worth of GEMMs a turn")
_ap.add_argument("--batch", type=int, default=128)
ARGS = _ap.parse_args()

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)    # read when each BLAS loads

import numpy as np  # noqa: E402
import torch  # noqa: E402

from gan_step import cpu_name  # noqa: E402  (this folder's; it imports no framework)

torch.set_num_threads(ARGS.threads)

G_WIDTHS = (100, 256, 512, 1024, 784)
D_WIDTHS = (784, 1024, 512, 256, 1)


def products(batch):
    """(left shape, right shape) of every product in one GAN step (D step + G step)."""
    out = []
    # (network, backward pass?, does its input need a gradient?)
    for widths, backward, input_grad in ((G_WIDTHS, False, False),   # D step: G forward,
                                         (D_WIDTHS, True, False),    # D on real images
                                         (D_WIDTHS, True, False),    # and on detached fakes
                                         (G_WIDTHS, True, False),    # G step: z needs none,
                                         (D_WIDTHS, True, True)):    # G's images do
        for i, (fan_in, fan_out) in enumerate(zip(widths, widths[1:])):
            out.append(((batch, fan_in), (fan_in, fan_out)))              # X W
            if backward:
                out.append(((fan_in, batch), (batch, fan_out)))           # X^T dY
                if i > 0 or input_grad:
                    out.append(((batch, fan_out), (fan_out, fan_in)))     # dY W^T
    return out


def main():
    rng = np.random.default_rng(0)
    pairs = [(rng.standard_normal(a, dtype=np.float32), rng.standard_normal(b, dtype=np.float32))
             for a, b in products(ARGS.batch)]
    tpairs = [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in pairs]

    def numpy_block():
        for _ in range(ARGS.block):
            for a, b in pairs:
                a @ b

    def torch_block():
        for _ in range(ARGS.block):
            for a, b in tpairs:
                a @ b

    def timed(fn):
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t

    numpy_block(), torch_block()                          # warm-up: pages, thread pools
    ratios, t_np, t_torch = [], [], []
    for r in range(ARGS.rounds):
        if r % 2 == 0:
            a, b = timed(numpy_block), timed(torch_block)
        else:
            b, a = timed(torch_block), timed(numpy_block)
        ratios.append(a / b)
        t_np.append(a / ARGS.block)
        t_torch.append(b / ARGS.block)
    ratios.sort()
    q = len(ratios) // 4
    print(f"GEMMs of one mlp_gan step ({len(pairs)} products, batch {ARGS.batch}, float32), "
          f"{cpu_name()}, {ARGS.threads} thread(s), {datetime.date.today()}, "
          f"{ARGS.rounds} interleaved rounds")
    print(f"NumPy ({np.__version__}) {1e3 * statistics.median(t_np):.2f} ms a step, "
          f"PyTorch ({torch.__version__}) {1e3 * statistics.median(t_torch):.2f} ms; "
          f"ratio NumPy/PyTorch: median {statistics.median(ratios):.2f}x, "
          f"range {ratios[0]:.2f}-{ratios[-1]:.2f}, middle half {ratios[q]:.2f}-{ratios[-1 - q]:.2f}")


if __name__ == "__main__":
    main()

"""Time one GAN training iteration in minigan and in PyTorch, side by side.

One iteration = a discriminator step (BCE-with-logits on a real and a generated
batch, Adam) then a generator step (non-saturating loss, Adam), the loop every
lecture draws. Each framework runs in its own subprocess with the same number of
BLAS/intra-op threads, so their peak memory can be read separately
(peak RSS during training minus RSS before the models were built).

    python benchmarks/gan_step.py                      # all workloads, CPU, 2 threads
    python benchmarks/gan_step.py --workload dcgan_mnist --batch 256
    python benchmarks/gan_step.py --device cuda        # minigan on CuPy vs torch on CUDA

Workloads:
  mlp_gan      the lecture's Keras MLP GAN (G 100-256-512-1024-784, D 784-1024-512-256-1,
               LeakyReLU 0.2, Dropout 0.3 in D), batch 128
  dcgan_mnist  DCGAN for 28x28 digits (transposed convs 7->14->28, BN), batch 64
  mog_gan      the mixture-of-Gaussians MLPs (G 64-128-128-2, D 2-128-128-1, ReLU), batch 512
"""
import argparse
import json
import os
import subprocess
import sys
import time

WORKLOADS = {"mlp_gan": 128, "dcgan_mnist": 64, "mog_gan": 512}
TARGETS = {"mlp_gan": 1.2, "dcgan_mnist": 1.5, "mog_gan": 2.0}


# ------------------------------------------------------------------ minigan
def minigan_models(name):
    from minigan import nn
    if name == "mlp_gan":
        G = nn.Sequential(nn.Dense(100, 256), nn.LeakyReLU(0.2), nn.Dense(256, 512), nn.LeakyReLU(0.2),
                          nn.Dense(512, 1024), nn.LeakyReLU(0.2), nn.Dense(1024, 784), nn.Tanh())
        D = nn.Sequential(nn.Dense(784, 1024), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                          nn.Dense(1024, 512), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                          nn.Dense(512, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Dense(256, 1))
        return G, D, (100,), (784,)
    if name == "dcgan_mnist":
        G = nn.Sequential(nn.Reshape(100, 1, 1),
                          nn.ConvTranspose2d(100, 256, 7, 1, 0), nn.BatchNorm2d(256), nn.ReLU(),
                          nn.ConvTranspose2d(256, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.ReLU(),
                          nn.ConvTranspose2d(128, 1, 4, 2, 1), nn.Tanh())
        D = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
                          nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
                          nn.Flatten(), nn.Dense(6272, 1))
        return G, D, (100,), (1, 28, 28)
    if name == "mog_gan":
        G = nn.Sequential(nn.Dense(64, 128), nn.ReLU(), nn.Dense(128, 128), nn.ReLU(), nn.Dense(128, 2))
        D = nn.Sequential(nn.Dense(2, 128), nn.ReLU(), nn.Dense(128, 128), nn.ReLU(), nn.Dense(128, 1))
        return G, D, (64,), (2,)
    raise ValueError(name)


def run_minigan(name, batch, steps, device):
    import numpy as np
    import minigan
    import minigan.functional as F
    from minigan import optim
    minigan.manual_seed(0)
    G, D, zshape, xshape = minigan_models(name)
    G.to(device), D.to(device)
    og = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    od = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    rng = np.random.default_rng(0)
    real = minigan.tensor(rng.uniform(-1, 1, (batch,) + xshape).astype("float32"), device=device)
    ones = minigan.tensor(np.ones((batch, 1), "float32"), device=device)
    zeros = minigan.tensor(np.zeros((batch, 1), "float32"), device=device)
    gen = minigan.backend.generator(device)

    def noise():
        return minigan.Tensor(gen.standard_normal((batch,) + zshape, dtype="float32"))

    def step():
        with minigan.no_grad():
            fake = G(noise())
        od.zero_grad()
        loss_d = (F.binary_cross_entropy_with_logits(D(real), ones)
                  + F.binary_cross_entropy_with_logits(D(fake), zeros))
        loss_d.backward()
        od.step()
        og.zero_grad()
        loss_g = F.binary_cross_entropy_with_logits(D(G(noise())), ones)   # non-saturating
        loss_g.backward()
        og.step()
        return loss_g

    def sync():
        if device == "cuda":
            minigan.backend.require_cupy().cuda.Device().synchronize()
    return step, sync


# ------------------------------------------------------------------ PyTorch
def torch_models(name):
    from torch import nn
    if name == "mlp_gan":
        G = nn.Sequential(nn.Linear(100, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512), nn.LeakyReLU(0.2),
                          nn.Linear(512, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 784), nn.Tanh())
        D = nn.Sequential(nn.Linear(784, 1024), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                          nn.Linear(1024, 512), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                          nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(256, 1))
        return G, D, (100,), (784,)
    if name == "dcgan_mnist":
        G = nn.Sequential(nn.Unflatten(1, (100, 1, 1)),
                          nn.ConvTranspose2d(100, 256, 7, 1, 0), nn.BatchNorm2d(256), nn.ReLU(),
                          nn.ConvTranspose2d(256, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.ReLU(),
                          nn.ConvTranspose2d(128, 1, 4, 2, 1), nn.Tanh())
        D = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
                          nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
                          nn.Flatten(), nn.Linear(6272, 1))
        return G, D, (100,), (1, 28, 28)
    if name == "mog_gan":
        G = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2))
        D = nn.Sequential(nn.Linear(2, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 1))
        return G, D, (64,), (2,)
    raise ValueError(name)


def run_torch(name, batch, steps, device, threads):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    dev = "cuda" if device == "cuda" else "cpu"
    G, D, zshape, xshape = torch_models(name)
    G.to(dev), D.to(dev)
    og = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand((batch,) + xshape, device=dev) * 2 - 1
    ones = torch.ones(batch, 1, device=dev)
    zeros = torch.zeros(batch, 1, device=dev)

    def step():
        with torch.no_grad():
            fake = G(torch.randn((batch,) + zshape, device=dev))
        od.zero_grad()
        loss_d = (F.binary_cross_entropy_with_logits(D(real), ones)
                  + F.binary_cross_entropy_with_logits(D(fake), zeros))
        loss_d.backward()
        od.step()
        og.zero_grad()
        loss_g = F.binary_cross_entropy_with_logits(D(G(torch.randn((batch,) + zshape, device=dev))), ones)
        loss_g.backward()
        og.step()
        return loss_g

    def sync():
        if dev == "cuda":
            torch.cuda.synchronize()
    return step, sync


# ------------------------------------------------------------------ harness
def _rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_rss_mib():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(framework, name, batch, steps, warmup, device, threads):
    """Runs in a subprocess: times `steps` iterations after `warmup`, reports JSON."""
    if framework == "minigan":
        import minigan  # noqa: F401  (import cost stays out of the memory baseline)
    else:
        import torch  # noqa: F401
    base = _rss_mib()
    if framework == "minigan":
        step, sync = run_minigan(name, batch, steps, device)
    else:
        step, sync = run_torch(name, batch, steps, device, threads)
    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    times.sort()
    out = {"median_ms": 1e3 * times[len(times) // 2], "min_ms": 1e3 * times[0],
           "peak_mib": _peak_rss_mib() - base}
    print(json.dumps(out))


def measure(framework, name, batch, steps, warmup, device, threads):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    here = os.path.dirname(os.path.abspath(__file__))
    env["PYTHONPATH"] = os.path.dirname(here) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", framework, "--workload", name,
           "--batch", str(batch), "--steps", str(steps), "--warmup", str(warmup),
           "--device", device, "--threads", str(threads)]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{framework} {name} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", choices=sorted(WORKLOADS), action="append",
                   help="repeat to pick several (default: all)")
    p.add_argument("--batch", type=int, help="override the workload's batch size")
    p.add_argument("--steps", type=int, default=30, help="timed iterations (median reported)")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--worker", choices=["minigan", "torch"], help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        name = a.workload[0]
        worker(a.worker, name, a.batch or WORKLOADS[name], a.steps, a.warmup, a.device, a.threads)
        return
    names = a.workload or list(WORKLOADS)
    print(f"GAN training iteration (D step + G step, Adam), float32, device={a.device}, "
          f"{a.threads} threads, median of {a.steps}")
    print(f"| workload | batch | minigan ms | torch ms | ratio | target | minigan MiB | torch MiB | mem ratio |")
    print(f"|---|---|---|---|---|---|---|---|---|")
    for name in names:
        batch = a.batch or WORKLOADS[name]
        m = measure("minigan", name, batch, a.steps, a.warmup, a.device, a.threads)
        t = measure("torch", name, batch, a.steps, a.warmup, a.device, a.threads)
        ratio = m["median_ms"] / t["median_ms"]
        mem = m["peak_mib"] / max(t["peak_mib"], 1e-9)
        target = f"<= {TARGETS[name]}x" if a.device == "cpu" else ""
        print(f"| {name} | {batch} | {m['median_ms']:.2f} | {t['median_ms']:.2f} | {ratio:.2f}x | "
              f"{target} | {m['peak_mib']:.1f} | {t['peak_mib']:.1f} | {mem:.2f}x |", flush=True)


if __name__ == "__main__":
    main()

"""Time one GAN training iteration in minigan and in PyTorch, as interleaved A/B rounds.

One iteration = a discriminator step (BCE-with-logits on a real and a generated
batch, Adam) then a generator step (non-saturating loss, Adam), the loop every
lecture draws.

How it measures, and why. A shared machine's speed drifts by tens of percent
from minute to minute, so two separate runs, one per framework, compare the
drift more than the frameworks. Here both frameworks stay alive, each in its
own process with the same number of BLAS/intra-op threads, and the parent asks
them in turn for a block of steps (minigan first in even rounds, PyTorch first
in odd ones). Each round gives one ratio minigan/PyTorch from two blocks timed
moments apart; the report is the median ratio over the rounds and its spread
(min-max and the middle half). Peak training memory is each process's peak
RSS minus its RSS before the models were built.

    python benchmarks/gan_step.py                      # the three target workloads, 1 and 2 threads
    python benchmarks/gan_step.py --workload dcgan_recipe --threads 2   # the dcgan run's step
    python benchmarks/gan_step.py --workload dcgan_mnist --threads 2 --rounds 15
    python benchmarks/gan_step.py --device cuda        # minigan on CuPy vs torch on CUDA

Workloads:
  mlp_gan      the lecture's Keras MLP GAN (G 100-256-512-1024-784, D 784-1024-512-256-1,
               LeakyReLU 0.2, Dropout 0.3 in D), batch 128
  dcgan_mnist  the `dcgan` experiment's DCGAN (models.dcgan_generator, the two-convolution
               dcgan_discriminator), batch 64
  mog_gan      the mixture-of-Gaussians MLPs (G 64-128-128-2, D 2-128-128-1, ReLU), batch 512
  dcgan_recipe the `dcgan-plus` experiment's own step, not run unless asked for: its networks
               (models.dcgan_generator, the three-convolution dcgan_discriminator),
               batch 32, Adam 1e-3, the lazy R1 penalty (gamma 1, every 4th step, 4 times
               as strong) and the EMA of G's weights (decay 0.999). Its time a step,
               times 12,000 steps, is most of that run's 30-minute budget, so it tells
               how long PyTorch itself would need for the recipe on a given machine.
"""
import argparse
import json
import os
import subprocess
import sys
import time

WORKLOADS = {"mlp_gan": 128, "dcgan_mnist": 64, "mog_gan": 512, "dcgan_recipe": 32}
DEFAULT = ("mlp_gan", "dcgan_mnist", "mog_gan")                      # the targets' three
TARGETS = {"mlp_gan": 1.0, "dcgan_mnist": 1.2, "mog_gan": 1.1}     # time ratio, CPU
BLOCK = {"mlp_gan": 10, "dcgan_mnist": 4, "mog_gan": 80, "dcgan_recipe": 8}   # about 1 s

# the dcgan-plus recipe's loop settings (experiments/image_gans.py: RECIPES["dcgan-plus"]; gan/recipes.py: R1_EVERY)
RECIPE_LR, R1_GAMMA, R1_EVERY, EMA_DECAY = 1e-3, 1.0, 4, 0.999
MEMORY_TARGET = 1.2                                                  # peak memory ratio


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
    if name == "dcgan_mnist":           # the `dcgan` experiment's networks
        from minigan.gan import models
        return models.dcgan_generator(), models.dcgan_discriminator(), (100,), (1, 28, 28)
    if name == "mog_gan":
        G = nn.Sequential(nn.Dense(64, 128), nn.ReLU(), nn.Dense(128, 128), nn.ReLU(), nn.Dense(128, 2))
        D = nn.Sequential(nn.Dense(2, 128), nn.ReLU(), nn.Dense(128, 128), nn.ReLU(), nn.Dense(128, 1))
        return G, D, (64,), (2,)
    if name == "dcgan_recipe":
        from minigan.gan import models
        return (models.dcgan_generator(), models.dcgan_discriminator(depth=3), (100,),
                (1, 28, 28))
    raise ValueError(name)


def run_minigan(name, batch, steps, device):
    """minigan's side: one step of the library's own loop, ``Trainer.step`` (the
    experiments' step: Algorithm 1, its numbers fetched in one copy, the history),
    with the recipe's lazy R1 penalty and G's weight average for dcgan_recipe."""
    import numpy as np
    import minigan
    from minigan import optim
    from minigan.gan.runner import Trainer
    minigan.manual_seed(0)
    G, D, zshape, xshape = minigan_models(name)
    G.to(device), D.to(device)
    recipe = name == "dcgan_recipe"
    lr = RECIPE_LR if recipe else 2e-4
    og = optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    od = optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    extra = {}
    if recipe:
        from functools import partial
        from minigan.gan.tricks.averaging import WeightAverage
        from minigan.gan.losses import r1_penalty
        extra = dict(penalty=partial(r1_penalty, gamma=R1_GAMMA), penalty_every=R1_EVERY,
                     callbacks=[WeightAverage(G, EMA_DECAY)])
    rng = np.random.default_rng(0)
    real = minigan.tensor(rng.uniform(-1, 1, (batch,) + xshape).astype("float32"), device=device)
    gen = minigan.backend.generator(device)

    def noise(m):
        return minigan.Tensor(gen.standard_normal((m,) + zshape, dtype="float32"))
    trainer = Trainer(G, D, og, od, lambda m: real, noise, loss="non-saturating",
                      batch_size=batch, progress=False, seed=0, **extra)

    def step():
        record = trainer.step()
        for cb in trainer.callbacks:             # as fit calls them after each step
            cb(trainer, trainer.global_step)
        return record

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
    if name == "dcgan_mnist":           # minigan.gan.models.dcgan_generator / _discriminator
        G = nn.Sequential(nn.Linear(100, 128 * 7 * 7), nn.Unflatten(1, (128, 7, 7)),
                          nn.BatchNorm2d(128), nn.ReLU(),
                          nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
                          nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
        D = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
                          nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
                          nn.Flatten(), nn.Linear(6272, 1))
        return G, D, (100,), (1, 28, 28)
    if name == "mog_gan":
        G = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2))
        D = nn.Sequential(nn.Linear(2, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 1))
        return G, D, (64,), (2,)
    if name == "dcgan_recipe":          # minigan.gan.models.dcgan_generator / _discriminator
        G = nn.Sequential(nn.Linear(100, 128 * 7 * 7), nn.Unflatten(1, (128, 7, 7)),
                          nn.BatchNorm2d(128), nn.ReLU(),
                          nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
                          nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
        D = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
                          nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
                          nn.Conv2d(128, 256, 3, 2, 1), nn.BatchNorm2d(256), nn.LeakyReLU(0.2),
                          nn.Flatten(), nn.Linear(4096, 1))
        return G, D, (100,), (1, 28, 28)
    raise ValueError(name)


def run_torch(name, batch, steps, device, threads):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    dev = "cuda" if device == "cuda" else "cpu"
    G, D, zshape, xshape = torch_models(name)
    G.to(dev), D.to(dev)
    recipe = name == "dcgan_recipe"
    lr = RECIPE_LR if recipe else 2e-4
    og = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    od = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    average = [p.detach().clone() for p in G.parameters()] if recipe else None
    t = [0]

    def r1(x):                          # (gamma / 2) E ||d D(x) / dx||^2, as minigan's
        x = x.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
        return (R1_GAMMA / 2) * g.pow(2).flatten(1).sum(1).mean()

    real = torch.rand((batch,) + xshape, device=dev) * 2 - 1
    ones = torch.ones(batch, 1, device=dev)
    zeros = torch.zeros(batch, 1, device=dev)

    def step():
        with torch.no_grad():
            fake = G(torch.randn((batch,) + zshape, device=dev))
        od.zero_grad()
        loss_d = (F.binary_cross_entropy_with_logits(D(real), ones)
                  + F.binary_cross_entropy_with_logits(D(fake), zeros))
        if recipe and t[0] % R1_EVERY == 0:
            loss_d = loss_d + r1(real) * float(R1_EVERY)
        loss_d.backward()
        od.step()
        og.zero_grad()
        loss_g = F.binary_cross_entropy_with_logits(D(G(torch.randn((batch,) + zshape, device=dev))), ones)
        loss_g.backward()
        og.step()
        t[0] += 1
        if recipe:                      # WeightAverage's EMA, with its warm-up
            d = min(EMA_DECAY, (1.0 + t[0]) / (10.0 + t[0]))
            with torch.no_grad():
                for avg, p in zip(average, G.parameters()):
                    avg.mul_(d).add_(p, alpha=1.0 - d)
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


def worker(framework, name, batch, device, threads):
    """Runs in a subprocess and waits for orders on stdin, one per line:
    "run K" times K steps and answers {"seconds": ...}; "mem" answers the peak
    training memory; "quit" ends."""
    if framework == "minigan":
        import minigan  # noqa: F401  (import cost stays out of the memory baseline)
    else:
        import torch  # noqa: F401
    base = _rss_mib()
    if framework == "minigan":
        step, sync = run_minigan(name, batch, 0, device)
    else:
        step, sync = run_torch(name, batch, 0, device, threads)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        order = line.split()
        if order[0] == "run":
            sync()
            t0 = time.perf_counter()
            for _ in range(int(order[1])):
                step()
            sync()
            print(json.dumps({"seconds": time.perf_counter() - t0}), flush=True)
        elif order[0] == "mem":
            print(json.dumps({"peak_mib": _peak_rss_mib() - base}), flush=True)
        else:
            return


class Worker:
    """One framework's process, alive for all the rounds."""

    def __init__(self, framework, name, batch, device, threads):
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
        here = os.path.dirname(os.path.abspath(__file__))
        env["PYTHONPATH"] = os.path.dirname(here) + os.pathsep + env.get("PYTHONPATH", "")
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", framework, "--workload",
               name, "--batch", str(batch), "--device", device, "--threads", str(threads)]
        self.name = framework
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self._answer()

    def _answer(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.name} worker died (see its error above)")
        return json.loads(line)

    def ask(self, order):
        self.proc.stdin.write(order + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def run(self, steps):
        return self.ask(f"run {steps}")["seconds"]

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.wait(timeout=60)


def _quantiles(values):
    v = sorted(values)
    q = lambda f: v[min(len(v) - 1, int(round(f * (len(v) - 1))))]   # noqa: E731
    return q(0.0), q(0.25), q(0.5), q(0.75), q(1.0)


def compare(name, batch, device, threads, rounds, block, warmup):
    """Interleaved rounds of `block` steps each; returns the ratios and both memories."""
    a = Worker("minigan", name, batch, device, threads)
    b = Worker("torch", name, batch, device, threads)
    try:
        a.run(warmup)
        b.run(warmup)
        ratios, ms_a, ms_b = [], [], []
        for r in range(rounds):
            if r % 2 == 0:
                ta, tb = a.run(block), b.run(block)
            else:
                tb, ta = b.run(block), a.run(block)
            ratios.append(ta / tb)
            ms_a.append(1e3 * ta / block)
            ms_b.append(1e3 * tb / block)
        mem_a, mem_b = a.ask("mem")["peak_mib"], b.ask("mem")["peak_mib"]
    finally:
        a.close()
        b.close()
    return {"ratios": ratios, "ms_minigan": _quantiles(ms_a)[2], "ms_torch": _quantiles(ms_b)[2],
            "mem_minigan": mem_a, "mem_torch": mem_b}


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or "unknown CPU"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", choices=sorted(WORKLOADS), action="append",
                   help="repeat to pick several (default: all)")
    p.add_argument("--batch", type=int, help="override the workload's batch size")
    p.add_argument("--rounds", type=int, default=11, help="interleaved rounds (median reported)")
    p.add_argument("--block", type=int, default=None,
                   help="steps per framework per round (default: about a second's worth)")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--threads", type=int, action="append",
                   help="BLAS/intra-op threads of both processes; repeat (default: 1 and 2)")
    p.add_argument("--worker", choices=["minigan", "torch"], help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        name = a.workload[0]
        worker(a.worker, name, a.batch or WORKLOADS[name], a.device, (a.threads or [1])[0])
        return
    names = a.workload or list(DEFAULT)
    threads = a.threads or [1, 2]
    print(f"GAN training iteration (D step + G step, Adam), float32, device={a.device}, "
          f"{cpu_name()} ({os.cpu_count()} cores), {time.strftime('%Y-%m-%d')}; "
          f"{a.rounds} interleaved rounds")
    print("| workload | batch | threads | minigan ms | torch ms | ratio (median) | ratio min-max "
          "| middle half | target | minigan MiB | torch MiB | memory ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in names:
        batch = a.batch or WORKLOADS[name]
        block = a.block or BLOCK[name]
        for t in threads:
            r = compare(name, batch, a.device, t, a.rounds, block, a.warmup)
            lo, q1, med, q3, hi = _quantiles(r["ratios"])
            mem = r["mem_minigan"] / max(r["mem_torch"], 1e-9)
            target = "<= 2x" if a.device != "cpu" else (
                f"<= {TARGETS[name]}x" if name in TARGETS else "none")
            print(f"| {name} | {batch} | {t} | {r['ms_minigan']:.2f} | {r['ms_torch']:.2f} | "
                  f"{med:.2f}x | {lo:.2f}-{hi:.2f} | {q1:.2f}-{q3:.2f} | {target} | "
                  f"{r['mem_minigan']:.0f} | {r['mem_torch']:.0f} | {mem:.2f}x |", flush=True)


if __name__ == "__main__":
    main()

"""The mode-collapse lab on mixtures of Gaussians: the experiments ``mog`` and
``mog-collapse`` (the table of every remedy is ``mog_table``).

* ``mog``: the vanilla GAN and minigan's best recipe on the ring of 8
  Gaussians, trained with the same seed and budget, side by side, and over
  training from a fixed batch of noise.
* ``mog-collapse``: a vanilla GAN in a setting where it collapses and cycles
  from mode to mode, made visible: scatter plots over training, a modes x steps
  occupancy map, GAN-Lab panels (D over the plane, G's gradient arrows) and a GIF.

Who trains how is ``mog_recipes``; the figures are ``figures.mixtures_2d``.
"""
from dataclasses import asdict, dataclass

import numpy

from . import experiment, workers, RunClock, REACHED, trainer_settings, resuming
from . import mog_recipes as recipes
from .figures import mixtures_2d
from .figures.style import save
from .claims import claim, titled
from .. import backend
from .. import functional as F
from .. import data
from ..eval import metrics
from ..gan.models import Packed
from ..gan.runner import Recorder
from ..tensor import Tensor, grad, no_grad


# --------------------------------------------------------------- snapshots
@dataclass
class Snapshot:
    """What the figures need at one step: G's samples and their scores, the share
    of samples on each mode, D's output over the plane and G's gradient arrows."""
    step: int
    fake: numpy.ndarray            # (N, 2) generated samples
    scores: dict                   # metrics.mode_scores of `fake`
    occupancy: numpy.ndarray       # (K,) share of the samples (high quality) on each mode
    extent: tuple                  # (xmin, xmax, ymin, ymax) of the D field
    d_field: numpy.ndarray = None  # (res, res) D over the plane (pack 1 only), row = y
    d_is_probability: bool = True  # D(x) is sigmoid(logit), else a raw critic value
    arrows: numpy.ndarray = None   # (n_arrows, 2): -dL_G/dx at the first fake samples


def snapshot(trainer, mixture, step, device="cpu", n=metrics.N_EVAL, resolution=90,
             n_arrows=240, extent=None, occupancy_radius=None):
    """Measure G and D of `trainer` now (nothing is trained or recorded).

    ``occupancy``: the share of the samples within `occupancy_radius` of each
    mode (default 3 std, the high-quality radius).
    """
    G, D = trainer.G, trainer.D
    fake = recipes.sample_generator(G, n, device)
    scores = metrics.mode_scores(fake, mixture)
    if occupancy_radius is None:
        occupancy = numpy.asarray(scores["counts"], dtype=float) / n
    else:
        occupancy = metrics.mode_occupancy(fake, mixture,
                                           n_sigma=occupancy_radius / max(mixture.std, 1e-12))
    extent = extent or mixtures_2d.extent_of(mixture)
    probs = trainer.loss.probabilities
    field = None
    if not isinstance(D, Packed):                      # D of one point: a field over the plane
        xs = numpy.linspace(extent[0], extent[1], resolution)
        ys = numpy.linspace(extent[2], extent[3], resolution)
        gx, gy = numpy.meshgrid(xs, ys)                # row i is y = ys[i]
        pts = numpy.stack([gx.ravel(), gy.ravel()], axis=1).astype(numpy.float32)
        with no_grad():
            out = D(Tensor(pts, device=device))
            out = F.sigmoid(out) if probs else out
        field = out.numpy().reshape(resolution, resolution)
    # -dL_G/dx on each sample: L_G summed (not averaged) so an arrow is one sample's push
    pack = D.pack if isinstance(D, Packed) else 1
    k = (min(n_arrows, n) // pack) * pack
    x = Tensor(fake[:k], device=device, requires_grad=True)
    loss_g = trainer.loss.g_loss(D(x)) * float(k // pack)
    (gx_,) = grad(loss_g, x)
    return Snapshot(step, fake, scores, occupancy, extent, field, probs, -gx_.numpy())


# the `mog` figure over training: G's samples after these fractions of the steps
SNAPSHOT_FRACTIONS = (0.01, 0.03, 0.1, 0.3, 1.0)


def fixed_noise_snapshots(mixture, steps, seed, device="cpu", fractions=SNAPSHOT_FRACTIONS):
    """A Recorder of G's samples at a few steps (``as_snapshots`` reads its records).

    The samples come from one fixed batch of noise drawn with its own NumPy
    generator, so watching the run does not change it: the trainer's random
    stream is untouched (and the same z's can be followed from panel to panel).
    """
    z = numpy.random.default_rng(seed + 7919).standard_normal(
        (metrics.N_EVAL, recipes.NOISE_DIM)).astype(numpy.float32)
    z = Tensor(z, device=device)
    at = {max(1, round(f * steps)) for f in fractions}

    def take(trainer, step):
        if step in at:
            with no_grad():
                x = trainer.G(z).numpy()
            s = metrics.mode_scores(x, mixture)
            return asdict(Snapshot(step, x, s, numpy.asarray(s["counts"]) / len(x),
                                   mixtures_2d.extent_of(mixture)))
    return Recorder(take, at_end=False)


def as_snapshots(recorder):
    """The Snapshots a Recorder of snapshots (saved as plain dicts) holds."""
    return [Snapshot(**r) for r in recorder.records]


def _mog_one(job):
    """One run of the `mog` figure (in a worker): its final samples and scores, the
    fixed-noise snapshots over training, and its wall time."""
    cfg, method, steps, progress = job
    ring = data.mixture("ring")
    clock = RunClock()          # the training's time over every process, if resumed
    watch = fixed_noise_snapshots(ring, steps, cfg.seed, cfg.device)
    run = recipes.train_mog(method, ring, seed=cfg.seed, steps=steps, device=cfg.device,
                            progress=progress, resume=cfg.resume,
                            **cfg.trainer_settings(method, [watch]))
    return dict(method=method, samples=run.samples, scores=run.scores,
                snaps=as_snapshots(watch), seconds=clock.seconds(run.trainer)[0])


def mog_claims(result, best=recipes.BEST, n_modes=8):
    """The lecture's mode-collapse claims, decided from the run's numbers."""
    def mean_modes(method):
        return float(numpy.mean([s["modes"] for s in result[method]["over_training"]]))
    gan, ours = mean_modes("gan"), mean_modes(best)
    return [
        claim("a vanilla GAN collapses onto a few modes where the best recipe spreads over "
              "the ring", "fewer modes on average over the snapshots than the best recipe's",
              f"vanilla GAN {gan:.1f}, best recipe {ours:.1f} of {n_modes}", gan < ours),
        claim(f"minigan's best recipe ends covering all {n_modes} modes",
              f"{n_modes} modes captured", f"{result[best]['modes']}",
              result[best]["modes"] == n_modes),
    ]


def collapse_claims(result, n_modes=8):
    """The lecture's picture of a GAN hopping from mode to mode, decided from the run."""
    return [claim(
        "a collapsing GAN sits on a few modes at a time and hops from mode to mode",
        f"the mode holding most samples changes at least 3 times, and no snapshot has more "
        f"than half of the {n_modes} modes covered",
        f"{result['dominant_mode_changes']} changes; at most {max(result['modes_covered'])} "
        f"modes covered", result["dominant_mode_changes"] >= 3
        and max(result["modes_covered"]) <= n_modes // 2)]


@experiment("mog", "mode collapse on a ring of 8 Gaussians: the vanilla GAN beside "
            "minigan's best recipe", lecture=3)
def run_mog(cfg):
    steps = cfg.steps_or(recipes.BEST_STEPS, 500)
    ring = data.mixture("ring")
    methods = ("gan", recipes.BEST)
    # the two runs train at the same time, in two worker processes (one per core),
    # each with its own progress bar
    jobs = [(cfg, m, steps,
             {"desc": f"{'vanilla GAN' if m == 'gan' else 'best recipe':<12}", "position": i}
             if cfg.progress else False) for i, m in enumerate(methods)]
    for m in methods:
        REACHED.setdefault(m, 0)               # a run that never starts reached step 0
    done = {r["method"]: r for r in workers.run_all(
        _mog_one, jobs, workers.n_workers(cfg.jobs, len(jobs), cfg.device))}
    panels, rows, result = [], [], {"steps": steps}
    for method in methods:
        r = done[method]
        s = r["scores"]
        label = recipes.METHODS[method].summary
        if method == recipes.BEST:
            label = f"best recipe: {label}"
        panels.append((label, r["samples"], s))
        rows.append(("vanilla GAN" if method == "gan" else "best recipe", r["snaps"]))
        numpy.save(cfg.out / f"samples_{method}.npy", r["samples"], allow_pickle=False)
        result[method] = {"modes": s["modes"], "high_quality": s["high_quality"],
                          "reverse_kl": s["reverse_kl"], "seconds": r["seconds"],
                          "over_training": [{"step": sn.step, "modes": sn.scores["modes"],
                                             "high_quality": sn.scores["high_quality"],
                                             "reverse_kl": sn.scores["reverse_kl"]}
                                            for sn in r["snaps"]]}
    claims = result["claims"] = mog_claims(result)
    backend.manual_seed(cfg.seed)
    real = ring.sample(2000).numpy()
    fig = mixtures_2d.compare_panels(panels, ring, real,
                               title=titled(f"ring of 8 Gaussians (std {ring.std}), {steps} steps, "
                                     f"seed {cfg.seed}", claims))
    save(fig, cfg.out / "mog_side_by_side.png")
    save(mixtures_2d.scatter_rows(rows, ring, real,
                                  title="the same runs over training: the vanilla GAN (top) "
                                        "and the best recipe (bottom)"),
               cfg.out / "mog_over_training.png")
    return result


# -------------------------------------------------------- collapse (cycles)
# The setting of the Unrolled-GAN paper's ring (Metz et al. 2017): ring of radius 2,
# std 0.02; 256-D noise; G and D 2 x 128 ReLU; batch 512; Adam betas (0.5, 0.999)
# with G's lr 1e-3 and D's 1e-4; the non-saturating loss. The generator puts
# (almost) all its samples on one mode, D learns to reject that mode, G jumps to
# another one: the modes x steps map shows a bright cell walking from row to row.
COLLAPSE_METHOD = recipes.Method(
    "gan", "vanilla GAN (non-saturating), Unrolled-GAN ring setting", noise_dim=256,
    d_lr_scale=0.1)
COLLAPSE_STEPS, COLLAPSE_QUICK_STEPS = 3000, 240
COLLAPSE_SNAPSHOTS = 30
COVERED_SHARE = 0.05      # a mode is covered at a snapshot if >= 5% of G's samples are near it


def near_radius(mixture):
    """A quarter of the smallest distance between two modes: 'near a mode' for the
    collapse map. A collapsed generator's blob is wider than 3 std (so it is not
    high quality) but clearly sits on one mode."""
    c = mixture.centers
    d = numpy.sqrt(((c[:, None, :] - c[None, :, :]) ** 2).sum(-1))
    return float(d[d > 0].min()) / 4.0


def collapse_run(steps, seed=0, device="cpu", n_snapshots=COLLAPSE_SNAPSHOTS, progress=False,
                 cfg=None):
    """Train the collapsing GAN, snapshotting it `n_snapshots` times; returns
    (trainer, mixture, list of Snapshot). With `cfg`, it trains as that experiment's
    run "collapse" (checkpointed, resumable)."""
    ring = data.mixture("ring-unrolled")
    schedule = recipes.Schedule(steps=steps, batch_size=512, lr=1e-3, final_lr=1e-3,
                                decay_from=1.0)
    every = max(1, steps // n_snapshots)
    radius = near_radius(ring)

    def take(trainer, step):
        return asdict(snapshot(trainer, ring, step, device, n=1000, occupancy_radius=radius))
    watch = Recorder(take, every=every, at_start=True)
    trainer = recipes.make_trainer(COLLAPSE_METHOD, ring, seed, device, schedule,
                                   progress=progress,
                                   **trainer_settings(cfg, "collapse", [watch]))
    trainer.fit(steps, resume=resuming(cfg))
    return trainer, ring, as_snapshots(watch)


@experiment("mog-collapse", "a vanilla GAN collapsing onto one mode at a time and cycling "
            "around the ring, made visible", lecture=3)
def run_mog_collapse(cfg):
    steps = cfg.steps_or(COLLAPSE_STEPS, COLLAPSE_QUICK_STEPS)
    trainer, ring, snaps = collapse_run(steps, cfg.seed, cfg.device,
                                        COLLAPSE_SNAPSHOTS if not cfg.quick else 8,
                                        cfg.progress, cfg)
    backend.manual_seed(cfg.seed + 1)
    real = ring.sample(1000).numpy()
    occ = numpy.stack([s.occupancy for s in snaps], axis=1)          # (K, T)
    changes = metrics.dominant_mode_changes(occ)
    step_list = [s.step for s in snaps]
    modes = [int((s.occupancy >= COVERED_SHARE).sum()) for s in snaps]
    claims = collapse_claims({"dominant_mode_changes": changes, "modes_covered": modes})
    title = titled("vanilla GAN on the ring (Unrolled-GAN setting): real (black) and "
                   "generated (red) samples", claims)
    pick = numpy.unique(numpy.linspace(0, len(snaps) - 1, 7).round().astype(int))
    save(mixtures_2d.scatter_row([snaps[i] for i in pick], ring, real, title),
               cfg.out / "collapse_scatter.png")
    radius = near_radius(ring)
    save(mixtures_2d.occupancy_map(occ, step_list, changes=changes,
                                   title=f"share of G's samples within {radius:.2f} of each mode",
                                   what="share of samples"),
               cfg.out / "collapse_occupancy.png")
    pick4 = numpy.unique(numpy.linspace(len(snaps) // 3, len(snaps) - 1, 4).round().astype(int))
    save(mixtures_2d.gan_lab_row([snaps[i] for i in pick4], ring, real,
                                 "D's output over the plane; arrows: where G's step moves "
                                 "each sample"), cfg.out / "collapse_ganlab.png")
    mixtures_2d.training_gif(snaps, ring, real, cfg.out / "collapse_training.gif",
                       title="vanilla GAN: D(x) over the plane, real (black) and\n"
                             "generated (red) samples, G's step on each (green)")
    return {"claims": claims, "steps": steps, "snapshot_steps": step_list,
            "modes_covered": modes,          # modes holding >= 5% of the samples (near)
            "modes_captured_hq": [s.scores["modes"] for s in snaps],   # PacGAN's count
            "dominant_mode": [int(s.occupancy.argmax()) if s.occupancy.max() > 0 else None
                              for s in snaps],
            "dominant_mode_changes": changes,
            "mean_modes_covered": float(numpy.mean(modes)),
            "final": {k: snaps[-1].scores[k] for k in ("modes", "high_quality", "reverse_kl")}}

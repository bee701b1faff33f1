"""Progressive growing (Karras et al. 2018) beside the plain DCGAN, at the same wall
time: the experiment ``progan``.

The lecture: "this allows stable synthesis in high resolutions and also speeds up
training". Here ProGAN (``minigan.gan.apps.progressive``: 7x7, then 14x14, then
28x28, each new block faded in) and the lecture's DCGAN (``image_gans``' recipe
"dcgan", as that experiment builds and trains it) are each trained from the same
seeds for about the same number of seconds. Along each run a few snapshots of G
are kept (their training seconds beside them); afterwards every snapshot draws
the same scored samples (``--set samples``, 10,000 in a full run; a ProGAN
snapshot below 28x28 is upsampled, what it would show at that moment), scored
by the evaluator CNN: Inception Score and Frechet distance to the real test
digits, every sample counted (no truncation).

The comparison is made at one wall time T, the shorter of the runs' training
times, each run's scores at T read off its snapshots (linear between the two
snapshots around T): "faster" holds if ProGAN's mean Frechet distance over the
seeds is lower than DCGAN's, "more stable" if its spread over the seeds (standard
deviation) is smaller.

The step counts are set for a budget of ``MINUTES`` per run on 2 CPU cores
(one BLAS thread); ``--set minutes=M`` scales every one of them by M / MINUTES.
Fixed steps keep "same seed, same run"; the measured seconds are what the report
compares. What the runs measured belongs on a results page under ``docs/``.
"""
import numpy

from . import experiment, trainer_settings, resuming, choice, OptionError
from .claims import claim, titled
from .image_gans import RECIPES
from .machine import measured_on
from .. import backend, data, optim
from ..eval import evaluate, metrics
from ..eval.pixels import generate, to_pixels
from ..gan import models
from ..gan.apps import progressive as pg
from ..gan.recipes import make_trainer
from ..gan.runner import Recorder
from ..tensor import Tensor

MINUTES, MINUTES_QUICK = 4.0, 0.2      # each run's budget; --quick's
SEEDS, SEEDS_QUICK = 3, 1
SAMPLES, SAMPLES_QUICK = 10_000, 1_000
# ProGAN's schedule for MINUTES: long at 7x7 (cheap steps), shorter as the steps grow
# dearer; DCGAN's steps for the same time (from seconds per step timed with one BLAS
# thread on a shared 2-core machine; the report reads the seconds each run measured)
PROGAN_FADE = 120
PROGAN_STABILIZE = (600, 200, 120)
DCGAN_STEPS = 1_000
CHANNELS = (32, 16, 8)                  # ProGAN's feature maps at 7, 14, 28
BATCH = 64                              # both, DCGAN's batch
LR, BETAS = 1e-3, (0.0, 0.99)           # ProGAN's Adam, the paper's
LOSSES = {"non-saturating": dict(loss="non-saturating", gp_weight=0.0, drift=0.0),
          "wgan-gp": dict(loss="wasserstein", gp_weight=10.0, drift=1e-3)}
DCGAN_SNAPSHOTS = 5                     # DCGAN's snapshots after step 0
N_SHOWN = 12


def scaled(n, factor):
    return max(1, int(round(n * factor)))


def progan_schedule(factor):
    return pg.ProgressiveSchedule(scaled(PROGAN_FADE, factor),
                                  tuple(scaled(s, factor) for s in PROGAN_STABILIZE))


def snapshot_recorder(steps, grown):
    """A Recorder keeping G's weights (copies) and its training seconds at `steps`;
    ``grown``: also its stage and alpha (ProGAN)."""
    steps = set(steps) | {0}                # 0: the untrained G (at_start)

    def keep(trainer, step):
        if step not in steps:
            return None
        record = {"step": int(step), "seconds": float(trainer.train_seconds),
                  "weights": {k: backend.to_numpy(v).copy()
                              for k, v in trainer.G.state_dict().items()}}
        if grown:
            record.update(resolution=trainer.G.stage, alpha=trainer.G.alpha)
        return record
    return Recorder(keep, at_start=True)


def fixed_noise(seed, n, device):
    rng = numpy.random.default_rng(seed + 7_919)       # the scored samples' own noise
    return Tensor(rng.standard_normal((n, pg.NOISE_DIM)).astype(numpy.float32), device=device)


def score(classifier, pixels, test_stats):
    """Inception Score and Frechet distance (to the real test digits) of uint8 pixels,
    as ``evaluate.evaluate`` computes them."""
    probs, feats = evaluate.classify(classifier, pixels)
    return {"inception_score": metrics.inception_score(probs, splits=10)[0],
            "frechet_distance": metrics.frechet_distance_from_stats(
                *metrics.feature_statistics(feats), *test_stats)}


def progan_pixels(G, z, resolution, alpha):
    """A ProGAN G's samples at (resolution, alpha), upsampled to 28x28, as pixels."""
    G.grow_to(resolution, alpha)
    return to_pixels(pg.sample_images(G, z))


def train_progan(cfg, seed, factor, loss, train_x):
    schedule = progan_schedule(factor)
    ends = [start for start, _, _ in schedule.boundaries()[1:]] + [schedule.total]
    watch = snapshot_recorder(ends, grown=True)
    backend.manual_seed(seed)
    G = pg.ProgressiveGenerator(channels=CHANNELS).to(cfg.device)
    D = pg.ProgressiveDiscriminator(channels=CHANNELS).to(cfg.device)
    trainer = pg.ProgressiveTrainer(
        G, D, optim.Adam(G.parameters(), lr=LR, betas=BETAS),
        optim.Adam(D.parameters(), lr=LR, betas=BETAS),
        data.sampler(train_x, device=cfg.device), data.noise_sampler(cfg.device, pg.NOISE_DIM),
        schedule, batch_size=BATCH, seed=seed, **LOSSES[loss],
        progress={"desc": f"progan seed {seed}"} if cfg.progress else False,
        **trainer_settings(cfg, f"progan-seed{seed}", [watch]))
    trainer.fit(schedule.total, resume=resuming(cfg))
    return trainer, watch.records


def train_dcgan(cfg, seed, factor, train_x, train_y):
    steps = scaled(DCGAN_STEPS, factor)
    marks = numpy.linspace(0, steps, DCGAN_SNAPSHOTS + 1).round().astype(int)[1:]
    watch = snapshot_recorder(marks.tolist(), grown=False)
    trainer = make_trainer(RECIPES["dcgan"], train_x, train_y, seed, cfg.device,
                           progress={"desc": f"dcgan seed {seed}"} if cfg.progress else False,
                           **trainer_settings(cfg, f"dcgan-seed{seed}", [watch]))
    trainer.fit(steps, resume=resuming(cfg))
    return trainer, watch.records


def score_snapshots(model, records, z, classifier, test_stats, device):
    """Each snapshot's scores (its G rebuilt from the kept weights)."""
    out = []
    for r in records:
        if model == "progan":
            G = pg.ProgressiveGenerator(channels=CHANNELS).to(device)
            G.load_state_dict(r["weights"])
            pixels = progan_pixels(G, z, r["resolution"], r["alpha"])
        else:
            G = models.dcgan_generator().to(device)
            G.load_state_dict(r["weights"])
            pixels = generate(G, z)
        s = {"step": r["step"], "seconds": r["seconds"], **score(classifier, pixels, test_stats)}
        if model == "progan":
            s.update(resolution=r["resolution"], alpha=r["alpha"])
        out.append(s)
    return out


def at_time(snaps, t, key):
    """A run's score `key` at `t` seconds: linear between the snapshots around t."""
    times = [s["seconds"] for s in snaps]
    return float(numpy.interp(t, times, [s[key] for s in snaps]))


def progan_claims(summary, t, seeds):
    """"Faster" at the common time t; "more stable" only with two seeds or more (one
    seed has no spread)."""
    p, d = summary["progan"], summary["dcgan"]
    claims = [
        claim("progressive growing 'speeds up training': at the same wall time ProGAN's "
              "samples are closer to the real digits",
              f"ProGAN's mean Frechet distance over the seeds at {t:.0f} s below DCGAN's",
              f"{p['frechet_distance_mean']:.1f} against {d['frechet_distance_mean']:.1f}",
              p["frechet_distance_mean"] < d["frechet_distance_mean"])]
    if seeds >= 2:
        claims.append(claim("progressive growing is 'stable': it varies less from seed to seed",
              f"ProGAN's standard deviation of the Frechet distance over the seeds at "
              f"{t:.0f} s smaller than DCGAN's",
              f"{p['frechet_distance_std']:.1f} against {d['frechet_distance_std']:.1f}",
              p["frechet_distance_std"] < d["frechet_distance_std"]))
    return claims


def _check_options(cfg):
    seeds = cfg.option("seeds", SEEDS_QUICK if cfg.quick else SEEDS)
    minutes = cfg.option("minutes", MINUTES_QUICK if cfg.quick else MINUTES)
    n = cfg.option("samples", SAMPLES_QUICK if cfg.quick else SAMPLES)
    if seeds < 1:
        raise OptionError(f"progan: --set seeds must be at least 1, got {seeds}")
    if not minutes > 0:
        raise OptionError(f"progan: --set minutes must be a positive number, got {minutes}")
    if n < 100:
        raise OptionError(f"progan: --set samples must be at least 100, got {n}")
    if cfg.steps is not None:
        raise OptionError("progan: the runs' lengths are set by --set minutes (a budget), "
                          "not --steps")
    return seeds, minutes, n, cfg.option("loss", "non-saturating")


@experiment("progan", "progressive growing (7x7 -> 14x14 -> 28x28, faded in) beside the plain "
                      "DCGAN at the same wall time, 3 seeds each: IS and Frechet distance "
                      "against seconds", options={"seeds": int, "minutes": float,
                                                  "samples": int,
                                                  "loss": choice(*LOSSES)}, lecture=4)
def run_progan(cfg):
    from .figures import images as figs
    from .figures import progressive as prog_figs
    seeds, minutes, n_samples, loss = _check_options(cfg)
    factor = minutes / MINUTES
    train_x, train_y = data.mnist("train", cfg.data_dir)
    classifier = evaluate.load_classifier(device=cfg.device)
    ref = evaluate.reference(id(classifier), classifier, cfg.data_dir)
    runs, finals = [], {}
    for i in range(seeds):
        seed = cfg.seed + i
        z = fixed_noise(seed, n_samples, cfg.device)
        progan, p_records = train_progan(cfg, seed, factor, loss, train_x)
        dcgan, d_records = train_dcgan(cfg, seed, factor, train_x, train_y)
        for model, records in (("progan", p_records), ("dcgan", d_records)):
            snaps = score_snapshots(model, records, z, classifier, ref["test_stats"], cfg.device)
            runs.append((model, seed, snaps))
            last = snaps[-1]
            print(f"{model} seed {seed}: {last['step']} steps in {last['seconds']:.0f} s, IS "
                  f"{last['inception_score']:.2f}, Frechet distance "
                  f"{last['frechet_distance']:.1f}")
        finals[seed] = progan
    t = min(snaps[-1]["seconds"] for _, _, snaps in runs)      # the common wall time
    summary = {}
    for model in ("progan", "dcgan"):
        per = {key: [at_time(snaps, t, key) for m, _, snaps in runs if m == model]
               for key in ("frechet_distance", "inception_score")}
        summary[model] = {f"{k}_{stat}": float(fn(v)) for k, v in per.items()
                          for stat, fn in (("mean", numpy.mean), ("std", numpy.std))}
        summary[model].update({f"{k}_per_seed": v for k, v in per.items()})
    claims = progan_claims(summary, t, seeds)

    # the figures: the curves, then ProGAN's growth and its fade-in, seed cfg.seed
    p, d = summary["progan"], summary["dcgan"]
    note = (f"at {t:.0f} s, mean over {seeds} seeds: ProGAN FD {p['frechet_distance_mean']:.1f} "
            f"(sd {p['frechet_distance_std']:.1f}), DCGAN FD {d['frechet_distance_mean']:.1f} "
            f"(sd {d['frechet_distance_std']:.1f})")
    prog_figs.score_curves(runs, t, cfg.out / "progan_scores.png",
                           titled("ProGAN and DCGAN at the same wall time", claims), note)
    _draw_growth(cfg, finals[cfg.seed], [s for m, sd, s in runs
                                         if m == "progan" and sd == cfg.seed][0],
                 fixed_noise(cfg.seed, N_SHOWN, cfg.device), figs, claims)
    per_run = {f"{m}-seed{sd}": snaps for m, sd, snaps in runs}
    return {"minutes_per_run": minutes, "seeds": seeds, "samples": n_samples, "loss": loss,
            "batch_size": BATCH, "channels": list(CHANNELS),
            "schedule": progan_schedule(factor).state(), "progan_lr": LR,
            "progan_betas": list(BETAS), "dcgan_steps": scaled(DCGAN_STEPS, factor),
            "compared_at_seconds": t, "summary": summary, "runs": per_run,
            "frechet_distance_floor_train_vs_test": metrics.frechet_distance_from_stats(
                *ref["train_stats"], *ref["test_stats"]),
            "measured_on": measured_on(cfg.device), "claims": claims}


def _draw_growth(cfg, trainer, snaps, z, figs, claims):
    """``progan_growth.png``: the samples at the end of each stage, then the two fade-ins
    drawn by the final G (alpha 0, 0.5, 1); ``progan_training.gif``: the snapshots."""
    G = trainer.G
    final = (G.stage, G.alpha)
    panels = []
    for s in snaps[1:]:
        if s["alpha"] == 1.0:
            kind = "end of its stage"
        else:
            kind = f"fading in, alpha {s['alpha']:.2f}"
        panels.append((f"step {s['step']}: {s['resolution']}x{s['resolution']} ({kind}), "
                       f"FD {s['frechet_distance']:.0f}", None, s))
    records = {r["step"]: r for r in _records_of(trainer)}
    shown = []
    for label, _, s in panels:
        H = pg.ProgressiveGenerator(channels=CHANNELS).to(cfg.device)
        H.load_state_dict(records[s["step"]]["weights"])
        shown.append((label, progan_pixels(H, z, s["resolution"], s["alpha"])))
    for lo, hi in zip(G.stages, G.stages[1:]):
        for a in (0.0, 0.5, 1.0):
            shown.append((f"final G grown to {hi}x{hi} at alpha {a:g}"
                          + (f" (= its {lo}x{lo} image, upsampled)" if a == 0 else ""),
                          progan_pixels(G, z, hi, a)))
    G.grow_to(*final)
    figs.rows(shown, cfg.out / "progan_growth.png",
              titled("ProGAN: growing 7x7 -> 14x14 -> 28x28, each block faded in", claims),
              f"seed {cfg.seed}; the same noise in every row", ncol=N_SHOWN)
    figs.emerging_gif([(label, px) for label, px in shown[:len(panels)]],
                      cfg.out / "progan_training.gif", ncol=N_SHOWN // 2)


def _records_of(trainer):
    return next(cb for cb in trainer.callbacks if isinstance(cb, Recorder)).records

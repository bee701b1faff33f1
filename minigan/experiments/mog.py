"""The mode-collapse lab on mixtures of Gaussians: three experiments.

* ``mog``: the vanilla GAN and minigan's best recipe on the ring of 8
  Gaussians, trained with the same seed and budget, side by side.
* ``mog-collapse``: a vanilla GAN in a setting where it collapses and cycles
  from mode to mode, made visible: scatter plots over training, a modes x steps
  occupancy map, GAN-Lab panels (D over the plane, G's gradient arrows) and a GIF.
* ``mog-table``: every remedy on the ring and the grid over several seeds,
  mean +- standard error, beside PacGAN's published numbers; Markdown and CSV.
  Each run's final 2,500 samples are saved (``samples/*.npy``) and
  ``recompute_table`` rebuilds the table from them alone. The runs are
  independent, so they go to worker processes, one per CPU core (``--jobs``).
"""
import csv
import json
import pathlib
import time

import numpy
from tqdm.auto import tqdm

from . import experiment, workers
from .. import backend
from ..gan import data, metrics, mog, viz2d
from ..tensor import Tensor, no_grad

DATASETS = ("ring", "grid")
SEEDS = 5

# PacGAN (Lin et al. 2018), Table 1: modes, high-quality %, reverse KL (ring, then grid).
PUBLISHED = {
    ("ring", "GAN (PacGAN Table 1)"): (6.3, 0.5, 98.2, 0.45),
    ("ring", "PacGAN4 (PacGAN Table 1)"): (7.8, 0.1, 95.9, 0.07),
    ("grid", "GAN (PacGAN Table 1)"): (17.3, 0.8, 94.8, 0.70),
    ("grid", "PacGAN4 (PacGAN Table 1)"): (24.8, 0.2, 93.6, 0.04),
}


def _sample_file(out, dataset, method, seed):
    return pathlib.Path(out) / "samples" / f"{dataset}__{method}__seed{seed}.npy"


# ------------------------------------------------------------------ table
def table_rows(scores):
    """Aggregate per-run scores into rows.

    ``scores``: list of dicts with dataset, method, seed, modes, high_quality,
    reverse_kl. Returns one dict per (dataset, method), in first-seen order,
    with mean and standard error over the seeds.
    """
    groups = {}
    for s in scores:
        groups.setdefault((s["dataset"], s["method"]), []).append(s)
    rows = []
    for (ds, method), runs in groups.items():
        row = {"dataset": ds, "method": method, "seeds": len(runs)}
        for key, scale in (("modes", 1.0), ("high_quality", 100.0), ("reverse_kl", 1.0)):
            m, se = metrics.mean_stderr([scale * r[key] for r in runs])
            row[key], row[key + "_se"] = m, se
        row["modes_min"] = min(r["modes"] for r in runs)
        row["n_modes"] = runs[0].get("n_modes")
        steps = {r["steps"] for r in runs if r.get("steps") is not None}
        row["steps"] = steps.pop() if len(steps) == 1 else None
        for key in ("seconds", "cpu_seconds"):          # times, over the runs that have them
            times = [r[key] for r in runs if key in r]
            if times:
                row[key] = float(numpy.mean(times))
        rows.append(row)
    return rows


def markdown_table(rows, published=PUBLISHED):
    """The rows (and the published ones) as a Markdown table, dataset by dataset."""
    lines = ["| data | method | seeds | modes (mean +- se) | min modes | high quality % | "
             "reverse KL | steps | CPU s/run |",
             "|---|---|---|---|---|---|---|---|---|"]
    for ds in dict.fromkeys(r["dataset"] for r in rows):
        for r in (r for r in rows if r["dataset"] == ds):
            lines.append(
                f"| {ds} | {r['method']} | {r['seeds']} | {r['modes']:.1f} +- {r['modes_se']:.1f}"
                f" / {r['n_modes']} | {r['modes_min']} | {r['high_quality']:.1f} +- "
                f"{r['high_quality_se']:.1f} | {r['reverse_kl']:.3f} +- {r['reverse_kl_se']:.3f}"
                f" | {r.get('steps') or ''} | {r.get('cpu_seconds', float('nan')):.0f} |")
        for (pds, name), (m, se, hq, kl) in published.items():
            if pds == ds:
                lines.append(f"| {ds} | *{name}* | | {m} +- {se} | | {hq} | {kl} | | |")
    return "\n".join(lines)


def write_table(rows, out):
    """table.csv and table.md in `out`; returns the Markdown text."""
    out = pathlib.Path(out)
    keys = ["dataset", "method", "seeds", "n_modes", "modes", "modes_se", "modes_min",
            "high_quality", "high_quality_se", "reverse_kl", "reverse_kl_se", "steps",
            "seconds", "cpu_seconds"]
    with open(out / "table.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)
        for (ds, name), (m, se, hq, kl) in PUBLISHED.items():
            w.writerow({"dataset": ds, "method": name, "modes": m, "modes_se": se,
                        "high_quality": hq, "reverse_kl": kl})
    md = markdown_table(rows)
    (out / "table.md").write_text(md + "\n")
    return md


def recompute_table(out):
    """Rebuild the table from the saved samples alone (``out/samples/*.npy``).

    The file name carries the dataset, method and seed; the scores are computed
    again with ``metrics.mode_scores``. Returns the rows (see ``table_rows``).
    """
    files = sorted((pathlib.Path(out) / "samples").glob("*__*__seed*.npy"))
    if not files:
        raise FileNotFoundError(f"no samples/*.npy under {out}: run `python -m minigan run "
                                f"mog-table --out {out}` first")
    scores = []
    for path in files:
        ds, method, seed = path.stem.split("__")
        s = metrics.mode_scores(numpy.load(path, allow_pickle=False), data.mixture(ds))
        scores.append(dict(s, dataset=ds, method=method, seed=int(seed[4:])))
    order = {m: i for i, m in enumerate(mog.METHODS)}     # other names (best recipe) last
    scores.sort(key=lambda s: (DATASETS.index(s["dataset"]) if s["dataset"] in DATASETS else 9,
                               order.get(s["method"], 99), s["seed"]))
    return table_rows(scores)


def _one_run(job):
    """Train and score one (dataset, method, seed); save its samples. Runs in a worker."""
    out, ds, m, seed, steps, device = job
    t0, c0 = time.perf_counter(), time.process_time()
    run = mog.train_mog(m, ds, seed=seed, steps=steps, device=device)
    path = _sample_file(out, ds, m, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    numpy.save(path, run.samples.astype(numpy.float32), allow_pickle=False)
    # wall time, and this process's CPU time (what the run costs on an idle core)
    return dict(run.scores, dataset=ds, method=m, seed=seed,
                steps=len(run.trainer.history), seconds=time.perf_counter() - t0,
                cpu_seconds=time.process_time() - c0)


def run_table(out, methods=None, datasets=DATASETS, seeds=range(SEEDS), steps=None,
              device="cpu", progress=True, jobs=None):
    """Train every (dataset, method, seed), save its samples, return the per-run scores.

    ``steps``: None trains each method its own number of steps (``mog.steps_of``).
    ``jobs``: worker processes (``workers.n_workers``: default one per CPU core).
    The runs are seeded and every worker uses one BLAS thread, so the workers
    change the time, not the numbers.
    """
    methods = list(methods or mog.METHODS)
    for m in methods:
        mog.get_method(m)                       # an unknown name fails before any training
    # seed by seed: a table cut short still has every method for the seeds it finished
    jobs_list = [(out, ds, m, s, steps, device) for s in seeds for ds in datasets
                 for m in methods]
    scores = []
    with tqdm(total=len(jobs_list), desc="mog-table runs", unit="run", disable=not progress,
              dynamic_ncols=True) as bar:
        for r in workers.run_all(_one_run, jobs_list,
                                 workers.n_workers(jobs, len(jobs_list), device)):
            scores.append(r)
            bar.set_postfix_str(f"{r['dataset']} {r['method']} seed {r['seed']}")
            bar.update()
    order = {job[1:4]: i for i, job in enumerate(jobs_list)}
    scores.sort(key=lambda r: order[(r["dataset"], r["method"], r["seed"])])
    return scores


# the `mog` figure over training: G's samples after these fractions of the steps
SNAPSHOT_FRACTIONS = (0.01, 0.03, 0.1, 0.3, 1.0)


def fixed_noise_snapshots(mixture, steps, seed, device="cpu", fractions=SNAPSHOT_FRACTIONS):
    """A callback that records G's samples at a few steps, and the list it fills.

    The samples come from one fixed batch of noise drawn with its own NumPy
    generator, so watching the run does not change it: the trainer's random
    stream is untouched (and the same z's can be followed from panel to panel).
    """
    z = numpy.random.default_rng(seed + 7919).standard_normal(
        (metrics.N_EVAL, mog.NOISE_DIM)).astype(numpy.float32)
    z = Tensor(z, device=device)
    at = {max(1, round(f * steps)) for f in fractions}
    snaps = []

    def take(trainer, step):
        if step in at:
            with no_grad():
                x = trainer.G(z).numpy()
            s = metrics.mode_scores(x, mixture)
            snaps.append(mog.Snapshot(step, x, s, numpy.asarray(s["counts"]) / len(x),
                                      viz2d.extent_of(mixture)))
    return mog.Callback(take, at_end=False), snaps


def _mog_one(job):
    """One run of the `mog` figure (in a worker): its final samples and scores, the
    fixed-noise snapshots over training, and its wall time."""
    method, seed, steps, device, progress = job
    ring = data.mixture("ring")
    t0 = time.perf_counter()
    watch, snaps = fixed_noise_snapshots(ring, steps, seed, device)
    run = mog.train_mog(method, ring, seed=seed, steps=steps, device=device, callbacks=[watch],
                        progress=progress)
    return dict(method=method, samples=run.samples, scores=run.scores, snaps=snaps,
                seconds=time.perf_counter() - t0)


@experiment("mog", "mode collapse on a ring of 8 Gaussians: the vanilla GAN beside "
            "minigan's best recipe")
def run_mog(cfg):
    steps = cfg.steps_or(mog.BEST_STEPS, 500)
    ring = data.mixture("ring")
    methods = ("gan", mog.BEST)
    # the two runs train at the same time, in two worker processes (one per core),
    # each with its own progress bar
    jobs = [(m, cfg.seed, steps, cfg.device,
             {"desc": f"{'vanilla GAN' if m == 'gan' else 'best recipe':<12}", "position": i}
             if cfg.progress else False) for i, m in enumerate(methods)]
    done = {r["method"]: r for r in workers.run_all(
        _mog_one, jobs, workers.n_workers(cfg.jobs, len(jobs), cfg.device))}
    panels, rows, result = [], [], {"steps": steps}
    for method in methods:
        r = done[method]
        s = r["scores"]
        label = mog.METHODS[method].summary
        if method == mog.BEST:
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
    backend.manual_seed(cfg.seed)
    real = ring.sample(2000).numpy()
    fig = viz2d.compare_panels(panels, ring, real,
                               title=f"ring of 8 Gaussians (std {ring.std}), {steps} steps, "
                                     f"seed {cfg.seed}")
    viz2d.save(fig, cfg.out / "mog_side_by_side.png")
    viz2d.save(viz2d.scatter_rows(rows, ring, real,
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
COLLAPSE_METHOD = mog.Method(
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


def collapse_run(steps, seed=0, device="cpu", n_snapshots=COLLAPSE_SNAPSHOTS, progress=False):
    """Train the collapsing GAN, snapshotting it `n_snapshots` times; returns
    (trainer, mixture, list of Snapshot)."""
    ring = data.mixture("ring-unrolled")
    schedule = mog.Schedule(steps=steps, batch_size=512, lr=1e-3, final_lr=1e-3,
                            decay_from=1.0)
    every = max(1, steps // n_snapshots)
    snaps = []
    radius = near_radius(ring)

    def take(trainer, step):
        snaps.append(mog.snapshot(trainer, ring, step, device, n=1000, occupancy_radius=radius))
    trainer = mog.make_trainer(COLLAPSE_METHOD, ring, seed, device, schedule,
                               callbacks=[mog.Callback(take, every=every)], progress=progress)
    take(trainer, 0)
    trainer.fit(steps)
    return trainer, ring, snaps


@experiment("mog-collapse", "a vanilla GAN collapsing onto one mode at a time and cycling "
            "around the ring, made visible")
def run_mog_collapse(cfg):
    steps = cfg.steps_or(COLLAPSE_STEPS, COLLAPSE_QUICK_STEPS)
    trainer, ring, snaps = collapse_run(steps, cfg.seed, cfg.device,
                                        COLLAPSE_SNAPSHOTS if not cfg.quick else 8,
                                        cfg.progress)
    backend.manual_seed(cfg.seed + 1)
    real = ring.sample(1000).numpy()
    occ = numpy.stack([s.occupancy for s in snaps], axis=1)          # (K, T)
    changes = metrics.dominant_mode_changes(occ)
    step_list = [s.step for s in snaps]
    title = ("vanilla GAN on the ring (Unrolled-GAN setting): real (black) and generated "
             "(red) samples")
    pick = numpy.unique(numpy.linspace(0, len(snaps) - 1, 7).round().astype(int))
    viz2d.save(viz2d.scatter_row([snaps[i] for i in pick], ring, real, title),
               cfg.out / "collapse_scatter.png")
    radius = near_radius(ring)
    viz2d.save(viz2d.occupancy_map(occ, step_list, changes=changes,
                                   title=f"share of G's samples within {radius:.2f} of each mode",
                                   what="share of samples"),
               cfg.out / "collapse_occupancy.png")
    pick4 = numpy.unique(numpy.linspace(len(snaps) // 3, len(snaps) - 1, 4).round().astype(int))
    viz2d.save(viz2d.gan_lab_row([snaps[i] for i in pick4], ring, real,
                                 "D's output over the plane; arrows: where G's step moves "
                                 "each sample"), cfg.out / "collapse_ganlab.png")
    viz2d.training_gif(snaps, ring, real, cfg.out / "collapse_training.gif",
                       title="vanilla GAN: D(x) over the plane, real (black) and\n"
                             "generated (red) samples, G's step on each (green)")
    modes = [int((s.occupancy >= COVERED_SHARE).sum()) for s in snaps]
    return {"steps": steps, "snapshot_steps": step_list,
            "modes_covered": modes,          # modes holding >= 5% of the samples (near)
            "modes_captured_hq": [s.scores["modes"] for s in snaps],   # PacGAN's count
            "dominant_mode": [int(s.occupancy.argmax()) if s.occupancy.max() > 0 else None
                              for s in snaps],
            "dominant_mode_changes": changes,
            "mean_modes_covered": float(numpy.mean(modes)),
            "final": {k: snaps[-1].scores[k] for k in ("modes", "high_quality", "reverse_kl")}}


@experiment("mog-table", "every remedy for mode collapse on the ring and the grid, "
            "5 seeds each, beside PacGAN's published table")
def run_mog_table(cfg):
    # each method trains its own number of steps unless --steps or --quick: 3,000;
    # WGAN-GP 2,500 and the unrolled GAN 1,000 (their steps cost more); the best recipe
    # 10,000 (mog.steps_of)
    steps = cfg.steps_or(None, 200) if (cfg.steps is not None or cfg.quick) else None
    seeds = range(cfg.seed, cfg.seed + (1 if cfg.quick else SEEDS))
    scores = run_table(cfg.out, seeds=seeds, steps=steps, device=cfg.device,
                       progress=cfg.progress, jobs=cfg.jobs)
    rows = table_rows(scores)
    md = write_table(rows, cfg.out)
    (cfg.out / "runs.json").write_text(json.dumps(scores, indent=1) + "\n")
    print(md)
    return {"steps": steps or "each method's own", "seeds": len(seeds),
            "rows": [{k: r[k] for k in ("dataset", "method", "steps", "modes", "modes_se",
                                        "modes_min", "high_quality", "high_quality_se",
                                        "reverse_kl", "reverse_kl_se", "seconds", "cpu_seconds")}
                     for r in rows]}


# ------------------------------------------------------ side by side (mog)

"""The experiment ``mog-table``: every remedy for mode collapse on the ring and the
grid over several seeds, mean +- standard error, beside PacGAN's published numbers,
as Markdown and CSV.

Each run's final 2,500 samples are saved (``samples/*.npy``) and
``recompute_table`` rebuilds the table from them alone. The runs are
independent, so they go to worker processes, one per CPU core (``--jobs``).
"""
import csv
import json
import pathlib

import numpy
from tqdm.auto import tqdm

from . import experiment, workers, RunClock, RunConfig, REACHED
from . import mog_recipes as recipes
from .claims import claim
from .. import data
from ..eval import metrics

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
    return pathlib.Path(out) / "samples" / f"{run_name(dataset, method, seed)}.npy"


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
    order = {m: i for i, m in enumerate(recipes.METHODS)}     # other names (best recipe) last
    scores.sort(key=lambda s: (DATASETS.index(s["dataset"]) if s["dataset"] in DATASETS else 9,
                               order.get(s["method"], 99), s["seed"]))
    return table_rows(scores)


def run_name(dataset, method, seed):
    """The name of one run of the table (its checkpoint folder and samples file)."""
    return f"{dataset}__{method}__seed{seed}"


def _one_run(job):
    """Train and score one (dataset, method, seed); save its samples. Runs in a worker."""
    cfg, ds, m, seed, steps = job
    out = cfg.out
    clock = RunClock()          # the training's time over every process, if resumed
    run = recipes.train_mog(m, ds, seed=seed, steps=steps, device=cfg.device,
                            resume=cfg.resume, **cfg.trainer_settings(run_name(ds, m, seed)))
    path = _sample_file(out, ds, m, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    numpy.save(path, run.samples.astype(numpy.float32), allow_pickle=False)
    # wall time, and CPU time (what the run costs on an idle core)
    seconds, cpu_seconds = clock.seconds(run.trainer)
    return dict(run.scores, dataset=ds, method=m, seed=seed,
                steps=len(run.trainer.history), seconds=seconds, cpu_seconds=cpu_seconds)


def run_table(out, methods=None, datasets=DATASETS, seeds=range(SEEDS), steps=None,
              device="cpu", progress=True, jobs=None, resume=False):
    """Train every (dataset, method, seed), save its samples, return the per-run scores.

    ``steps``: None trains each method its own number of steps (``recipes.steps_of``).
    ``jobs``: worker processes (``workers.n_workers``: default one per CPU core).
    The runs are seeded and every worker uses one BLAS thread, so the workers
    change the time, not the numbers. Each run keeps its checkpoint under
    ``out/checkpoints/``; ``resume`` continues the unfinished ones (a finished
    one just loads). A Ctrl-C stops them all and raises ``Interrupted``.
    """
    cfg = RunConfig("mog-table", out=pathlib.Path(out), device=device, resume=resume)
    methods = list(methods or recipes.METHODS)
    for m in methods:
        recipes.get_method(m)                       # an unknown name fails before any training
    # seed by seed: a table cut short still has every method for the seeds it finished
    jobs_list = [(cfg, ds, m, s, steps) for s in seeds for ds in datasets for m in methods]
    for job in jobs_list:
        REACHED.setdefault(run_name(*job[1:4]), 0)     # a run that never starts reached 0
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


def table_claims(rows, best=recipes.BEST):
    """PacGAN's question for minigan's best recipe, decided from the table's rows."""
    ours = [r for r in rows if r["method"] == best]
    return [claim(
        "minigan's best recipe covers every mode in every seed, on the ring and on the grid",
        "its fewest modes over the seeds equal the mixture's modes on each data set",
        ", ".join(f"{r['dataset']}: fewest {r['modes_min']} of {r['n_modes']}" for r in ours),
        bool(ours) and all(r["modes_min"] == r["n_modes"] for r in ours))]


@experiment("mog-table", "every remedy for mode collapse on the ring and the grid, "
            "5 seeds each, beside PacGAN's published table", lecture=3)
def run_mog_table(cfg):
    # each method trains its own number of steps unless --steps or --quick: 3,000;
    # WGAN-GP 2,500 and the unrolled GAN 1,000 (their steps cost more); the best recipe
    # 10,000 (recipes.steps_of)
    steps = cfg.steps_or(None, 200) if (cfg.steps is not None or cfg.quick) else None
    seeds = range(cfg.seed, cfg.seed + (1 if cfg.quick else SEEDS))
    scores = run_table(cfg.out, seeds=seeds, steps=steps, device=cfg.device,
                       progress=cfg.progress, jobs=cfg.jobs, resume=cfg.resume)
    rows = table_rows(scores)
    md = write_table(rows, cfg.out)
    (cfg.out / "runs.json").write_text(json.dumps(scores, indent=1) + "\n")
    print(md)
    return {"claims": table_claims(rows), "steps": steps or "each method's own",
            "seeds": len(seeds),
            "rows": [{k: r[k] for k in ("dataset", "method", "steps", "modes", "modes_se",
                                        "modes_min", "high_quality", "high_quality_se",
                                        "reverse_kl", "reverse_kl_se", "seconds", "cpu_seconds")}
                     for r in rows]}

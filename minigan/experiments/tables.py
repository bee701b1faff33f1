"""The results tables of docs/, written from the metrics files kept beside them.

A page in ``docs/`` marks each table that is generated, not typed::

    <!-- table: quick-runs -->
    | experiment | ... |
    <!-- end table -->

``python -m minigan.experiments.tables`` rewrites everything between such markers
(in ``docs/`` and ``benchmarks/README.md``) from the JSON files under ``docs/metrics/`` (a run's ``metrics.json``, copied
there as it is). ``--check`` writes nothing: it exits with 1 and names the page
and the table wherever a table differs from what its files give, so a number in
a generated table is never typed by hand. ``--collect RUNS --into quick`` copies
``RUNS/NAME/metrics.json`` of every finished run into ``docs/metrics/quick/``.

The tables:

- ``quick-runs``: every experiment's ``--quick`` run, one row each, with its key
  numbers and its wall time, from ``docs/metrics/quick/NAME.json``;
- ``dcgan-seeds``, ``dcgan-plus-stages``: the image GANs' full runs, from
  ``docs/metrics/full/RUN-seedS.json``;
- ``prdc``: precision, recall, density and coverage of every image GAN's full run
  in ``docs/metrics/full/RUN-seedS.json`` that holds them, beside real data's;
- ``mog-table``, ``mog-table-seeds``: the full ``mog-table`` run, from
  ``docs/metrics/full/mog-table.json`` and its ``runs.json``
  (``mog-table-runs.json``);
- ``pix2pix``, ``cyclegan``, ``stargan``: the translation experiments' full runs,
  from ``docs/metrics/full/NAME.json`` (each says on what machine and when);
- ``classifier-score``, ``classifier-score-augmentation``: the lecture's second
  measure, from ``docs/metrics/full/classifier-score.json``;
- ``recorded/NAME``: a table measured before this generator existed, whose runs
  are gone: ``docs/metrics/recorded/NAME.json`` keeps its cells as they were
  printed then, with where and when, and the table says it is such a record.

What a row shows is written once, below, as a template per experiment:
``{path:format}`` takes the value at ``path`` in the metrics file (keys joined
by ``/``; a list is indexed by a number, or by ``[key=value,...]`` for the
element whose fields match) and formats it as ``format`` (Python's format
mini-language). No matplotlib here: this is lab bookkeeping, not a figure.
"""
import argparse
import json
import pathlib
import re
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

START = re.compile(r"<!-- table: (?P<name>[\w/-]+) -->\n")
END = "<!-- end table -->"


class TableError(ValueError):
    """A metrics file lacks what a table needs, or a page's markers are broken."""


# --- reading a value out of a metrics file ---------------------------------

def lookup(metrics, path, source="metrics"):
    """The value at `path` ("a/b/0", "rows[dataset=ring,method=gan]/modes")."""
    value = metrics
    for part in path.split("/"):
        m = re.fullmatch(r"(?P<key>[^\[\]]*)\[(?P<sel>[^\[\]]+)\]", part)
        key, sel = (m["key"], m["sel"]) if m else (part, None)
        if key:
            if isinstance(value, list) and key.isdigit() and int(key) < len(value):
                value = value[int(key)]
            elif isinstance(value, dict) and key in value:
                value = value[key]
            else:
                raise TableError(f"{source}: no {path!r} (missing {key!r})")
        if sel is not None:
            want = dict(pair.split("=", 1) for pair in sel.split(","))
            hits = [v for v in value if isinstance(v, dict)
                    and all(str(v.get(k)) == w for k, w in want.items())] \
                if isinstance(value, list) else []
            if len(hits) != 1:
                raise TableError(f"{source}: {len(hits)} elements match [{sel}] in {path!r}")
            value = hits[0]
    return value


FIELD = re.compile(r"\{(?P<path>[^{}:]+)(?::(?P<spec>[^{}]*))?\}")


def fill(template, metrics, source="metrics"):
    """`template` with each {path:format} replaced by its formatted value."""
    def one(m):
        value = lookup(metrics, m["path"], source)
        if value is None:
            return "none"
        if isinstance(value, list):
            return ", ".join(format(v, m["spec"] or "") for v in value)
        return format(value, m["spec"] or "")
    return FIELD.sub(one, template)


def cell(text):
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def wall_time(seconds):
    return f"{seconds / 60:.1f} min" if seconds >= 600 else f"{seconds:.1f} s"


# --- the quick-runs table --------------------------------------------------

J2 = ("; judge 2: IS {judge2_inception_score:.2f}, Fréchet distance "
      "{judge2_frechet_distance:.1f}")

# experiment -> (where its step count is, or None; its key numbers), in the
# order `python -m minigan list` gives.
QUICK_RUNS = {
    "bilinear": (
        "steps",
        "simultaneous GDA spirals out by {simultaneous_rate_measured:.5f} a step "
        "(theory {simultaneous_rate_theory:.5f}); final distance: simultaneous "
        "{simultaneous_final_distance:.2f}, alternating {alternating_final_distance:.2f}, "
        "optimistic {optimistic_final_distance:.2f}, extragradient "
        "{extragradient_final_distance:.2f}, consensus {consensus_final_distance:.1e}, "
        "SGA {sga_final_distance:.1e}"),
    "dirac-gan": (
        "steps",
        "distance from the equilibrium, from {start_distance:.2f}: simultaneous "
        "{method_simultaneous_final_distance:.2f}, optimistic "
        "{method_optimistic_final_distance:.2f}, consensus "
        "{method_consensus_final_distance:.1e}, SGA {method_sga_final_distance:.1e}; "
        "under GDA: WGAN {gda_wgan_final_distance:.1f}, WGAN-GP "
        "{gda_wgan-gp_final_distance:.2f}, instance noise "
        "{gda_instance_noise_final_distance:.2f}, R1 {gda_R1_final_distance:.1e}"),
    "optimal-discriminator": (
        "d_steps",
        "max |D - D*| {max_abs_D_minus_Dstar:.3f}; V {value_V:.4f} against "
        "-log 4 + 2 JSD = {minus_log4_plus_2jsd:.4f}; label smoothing "
        "{label_smoothing_alpha:g}: max |D - α D*| "
        "{label_smoothing_max_abs_D_minus_alpha_Dstar:.3f}"),
    "gan-1d": (
        "steps",
        "p_g from {p_g_start} to {p_g_end} (p_data {p_data}); JSD {jsd_start:.3f} → "
        "{jsd_end:.1e}; mean |D - 1/2| on the data {mean_abs_D_minus_half_on_data:.3f}"),
    "vanishing-gradients": (
        "steps",
        "gradient at D(G(z)) = 0.01: saturating {grad_saturating_at_D_0.01:.3f}, "
        "non-saturating {grad_non_saturating_at_D_0.01:.2f}; G's mean ends at "
        "{saturating_g_mean_end:.2f} (saturating) and {non_saturating_g_mean_end:.2f} "
        "(non-saturating), data at {data_mean:g}"),
    "mog": (
        "steps",
        "vanilla GAN: modes {gan/modes}, high quality {gan/high_quality:.1%}, reverse KL "
        "{gan/reverse_kl:.3f}; best recipe: modes {pacgan2-drs/modes}, high quality "
        "{pacgan2-drs/high_quality:.1%}, reverse KL {pacgan2-drs/reverse_kl:.3f}"),
    "mog-collapse": (
        "steps",
        "the dominant mode changes {dominant_mode_changes} times; {mean_modes_covered:.2f} "
        "modes covered a snapshot on average; at the end modes {final/modes}, reverse KL "
        "{final/reverse_kl:.3f}"),
    "mog-table": (
        "steps",
        "seeds {seeds}; modes on the ring: vanilla GAN {rows[dataset=ring,method=gan]/modes:g}, "
        "best recipe {rows[dataset=ring,method=pacgan2-drs]/modes:g} "
        "({rows[dataset=ring,method=pacgan2-drs]/high_quality:.1f}% high quality); "
        "on the grid: vanilla GAN {rows[dataset=grid,method=gan]/modes:g}, best recipe "
        "{rows[dataset=grid,method=pacgan2-drs]/modes:g} "
        "({rows[dataset=grid,method=pacgan2-drs]/high_quality:.1f}%)"),
    "mnist-mlp": (
        "steps",
        "IS {inception_score:.2f} ± {inception_score_std:.2f}, Fréchet distance "
        "{frechet_distance:.1f}" + J2),
    "dcgan": (
        "steps",
        "IS {inception_score:.2f} ± {inception_score_std:.2f}, Fréchet distance "
        "{frechet_distance:.1f}" + J2),
    "dcgan-plus": (
        "steps",
        "IS {inception_score:.2f} ± {inception_score_std:.2f}, Fréchet distance "
        "{frechet_distance:.1f} (G's own weights: {inception_score_own_weights:.2f}, "
        "{frechet_distance_own_weights:.1f})" + J2),
    "cgan": (
        "steps",
        "IS {inception_score:.2f} ± {inception_score_std:.2f}, Fréchet distance "
        "{frechet_distance:.1f}, class accuracy {class_accuracy:.1%}" + J2),
    "dcgan-clusters": (
        "steps",
        "IS {inception_score:.2f} ± {inception_score_std:.2f}, Fréchet distance "
        "{frechet_distance:.1f} (G's own weights: {inception_score_own_weights:.2f}, "
        "{frechet_distance_own_weights:.1f}); {n_clusters} clusters, "
        "{cluster_purity:.1%} pure" + J2),
    "mnist-classifier": (
        "steps",
        "epochs {epochs}: test accuracy {test_accuracy:.2%}; real test images' IS "
        "{inception_score_real_test:.2f}"),
    "convt-matrix": (
        None,
        "exact with integers: {all_exact_with_integers}; largest difference with floats "
        "{largest_float_difference:.1e}"),
    "bn-correlation": (
        None,
        "one sample moves by up to "
        "{variants/batch norm (batch statistics)/max_change_of_one_sample:.2f} with its "
        "batch mates under batch norm, "
        "{variants/virtual batch norm/max_change_of_one_sample:.1e} under virtual batch "
        "norm; intra-batch correlation "
        "{variants/batch norm (batch statistics)/intra_batch_correlation:.3f} against "
        "{variants/virtual batch norm/intra_batch_correlation:.3f}; G: {model}"),
    "invert": (
        "descent_steps",
        "error on {n_images} test digits: descent "
        "{methods/descent from random z/mse_mean:.4f}, encoder "
        "{methods/encoder/mse_mean:.4f}, encoder then descent "
        "{methods/encoder, then descent/mse_mean:.4f}; G: {model}"),
    "latent-walk": (
        None,
        "{arithmetic/concept}: classifier says {arithmetic/classifier_says}; ink "
        "{arithmetic/ink_result:.3f} against the thin ones' "
        "{arithmetic/ink_thin_target:.3f}; G: {model}"),
    "autoencoder": (
        "autoencoder/steps",
        "test MSE {autoencoder/test_mse:.4f} against the mean image's "
        "{autoencoder/mean_image_mse:.3f}; {classifier/labels} labels: from scratch "
        "{classifier/variants/from scratch/test_accuracy_mean:.1%}, fine-tuned "
        "{classifier/variants/encoder fine-tuned/test_accuracy_mean:.1%}, frozen "
        "{classifier/variants/encoder frozen/test_accuracy_mean:.1%}"),
    "pix2pix": (
        "steps",
        "Fréchet distance: L1 only {rows/L1 only/frechet_distance:.1f}, L1 + cGAN "
        "{rows/L1 + cGAN/frechet_distance:.1f}; L1 + cGAN's label accuracy "
        "{rows/L1 + cGAN/label_accuracy:.1%}"),
    "cyclegan": (
        "steps",
        "labels kept plain → thick: CycleGAN {rows/CycleGAN/labels_kept_a_to_b:.1%}, without "
        "the cycle term {rows/CycleGAN, no cycle term/labels_kept_a_to_b:.1%}, DiscoGAN "
        "{rows/DiscoGAN/labels_kept_a_to_b:.1%}; handwritten → printed "
        "{rows/CycleGAN, handwritten <-> printed/labels_kept_a_to_b:.1%}"),
    "stargan": (
        "steps",
        "mean over pairs: read as the target style {target_accuracy_mean:.1%}, nearest the "
        "target's true transform {nearest_true_style_mean:.1%}, digit kept "
        "{labels_kept_mean:.1%}"),
    "progan": (
        None,
        "at {compared_at_seconds:.0f} s of training: Fréchet distance ProGAN "
        "{summary/progan/frechet_distance_mean:.1f}, DCGAN "
        "{summary/dcgan/frechet_distance_mean:.1f}"),
    "stackgan": (
        "steps",
        "Stage II, seen sentences: digit {seen/stage2/digit_accuracy:.1%}, thickness "
        "{seen/stage2/thickness_agreement:.1%}, slant {seen/stage2/slant_agreement:.1%}; "
        "held out: digit {held_out_sentences/stage2/digit_accuracy:.1%}; Fréchet distance "
        "Stage I (upsampled) {frechet_distance/stage1_upsampled:.1f}, Stage II "
        "{frechet_distance/stage2:.1f}"),
    "simgan": (
        "steps",
        "MNIST test accuracy of a classifier trained on: refined {rows/SimGAN/test_accuracy_mean:.1%}, "
        "raw synthetic {rows/raw synthetic/test_accuracy_mean:.1%}, real "
        "{rows/real MNIST/test_accuracy_mean:.1%}; label read without self-regularization "
        "{rows/SimGAN, no self-regularization/label_accuracy_mean:.1%} (with: "
        "{rows/SimGAN/label_accuracy_mean:.1%})"),
    "stacked-mnist": (
        "steps/dcgan",
        "modes of 1,000 (KL to uniform): DCGAN {rows/dcgan/modes_mean:.0f} "
        "({rows/dcgan/kl_mean:.2f}), PacDCGAN2 {rows/pacdcgan2/modes_mean:.0f} "
        "({rows/pacdcgan2/kl_mean:.2f}), unrolled {rows/unrolled/modes_mean:.0f} "
        "({rows/unrolled/kl_mean:.2f}), of {samples:,} samples"),
    "classifier-score": (
        "classifier_steps",
        "MNIST test accuracy of a classifier trained only on generated digits: mnist-mlp "
        "{generated_only/mnist-mlp/mean:.1%}, dcgan {generated_only/dcgan/mean:.1%}, cgan "
        "{generated_only/cgan/mean:.1%}; on 1% of the real digits {real_only/1%/mean:.1%} "
        "alone, {real_plus_generated/equal/1%/mean:.1%} with the cgan's (equal share); on "
        "all {real_only/100%/mean:.1%} and {real_plus_generated/equal/100%/mean:.1%}"),
}


def verdicts(claims):
    """'2 of 2 held', or which failed, for a run's recorded claims ('' for none)."""
    if not claims:
        return ""
    failed = [c["claim"] for c in claims if not c["held"]]
    text = f"{len(claims) - len(failed)} of {len(claims)} held"
    return text + "".join(f"; FAILED: {c}" for c in failed)


def read_metrics(folder):
    """{experiment: metrics} for every NAME.json in `folder`."""
    out = {}
    for path in sorted(pathlib.Path(folder).glob("*.json")):
        with open(path) as f:
            out[path.stem] = json.load(f)
    return out


def quick_runs(metrics_dir):
    folder = pathlib.Path(metrics_dir) / "quick"
    runs = read_metrics(folder)
    unknown = sorted(set(runs) - set(QUICK_RUNS))
    if unknown:
        raise TableError(f"{folder}: no row written for {', '.join(unknown)} in "
                         f"minigan/experiments/tables.py's QUICK_RUNS")
    rows = []
    for name, (steps, template) in QUICK_RUNS.items():
        if name not in runs:
            continue
        m, source = runs[name], f"{folder / name}.json"
        if not lookup(m, "config/quick", source):
            raise TableError(f"{source}: not a --quick run (config.quick is false)")
        numbers = fill(template, m, source)
        if m.get("interrupted"):
            numbers += " (interrupted)"
        rows.append((f"`{name}`", "" if steps is None else f"{lookup(m, steps, source):,}",
                     numbers, verdicts(m.get("claims")),
                     wall_time(lookup(m, "wall_time_s", source))))
    text = markdown_table(["experiment", "steps", "key numbers", "claims", "wall time"], rows)
    missing = [name for name in QUICK_RUNS if name not in runs]
    if missing:
        text += "\nNo metrics file yet for " + ", ".join(f"`{n}`" for n in missing) + ".\n"
    return text


# --- the image GANs' full runs ---------------------------------------------

def _spread(values, fmt):
    """'mean (min-max)' of a list of numbers."""
    return (f"{format(sum(values) / len(values), fmt)} ({format(min(values), fmt)}-"
            f"{format(max(values), fmt)})")


def dcgan_seeds(metrics_dir, name="dcgan"):
    """One row per seed of ``docs/metrics/full/NAME-seedS.json``, then the mean and
    the range over the seeds: both judges' Inception Score and Frechet distance
    of every sample, and the training time."""
    folder = pathlib.Path(metrics_dir) / "full"
    runs = {int(p.stem.rsplit("seed", 1)[1]): json.loads(p.read_text())
            for p in sorted(folder.glob(f"{name}-seed*.json"))}
    if not runs:
        raise TableError(f"{folder}: no {name}-seedS.json")
    keys = ("inception_score", "frechet_distance", "judge2_inception_score",
            "judge2_frechet_distance")
    rows, columns = [], {k: [] for k in keys}
    for seed, m in sorted(runs.items()):
        source = f"{folder / name}-seed{seed}.json"
        values = [lookup(m, k, source) for k in keys]
        for k, v in zip(keys, values):
            columns[k].append(v)
        rows.append((str(seed), f"{lookup(m, 'steps', source):,}",
                     f"{values[0]:.2f} ± {lookup(m, 'inception_score_std', source):.2f}",
                     f"{values[1]:.1f}", f"{values[2]:.2f}", f"{values[3]:.1f}",
                     f"{lookup(m, 'train_seconds', source) / 60:.1f} min"))
    if len(runs) > 1:
        rows.append((f"mean (range), {len(runs)} seeds", "",
                     _spread(columns[keys[0]], ".2f"), _spread(columns[keys[1]], ".1f"),
                     _spread(columns[keys[2]], ".2f"), _spread(columns[keys[3]], ".1f"), ""))
    return markdown_table(["seed", "steps", "IS (judge 1)", "Fréchet distance (judge 1)",
                           "IS (judge 2)", "Fréchet distance (judge 2)", "training"], rows)


def dcgan_plus_stages(metrics_dir):
    """Each stage of ``dcgan-plus`` (``docs/metrics/full/dcgan-plus-seedS.json``,
    its ``improvements``), both judges' numbers, one block per seed."""
    folder = pathlib.Path(metrics_dir) / "full"
    rows = []
    paths = sorted(folder.glob("dcgan-plus-seed*.json"))
    if not paths:
        raise TableError(f"{folder}: no dcgan-plus-seedS.json")
    for path in paths:
        m = json.loads(path.read_text())
        seed = path.stem.rsplit("seed", 1)[1]
        for stage in lookup(m, "improvements", str(path)):
            rows.append((seed, stage["stage"], stage["samples"],
                         f"{stage['inception_score']:.2f}", f"{stage['frechet_distance']:.1f}",
                         f"{stage['judge2_inception_score']:.2f}",
                         f"{stage['judge2_frechet_distance']:.1f}"))
    return markdown_table(["seed", "stage", "samples scored", "IS (judge 1)",
                           "Fréchet distance (judge 1)", "IS (judge 2)",
                           "Fréchet distance (judge 2)"], rows)


def prdc_table(metrics_dir):
    """Precision, recall, density and coverage of every image GAN's full run that
    has them (``docs/metrics/full/RUN-seedS.json`` holding ``precision``, from the
    run itself or ``python -m minigan.experiments.rescore``), one row per file, then
    real training images against the same test images (one row per sample count)."""
    folder = pathlib.Path(metrics_dir) / "full"
    keys = ("precision", "recall", "density", "coverage")
    runs = [(p.stem, json.loads(p.read_text())) for p in sorted(folder.glob("*-seed*.json"))]
    runs = [(stem, m) for stem, m in runs if isinstance(m, dict) and "precision" in m]
    if not runs:
        raise TableError(f"{folder}: no RUN-seedS.json with precision and recall (rescore "
                         f"the runs: python -m minigan.experiments.rescore RUN...)")
    rows, reals = [], {}
    for stem, m in runs:
        source = f"{folder / stem}.json"
        name, seed = stem.rsplit("-seed", 1)
        values = [lookup(m, k, source) for k in keys]
        real = tuple(lookup(m, f"{k}_real_train_vs_test", source) for k in keys)
        n = lookup(m, "n_samples", source)
        reals.setdefault((n, real), None)
        rows.append((f"`{name}`", seed, f"{n:,}", *(f"{v:.3f}" for v in values),
                     "rescored" if m.get("manifold_rescored") else "the run"))
    for n, real in reals:
        rows.append((f"*real: {n:,} training images*", "", f"{n:,}",
                     *(f"*{v:.3f}*" for v in real), ""))
    return markdown_table(["run", "seed", "samples", "precision", "recall", "density",
                           "coverage", "scored by"], rows)


# --- the mode-collapse table -------------------------------------------------

def _mog_table(metrics_dir):
    path = pathlib.Path(metrics_dir) / "full" / "mog-table.json"
    if not path.exists():
        raise TableError(f"{path}: missing (python -m minigan run mog-table, then --collect)")
    return json.loads(path.read_text()), str(path)


def mog_table(metrics_dir):
    """Every remedy, mean ± standard error over the seeds, from
    ``docs/metrics/full/mog-table.json`` (the full ``mog-table`` run)."""
    from .mog_table import PUBLISHED
    from .mog_recipes import METHODS
    m, source = _mog_table(metrics_dir)
    rows = []
    for ds in dict.fromkeys(r["dataset"] for r in lookup(m, "rows", source)):
        for r in (r for r in m["rows"] if r["dataset"] == ds):
            rows.append((ds, f"`{r['method']}`: {METHODS[r['method']].summary}",
                         "" if r["steps"] is None else f"{r['steps']:,}",
                         f"{r['modes']:.1f} ± {r['modes_se']:.1f} (fewest {r['modes_min']:g})",
                         f"{r['high_quality']:.1f} ± {r['high_quality_se']:.1f}",
                         f"{r['reverse_kl']:.3f} ± {r['reverse_kl_se']:.3f}",
                         f"{r['cpu_seconds']:.0f}"))
        for (pds, name), (modes, se, hq, kl) in PUBLISHED.items():
            if pds == ds:
                rows.append((ds, f"*{name}, published*", "", f"*{modes} ± {se}*", f"*{hq}*",
                             f"*{kl}*", ""))
    return markdown_table(["data", "method", "steps", "modes", "high quality %", "reverse KL",
                           "CPU s/run"], rows)


def mog_table_seeds(metrics_dir):
    """The best recipe seed by seed, and the same G before rejection sampling, from
    ``docs/metrics/full/mog-table-runs.json`` (the run's ``runs.json``)."""
    path = pathlib.Path(metrics_dir) / "full" / "mog-table-runs.json"
    if not path.exists():
        raise TableError(f"{path}: missing (copy the mog-table run's runs.json there)")
    runs = json.loads(path.read_text())
    rows = []
    for ds in dict.fromkeys(r["dataset"] for r in runs):
        for method in ("pacgan2-drs", "pacgan2-rescaled"):
            mine = sorted((r for r in runs if r["dataset"] == ds and r["method"] == method),
                          key=lambda r: r["seed"])
            if not mine:
                raise TableError(f"{path}: no {method} runs on the {ds}")
            rows.append((ds, f"`{method}`", ", ".join(str(r["seed"]) for r in mine),
                         ", ".join(f"{r['modes']:g}" for r in mine),
                         ", ".join(f"{100 * r['high_quality']:.1f}" for r in mine),
                         ", ".join(f"{r['reverse_kl']:.3f}" for r in mine),
                         ", ".join(f"{r['cpu_seconds']:.0f}" for r in mine)))
    return markdown_table(["data", "method", "seeds", "modes", "high quality %", "reverse KL",
                           "CPU s"], rows)


# --- the translation experiments' full runs --------------------------------

def _full_run(metrics_dir, name):
    path = pathlib.Path(metrics_dir) / "full" / f"{name}.json"
    if not path.exists():
        raise TableError(f"{path}: missing (python -m minigan run {name}, then copy its "
                         f"metrics.json there)")
    return json.loads(path.read_text()), str(path)


def _on(m, source):
    on = lookup(m, "measured_on", source)
    threads = f", {on['threads']} thread{'s' * (on['threads'] != 1)}" if "threads" in on else ""
    return f"{on['cpu']} ({on['cores']} cores{threads}; device {on['device']}), {on['date']}"


def _measured(m, source):
    """'Measured on CPU (N cores), DATE; S steps of batch B.' from a run's metrics."""
    return (f"*Measured on {_on(m, source)}; "
            f"{lookup(m, 'steps', source):,} steps of batch {lookup(m, 'batch_size', source)}, "
            f"{lookup(m, 'test_images', source):,} test images scored; wall time "
            f"{wall_time(lookup(m, 'wall_time_s', source))}.*\n\n")


def pix2pix_table(metrics_dir):
    """The four rows of ``docs/metrics/full/pix2pix.json``, and real test digits."""
    m, source = _full_run(metrics_dir, "pix2pix")
    rows = [(row, f"{r['l1_to_target']:.4f}", f"{r['label_accuracy']:.1%}",
             f"{r['frechet_distance']:.2f}", f"{r['frechet_distance_judge2']:.3f}",
             wall_time(r["train_seconds"]))
            for row, r in lookup(m, "rows", source).items()]
    real = lookup(m, "real_test_digits", source)
    rows.append(("*the true test digits*", "0", f"{real['label_accuracy']:.1%}", "", "", ""))
    rows.append(("*10,000 training digits (the floor)*", "", "",
                 f"{lookup(m, 'frechet_distance_floor_train_vs_test', source):.2f}",
                 f"{lookup(m, 'frechet_distance_floor_judge2', source):.3f}", ""))
    return _measured(m, source) + markdown_table(
        ["generator's loss", "L1 to the true digit", "label accuracy", "Fréchet distance",
         "Fréchet distance (judge 2)", "training"], rows)


def cyclegan_table(metrics_dir):
    """Every row of ``docs/metrics/full/cyclegan.json``."""
    m, source = _full_run(metrics_dir, "cyclegan")
    rows = []
    for row, r in lookup(m, "rows", source).items():
        truth = ("" if "l1_to_true_transform" not in r else
                 f"{r['l1_to_true_transform']:.4f} (unchanged: {r['l1_identity_baseline']:.4f})")
        rows.append((row, f"{r['labels_kept_a_to_b']:.1%}", f"{r['labels_kept_b_to_a']:.1%}",
                     truth, f"{r['cycle_error_a']:.4f}", wall_time(r["train_seconds"])))
    return _measured(m, source) + markdown_table(
        ["model", "labels kept A → B", "labels kept B → A", "L1 to the true transform",
         "cycle error, mean abs. F(G(a)) − a", "training"], rows)


def stargan_table(metrics_dir):
    """Every (source, target) pair of ``docs/metrics/full/stargan.json``, and the mean."""
    m, source = _full_run(metrics_dir, "stargan")
    rows = [(pair.replace("->", " → "), f"{p['target_accuracy']:.1%}",
             f"{p['nearest_true_style']:.1%}",
             f"{p['labels_kept']:.1%}", f"{p['labels_kept_judge2']:.1%}",
             f"{p['l1_to_true_transform']:.4f} (input: {p['l1_input_baseline']:.4f})")
            for pair, p in lookup(m, "pairs", source).items()]
    rows.append(("**mean**", f"{lookup(m, 'target_accuracy_mean', source):.1%}",
                 f"{lookup(m, 'nearest_true_style_mean', source):.1%}",
                 f"{lookup(m, 'labels_kept_mean', source):.1%}",
                 f"{lookup(m, 'labels_kept_judge2_mean', source):.1%}",
                 f"{lookup(m, 'l1_to_true_transform_mean', source):.4f}"))
    note = (f"One generator of {lookup(m, 'generator_parameters', source):,} parameters; "
            f"pairwise CycleGANs would need {lookup(m, 'pairwise_cyclegan_generators', source)} "
            f"generators, {lookup(m, 'pairwise_cyclegan_parameters', source):,} parameters. "
            f"The domain classifier reads the style of "
            f"{lookup(m, 'domain_classifier_test_accuracy', source):.1%} of the styled test "
            f"digits.\n\n")
    return _measured(m, source) + note + markdown_table(
        ["source → target", "read as the target style",
         "nearest true transform is the target's", "digit kept (judge 1)",
         "digit kept (judge 2)", "L1 to the true transform"], rows)


def progan_table(metrics_dir):
    """ProGAN beside DCGAN at the common wall time, ``docs/metrics/full/progan.json``."""
    m, source = _full_run(metrics_dir, "progan")
    t = lookup(m, "compared_at_seconds", source)
    rows = []
    for model, name in (("progan", "ProGAN, 7 → 14 → 28"), ("dcgan", "DCGAN (the plain one)")):
        sm = lookup(m, f"summary/{model}", source)
        runs = [snaps for key, snaps in lookup(m, "runs", source).items()
                if key.startswith(model + "-")]
        rows.append((name, _spread(sm["frechet_distance_per_seed"], ".1f"),
                     f"{sm['frechet_distance_std']:.1f}",
                     _spread(sm["inception_score_per_seed"], ".2f"),
                     _spread([r[-1]["frechet_distance"] for r in runs], ".1f"),
                     _spread([r[-1]["step"] for r in runs], ".0f")))
    return (f"*Measured on {_on(m, source)}; {lookup(m, 'seeds', source)} seeds, "
            f"step counts set for about {lookup(m, 'minutes_per_run', source)} minutes a run, "
            f"{lookup(m, 'samples', source):,} samples scored (all of them), "
            f"{lookup(m, 'loss', source)} loss; wall time "
            f"{wall_time(lookup(m, 'wall_time_s', source))}.*\n\n" + markdown_table(
                ["model", f"Fréchet distance at {t:.0f} s, mean (min-max)",
                 "its standard deviation over seeds", f"IS at {t:.0f} s",
                 "Fréchet distance at the end of its run", "steps in its run"], rows))


def stackgan_table(metrics_dir):
    """Each stage on the sentences seen in training and on those held out, with the
    Frechet distances, from ``docs/metrics/full/stackgan.json``."""
    m, source = _full_run(metrics_dir, "stackgan")
    fd = lookup(m, "frechet_distance", source)
    rows = []
    for key, stage in (("stage1_upsampled", "Stage I, 14 × 14 (upsampled)"),
                       ("stage2", "Stage II, 28 × 28")):
        for part, name in (("seen", "seen"), ("held_out_sentences", "held out")):
            r = lookup(m, f"{part}/{key}", source)
            rows.append((stage, name, f"{r['digit_accuracy']:.1%}",
                         f"{r['thickness_agreement']:.1%}", f"{r['slant_agreement']:.1%}",
                         f"{r['all_three']:.1%}", f"{fd[key]:.1f}" if part == "seen" else ""))
    rows.append(("*real digits down to 14 × 14 and back*", "", "", "", "", "",
                 f"{fd['real_train_down_and_up']:.1f}"))
    rows.append(("*10,000 real training digits (the floor)*", "", "", "", "", "",
                 f"{fd['real_train_floor']:.1f}"))
    return (f"*Measured on {_on(m, source)}; {lookup(m, 'stage1_steps', source):,} Stage I "
            f"and {lookup(m, 'stage2_steps', source):,} Stage II steps of batch "
            f"{lookup(m, 'batch_size', source)}, {lookup(m, 'samples_per_sentence', source)} "
            f"drawings of each of the 90 sentences; wall time "
            f"{wall_time(lookup(m, 'wall_time_s', source))}.*\n\n" + markdown_table(
                ["stage", "sentences", "the digit named", "thickness named (chance 33%)",
                 "slant named (chance 33%)", "all three", "Fréchet distance"], rows))


def simgan_table(metrics_dir):
    """Every row of ``docs/metrics/full/simgan.json``, mean over the seeds."""
    m, source = _full_run(metrics_dir, "simgan")
    rows = []
    for row, r in lookup(m, "rows", source).items():
        rows.append((row, _spread(r["test_accuracy"], ".1%"), _spread(r["label_accuracy"], ".1%"),
                     _spread(r["frechet_distance"], ".0f"),
                     wall_time(sum(r["train_seconds"]) / len(r["train_seconds"]))
                     if "train_seconds" in r else ""))
    return (f"*Measured on {_on(m, source)}; {lookup(m, 'seeds', source)} seeds, "
            f"{lookup(m, 'steps', source):,} refiner steps of batch "
            f"{lookup(m, 'batch_size', source)}, classifiers of "
            f"{lookup(m, 'classifier_steps', source):,} steps, "
            f"{lookup(m, 'test_images', source):,} MNIST test images; wall time "
            f"{wall_time(lookup(m, 'wall_time_s', source))}.*\n\n" + markdown_table(
                ["the classifier's training images", "MNIST test accuracy, mean (min-max)",
                 "the evaluator reads the rendering label", "Fréchet distance to MNIST",
                 "refiner's training"], rows))


def stacked_mnist_table(metrics_dir, name="stacked-mnist", pacgan=True):
    """Every row of ``docs/metrics/full/NAME.json`` (modes covered and KL to the uniform
    histogram, mean +- standard error and the range over the seeds), then PacGAN's
    Table 2 as published (``pacgan``)."""
    m, source = _full_run(metrics_dir, name)
    rows = []
    for row_name, r in lookup(m, "rows", source).items():
        rows.append((f"minigan: {r['summary']}",
                     f"{r['modes_mean']:.1f} ± {r['modes_stderr']:.1f} "
                     f"({r['modes_min']}-{r['modes_max']})",
                     f"{r['kl_mean']:.2f} ± {r['kl_stderr']:.2f} "
                     f"({r['kl_min']:.2f}-{r['kl_max']:.2f})",
                     f"{r['steps']:,}, {sum(r['ms_per_step']) / len(r['ms_per_step']):.0f} ms/step",
                     wall_time(sum(r["train_seconds"]) / len(r["train_seconds"]))))
    for r in lookup(m, "pacgan_table2", source) if pacgan else ():
        pm = lambda key: f" ± {r[key + '_pm']}" if key + "_pm" in r else ""   # noqa: E731
        rows.append((f"PacGAN Table 2: {r['row']}", f"{r['modes']:,g}{pm('modes')}",
                     f"{r['kl']:.2f}{pm('kl')}", "100,000 (50 epochs)", ""))
    d = lookup(m, "d_width", source)
    setting = m.get("d_setting", f"width {d}")
    return (f"*Measured on {_on(m, source)}; D of width {d} ({setting}); "
            f"{len(lookup(m, 'seeds', source))} seeds, "
            f"{lookup(m, 'samples', source):,} samples counted per seed, batch "
            f"{lookup(m, 'batch_size', source)}; wall time "
            f"{wall_time(lookup(m, 'wall_time_s', source))}"
            + (". PacGAN's rows: the mean over 10 runs of a larger DCGAN (D about as large "
               "as G), as published.*\n\n" if pacgan else ".*\n\n")
            + markdown_table(["GAN", "modes covered (of 1,000)", "KL(p_gen ‖ uniform)",
                              "steps", "training, per seed"], rows))


def _classifier_runs(m, source):
    """'Measured on ...' of ``docs/metrics/full/classifier-score.json``."""
    return (f"*Measured on {_on(m, source)}; {len(lookup(m, 'seeds', source))} seeds, each "
            f"classifier {lookup(m, 'classifier_steps', source):,} steps of batch "
            f"{lookup(m, 'batch_size', source)}, "
            f"{lookup(m, 'generated_images', source):,} generated digits per model, "
            f"{lookup(m, 'test_images', source):,} MNIST test digits; wall time "
            f"{wall_time(lookup(m, 'wall_time_s', source))}.*\n\n")


def classifier_score_table(metrics_dir):
    """Part 1 of ``docs/metrics/full/classifier-score.json``: the classifier trained
    only on each model's generated digits, beside the one trained on the real ones."""
    m, source = _full_run(metrics_dir, "classifier-score")
    rows = []
    for name, r in lookup(m, "generated_only", source).items():
        model = lookup(m, f"models/{name}", source)
        steps = (f"{model['step']:,} of {model['recipe_steps']:,}"
                 + (" (trained by this run)" if model["trained_here"] else ""))
        rows.append((f"{name}'s generated digits only", model["labels"],
                     _spread(r["test_accuracy"], ".1%"), steps))
    real = lookup(m, "real_only/100%", source)
    rows.append(("the 60,000 real training digits", "MNIST's own",
                 _spread(real["test_accuracy"], ".1%"), ""))
    return _classifier_runs(m, source) + markdown_table(
        ["the classifier's training digits", "their labels",
         "MNIST test accuracy, mean (min-max)", "the model's training steps"], rows)


def classifier_score_augmentation_table(metrics_dir):
    """Part 2 of ``docs/metrics/full/classifier-score.json``: each share of the real
    digits alone and with the cgan's generated digits added, in each mix."""
    m, source = _full_run(metrics_dir, "classifier-score")
    rows = []
    for key, alone in lookup(m, "real_only", source).items():
        rows.append((f"{key} ({lookup(m, f'real_images/{key}', source):,})", "alone",
                     _spread(alone["test_accuracy"], ".2%"), "", ""))
        for mix, label in lookup(m, "mixes", source).items():
            added = lookup(m, f"real_plus_generated/{mix}/{key}", source)
            gain = lookup(m, f"gain_points/{mix}/{key}", source)
            rows.append(("", f"+ the cgan's digits, {label}",
                         _spread(added["test_accuracy"], ".2%"),
                         ", ".join(f"{g:+.2f}" for g in gain["per_seed"]),
                         "yes" if lookup(m, f"improves/{mix}/{key}", source) else "no"))
    return _classifier_runs(m, source) + markdown_table(
        ["real training digits (class-balanced)", "the classifier's training set",
         "MNIST test accuracy, mean (min-max)", "gain over alone, per seed (points)",
         "improved in every seed"], rows)


# --- tables recorded before the generator ----------------------------------

def recorded(metrics_dir, name):
    """A table whose runs are gone: ``docs/metrics/recorded/NAME.json`` holds what
    was printed at the time (``header``, ``rows``), where and when it was
    measured (``measured``) and where the numbers came from (``source``)."""
    path = pathlib.Path(metrics_dir) / "recorded" / f"{name}.json"
    if not path.exists():
        raise TableError(f"{path}: missing")
    r = json.loads(path.read_text())
    for key in ("measured", "source", "header", "rows"):
        if key not in r:
            raise TableError(f"{path}: no {key!r}")
    bad = [i for i, row in enumerate(r["rows"]) if len(row) != len(r["header"])]
    if bad:
        raise TableError(f"{path}: row {bad[0]} has not {len(r['header'])} cells")
    return (f"*{r['measured']} {r['source']} The record: "
            f"`docs/metrics/recorded/{name}.json`.*\n\n" + markdown_table(r["header"], r["rows"]))


TABLES = {"quick-runs": quick_runs,   # table name -> builder(metrics_dir) -> Markdown
          "dcgan-seeds": dcgan_seeds, "dcgan-plus-stages": dcgan_plus_stages,
          "prdc": prdc_table,
          "mog-table": mog_table,
          "mog-table-seeds": mog_table_seeds,
          "pix2pix": pix2pix_table, "cyclegan": cyclegan_table, "stargan": stargan_table,
          "progan": progan_table, "stackgan": stackgan_table, "simgan": simgan_table,
          "stacked-mnist": stacked_mnist_table,
          "stacked-mnist-short": lambda d: stacked_mnist_table(d, "stacked-mnist-short",
                                                               pacgan=False),
          "stacked-mnist-strong-d": lambda d: stacked_mnist_table(d, "stacked-mnist-strong-d",
                                                                  pacgan=False),
          "classifier-score": classifier_score_table,
          "classifier-score-augmentation": classifier_score_augmentation_table}


def build(name, metrics_dir):
    """The Markdown of the table `name` (``recorded/NAME`` for a recorded one)."""
    if name.startswith("recorded/"):
        return recorded(metrics_dir, name.split("/", 1)[1])
    if name not in TABLES:
        raise TableError(f"no table called {name!r} (known: {', '.join(sorted(TABLES))}, "
                         f"recorded/NAME)")
    return TABLES[name](metrics_dir)


# --- pages -----------------------------------------------------------------

def render(text, metrics_dir, page="page"):
    """`text` with every marked table rebuilt from the files in `metrics_dir`."""
    out, pos = [], 0
    for m in START.finditer(text):
        if m.start() < pos:
            continue
        name = m["name"]
        end = text.find(END, m.end())
        if end < 0:
            raise TableError(f"{page}: the table {name!r} has no {END}")
        if not name.startswith("recorded/") and name not in TABLES:
            raise TableError(f"{page}: no table called {name!r} (known: "
                             f"{', '.join(sorted(TABLES))}, recorded/NAME)")
        try:
            table = build(name, metrics_dir)
        except TableError as e:
            raise TableError(f"{page}: table {name}: {e}") from None
        out += [text[pos:m.end()], table]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _tables(text):
    """[(name, the text between its markers)] of a page, in order."""
    found = []
    for m in START.finditer(text):
        end = text.find(END, m.end())
        found.append((m["name"], text[m.end():end] if end >= 0 else None))
    return found


def pages(docs_dir):
    """The pages with tables: every page of `docs_dir`, and the benchmarks' README
    beside it."""
    docs_dir = pathlib.Path(docs_dir)
    found = sorted(docs_dir.glob("**/*.md"))
    bench = docs_dir.parent / "benchmarks" / "README.md"
    return found + ([bench] if bench.exists() else [])


def _rendered(docs_dir, metrics_dir):
    """(page, its text, the text with its tables rebuilt, or the TableError that stopped
    that) for every page with tables."""
    docs_dir = pathlib.Path(docs_dir)
    metrics_dir = pathlib.Path(metrics_dir) if metrics_dir else docs_dir / "metrics"
    for page in pages(docs_dir):
        text = page.read_text(encoding="utf-8")
        try:
            yield page, text, render(text, metrics_dir, page)
        except TableError as e:
            yield page, text, e


def check(docs_dir=DOCS, metrics_dir=None):
    """The tables that differ from their files, as 'PAGE: table NAME ...' lines."""
    problems = []
    for page, text, new in _rendered(docs_dir, metrics_dir):
        if isinstance(new, TableError):
            problems.append(str(new))
            continue
        for (name, old), (_, fresh) in zip(_tables(text), _tables(new)):
            if old != fresh:
                problems.append(f"{page}: table {name} differs from its metrics files "
                                f"(run python -m minigan.experiments.tables)")
    return problems


def write(docs_dir=DOCS, metrics_dir=None):
    """Rewrite every marked table; returns the pages that changed."""
    changed = []
    for page, text, new in _rendered(docs_dir, metrics_dir):
        if isinstance(new, TableError):
            raise new
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed.append(page)
    return changed


LARGE = 1000   # a list longer than this is a large array, not a key number


def _without_large_arrays(value):
    if isinstance(value, dict):
        return {k: _without_large_arrays(v) for k, v in value.items()
                if not (isinstance(v, list) and len(v) > LARGE)}
    if isinstance(value, list):
        return [_without_large_arrays(v) for v in value]
    return value


def collect(runs_dir, into):
    """Copy RUNS/NAME/metrics.json of every run into `into`/NAME.json.

    A file goes as it is, byte for byte, unless it holds a large array (a list
    of more than LARGE numbers), which is left out. Returns the names copied.
    """
    into = pathlib.Path(into)
    into.mkdir(parents=True, exist_ok=True)
    names = []
    for src in sorted(pathlib.Path(runs_dir).glob("*/metrics.json")):
        name = src.parent.name
        with open(src) as f:
            metrics = json.load(f)
        slim = _without_large_arrays(metrics)
        if slim == metrics:
            shutil.copyfile(src, into / f"{name}.json")
        else:
            (into / f"{name}.json").write_text(json.dumps(slim, indent=2) + "\n")
        names.append(name)
    return names


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m minigan.experiments.tables",
                                description="Write (or --check) the generated tables of docs/.")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 naming each table that differs from its files")
    p.add_argument("--docs", default=str(DOCS), help="the pages' folder (default: docs/)")
    p.add_argument("--metrics", default=None, help="the metrics folder (default: DOCS/metrics)")
    p.add_argument("--collect", metavar="RUNS", default=None,
                   help="first copy RUNS/NAME/metrics.json into METRICS/INTO/NAME.json")
    p.add_argument("--into", default="quick", help="the metrics subfolder for --collect")
    args = p.parse_args(argv)
    metrics = pathlib.Path(args.metrics) if args.metrics else pathlib.Path(args.docs) / "metrics"
    if args.collect:
        names = collect(args.collect, metrics / args.into)
        print(f"copied {len(names)} metrics files into {metrics / args.into}: {', '.join(names)}")
    if args.check:
        problems = check(args.docs, metrics)
        for line in problems:
            print(line)
        if problems:
            return 1
        print("every generated table agrees with its metrics files")
        return 0
    try:
        changed = write(args.docs, metrics)
    except TableError as e:
        print(e, file=sys.stderr)
        return 1
    print(f"rewrote {len(changed)} page(s)" + "".join(f"\n  {c}" for c in changed))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""SimGAN on digits: printed digits (a simulator that knows every label) refined to
look like MNIST's handwriting, scored by the paper's own measure; the experiment
``simgan``.

The synthetic images are ``data.domains.printed_digits`` (glyphs of many fonts,
jittered, each with the digit it was rendered as); the real ones are MNIST's
training images, unlabelled. The refiner and its losses are
``minigan.gan.apps.refiner``. Rows, each trained with every seed:

* ``SimGAN``: the refiner with self-regularization and the history buffer;
* ``SimGAN, no history buffer``: D sees only the current refined images;
* ``SimGAN, no self-regularization``: lambda = 0, nothing ties R(x) to x.

The measure (Shrivastava et al.'s Tables 2 and 3, on digits): a digit classifier
(the evaluator's architecture, ``eval.domains.DomainClassifier`` with 10 classes)
trained ONLY on refined synthetic images with their rendering labels, tested on
the real MNIST test set; beside it the same classifier, the same number of steps,
trained on the raw synthetic images and on real MNIST with its labels. Also for
each row: how often the shipped evaluator reads the rendering label in the refined
images (does the label survive refining?), and the Frechet distance of their
evaluator features to the real test digits' (do they look real?).

Every (seed, row) pair, and each seed's raw and real baselines, is an independent
run: they go to worker processes, one per CPU core (``--jobs``). What the runs
measured is kept in ``docs/metrics/``.
"""
import dataclasses
import functools

import numpy

from . import experiment, trainer_settings, resuming, OptionError, workers, REACHED
from .claims import claim, titled
from .machine import measured_on
from .translation import train_classifier_on
from .. import backend, optim
from .. import data
from ..data import domains
from ..eval import evaluate, metrics
from ..eval.pixels import to_pixels
from ..gan.apps import networks as nets
from ..gan.apps.refiner import Refiner, RefinerTrainer, refine
from ..gan.runner import Recorder
from ..gan.tricks.history import ImageHistory

LR, BETAS = 1e-3, (0.5, 0.999)      # Adam; a higher rate than the translations' 2e-4: short runs
BATCH = 32
WIDTH = 12                          # the refiner's and D's channels (the paper's refiner: 64)
BLOCKS = 3                          # the refiner's residual blocks (the paper's: 4)
DILATED = False                     # --set dilated=1: blocks with dilations 1, 2, 4 (Refiner)
HISTORY_BATCHES = 50                # the buffer holds this many batches of refined images
REG_WEIGHT = 0.5                    # lambda: one pixel's L1 against one patch's log-loss
STEPS, QUICK_STEPS = 1_500, 100
CLF_STEPS, CLF_QUICK = 600, 100
N_SYNTH, N_SYNTH_QUICK = 10_000, 2_000
N_TEST, N_TEST_QUICK = 10_000, 1_000
N_SCORE, N_SCORE_QUICK = 5_000, 500    # refined images the evaluator scores
SEEDS, SEEDS_QUICK = 3, 1
N_SHOWN = 12
SNAPSHOTS = 8                       # frames of the training GIF (first seed's SimGAN)

# row -> (lambda is the run's reg_weight, the history buffer)
ROWS = {"SimGAN": (True, True), "SimGAN, no history buffer": (True, False),
        "SimGAN, no self-regularization": (False, True)}
RAW, REAL = "raw synthetic", "real MNIST"


def _slug(row):
    return row.lower().replace("simgan, ", "").replace(" ", "-") if row != "SimGAN" \
        else "simgan"


@functools.lru_cache(maxsize=4)
def _synthetic(n, seed):
    return domains.printed_digits(n, seed=seed)


def _positive(cfg, name, value, least=1):
    if value < least:
        raise OptionError(f"simgan: --set {name} must be at least {least}, got {value}")
    return value


def settings(cfg):
    """The run's sizes, from the defaults, --quick and the --set options."""
    q = cfg.quick
    reg = cfg.option("reg_weight", REG_WEIGHT)
    if not reg >= 0:
        raise OptionError(f"simgan: --set reg_weight (lambda) must be >= 0, got {reg}")
    return {"steps": cfg.steps_or(STEPS, QUICK_STEPS),
            "classifier_steps": _positive(cfg, "classifier_steps", cfg.option(
                "classifier_steps", CLF_QUICK if q else CLF_STEPS)),
            "synthetic_images": _positive(cfg, "synthetic_images", cfg.option(
                "synthetic_images", N_SYNTH_QUICK if q else N_SYNTH), 100),
            "test_images": _positive(cfg, "test_images", cfg.option(
                "test_images", N_TEST_QUICK if q else N_TEST), 100),
            "seeds": _positive(cfg, "seeds", cfg.option("seeds", SEEDS_QUICK if q else SEEDS)),
            "score_images": N_SCORE_QUICK if q else N_SCORE,
            "reg_weight": float(reg), "dilated": _flag(cfg, "dilated", DILATED)}


def _flag(cfg, name, default):
    value = cfg.option(name, int(default))
    if value not in (0, 1):
        raise OptionError(f"simgan: --set {name} must be 0 or 1, got {value}")
    return bool(value)


def _scores(judge, images, labels):
    """The evaluator's accuracy on the rendering labels, and its features' statistics."""
    probs, feats = evaluate.classify(judge, images)
    return metrics.class_accuracy(probs, labels), metrics.feature_statistics(feats)


def train_refiner(cfg, row, seed, s, synth_x, real_x, callbacks=()):
    """One row's refiner and patch discriminator, trained with seed `seed`."""
    use_reg, use_history = ROWS[row]
    backend.manual_seed(seed)
    R = Refiner(1, WIDTH, BLOCKS, dilated=s["dilated"]).to(cfg.device)
    D = nets.PatchDiscriminator(1, WIDTH, norm="none").to(cfg.device)
    history = ImageHistory(HISTORY_BATCHES * BATCH, seed=seed) if use_history else None
    adam = lambda m: optim.Adam(m.parameters(), lr=LR, betas=BETAS)   # noqa: E731
    trainer = RefinerTrainer(
        R, D, adam(R), adam(D), data.sampler(synth_x, device=cfg.device),
        data.sampler(real_x, device=cfg.device),
        reg_weight=s["reg_weight"] if use_reg else 0.0, history=history, batch_size=BATCH,
        seed=seed, progress={"desc": f"{row}, seed {seed}"} if cfg.progress else False,
        **trainer_settings(cfg, f"simgan-{_slug(row)}-seed{seed}", callbacks))
    trainer.fit(s["steps"], resume=resuming(cfg))
    return trainer


def _job(job):
    """One independent run (in a worker): a row's refiner and its classifier, or a
    baseline's classifier. Returns its numbers, and the first seed's pictures."""
    cfg, what, seed, s = job
    cfg = dataclasses.replace(cfg, seed=seed)        # the classifiers' seed too
    synth_x, synth_y = _synthetic(s["synthetic_images"], seed)
    test_x, test_y = (a[:s["test_images"]] for a in data.mnist("test", cfg.data_dir))
    judge = evaluate.load_classifier(device=cfg.device)
    n = s["score_images"]
    out = {"what": what, "seed": seed}
    if what == REAL:
        x, y = data.mnist("train", cfg.data_dir)
    else:
        x, y = synth_x, synth_y
        if what != RAW:
            real_x, _ = data.mnist("train", cfg.data_dir)
            shown = synth_x[:N_SHOWN]
            frames = set(numpy.linspace(0, s["steps"], SNAPSHOTS + 1).astype(int).tolist())

            def look(trainer, step):
                if step in frames:
                    return {"step": step, "pixels": to_pixels(refine(trainer.R, shown))}
            watch = (Recorder(look, at_start=True)
                     if what == "SimGAN" and seed == s["first_seed"] else None)
            trainer = train_refiner(cfg, what, seed, s, synth_x, real_x,
                                    [watch] if watch else [])
            x = refine(trainer.R, synth_x)
            h = trainer.history
            out.update(train_seconds=trainer.train_seconds,
                       final_loss_r_adv=float(h["loss_r_adv"][-50:].mean()),
                       final_loss_d=float(h["loss_d"][-50:].mean()),
                       final_loss_reg=float(h["loss_reg"][-50:].mean()),
                       l1_refined_to_synthetic=float(numpy.abs(x[:n] - synth_x[:n]).mean()),
                       shown=x[:N_SHOWN])
            if watch:
                out["snapshots"] = [(int(r["step"]), r["pixels"]) for r in watch.records]
    label_acc, stats = _scores(judge, x[:n], y[:n])
    _, acc = train_classifier_on(cfg, f"simgan-classifier-{_slug(what)}-seed{seed}", x, y, 10,
                                 s["classifier_steps"], (test_x, test_y))
    out.update(test_accuracy=acc, label_accuracy=label_acc, feature_stats=stats)
    return out


def simgan_claims(rows):
    sim, raw = rows["SimGAN"], rows[RAW]
    nohist, noreg = rows["SimGAN, no history buffer"], rows["SimGAN, no self-regularization"]
    gain = 100 * (sim["test_accuracy_mean"] - raw["test_accuracy_mean"])
    return [
        claim("a classifier trained only on refined synthetic images does better on real "
              "images than one trained on the raw synthetic ones",
              "at least 5 points more MNIST test accuracy, mean over the seeds (the issue's "
              "target)", f"{sim['test_accuracy_mean']:.1%} against "
              f"{raw['test_accuracy_mean']:.1%} ({gain:+.1f} points)", gain >= 5),
        claim("the refiner makes synthetic images look real",
              "a lower Frechet distance to the real test digits after refining than before",
              f"{sim['frechet_distance_mean']:.1f} against {raw['frechet_distance_mean']:.1f}",
              sim["frechet_distance_mean"] < raw["frechet_distance_mean"]),
        claim("self-regularization keeps the simulator's labels; without it they drift",
              "the evaluator reads the rendering label less often in the refined images "
              "without the L1 term than with it",
              f"{noreg['label_accuracy_mean']:.1%} without, {sim['label_accuracy_mean']:.1%} "
              f"with", noreg["label_accuracy_mean"] < sim["label_accuracy_mean"]),
        claim("the history of refined images makes a better refiner",
              "higher MNIST test accuracy of the classifier trained on refined images with "
              "the buffer than without it",
              f"{sim['test_accuracy_mean']:.1%} with, {nohist['test_accuracy_mean']:.1%} "
              f"without", sim["test_accuracy_mean"] > nohist["test_accuracy_mean"]),
    ]


@experiment("simgan", "printed digits refined to look like MNIST (SimGAN, without its "
                      "history buffer, without self-regularization): a classifier trained "
                      "on refined images, tested on real ones",
            options={"seeds": int, "reg_weight": float, "classifier_steps": int,
                     "test_images": int, "synthetic_images": int, "dilated": int}, lecture=4)
def run_simgan(cfg):
    from .figures import images as figs
    s = settings(cfg)
    seeds = [cfg.seed + i for i in range(s["seeds"])]
    s["first_seed"] = seeds[0]
    names = [RAW, REAL] + list(ROWS)
    jobs = [(cfg, what, seed, s) for seed in seeds for what in names]
    for what in ROWS:
        for seed in seeds:
            REACHED.setdefault(f"simgan-{_slug(what)}-seed{seed}", 0)
    done = {(r["what"], r["seed"]): r for r in workers.run_all(
        _job, jobs, workers.n_workers(cfg.jobs, len(jobs), cfg.device))}

    judge = evaluate.load_classifier(device=cfg.device)
    test_x, _ = (a[:s["test_images"]] for a in data.mnist("test", cfg.data_dir))
    _, test_stats = _scores(judge, test_x, numpy.zeros(len(test_x), numpy.int64))
    rows = {}
    for what in names:
        runs = [done[(what, seed)] for seed in seeds]
        fds = [metrics.frechet_distance_from_stats(*r["feature_stats"], *test_stats)
               for r in runs]
        row = {"test_accuracy": [r["test_accuracy"] for r in runs],
               "label_accuracy": [r["label_accuracy"] for r in runs], "frechet_distance": fds}
        for key in ("train_seconds", "final_loss_r_adv", "final_loss_d", "final_loss_reg",
                    "l1_refined_to_synthetic"):
            if key in runs[0]:
                row[key] = [r[key] for r in runs]
        row.update({f"{k}_mean": float(numpy.mean(v)) for k, v in list(row.items())})
        rows[what] = row
        print(f"{what}: MNIST test accuracy {row['test_accuracy_mean']:.1%}, rendering label "
              f"read {row['label_accuracy_mean']:.1%}, Frechet distance to the test digits "
              f"{row['frechet_distance_mean']:.1f}")
    claims = simgan_claims(rows)

    first = seeds[0]
    synth_x, synth_y = _synthetic(s["synthetic_images"], first)
    real_x, _ = data.mnist("train", cfg.data_dir)
    panels = [(f"synthetic: printed digits (labels {' '.join(map(str, synth_y[:N_SHOWN]))})",
               to_pixels(synth_x[:N_SHOWN]))]
    panels += [(f"{row}: MNIST accuracy {rows[row]['test_accuracy_mean']:.0%}, label read "
                f"{rows[row]['label_accuracy_mean']:.0%}", to_pixels(done[(row, first)]["shown"]))
               for row in ROWS]
    panels.append(("real: MNIST training digits", to_pixels(real_x[:N_SHOWN])))
    figs.rows(panels, cfg.out / "simgan.png", titled("SimGAN: printed digits refined", claims),
              f"{s['steps']:,} steps of batch {BATCH}, lambda {s['reg_weight']:g}; seed {first} "
              f"shown; accuracies: mean of {len(seeds)} seed(s)", ncol=N_SHOWN)
    snaps = done[("SimGAN", first)]["snapshots"]
    figs.emerging_gif([(f"refined at step {step:,}", p) for step, p in snaps],
                      cfg.out / "simgan_training.gif", ncol=N_SHOWN)
    figs.rows([("synthetic input", to_pixels(synth_x[:N_SHOWN]))]
              + [(f"refined at step {step:,}", p) for step, p in snaps[::2]],
              cfg.out / "simgan_training.png", "SimGAN: the same printed digits refined over "
              "training", f"seed {first}, lambda {s['reg_weight']:g}", ncol=N_SHOWN)
    for row in rows.values():
        for k in ("test_accuracy", "label_accuracy", "frechet_distance"):
            row[k] = [float(v) for v in row[k]]
    return {**{k: v for k, v in s.items() if k != "first_seed"}, "seeds": seeds,
            "batch_size": BATCH, "width": WIDTH, "blocks": BLOCKS,
            "history_capacity": HISTORY_BATCHES * BATCH, "rows": rows,
            "refined_minus_raw_points": 100 * (rows["SimGAN"]["test_accuracy_mean"]
                                               - rows[RAW]["test_accuracy_mean"]),
            "measured_on": measured_on(cfg.device), "claims": claims}

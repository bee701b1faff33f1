"""The lecture's second measure of a GAN: train a classifier on its digits; the
experiment ``classifier-score``.

Lecture 4's evaluation slide: "re-train the classifier with generated samples, and
the full real training data or a small subset of it (10% or even a few samples per
class), and see whether the validation accuracy improves." Its published relatives
are the Classification Accuracy Score (Ravuri and Vinyals 2019: train on generated
samples only, test on real) and GAN-train (Shmelkov et al. 2018, the same test).

Every classifier here is the evaluator's architecture (``gan.models.MnistClassifier``
with a fresh head: ``translation.train_classifier_on``, the trainer simgan's rows use),
trained for the same number of steps of batch 64, and scored on the real MNIST test
set T:

    accuracy(theta) = (1/|T|) sum_{(x, y) in T} [ argmax_k f_theta(x)_k == y ]

Part 1, train on generated, test on real (CAS, GAN-train). For each trained model
G (``mnist-mlp``, ``dcgan``, ``cgan``), theta_G is trained ONLY on 60,000 generated
digits (x_i, y_i), x_i = G(z_i, ...); beside it theta_real, trained on the 60,000
real training digits. The labels y_i:

* the conditional G (``cgan``): the class it was asked for, x_i = G(z_i, y_i),
  y_i = i mod 10; the labels owe nothing to any classifier;
* an unconditional G (``mnist-mlp``, ``dcgan``): the shipped evaluator's own
  prediction, y_i = argmax_k p_eval(k | x_i). This is the WEAKER test: the
  evaluator was trained on all 60,000 labelled real digits, so its labels carry
  that knowledge into theta_G whatever G drew (a blob it calls a 3 teaches "3"),
  and a digit G drew badly is still labelled with confidence. It measures how
  much of the evaluator's notion of the classes G's digits can pass on, not
  whether G draws digits of the classes it means (it means none).

Part 2, augmentation (the lecture's own sentence). A class-balanced, seeded subset
of the real training set (``balanced_subset``: 1% = 60 digits of each class, 10%,
and all of it) trains theta alone, and again with the conditional G's 60,000
digits added, mixed in one of two ways (``MIXES``):

* ``once``: every real and every generated digit once, one shuffled set; at 1%
  the 600 real digits are 1% of it, and the batches are almost all generated;
* ``equal``: the real subset repeated until it is as many digits as the generated
  set (600 x 100), so half of each batch is real on average. At 100% the two mixes
  are the same set, trained once.

The added model is the
conditional one because its labels do not come from the evaluator: an
unconditional G's, labelled by a classifier trained on every real label, would
hand the 1% classifier the full labelled set through the back door. This is
still not semi-supervised learning: the cGAN itself saw all 60,000 labelled
digits, so at 1% what is measured is whether what G learned reaches a
classifier through its samples. The gain at fraction f and seed s is

    gain(f, s) = accuracy(real_f + generated) - accuracy(real_f alone),

both with the same subset and the same seed; "the validation accuracy improves"
at f when the gain is positive in every seed. The lecture's sentence is tested
with each mix, a claim of its own: neither is the chosen one (``equal`` was added
after a trial in which ``once`` drowned 600 real digits in 60,000 generated ones
and lost accuracy), and how much the answer depends on the share given to the
generated digits is itself what a student should see.

Each classifier is an independent run (``--jobs`` worker processes, one per CPU
core): its seed sets the network's start, its batches and the real subset. The
models are found in ``--model DIR`` (DIR/mnist-mlp, DIR/dcgan, DIR/cgan, each a
run's folder as ``python -m minigan run NAME --out DIR/NAME`` leaves it); a model
not found there is trained here with its ``image_gans`` recipe, and said so.
What the runs measured is kept in ``docs/metrics/``.
"""
import dataclasses
import functools
import pathlib
import time
from dataclasses import replace

import numpy

from . import experiment, trainer_settings, resuming, OptionError, workers, REACHED
from .claims import claim, titled
from .image_gans import RECIPES
from .machine import measured_on
from .trained import MissingModel, run_checkpoint, load_recipe_gan
from .translation import train_classifier_on
from .. import data
from ..eval import evaluate, metrics
from ..eval.pixels import generate
from ..gan import models
from ..gan.recipes import make_trainer, weight_average, bn_batches
from ..lessons.pretraining import labelled_subset
from ..tensor import Tensor

MODELS = ("mnist-mlp", "dcgan", "cgan")     # the trained G's scored
CONDITIONAL = "cgan"                        # labelled by its request; added in part 2
FRACTIONS = (0.01, 0.1, 1.0)                # of the 60,000 real training digits
BATCH = 64                                  # train_classifier_on's batch
# One classifier step of batch 64 takes about 47 ms on one core of the 2-core
# machine (OPENBLAS_NUM_THREADS=1, measured); 33 classifiers (11 a seed) of 1,500
# steps, about 80 s each with their scoring, and the 180,000 generated digits
# (about 2 minutes) fit about 25 minutes on 2 cores (--jobs 2).
STEPS, QUICK_STEPS = 1_500, 100
N_GENERATED, N_GENERATED_QUICK = 60_000, 5_000
N_TEST, N_TEST_QUICK = 10_000, 2_000
SEEDS, SEEDS_QUICK = 3, 1
QUICK_GAN_STEPS = 30            # --quick: a model not found is trained this many steps
N_SHOWN = 2                     # generated digits shown per class and model

MIXES = ("once", "equal")         # how the generated digits join the real ones (above)
MIX_LABELS = {"once": "each digit once", "equal": "real repeated to an equal share"}


def percent(fraction):
    """0.01 -> '1%': the rows' keys."""
    return f"{100 * fraction:g}%"


def balanced_subset(labels, fraction, seed, n_classes=10):
    """Indices (sorted) of a class-balanced subset of a labelled set: of each class c,
    round(fraction * N / n_classes) indices drawn without replacement with
    ``numpy.random.default_rng(seed)`` (``lessons.pretraining.labelled_subset``, the
    autoencoder lesson's few labels); fraction 1 gives every index (MNIST's classes
    are not exactly balanced: 5,421 fives to 6,742 ones, so all of them cannot be)."""
    labels = numpy.asarray(labels)
    if isinstance(fraction, bool) or not 0 < fraction <= 1:
        raise ValueError(f"balanced_subset: fraction must be in (0, 1], got {fraction!r}")
    if fraction == 1:
        return numpy.arange(len(labels))
    per_class = int(round(fraction * len(labels) / n_classes))
    if per_class < 1:
        raise ValueError(f"balanced_subset: fraction {fraction} of {len(labels)} labels "
                         f"leaves no example of a class")
    return numpy.sort(labelled_subset(labels, per_class * n_classes, seed, n_classes))


def generate_labelled(G, conditional, n, seed, evaluator, device="cpu"):
    """n digits of G as uint8 pixels (n, 28, 28), their labels (int64), and the
    evaluator's probabilities for them. A conditional G is asked for class i mod 10
    (the labels); an unconditional G's labels are the evaluator's prediction
    argmax_k p(k | x) (the weaker test, see the module's docstring). z ~ N(0, I)
    from ``numpy.random.default_rng(seed)``."""
    rng = numpy.random.default_rng(seed)
    z = Tensor(rng.standard_normal((n, models.NOISE_DIM)).astype(numpy.float32), device=device)
    requested = numpy.arange(n, dtype=numpy.int64) % 10 if conditional else None
    pixels = generate(G, z, None if requested is None else Tensor(requested, device=device))
    probs, _ = evaluate.classify(evaluator, pixels)
    labels = requested if conditional else probs.argmax(axis=1).astype(numpy.int64)
    return pixels, labels, probs


def _positive(name, value, least=1):
    if value < least:
        raise OptionError(f"classifier-score: --set {name} must be at least {least}, "
                          f"got {value}")
    return value


def settings(cfg):
    """The run's sizes, from the defaults, --quick and the --set options."""
    q = cfg.quick
    s = {"classifier_steps": cfg.steps_or(STEPS, QUICK_STEPS),
         "generated_images": _positive("generated_images", cfg.option(
             "generated_images", N_GENERATED_QUICK if q else N_GENERATED), 100),
         "test_images": _positive("test_images", cfg.option(
             "test_images", N_TEST_QUICK if q else N_TEST), 100),
         "seeds": _positive("seeds", cfg.option("seeds", SEEDS_QUICK if q else SEEDS)),
         "gan_steps": cfg.option("gan_steps", None)}
    if s["gan_steps"] is not None:
        _positive("gan_steps", s["gan_steps"], 0)
    return s


def train_missing(cfg, name, steps):
    """The recipe `name` of ``image_gans`` trained here for `steps` steps (its --quick
    batch and rate under --quick), checkpointed in OUT/models/NAME as a run of
    ``python -m minigan run NAME --out OUT/models/NAME`` would be (so a later
    ``--model OUT/models`` finds it, and --resume continues it). Returns its G."""
    recipe = RECIPES[name]
    if cfg.quick:
        recipe = replace(recipe, batch_size=recipe.quick_batch_size or recipe.batch_size,
                         lr=recipe.quick_lr or recipe.lr)
    train_x, train_y = data.mnist("train", cfg.data_dir)
    own = dataclasses.replace(cfg, out=pathlib.Path(cfg.out) / "models" / name)
    trainer = make_trainer(recipe, train_x, train_y, cfg.seed, cfg.device,
                           progress={"desc": name} if cfg.progress else False,
                           **trainer_settings(own, name))
    trainer.fit(steps, resume=resuming(cfg))
    average = weight_average(trainer)
    if average is not None:
        return average.averaged_model(bn_batches(recipe, None, cfg.seed, cfg.device)).eval()
    return trainer.G.eval()


def find_generators(cfg, s):
    """{name: (G, what the run records of it)} for every model of MODELS: from
    ``--model DIR`` (DIR/NAME/checkpoints/NAME/checkpoint.npz), else trained here
    (``train_missing``: the recipe's steps, QUICK_GAN_STEPS under --quick, or
    --set gan_steps); each one's source printed."""
    folder = pathlib.Path(cfg.model) if cfg.model else None
    if folder is not None and not folder.is_dir():
        raise MissingModel(f"--model {folder}: classifier-score takes a folder holding the "
                           f"runs {', '.join(n + '/' for n in MODELS)} (each as `python -m "
                           f"minigan run NAME --out {folder}/NAME` leaves it); no such folder")
    paths = {}                              # every refusal before any training
    for name in MODELS:
        run = folder / name if folder is not None else None
        if run is not None and run.exists():
            paths[name] = run_checkpoint(run, name)
            if paths[name] is None:
                raise MissingModel(f"--model {folder}: {run} holds no checkpoints/{name}/"
                                   f"checkpoint.npz (a run not started yet, or not a {name} "
                                   f"run); remove the folder to have the model trained here")
    found = {}
    for name in MODELS:
        recipe_steps = RECIPES[name].steps
        if name in paths:
            path = paths[name]
            G, what, step = load_recipe_gan(path, name, cfg.device)
            info = {"source": what, "trained_here": False, "step": step}
            if step is not None and step < recipe_steps:
                print(f"classifier-score: NOTE {name} from {path} reached step {step:,} of its "
                      f"recipe's {recipe_steps:,} (an unfinished run, or one run with --steps "
                      f"or --quick)")
        else:
            steps = s["gan_steps"] if s["gan_steps"] is not None else (
                QUICK_GAN_STEPS if cfg.quick else recipe_steps)
            where = (f"--model {folder} has no {name}/" if folder is not None
                     else "no --model given")
            print(f"classifier-score: {where}: training {name} here with its image_gans "
                  f"recipe, {steps:,} steps, into {pathlib.Path(cfg.out) / 'models' / name}")
            G = train_missing(cfg, name, steps)
            what = f"{name} trained by this run for {steps:,} steps (seed {cfg.seed})"
            info = {"source": what, "trained_here": True, "step": steps}
        info.update(recipe_steps=recipe_steps,
                    finished=info["step"] is not None and info["step"] >= recipe_steps)
        print(f"classifier-score: {name}'s G is {info['source']}")
        found[name] = (G, info)
    return found


def _digits_file(out, name):
    return pathlib.Path(out) / "generated" / f"{name}.npz"


@functools.lru_cache(maxsize=4)
def _generated(path):
    with numpy.load(path, allow_pickle=False) as f:
        return evaluate.as_images(f["pixels"]), f["labels"].astype(numpy.int64)


def run_name(row, seed):
    """The training run of one classifier: its checkpoint's folder under OUT/checkpoints."""
    kind, which = row
    if kind == "generated":
        return f"classifier-{which}-only-seed{seed}"
    fraction, mix = which
    return (f"classifier-real-{percent(fraction)[:-1]}pc"
            f"{'-plus-cgan-' + mix if mix else ''}-seed{seed}")


def _job(job):
    """One classifier (in a worker): trained on its row's digits, scored on the test set."""
    cfg, (kind, which), seed, s = job
    cfg = dataclasses.replace(cfg, seed=seed)
    test = tuple(a[:s["test_images"]] for a in data.mnist("test", cfg.data_dir))
    if kind == "generated":
        x, y = _generated(str(_digits_file(cfg.out, which)))
        n_real = 0
    else:
        fraction, mix = which
        train_x, train_y = data.mnist("train", cfg.data_dir)
        idx = balanced_subset(train_y, fraction, seed)
        x, y, n_real = train_x[idx], train_y[idx], len(idx)
        if mix:
            gx, gy = _generated(str(_digits_file(cfg.out, CONDITIONAL)))
            if mix == "equal":              # the real digits repeated to the generated count
                copies = max(1, round(len(gx) / len(x)))
                x, y = numpy.tile(x, (copies, 1, 1, 1)), numpy.tile(y, copies)
            x, y = numpy.concatenate([x, gx]), numpy.concatenate([y, gy])
    t0 = time.perf_counter()
    _, acc = train_classifier_on(cfg, run_name((kind, which), seed), x, y, 10, s["classifier_steps"], test)
    return {"kind": kind, "which": which, "seed": seed, "test_accuracy": float(acc),
            "train_images": int(len(x)), "real_images": int(n_real),
            "seconds": time.perf_counter() - t0}


def _summary(values):
    v = [float(a) for a in values]
    return {"test_accuracy": v, "mean": float(numpy.mean(v)), "min": min(v), "max": max(v),
            "std": float(numpy.std(v, ddof=1)) if len(v) > 1 else 0.0}


def classifier_score_claims(m, n_generated):
    """The lecture's sentence at 1% (once for each mix) and at 100%, and the CAS gap,
    from the numbers."""
    low, full = percent(FRACTIONS[0]), percent(FRACTIONS[-1])
    real = m["real_only"][full]["mean"]
    cas = m["generated_only"]
    full_gain = m["gain_points"][MIXES[0]][full]
    at_low = [
        claim(f"re-training the classifier with generated digits and a small subset of the "
              f"real data ({low}, {m['real_images'][low]:,} digits) improves the validation "
              f"accuracy ({MIX_LABELS[mix]})",
              f"the accuracy with the cGAN's {n_generated:,} digits added above the {low} "
              f"subset's alone in every seed (the same subset and seed)",
              f"gain {' '.join(f'{g:+.2f}' for g in m['gain_points'][mix][low]['per_seed'])} "
              f"points (mean gain at each fraction: " + ", ".join(
                  f"{k}: {v['mean']:+.2f}" for k, v in m["gain_points"][mix].items()) + ")",
              m["improves"][mix][low])
        for mix in MIXES]
    return at_low + [
        claim("with the full real training data, generated digits do not improve it",
              f"the gain at {full} not positive in every seed",
              f"gain {' '.join(f'{g:+.2f}' for g in full_gain['per_seed'])} points; "
              f"{m['real_plus_generated'][MIXES[0]][full]['mean']:.2%} with, {real:.2%} "
              f"without", not m["improves"][MIXES[0]][full]),
        claim("a classifier trained only on generated digits is worse on real digits than "
              "one trained on real digits (Ravuri and Vinyals's gap)",
              f"every model's generated-only accuracy below the {full} real one's, mean over "
              f"the seeds",
              "; ".join(f"{k} {v['mean']:.2%}" for k, v in cas.items())
              + f"; real {real:.2%}", all(v["mean"] < real for v in cas.values())),
    ]


@experiment("classifier-score", "the lecture's second measure: a classifier trained on "
                                "generated digits (mnist-mlp, dcgan, cgan), tested on real "
                                "ones; 1%, 10%, 100% of the real data with and without the "
                                "cGAN's digits",
            options={"seeds": int, "generated_images": int, "test_images": int,
                     "gan_steps": int}, lecture=4, loads_model=True)
def run_classifier_score(cfg):
    """``--model DIR``: the folder holding the runs mnist-mlp/, dcgan/, cgan/;
    ``--steps``: each classifier's steps; ``--set gan_steps=N``: a model not found
    is trained N steps."""
    from .figures import evaluation as figs
    from .figures import images
    s = settings(cfg)
    seeds = [cfg.seed + i for i in range(s["seeds"])]
    found = find_generators(cfg, s)

    evaluator = evaluate.load_classifier(device=cfg.device)
    model_info, shown = {}, []
    for i, (name, (G, info)) in enumerate(found.items()):
        conditional = name == CONDITIONAL
        t0 = time.perf_counter()
        pixels, labels, probs = generate_labelled(G, conditional, s["generated_images"],
                                                  cfg.seed * 1_000 + 7_927 + i, evaluator,
                                                  cfg.device)
        path = _digits_file(cfg.out, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        numpy.savez(path, pixels=pixels, labels=labels)
        is_mean, _ = metrics.inception_score(probs, splits=10)
        info.update(labels="the class asked for" if conditional
                    else "the evaluator (weaker test)",
                    label_counts=numpy.bincount(labels, minlength=10).tolist(),
                    inception_score=float(is_mean),
                    generate_seconds=time.perf_counter() - t0)
        if conditional:
            info["evaluator_agrees"] = metrics.class_accuracy(probs, labels)
        model_info[name] = info
        pick = numpy.concatenate([numpy.flatnonzero(labels == c)[:N_SHOWN] for c in range(10)])
        shown.append((f"{name}, labelled by {info['labels']}: "
                      f"{' '.join(str(int(v)) for v in labels[pick])}", pixels[pick]))
        print(f"classifier-score: {len(pixels):,} digits of {name}, labelled by "
              f"{info['labels']}; their classes {info['label_counts']}")
    del found

    rows = [("generated", name) for name in MODELS]
    rows += [("real", (f, mix)) for f in FRACTIONS
             for mix in (None,) + (MIXES if f < 1 else MIXES[:1])]
    jobs = [(cfg, row, seed, s) for seed in seeds for row in rows]
    for _, row, seed, _ in jobs:                   # what an interrupted run reports
        REACHED.setdefault(run_name(row, seed), 0)
    done = {}
    for r in workers.run_all(_job, jobs, workers.n_workers(cfg.jobs, len(jobs), cfg.device)):
        done[(r["kind"], r["which"], r["seed"])] = r

    def accuracies(kind, which):
        return [done[(kind, which, seed)]["test_accuracy"] for seed in seeds]

    m = {"generated_only": {n: _summary(accuracies("generated", n)) for n in MODELS},
         "real_only": {}, "real_plus_generated": {mix: {} for mix in MIXES},
         "gain_points": {mix: {} for mix in MIXES}, "improves": {mix: {} for mix in MIXES},
         "real_images": {}}
    for f in FRACTIONS:
        k = percent(f)
        alone = accuracies("real", (f, None))
        m["real_only"][k] = _summary(alone)
        m["real_images"][k] = done[("real", (f, None), seeds[0])]["real_images"]
        for mix in MIXES:                          # at 100% the two mixes are one set
            added = accuracies("real", (f, mix if f < 1 else MIXES[0]))
            gain = [100 * (b - a) for a, b in zip(alone, added)]
            m["real_plus_generated"][mix][k] = _summary(added)
            m["gain_points"][mix][k] = {"per_seed": gain, "mean": float(numpy.mean(gain))}
            m["improves"][mix][k] = bool(all(g > 0 for g in gain))
        print(f"classifier-score: {k} of the real digits ({m['real_images'][k]:,}): "
              f"{m['real_only'][k]['mean']:.2%} alone; with the cgan's digits "
              + ", ".join(f"{m['real_plus_generated'][mix][k]['mean']:.2%} ({mix}, gain "
                          f"{m['gain_points'][mix][k]['mean']:+.2f} points)" for mix in MIXES))
    for n in MODELS:
        print(f"classifier-score: trained only on {n}'s digits: "
              f"{m['generated_only'][n]['mean']:.2%} on the real test digits")
    m["improves_at"] = {mix: [k for k, v in m["improves"][mix].items() if v] for mix in MIXES}
    claims = classifier_score_claims(m, s["generated_images"])

    figs.real_fraction_curves(
        {k: m["real_images"][k] for k in m["real_only"]}, m["real_only"],
        {f"real + the cgan's digits, {MIX_LABELS[mix]}": m["real_plus_generated"][mix]
         for mix in MIXES}, m["generated_only"],
        cfg.out / "classifier_score.png",
        titled("Does training on generated digits help a classifier?", claims),
        f"MNIST test accuracy ({s['test_images']:,} digits) of the evaluator's architecture, "
        f"{s['classifier_steps']:,} steps of batch {BATCH} each; mean of {len(seeds)} seed(s), "
        f"bars from min to max\n{s['generated_images']:,} generated digits per model; "
        f"unconditional models' digits labelled by the evaluator (the weaker test)",
        labelled={n: model_info[n]["labels"] for n in MODELS})
    images.rows(shown,
                cfg.out / "classifier_score_digits.png",
                "The generated training digits and their labels",
                f"{N_SHOWN} of each label per model, in label order", ncol=10 * N_SHOWN)
    per_run = [{**r, "which": r["which"] if r["kind"] == "generated" else
                f"{percent(r['which'][0])}{' + cgan ' + r['which'][1] if r['which'][1] else ''}"}
               for r in done.values()]
    return {**s, "seeds": seeds, "batch_size": BATCH, "fractions": list(FRACTIONS),
            "mixes": MIX_LABELS,
            "models": model_info, **m, "runs": sorted(per_run, key=lambda r: (
                r["kind"], r["which"], r["seed"])),
            "measured_on": measured_on(cfg.device), "claims": claims}

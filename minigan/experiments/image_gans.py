"""Image GANs on MNIST, judged with numbers: the experiments ``mnist-classifier``,
``mnist-mlp``, ``dcgan``, ``dcgan-plus``, ``cgan`` and ``dcgan-clusters``.

* ``mnist-classifier``: trains an evaluator (``--set judge=cnn``, the one every
  report uses, or ``judge=mlp``, the second judge); their weights ship with
  minigan (``minigan/eval/weights/``);
* ``mnist-mlp``: the second lecture's Keras MLP GAN and its loop (Adam 2e-4,
  beta1 0.5, batch 128), with grids at the lecture's "epochs" 1, 10, 50 and 100,
  i.e. steps 128, 1,280, 6,400 and 12,800, then on to its budget;
* ``dcgan``: the DCGAN of the third lecture as Radford et al. built it, trained
  with the PyTorch example's settings; every sample scored;
* ``dcgan-plus``: the same DCGAN improved stage by stage on one run: a third
  convolution in D with a lazy R1 penalty (``losses.r1_penalty``), then G's
  averaged weights (``gan/tricks/averaging.py``), then Jacobian-based truncation
  keeping the 40% of a pool that G draws where it changes slowest, within clusters
  of like training images (``gan/tricks/truncation.py``); each stage scored;
* ``cgan``: the DCGAN trained with labels: a 10 x 10 grid, one row per digit;
* ``dcgan-clusters``: the DCGAN told a k-means cluster of the training images
  instead of a label (no labels used; ``gan/tricks/clusters.py``), its weights
  averaged: a 10 x 10 grid, one sample per cluster.

Each GAN run draws fixed noise through training (a grid per stage and a GIF),
then scores 10,000 samples with both judges (``minigan.eval.evaluate``) and saves
them as ``samples.npy`` (uint8, (10000, 28, 28), pixel = round((x + 1) * 127.5);
the conditional run also ``labels.npy``), so anyone can score them with their own
tools. What each run measured is in ``docs/image-gans.md``.
"""
import os
import time
from dataclasses import replace

import numpy

from . import experiment, choice, trainer_settings, resuming
from .claims import claim, titled
from .figures import images
from .. import backend, optim
from .. import data
from ..eval import evaluate
from ..supervised import ClassifierTrainer
from ..eval.pixels import generate
from ..gan import models
from ..gan.recipes import (ImageRecipe, make_trainer, find_clusters, bn_batches,
                           weight_average)
from ..gan.tricks.clusters import kmeans_clusters
from ..gan.tricks.truncation import jacobian_truncation
from ..gan.runner import Recorder
from ..serialization import save, sha256_of
from ..tensor import Tensor

N_FIXED = 64            # the fixed noise drawn through training: an 8 x 8 grid
DCGAN_STEPS, DCGAN_QUICK = 3_750, 300     # 4 epochs of 938 batches; --quick


# ----------------------------------------------------------------- recipes
# quick_steps: --quick within experiments.QUICK_TAKES (docs/quick-runs.md)
RECIPES = {
    "mnist-mlp": ImageRecipe("mlp", steps=24_000, quick_steps=800, batch_size=128,
                             stages=(128, 1_280, 6_400, 12_800, 24_000)),
    # Radford et al.'s DCGAN with the PyTorch example's settings: Adam 2e-4, beta1 0.5,
    # batch 64; G and D as models.dcgan_generator and the two-convolution D
    "dcgan": ImageRecipe("dcgan", steps=DCGAN_STEPS, batch_size=64, quick_steps=DCGAN_QUICK),
    # the improvements, stage by stage on one run: a third convolution in D, batch 32
    # at lr 1e-3 and a lazy R1 penalty (G's own weights), then G's weights averaged,
    # then Jacobian-based truncation keeping 40% of a pool within 100 clusters
    "dcgan-plus": ImageRecipe("dcgan", steps=12_000, batch_size=32, lr=1e-3, quick_steps=300,
                              d_depth=3, r1=1.0, average=0.999, jacobian_keep=0.4,
                              jacobian_clusters=100),
    "cgan": ImageRecipe("cgan", steps=6_500, batch_size=64,
                        quick_steps=600, quick_batch_size=32, quick_lr=1e-3),
    # dcgan-plus's settings and networks, told one of 100 clusters
    "dcgan-clusters": ImageRecipe("clusters", steps=12_000, batch_size=32, lr=1e-3,
                                  quick_steps=300, d_depth=3, clusters=100, average=0.999),
}


def fixed_inputs(model, seed, device="cpu", n_clusters=0):
    """The noise (and, for cgan, the classes) drawn through training: from a NumPy
    generator of its own, so watching the run does not change it. For cgan: a
    10 x 10 grid, row r asking for digit r, one z per column. For clusters: one
    sample of each of the first 100 clusters, a z of its own each."""
    rng = numpy.random.default_rng(seed + 104_729)
    if model == "clusters":
        n = min(n_clusters, 100)
        z = rng.standard_normal((n, models.NOISE_DIM)).astype(numpy.float32)
        return Tensor(z, device=device), Tensor(numpy.arange(n), device=device)
    if model == "cgan":
        z = numpy.tile(rng.standard_normal((10, models.NOISE_DIM)), (10, 1))
        return Tensor(z.astype(numpy.float32), device=device), Tensor(
            numpy.repeat(numpy.arange(10), 10), device=device)
    z = rng.standard_normal((N_FIXED, models.NOISE_DIM)).astype(numpy.float32)
    return Tensor(z, device=device), None


N_NEAREST = 12            # samples drawn beside their nearest training image
QUICK_JACOBIAN_POOL = 400  # --quick: the truncation's figure from a pool this size, unscored


def image_gan_claims(scores, conditional):
    """The evaluation lecture's questions, decided from a run's scores."""
    nn = scores["nearest_train"]
    claims = [claim("the samples are new images, not copies of the training set",
                    "their median distance to the nearest training image at least 0.9 of "
                    "test images' (images the model never saw), and no exact copies",
                    f"{nn['gen_median']:.2f} against {nn['test_median']:.2f} (ratio "
                    f"{nn['median_ratio']:.2f}); exact copies {nn['gen_exact_copies']:.1%}",
                    nn["median_ratio"] >= 0.9 and nn["gen_exact_copies"] == 0)]
    if conditional:
        acc = scores["class_accuracy"]
        claims.append(claim("the conditional GAN draws the digit it is asked for",
                            "the classifier sees the requested digit in at least 90% of the "
                            "samples", f"{acc:.1%}", acc >= 0.9))
    return claims


def draw_evaluation(name, pixels, requested, classifier, train_x, out, claims):
    """``NAME_nearest.png`` (samples beside their nearest training images) and, for a
    conditional model, ``cgan_confusion.png`` (requested against seen digits)."""
    from .figures import evaluation as eval_figs
    from ..eval.pixels import to_pixels
    from ..eval import metrics
    pick = numpy.linspace(0, len(pixels) - 1, N_NEAREST).round().astype(int)  # every class
    shown = evaluate.as_images(pixels[pick])
    dist, idx = metrics.nearest_neighbour_distances(shown, train_x, return_index=True)
    eval_figs.nearest_training(pixels[pick], to_pixels(train_x[idx]), dist,
                               out / f"{name}_nearest.png",
                               titled(f"{name}: samples beside their nearest training image",
                                      claims[:1]), claims[0].measured)
    if requested is not None:
        probs, _ = evaluate.classify(classifier, pixels)
        k = probs.shape[1]
        matrix = numpy.zeros((k, k), int)
        numpy.add.at(matrix, (requested, probs.argmax(1)), 1)
        eval_figs.confusion(matrix, out / f"{name}_confusion.png",
                            titled(f"{name}: the digit asked for and the digit drawn",
                                   claims[1:]),
                            f"{len(pixels):,} samples; class accuracy {claims[1].measured}")


def run_image_gan(cfg, name):
    """Train the recipe `name`, draw it over training, score 10,000 samples."""
    recipe = RECIPES[name]
    quick_cut = None
    if cfg.quick:
        # the truncation is not scored (its pool of Jacobians would take --quick past a
        # few minutes); its figure is drawn from a small pool
        quick_cut = recipe.jacobian_keep
        recipe = replace(recipe, batch_size=recipe.quick_batch_size or recipe.batch_size,
                         lr=recipe.quick_lr or recipe.lr, jacobian_keep=None,
                         jacobian_clusters=0)
    steps = cfg.steps_or(recipe.steps, recipe.quick_steps)
    train_x, train_y = data.mnist("train", cfg.data_dir)
    t0 = time.perf_counter()
    clusters = find_clusters(recipe, train_x, cfg.seed)      # its time counts in the run's
    cluster_seconds = time.perf_counter() - t0
    z_fixed, y_fixed = fixed_inputs(recipe.model, cfg.seed, cfg.device, recipe.clusters)
    stages = sorted({s for s in recipe.stages if s <= steps} | {steps})
    frames = set(numpy.linspace(0, steps, 41 if not cfg.quick else 16).astype(int).tolist())

    def look(trainer, step):
        if step in frames or step in stages:
            return {"step": step, "pixels": generate(trainer.G, z_fixed, y_fixed)}
    watch = Recorder(look, at_start=True)
    trainer = make_trainer(recipe, train_x, train_y, cfg.seed, cfg.device,
                           progress={"desc": name} if cfg.progress else False,
                           clusters=clusters, **trainer_settings(cfg, name, [watch]))
    if recipe.model == "mlp":             # as the lecture's Keras code prints them
        print("generator:")
        trainer.G.summary(input_shape=(models.NOISE_DIM,))
        print("discriminator:")
        trainer.D.summary(input_shape=(28 * 28,))
    trainer.fit(steps, resume=resuming(cfg))
    average = weight_average(trainer)
    # the steps' time summed over any resumes (the checkpoint keeps it), and the clustering
    train_seconds = trainer.train_seconds + cluster_seconds

    # 10,000 samples from noise of their own (the same for any run of this seed)
    rng = numpy.random.default_rng(cfg.seed + 7_919)
    z = Tensor(rng.standard_normal((evaluate.N_SAMPLES, models.NOISE_DIM)).astype(
        numpy.float32), device=cfg.device)
    requested = None
    if recipe.model == "cgan":
        requested = Tensor(numpy.repeat(numpy.arange(10), evaluate.N_SAMPLES // 10),
                           device=cfg.device)
    elif recipe.model == "clusters":      # clusters as often as in the data
        requested = Tensor(rng.choice(clusters.k, evaluate.N_SAMPLES, p=clusters.frequencies),
                           device=cfg.device)
    G = trainer.G
    if average is not None:               # the averaged weights draw the scored samples
        G = average.averaged_model(bn_batches(recipe, clusters, cfg.seed, cfg.device))
    classifier = evaluate.load_classifier()
    judge2 = evaluate.load_classifier(judge="mlp")   # the second judge, never used to choose
    extra = {}
    improvements = []                     # dcgan-plus: each stage's scores, both judges'

    def stage(label, samples, report, pixels=None):
        """One improvement's scores; `pixels`: samples the second judge has not seen yet."""
        if pixels is not None:
            report = dict(report, **evaluate.second_opinion(pixels, judge2,
                                                            data_dir=cfg.data_dir))
        improvements.append({"stage": label, "samples": samples,
                             "inception_score": report["inception_score"],
                             "frechet_distance": report["frechet_distance"],
                             **{k: v for k, v in report.items() if k.startswith("judge2_")}})
    if recipe.jacobian_keep is not None:  # score the samples JBT keeps, and all of them
        t1 = time.perf_counter()
        strata = (kmeans_clusters(train_x, recipe.jacobian_clusters, seed=cfg.seed)
                  if recipe.jacobian_clusters else None)
        # the same generator and seed as z above: the pool starts with z's 10,000 codes
        cut = jacobian_truncation(G, evaluate.N_SAMPLES, recipe.jacobian_keep,
                                  noise_dim=models.NOISE_DIM, seed=cfg.seed + 7_919,
                                  clusters=strata)
        seconds = time.perf_counter() - t1
        untruncated_pixels = generate(G, z)
        untruncated = evaluate.evaluate(untruncated_pixels, classifier=classifier,
                                        data_dir=cfg.data_dir, nn_samples=10)
        extra = {"jacobian_keep": recipe.jacobian_keep,
                 "jacobian_clusters": recipe.jacobian_clusters,
                 "jacobian_pool": len(cut.pool), "jacobian_threshold": cut.threshold,
                 "jacobian_seconds": seconds,
                 "inception_score_untruncated": untruncated["inception_score"],
                 "frechet_distance_untruncated": untruncated["frechet_distance"]}
        _draw_jacobian_truncation(G, cut, recipe.jacobian_clusters, name, cfg.out)
        z_scored = Tensor(cut.codes, device=cfg.device)
    else:
        z_scored = z
        if quick_cut is not None:           # --quick: the figure only, from a small pool
            cut = jacobian_truncation(G, round(QUICK_JACOBIAN_POOL * quick_cut), quick_cut,
                                      noise_dim=models.NOISE_DIM, seed=cfg.seed + 7_919)
            _draw_jacobian_truncation(G, cut, 0, name, cfg.out)
    pixels = generate(G, z_scored, requested)
    numpy.save(cfg.out / "samples.npy", pixels, allow_pickle=False)
    if requested is not None:
        numpy.save(cfg.out / ("labels.npy" if recipe.model == "cgan" else "clusters.npy"),
                   requested.numpy(), allow_pickle=False)
    scores = evaluate.evaluate(pixels, requested.numpy() if recipe.model == "cgan" else None,
                               classifier=classifier, data_dir=cfg.data_dir)
    scores.update(evaluate.second_opinion(pixels, judge2, requested if recipe.model == "cgan"
                                          else None, cfg.data_dir))
    if average is not None:               # and G's own weights, for comparison
        own_pixels = generate(trainer.G, z, requested)
        own = evaluate.evaluate(own_pixels, classifier=classifier,
                                data_dir=cfg.data_dir, nn_samples=10)
        extra.update(weight_average_decay=recipe.average,
                     inception_score_own_weights=own["inception_score"],
                     frechet_distance_own_weights=own["frechet_distance"])
    if name == "dcgan-plus":              # the improvements, one stage after another
        stage("R1 penalty (G's own weights)", "all", own, own_pixels)
        if recipe.jacobian_keep is None:
            stage("+ G's weights averaged", "all", scores)          # judged twice above
        else:
            stage("+ G's weights averaged", "all", untruncated, untruncated_pixels)
            stage("+ Jacobian-based truncation", f"kept {recipe.jacobian_keep:.0%}", scores)
        extra["improvements"] = improvements
        from .figures import scores as score_figs
        score_figs.improvements(improvements, cfg.out / f"{name}_improvements.png",
                                f"{name}: each improvement's scores, seed {cfg.seed}, "
                                f"{steps} steps")
    claims = image_gan_claims(scores, recipe.model == "cgan")
    draw_evaluation(name, pixels, None if requested is None or recipe.model != "cgan"
                    else requested.numpy(), classifier, train_x, cfg.out, claims)
    if clusters is not None:              # the labels measure the clusters, never train
        from ..gan.tricks.clusters import purity
        extra.update(n_clusters=clusters.k, cluster_purity=purity(clusters.labels, train_y))

    snaps = {r["step"]: r["pixels"] for r in watch.records}
    final = snaps[steps] if average is None else generate(G, z_fixed, y_fixed)
    label = "generated digits" if recipe.model != "cgan" else "requested digit per row"
    stage_note = (f"IS {scores['inception_score']:.2f} (real test images "
                  f"{scores['inception_score_real_test']:.2f}), Frechet distance "
                  f"{scores['frechet_distance']:.2f} (floor "
                  f"{scores['frechet_distance_floor_train_vs_test']:.2f})")
    if recipe.jacobian_keep is not None:
        within = (f" within each of {recipe.jacobian_clusters} clusters"
                  if recipe.jacobian_clusters else "")
        stage_note += (f"; the {recipe.jacobian_keep:.0%} of samples with the smallest "
                       f"||dG/dz||{within} (all: IS "
                       f"{extra['inception_score_untruncated']:.2f})")
    if recipe.model == "cgan":
        images.class_grid(final, cfg.out / "cgan_grid.png",
                          f"{name}: one row per requested digit, step {steps}",
                          stage_note + f", class accuracy {100 * scores['class_accuracy']:.1f}%",
                          row_labels=list(range(10)))
    elif recipe.model == "clusters":
        images.sample_grid(final, cfg.out / f"{name}_samples.png",
                           f"{name}: one sample of each of the first {len(final)} k-means "
                           f"clusters, weights averaged, step {steps}", stage_note, ncol=10)
    else:
        averaged = "" if average is None else ", weights averaged"
        images.sample_grid(final, cfg.out / f"{name}_samples.png",
                           f"{name}: {label} after {steps} steps{averaged}", stage_note)
    # every fixed sample: 8 x 8 for the unconditional models, 10 x 10 for cgan (a row per
    # digit) and one per cluster for dcgan-clusters, whole rows of 10
    images.stages([(f"step {s}", snaps[s]) for s in stages],
                  cfg.out / f"{name}_stages.png",
                  f"{name}: the same noise over training", stage_note,
                  ncol=8 if recipe.model in ("mlp", "dcgan") else 10)
    images.emerging_gif([(f"{name}, step {s} of {steps}", snaps[s]) for s in sorted(snaps)],
                        cfg.out / f"{name}_training.gif",
                        ncol=8 if recipe.model in ("mlp", "dcgan") else 10)
    return {"claims": claims, "steps": steps, "batch_size": recipe.batch_size, "lr": recipe.lr,
            "budget_minutes": recipe.budget_minutes, "train_seconds": train_seconds,
            "seconds_per_step": train_seconds / max(1, steps), "device": cfg.device,
            "stages": stages, **scores, **extra}


def _draw_jacobian_truncation(G, cut, n_clusters, name, out, show=32):
    """``NAME_jacobian.png``: the `show` codes of the truncation's pool with the largest
    ||dG/dz|| (left out) beside `show` of those kept, drawn at random, for a reader to
    see what the truncation removes."""
    left_out = cut.left_out[:show]
    kept = cut.kept[:show]                                       # the pool is random
    device = next(iter(G.parameters())).device
    px = generate(G, Tensor(cut.pool[numpy.concatenate([left_out, kept])], device=device))
    within = f" within each of {n_clusters} clusters" if n_clusters else ""
    images.stages([(f"left out: the {len(left_out)} largest ||J||", px[:len(left_out)]),
                   (f"kept: {len(kept)} at random", px[len(left_out):])],
                  out / f"{name}_jacobian.png",
                  f"{name}: Jacobian-based truncation keeps the smallest ||dG/dz||_F{within}",
                  f"{len(cut.kept):,} of a pool of {len(cut.pool):,} codes kept", ncol=8)


@experiment("mnist-mlp", "the lecture's Keras MLP GAN on MNIST: grids at steps 128, 1,280, "
                         "6,400, 12,800, scored by minigan's classifier", lecture=2)
def run_mnist_mlp(cfg):
    return run_image_gan(cfg, "mnist-mlp")


@experiment("dcgan", "the lecture's DCGAN on MNIST (Radford et al.'s rules, the PyTorch "
                     "example's Adam 2e-4, beta1 0.5, batch 64), every sample scored by "
                     "Inception Score and Frechet distance", lecture=3)
def run_dcgan(cfg):
    return run_image_gan(cfg, "dcgan")


@experiment("dcgan-plus", "the DCGAN improved stage by stage on one run: a lazy R1 penalty "
                          "(with a third convolution in D, batch 32, lr 1e-3), then G's "
                          "weights averaged, then Jacobian-based truncation; each stage "
                          "scored", lecture=3)
def run_dcgan_plus(cfg):
    return run_image_gan(cfg, "dcgan-plus")


@experiment("cgan", "the conditional GAN: the label fed to G and D, a 10 x 10 grid, one "
                    "row per digit, and the classifier's class accuracy", lecture=4)
def run_cgan(cfg):
    return run_image_gan(cfg, "cgan")


@experiment("dcgan-clusters", "the DCGAN told one of 100 k-means clusters of the training "
                              "images (no labels), its weights averaged: IS and Frechet "
                              "distance beside the plain DCGAN's", lecture=4)
def run_dcgan_clusters(cfg):
    return run_image_gan(cfg, "dcgan-clusters")


# --------------------------------------------------------------- classifier
CLASSIFIER_EPOCHS, CLASSIFIER_BATCH, CLASSIFIER_LR = 8, 128, 1e-3


def shifted(x, rng, max_shift=2):
    """Each image moved by up to `max_shift` pixels in x and y (data augmentation:
    the classifier must recognise a digit wherever a GAN draws it)."""
    n = len(x)
    pad = numpy.pad(x, ((0, 0), (0, 0), (max_shift, max_shift), (max_shift, max_shift)),
                    constant_values=-1.0)
    dy, dx = rng.integers(0, 2 * max_shift + 1, size=(2, n))
    out = numpy.empty_like(x)
    for i in range(n):
        out[i] = pad[i, :, dy[i]:dy[i] + 28, dx[i]:dx[i] + 28]
    return out


def test_accuracy(clf, x, y, device="cpu"):
    probs, _ = evaluate.classify(clf, x, device=device)
    return float((probs.argmax(axis=1) == y).mean())


class ShiftedPasses:
    """The classifier's batches: shuffled passes over the training images, each
    image shifted (``shifted``). Epoch e's order and batch i's shifts depend on
    (seed, e) and (seed, e, i) alone, and the position is saved in checkpoints, so
    a resumed run sees the very batches an uninterrupted one would. The last batch
    of an epoch holds what is left of it."""

    def __init__(self, x, y, batch_size, seed, device="cpu"):
        self.x, self.y, self.seed, self.device = x, y, int(seed), device
        self.per_epoch = -(-len(x) // batch_size)
        self.position = 0
        self._order = (None, None)                     # (epoch, its permutation)

    def __call__(self, m):
        epoch, i = divmod(self.position, self.per_epoch)
        if self._order[0] != epoch:
            self._order = (epoch, numpy.random.default_rng([self.seed, epoch])
                           .permutation(len(self.x)))
        idx = self._order[1][i * m:(i + 1) * m]
        xb = shifted(self.x[idx], numpy.random.default_rng([self.seed, epoch, i]))
        self.position += 1
        return Tensor(xb, device=self.device), Tensor(self.y[idx], device=self.device)

    def state_dict(self):
        return {"position": self.position}

    def load_state_dict(self, state):
        self.position = int(state["position"])


def train_classifier(cfg, epochs, judge="cnn"):
    """Adam on the cross-entropy of shifted training images, the lr held for 30% of
    the steps, then decaying linearly to 2% of it (confident predictions: the
    Inception Score of real images depends on them); the library's runner
    (``ClassifierTrainer``) checkpoints it each epoch and on Ctrl-C."""
    train_x, train_y = data.mnist("train", cfg.data_dir)
    backend.manual_seed(cfg.seed)
    clf = evaluate.JUDGES[judge][0]().to(cfg.device)
    opt = optim.Adam(clf.parameters(), lr=CLASSIFIER_LR)
    batches = ShiftedPasses(train_x, train_y, CLASSIFIER_BATCH, cfg.seed, cfg.device)
    total = epochs * batches.per_epoch
    sched = optim.LambdaLR(opt, optim.hold_then_decay(total, hold=0.3, end=0.02))
    trainer = ClassifierTrainer(
        clf, opt, batches, CLASSIFIER_BATCH, schedulers=[sched], seed=cfg.seed,
        checkpoint_every=batches.per_epoch,
        progress={"desc": "classifier"} if cfg.progress else False,
        **trainer_settings(cfg, "classifier"))
    trainer.fit(total, resume=resuming(cfg))
    return clf.eval(), total


@experiment("mnist-classifier", "train the evaluator CNN that scores the image GANs "
                                "(test accuracy, Inception Score of real images)",
            options={"judge": choice(*evaluate.JUDGES)}, lecture=4)
def run_mnist_classifier(cfg):
    """``--set judge=mlp``: the second judge (shipped trained with --seed 1)."""
    judge = cfg.option("judge", "cnn")
    epochs = cfg.steps_or(CLASSIFIER_EPOCHS, 1)      # --steps counts epochs here
    t0 = time.perf_counter()
    clf, steps = train_classifier(cfg, epochs, judge)
    seconds = time.perf_counter() - t0
    test_x, test_y = data.mnist("test", cfg.data_dir)
    acc = test_accuracy(clf, test_x, test_y, cfg.device)
    path = cfg.out / os.path.basename(evaluate.JUDGES[judge][1])
    save(clf.state_dict(), path)
    probs, _ = evaluate.classify(clf, test_x, device=cfg.device)
    from ..eval import metrics
    is_mean, is_std = metrics.inception_score(probs, splits=10)
    print(f"test accuracy {100 * acc:.2f}%; weights in {path} (SHA-256 "
          f"{sha256_of(path)})")
    return {"judge": judge, "epochs": epochs, "steps": steps, "train_seconds": seconds,
            "test_accuracy": acc,
            "inception_score_real_test": is_mean, "inception_score_real_test_std": is_std,
            "weights": str(path), "weights_sha256": sha256_of(path)}

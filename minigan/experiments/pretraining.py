"""The lecture's autoencoder, and its encoder initializing a supervised model with 1% of
the labels: the experiment ``autoencoder`` (the library code is ``minigan.lessons.pretraining``).

1. **Reconstruction.** A 4-layer convolutional encoder (28 x 28 -> a code of 32) and a
   4-layer up-convolutional decoder are trained on MNIST's 60,000 training images,
   without labels, on the L2 loss ||Dec(E(x)) - x||^2 / 784 (``AE_STEPS`` steps of
   batch 64, Adam 1e-3; cached in the model cache, so a second run only loads it).
   Numbers: the test images' mean squared pixel error (pixels in [-1, 1]) beside the
   error of the best constant answer, the mean training image.
2. **The encoder initializes a classifier.** With 600 labelled training images (1%,
   60 per digit, drawn with a seed), the same classifier (the encoder's architecture
   and a small head, Dense 32 -> 64, ReLU, Dense 64 -> 10) is trained three ways with
   the same head initialization, batches, steps (``CLF_STEPS`` of batch 50) and
   optimizer (Adam 1e-3):

   * **from scratch**: the encoder's weights random, everything learns;
   * **encoder fine-tuned**: the encoder starts from the autoencoder's and learns
     with the head (the lecture's "fine-tune encoder jointly with classifier");
   * **encoder frozen**: the autoencoder's encoder kept fixed, only the head learns
     (what the code alone knows about the digits).

   Each is scored by its accuracy on the 10,000 test images, after ``EARLY`` steps
   and at the end, for ``SEEDS`` draws of the 600 labels (mean and spread).

``--quick``: an autoencoder of ``AE_QUICK`` steps, one draw of the labels,
``CLF_QUICK`` steps, 2,000 test images. ``--steps`` sets the autoencoder's steps;
``--set clf_steps=…``, ``--set seeds=…``, ``--set labels=…`` (a multiple of 10) and
``--set test_images=…`` set the rest.
"""
import time

import numpy

from .claims import claim, titled
from . import experiment, OptionError, trainer_settings, resuming
from .trained import cache_dir
from .. import backend
from ..lessons import pretraining as ae_lib
from .. import data
from ..serialization import load, save
from ..gan.runner import Recorder

AE_STEPS, AE_QUICK = 1_500, 300
AE_BATCH = 64
CLF_STEPS, CLF_QUICK = 300, 150
CLF_BATCH = 50
EARLY = 100                           # the test accuracy is also measured at this step
N_LABELS = 600                        # 1% of MNIST's 60,000 training images
SEEDS, SEEDS_QUICK = 3, 1
TEST_QUICK = 2_000
N_SHOWN = 16                          # test digits in the reconstruction figure
VARIANTS = ("from scratch", "encoder fine-tuned", "encoder frozen")


def trained_autoencoder(cfg, train_x, steps):
    """The autoencoder of `steps` steps (seed cfg.seed): from the model cache, or trained
    now (with a progress bar) and cached. Returns (ae, loss per step, seconds spent
    training, where it came from)."""
    path = cache_dir() / f"autoencoder-{steps}-seed{cfg.seed}.npz"
    if path.exists():
        state = load(path)
        try:
            ae = ae_lib.Autoencoder()
            ae.load_state_dict(state["autoencoder"])
        except (KeyError, ValueError, RuntimeError) as e:
            raise ValueError(f"{path} does not hold an autoencoder of minigan's architecture "
                             f"({e}); delete it and run again") from None
        return (ae.to(cfg.device).eval(), list(numpy.asarray(state["history"])),
                0.0, str(path))
    print(f"no trained autoencoder of {steps} steps found; training one (batch {AE_BATCH}) "
          f"and caching it in {path}")
    t0 = time.perf_counter()
    ae, history = ae_lib.train_autoencoder(train_x, steps, AE_BATCH, seed=cfg.seed,
                                           progress=cfg.progress, device=cfg.device,
                                           runner=trainer_settings(cfg, "autoencoder"),
                                           resume=resuming(cfg))
    seconds = time.perf_counter() - t0
    path.parent.mkdir(parents=True, exist_ok=True)
    save({"autoencoder": ae.state_dict(), "history": numpy.asarray(history, numpy.float32),
          "steps": steps, "seconds": seconds}, path)
    return ae, history, seconds, f"trained now ({steps} steps, {seconds:.0f} s), cached in {path}"


def classifier(variant, ae, seed, device="cpu"):
    """The classifier of one variant: the head initialized from `seed` (the same head in
    every variant), the encoder random (from the same seed) or the autoencoder's."""
    backend.manual_seed(seed)
    head = ae_lib.classifier_head()
    encoder = ae_lib.conv_encoder()
    if variant != "from scratch":
        encoder.load_state_dict(ae.encoder.state_dict())     # a copy: ae stays as it was
    return ae_lib.CodeClassifier(encoder, head).to(device)


def compare(cfg, ae, train_x, train_y, test_x, test_y, n_labels, seeds, steps):
    """Every variant on `seeds` draws of n_labels labels; {variant: [accuracy per seed]}
    at the end and after EARLY steps (when steps > EARLY), and the loss curves of the
    first draw."""
    accuracies = {v: [] for v in VARIANTS}
    early = {v: [] for v in VARIANTS}
    curves = {}
    for s in range(seeds):
        idx = ae_lib.labelled_subset(train_y, n_labels, seed=cfg.seed + s)
        for variant in VARIANTS:
            # the accuracy part way, kept in the run's checkpoint (a resumed run has it)
            part_way = Recorder(lambda trainer, step: {"accuracy": ae_lib.accuracy(
                trainer.model, test_x, test_y)} if step == EARLY and steps > EARLY else None,
                at_end=False)
            name = f"classifier-{variant.replace(' ', '-')}-labels{s + 1}"
            model = classifier(variant, ae, 1000 + cfg.seed + s, cfg.device)
            model, history = ae_lib.train_classifier(
                model, train_x[idx], train_y[idx], steps, CLF_BATCH, seed=cfg.seed + s,
                freeze_encoder=variant == "encoder frozen", progress=cfg.progress,
                desc=f"{variant} (labels {s + 1}/{seeds})",
                runner=trainer_settings(cfg, name, [part_way]), resume=resuming(cfg))
            early[variant] += [r["accuracy"] for r in part_way.records]
            accuracies[variant].append(ae_lib.accuracy(model, test_x, test_y))
            if s == 0:
                curves[variant] = history
        print(f"labels draw {s + 1}/{seeds}: " + ", ".join(
            f"{v} {100 * accuracies[v][-1]:.1f}%" for v in VARIANTS))
    return accuracies, {v: a for v, a in early.items() if a}, curves


def autoencoder_claims(mse, baseline, accuracies, early, n_labels):
    """Lecture 5's claims on autoencoders, decided from the run."""
    scratch = float(numpy.mean(accuracies["from scratch"]))
    tuned = float(numpy.mean(accuracies["encoder fine-tuned"]))
    return [
        claim("the autoencoder's code keeps what a digit looks like",
              "its test reconstruction error below half the mean image's",
              f"MSE {mse:.4f} against {baseline:.4f}", mse < 0.5 * baseline),
        claim(f"an autoencoder's encoder as the start helps a classifier trained on "
              f"{n_labels} labels", "a higher mean test accuracy at the end than from scratch",
              f"{tuned:.1%} fine-tuned against {scratch:.1%} from scratch" + (
                  f" (after {EARLY} steps: {numpy.mean(early['encoder fine-tuned']):.1%} "
                  f"against {numpy.mean(early['from scratch']):.1%})"
                  if "encoder fine-tuned" in early and "from scratch" in early else ""),
              tuned > scratch),
    ]


@experiment("autoencoder", "a conv encoder and an up-conv decoder trained on the L2 loss "
                           "(test MSE vs the mean image); the encoder initializing a "
                           "classifier trained on 1% of the labels, vs from scratch",
            options={"clf_steps": int, "seeds": int, "labels": int, "test_images": int}, lecture=5)
def run_autoencoder(cfg):
    from .figures import pretraining as ae_figs
    clf_steps = cfg.option("clf_steps", CLF_QUICK if cfg.quick else CLF_STEPS)
    seeds = cfg.option("seeds", SEEDS_QUICK if cfg.quick else SEEDS)
    n_labels = cfg.option("labels", N_LABELS)
    n_test = cfg.option("test_images", TEST_QUICK if cfg.quick else 10_000)
    if clf_steps < 1 or seeds < 1 or n_test < 1:
        raise OptionError(f"autoencoder: clf_steps, seeds and test_images must be >= 1, got "
                          f"{clf_steps}, {seeds} and {n_test}")
    if n_labels < 10 or n_labels % 10:
        raise OptionError(f"autoencoder: --set labels must be a positive multiple of 10 (the "
                          f"same number of each digit), got {n_labels}")
    ae_steps = cfg.steps_or(AE_STEPS, AE_QUICK)
    train_x, train_y = data.mnist("train", cfg.data_dir)
    test_x, test_y = data.mnist("test", cfg.data_dir)
    test_x, test_y = test_x[:n_test], test_y[:n_test]

    # 1. the autoencoder and its reconstructions
    ae, history, ae_seconds, source = trained_autoencoder(cfg, train_x, ae_steps)
    t0 = time.perf_counter()
    mse = ae_lib.reconstruction_mse(ae, test_x)
    baseline = ae_lib.mean_image_mse(train_x, test_x)
    print(f"test reconstruction MSE {mse.mean():.4f} +- {mse.std():.4f}; the mean training "
          f"image's {baseline.mean():.4f} (pixels in [-1, 1])")
    shown = test_x[:N_SHOWN]
    ae_figs.reconstructions(shown, ae_lib.reconstruct(ae, shown),
                            train_x.mean(axis=0, keepdims=True), float(mse.mean()),
                            float(baseline.mean()), ae_lib.CODE_DIM,
                            cfg.out / "autoencoder_reconstructions.png")
    eval_seconds = time.perf_counter() - t0

    # 2. the encoder initializing a classifier trained on 1% of the labels
    t0 = time.perf_counter()
    accuracies, early, curves = compare(cfg, ae, train_x, train_y, test_x, test_y, n_labels, seeds,
                                 clf_steps)
    clf_seconds = time.perf_counter() - t0
    claims = autoencoder_claims(float(mse.mean()), float(baseline.mean()), accuracies, early,
                                n_labels)
    ae_figs.training_and_accuracy(history, float(mse.mean()), float(baseline.mean()), curves,
                                  accuracies, early, EARLY, n_labels, len(test_x),
                                  cfg.out / "autoencoder_classifiers.png",
                                  marked=lambda title: titled(title, claims))
    summary = {v: {"test_accuracy_mean": float(numpy.mean(a)),
                   "test_accuracy_std": float(numpy.std(a)),
                   "test_accuracy_min": float(numpy.min(a)),
                   "test_accuracy_max": float(numpy.max(a)), "per_seed": [float(x) for x in a]}
               for v, a in accuracies.items()}
    for v, a in early.items():
        summary[v].update({f"test_accuracy_at_step_{EARLY}_mean": float(numpy.mean(a)),
                           f"test_accuracy_at_step_{EARLY}_std": float(numpy.std(a)),
                           f"test_accuracy_at_step_{EARLY}_per_seed": [float(x) for x in a]})
    wins = int(numpy.sum(numpy.array(accuracies["encoder fine-tuned"]) >
                         numpy.array(accuracies["from scratch"])))
    for v, r in summary.items():
        at_early = (f" (after {EARLY} steps: {100 * numpy.mean(early[v]):.2f}% +- "
                    f"{100 * numpy.std(early[v]):.2f})" if v in early else "")
        print(f"{v}: test accuracy {100 * r['test_accuracy_mean']:.2f}% +- "
              f"{100 * r['test_accuracy_std']:.2f} over {seeds} draws of {n_labels} labels"
              + at_early)
    return {"claims": claims, "autoencoder": {"source": source, "steps": ae_steps, "batch_size": AE_BATCH,
                            "code_dim": ae_lib.CODE_DIM, "train_seconds": ae_seconds,
                            "final_train_loss": float(numpy.mean(history[-50:])),
                            "test_mse": float(mse.mean()), "test_mse_std": float(mse.std()),
                            "mean_image_mse": float(baseline.mean()),
                            "mse_over_mean_image_mse": float(mse.mean() / baseline.mean()),
                            "eval_seconds": eval_seconds},
            "classifier": {"labels": n_labels, "fraction_of_labels": n_labels / len(train_x),
                           "seeds": seeds, "steps": clf_steps, "batch_size": CLF_BATCH,
                           "test_images": len(test_x), "variants": summary,
                           "fine_tuned_beats_scratch": f"{wins} of {seeds}",
                           "seconds": clf_seconds}}

"""Recovering the code of a given image, three ways, and the photo-editing objective:
the experiment ``invert`` (the library code is ``minigan.lessons.inversion``).

For 100 test digits (``--quick``: 20) and the trained DCGAN:

1. gradient descent on ||G(z) - x||^2 from a random z (Adam, ``DESCENT_STEPS``);
2. an encoder E trained on pairs (G(z), z) (``ENCODER_STEPS`` of batch 64, cached
   beside the trained models, keyed by G's weights), one forward pass;
3. E(x) as the starting point of (1), the same number of steps.

Each is reported as the mean squared pixel error ||G(z) - x||^2 / 784 (pixels in
[-1, 1]) over the digits, with its time. Then, on one digit, the editing objective

    z* = argmin U(G(z)) + lambda1 ||z - z0||^2 - lambda2 D(G(z))

with z0 the digit's code by (3) and U the classifier's cross-entropy toward
another digit (``--set target=9``); ``--set lambda1=...`` and ``--set lambda2=...``
set the weights. The classifier says what the edited image is, with and without
D's term. ``--set images=FILE.npy`` inverts your own images instead (float (N, 28,
28) or (N, 1, 28, 28) in [-1, 1]).
"""
import hashlib
import time

import numpy

from . import experiment, OptionError, trainer_settings, resuming
from .trained import load_gan, cache_dir, shipped
from .claims import claim, titled
from ..eval.pixels import to_pixels
from .. import functional as F
from .. import data
from ..eval import evaluate
from ..lessons import inversion
from ..serialization import load, save
from ..tensor import Tensor, no_grad

N_DIGITS, N_QUICK = 100, 20
DESCENT_STEPS, DESCENT_QUICK = 500, 150
ENCODER_STEPS, ENCODER_QUICK = 3_000, 600
EDIT_STEPS = 150


def fingerprint(module):
    """A short hash of a module's weights: the cached encoder must match its G."""
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(numpy.ascontiguousarray(t.numpy() if hasattr(t, "numpy") else t).tobytes())
    return h.hexdigest()[:12]


def trained_encoder(cfg, G, steps):
    """The encoder of this G: the one that ships with the shipped G
    (``inversion.load_shipped_encoder``), else from the model cache, else trained now
    (progress bar) and cached."""
    if shipped(cfg):
        return inversion.load_shipped_encoder(cfg.device), 0.0, (
            f"the encoder that ships with the trained DCGAN ({inversion.SHIPPED_ENCODER})")
    path = cache_dir() / f"encoder-{fingerprint(G)}-{steps}.npz"
    E = inversion.Encoder()
    if path.exists():
        E.load_state_dict(load(path))
        return E.eval(), 0.0, str(path)
    t0 = time.perf_counter()
    E, _ = inversion.train_encoder(G, steps, seed=cfg.seed, progress=cfg.progress,
                                   runner=trainer_settings(cfg, "encoder"),
                                   resume=resuming(cfg))
    seconds = time.perf_counter() - t0
    path.parent.mkdir(parents=True, exist_ok=True)
    save(E.state_dict(), path)
    return E, seconds, f"trained now ({steps} steps, {seconds:.0f} s), cached in {path}"


def targets(cfg, n):
    """The images to invert: --set images=FILE.npy, else the first n test digits."""
    if "images" in cfg.options:
        path = cfg.options["images"]
        try:
            return inversion.check_images(numpy.load(path, allow_pickle=False)), None
        except (OSError, ValueError) as e:
            raise OptionError(f"--set images={path}: {e}") from None
    x, y = data.mnist("test", cfg.data_dir)
    return x[:n], y[:n]


def run_methods(G, E, x, seed, steps, progress=False):
    """The three methods on images x; returns {method: (z, errors, seconds, history)}."""
    rng = numpy.random.default_rng(seed + 101)
    z_random = Tensor(rng.standard_normal((len(x), G[0].in_features)).astype(numpy.float32))
    out = {}
    t0 = time.perf_counter()
    z1, h1 = inversion.invert_by_descent(G, x, z_random, steps, progress=progress)
    out["descent from random z"] = (z1, time.perf_counter() - t0, h1)
    t0 = time.perf_counter()
    z2 = inversion.encode(E, x)
    out["encoder"] = (z2, time.perf_counter() - t0, None)
    t0 = time.perf_counter()
    z3, h3 = inversion.invert_by_descent(G, x, z2, steps, progress=progress)
    out["encoder, then descent"] = (z3, out["encoder"][1] + time.perf_counter() - t0, h3)
    return {k: (z, inversion.reconstruction_error(G, z, x), s, h) for k, (z, s, h) in out.items()}


def run_edit(G, D, clf, x, E, target, lambda1, lambda2, steps=None):
    """The editing objective on one image x (1, 1, 28, 28): its code by encoder + descent,
    then z* for U = cross-entropy of the classifier toward `target`."""
    z0, _ = inversion.invert_by_descent(G, x, inversion.encode(E, x), DESCENT_QUICK)
    wanted = Tensor(numpy.array([target]))

    def U(images):
        return F.cross_entropy(clf(images), wanted)
    z_star, terms = inversion.edit(G, D, z0, U, lambda1, lambda2, steps or EDIT_STEPS)
    with no_grad():
        images = [x[0, 0], G(z0).numpy()[0, 0], G(z_star).numpy()[0, 0]]
    probs, _ = evaluate.classify(clf, numpy.stack(images)[:, None])
    return z0, z_star, images, probs, terms


def invert_claims(methods, edit_runs, target):
    """The lecture's three ways to find z (Lee: photo editing), decided from the run."""
    desc, enc, both = (methods[k] for k in ("descent from random z", "encoder",
                                            "encoder, then descent"))
    edited = next(iter(edit_runs.values()))["classifier_says"][2]
    return [
        claim("starting gradient descent from the encoder's code finds z best",
              "method 3's reconstruction error below both descent's and the encoder's",
              f"MSE {desc['mse_mean']:.4f} (descent), {enc['mse_mean']:.4f} (encoder), "
              f"{both['mse_mean']:.4f} (encoder, then descent)",
              both["mse_mean"] < min(desc["mse_mean"], enc["mse_mean"])),
        claim("the encoder finds a code in one forward pass, far faster than descent",
              "under a tenth of descent's seconds per image",
              f"{enc['seconds_per_image']:.4f} s against {desc['seconds_per_image']:.3f} s",
              enc["seconds_per_image"] < 0.1 * desc["seconds_per_image"]),
        claim(f"minimizing U(G(z)) + l1||z - z0||^2 - l2 D(G(z)) edits the digit into a {target}",
              f"the classifier sees a {target} in the edited image", f"it sees a {edited}",
              edited == target),
    ]


@experiment("invert", "recover z of test digits: descent on ||G(z)-x||^2, an encoder, both; "
                      "then the editing objective U(G(z)) + l1||z-z0||^2 - l2 D(G(z))",
            options={"lambda1": float, "lambda2": float, "target": int, "images": str},
            lecture=1, loads_model=True)
def run_invert(cfg):
    from .figures import images as figs, inversion as inv_figs
    lambda1, lambda2 = cfg.option("lambda1", 0.01), cfg.option("lambda2", 0.02)
    target = cfg.option("target", 9)
    if not 0 <= target <= 9:
        raise OptionError(f"invert: --set target must be a digit 0..9, got {target}")
    x, labels = targets(cfg, N_QUICK if cfg.quick else N_DIGITS)
    G, D, source = load_gan(cfg)
    E, enc_seconds, enc_source = trained_encoder(cfg, G, ENCODER_QUICK if cfg.quick
                                                 else ENCODER_STEPS)
    steps = cfg.steps_or(DESCENT_STEPS, DESCENT_QUICK)
    results = run_methods(G, E, x, cfg.seed, steps, cfg.progress)
    report = {}
    for name, (z, err, seconds, _) in results.items():
        report[name] = {"mse_mean": float(err.mean()), "mse_std": float(err.std()),
                        "seconds": seconds, "seconds_per_image": seconds / len(x)}
        print(f"{name}: reconstruction MSE {err.mean():.4f} +- {err.std():.4f} "
              f"({seconds:.1f} s for {len(x)} images)")
    # the editing objective on one digit (the first test digit not already the target)
    clf = evaluate.load_classifier(device=cfg.device)
    pick = 0 if labels is None else int(numpy.flatnonzero(labels != target)[0])
    one = x[pick:pick + 1]
    edits = {}
    for name, l2 in ((f"lambda2 = {lambda2:g}", lambda2), ("lambda2 = 0 (no D term)", 0.0)):
        z0, z_star, imgs, probs, terms = run_edit(G, D, clf, one, E, target, lambda1, l2)
        edits[name] = {"images": imgs, "probs": probs, "terms": terms,
                       "moved": float(numpy.linalg.norm((z_star.numpy() - z0.numpy()).ravel()))}
    edit_report = {k: {"classifier_says": [int(p.argmax()) for p in e["probs"]],
                       "p_target": [float(p[target]) for p in e["probs"]],
                       "code_moved": e["moved"], "final_terms": e["terms"][-1]}
                   for k, e in edits.items()}
    claims = invert_claims(report, edit_report, target)
    # figures
    with no_grad():
        recon = {k: G(z[:12]).numpy() for k, (z, _, _, _) in results.items()}
    rows = [("targets (test digits)", to_pixels(x[:12]))]
    rows += [(f"({i}) {k}: MSE {report[k]['mse_mean']:.4f}, {report[k]['seconds']:.1f} s",
              to_pixels(recon[k])) for i, k in enumerate(results, 1)]
    figs.rows(rows, cfg.out / "invert_reconstructions.png",
              titled(f"Recovering z for {len(x)} test digits", claims[:2]), f"the DCGAN's codes; "
              f"mean squared pixel error over all {len(x)} digits (pixels in [-1, 1])", ncol=12)
    inv_figs.descent_curves({k: r[3] for k, r in results.items() if r[3] is not None},
                            report["encoder"]["mse_mean"], cfg.out / "invert_curves.png")
    inv_figs.editing(edits, target, lambda1, cfg.out / "invert_edit.png")
    for k, e in edit_report.items():
        print(f"edit toward {target}, {k}: classifier says {e['classifier_says']} "
              f"(original, its reconstruction, edited), p({target}) "
              f"{e['p_target'][2]:.2f}")
    return {"claims": claims, "model": source,
            "encoder": enc_source, "encoder_train_seconds": enc_seconds,
            "n_images": len(x), "descent_steps": steps, "methods": report,
            "edit": {"image_index": pick, "label": None if labels is None else int(labels[pick]),
                     "target": target, "lambda1": lambda1, "lambda2": lambda2,
                     "steps": EDIT_STEPS, "runs": edit_report}}

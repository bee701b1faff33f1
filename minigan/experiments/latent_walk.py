"""Walking in the latent space and arithmetic on codes: the experiment ``latent-walk``
(the library code is ``minigan.lessons.latent``).

* **Walks**: 9 random codes joined in turn by 9-step paths, straight (lerp) and
  along the great circle (slerp), one row per pair; the figure shows whether the
  digits morph smoothly. Numbers: the norm of the midpoint codes relative to the
  ends (lerp shrinks it to about 1/sqrt(2); slerp keeps it), the classifier's mean
  confidence on the midpoint images, and the largest pixel change between
  neighbouring frames.
* **Arithmetic**: codes of the trained DCGAN are sorted by what the classifier sees
  and by their ink (the mean pixel brightness of the stroke, a measure of stroke
  thickness). Three samples of each concept are averaged:
  "thick 0" - "thin 0" + "thin 7" should give a thick 7. The classifier's
  verdict and the ink of the result are the checked numbers.
"""
import numpy

from . import experiment
from .trained import load_gan, chosen_gan, GAN_CHOICE
from .image_gans import generate
from ..eval import evaluate
from ..lessons import latent
from ..gan import models
from ..tensor import Tensor

N_CODES, N_STEPS = 9, 9
CONCEPT = (0, 7)          # thick A - thin A + thin B = thick B
CONFIDENT = 0.95


def draw(G, codes, device="cpu"):
    """G's images (N, 28, 28) uint8 for float codes (N, d)."""
    return generate(G, Tensor(numpy.asarray(codes, numpy.float32), device=device))


def ink(pixels):
    """Mean brightness of each image's strokes, 0..1 (uint8 pixels, background 0)."""
    return pixels.reshape(len(pixels), -1).mean(axis=1) / 255.0


def concepts(G, clf, rng, n, a, b, device="cpu"):
    """Three codes each of 'thick a', 'thin a', 'thin b' among n random codes: the
    confidently classified samples of each class with the most and least ink."""
    z = rng.standard_normal((n, models.NOISE_DIM))
    pixels = draw(G, z, device)
    probs, _ = evaluate.classify(clf, pixels)
    cls, conf, amount = probs.argmax(1), probs.max(1), ink(pixels)
    picked = {}
    for name, digit, thickest in ((f"thick {a}", a, True), (f"thin {a}", a, False),
                                  (f"thin {b}", b, False)):
        idx = numpy.flatnonzero((cls == digit) & (conf >= CONFIDENT))
        if len(idx) < 6:
            raise RuntimeError(f"latent-walk: only {len(idx)} of {n} samples are a confident "
                               f"{digit}; the model is too weak for the arithmetic (train it "
                               f"longer with `python -m minigan run dcgan`)")
        order = idx[numpy.argsort(amount[idx])]
        picked[name] = z[order[-3:] if thickest else order[:3]]
    return picked


@experiment("latent-walk", "walks between 9 random codes (linear and spherical) and vector "
                           "arithmetic on codes (thick 0 - thin 0 + thin 7), judged by the "
                           "classifier",
            options={"gan": GAN_CHOICE}, lecture=3)
def run_latent_walk(cfg):
    from .figures import images as figs
    G, _, source = load_gan(cfg, chosen_gan(cfg))
    clf = evaluate.load_classifier(device=cfg.device)
    rng = numpy.random.default_rng(cfg.seed + 2024)
    codes = rng.standard_normal((N_CODES, models.NOISE_DIM))
    report, grids = {}, {}
    for kind in ("lerp", "slerp"):
        paths = latent.walk(codes, N_STEPS, kind)                       # (8, 9, d)
        pixels = draw(G, paths.reshape(-1, models.NOISE_DIM), cfg.device)
        frames = pixels.reshape(N_CODES - 1, N_STEPS, 28, 28).astype(numpy.float64) / 127.5
        mid = paths[:, N_STEPS // 2]
        ends = numpy.linalg.norm(paths[:, [0, -1]], axis=2).mean()
        probs, _ = evaluate.classify(clf, pixels.reshape(N_CODES - 1, N_STEPS, 28, 28)[
            :, N_STEPS // 2])
        report[kind] = {"midpoint_norm_over_end_norm": float(numpy.linalg.norm(mid, axis=1)
                                                             .mean() / ends),
                        "midpoint_classifier_confidence": float(probs.max(1).mean()),
                        "largest_step_between_frames": float(numpy.abs(numpy.diff(
                            frames, axis=1)).mean(axis=(2, 3)).max())}
        grids[kind] = pixels
    note = ", ".join(f"{k}: midpoint norm x{v['midpoint_norm_over_end_norm']:.2f}, classifier "
                     f"confidence {v['midpoint_classifier_confidence']:.2f}"
                     for k, v in report.items())
    figs.rows([(f"{k}: one row per pair of consecutive codes", grids[k]) for k in grids],
              cfg.out / "latent_walk.png", f"Walking between {N_CODES} random codes", note,
              ncol=N_STEPS)

    # vector arithmetic on codes
    a, b = CONCEPT
    picked = concepts(G, clf, rng, 600 if cfg.quick else 3000, a, b, cfg.device)
    result = latent.concept_arithmetic(picked[f"thick {a}"], picked[f"thin {a}"],
                                       picked[f"thin {b}"])
    noisy = result[None] + 0.25 * rng.standard_normal((3, models.NOISE_DIM))
    out_codes = numpy.concatenate([result[None], noisy])
    out_pixels = draw(G, out_codes, cfg.device)
    probs, _ = evaluate.classify(clf, out_pixels)
    rows = []
    for name, z in picked.items():
        px = draw(G, numpy.concatenate([z, z.mean(0, keepdims=True)]), cfg.device)
        rows.append((f"{name}: 3 samples and their mean code (ink {ink(px[:3]).mean():.3f})", px))
    verdict = [int(c) for c in probs.argmax(1)]
    rows.append((f"thick {a} - thin {a} + thin {b}, and with noise 0.25: classifier says "
                 f"{verdict}, ink {ink(out_pixels[:1])[0]:.3f} (the sum), "
                 f"{ink(out_pixels).mean():.3f} (all four)", out_pixels))
    figs.rows(rows, cfg.out / "latent_arithmetic.png", "Vector arithmetic on codes",
              f"averaging 3 codes per concept; the result should be a thick {b}", ncol=4)
    thin_b = ink(draw(G, picked[f"thin {b}"], cfg.device)).mean()
    arithmetic = {"concept": f"thick {a} - thin {a} + thin {b}",
                  "classifier_says": verdict, "p_target": [float(p[b]) for p in probs],
                  "is_target": float((probs.argmax(1) == b).mean()),
                  "ink_result": float(ink(out_pixels[:1])[0]), "ink_thin_target": float(thin_b),
                  "ink_thick_a": float(ink(draw(G, picked[f"thick {a}"], cfg.device)).mean()),
                  "ink_thin_a": float(ink(draw(G, picked[f"thin {a}"], cfg.device)).mean())}
    print(f"walks: {note}\narithmetic: {arithmetic['concept']}: classifier says {verdict}, "
          f"ink {arithmetic['ink_result']:.3f} against thin {b}'s {thin_b:.3f}")
    return {"gan": chosen_gan(cfg), "model": source, "walks": report, "arithmetic": arithmetic}

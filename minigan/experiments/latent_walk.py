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
from .claims import claim, titled
from .trained import load_gan
from ..eval.pixels import generate
from ..eval import evaluate
from ..lessons import latent
from ..gan import models
from ..tensor import Tensor

N_CODES, N_STEPS = 9, 9
CONCEPT = (0, 7)          # thick A - thin A + thin B = thick B
CONFIDENT = 0.95
POOL = 3000              # codes the concepts are picked from (--quick too: G is trained)


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


def walk_claims(walks):
    """Why slerp: a straight line between two Gaussian codes passes through codes of
    smaller norm (for independent d-dimensional N(0, I) codes, the midpoint's norm is
    about 1/sqrt(2) of theirs), where G was hardly ever trained; the great circle
    keeps the norm."""
    lerp = walks["lerp"]["midpoint_norm_over_end_norm"]
    slerp = walks["slerp"]["midpoint_norm_over_end_norm"]
    return [claim("a straight walk between two codes shrinks them towards the origin; a "
                  "spherical walk keeps their norm",
                  "the midpoint's norm over the ends': 1/sqrt(2) = 0.71 (within 0.05) for "
                  "lerp, 1 (within 0.02) for slerp", f"{lerp:.3f} and {slerp:.3f}",
                  abs(lerp - 0.5 ** 0.5) < 0.05 and abs(slerp - 1) < 0.02)]


def arithmetic_claims(arithmetic, b=CONCEPT[1]):
    """Radford et al.'s vector arithmetic, decided from the classifier and the ink."""
    says = arithmetic["classifier_says"]
    sevens = sum(int(c == b) for c in says)
    return [claim(f"{arithmetic['concept']} draws a thick {b}",
                  f"the classifier sees a {b} in at least 3 of the 4 results (the sum and 3 "
                  f"noisy copies), and the sum has more ink than the thin {b}s",
                  f"{sevens} of {len(says)} seen as {b} ({says}); ink "
                  f"{arithmetic['ink_result']:.3f} against {arithmetic['ink_thin_target']:.3f}",
                  sevens >= 3 and arithmetic["ink_result"] > arithmetic["ink_thin_target"])]


@experiment("latent-walk", "walks between 9 random codes (linear and spherical) and vector "
                           "arithmetic on codes (thick 0 - thin 0 + thin 7), judged by the "
                           "classifier",
            lecture=3, loads_model=True)
def run_latent_walk(cfg):
    from .figures import images as figs
    G, _, source = load_gan(cfg)
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
    claims = walk_claims(report)
    figs.rows([(f"{k}: one row per pair of consecutive codes", grids[k]) for k in grids],
              cfg.out / "latent_walk.png",
              titled(f"Walking between {N_CODES} random codes", claims), note, ncol=N_STEPS)
    # the walk as a film: one frame per step along the great circle, all pairs at once
    slerp_frames = grids["slerp"].reshape(N_CODES - 1, N_STEPS, 28, 28)
    figs.emerging_gif([(f"slerp: step {t + 1} of {N_STEPS} from each code to the next",
                        slerp_frames[:, t]) for t in range(N_STEPS)]
                      + [(f"slerp: step {t + 1} of {N_STEPS} (and back)", slerp_frames[:, t])
                         for t in reversed(range(N_STEPS))],
                      cfg.out / "latent_walk.gif", ncol=4, fps=4)

    # vector arithmetic on codes
    a, b = CONCEPT
    picked = concepts(G, clf, rng, POOL, a, b, cfg.device)
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
    thin_b = ink(draw(G, picked[f"thin {b}"], cfg.device)).mean()
    arithmetic = {"concept": f"thick {a} - thin {a} + thin {b}",
                  "classifier_says": verdict, "p_target": [float(p[b]) for p in probs],
                  "is_target": float((probs.argmax(1) == b).mean()),
                  "ink_result": float(ink(out_pixels[:1])[0]), "ink_thin_target": float(thin_b),
                  "ink_thick_a": float(ink(draw(G, picked[f"thick {a}"], cfg.device)).mean()),
                  "ink_thin_a": float(ink(draw(G, picked[f"thin {a}"], cfg.device)).mean())}
    claims += arithmetic_claims(arithmetic, b)
    figs.rows(rows, cfg.out / "latent_arithmetic.png",
              titled("Vector arithmetic on codes", claims[-1:]),
              f"averaging 3 codes per concept; the result should be a thick {b}", ncol=4)
    print(f"walks: {note}\narithmetic: {arithmetic['concept']}: classifier says {verdict}, "
          f"ink {arithmetic['ink_result']:.3f} against thin {b}'s {thin_b:.3f}")
    return {"claims": claims, "model": source, "walks": report, "arithmetic": arithmetic}

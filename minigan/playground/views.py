"""What the page draws, computed by the library: one ``snapshot`` of a run.

Every view is the library's own code applied to the run's current G and D, and
names that code in its ``where`` line (shown beside the view in the page):

* points: the real distribution's samples (``GaussianMixture.sample``) and G's
  samples G(z) on a fixed batch of z (``mlp_generator``);
* D's surface: D over a grid of the plane, as a probability sigmoid(D(x)) for the
  BCE losses and raw otherwise, as the Trainer reports it (``GANStep._report``);
* G's manifold: G over a grid of z in [-2.5, 2.5]^2 (z is 2-D), its image a sheet;
* gradient arrows: -dL_G/dx at G's samples, L_G the loss's own ``g_loss``
  (``minigan.gan.losses``) and the derivative by ``minigan.grad``, the direction
  G's update pushes each sample;
* curves: the losses each ``Trainer.step`` records, and PacGAN's numbers
  (``minigan.eval.metrics.mode_scores``: modes, high-quality fraction, and the
  reverse KL of ``reverse_kl_uniform``) on 2,500 samples of G.

The z's and the real points shown come from generators of their own, so watching
a run never changes it.
"""
import time

import numpy

from .. import backend
from .. import functional as F
from ..eval import metrics
from ..gan.models import Packed
from ..tensor import Tensor, grad, no_grad

FIELD_RES = 48          # D is drawn from FIELD_RES x FIELD_RES values
MANIFOLD_N = 21         # G's manifold: a MANIFOLD_N x MANIFOLD_N grid of z
Z_BOX = 2.5
N_SHOWN = 500           # G's samples drawn as points
N_ARROWS = 160          # of them with an arrow
N_REAL = 500
MAX_CURVE = 300         # points per curve sent to the page
METRICS_EVERY = 0.25    # s between two evaluations of the metrics (2,500 samples)

WHERE = {
    "points": "real x: minigan/data/mixtures.py GaussianMixture.sample; fake G(z): "
              "minigan/gan/models.py mlp_generator",
    "field": "D over the plane: minigan/gan/models.py mlp_discriminator; shown as "
             "sigmoid(D(x)) for the BCE losses, raw otherwise (minigan/gan/step.py "
             "GANStep._report)",
    "field_packed": "D over the plane, each point packed with copies of itself: "
                    "minigan/gan/models.py Packed around mlp_discriminator",
    "manifold": "G over a grid of z in [-2.5, 2.5]^2: minigan/gan/models.py mlp_generator",
    "arrows": "-dL_G/dx at G's samples: L_G = the loss's g_loss (minigan/gan/losses.py), "
              "differentiated by minigan.grad (minigan/tensor.py)",
    "losses": "L_D and L_G of each step: minigan/gan/step.py GANStep.step, kept in "
              "minigan/gan/runner.py History",
    "metrics": "modes, high-quality fraction: minigan/eval/metrics.py mode_scores; "
               "reverse KL: metrics.reverse_kl_uniform",
    "step": "one step = k D updates + one G update: minigan/gan/step.py GANStep.step; "
            "D step: GANStep.discriminator_step; G step: GANStep.generator_step",
}


def extent_of(mixture, settings):
    """The square of the plane drawn: the data's centres plus a margin (the drawn
    points' box for drawn data)."""
    from .session import DRAW_BOX
    if settings["data"] == "drawn":
        return [-DRAW_BOX, DRAW_BOX, -DRAW_BOX, DRAW_BOX]
    r = float(numpy.abs(mixture.centers).max()) + 0.5 + 6 * mixture.std
    return [-r, r, -r, r]


def d_surface(D, probabilities, extent, res=FIELD_RES):
    """D over a res x res grid of `extent` (row i is y = ys[i]), sigmoid(D) for the
    BCE losses; a packed D judges each point packed with copies of itself."""
    xs = numpy.linspace(extent[0], extent[1], res)
    ys = numpy.linspace(extent[2], extent[3], res)
    gx, gy = numpy.meshgrid(xs, ys)
    pts = numpy.stack([gx.ravel(), gy.ravel()], axis=1).astype(numpy.float32)
    if isinstance(D, Packed):
        pts = numpy.repeat(pts, D.pack, axis=0)        # consecutive rows form one pack
    with no_grad():
        out = D(Tensor(pts))
        out = F.sigmoid(out) if probabilities else out
    return out.numpy().reshape(res, res)


def manifold(G, n=MANIFOLD_N, box=Z_BOX):
    """G over an n x n grid of z in [-box, box]^2: (n, n, 2), row i is z_2 = i-th."""
    t = numpy.linspace(-box, box, n, dtype=numpy.float32)
    z1, z2 = numpy.meshgrid(t, t)
    with no_grad():
        return G(Tensor(numpy.stack([z1.ravel(), z2.ravel()], axis=1))).numpy().reshape(n, n, 2)


def generator_arrows(D, loss, fake):
    """-dL_G/dx at each sample x of `fake` (the push of G's update on each sample):
    L_G summed over the packs, not averaged, so an arrow is one sample's own push."""
    pack = D.pack if isinstance(D, Packed) else 1
    k = (len(fake) // pack) * pack
    x = Tensor(numpy.ascontiguousarray(fake[:k]), requires_grad=True)
    loss_g = loss.g_loss(D(x)) * float(k // pack)
    (g,) = grad(loss_g, x)
    return -g.numpy()


def _thin(values, n=MAX_CURVE):
    if len(values) <= n:
        return list(values)
    idx = numpy.linspace(0, len(values) - 1, n).round().astype(int)
    return [values[i] for i in idx]


def _r(a, digits=4):
    """Rounded plain lists for JSON (NaN and inf as None)."""
    a = numpy.round(numpy.asarray(a, dtype=numpy.float64), digits)
    out = a.tolist()
    if not numpy.isfinite(a).all():
        def clean(v):
            if isinstance(v, list):
                return [clean(u) for u in v]
            return v if numpy.isfinite(v) else None
        out = clean(out)
    return out


def snapshot(run):
    """Everything the page draws for `run` (a ``session.Session``), as plain JSON data."""
    from .session import ENGINE_LOCK
    with ENGINE_LOCK:
        tr, s = run.trainer, run.settings
        if run.real_points is None:
            backend.manual_seed(s["seed"] + 104_729)    # its own stream (engine() restores
            run.real_points = run.mixture.sample(N_REAL).numpy()   # the run's before a step)
        extent = extent_of(run.mixture, s)
        probs = tr.loss.probabilities
        with run.engine():
            tr.G.eval()
            tr.D.eval()
            with no_grad():
                fake_all = tr.G(Tensor(run.z_eval)).numpy()
            field = d_surface(tr.D, probs, extent)
            sheet = manifold(tr.G)
            arrows = generator_arrows(tr.D, tr.loss, fake_all[:N_ARROWS])
            tr.G.train()
            tr.D.train()
        step = tr.global_step
        c = run.curves
        now = time.monotonic()
        fresh = not c["metric_step"] or (c["metric_step"][-1] != step and now - getattr(
            run, "_metrics_at", 0.0) >= METRICS_EVERY)
        if fresh and numpy.isfinite(fake_all).all():
            sc = metrics.mode_scores(fake_all, run.mixture)
            run._metrics_at = now
            if c["metric_step"] and c["metric_step"][-1] == step:
                for k in ("metric_step", "modes", "high_quality", "reverse_kl"):
                    c[k].pop()
            c["metric_step"].append(step)
            c["modes"].append(sc["modes"])
            c["high_quality"].append(sc["high_quality"])
            c["reverse_kl"].append(sc["reverse_kl"])
        if len(c["step"]) > 40 * MAX_CURVE:             # keep the lists short: every other
            for k in ("step", "loss_d", "loss_g"):
                c[k][:] = c[k][::2]
        curves = {k: _thin(v) for k, v in c.items() if k in ("step", "loss_d", "loss_g")}
        curves.update({k: _thin(c[k]) for k in ("metric_step", "modes", "high_quality",
                                                "reverse_kl")})
        latest = ({k: c[k][-1] for k in ("modes", "high_quality", "reverse_kl")}
                  if c["metric_step"] else {})
        latest["n_modes"] = run.mixture.n_modes
        latest["step"] = c["metric_step"][-1] if c["metric_step"] else None   # measured at
        lrs = [group["lr"] for o in (tr.g_optimizer, tr.d_optimizer) for group in o.param_groups]
        return {
            "id": run.id, "version": run.version, "step": step,
            "d_updates": run.d_updates, "g_updates": run.g_updates,
            "playing": run.playing, "speed": run.speed, "error": run.error,
            "settings": run.settings_as_given(), "extent": extent,
            "lr": {"g": lrs[0], "d": lrs[-1]},
            "real": _r(run.real_points, 3), "fake": _r(fake_all[:N_SHOWN], 3),
            "field": {"res": FIELD_RES, "values": _r(field.ravel(), 3),
                      "probability": bool(probs)},
            "manifold": {"n": MANIFOLD_N, "points": _r(sheet.reshape(-1, 2), 3)},
            "arrows": _r(arrows, 4),
            "metrics": {k: (None if isinstance(v, float) and not numpy.isfinite(v) else v)
                        for k, v in latest.items()},
            "curves": {k: _r(v, 4) for k, v in curves.items()},
            "where": dict(WHERE, field=WHERE["field_packed"] if s["pack"] > 1 else WHERE["field"]),
        }

"""Experiments "bilinear" and "dirac-gan": why gradient descent does not find a
Nash equilibrium, and which methods and regularizers make it converge.

Lecture: GAN training difficulty, non-convergence ("min_x max_y xy: the SGD
orbits forever around (0, 0)"). The dynamics are computed by autodiff in
``minigan.gan.toys.games``; here they are run, measured against theory, and drawn.
"""
import numpy

from . import experiment
from .claims import claim, titled
from ..gan.toys import games
from .figures import phase_plane
from .figures.style import plt, save, suptitle

BILINEAR_START = (1.0, 0.5)
BILINEAR_STEP = 0.1
DIRAC_START = (1.0, 1.0)
DIRAC_STEP = 0.2


def _ratio(dist, tail=20):
    """The asymptotic per-step factor: the geometric mean of the last `tail` ratios."""
    d = numpy.asarray(dist, float)
    tail = min(tail, len(d) - 1)
    return float((d[-1] / d[-1 - tail]) ** (1.0 / tail)) if d[-1 - tail] > 0 else float("nan")


def bilinear_claims(m):
    """The lecture's claims on min_x max_y xy, decided from the run's numbers `m`."""
    start = float(numpy.hypot(*m["start"]))
    rate, theory = m["simultaneous_rate_measured"], m["simultaneous_rate_theory"]
    fixes = ("optimistic", "extragradient", "consensus", "sga")
    finals = {f: m[f"{f}_final_distance"] for f in fixes}
    return [
        claim("simultaneous gradient descent-ascent spirals away from the equilibrium",
              f"the distance to (0, 0) grows by sqrt(1 + eta^2) = {theory:.6f} a step",
              f"x{rate:.6f} a step, from {start:.2f} to {m['simultaneous_final_distance']:.2f}",
              abs(rate - theory) < 1e-6 * theory and m["simultaneous_final_distance"] > start),
        claim("optimistic GDA, extragradient, consensus optimization and SGA converge",
              f"each ends closer to (0, 0) than its start, {start:.2f}",
              ", ".join(f"{f} {d:.2g}" for f, d in finals.items()),
              all(d < start for d in finals.values())),
    ]


def dirac_claims(m):
    """Mescheder et al.'s claims on the Dirac-GAN, decided from the run's numbers `m`."""
    start = m["start_distance"]
    return [
        claim("the unregularized GAN does not converge under simultaneous GDA",
              f"its distance to the equilibrium ends no smaller than the start, {start:.2f}",
              f"{m['gda_standard_final_distance']:.2f}",
              m["gda_standard_final_distance"] >= start),
        claim("an R1 penalty on D's gradient at the data makes it converge",
              f"the distance ends below 1% of the start ({0.01 * start:.3f})",
              f"{m['gda_R1_final_distance']:.1e}", m["gda_R1_final_distance"] < 0.01 * start),
    ]


def run_bilinear(steps, step_size=BILINEAR_STEP, start=BILINEAR_START, progress=False,
                 device="cpu"):
    """Every method on the bilinear game: {method: path (steps + 1, 2)}."""
    game = games.BilinearGame()
    return game, {m: games.play(game, m, start, step_size, steps, progress=progress,
                                device=device)
                  for m in games.METHODS}


@experiment("bilinear", "min_x max_y xy: GDA spirals out; optimistic, extragradient, "
                        "consensus and SGA converge (rates vs theory)", lecture=3)
def bilinear(cfg):
    steps = cfg.steps_or(200, quick_default=120)
    eta = BILINEAR_STEP
    game, paths = run_bilinear(steps, eta, progress=cfg.progress, device=cfg.device)
    dist = {m: game.distance(p[:, 0], p[:, 1]) for m, p in paths.items()}
    metrics = {"step_size": eta, "steps": steps, "start": list(BILINEAR_START)}
    for m in games.METHODS:
        metrics[f"{m}_final_distance"] = float(dist[m][-1])
        if m != "alternating":
            metrics[f"{m}_rate_measured"] = _ratio(dist[m])
            metrics[f"{m}_rate_theory"] = games.bilinear_rate(m, eta)
    inv = games.alternating_invariant(paths["alternating"][:, 0], paths["alternating"][:, 1], eta)
    metrics["alternating_invariant_drift"] = float(inv.max() - inv.min())
    claims = metrics["claims"] = bilinear_claims(metrics)

    # Figure 1: the phase plane, every method over the vector field
    lim = 3.0
    grid = numpy.linspace(-lim, lim, 41)
    field = games.vector_field(game, grid, grid, cfg.device)
    labels = {m: f"{m}: {dist[m][-1]:.2g}" for m in games.METHODS}
    fig, ax = plt.subplots(figsize=(7.2, 6.8))
    phase_plane.phase_portrait(ax, field, {labels[m]: paths[m] for m in games.METHODS},
                       (-lim, lim), (-lim, lim), xlabel="x (player 1 minimizes xy)",
                       ylabel="y (player 2 maximizes xy)")
    ax.legend(loc="upper left", fontsize=8, title="method: final distance", title_fontsize=8,
              framealpha=0.9)
    suptitle(fig, titled("The bilinear game  min_x max_y xy", claims),
                 f"step {eta}, {steps} steps from {BILINEAR_START}: simultaneous GDA spirals "
                 f"out x{dist['simultaneous'][-1] / dist['simultaneous'][0]:.2f}, alternating "
                 f"cycles, the others converge")
    save(fig, cfg.out / "bilinear_phase.png")

    # Figure 2: distance against steps, theory dashed
    rates = {m: games.bilinear_rate(m, eta) for m in games.METHODS if m != "alternating"}
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    phase_plane.distance_plot(ax, dist, rates=rates)
    ax.legend(fontsize=8, ncol=2, title="measured (colour) and theory (dotted)",
              title_fontsize=8)
    suptitle(fig, "Distance to the equilibrium (0, 0), bilinear game",
                 f"simultaneous: x{metrics['simultaneous_rate_measured']:.6f} per step "
                 f"(theory sqrt(1+eta^2) = {rates['simultaneous']:.6f}); "
                 f"extragradient x{metrics['extragradient_rate_measured']:.6f} "
                 f"(theory {rates['extragradient']:.6f})")
    save(fig, cfg.out / "bilinear_distance.png")

    # Animation: the trajectories unfolding over the field
    phase_plane.animate_paths(field, paths, cfg.out / "bilinear_trajectories.gif", (-lim, lim),
                      (-lim, lim), title="bilinear game,", frames=25 if cfg.quick else 40)
    return metrics


# --------------------------------------------------------------- Dirac-GAN
def dirac_variants(r1=1.0, noise=0.5, clip=0.5, gp=1.0):
    """The loss/regularizer variants compared with simultaneous GDA."""
    return {
        "standard": games.DiracGAN("standard"),
        "non-saturating": games.DiracGAN("non-saturating"),
        "wgan": games.DiracGAN("wgan"),
        "wgan (clip)": games.DiracGAN("wgan", clip=clip),
        "wgan-gp": games.DiracGAN("wgan-gp", gp_weight=gp),
        "instance noise": games.DiracGAN("standard", instance_noise=noise),
        "R1": games.DiracGAN("standard", r1=r1),
    }


@experiment("dirac-gan", "Dirac-GAN (Mescheder et al. 2018): every method and loss; "
                         "only regularized or corrected dynamics converge", lecture=3)
def dirac_gan(cfg):
    steps = cfg.steps_or(500, quick_default=250)
    eta = DIRAC_STEP
    standard = games.DiracGAN("standard")
    by_method = {m: games.play(standard, m, DIRAC_START, eta, steps, progress=cfg.progress,
                               device=cfg.device)
                 for m in games.METHODS}
    variants = dirac_variants()
    by_variant = {v: games.play(g, "simultaneous", DIRAC_START, eta, steps, device=cfg.device)
                  for v, g in variants.items()}
    d_method = {m: standard.distance(p[:, 0], p[:, 1]) for m, p in by_method.items()}
    d_variant = {v: standard.distance(p[:, 0], p[:, 1]) for v, p in by_variant.items()}
    start_d = float(d_method["simultaneous"][0])
    metrics = {"step_size": eta, "steps": steps, "start": list(DIRAC_START),
               "start_distance": start_d}
    for m, d in d_method.items():
        metrics[f"method_{m}_final_distance"] = float(d[-1])
    for v, d in d_variant.items():
        metrics[f"gda_{v.replace(' ', '_').replace('(', '').replace(')', '')}_final_distance"] = \
            float(d[-1])
    claims = metrics["claims"] = dirac_claims(metrics)

    lim = 2.5
    grid = numpy.linspace(-lim, lim, 41)
    field = games.vector_field(standard, grid, grid, cfg.device)
    labels = ("theta (generator: where its samples sit)",
              "psi (discriminator slope)")

    fig, axes = plt.subplots(1, 2, figsize=(13.5, 6.4))
    phase_plane.phase_portrait(axes[0], field,
                       {f"{m}: {d_method[m][-1]:.1e}": by_method[m] for m in games.METHODS},
                       (-lim, lim), (-lim, lim), xlabel=labels[0], ylabel=labels[1],
                       title="standard GAN loss, six gradient methods")
    axes[0].legend(loc="upper left", fontsize=8, title="method: final distance",
                   title_fontsize=8, framealpha=0.9)
    # the right panel's field is the standard one too: each variant bends it differently
    phase_plane.phase_portrait(axes[1], field,
                       {f"{v}: {d_variant[v][-1]:.1e}": by_variant[v] for v in variants},
                       (-lim, lim), (-lim, lim), xlabel=labels[0], ylabel=labels[1],
                       title="simultaneous GDA, seven losses/regularizers\n"
                             "(stream lines: the standard loss's field)")
    axes[1].legend(loc="upper left", fontsize=8, title="loss: final distance",
                   title_fontsize=8, framealpha=0.9)
    suptitle(fig, titled("Dirac-GAN: data at 0, generator at theta, D(x) = psi x", claims),
                 f"step {eta}, {steps} steps from (theta, psi) = {DIRAC_START}: plain GDA ends "
                 f"at distance {d_method['simultaneous'][-1]:.2f} (start {start_d:.2f}); "
                 f"with R1 (gamma=1) at {d_variant['R1'][-1]:.1e}")
    save(fig, cfg.out / "dirac_phase.png")

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), sharey=True)
    phase_plane.distance_plot(axes[0], d_method, title="standard loss, by method")
    phase_plane.distance_plot(axes[1], d_variant, title="simultaneous GDA, by loss/regularizer")
    axes[0].legend(fontsize=8, ncol=2)
    axes[1].legend(fontsize=8, ncol=2)
    suptitle(fig, "Dirac-GAN: distance to the equilibrium (0, 0)",
                 "fast: consensus, SGA and R1; slow: optimistic, extragradient, instance noise; "
                 "never: plain GDA, WGAN (straight line on a log scale = linear rate)")
    save(fig, cfg.out / "dirac_distance.png")
    return metrics

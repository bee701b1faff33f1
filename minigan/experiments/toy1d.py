"""Experiments "optimal-discriminator" and "gan-1d": the lecture's formulation on the line.

* optimal-discriminator: G held fixed, D (a small MLP) trained to convergence.
  D approaches D* = p_data / (p_data + p_g), and the value of the game approaches
  -log 4 + 2 JSD(p_data || p_g). With one-sided label smoothing (real label
  alpha) D approaches alpha D* instead.
* gan-1d: both players trained (Goodfellow et al. 2014, Figure 1): p_g moves
  onto p_data and D flattens towards 1/2.
"""
import math

import numpy

from . import experiment, trainer_settings, resuming
from .. import backend
from ..gan.toys import toy1d
from ..gan.runner import Recorder
from .figures import densities_1d
from .figures.style import plt, save, suptitle, color
from .claims import claim, titled

P_DATA = (2.0, 0.75)          # p_data = N(2, 0.75^2)
FIXED_G = (0.0, 1.0)          # the fixed generator: p_g = N(0, 1)
SMOOTH_ALPHA = 0.9
GRID = numpy.linspace(-3.5, 5.0, 801)


def fit_optimal_discriminator(steps, real_label=1.0, seed=0, snapshot_steps=(), device="cpu",
                              hidden=16, batch_size=512, track_value=True, progress=False,
                              cfg=None, name="d-star"):
    """Train D against the fixed G; return D, the densities, D's snapshots on GRID
    and (with track_value) the value V(G, D) at about 60 points of training.
    With `cfg`, it trains as that experiment's run `name` (checkpointed, resumable)."""
    backend.manual_seed(seed)
    p_data = toy1d.Gaussian1D(*P_DATA)
    G = toy1d.AffineGenerator(*FIXED_G)
    D = toy1d.mlp_discriminator(hidden)

    def look(trainer, step):
        d = toy1d.probabilities_on(D, GRID, device) if step in snapshot_steps else None
        v = (toy1d.game_value(D, p_data, G.density(), n=4001, device=device)
             if track_value and (step % max(steps // 60, 1) == 0 or step == steps) else None)
        return {"step": step, "d": d, "value": v} if d is not None or v is not None else None
    watch = Recorder(look, at_start=True)
    trainer = toy1d.discriminator_trainer(
        D, p_data, G, steps, batch_size=batch_size, real_label=real_label, device=device,
        seed=seed, progress={"desc": "D vs fixed G", "leave": False} if progress else False,
        **trainer_settings(cfg, name, [watch]))
    trainer.fit(steps, resume=resuming(cfg))
    snaps = {r["step"]: r["d"] for r in watch.records if r["d"] is not None}
    values = [(r["step"], r["value"]) for r in watch.records if r["value"] is not None]
    return D, p_data, G.density(), snaps, values


def discriminator_error(D, p_data, p_g, alpha=1.0, device="cpu"):
    """max |D - alpha D*| where p_data or p_g is above 1% of its peak."""
    mask = toy1d.where_either_density_matters(p_data, p_g, GRID)
    d = toy1d.probabilities_on(D, GRID, device)
    return float(numpy.abs(d - toy1d.optimal_discriminator(p_data, p_g, GRID, alpha))[mask].max())


def optimal_discriminator_claims(m):
    """Goodfellow et al.'s Proposition 1 and Theorem 1, decided from the run's numbers."""
    return [
        claim("with G fixed, the trained D approaches D* = p_data / (p_data + p_g)",
              "max |D - D*| below 0.05 where either density matters",
              f"{m['max_abs_D_minus_Dstar']:.3f}", m["max_abs_D_minus_Dstar"] < 0.05),
        claim("at D*, the value is -log 4 + 2 JSD(p_data || p_g)",
              f"V within 0.01 of {m['minus_log4_plus_2jsd']:.4f}",
              f"V = {m['value_V']:.4f}", m["abs_V_minus_theory"] < 0.01),
        claim("one-sided label smoothing alpha makes the optimal D alpha D*",
              "max |D - alpha D*| below 0.05",
              f"{m['label_smoothing_max_abs_D_minus_alpha_Dstar']:.3f}",
              m["label_smoothing_max_abs_D_minus_alpha_Dstar"] < 0.05),
    ]


def gan_1d_claims(m):
    """Goodfellow et al.'s Figure 1, decided from the run's numbers."""
    return [
        claim("G's distribution moves onto the data's",
              "JSD(p_data || p_g) ends below 0.01 nats (it is at most log 2 = 0.69)",
              f"{m['jsd_start']:.3f} -> {m['jsd_end']:.4f} nats", m["jsd_end"] < 0.01),
        claim("D flattens to 1/2 where the data is",
              "mean |D - 1/2| below 0.05 within two standard deviations of the data's mean",
              f"{m['mean_abs_D_minus_half_on_data']:.3f}",
              m["mean_abs_D_minus_half_on_data"] < 0.05),
    ]


@experiment("optimal-discriminator", "G fixed, D trained: D -> D* = p_data/(p_data+p_g), "
                                     "V -> -log 4 + 2 JSD; label smoothing gives alpha D*",
                                     lecture=3)
def optimal_discriminator(cfg):
    steps = cfg.steps_or(600, quick_default=300)
    stages = sorted({0, max(steps // 30, 1), max(steps // 6, 1), steps})
    gif_steps = set(numpy.linspace(0, steps, 31 if cfg.quick else 46).astype(int).tolist())
    D, p_data, p_g, snaps, values = fit_optimal_discriminator(
        steps, 1.0, cfg.seed, set(stages) | gif_steps, cfg.device, progress=cfg.progress,
        cfg=cfg, name="d-star")
    D_s, _, _, snaps_s, _ = fit_optimal_discriminator(
        steps, SMOOTH_ALPHA, cfg.seed, {steps}, cfg.device, progress=cfg.progress,
        cfg=cfg, name="d-star-smoothed")

    d_star = toy1d.optimal_discriminator(p_data, p_g, GRID)
    pd, pg = p_data.pdf(GRID), p_g.pdf(GRID)
    jsd = toy1d.jsd(p_data, p_g)
    c_g = -math.log(4) + 2 * jsd
    v = toy1d.game_value(D, p_data, p_g, device=cfg.device)
    err = discriminator_error(D, p_data, p_g, 1.0, cfg.device)
    err_s = discriminator_error(D_s, p_data, p_g, SMOOTH_ALPHA, cfg.device)
    metrics = {
        "p_data": str(p_data), "p_g": str(p_g), "d_steps": steps,
        "max_abs_D_minus_Dstar": err,
        "value_V": v, "minus_log4_plus_2jsd": c_g, "jsd_nats": jsd,
        "abs_V_minus_theory": abs(v - c_g),
        "label_smoothing_alpha": SMOOTH_ALPHA,
        "label_smoothing_max_abs_D_minus_alpha_Dstar": err_s,
        "label_smoothing_max_D": float(snaps_s[steps].max()),
    }
    claims = metrics["claims"] = optimal_discriminator_claims(metrics)

    # Figure 1: a row of panels, D converging to D*
    backend.manual_seed(cfg.seed)
    g_samples = toy1d.AffineGenerator(*FIXED_G).sample(20000).numpy().ravel()
    fig, axes = plt.subplots(1, len(stages), figsize=(4.3 * len(stages), 3.9))
    for i, (ax, s) in enumerate(zip(axes, stages)):
        e = float(numpy.abs(snaps[s] - d_star)[toy1d.where_either_density_matters(
            p_data, p_g, GRID)].max())
        axes2 = densities_1d.density_panel(ax, GRID, pd, snaps[s], d_star, p_g=pg,
                                           g_samples=g_samples, legend=False,
                                           title=f"D after {s} steps: max|D - D*| = {e:.3f}")
    suptitle(fig, titled("With G fixed, the trained D approaches D* = p_data / (p_data + "
                         "p_g)", claims),
                 f"p_data = {p_data}, p_g = {p_g}; after {steps} steps max|D - D*| = {err:.3f} "
                 f"where either density is above 1% of its peak")
    fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    densities_1d.row_legend(fig, *axes2)
    save(fig, cfg.out / "optimal_discriminator_stages.png")

    # Figure 2: the value climbing to -log 4 + 2 JSD, and label smoothing
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12.5, 4.3))
    st, vals = zip(*values)
    a1.plot(st, vals, color=color("D"), lw=2, label="V(G, D) of the trained D")
    a1.axhline(c_g, color="black", ls="--", lw=1.2,
               label=f"-log 4 + 2 JSD = {c_g:.4f}  (max over D)")
    a1.axhline(-math.log(4), color="grey", ls=":", lw=1.2,
               label=f"-log 4 = {-math.log(4):.4f}  (the value if p_g = p_data)")
    a1.set_ylim(min(-math.log(4), min(vals)) - 0.1, c_g + 0.15)
    a1.set_xlabel("discriminator step")
    a1.set_ylabel("V = E_data log D + E_g log(1 - D)")
    a1.set_title(f"the value of the game: |V - (-log 4 + 2 JSD)| = {abs(v - c_g):.4f}",
                 fontsize=10.5)
    a1.legend(fontsize=8.5, loc="lower right")
    a1.grid(alpha=0.3)
    _, a2r = densities_1d.density_panel(a2, GRID, pd, snaps_s[steps], SMOOTH_ALPHA * d_star, p_g=pg,
                               d_label=f"D trained with real label {SMOOTH_ALPHA}",
                               legend=False, title=f"one-sided label smoothing: "
                                                   f"max|D - {SMOOTH_ALPHA} D*| = {err_s:.3f}")
    h, lab = [], []
    for axis in (a2, a2r):
        hh, ll = axis.get_legend_handles_labels()
        h, lab = h + hh, lab + ll
    lab = [x.replace("D* = p_data/(p_data+p_g)", f"{SMOOTH_ALPHA} D*") for x in lab]
    a2.legend(h, lab, loc="upper left", fontsize=8)
    suptitle(fig, "At D*, the value is -log 4 + 2 JSD(p_data || p_g)",
                 f"JSD = {jsd:.4f} nats, V of the trained D = {v:.4f}; with real label "
                 f"alpha = {SMOOTH_ALPHA}, D tops out at {metrics['label_smoothing_max_D']:.3f}, "
                 f"never 1")
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    save(fig, cfg.out / "optimal_discriminator_value.png")

    # Animation: D during training
    densities_1d.animate_density(GRID, pd, [dict(D=snaps[s], D_star=d_star, p_g=pg,
                                        title=f"D vs fixed G, step {s} of {steps}")
                                   for s in sorted(gif_steps)],
                        cfg.out / "optimal_discriminator.gif")
    return metrics


# ---------------------------------------------------------------- gan-1d
G_START = (-1.0, 0.4)          # the generator starts at N(-1, 0.4^2)


@experiment("gan-1d", "Goodfellow et al. 2014, Fig. 1: a 1-D GAN, p_g moving onto p_data "
                      "and D flattening to 1/2", lecture=2)
def gan_1d(cfg):
    steps = cfg.steps_or(1500, quick_default=500)
    backend.manual_seed(cfg.seed)
    p_data = toy1d.Gaussian1D(*P_DATA)
    G = toy1d.AffineGenerator(*G_START)
    D = toy1d.mlp_discriminator(16)
    stages = sorted({0, steps // 10, steps // 3, steps})
    gif_steps = set(numpy.linspace(0, steps, 31 if cfg.quick else 61).astype(int).tolist())

    def look(trainer, step):
        p_g, shown = G.density(), step in stages or step in gif_steps
        return {"step": step, "mean": p_g.mean, "std": p_g.std,
                "jsd": toy1d.jsd(p_data, p_g) if step % 10 == 0 else None,
                "d": toy1d.probabilities_on(D, GRID, cfg.device) if shown else None,
                "samples": G.sample(2000, cfg.device).numpy().ravel() if shown else None}
    watch = Recorder(look, at_start=True)
    trainer = toy1d.gan_trainer(G, D, p_data, "non-saturating", lr_d=0.01, lr_g=0.01,
                                device=cfg.device, seed=cfg.seed,
                                progress={"desc": "1-D GAN", "leave": False}
                                if cfg.progress else False,
                                **trainer_settings(cfg, "gan-1d", [watch]))
    trainer.fit(steps, resume=resuming(cfg))
    snaps = {r["step"]: (toy1d.Gaussian1D(r["mean"], r["std"]), r["d"], r["samples"])
             for r in watch.records if r["d"] is not None}
    trace = [(r["step"], r["mean"], r["std"], numpy.nan if r["jsd"] is None else r["jsd"])
             for r in watch.records]
    p_g = G.density()
    mask = (GRID > p_data.mean - 2 * p_data.std) & (GRID < p_data.mean + 2 * p_data.std)
    d_end = toy1d.probabilities_on(D, GRID, cfg.device)
    metrics = {
        "steps": steps, "p_data": str(p_data), "p_g_start": str(toy1d.Gaussian1D(*G_START)),
        "p_g_end": str(p_g), "g_mean_end": p_g.mean, "g_std_end": p_g.std,
        "jsd_start": toy1d.jsd(p_data, toy1d.Gaussian1D(*G_START)),
        "jsd_end": toy1d.jsd(p_data, p_g),
        "mean_abs_D_minus_half_on_data": float(numpy.abs(d_end - 0.5)[mask].mean()),
    }
    claims = metrics["claims"] = gan_1d_claims(metrics)

    pd = p_data.pdf(GRID)
    letters = "abcdefgh"
    fig, axes = plt.subplots(1, len(stages), figsize=(4.3 * len(stages), 3.9))
    for i, (ax, s) in enumerate(zip(axes, stages)):
        pg_s, d_s, samples = snaps[s]
        axes2 = densities_1d.density_panel(ax, GRID, pd, d_s,
                                  toy1d.optimal_discriminator(p_data, pg_s, GRID),
                                  p_g=pg_s.pdf(GRID), g_samples=samples, legend=False,
                                  title=f"({letters[i]}) step {s}: p_g = {pg_s}")
    suptitle(fig, titled("A GAN on the line: p_g moves onto p_data, D flattens towards 1/2",
                         claims),
                 f"non-saturating loss, Adam; JSD(p_data || p_g) {metrics['jsd_start']:.3f} -> "
                 f"{metrics['jsd_end']:.4f} nats; p_g {metrics['p_g_start']} -> {p_g}")
    fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    densities_1d.row_legend(fig, *axes2)
    save(fig, cfg.out / "gan1d_stages.png")

    fig, ax = plt.subplots(figsize=(7, 3.8))
    t = numpy.array(trace, float)
    ax.plot(t[:, 0], t[:, 1], color=color("p_g"), lw=2, label="mean of p_g")
    ax.plot(t[:, 0], t[:, 2], color=color("p_g"), lw=2, ls="--", label="std of p_g")
    ax.axhline(p_data.mean, color=color("p_data"), lw=1.2, label="mean of p_data")
    ax.axhline(p_data.std, color=color("p_data"), lw=1.2, ls="--", label="std of p_data")
    ax.set_xlabel("step")
    ax.set_ylabel("value")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center right")
    suptitle(fig, "The generator's parameters during training",
                 f"end: mean {p_g.mean:.3f} (data {p_data.mean}), std {p_g.std:.3f} "
                 f"(data {p_data.std})")
    save(fig, cfg.out / "gan1d_parameters.png")

    frames = []
    for s in sorted(gif_steps):
        pg_s, d_s, _ = snaps[s]
        frames.append(dict(D=d_s, D_star=toy1d.optimal_discriminator(p_data, pg_s, GRID),
                           p_g=pg_s.pdf(GRID), title=f"1-D GAN, step {s} of {steps}: p_g = {pg_s}"))
    densities_1d.animate_density(GRID, pd, frames, cfg.out / "gan1d_training.gif")
    return metrics

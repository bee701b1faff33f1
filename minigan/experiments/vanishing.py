"""Experiment "vanishing-gradients": why G minimizes -log D(G(z)), not log(1 - D(G(z))).

Lecture: with a = D's logit on a fake sample, D(G(z)) = sigmoid(a), and

    d/da  log(1 - sigmoid(a)) = -sigmoid(a)        -> 0 when D rejects the fake (D -> 0)
    d/da -log sigmoid(a)      = -(1 - sigmoid(a))  -> -1 there

1. The two gradients over a sweep of logits, computed by autodiff through the
   loss functions that training uses (``minigan.gan.losses``).
2. A 1-D GAN whose D is strong from the start (pretrained against the first
   G): with the saturating (minimax) loss G's gradient is tiny and G stalls;
   with the non-saturating loss the same G walks to the data.
"""
import numpy

from . import experiment, trainer_settings, resuming
from .. import backend
from ..tensor import Tensor, grad
from ..gan import losses
from ..gan.toys import toy1d
from ..gan.runner import Recorder
from .figures.style import plt, save, suptitle, color
from .claims import claim, titled

P_DATA = (2.0, 0.75)
G_START = (-3.0, 0.3)        # far from the data, where a pretrained D is confident
PRETRAIN_STEPS = 300
G_LR = 0.05                  # plain SGD for G: Adam would rescale a vanishing gradient


def generator_logit_gradients(logits):
    """|dL_G/da| per sample for both G losses, by autodiff; a = D's logit on a fake.

    The losses average over the batch; multiplying by n gives each sample's own
    gradient.
    """
    a = Tensor(numpy.asarray(logits, numpy.float64), requires_grad=True)
    n = a.size
    (g_sat,) = grad(losses.minimax_g_loss(a) * n, a)
    (g_ns,) = grad(losses.non_saturating_g_loss(a) * n, a)
    return numpy.abs(g_sat.numpy()), numpy.abs(g_ns.numpy())


def strong_discriminator(seed=0, steps=PRETRAIN_STEPS, device="cpu", cfg=None):
    """D trained to convergence against the starting G: it rejects G's samples."""
    backend.manual_seed(seed)
    p_data = toy1d.Gaussian1D(*P_DATA)
    D = toy1d.mlp_discriminator(16)
    trainer = toy1d.discriminator_trainer(D, p_data, toy1d.AffineGenerator(*G_START), steps,
                                          device=device, seed=seed, progress=False,
                                          **trainer_settings(cfg, "strong-d"))
    trainer.fit(steps, resume=resuming(cfg))
    return D


def race(steps, seed=0, device="cpu", pretrain_steps=PRETRAIN_STEPS, progress=False, cfg=None):
    """Both G losses from the same G and the same strong D; per-step traces
    (step, G's mean, G's std, ||grad of L_G||, D at G's mean). With `cfg`, the
    three trainings are that experiment's runs (checkpointed, resumable)."""
    D0 = strong_discriminator(seed, pretrain_steps, device, cfg)
    p_data = toy1d.Gaussian1D(*P_DATA)
    traces = {}
    for g_loss in ("minimax", "non-saturating"):
        backend.manual_seed(seed + 1)
        D = toy1d.mlp_discriminator(16)
        D.load_state_dict(D0.state_dict())
        G = toy1d.AffineGenerator(*G_START)

        def look(trainer, step):
            with_d = toy1d.probabilities_on(trainer.D, [trainer.G.shift.item()], device)[0]
            return {"row": [step, trainer.G.shift.item(), abs(trainer.G.scale.item()),
                            trainer.history[-1]["grad_norm_g"], float(with_d)]}
        watch = Recorder(look)
        trainer = toy1d.gan_trainer(G, D, p_data, g_loss, g_optimizer="sgd", lr_g=G_LR,
                                    lr_d=0.005, device=device, seed=seed + 1,
                                    progress={"desc": f"1-D GAN ({g_loss})", "leave": False}
                                    if progress else False,
                                    **trainer_settings(cfg, g_loss, [watch]))
        trainer.fit(steps, resume=resuming(cfg))
        traces[g_loss] = numpy.array([r["row"] for r in watch.records])
    return traces


def vanishing_claims(m):
    """The lecture's vanishing-gradient claims, decided from the run's numbers."""
    way = abs(m["data_mean"] - m["g_start_mean"])
    return [
        claim("where D rejects the fakes (D(G(z)) = 0.01), the saturating loss's gradient is "
              "99 times smaller than the non-saturating one's",
              "|grad| = D = 0.01 against 1 - D = 0.99, a ratio of (1 - D) / D = 99",
              f"{m['grad_saturating_at_D_0.01']:.4f} against "
              f"{m['grad_non_saturating_at_D_0.01']:.4f}, a ratio of "
              f"{m['ratio_non_saturating_over_saturating_at_D_0.01']:.2f}",
              abs(m["ratio_non_saturating_over_saturating_at_D_0.01"] - 99) < 1e-6),
        claim("against a strong D, G stalls under the saturating loss and reaches the data "
              "under the non-saturating one",
              f"the saturating G moves less than 10% of the way from {m['g_start_mean']:g} to "
              f"{m['data_mean']:g}; the non-saturating G ends within 10% of it",
              f"saturating G ends at {m['saturating_g_mean_end']:.2f}, non-saturating at "
              f"{m['non_saturating_g_mean_end']:.2f}",
              abs(m["saturating_g_mean_end"] - m["g_start_mean"]) < 0.1 * way
              and abs(m["non_saturating_g_mean_end"] - m["data_mean"]) < 0.1 * way),
    ]


@experiment("vanishing-gradients", "saturating vs non-saturating G loss: gradient against "
                                   "D(G(z)), and a 1-D GAN stalling under a strong D", lecture=4)
def vanishing_gradients(cfg):
    steps = cfg.steps_or(300)
    logits = numpy.linspace(-12, 12, 961)
    d = 1 / (1 + numpy.exp(-logits))
    g_sat, g_ns = generator_logit_gradients(logits)
    at = numpy.log(0.01 / 0.99)                        # the logit where D(G(z)) = 0.01
    s1, n1 = generator_logit_gradients([at])
    traces = race(steps, cfg.seed, cfg.device, progress=cfg.progress, cfg=cfg)
    sat, ns = traces["minimax"], traces["non-saturating"]
    metrics = {
        "grad_saturating_at_D_0.01": float(s1[0]), "grad_non_saturating_at_D_0.01": float(n1[0]),
        "ratio_non_saturating_over_saturating_at_D_0.01": float(n1[0] / s1[0]),
        "steps": steps, "g_start_mean": G_START[0], "data_mean": P_DATA[0],
        "saturating_first_g_grad_norm": float(sat[0, 3]),
        "saturating_median_g_grad_norm_first_50": float(numpy.median(sat[:50, 3])),
        "non_saturating_first_g_grad_norm": float(ns[0, 3]),
        "saturating_D_of_G_mean_at_start": float(sat[0, 4]),
        "saturating_g_mean_end": float(sat[-1, 1]),
        "non_saturating_g_mean_end": float(ns[-1, 1]),
    }
    claims = metrics["claims"] = vanishing_claims(metrics)

    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(16, 4.6))
    a1.loglog(d, g_sat, color=color("saturating"), lw=2,
              label="saturating: G minimizes log(1 - D(G(z)))  |grad| = D")
    a1.loglog(d, g_ns, color=color("non-saturating"), lw=2,
              label="non-saturating: G minimizes -log D(G(z))  |grad| = 1 - D")
    a1.axvline(0.01, color="grey", ls=":", lw=1)
    a1.annotate(f"D(G(z)) = 0.01:\n{n1[0] / s1[0]:.0f}x larger", (0.01, s1[0]),
                xytext=(0.03, 2e-4), fontsize=8.5, arrowprops=dict(arrowstyle="->", lw=0.8))
    a1.set_xlabel("D(G(z))   (D confident the sample is fake  <--   -->  fooled)")
    a1.set_ylabel("|dL_G / d logit|")
    a1.set_ylim(1e-5, 3)
    a1.grid(alpha=0.3, which="major")
    a1.legend(fontsize=7.5, loc="lower center")
    a1.set_title("the generator's gradient through the logit", fontsize=10.5)

    for tr, name in ((sat, "minimax"), (ns, "non-saturating")):
        c = color("saturating" if name == "minimax" else name)
        lab = "saturating (minimax)" if name == "minimax" else name
        a2.semilogy(tr[:, 0], numpy.maximum(tr[:, 3], 1e-12), color=c, lw=1.8, label=lab)
        a3.plot(tr[:, 0], tr[:, 1], color=c, lw=2, label=lab)
    a2.set_xlabel("step")
    a2.set_ylabel("||grad of L_G w.r.t. G's parameters||")
    a2.grid(alpha=0.3, which="major")
    a2.legend(fontsize=8)
    a2.set_title("G's gradient norm, D pretrained (strong)", fontsize=10.5)
    a3.axhline(P_DATA[0], color=color("p_data"), lw=1.2, ls="--", label="mean of p_data")
    a3.set_xlabel("step")
    a3.set_ylabel("mean of p_g (G's shift)")
    a3.grid(alpha=0.3)
    a3.legend(fontsize=8, loc="center right")
    a3.set_title("where G's samples are", fontsize=10.5)
    suptitle(fig, titled("Vanishing gradients: a confident D silences the saturating loss",
                         claims),
                 f"at D(G(z)) = 0.01 the non-saturating gradient is {n1[0] / s1[0]:.0f}x larger; "
                 f"from mean {G_START[0]} with data at {P_DATA[0]}, after {steps} SGD steps G's "
                 f"mean is {sat[-1, 1]:.2f} (saturating) vs {ns[-1, 1]:.2f} (non-saturating)")
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    save(fig, cfg.out / "vanishing_gradients.png")
    return metrics

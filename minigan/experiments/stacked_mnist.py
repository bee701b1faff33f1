"""Mode collapse at image scale: stacked MNIST's 1,000 modes counted for a DCGAN, the
same DCGAN with packing, and the unrolled GAN; the experiment ``stacked-mnist``.

The data (``minigan.data.stacked``): three MNIST training digits stacked as the
channels of one 28 x 28 x 3 image, 1,000 equally likely modes (d0, d1, d2). The
measure (``minigan.eval.stacked``, VEEGAN's protocol as PacGAN's Table 2 uses it):
26,000 samples of G, each channel classified by the evaluator, the number of the
1,000 modes with at least one sample, and KL(p_gen || uniform) = sum_k p_k ln(1000 p_k).

Rows (``ROWS``), each trained with every seed, everything else shared:

* ``dcgan``: the DCGAN, non-saturating loss;
* ``pacdcgan2``: the same, D judging packs of 2 images stacked as channels (6 input
  channels; ``models.Packed``); the batch is the same 64 samples, 32 packs;
* ``unrolled``: the same DCGAN, G's gradient through k = 5 look-ahead Adam steps of
  D (``gan.tricks.unrolled``, its look-ahead running the conv D's layers), each on 16
  samples. A step costs about three DCGAN steps of CPU time (k look-ahead updates of
  D, and G's gradient back through them), so within the same budget it trains 3,700
  steps to the others' 10,000 (the mode-collapse lab on mixtures also gives it fewer
  steps): the row measures the unrolled GAN at an equal cost, not at an equal number
  of steps.

The networks and their capacity, against PacGAN's Table 2 (its code's VEEGAN
experiment, from carpedm20's DCGAN): there G and D are DCGAN's four 5 x 5 layers of
64 to 512 filters, about 4.3 M parameters EACH (D as large as G), trained 50 epochs of
128,000 stacks (100,000 steps of batch 64, two G updates per D update). That is far
beyond 10 CPU-minutes a seed, so here:

* G: ``models.dcgan_generator(width=32, channels=3)``, 351,267 parameters;
* D: ``models.dcgan_discriminator(3, width=d_width)``, two 4 x 4 convolutions of
  d_width and 2 d_width feature maps (at 14 x 14 and 7 x 7, where G has 32 and 64).
  The unrolled GAN's own stacked-MNIST experiment (Metz et al. 2017, Table 2; again in
  PacGAN's Table 3) shrinks D to a quarter or a half of G's feature maps, the
  setting where a GAN collapses; ``D_WIDTHS`` names the two (``--set d_width=8``, the
  default, a quarter; ``--set d_width=16``, a half; any other width is taken as it
  is). A D stronger than G (``--set d_width=64``: twice G's maps) is the third
  setting the results page shows;
* Adam 2e-4, betas (0.5, 0.999), batch 64, one G update per D update, z ~ N(0, I_100)
  (PacGAN: U(-1, 1)^100), trained on a fixed set of 128,000 stacks of MNIST's 60,000
  training images (PacGAN: of all 70,000); 10,000 steps for ``dcgan`` and
  ``pacdcgan2`` (``ROWS``): about 8 minutes of one core a seed with its 26,000 samples
  counted, so that a row of 3 seeds fits well within 30 minutes on 2 cores
  (the measured ms/step go into metrics.json; ``--steps`` trains every row that long).

``--set rows=dcgan,pacdcgan2`` runs a subset of the rows, ``--set seeds=N`` and
``--set samples=N`` change the seeds and the samples counted, ``--set d_width=W``
D's width.

What the runs measured is in ``docs/metrics/``; PacGAN's published rows go beside them
(``PACGAN_TABLE2``).
"""
import dataclasses

import numpy

from . import experiment, trainer_settings, resuming, OptionError, workers, REACHED
from .claims import claim, titled
from .machine import measured_on
from .. import backend, optim
from .. import data
from ..data.stacked import StackedSampler
from ..eval import evaluate
from ..eval import stacked as count
from ..eval.metrics import mean_stderr
from ..gan import models
from ..gan.runner import Trainer
from ..gan.tricks.unrolled import UnrolledTrainer
from ..nn import eval_mode
from ..tensor import Tensor, no_grad

LR, BETAS = 2e-4, (0.5, 0.999)       # PacGAN's (and DCGAN's) Adam
BATCH = 64                          # samples a step, for every row (divisible by the packs)
G_WIDTH = 32
D_WIDTHS = {8: "a quarter of G's feature maps", 16: "half of G's feature maps",
            64: "twice G's feature maps"}
D_WIDTH = 8                         # a quarter: Metz et al.'s setting where GANs collapse
TRAIN_STACKS = 128_000              # PacGAN's training set of stacks
N_COUNT, N_COUNT_QUICK = count.N_SAMPLES, 1_000
SEEDS, SEEDS_QUICK = 3, 1
N_SHOWN = 64                        # samples drawn per row (an 8 x 8 grid)


@dataclasses.dataclass(frozen=True)
class Row:
    """How one row trains; everything else is shared."""
    name: str
    summary: str
    steps: int                      # the full run's steps (about 10 core-minutes a seed)
    quick_steps: int
    pack: int = 1                   # m: D judges m samples at once
    unroll: int = 0                 # k look-ahead steps of D (0: an ordinary GAN)
    unroll_batch: int = None        # samples per look-ahead step


ROWS = {r.name: r for r in (
    Row("dcgan", "DCGAN", steps=10_000, quick_steps=400),
    Row("pacdcgan2", "PacDCGAN2: D judges packs of 2", steps=10_000, quick_steps=400, pack=2),
    # a step costs 2.7 (D a quarter of G) to 3.1 (D twice G) DCGAN steps of CPU time,
    # one thread each: 3,700 steps cost what the others' 10,000 do, to within a tenth
    Row("unrolled", "unrolled GAN, 5 look-ahead steps of D", steps=3_700, quick_steps=150,
        unroll=5, unroll_batch=16),
)}

# PacGAN (Lin et al. 2018), Table 2: stacked MNIST, VEEGAN's setting, 26,000 samples,
# mean (and standard error where published) over 10 runs
PACGAN_TABLE2 = [
    {"row": "DCGAN (as reported by VEEGAN)", "modes": 99, "kl": 3.40},
    {"row": "DCGAN (PacGAN's own runs)", "modes": 78.9, "modes_pm": 6.5, "kl": 4.50},
    {"row": "Unrolled GAN", "modes": 48.7, "kl": 4.32},
    {"row": "VEEGAN", "modes": 150, "kl": 2.95},
    {"row": "PacDCGAN2", "modes": 1000.0, "kl": 0.06},
]


def get_row(name):
    """The Row called `name`, or a ValueError listing the rows."""
    if isinstance(name, Row):
        return name
    if name not in ROWS:
        raise ValueError(f"stacked-mnist: unknown row {name!r}; rows: {', '.join(ROWS)}")
    return ROWS[name]


def build_trainer(row, seed=0, device="cpu", train_images=None, batch_size=BATCH,
                  train_stacks=TRAIN_STACKS, d_width=None, **settings):
    """The Trainer of one row (not trained yet): G, D (packed for pacdcgan2), two Adams,
    stacked-MNIST batches of `train_images` (MNIST's training images by default).
    `settings` go to the Trainer as they are (``progress``, ``name``, ``callbacks``...)."""
    row = get_row(row)
    if batch_size % row.pack:
        raise ValueError(f"stacked-mnist: the batch ({batch_size} samples) must be divisible "
                         f"by the pack of the row {row.name!r} ({row.pack})")
    if train_images is None:
        train_images, _ = data.mnist("train")
    backend.manual_seed(seed)
    G = models.dcgan_generator(width=G_WIDTH, channels=3).to(device)
    D = models.dcgan_discriminator(3, d_width or D_WIDTH, pack=row.pack).to(device)
    adam = lambda m: optim.Adam(m.parameters(), lr=LR, betas=BETAS)   # noqa: E731
    args = (G, D, adam(G), adam(D), StackedSampler(train_images, train_stacks, seed, device),
            data.noise_sampler(device, models.NOISE_DIM))
    kw = dict(loss="non-saturating", batch_size=batch_size, seed=seed, **settings)
    if row.unroll:
        return UnrolledTrainer(*args, unroll=row.unroll, unroll_batch=row.unroll_batch, **kw)
    return Trainer(*args, **kw)


def draw(G, n, seed, device="cpu", batch=500):
    """n samples of G (eval mode: batch norm's running statistics) from noise of their
    own (seeded), as float32 (n, 3, 28, 28) NumPy in [-1, 1]."""
    rng = numpy.random.default_rng(seed + 7_919)
    out = []
    with eval_mode(G), no_grad():
        for i in range(0, n, batch):
            m = min(batch, n - i)
            z = rng.standard_normal((m, models.NOISE_DIM)).astype(numpy.float32)
            out.append(G(Tensor(z, device=device)).numpy())
    return numpy.concatenate(out)


def rgb_pixels(images):
    """(N, 3, 28, 28) in [-1, 1] -> uint8 (N, 28, 28, 3): channel c as colour c."""
    x = numpy.clip(numpy.round((numpy.asarray(images) + 1.0) * 127.5), 0, 255)
    return x.astype(numpy.uint8).transpose(0, 2, 3, 1)


def _job(job):
    """One (row, seed) run, in a worker: train, draw, count the modes."""
    cfg, name, seed, s = job
    row = ROWS[name]
    train_x, _ = data.mnist("train", cfg.data_dir)
    steps = s["steps"][name]
    trainer = build_trainer(
        row, seed, cfg.device, train_x, d_width=s["d_width"],
        progress={"desc": f"{name}, seed {seed}"} if cfg.progress else False,
        **trainer_settings(cfg, f"stacked-mnist-{name}-seed{seed}"))
    trainer.fit(steps, resume=resuming(cfg))
    samples = draw(trainer.G, s["samples"], seed, cfg.device)
    scores = count.score_stacked(evaluate.load_classifier(device=cfg.device), samples)
    h = trainer.history
    return {"row": name, "seed": seed, **scores, "steps": steps,
            "train_seconds": trainer.train_seconds,
            "ms_per_step": 1000 * trainer.train_seconds / max(steps, 1),
            "final_loss_d": float(h["loss_d"][-50:].mean()),
            "final_loss_g": float(h["loss_g"][-50:].mean()),
            "shown": rgb_pixels(samples[:N_SHOWN])}


def _rows_option(cfg):
    text = cfg.option("rows", None)
    if text is None:
        return list(ROWS)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in ROWS]
    if unknown or not names:
        raise OptionError(f"stacked-mnist: --set rows= takes row names separated by commas, "
                          f"from {', '.join(ROWS)}; got {text!r}")
    return list(dict.fromkeys(names))


def settings(cfg):
    """The run's sizes, from the defaults, --quick, --steps and the --set options."""
    names = _rows_option(cfg)
    seeds = cfg.option("seeds", SEEDS_QUICK if cfg.quick else SEEDS)
    samples = cfg.option("samples", N_COUNT_QUICK if cfg.quick else N_COUNT)
    if seeds < 1:
        raise OptionError(f"stacked-mnist: --set seeds must be at least 1, got {seeds}")
    if samples < 100:
        raise OptionError(f"stacked-mnist: --set samples must be at least 100, got {samples}")
    d_width = cfg.option("d_width", D_WIDTH)
    if d_width < 1:
        raise OptionError(f"stacked-mnist: --set d_width must be at least 1, got {d_width}")
    steps = {n: cfg.steps_or(ROWS[n].steps, ROWS[n].quick_steps) for n in names}
    return {"rows": names, "seeds": seeds, "samples": samples, "steps": steps,
            "d_width": d_width}


def stacked_claims(rows, seeds):
    """Packing against the plain DCGAN, seed by seed (when both rows ran)."""
    if "dcgan" not in rows or "pacdcgan2" not in rows:
        return []
    plain, packed = rows["dcgan"], rows["pacdcgan2"]
    pairs = list(zip(plain["modes"], packed["modes"], plain["kl"], packed["kl"]))
    held = all(pm > dm and pk < dk for dm, pm, dk, pk in pairs)
    measured = "; ".join(f"seed {s}: {pm} modes, KL {pk:.2f} packed against {dm}, {dk:.2f}"
                         for s, (dm, pm, dk, pk) in zip(seeds, pairs))
    return [claim("packing covers more modes with a lower KL than the plain DCGAN "
                  "(PacGAN Table 2: 1,000 modes, KL 0.06 against 78.9, 4.50)",
                  "in every seed, PacDCGAN2 covers more of the 1,000 modes than the DCGAN "
                  "of the same seed, with a lower KL(p_gen || uniform)", measured, held)]


@experiment("stacked-mnist", "mode collapse at image scale: the 1,000 modes of stacked "
                             "MNIST counted for a DCGAN, PacDCGAN2 and the unrolled GAN, "
                             "beside PacGAN's Table 2",
            options={"seeds": int, "samples": int, "rows": str, "d_width": int}, lecture=3)
def run_stacked_mnist(cfg):
    from .figures import stacked as figs
    s = settings(cfg)
    seeds = [cfg.seed + i for i in range(s["seeds"])]
    jobs = [(cfg, name, seed, s) for name in s["rows"] for seed in seeds]
    for name in s["rows"]:
        for seed in seeds:
            REACHED.setdefault(f"stacked-mnist-{name}-seed{seed}", 0)
    done = {(r["row"], r["seed"]): r for r in workers.run_all(
        _job, jobs, workers.n_workers(cfg.jobs, len(jobs), cfg.device))}

    rows = {}
    for name in s["rows"]:
        runs = [done[(name, seed)] for seed in seeds]
        row = {"summary": ROWS[name].summary, "steps": s["steps"][name],
               "pack": ROWS[name].pack, "unroll": ROWS[name].unroll}
        for key in ("modes", "kl", "train_seconds", "ms_per_step", "final_loss_d",
                    "final_loss_g"):
            row[key] = [r[key] for r in runs]
        for key in ("modes", "kl"):
            mean, stderr = mean_stderr(row[key])
            row[f"{key}_mean"], row[f"{key}_stderr"] = mean, stderr
            row[f"{key}_min"], row[f"{key}_max"] = min(row[key]), max(row[key])
        row["counts"] = [r["counts"] for r in runs]
        rows[name] = row
        print(f"{name}: {row['modes_mean']:.1f} modes of 1,000 (min {row['modes_min']}, max "
              f"{row['modes_max']}), KL {row['kl_mean']:.2f}, "
              f"{numpy.mean(row['ms_per_step']):.0f} ms/step")
    claims = stacked_claims(rows, seeds)

    first = seeds[0]
    sub = (f"{len(seeds)} seed(s), {s['samples']:,} samples each, batch {BATCH}; "
           f"seed {first} shown")
    figs.mode_coverage([(f"{n}: {rows[n]['modes'][0]} modes, KL {rows[n]['kl'][0]:.2f}",
                         done[(n, first)]["counts"]) for n in s["rows"]],
                       cfg.out / "stacked_mnist_modes.png",
                       titled("Stacked MNIST: which of the 1,000 modes each GAN draws", claims),
                       sub)
    figs.rgb_rows([(f"{n} ({rows[n]['steps']:,} steps): {rows[n]['modes'][0]} modes",
                    done[(n, first)]["shown"]) for n in s["rows"]],
                  cfg.out / "stacked_mnist_samples.png",
                  titled("Stacked MNIST: samples, three digits as red, green, blue", claims), sub)
    return {"rows": rows, "seeds": seeds, "samples": s["samples"],
            "steps": s["steps"], "batch_size": BATCH, "g_width": G_WIDTH, "d_width": s["d_width"],
            "d_setting": D_WIDTHS.get(s["d_width"], f"width {s['d_width']}"),
            "train_stacks": TRAIN_STACKS, "pacgan_table2": PACGAN_TABLE2,
            "measured_on": measured_on(cfg.device), "claims": claims}

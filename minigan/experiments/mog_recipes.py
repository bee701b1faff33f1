"""The mode-collapse lab's recipes: which GAN trains how on a mixture of Gaussians.

``train_mog(method, dataset, seed)`` trains one GAN on one toy mixture
(``minigan.data``) and scores its final 2,500 samples
(``minigan.eval.metrics``). Every method of the table shares one architecture, one
optimizer and one schedule, so that a table compares the methods and nothing else:

* G: z (2-D standard normal) -> Dense 128 -> ReLU -> Dense 128 -> ReLU -> Dense 2
* D: x (2 m numbers: m samples packed together) -> Dense 128 -> ReLU -> Dense 128
  -> ReLU -> Dense 1 (a logit, or a critic value for WGAN-GP)
  (``minigan.gan.models``)
* Adam(lr 1e-3, betas (0.5, 0.999)) for both players, batch 240 samples,
  3,000 steps (a method may set its own: ``Method.steps``); the learning rate
  holds for the first 40% of the steps, then decays linearly to 1e-5
  (``optim.hold_then_decay``).

The methods (``METHODS``):

=================  ===========================================================
gan-minimax        the original GAN: G minimizes log(1 - D(G(z))) (saturating)
gan                non-saturating: G minimizes -log D(G(z))
label-smoothing    non-saturating, real label 0.9 (one-sided smoothing)
pacgan2/3/4        non-saturating, D judges m samples at once (``models.Packed``)
wgan-gp            Wasserstein critic + gradient penalty (lambda 1), 3 critic
                   steps per G step, Adam betas (0.5, 0.9), 2,500 steps
unrolled           non-saturating, G's gradient through k = 5 look-ahead Adam
                   steps of D (``minigan.gan.tricks.unrolled``), each on 60 samples;
                   1,000 steps
pacgan2-rescaled   PacGAN2 in rescaled coordinates (``models.Rescale``; s = 2 on
                   the ring, 4 on the grid), 10,000 steps; on the grid lr 1.5e-3
                   held for 25% of the steps, then down to 1.5e-6
pacgan2-drs        minigan's best recipe (``BEST``): pacgan2-rescaled, then
                   discriminator rejection sampling (``minigan.gan.tricks.rejection``):
                   a fresh D of 256 units learns log p_data / p_g from the final
                   G in 8,000 steps (ring) or 20,000 (grid), and G's samples are
                   kept with probability min(1, p_data / (M p_g))
=================  ===========================================================

What each method measured, and why these settings, is in ``docs/mode-collapse.md``.
"""
from dataclasses import dataclass, field, replace

import numpy

from .. import backend, optim
from .. import data as toy
from ..eval import metrics
from ..gan.tricks import rejection
from ..data import noise_sampler
from ..gan.losses import gradient_penalty
from ..gan.models import mlp_generator, mlp_discriminator
from ..gan.runner import Trainer
from ..gan.tricks.unrolled import UnrolledTrainer
from ..nn import eval_mode
from ..tensor import no_grad

NOISE_DIM = 2
HIDDEN = 128
BATCH = 240                # divisible by 2, 3 and 4 (the packing degrees)
N_EVAL = metrics.N_EVAL    # 2,500 samples are scored (PacGAN)


# ----------------------------------------------------------------- methods
@dataclass(frozen=True)
class Method:
    """How one row of the table trains; everything else is shared."""
    name: str
    summary: str
    loss: str = "non-saturating"
    pack: int = 1
    label_smoothing: float = 0.0
    gp: float = 0.0               # WGAN-GP penalty weight lambda
    d_steps: int = 1
    betas: tuple = (0.5, 0.999)
    unroll: int = 0               # k unrolled D steps (0: an ordinary GAN)
    unroll_lr: float = None       # None: the look-ahead takes D's own Adam steps (Metz et
    #                               al.); a number eta: plain gradient steps of size eta
    unroll_batch: int = 60        # samples per look-ahead step (a cheap, noisier D step)
    noise_dim: int = NOISE_DIM
    d_lr_scale: float = 1.0       # D's learning rate = d_lr_scale * G's
    depth: int = 2                # hidden layers of G and of D
    lr_scale: float = 1.0         # both players' learning rates = lr_scale * the schedule's
    scale: float = 1.0            # G ends in Rescale(scale), D starts with Rescale(1/scale)
    schedule: tuple = ()          # ((Schedule field, value), ...) this method overrides
    per_mixture: tuple = ()       # ((mixture name, ((field, value), ...)), ...): the
    #                               settings of this method that differ on one mixture
    steps: int = None             # this method's own number of steps (None: the schedule's)
    rejection_steps: int = 0      # > 0: discriminator rejection sampling (gan/tricks/rejection.py):
    #                               a fresh D (rejection_hidden wide) learns log p_data / p_g
    #                               in this many steps after training, and filters G's samples
    rejection_hidden: int = 256
    rejection_pool: int = 200_000  # G's samples drawn to keep N_EVAL of them

    def for_mixture(self, mixture):
        """This method with the settings `per_mixture` lists for `mixture` (by its name)."""
        own = dict(self.per_mixture).get(getattr(mixture, "name", None), ())
        return replace(self, **dict(own)) if own else self


METHODS = {m.name: m for m in (
    Method("gan-minimax", "vanilla GAN, saturating (minimax) loss", loss="minimax"),
    Method("gan", "vanilla GAN, non-saturating loss"),
    Method("label-smoothing", "one-sided label smoothing (real label 0.9)", label_smoothing=0.1),
    Method("pacgan2", "PacGAN, D judges 2 samples at once", pack=2),
    Method("pacgan3", "PacGAN, D judges 3 samples at once", pack=3),
    Method("pacgan4", "PacGAN, D judges 4 samples at once", pack=4),
    Method("wgan-gp", "WGAN-GP: Wasserstein critic, gradient penalty 1, 3 critic steps",
           loss="wasserstein", gp=1.0, d_steps=3, betas=(0.5, 0.9), steps=2500),
    Method("unrolled", "unrolled GAN: G's gradient through 5 unrolled D steps", unroll=5,
           steps=1000),
    Method("pacgan2-rescaled", "PacGAN2 in rescaled coordinates (ring x/2, grid x/4)",
           pack=2, steps=10_000, per_mixture=(
               ("ring8", (("scale", 2.0),)),
               ("grid25", (("scale", 4.0), ("lr_scale", 1.5),
                           ("schedule", (("decay_from", 0.25), ("final_lr", 1e-6))))))),
)}

# The best recipe: PacGAN2 in rescaled coordinates, then discriminator rejection
# sampling (Azadi et al. 2019) with a fresh D trained on the final generator's samples;
# its D steps count in the run's cost (the grid's 20,000 at width 256 are most of it).
_RESCALED = METHODS["pacgan2-rescaled"]
_REJECTION_STEPS = {"ring8": 8000, "grid25": 20_000}
METHODS["pacgan2-drs"] = replace(
    _RESCALED, name="pacgan2-drs",
    summary="PacGAN2 rescaled + discriminator rejection sampling",
    per_mixture=tuple((name, own + (("rejection_steps", _REJECTION_STEPS[name]),))
                      for name, own in _RESCALED.per_mixture))

BEST = "pacgan2-drs"       # minigan's best recipe
BEST_STEPS = METHODS[BEST].steps


def get_method(name):
    """The Method registered as `name` (a Method passes through)."""
    if isinstance(name, Method):
        return name
    if name not in METHODS:
        raise ValueError(f"unknown mode-collapse method {name!r}; known methods: "
                         f"{', '.join(METHODS)}")
    return METHODS[name]


# ----------------------------------------------------------------- schedule
@dataclass(frozen=True)
class Schedule:
    """Shared training settings: steps, batch, Adam's lr and its late linear decay."""
    steps: int = 3000
    batch_size: int = BATCH
    lr: float = 1e-3
    final_lr: float = 1e-5
    decay_from: float = 0.4       # fraction of the steps after which lr decays linearly

    def lr_lambda(self):
        """The learning rate at each step (0-based): ``lr``, then linear down to
        ``final_lr`` (``optim.hold_then_decay``)."""
        return optim.hold_then_decay(self.steps, self.decay_from, self.lr, self.final_lr)


# -------------------------------------------------------------- one run
@dataclass
class MogRun:
    """A finished run: the models, the trainer (history), the final 2,500 samples
    (NumPy, (2500, 2)) and their scores."""
    method: str
    dataset: str
    seed: int
    trainer: object
    samples: numpy.ndarray
    scores: dict = field(default_factory=dict)


def sample_generator(G, n=N_EVAL, device="cpu"):
    """n samples of G as a NumPy array (no graph recorded; G in eval mode, then left
    in the mode it was in)."""
    with eval_mode(G), no_grad():
        return G(noise_sampler(device, G[0].in_features)(n)).numpy()


def make_trainer(method, mixture, seed=0, device="cpu", schedule=Schedule(), callbacks=(),
                 progress=False, **settings):
    """Build G, D, optimizers and the Trainer of `method` on `mixture` (not trained yet).
    `settings` go to the Trainer (``callbacks`` among them added after `callbacks`)."""
    method = get_method(method).for_mixture(mixture)
    schedule = replace(schedule, **dict(method.schedule))     # the method's own settings
    if schedule.batch_size % method.pack:
        raise ValueError(f"{method.name}: packing degree {method.pack} does not divide the "
                         f"batch size {schedule.batch_size}; pick a batch size divisible by "
                         f"{method.pack}")
    backend.manual_seed(seed)                  # the same seed gives the same weights
    G = mlp_generator(method.noise_dim, HIDDEN, method.depth, out_scale=method.scale).to(device)
    D = mlp_discriminator(method.pack, HIDDEN, method.depth, in_scale=method.scale).to(device)
    # The schedule gives the learning rate itself (lr, then down to final_lr); each
    # optimizer's own lr is the factor it is scaled by (LambdaLR multiplies the two).
    opt_g = optim.Adam(G.parameters(), lr=method.lr_scale, betas=method.betas)
    opt_d = optim.Adam(D.parameters(), lr=method.lr_scale * method.d_lr_scale,
                       betas=method.betas)
    schedulers = [optim.LambdaLR(opt, schedule.lr_lambda()) for opt in (opt_g, opt_d)]

    def gp(D_, real, fake):
        return gradient_penalty(D_, real, fake, lam=method.gp)
    penalty = gp if method.gp else None
    kwargs = dict(loss=method.loss, d_steps=method.d_steps, batch_size=schedule.batch_size,
                  penalty=penalty, label_smoothing=method.label_smoothing,
                  schedulers=schedulers, progress=progress, seed=seed,
                  callbacks=list(callbacks) + list(settings.pop("callbacks", ())), **settings)
    sample_real = lambda n: mixture.sample(n, device=device)   # noqa: E731
    sample_noise = noise_sampler(device, method.noise_dim)
    if method.unroll:
        return UnrolledTrainer(G, D, opt_g, opt_d, sample_real, sample_noise,
                               unroll=method.unroll, unroll_lr=method.unroll_lr,
                               unroll_batch=method.unroll_batch, **kwargs)
    return Trainer(G, D, opt_g, opt_d, sample_real, sample_noise, **kwargs)


def rejection_samples(G, mixture, method, d_steps, seed=0, device="cpu", n=N_EVAL):
    """n samples of G filtered by discriminator rejection sampling
    (``minigan.gan.tricks.rejection``): a fresh D, as deep as the GAN's, ``rejection_hidden``
    wide, in the method's rescaled coordinates, learns log p_data / p_g in `d_steps`
    steps; then ``rejection_pool`` samples of G are each kept with probability
    min(1, p_data / (M p_g))."""
    backend.manual_seed(10_007 + seed)          # the same seed, the same rejection D
    D = mlp_discriminator(1, method.rejection_hidden, method.depth,
                          in_scale=method.scale).to(device)
    noise = noise_sampler(device, method.noise_dim)
    rejection.fit_density_ratio(D, lambda m: mixture.sample(m, device=device),
                                lambda m: G(noise(m)), d_steps)   # G's drawn without a graph
    pool = sample_generator(G, method.rejection_pool, device)
    kept, _ = rejection.rejection_sample(pool, rejection.logits_of(D, pool), n, seed=seed)
    return kept


def steps_of(method, schedule=None, mixture=None):
    """How many steps `method` trains for by default (on `mixture`, if its
    ``per_mixture`` settings say otherwise): its own ``steps``, else the schedule's
    (3,000)."""
    m = get_method(method)
    m = m.for_mixture(mixture) if mixture is not None else m
    return m.steps or (schedule or Schedule()).steps


def train_mog(method, dataset="ring", seed=0, steps=None, device="cpu", schedule=None,
              callbacks=(), progress=False, resume=False, **settings):
    """Train `method` on `dataset` ('ring', 'grid', 'ring-unrolled' or a mixture) and
    score 2,500 final samples. Returns a MogRun.

    ``steps``: None trains the method's own number of steps (``steps_of``); a number
    overrides it. `settings` go to the Trainer (an experiment's
    ``cfg.trainer_settings(NAME)``: checkpoints), and ``resume`` to its ``fit``.
    """
    mixture = toy.mixture(dataset) if isinstance(dataset, str) else dataset
    schedule = schedule or Schedule()
    schedule = replace(schedule, steps=int(steps if steps is not None
                                           else steps_of(method, schedule, mixture)))
    trainer = make_trainer(method, mixture, seed, device, schedule, callbacks, progress,
                           **settings)
    trainer.fit(schedule.steps, resume=resume)
    own = get_method(method).for_mixture(mixture)
    if own.rejection_steps:
        # a shortened run (--quick, --steps) shortens the rejection D's training alike
        full = steps_of(own, None, mixture)
        d_steps = own.rejection_steps if steps is None else max(
            100, own.rejection_steps * schedule.steps // full)
        samples = rejection_samples(trainer.G, mixture, own, d_steps, seed, device)
    else:
        samples = sample_generator(trainer.G, N_EVAL, device)
    return MogRun(get_method(method).name, getattr(mixture, "name", str(dataset)), seed,
                  trainer, samples, metrics.mode_scores(samples, mixture))

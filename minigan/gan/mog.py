"""Mode collapse on a mixture of Gaussians, and the remedies: the recipes.

One function, ``train_mog(method, dataset, seed)``, trains one GAN on one toy
mixture (``minigan.gan.data``) and scores its final 2,500 samples
(``minigan.gan.metrics``). Every method of the table shares one architecture, one
optimizer and one schedule, so that a table compares the methods and nothing else
(only the best recipe, below, has settings of its own):

* G: z (2-D standard normal) -> Dense 128 -> ReLU -> Dense 128 -> ReLU -> Dense 2
* D: x (2 m numbers: m samples packed together) -> Dense 128 -> ReLU -> Dense 128
  -> ReLU -> Dense 1 (a logit, or a critic value for WGAN-GP)
* Adam(lr 1e-3, betas (0.5, 0.999)) for both players, batch 240 samples,
  3,000 steps (a method may set its own: ``Method.steps``); the learning rate
  stays at 1e-3 for the first 40% of the steps, then decays linearly to 1e-5
  (precise samples: a ring mode has std 0.01, and a sample counts as high
  quality only within 0.03 of its centre).
* 2-D noise: a 2-D z makes the mapping onto a handful of blobs much easier to
  learn than 64-D z (tried: far fewer high-quality samples at equal steps).

The methods (``METHODS``):

=================  ===========================================================
gan-minimax        the original GAN: G minimizes log(1 - D(G(z))) (saturating)
gan                non-saturating: G minimizes -log D(G(z))
label-smoothing    non-saturating, real label 0.9 (one-sided smoothing)
pacgan2/3/4        non-saturating, D judges m samples at once (Lin et al. 2018)
wgan-gp            Wasserstein critic + gradient penalty (Gulrajani et al. 2017),
                   3 critic steps per G step, lambda = 1: the paper's lambda = 10
                   left G on 1 of 8 modes after 800 steps at this learning rate;
                   2,500 steps (3,000 took 55-61 s a run, at the one-minute budget)
unrolled           non-saturating, G's gradient taken through k = 5 unrolled
                   Adam steps of D (Metz et al. 2017), each on 60 samples;
                   1,000 steps (one costs about 8 ordinary ones: ~50 s a run)
pacgan2-rescaled   the best recipe: PacGAN2 in rescaled coordinates, with its
                   own schedule (see below)
=================  ===========================================================

PacGAN packing: D sees m samples side by side, (B, 2) -> (B/m, 2m). Real packs
hold m real samples, fake packs m generated ones; a collapsed generator gives
packs whose m points sit on one mode, which real packs rarely do, so D can
punish the collapse.

The unrolled GAN: with D's parameters theta and D's loss L_D, let
theta_0 = theta and theta_{i+1} = theta_i + Adam step on dL_D(theta_i)/dtheta_i
(k times, continuing D's own Adam moments, as Metz et al. did). G minimizes its
loss against D(.; theta_k), and its gradient flows *through* the k updates (they
are recorded with ``create_graph=True``), so G sees how D would answer its move.
D itself takes the ordinary step. ``mlp_forward`` runs D with substituted
parameters theta_i. (Plain gradient steps of size 0.01 in the look-ahead, an
earlier version, barely moved D: ring 2/8 modes at 3,000 steps.)

minigan's best recipe (``BEST`` = ``pacgan2-rescaled``, ``BEST_STEPS``): PacGAN2
(the networks above, D judging pairs of samples, the non-saturating loss, Adam
betas (0.5, 0.999), batch 240), trained for 10,000 steps, with two changes:

* rescaled coordinates: G's last layer is followed by a fixed Rescale(s) and D
  starts with Rescale(1/s), i.e. both networks work on the plane shrunk by s
  (the metrics still score G's output in the data's own coordinates). s = 2 on
  the ring (radius 1), s = 4 on the grid ({-4..4}^2). This multiplies the speed
  at which Adam moves G's output by s; on the grid it was the difference between
  a smeared square and 25 blobs (s = 1: 3 % high quality at 3,000 steps,
  s = 4: 17 %; s = 8 diverged). On the ring s = 2 lifts 10,000-step PacGAN2
  from 94.8 % to 95.9 % high quality.
* the learning rate: on the ring the shared schedule (lr 1e-3 for 4,000 steps,
  then linearly down to 1e-5); on the grid lr 1.5e-3 for 2,500 steps, then
  linearly down to 1.5e-6 (grid seed 0: lr 1e-3 gave 68 %, 2e-3 62 %, 1.5e-3
  85-89 % high quality; on the ring this schedule gave 94.5-95.9 %, the shared
  one 95.2-96.3 %).

These per-mixture settings are ``Method.per_mixture``. About 50-60 s of one CPU
core per run (OPENBLAS_NUM_THREADS=1). Measured over 5 seeds (mean +- s.e.):

    ring: 8/8 modes in every seed, 95.9 +- 0.2 % high quality, reverse KL 0.003 +- 0.001
          (seeds 0-4: 96.3, 96.1, 95.2, 95.8, 96.3 % high quality)
    grid: 25/25 modes in every seed, 77.8 +- 3.2 % high quality, reverse KL 0.13 +- 0.05
          (seeds 0-4: 85.2, 81.0, 66.3, 79.3, 77.1 %; KL 0.016, 0.19, 0.30, 0.030, 0.12)

PacGAN's best published rows (PacGAN4) are ring 7.8 / 95.9 % / 0.07 and grid
24.8 / 93.6 % / 0.04: on the ring the recipe meets the targets (every mode in
every seed, >= 95 % high quality, KL <= 0.05); on the grid it covers every mode
in every seed but falls short of the targets (>= 94 %, KL <= 0.03): the
transitions between blobs still hold about a fifth of the samples. The plain
PacGAN2 row trained for 10,000 steps with the shared schedule gave ring 8/8,
94.8 +- 0.5 %, 0.002 and grid 25/25, 40.8 +- 7.2 %, 0.27. Tried and not better within the one-minute budget: a vanilla
(unpacked) D in the same coordinates (grid seed 0 90 % but 19-22 modes on other
seeds at batch 200, and over a minute at batch 240); a 3-layer G (collapsed to
one mode); batch norm in G; 8-D noise; D's lr twice G's; WGAN-GP with one critic
step; G 4 x 400 with batch norm and a maxout D (6-10x slower per step).
WGAN-GP (lambda 1, 2,500 steps) is the strongest of the other rows on the ring.

Why high quality is hard here: G is a continuous map of a connected noise
space, so to reach 8 separate blobs it must stretch some noise across the gaps
between them. Those samples are far from every mode (not high quality). Longer
training makes the transitions steeper and the gap mass smaller.
"""
from dataclasses import dataclass, field, replace

import numpy

from .. import backend, nn
from .. import functional as F
from ..optim import Adam
from ..tensor import Tensor, grad, no_grad
from . import data as toy
from . import metrics
from .losses import gradient_penalty
from .train import Trainer, Callback  # noqa: F401  (Callback: used by the experiments)

NOISE_DIM = 2
HIDDEN = 128
BATCH = 240                # divisible by 2, 3 and 4 (the packing degrees)
N_EVAL = metrics.N_EVAL    # 2,500 samples are scored (PacGAN)


# ---------------------------------------------------------------- networks
class Rescale(nn.Module):
    """x -> factor * x, a fixed factor (nothing learned).

    The best recipe works in rescaled coordinates: G's last layer is followed by
    Rescale(s) and D starts with Rescale(1 / s), so both networks see the plane
    shrunk by s, and G's output layer moves s times faster under Adam.
    """

    def __init__(self, factor):
        super().__init__()
        self.factor = float(factor)

    def forward(self, x):
        return x * self.factor

    def extra_repr(self):
        return f"factor={self.factor:g}"


def generator(noise_dim=NOISE_DIM, hidden=HIDDEN, depth=2, out_dim=2, out_scale=1.0):
    """z -> [Dense hidden -> ReLU] x depth -> Dense out_dim (-> Rescale(out_scale))."""
    layers, d = [], noise_dim
    for _ in range(depth):
        layers += [nn.Dense(d, hidden), nn.ReLU()]
        d = hidden
    layers.append(nn.Dense(d, out_dim))
    if out_scale != 1.0:
        layers.append(Rescale(out_scale))
    return nn.Sequential(*layers)


class Packed(nn.Module):
    """PacGAN's packing around a discriminator: (B, d) samples -> (B/m, m d) packs.

    Consecutive samples form one pack: rows 0..m-1 the first, m..2m-1 the second...
    """

    def __init__(self, net, pack):
        super().__init__()
        self.net, self.pack = net, int(pack)

    def forward(self, x):
        m = self.pack
        if x.ndim != 2 or x.shape[0] % m:
            raise ValueError(f"Packed(pack={m}): expected a batch of shape (B, d) with B "
                             f"divisible by {m}, got shape {tuple(x.shape)}")
        return self.net(x.reshape(x.shape[0] // m, x.shape[1] * m))

    def extra_repr(self):
        return f"pack={self.pack}"


def discriminator(pack=1, hidden=HIDDEN, depth=2, in_dim=2, in_scale=1.0):
    """x (m packed samples) (-> Rescale(1 / in_scale)) -> [Dense hidden -> ReLU] x depth
    -> Dense 1."""
    layers, d = ([] if in_scale == 1.0 else [Rescale(1.0 / in_scale)]), in_dim * pack
    for _ in range(depth):
        layers += [nn.Dense(d, hidden), nn.ReLU()]
        d = hidden
    net = nn.Sequential(*layers, nn.Dense(d, 1))
    return net if pack == 1 else Packed(net, pack)


def mlp_forward(D, params, x):
    """D(x) computed with the tensors `params` in place of D's own parameters.

    `params` lists one tensor per parameter of D, in ``D.parameters()`` order
    (weight, bias of each Dense). This is what the unrolled GAN needs: D's
    output under theta_k, a function of theta_0 through the unrolled updates.
    """
    if isinstance(D, Packed):
        m = D.pack
        x, D = x.reshape(x.shape[0] // m, x.shape[1] * m), D.net
    it = iter(params)
    for layer in D:
        if isinstance(layer, nn.Dense):
            x = F.linear(x, next(it), next(it) if layer.bias is not None else None)
        else:
            x = layer(x)
    return x


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

BEST = "pacgan2-rescaled"  # minigan's best recipe
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

    def lr_at(self, step):
        """lr for step `step` (0-based): constant, then linear down to final_lr."""
        start = int(self.decay_from * self.steps)
        if step < start:
            return self.lr
        frac = (step - start) / max(1, self.steps - start)
        return self.lr + (self.final_lr - self.lr) * min(1.0, frac)


def _set_lr(optimizer, lr):
    for group in optimizer.param_groups:
        group["lr"] = lr


# ------------------------------------------------------------ unrolled GAN
class _NoUpdate:
    """Stands in for G's optimizer while the parent Trainer updates D."""

    def zero_grad(self):
        pass

    def step(self):
        pass


class UnrolledTrainer(Trainer):
    """The Trainer with the unrolled GAN's generator step (Metz et al. 2017).

    D's own update is the ordinary one (the parent's). G's update differentiates
    its loss against D after k look-ahead steps theta_0 -> theta_1 -> ... -> theta_k,
    each step's gradient g_i built with create_graph=True so that d theta_k / d G
    flows back. The look-ahead step is D's own optimizer rule, continued from
    D's optimizer state, as in the paper:

    * Adam (``unroll_lr=None``, the default): with D's (m, v, t) as the start,
          m_i = b1 m_{i-1} + (1 - b1) g_i,   v_i = b2 v_{i-1} + (1 - b2) g_i^2
          theta_i = theta_{i-1} - lr / (1 - b1^(t+i)) * m_i / (sqrt(v_i / (1 - b2^(t+i))) + eps)
      every term a Tensor op, so the look-ahead is differentiable end to end;
    * plain gradient steps theta_i = theta_{i-1} - eta g_i (``unroll_lr=eta``).
    """

    def __init__(self, *args, unroll=5, unroll_lr=None, unroll_batch=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.unroll = int(unroll)
        self.unroll_lr = None if unroll_lr is None else float(unroll_lr)
        self.unroll_batch = int(unroll_batch or self.batch_size)
        if self.unroll_lr is None and not isinstance(self.d_optimizer, Adam):
            raise ValueError(f"UnrolledTrainer: the look-ahead repeats D's Adam steps, but D's "
                             f"optimizer is {type(self.d_optimizer).__name__}; use Adam for D, "
                             f"or pass unroll_lr=eta for plain gradient look-ahead steps")

    def step(self):
        # The parent's step does the ordinary D update (and history, checks); its
        # G update is swallowed by a do-nothing optimizer, and G then takes its
        # own step through the unrolled D.
        g_opt, self.g_optimizer = self.g_optimizer, _NoUpdate()
        try:
            record = super().step()
        finally:
            self.g_optimizer = g_opt
        record["loss_g"] = self._unrolled_g_step()
        return record

    def _adam_start(self, theta):
        """D's Adam state for each parameter: (m, v) as constant Tensors and the step t."""
        out = []
        for p in theta:
            st = self.d_optimizer.state.get(id(p)) or {}
            zeros = backend.array_module(p.data).zeros_like(p.data)
            out.append((Tensor(st.get("exp_avg", zeros)), Tensor(st.get("exp_avg_sq", zeros)),
                        st.get("step", 0)))
        return out

    def _lookahead(self, theta, grads, moments, i):
        """theta_{i} from theta_{i-1} and its gradient (i = 1..k); see the class docstring."""
        if self.unroll_lr is not None:
            return [p - self.unroll_lr * g for p, g in zip(theta, grads)], moments
        group = self.d_optimizer.param_groups[0]
        (b1, b2), lr, eps = group["betas"], group["lr"], group["eps"]
        wd = group["weight_decay"]
        new_theta, new_moments = [], []
        for p, g, (m, v, t) in zip(theta, grads, moments):
            if wd:
                g = g + wd * p                               # Adam's L2 term, as in optim.py
            m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * (g * g)
            step = t + i
            denom = (v / (1 - b2 ** step) + 1e-30).sqrt() + eps   # 1e-30: sqrt'(0) is inf
            new_theta.append(p - (lr / (1 - b1 ** step)) * m / denom)
            new_moments.append((m, v, t))
        return new_theta, new_moments

    def _unrolled_g_step(self):
        m, nb = self.batch_size, min(self.unroll_batch, self.batch_size)
        fake = self.G(self.sample_noise(m))
        theta = list(self.D.parameters())
        moments = self._adam_start(theta) if self.unroll_lr is None else None
        for i in range(1, self.unroll + 1):
            x = self.sample_real(nb)
            # `fake` is not detached: theta_k depends on G through D's look-ahead
            loss_d = self._d_loss(mlp_forward(self.D, theta, x),
                                  mlp_forward(self.D, theta, fake[:nb]))
            g = grad(loss_d, theta, create_graph=True)
            theta, moments = self._lookahead(theta, g, moments, i)
        loss_g = self.loss.g_loss(mlp_forward(self.D, theta, fake))
        self._check_finite("loss_g", loss_g.item())
        self.g_optimizer.zero_grad()
        params = list(self.G.parameters())
        for p, gp in zip(params, grad(loss_g, params)):
            p.grad = gp
        self.g_optimizer.step()
        return loss_g.item()


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


def noise_sampler(device, dim=NOISE_DIM):
    """z ~ N(0, I) from minigan's seeded generator, as a float32 Tensor."""
    def sample(n):
        return Tensor(backend.generator(device).standard_normal((n, dim), dtype="float32"))
    return sample


def sample_generator(G, n=N_EVAL, device="cpu"):
    """n samples of G as a NumPy array (no graph recorded)."""
    with no_grad():
        G.eval()
        x = G(noise_sampler(device, G[0].in_features)(n)).numpy()
        G.train()
    return x


def make_trainer(method, mixture, seed=0, device="cpu", schedule=Schedule(), callbacks=(),
                 progress=False):
    """Build G, D, optimizers and the Trainer of `method` on `mixture` (not trained yet)."""
    method = get_method(method).for_mixture(mixture)
    schedule = replace(schedule, **dict(method.schedule))     # the method's own settings
    if schedule.batch_size % method.pack:
        raise ValueError(f"{method.name}: packing degree {method.pack} does not divide the "
                         f"batch size {schedule.batch_size}; pick a batch size divisible by "
                         f"{method.pack}")
    backend.manual_seed(seed)                  # the same seed gives the same weights
    G = generator(method.noise_dim, depth=method.depth, out_scale=method.scale).to(device)
    D = discriminator(pack=method.pack, depth=method.depth, in_scale=method.scale).to(device)
    lr_g = schedule.lr * method.lr_scale
    opt_g = Adam(G.parameters(), lr=lr_g, betas=method.betas)
    opt_d = Adam(D.parameters(), lr=lr_g * method.d_lr_scale, betas=method.betas)

    def decay(trainer, step):                  # after step `step`, set the next lr
        lr = schedule.lr_at(step) * method.lr_scale
        _set_lr(opt_g, lr)
        _set_lr(opt_d, lr * method.d_lr_scale)

    penalty = None
    if method.gp:
        def penalty(D_, real, fake):
            return gradient_penalty(D_, real, fake, lam=method.gp)
    kwargs = dict(loss=method.loss, d_steps=method.d_steps, batch_size=schedule.batch_size,
                  penalty=penalty, label_smoothing=method.label_smoothing,
                  callbacks=[Callback(decay)] + list(callbacks), progress=progress, seed=seed)
    sample_real = lambda n: mixture.sample(n, device=device)   # noqa: E731
    if method.unroll:
        return UnrolledTrainer(G, D, opt_g, opt_d, sample_real,
                               noise_sampler(device, method.noise_dim),
                               unroll=method.unroll, unroll_lr=method.unroll_lr,
                               unroll_batch=method.unroll_batch, **kwargs)
    return Trainer(G, D, opt_g, opt_d, sample_real, noise_sampler(device, method.noise_dim),
                   **kwargs)


def steps_of(method, schedule=None, mixture=None):
    """How many steps `method` trains for by default (on `mixture`, if its
    ``per_mixture`` settings say otherwise): its own ``steps``, else the schedule's
    (3,000)."""
    m = get_method(method)
    m = m.for_mixture(mixture) if mixture is not None else m
    return m.steps or (schedule or Schedule()).steps


def train_mog(method, dataset="ring", seed=0, steps=None, device="cpu", schedule=None,
              callbacks=(), progress=False):
    """Train `method` on `dataset` ('ring', 'grid', 'ring-unrolled' or a mixture) and
    score 2,500 final samples. Returns a MogRun.

    ``steps``: None trains the method's own number of steps (``steps_of``); a number
    overrides it.
    """
    mixture = toy.mixture(dataset) if isinstance(dataset, str) else dataset
    schedule = schedule or Schedule()
    schedule = replace(schedule, steps=int(steps if steps is not None
                                           else steps_of(method, schedule, mixture)))
    trainer = make_trainer(method, mixture, seed, device, schedule, callbacks, progress)
    trainer.fit(schedule.steps)
    samples = sample_generator(trainer.G, N_EVAL, device)
    return MogRun(get_method(method).name, getattr(mixture, "name", str(dataset)), seed,
                  trainer, samples, metrics.mode_scores(samples, mixture))


# --------------------------------------------------------------- snapshots
@dataclass
class Snapshot:
    """What the figures need at one step: G's samples and their scores, the share
    of samples on each mode, D's output over the plane and G's gradient arrows."""
    step: int
    fake: numpy.ndarray            # (N, 2) generated samples
    scores: dict                   # metrics.mode_scores of `fake`
    occupancy: numpy.ndarray       # (K,) share of the samples (high quality) on each mode
    extent: tuple                  # (xmin, xmax, ymin, ymax) of the D field
    d_field: numpy.ndarray = None  # (res, res) D over the plane (pack 1 only), row = y
    d_is_probability: bool = True  # D(x) is sigmoid(logit), else a raw critic value
    arrows: numpy.ndarray = None   # (n_arrows, 2): -dL_G/dx at the first fake samples


def snapshot(trainer, mixture, step, device="cpu", n=N_EVAL, resolution=90, n_arrows=240,
             extent=None, occupancy_radius=None):
    """Measure G and D of `trainer` now (nothing is trained or recorded).

    ``occupancy``: the share of the samples within `occupancy_radius` of each
    mode (default 3 std, the high-quality radius).
    """
    from .viz2d import extent_of
    G, D = trainer.G, trainer.D
    fake = sample_generator(G, n, device)
    scores = metrics.mode_scores(fake, mixture)
    if occupancy_radius is None:
        occupancy = numpy.asarray(scores["counts"], dtype=float) / n
    else:
        occupancy = metrics.mode_occupancy(fake, mixture,
                                           n_sigma=occupancy_radius / max(mixture.std, 1e-12))
    extent = extent or extent_of(mixture)
    probs = trainer.loss.probabilities
    field = None
    if not isinstance(D, Packed):                      # D of one point: a field over the plane
        xs = numpy.linspace(extent[0], extent[1], resolution)
        ys = numpy.linspace(extent[2], extent[3], resolution)
        gx, gy = numpy.meshgrid(xs, ys)                # row i is y = ys[i]
        pts = numpy.stack([gx.ravel(), gy.ravel()], axis=1).astype(numpy.float32)
        with no_grad():
            out = D(Tensor(pts, device=device))
            out = F.sigmoid(out) if probs else out
        field = out.numpy().reshape(resolution, resolution)
    # -dL_G/dx on each sample: L_G summed (not averaged) so an arrow is one sample's push
    pack = D.pack if isinstance(D, Packed) else 1
    k = (min(n_arrows, n) // pack) * pack
    x = Tensor(fake[:k], device=device, requires_grad=True)
    loss_g = trainer.loss.g_loss(D(x)) * float(k // pack)
    (gx_,) = grad(loss_g, x)
    return Snapshot(step, fake, scores, occupancy, extent, field, probs, -gx_.numpy())

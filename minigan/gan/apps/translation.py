"""Image-to-image translation, the applications lecture's first three stops.

**pix2pix** (Isola et al. 2017), paired: every input x comes with its target y.
A conditional GAN whose D judges the pair (x, y), plus an L1 term::

    L_D = -1/2 (E[log D(x, y)] + E[log(1 - D(x, G(x)))])
    L_G = -E[log D(x, G(x))]  +  lambda E|y - G(x)|_1          (lambda = 100)

L1 alone is a regression: where several outputs fit an input, its best answer
is their blur. The adversarial term rejects blur, since a blur is not a real digit.

**CycleGAN** (Zhu et al. 2017) and **DiscoGAN** (Kim et al. 2017), unpaired: a
collection A and a collection B and no pairs. Two generators G: A -> B and
F: B -> A, two discriminators D_B and D_A, and a way back::

    L_G = adv(D_B(G(a))) + adv(D_A(F(b)))
          + lambda_cyc (d(F(G(a)), a) + d(G(F(b)), b))           cycle consistency
          + lambda_id  (d(G(b), b) + d(F(a), a))                  identity (optional)

Without the cycle term nothing ties G(a) to a: any image D_B takes for a B will
do, a digit of another class included. CycleGAN: least-squares adversarial
losses, d = L1, lambda_cyc = 10, ResNet generators with instance norm. DiscoGAN:
the same machinery with the BCE losses, d = squared error, encoder-decoder
generators with batch norm.

**StarGAN** (Choi et al. 2018): k domains, ONE generator G(x, c) told the target
domain c, and a D with two heads, real-or-fake and "which domain"::

    L_D = adv_D(D_src(x), D_src(G(x, c)))  +  lambda_cls CE(D_cls(x), c_x)
    L_G = adv_G(D_src(G(x, c)))  +  lambda_cls CE(D_cls(G(x, c)), c)
          + lambda_rec E|G(G(x, c), c_x) - x|_1                   (the cycle back)

Pairwise CycleGANs would need k(k-1) generators for the same k domains.

Each ``*Step.step`` is one update of its players in that order, the formulas
above line for line; the ``*Trainer`` classes run them with
``minigan.gan.runner.Runner`` (history, checkpoints, exact resume, Ctrl-C).
"""
import math

import numpy

from ... import backend
from ... import functional as F
from ...tensor import Tensor, no_grad
from ..losses import get_loss, gradient_penalty
from ..runner import Runner, TwoPlayers
from ..step import frozen
from ..device_numbers import fetch_numbers

DISTANCES = ("l1", "l2")


def l1(a, b):
    """E|a - b|, over every pixel of every sample."""
    return (a - b).abs().mean()


def distance(kind, a, b):
    """The reconstruction distance: "l1" (CycleGAN) or "l2", the mean squared error
    (DiscoGAN)."""
    return l1(a, b) if kind == "l1" else F.mse_loss(a, b)


def update(optimizer, loss):
    """One descent step of the players behind `optimizer` on `loss`."""
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def _check_weight(who, name, value):
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{who}: {name} must be a number >= 0, got {value!r}")
    return float(value)


class _TranslationStep:
    """What the three steps share: the batch size, the step count and the record."""

    def _setup(self, batch_size, loss, schedulers):
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"{type(self).__name__}: batch_size must be a positive integer, "
                             f"got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.loss = get_loss(loss)
        self.schedulers = list(schedulers or ())
        self.global_step = 0

    def _record(self, numbers):
        """The step's numbers (names -> device scalars) as floats, fetched at once and
        checked finite; the step is counted and the schedules stepped."""
        names = list(numbers)
        values = fetch_numbers([numbers[n] for n in names])
        for name, value in zip(names, values):
            if not math.isfinite(value):
                self._diverged(name, value)
        for schedule in self.schedulers:
            schedule.step()
        self.global_step += 1
        return {"step": self.global_step, **dict(zip(names, values))}

    def _diverged(self, name, value):      # Runner's names the checkpoint kept
        from ..step import TrainingDiverged
        raise TrainingDiverged(f"training diverged at step {self.global_step + 1}: {name} "
                               f"is {value}", self.global_step + 1, name, value)


# ---------------------------------------------------------------- pix2pix
class Pix2PixStep(_TranslationStep):
    """G: x -> y trained on pairs from ``sample_pairs(m)`` -> (x, y).

    ``l1_weight`` is lambda (0: the cGAN alone); ``discriminator=None`` (with
    ``d_optimizer=None``) trains on L1 alone, a plain regression."""

    def __init__(self, generator, discriminator, g_optimizer, d_optimizer, sample_pairs,
                 l1_weight=100.0, loss="non-saturating", batch_size=32, schedulers=()):
        self._setup(batch_size, loss, schedulers)
        if (discriminator is None) != (d_optimizer is None):
            raise ValueError("Pix2PixStep: give a discriminator and its optimizer, or "
                             "neither (L1 alone)")
        self.l1_weight = _check_weight("Pix2PixStep", "l1_weight", l1_weight)
        if discriminator is None and self.l1_weight == 0:
            raise ValueError("Pix2PixStep: with no discriminator and l1_weight 0, G has "
                             "nothing to learn from")
        self.G, self.D = generator, discriminator
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.sample_pairs = sample_pairs

    def step(self):
        self.G.train()
        x, y = self.sample_pairs(self.batch_size)           # inputs and their targets
        numbers = {}
        if self.D is not None:                              # D judges pairs (x, y)
            self.D.train()
            with no_grad():
                fake = self.G(x)
            loss_d = 0.5 * self.loss.d_loss(self.D(x, y), self.D(x, fake))
            update(self.d_optimizer, loss_d)
            numbers["loss_d"] = loss_d.detach()
        with frozen(self.D):
            fake = self.G(x)
            loss_l1 = l1(fake, y)                           # E|y - G(x)|_1
            loss_g = self.l1_weight * loss_l1
            if self.D is not None:
                adv = self.loss.g_loss(self.D(x, fake))     # -E[log D(x, G(x))]
                loss_g = loss_g + adv
                numbers["loss_g_adv"] = adv.detach()
            update(self.g_optimizer, loss_g)
        numbers["loss_l1"] = loss_l1.detach()
        return {"loss_d": 0.0, "loss_g_adv": 0.0, **self._record(numbers)}


# --------------------------------------------------------------- CycleGAN
class CycleStep(_TranslationStep):
    """G: A -> B and F: B -> A (``g_ab``, ``g_ba``), D_A and D_B, trained on
    ``sample_a(m)`` and ``sample_b(m)`` (unpaired). ``g_optimizer`` holds both
    generators' parameters, ``d_optimizer`` both discriminators'.

    ``cycle_weight`` lambda_cyc (0: no cycle, the failure), ``identity_weight``
    lambda_id, ``distance`` "l1" (CycleGAN) or "l2" (DiscoGAN)."""

    def __init__(self, g_ab, g_ba, d_a, d_b, g_optimizer, d_optimizer, sample_a, sample_b,
                 cycle_weight=10.0, identity_weight=0.0, distance="l1",
                 loss="least-squares", batch_size=32, schedulers=()):
        self._setup(batch_size, loss, schedulers)
        if distance not in DISTANCES:
            raise ValueError(f"CycleStep: distance must be one of {', '.join(DISTANCES)}, "
                             f"got {distance!r}")
        self.cycle_weight = _check_weight("CycleStep", "cycle_weight", cycle_weight)
        self.identity_weight = _check_weight("CycleStep", "identity_weight", identity_weight)
        self.distance = distance
        self.g_ab, self.g_ba, self.d_a, self.d_b = g_ab, g_ba, d_a, d_b
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.sample_a, self.sample_b = sample_a, sample_b

    def step(self):
        for net in (self.g_ab, self.g_ba, self.d_a, self.d_b):
            net.train()
        a, b = self.sample_a(self.batch_size), self.sample_b(self.batch_size)
        d = self.distance
        with frozen(self.d_a, self.d_b):                    # the generators' update
            fake_b, fake_a = self.g_ab(a), self.g_ba(b)     # G(a), F(b)
            adv = self.loss.g_loss(self.d_b(fake_b)) + self.loss.g_loss(self.d_a(fake_a))
            cycle = (distance(d, self.g_ba(fake_b), a)      # F(G(a)) back to a
                     + distance(d, self.g_ab(fake_a), b))   # G(F(b)) back to b
            loss_g = adv + self.cycle_weight * cycle
            if self.identity_weight:                        # G leaves a B alone
                identity = distance(d, self.g_ab(b), b) + distance(d, self.g_ba(a), a)
                loss_g = loss_g + self.identity_weight * identity
            update(self.g_optimizer, loss_g)
        fake_a, fake_b = fake_a.detach(), fake_b.detach()   # D_A and D_B on this step's fakes
        loss_d = 0.5 * (self.loss.d_loss(self.d_a(a), self.d_a(fake_a))
                        + self.loss.d_loss(self.d_b(b), self.d_b(fake_b)))
        update(self.d_optimizer, loss_d)
        return self._record({"loss_d": loss_d.detach(), "loss_g_adv": adv.detach(),
                             "loss_cycle": cycle.detach()})


# ---------------------------------------------------------------- StarGAN
class StarStep(_TranslationStep):
    """One G(x, c) over `n_domains` domains and D(x) -> (patch logits, domain logits),
    trained on ``sample(m)`` -> (images, their domains); each image's target domain
    is drawn uniformly from the other k - 1 domains."""

    def __init__(self, generator, discriminator, g_optimizer, d_optimizer, sample, n_domains,
                 cls_weight=1.0, rec_weight=10.0, loss="least-squares", batch_size=32,
                 schedulers=(), gp_weight=0.0):
        self._setup(batch_size, loss, schedulers)
        if isinstance(n_domains, bool) or int(n_domains) != n_domains or n_domains < 2:
            raise ValueError(f"StarStep: n_domains must be an integer >= 2, got {n_domains!r}")
        self.n_domains = int(n_domains)
        self.cls_weight = _check_weight("StarStep", "cls_weight", cls_weight)
        self.rec_weight = _check_weight("StarStep", "rec_weight", rec_weight)
        self.gp_weight = _check_weight("StarStep", "gp_weight", gp_weight)
        self.G, self.D = generator, discriminator
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.sample = sample

    def targets(self, source):
        """A target domain for each image, uniform over the domains other than its own."""
        rng = backend.generator(source.device)              # drawn where the labels are
        shift = rng.integers(1, self.n_domains, size=source.shape[0])
        return Tensor((source.data + shift) % self.n_domains)

    def step(self):
        self.G.train()
        self.D.train()
        x, c = self.sample(self.batch_size)                 # images and their domains
        t = self.targets(c)
        with no_grad():
            fake = self.G(x, t)
        real_src, real_cls = self.D(x)
        fake_src, _ = self.D(fake)
        cls_real = F.cross_entropy(real_cls, c)             # D learns the domains on reals
        loss_d = self.loss.d_loss(real_src, fake_src) + self.cls_weight * cls_real
        if self.gp_weight:                                  # StarGAN's WGAN-GP, on D_src
            loss_d = loss_d + gradient_penalty(lambda v: self.D(v)[0], x, fake, self.gp_weight)
        update(self.d_optimizer, loss_d)
        with frozen(self.D):
            fake = self.G(x, t)
            fake_src, fake_cls = self.D(fake)
            adv = self.loss.g_loss(fake_src)
            cls_fake = F.cross_entropy(fake_cls, t)         # G's output must read as t
            rec = l1(self.G(fake, c), x)                    # and go back to x
            loss_g = adv + self.cls_weight * cls_fake + self.rec_weight * rec
            update(self.g_optimizer, loss_g)
        return self._record({"loss_d": loss_d.detach(), "loss_g_adv": adv.detach(),
                             "loss_cls_real": cls_real.detach(),
                             "loss_cls_fake": cls_fake.detach(), "loss_rec": rec.detach()})


# ---------------------------------------------------------------- runners
class Pix2PixTrainer(TwoPlayers, Runner, Pix2PixStep):
    """``Pix2PixStep`` run by ``Runner``'s ``fit`` (keyword arguments from ``out_dir`` on:
    ``minigan.gan.runner.Runner``)."""
    HISTORY_COLUMNS = ("step", "loss_d", "loss_g_adv", "loss_l1")
    SHOWN = ("loss_d", "loss_l1")

    def __init__(self, generator, discriminator, g_optimizer, d_optimizer, sample_pairs,
                 l1_weight=100.0, loss="non-saturating", batch_size=32, schedulers=(),
                 **runner):
        Pix2PixStep.__init__(self, generator, discriminator, g_optimizer, d_optimizer,
                             sample_pairs, l1_weight, loss, batch_size, schedulers)
        self._setup_runner(**runner)

    def networks(self):
        return [("generator", self.G)] + ([("discriminator", self.D)] if self.D else [])

    def samplers(self):
        return [("pairs", self.sample_pairs)]

    def settings(self):
        return {"l1_weight": self.l1_weight, "adversarial": self.D is not None,
                "loss": self.loss.name, "batch_size": self.batch_size, "seed": self.seed}


class CycleTrainer(Runner, CycleStep):
    """``CycleStep`` run by ``Runner``'s ``fit``."""
    HISTORY_COLUMNS = ("step", "loss_d", "loss_g_adv", "loss_cycle")
    SHOWN = ("loss_d", "loss_cycle")

    def __init__(self, g_ab, g_ba, d_a, d_b, g_optimizer, d_optimizer, sample_a, sample_b,
                 cycle_weight=10.0, identity_weight=0.0, distance="l1",
                 loss="least-squares", batch_size=32, schedulers=(), **runner):
        CycleStep.__init__(self, g_ab, g_ba, d_a, d_b, g_optimizer, d_optimizer, sample_a,
                           sample_b, cycle_weight, identity_weight, distance, loss,
                           batch_size, schedulers)
        self._setup_runner(**runner)

    def checkpoint_parts(self):
        return [("g_ab", self.g_ab), ("g_ba", self.g_ba), ("d_a", self.d_a), ("d_b", self.d_b),
                ("g_optimizer", self.g_optimizer), ("d_optimizer", self.d_optimizer)]

    def networks(self):
        return [("g_ab", self.g_ab), ("g_ba", self.g_ba), ("d_a", self.d_a), ("d_b", self.d_b)]

    def samplers(self):
        return [("a", self.sample_a), ("b", self.sample_b)]

    def settings(self):
        return {"cycle_weight": self.cycle_weight, "identity_weight": self.identity_weight,
                "distance": self.distance, "loss": self.loss.name,
                "batch_size": self.batch_size, "seed": self.seed}


class StarTrainer(TwoPlayers, Runner, StarStep):
    """``StarStep`` run by ``Runner``'s ``fit``."""
    HISTORY_COLUMNS = ("step", "loss_d", "loss_g_adv", "loss_cls_real", "loss_cls_fake",
                       "loss_rec")
    SHOWN = ("loss_d", "loss_cls_fake", "loss_rec")

    def __init__(self, generator, discriminator, g_optimizer, d_optimizer, sample, n_domains,
                 cls_weight=1.0, rec_weight=10.0, loss="least-squares", batch_size=32,
                 schedulers=(), gp_weight=0.0, **runner):
        StarStep.__init__(self, generator, discriminator, g_optimizer, d_optimizer, sample,
                          n_domains, cls_weight, rec_weight, loss, batch_size, schedulers,
                          gp_weight)
        self._setup_runner(**runner)

    def samplers(self):
        return [("images", self.sample)]

    def settings(self):
        return {"n_domains": self.n_domains, "cls_weight": self.cls_weight,
                "rec_weight": self.rec_weight, "gp_weight": self.gp_weight,
                "loss": self.loss.name, "batch_size": self.batch_size, "seed": self.seed}


def translate(G, x, *conditions, batch=500):
    """G applied to the images x (a NumPy array) in eval mode, batch by batch, without
    a graph; returns a float32 NumPy array. `conditions`: arrays cut alongside x
    (StarGAN's target domains)."""
    was = G.training
    G.eval()
    device = next(iter(G.parameters())).device
    out = []
    try:
        with no_grad():
            for i in range(0, len(x), batch):
                args = [Tensor(backend.to_device(numpy.ascontiguousarray(a[i:i + batch]),
                                                 device)) for a in (x, *conditions)]
                out.append(G(*args).numpy().astype(numpy.float32))
    finally:
        G.train(was)
    return numpy.concatenate(out) if out else numpy.zeros((0,) + x.shape[1:], numpy.float32)

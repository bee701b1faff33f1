"""One step of GAN training: Goodfellow et al. (2014), Algorithm 1.

    for number of training iterations:
        for k steps:
            sample a minibatch of m noise samples z and m examples x
            update D by ascending   1/m sum [log D(x) + log(1 - D(G(z)))]
        sample a minibatch of m noise samples z
        update G by descending  1/m sum log(1 - D(G(z)))      (or another G loss)

``GANStep.step`` is that loop body, line for line. Both players *minimize* here:
"ascending V" for D is "descending -V", the discriminator loss of
``minigan.gan.losses``. The bookkeeping a real run needs (history, progress bar,
checkpoints, Ctrl-C) is the runner's, ``minigan.gan.runner.Trainer``, built on
this class.

The override points (a subclass replaces one and keeps the rest):

* ``update_discriminator(x, z)``: one D update on real x and fakes G(z);
* ``update_generator(z)``: one G update, D held fixed (the unrolled GAN,
  ``minigan.gan.tricks.unrolled``, replaces this one).

``discriminator_step()`` and ``generator_step()`` take one such update alone, on
fresh batches, for stepping through the game by hand (the playground's buttons).
"""
import contextlib
import math

import numpy

from .. import functional as F
from ..tensor import no_grad
from .losses import LOSSES, get_loss, clip_weights
from .device_numbers import fetch_numbers, grad_norm


class TrainingDiverged(FloatingPointError):
    """A loss became NaN or inf. ``step``, ``loss_name``, ``value`` and ``checkpoint``
    (the last good checkpoint, or None) say where and what."""

    def __init__(self, message, step, loss_name, value, checkpoint=None):
        super().__init__(message)
        self.step, self.loss_name, self.value, self.checkpoint = step, loss_name, value, checkpoint


class GANStep:
    """G and D, their optimizers and what they are fed; ``step()`` trains them once.

    * ``sample_real(m)``: m real samples; ``sample_noise(m)``: m noise vectors z.
      With labels (the conditional GAN) they return pairs (x, y) and (z, y), and
      the step calls D(x, y), G(z, y) and D(G(z, y), y).
    * ``loss`` names a pair of ``minigan.gan.losses.LOSSES``; ``d_steps`` is the
      lecture's k.
    * ``penalty(D, real, fake)`` is added to D's loss (``gradient_penalty``,
      ``r1_penalty``); ``penalty_every`` n > 1 makes it lazy (Karras et al. 2020):
      on every n-th D update only, times n.
    * ``label_smoothing`` s makes the real label 1 - s (one-sided); ``weight_clip``
      c clips D's weights into [-c, c] after each D update (the original WGAN).
    * ``g_optimizer=None`` holds G fixed and trains D alone (the optimal D of a G).
    * ``schedulers``: learning-rate schedules, each stepped after every step.
    """

    def __init__(self, generator, discriminator, g_optimizer, d_optimizer, sample_real,
                 sample_noise, loss="non-saturating", d_steps=1, batch_size=64, penalty=None,
                 penalty_every=1, label_smoothing=0.0, weight_clip=None, schedulers=()):
        self.loss = get_loss(loss)
        _check_settings(self.loss, d_steps, batch_size, penalty_every, label_smoothing,
                        weight_clip)
        self.G, self.D = generator, discriminator
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.sample_real, self.sample_noise = sample_real, sample_noise
        self.d_steps, self.batch_size = int(d_steps), int(batch_size)
        self.penalty, self.penalty_every = penalty, int(penalty_every)
        self.label_smoothing, self.weight_clip = float(label_smoothing), weight_clip
        self.schedulers = list(schedulers or ())
        self.global_step = 0            # generator steps done so far
        self._d_update = 0              # the number of the D update under way (0, 1, ...)

    def step(self):
        """One iteration: ``d_steps`` (k) D updates, then one G update. Returns the
        step's record; D's numbers in it are averaged over its k updates."""
        self.G.train()
        self.D.train()
        m = self.batch_size
        d_stats = []
        for i in range(self.d_steps):                      # for k steps:
            self._d_update = self.global_step * self.d_steps + i
            z = self.sample_noise(m)                       #   sample m noise samples
            x = self.sample_real(m)                        #   sample m examples
            d_stats.append(self.update_discriminator(x, z))    # ascend V (descend L_D)
        if self.g_optimizer is not None:
            z = self.sample_noise(m)                       # sample m noise samples
            loss_g, grad_norm_g = self.update_generator(z)     # descend L_G
        else:                                              # G held fixed: report its loss
            loss_g, grad_norm_g = self._generator_loss(z), 0.0

        # The step's numbers stayed on the device until now: fetch them in one copy.
        d_stats, (loss_g, grad_norm_g) = fetch_numbers((d_stats, (loss_g, grad_norm_g)))
        for stats in d_stats:                              # a NaN or inf stops the run here,
            self._check_finite("loss_d", stats[0])         # naming the step and the loss
        self._check_finite("loss_g", loss_g)
        for schedule in self.schedulers:                   # the next step's learning rates
            schedule.step()
        self.global_step += 1
        loss_d, d_real, d_fake, grad_norm_d, penalty = (float(numpy.mean(column))
                                                         for column in zip(*d_stats))
        return {"step": self.global_step, "loss_d": loss_d, "loss_g": loss_g,
                "d_real": d_real, "d_fake": d_fake, "grad_norm_d": grad_norm_d,
                "grad_norm_g": grad_norm_g, "penalty": penalty}

    def update_discriminator(self, x, z):
        """Override point: one D update on real samples x and fakes G(z), G held fixed.

            L_D = loss.d_loss(D(x), D(G(z))) [+ penalty(D, x, G(z))],   theta_D -= step(dL_D)

        Returns (loss_d, mean D(x), mean D(G(z)), ||grad L_D||, penalty); the means
        are probabilities for the BCE losses. Each may be a Python number or a
        one-element tensor still on the device (``step`` fetches them all at once)."""
        (x, *x_labels), (z, *z_labels) = _parts(x), _parts(z)
        with no_grad():                                    # G is held fixed while D learns
            fake = self.G(z, *z_labels)
        real_logits, fake_logits = self.D(x, *x_labels), self.D(fake, *z_labels)
        loss_d = self._d_loss(real_logits, fake_logits)    # = -V(D, G) for the BCE losses
        if self.penalty is not None and (x_labels or z_labels):
            raise ValueError("Trainer: a penalty on labelled samples is not supported (it "
                             "would mix real and fake samples of different classes)")
        penalty = None
        if self.penalty is not None and self._d_update % self.penalty_every == 0:
            penalty = self.penalty(self.D, x, fake)
            if self.penalty_every > 1:                     # lazy: n times, every n-th update
                penalty = penalty * float(self.penalty_every)
            loss_d = loss_d + penalty
        self.d_optimizer.zero_grad()
        loss_d.backward()
        norm = grad_norm(self.D)
        self.d_optimizer.step()
        if self.weight_clip is not None:
            clip_weights(self.D, self.weight_clip)
        return (loss_d.detach(), self._report(real_logits), self._report(fake_logits),
                norm, 0.0 if penalty is None else penalty.detach())

    def update_generator(self, z):
        """Override point: one G update on the fakes G(z), D held fixed.

            L_G = loss.g_loss(D(G(z))),   theta_G -= step(dL_G/dtheta_G)

        Returns (loss_g, ||dL_G/dtheta_G||), numbers or one-element device tensors."""
        z, *labels = _parts(z)
        with frozen(self.D):
            loss_g = self.loss.g_loss(self.D(self.G(z, *labels), *labels))
            self.g_optimizer.zero_grad()
            loss_g.backward()
        norm = grad_norm(self.G)
        self.g_optimizer.step()
        return loss_g.detach(), norm

    def discriminator_step(self):
        """One D update alone, outside the loop of ``step``: fresh batches x and z as
        ``step`` draws them, then ``update_discriminator(x, z)``. It is the "one D
        step" of a live page (``minigan.playground``), for watching D move while G
        stands still. ``global_step``, the schedules and the history do not move.

        Returns {"loss_d", "d_real", "d_fake", "grad_norm_d", "penalty"} as floats."""
        self.G.train()
        self.D.train()
        m = self.batch_size
        z = self.sample_noise(m)                           # the same order as in step()
        x = self.sample_real(m)
        stats = fetch_numbers(self.update_discriminator(x, z))
        self._check_finite("loss_d", stats[0])
        return dict(zip(("loss_d", "d_real", "d_fake", "grad_norm_d", "penalty"), stats))

    def generator_step(self):
        """One G update alone, D held fixed (``update_generator`` on fresh noise): the
        "one G step" of a live page. ``global_step``, the schedules and the history do
        not move. Returns {"loss_g", "grad_norm_g"} as floats."""
        if self.g_optimizer is None:
            raise ValueError("generator_step: G is held fixed (g_optimizer=None), so it "
                             "has no update to take")
        self.G.train()
        self.D.train()
        loss_g, norm = fetch_numbers(self.update_generator(self.sample_noise(self.batch_size)))
        self._check_finite("loss_g", loss_g)
        return {"loss_g": loss_g, "grad_norm_g": norm}

    # ------------------------------------------------------- the parts used above
    def _generator_loss(self, z):
        """L_G of the current players on z, without an update (G held fixed)."""
        z, *labels = _parts(z)
        with no_grad():
            return self.loss.g_loss(self.D(self.G(z, *labels), *labels))

    def _d_loss(self, real_logits, fake_logits):
        if self.label_smoothing:
            return self.loss.d_loss(real_logits, fake_logits,
                                    real_target=1.0 - self.label_smoothing)
        return self.loss.d_loss(real_logits, fake_logits)

    def _report(self, logits):
        """Mean of D's output: a probability sigmoid(logit) for the BCE losses, raw
        otherwise (a one-element tensor, left on the device)."""
        with no_grad():
            out = F.sigmoid(logits.detach()) if self.loss.probabilities else logits.detach()
            return out.mean()

    def _check_finite(self, name, value):
        """Stop with TrainingDiverged if `value` (a Python number) is NaN or inf."""
        if not math.isfinite(value):
            self._diverged(name, value)

    def _diverged(self, name, value, where="no checkpoint was written"):
        step = self.global_step + 1
        raise TrainingDiverged(
            f"training diverged at step {step}: {name} is {value}; {where}. Try a smaller "
            f"learning rate, a penalty, or another loss.", step, name, value)


@contextlib.contextmanager
def frozen(*modules):
    """Hold players fixed: their parameters get no gradient inside this block (so the
    other player's backward pass, or an inversion's descent on z, does not waste time
    on them); each flag is restored afterwards. A module given as None is skipped."""
    params = [p for m in modules if m is not None for p in m.parameters()]
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad = False
    try:
        yield
    finally:
        for p, f in zip(params, flags):
            p.requires_grad = f


def _parts(sample):
    """A sample is a Tensor, or a tuple (tensor, labels) when training with labels."""
    return tuple(sample) if isinstance(sample, (tuple, list)) else (sample,)


def _check_settings(loss, d_steps, batch_size, penalty_every, label_smoothing, weight_clip):
    """Refuse a setting the step cannot run with, saying what it must be."""
    if int(d_steps) != d_steps or d_steps < 1:
        raise ValueError(f"Trainer: d_steps (the k of the algorithm) must be a positive "
                         f"integer, got {d_steps}")
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"Trainer: batch_size must be a positive integer, got {batch_size}")
    if int(penalty_every) != penalty_every or penalty_every < 1:
        raise ValueError(f"Trainer: penalty_every must be a positive integer (the penalty "
                         f"is applied on every n-th D update), got {penalty_every}")
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"Trainer: label_smoothing must be in [0, 1) (the real label is "
                         f"1 - label_smoothing), got {label_smoothing}")
    if label_smoothing and not loss.smoothable:
        smoothable = [n for n, pair in LOSSES.items() if pair.smoothable]
        raise ValueError(f"Trainer: label smoothing has no meaning for the "
                         f"'{loss.name}' loss; it applies to: {', '.join(smoothable)}")
    if weight_clip is not None and weight_clip <= 0:
        raise ValueError(f"Trainer: weight_clip must be positive, got {weight_clip}")

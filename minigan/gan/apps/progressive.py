"""Progressive growing of GANs (Karras et al. 2018), for MNIST: 7x7, then 14x14, then 28x28.

G and D start small and grow together. Each new block is *faded in*: while
alpha rises from 0 to 1, G's image is a blend of the old stage's image, upsampled,
and the new block's::

    G:  y = (1 - alpha) * upsample(toRGB_old(h))  +  alpha * toRGB_new(block(h))
    D:  h = (1 - alpha) * fromRGB_old(avgpool(x)) +  alpha * block(fromRGB_new(x))

so at alpha = 0 the grown G draws exactly what the smaller G drew (upsampled) and
the new layers enter gently; at alpha = 1 the old toRGB / fromRGB are gone. The
real images D sees are average-pooled to the stage's resolution and, during a
fade, blended the same way (``real_at``), so real and fake are made alike.

The paper's other pieces, each a library layer of its own (``minigan.nn``):

* equalized learning rate: every convolution and dense layer is ``EqualizedConv2d``
  / ``EqualizedDense`` (w ~ N(0, 1), scaled by He's constant at every call);
* pixel-wise feature normalization (``PixelNorm``) after every convolution of G,
  in place of batch norm;
* minibatch standard deviation (``MinibatchStdDev``) at the start of D's last
  block, so D can see a batch without variety;
* leaky ReLU 0.2 everywhere, a linear output in G and D (no tanh, no sigmoid);
* the loss, WGAN-GP with the paper's drift term (``ProgressiveStep``)::

      L_D = E[D(G(z))] - E[D(x)] + lambda E[(||grad D(xhat)|| - 1)^2] + eps_drift E[D(x)^2]
      L_G = -E[D(G(z))]                                   (lambda 10, eps_drift 0.001)

``ProgressiveSchedule`` says, for each step, the resolution and alpha;
``ProgressiveTrainer`` is ``ProgressiveStep`` run by ``minigan.gan.runner.Runner``
(history, checkpoints that restore the stage and alpha, exact resume, Ctrl-C).
The experiment that trains and scores it is ``minigan.experiments.progan``.
"""
import json
import math

from ... import nn
from ... import functional as F
from ...tensor import no_grad
from ..losses import gradient_penalty
from ..runner import Runner, TwoPlayers
from ..step import frozen
from .translation import _TranslationStep, _check_weight, update

STAGES = (7, 14, 28)            # the resolutions, each twice the one before
CHANNELS = (64, 32, 16)         # the feature maps at each resolution
NOISE_DIM = 100


def check_stage(who, resolution, alpha, stages=STAGES):
    """(resolution, alpha) checked: a resolution that is a stage, alpha in [0, 1], and
    alpha 1 at the first stage (it has no smaller stage to fade from)."""
    if isinstance(resolution, bool) or resolution not in stages:
        raise ValueError(f"{who}: resolution must be one of {', '.join(map(str, stages))} "
                         f"(the stages), got {resolution!r}")
    if not (isinstance(alpha, (int, float)) and 0.0 <= alpha <= 1.0):
        raise ValueError(f"{who}: alpha must be a number in [0, 1], got {alpha!r}")
    if resolution == stages[0] and alpha != 1.0:
        raise ValueError(f"{who}: the first stage ({resolution}x{resolution}) has no smaller "
                         f"stage to fade from: alpha must be 1, got {alpha!r}")
    return int(resolution), float(alpha)


def lerp(old, new, alpha):
    """(1 - alpha) old + alpha new; at alpha 1, new itself (the old branch not needed)."""
    return new if alpha == 1.0 else (1.0 - alpha) * old + alpha * new


class _Growing(nn.Module):
    """What G and D share: the stages, the current ``stage`` (a resolution) and
    ``alpha``, set with ``grow_to``."""

    def _setup_stages(self, stages, channels):
        if len(stages) != len(channels) or len(stages) < 1:
            raise ValueError(f"{type(self).__name__}: give one channel count per stage, got "
                             f"stages {stages} and channels {channels}")
        if any(b != 2 * a for a, b in zip(stages, stages[1:])):
            raise ValueError(f"{type(self).__name__}: each stage must be twice the one before, "
                             f"got {stages}")
        self.stages, self.channels = tuple(stages), tuple(channels)
        self.stage, self.alpha = self.stages[0], 1.0

    def grow_to(self, resolution, alpha=1.0):
        """Work at `resolution` (one of the stages), its newest block faded in by `alpha`."""
        self.stage, self.alpha = check_stage(f"{type(self).__name__}.grow_to", resolution,
                                             alpha, self.stages)
        return self

    @property
    def level(self):
        """The index of the current stage (0 for the first)."""
        return self.stages.index(self.stage)

    def extra_repr(self):
        return f"stages={self.stages}, stage={self.stage}, alpha={self.alpha:g}"


def _conv(c_in, c_out):
    return nn.EqualizedConv2d(c_in, c_out, 3, padding=1)


class ProgressiveGenerator(_Growing):
    """G(z) -> images of the current stage's resolution, (N, 1, r, r), linear output.

        first block:  pixelnorm(z) -> dense to C0 x 7 x 7 -> lrelu, pixelnorm
                      -> conv 3x3 -> lrelu, pixelnorm
        each next:    upsample x2 (nearest) -> [conv 3x3 -> lrelu, pixelnorm] x 2
        toRGB:        a 1x1 convolution to one channel (gain 1), one per stage

    The fade-in, at a stage above the first::

        y = (1 - alpha) * upsample(toRGB_old(h)) + alpha * toRGB_new(block(h))
    """

    def __init__(self, noise_dim=NOISE_DIM, stages=STAGES, channels=CHANNELS):
        super().__init__()
        self._setup_stages(stages, channels)
        self.noise_dim, c0, r0 = int(noise_dim), channels[0], stages[0]
        self.project = nn.EqualizedDense(noise_dim, c0 * r0 * r0, gain=math.sqrt(2) / 4)
        self.first = nn.Sequential(_conv(c0, c0), nn.LeakyReLU(0.2), nn.PixelNorm())
        self.blocks = nn.ModuleList([
            nn.Sequential(nn.Upsample(scale_factor=2), _conv(a, b), nn.LeakyReLU(0.2),
                          nn.PixelNorm(), _conv(b, b), nn.LeakyReLU(0.2), nn.PixelNorm())
            for a, b in zip(channels, channels[1:])])
        self.to_rgb = nn.ModuleList([nn.EqualizedConv2d(c, 1, 1, gain=1.0) for c in channels])

    def forward(self, z):
        if z.ndim != 2 or z.shape[1] != self.noise_dim:
            raise ValueError(f"ProgressiveGenerator: expected noise of shape (N, "
                             f"{self.noise_dim}), got {tuple(z.shape)}")
        c0, r0 = self.channels[0], self.stages[0]
        # the paper's first block: the 4x4 "convolution" of a 1x1 input is this dense layer
        h = F.pixel_norm(z).reshape(z.shape[0], -1)
        h = F.pixel_norm(F.leaky_relu(self.project(h), 0.2).reshape(z.shape[0], c0, r0, r0))
        h = self.first(h)
        level = self.level
        if level == 0:
            return self.to_rgb[0](h)
        for block in self.blocks[:level - 1]:          # the stages grown in fully
            h = block(h)
        new = self.to_rgb[level](self.blocks[level - 1](h))
        old = None if self.alpha == 1.0 else F.interpolate(self.to_rgb[level - 1](h),
                                                           scale_factor=2)
        return lerp(old, new, self.alpha)


class ProgressiveDiscriminator(_Growing):
    """D(x) -> one number per image (linear: a WGAN critic), for images of the current
    stage's resolution.

        fromRGB:      a 1x1 convolution from one channel -> lrelu, one per stage
        each block:   [conv 3x3 -> lrelu] x 2 -> avgpool 2x2, the mirror of G's
        last block:   minibatch stddev (C + 1 channels) -> conv 3x3 -> lrelu
                      -> dense to C0 -> lrelu -> dense to 1 (gain 1)

    The fade-in, at a stage above the first::

        h = (1 - alpha) * fromRGB_old(avgpool(x)) + alpha * block(fromRGB_new(x))

    ``group_size``: the minibatch-stddev group (the batch must be a multiple of it).
    """

    def __init__(self, stages=STAGES, channels=CHANNELS, group_size=4):
        super().__init__()
        self._setup_stages(stages, channels)
        c0, r0 = channels[0], stages[0]
        self.from_rgb = nn.ModuleList([
            nn.Sequential(nn.EqualizedConv2d(1, c, 1), nn.LeakyReLU(0.2)) for c in channels])
        # blocks[i] takes stage i + 1's maps down to stage i's
        self.blocks = nn.ModuleList([
            nn.Sequential(_conv(b, b), nn.LeakyReLU(0.2), _conv(b, a), nn.LeakyReLU(0.2),
                          nn.AvgPool2d(2))
            for a, b in zip(channels, channels[1:])])
        self.last = nn.Sequential(nn.MinibatchStdDev(group_size), _conv(c0 + 1, c0),
                                  nn.LeakyReLU(0.2), nn.Flatten(),
                                  nn.EqualizedDense(c0 * r0 * r0, c0), nn.LeakyReLU(0.2),
                                  nn.EqualizedDense(c0, 1, gain=1.0))

    def forward(self, x):
        r = self.stage
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, r, r):
            raise ValueError(f"ProgressiveDiscriminator at stage {r}x{r}: expected images of "
                             f"shape (N, 1, {r}, {r}), got {tuple(x.shape)}")
        level = self.level
        h = self.from_rgb[level](x)
        if level > 0:
            h = self.blocks[level - 1](h)
            old = None if self.alpha == 1.0 else self.from_rgb[level - 1](F.avg_pool2d(x, 2))
            h = lerp(old, h, self.alpha)
            for block in reversed(self.blocks[:level - 1]):
                h = block(h)
        return self.last(h)


def downsample(x, resolution):
    """Images (N, C, R, R) average-pooled to (N, C, r, r), R a multiple of r."""
    size = x.shape[-1]
    if size % resolution:
        raise ValueError(f"downsample: {size}x{size} images cannot be pooled to "
                         f"{resolution}x{resolution}")
    k = size // resolution
    return x if k == 1 else F.avg_pool2d(x, k)


def real_at(x, resolution, alpha):
    """Real images as D sees them at a stage: pooled to `resolution`, and during a fade
    blended with the stage below, upsampled, as G's output is (the paper's code):

        x_r = (1 - alpha) upsample(pool(x, r / 2)) + alpha pool(x, r)"""
    x = downsample(x, resolution)
    if alpha == 1.0:
        return x
    return lerp(F.interpolate(F.avg_pool2d(x, 2), scale_factor=2), x, alpha)


def full_size(images, size=STAGES[-1]):
    """Images of a smaller stage shown (and scored) at `size`: nearest upsampling."""
    r = images.shape[-1]
    if size % r:
        raise ValueError(f"full_size: {r}x{r} images do not upsample to {size}x{size}")
    return images if r == size else F.interpolate(images, scale_factor=size // r)


class ProgressiveSchedule:
    """Which resolution and alpha each step trains at.

    The first stage trains for ``stabilize`` steps; each later stage first fades in
    for ``fade`` steps (alpha = i / fade at its i-th step, 0 to nearly 1), then
    stabilizes at alpha 1 for ``stabilize`` steps. ``stabilize`` may be one number
    or one per stage (the last stage longer, say). After the plan, training stays
    at the last stage with alpha 1.
    """

    def __init__(self, fade, stabilize, stages=STAGES):
        self.stages = tuple(stages)
        if not self.stages:
            raise ValueError("ProgressiveSchedule: stages must not be empty")
        if isinstance(stabilize, int) and not isinstance(stabilize, bool):
            stabilize = (stabilize,) * len(self.stages)
        stabilize = tuple(stabilize)
        if len(stabilize) != len(self.stages):
            raise ValueError(f"ProgressiveSchedule: stabilize must be one number or one per "
                             f"stage ({len(self.stages)}), got {stabilize}")
        for name, v in [("fade", fade)] + [("stabilize", s) for s in stabilize]:
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"ProgressiveSchedule: {name} must be a whole number of "
                                 f"steps >= 0, got {v!r}")
        if len(self.stages) > 1 and fade < 1:
            raise ValueError("ProgressiveSchedule: fade must be at least 1 step with more "
                             "than one stage")
        self.fade, self.stabilize = int(fade), stabilize
        self.phases = []                    # (resolution, "fade" | "stabilize", steps)
        for i, r in enumerate(self.stages):
            if i > 0:
                self.phases.append((r, "fade", self.fade))
            self.phases.append((r, "stabilize", self.stabilize[i]))
        self.total = sum(n for _, _, n in self.phases)

    def at(self, step):
        """(resolution, alpha) of step `step` (0 for the first step)."""
        if isinstance(step, bool) or int(step) != step or step < 0:
            raise ValueError(f"ProgressiveSchedule.at: step must be a whole number >= 0, "
                             f"got {step!r}")
        for r, kind, n in self.phases:
            if step < n:
                return r, (step / n if kind == "fade" else 1.0)
            step -= n
        return self.stages[-1], 1.0

    def boundaries(self):
        """The step at which each phase starts: [(step, resolution, kind)]."""
        out, start = [], 0
        for r, kind, n in self.phases:
            out.append((start, r, kind))
            start += n
        return out

    def state(self):
        return {"fade": self.fade, "stabilize": list(self.stabilize), "stages": list(self.stages)}


class ProgressiveStep(_TranslationStep):
    """One update of D, then one of G, at the resolution and alpha ``schedule`` gives
    for this step (G and D grown to it first).

    ``sample_real(m)``: m full-size real images in [-1, 1]; ``sample_noise(m)``: z.
    ``loss``: a pair of ``minigan.gan.losses`` (the paper's "wasserstein", or
    "non-saturating"); ``gp_weight`` lambda of the gradient penalty (0: none);
    ``drift`` eps_drift, keeping the critic's output near 0 on real images."""

    def __init__(self, generator, discriminator, g_optimizer, d_optimizer, sample_real,
                 sample_noise, schedule, loss="wasserstein", gp_weight=10.0, drift=1e-3,
                 batch_size=64, schedulers=()):
        self._setup(batch_size, loss, schedulers)
        self.gp_weight = _check_weight("ProgressiveStep", "gp_weight", gp_weight)
        self.drift = _check_weight("ProgressiveStep", "drift", drift)
        if not isinstance(schedule, ProgressiveSchedule):
            raise ValueError(f"ProgressiveStep: schedule must be a ProgressiveSchedule, got "
                             f"{type(schedule).__name__}")
        for net in (generator, discriminator):
            if tuple(net.stages) != schedule.stages:
                raise ValueError(f"ProgressiveStep: the schedule's stages {schedule.stages} "
                                 f"are not the {type(net).__name__}'s {tuple(net.stages)}")
        self.G, self.D = generator, discriminator
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.sample_real, self.sample_noise = sample_real, sample_noise
        self.schedule = schedule

    def grow(self, resolution, alpha):
        """G and D both to (resolution, alpha)."""
        self.G.grow_to(resolution, alpha)
        self.D.grow_to(resolution, alpha)

    def step(self):
        resolution, alpha = self.schedule.at(self.global_step)
        self.grow(resolution, alpha)
        self.G.train()
        self.D.train()
        m = self.batch_size
        x = real_at(self.sample_real(m), resolution, alpha)     # reals at this stage
        with no_grad():
            fake = self.G(self.sample_noise(m))
        real_out, fake_out = self.D(x), self.D(fake)
        loss_d = self.loss.d_loss(real_out, fake_out)        # E[D(G(z))] - E[D(x)]
        if self.gp_weight:                                   # + lambda E[(||grad|| - 1)^2]
            loss_d = loss_d + gradient_penalty(self.D, x, fake, self.gp_weight)
        if self.drift:                                       # + eps_drift E[D(x)^2]
            loss_d = loss_d + self.drift * (real_out * real_out).mean()
        update(self.d_optimizer, loss_d)
        with frozen(self.D):
            loss_g = self.loss.g_loss(self.D(self.G(self.sample_noise(m))))   # -E[D(G(z))]
            update(self.g_optimizer, loss_g)
        record = self._record({"loss_d": loss_d.detach(), "loss_g": loss_g.detach(),
                               "d_real": real_out.detach().mean(),
                               "d_fake": fake_out.detach().mean()})
        record.update(resolution=resolution, alpha=alpha)
        return record


class ProgressiveTrainer(TwoPlayers, Runner, ProgressiveStep):
    """``ProgressiveStep`` run by ``Runner``'s ``fit`` (keyword arguments from
    ``out_dir`` on: ``minigan.gan.runner.Runner``). Its checkpoint holds G's and D's
    stage and alpha, restored on resume (and checked against the schedule)."""
    HISTORY_COLUMNS = ("step", "resolution", "alpha", "loss_d", "loss_g", "d_real", "d_fake")
    SHOWN = ("resolution", "alpha", "loss_d")

    def __init__(self, generator, discriminator, g_optimizer, d_optimizer, sample_real,
                 sample_noise, schedule, loss="wasserstein", gp_weight=10.0, drift=1e-3,
                 batch_size=64, schedulers=(), **runner):
        ProgressiveStep.__init__(self, generator, discriminator, g_optimizer, d_optimizer,
                                 sample_real, sample_noise, schedule, loss, gp_weight, drift,
                                 batch_size, schedulers)
        self._setup_runner(**runner)

    def samplers(self):
        return [("real", self.sample_real), ("noise", self.sample_noise)]

    def settings(self):
        return {"schedule": self.schedule.state(), "loss": self.loss.name,
                "gp_weight": self.gp_weight, "drift": self.drift,
                "batch_size": self.batch_size, "seed": self.seed}

    def state_dict(self):
        state = super().state_dict()
        state["growth"] = json.dumps({"generator": [self.G.stage, self.G.alpha],
                                      "discriminator": [self.D.stage, self.D.alpha]})
        return state

    def load_state_dict(self, state):
        if "growth" not in state:
            raise ValueError("this is not a ProgressiveTrainer checkpoint: it holds no "
                             "stage and alpha ('growth')")
        growth = json.loads(str(state["growth"]))
        (g_stage, g_alpha), (d_stage, d_alpha) = growth["generator"], growth["discriminator"]
        check_stage("ProgressiveTrainer checkpoint", g_stage, g_alpha, self.G.stages)
        check_stage("ProgressiveTrainer checkpoint", d_stage, d_alpha, self.D.stages)
        super().load_state_dict(state)
        self.G.grow_to(g_stage, g_alpha)
        self.D.grow_to(d_stage, d_alpha)


def sample_images(G, z, size=STAGES[-1], batch=500):
    """G's images for the noise z (a Tensor) at its current stage and alpha, in eval
    mode and without a graph, upsampled to `size` (nearest): a float32 array in the
    range G draws (the judges clip to [-1, 1] as pixels)."""
    import numpy
    was = G.training
    G.eval()
    out = []
    try:
        with no_grad():
            for i in range(0, z.shape[0], batch):
                out.append(full_size(G(z[i:i + batch]), size).numpy().astype(numpy.float32))
    finally:
        G.train(was)
    return numpy.concatenate(out)


__all__ = ["STAGES", "ProgressiveGenerator", "ProgressiveDiscriminator", "ProgressiveSchedule",
           "ProgressiveStep", "ProgressiveTrainer", "real_at", "downsample", "full_size",
           "sample_images", "check_stage"]

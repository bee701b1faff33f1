"""SimGAN (Shrivastava et al. 2017, "Learning from simulated and unsupervised images
through adversarial training"): a refiner R that makes simulated images x look
real while keeping what the simulator knows about them (their labels).

There is no noise z: R's input is a synthetic image, its output the same image
refined, at the same resolution (residual blocks, no down- or up-sampling), so
R can only touch up what is there. A discriminator D tells real images y from
refined ones. The losses, with D(.) the probability that an image (here: each
patch of it) is real::

    L_D = -sum_patches log D(y)  -  sum_patches log(1 - D(R(x)))
    L_R = -sum_patches log D(R(x))  +  lambda ||R(x) - x||_1

* **Local adversarial loss**: D answers with a map of logits, one per patch
  (``networks.PatchDiscriminator``), and the loss sums over the patches: every
  patch of a refined image must look like a patch of a real one, and R cannot
  fool D with one big change in one place.
* **Self-regularization**: lambda ||R(x) - x||_1 keeps R(x) near x, so the label
  the simulator rendered x with still holds for R(x) (the paper's psi, a map to
  a feature space, is the identity here, as in its gaze and hand experiments).
  lambda = 0: nothing ties R(x) to x, and the labels may drift.
* **History of refined images**: half of each of D's fake batches comes from a
  buffer of images R refined at earlier steps (``gan.tricks.history.ImageHistory``),
  so D keeps punishing artifacts R made before and R cannot bring them back.

Sums over patches and pixels are taken here as means (the minibatch's size and
the image's do not then change the scale), so lambda weighs one pixel's L1
against one patch's log-loss. In the paper's names, the adversarial part of L_R
is l_real, the L1 part l_reg.

``RefinerStep.step`` is one update of R and then one of D (the paper's Algorithm
1 with K_g = K_d = 1), the formulas above line for line; ``RefinerTrainer`` runs
it with ``minigan.gan.runner.Runner`` (history, checkpoints with the buffer's
contents, exact resume, Ctrl-C).
"""
from ... import nn
from ... import functional as F
from ..runner import Runner
from ..step import frozen
from .networks import ResidualBlock
from .translation import _TranslationStep, _check_weight, l1, update, translate


class Refiner(nn.Module):
    """R(x): a synthetic image to a refined one of the same size, at full resolution::

        h = relu(conv3x3(x))              w channels, H x W
        h = `blocks` residual blocks      h + conv(relu(conv(h))), no normalization
        R(x) = clip(x + conv1x1(h), -1, 1)    `channels`, H x W, in [-1, 1]

    As in the paper (a 3x3 convolution to 64 maps, 4 ResNet blocks, a 1x1
    convolution to one map), without down-sampling: each output pixel sees only
    a (3 + 4 * blocks) x (3 + 4 * blocks) neighbourhood of its input pixel, so R
    makes local changes (stroke texture, edges), never a new digit.

    ``dilated=True`` spaces block i's kernel taps 2^i pixels apart (dilations 1,
    2, 4, ...; Yu and Koltun's context aggregation), still at full resolution
    and with the same weights: each output pixel then sees
    3 + 4 (2^blocks - 1) pixels across, 31 for 3 blocks, the whole of a 28 x 28
    digit, so R can move a stroke, not only retouch it.

    One change from the paper: R outputs a change to x, and the last convolution
    starts at zero, so an untrained R is the identity, R(x) = x (the paper gets
    there by first training R on the self-regularization alone). A network that
    started from random outputs would spend its first thousand steps learning
    to copy its input.
    """

    def __init__(self, channels=1, width=32, blocks=4, dilated=False):
        super().__init__()
        for name, v, low in (("channels", channels, 1), ("width", width, 1),
                             ("blocks", blocks, 0)):
            if isinstance(v, bool) or int(v) != v or v < low:
                raise ValueError(f"Refiner: {name} must be an integer >= {low}, got {v!r}")
        if not isinstance(dilated, bool):
            raise ValueError(f"Refiner: dilated must be True or False, got {dilated!r}")
        self.channels, self.dilated = int(channels), dilated
        self.stem = nn.Conv2d(self.channels, width, 3, 1, 1)
        self.blocks = nn.Sequential(*[ResidualBlock(width, norm="none",
                                                    dilation=2 ** i if dilated else 1)
                                      for i in range(int(blocks))])
        self.out = nn.Conv2d(width, self.channels, 1, 1, 0)
        nn.dcgan_init(self)
        self.out.weight.data[...] = 0                # an untrained R is the identity
        self.out.bias.data[...] = 0

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(f"Refiner: expected images of shape (N, {self.channels}, H, W), "
                             f"got {tuple(x.shape)}")
        h = F.relu(self.stem(x))
        return F.clip(x + self.out(self.blocks(h)), -1.0, 1.0)   # x, changed where R says


def refine(R, x, batch=500):
    """R applied to the images x (a NumPy array) in eval mode, without a graph:
    a float32 NumPy array of the same shape."""
    return translate(R, x, batch=batch)


class RefinerStep(_TranslationStep):
    """R (``refiner``) and D (``discriminator``, patch logits), trained on synthetic
    images ``sample_synthetic(m)`` and real ones ``sample_real(m)`` (unpaired, no
    labels: the labels matter only to what the refined images are used for).

    ``reg_weight``: lambda of the self-regularization (0: none). ``history``: an
    ``ImageHistory`` that mixes earlier refined images into D's fake batches (the
    paper: capacity a multiple of the batch, ``fraction=0.5``), or None for D on
    the current refined images only. ``loss``: the GAN loss pair; the paper's is
    "non-saturating" (its l_real is -log of D's "real" probability)."""

    def __init__(self, refiner, discriminator, r_optimizer, d_optimizer, sample_synthetic,
                 sample_real, reg_weight=1.0, history=None, loss="non-saturating",
                 batch_size=32, schedulers=()):
        self._setup(batch_size, loss, schedulers)
        self.reg_weight = _check_weight("RefinerStep", "reg_weight", reg_weight)
        if history is not None and not hasattr(history, "push_and_mix"):
            raise TypeError(f"RefinerStep: history must be an ImageHistory "
                            f"(minigan.gan.tricks.history) or None, got {type(history).__name__}")
        self.R, self.D = refiner, discriminator
        self.r_optimizer, self.d_optimizer = r_optimizer, d_optimizer
        self.sample_synthetic, self.sample_real = sample_synthetic, sample_real
        self.image_history = history

    def step(self):
        self.R.train()
        self.D.train()
        x = self.sample_synthetic(self.batch_size)          # simulated images
        y = self.sample_real(self.batch_size)               # real, unlabelled
        if tuple(x.shape[1:]) != tuple(y.shape[1:]):
            raise ValueError(f"RefinerStep: the synthetic images have shape "
                             f"{tuple(x.shape[1:])} and the real ones {tuple(y.shape[1:])}; "
                             f"R keeps an image's size, so D would be shown two kinds of "
                             f"image: give both the same (C, H, W)")
        with frozen(self.D):                                # R's update
            refined = self.R(x)
            adv = self.loss.g_loss(self.D(refined))         # -mean log D(R(x)), over patches
            reg = l1(refined, x)                            # ||R(x) - x||_1, per pixel
            loss_r = adv + self.reg_weight * reg
            update(self.r_optimizer, loss_r)
        fake = refined.detach()                             # D's update, on this step's refined
        if self.image_history is not None:                  # half of them from the history
            fake = self.image_history.push_and_mix(fake)
        loss_d = self.loss.d_loss(self.D(y), self.D(fake))  # -log D(y) - log(1 - D(fake))
        update(self.d_optimizer, loss_d)
        return self._record({"loss_d": loss_d.detach(), "loss_r_adv": adv.detach(),
                             "loss_reg": reg.detach()})


class RefinerTrainer(Runner, RefinerStep):
    """``RefinerStep`` run by ``Runner``'s ``fit`` (keyword arguments from ``out_dir``
    on: ``minigan.gan.runner.Runner``). A checkpoint holds the history buffer's
    images too, so a resumed run shows D the same mixed batches."""
    HISTORY_COLUMNS = ("step", "loss_d", "loss_r_adv", "loss_reg")
    SHOWN = ("loss_d", "loss_r_adv", "loss_reg")

    def __init__(self, refiner, discriminator, r_optimizer, d_optimizer, sample_synthetic,
                 sample_real, reg_weight=1.0, history=None, loss="non-saturating",
                 batch_size=32, schedulers=(), **runner):
        RefinerStep.__init__(self, refiner, discriminator, r_optimizer, d_optimizer,
                             sample_synthetic, sample_real, reg_weight, history, loss,
                             batch_size, schedulers)
        self._setup_runner(**runner)

    def checkpoint_parts(self):
        return [("refiner", self.R), ("discriminator", self.D),
                ("r_optimizer", self.r_optimizer), ("d_optimizer", self.d_optimizer),
                ("image_history", self.image_history)]

    def networks(self):
        return [("refiner", self.R), ("discriminator", self.D)]

    def samplers(self):
        return [("synthetic", self.sample_synthetic), ("real", self.sample_real)]

    def settings(self):
        h = self.image_history
        return {"reg_weight": self.reg_weight, "loss": self.loss.name,
                "history": None if h is None else [h.capacity, h.fraction],
                "batch_size": self.batch_size, "seed": self.seed}


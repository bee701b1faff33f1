"""StackGAN (Zhang et al. 2017): text to image in two stages, at MNIST's size.

A sentence t ("a thick seven leaning right") becomes a text code phi_t; Stage I
draws a rough 14 x 14 digit from noise and the text, Stage II redraws it at
28 x 28 from Stage I's image and the text again::

    phi_t = text_encoder(t)                         a bag of word embeddings
    c0 = mu0(phi_t) + sigma0(phi_t) * eps           conditioning augmentation
    s0 = G0(z, c0)                                  Stage I: 14 x 14
    c  = mu(phi_t) + sigma(phi_t) * eps             Stage II's own augmentation
    s  = G(s0, c)                                   Stage II: 28 x 28

**Conditioning augmentation.** G is not fed phi_t itself but a sample c of the
Gaussian N(mu(phi_t), sigma(phi_t)^2) (``ConditioningAugmentation``): a few
sentences give few points in text space, and a Gaussian around each fills the
space between them, so G sees a smooth condition; to keep the Gaussians from
shrinking to points, G's loss adds their KL divergence from N(0, I)::

    KL(N(mu, sigma^2) || N(0, I)) = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - 2 log sigma_j)

**The losses** (each stage; x a real image of sentence t, t' another image's
sentence)::

    L_D = -E[log D(x, phi_t)] - 1/2 (E[log(1 - D(G(z, c), phi_t))]
                                     + E[log(1 - D(x, phi_t'))])
    L_G = -E[log D(G(z, c), phi_t)] + lambda KL

(the paper's lambda is 1, on a KL its released code averages over the code's
dimensions instead of summing: lambda = 1 / c_dim on the sum written here).

The third term is the *matching-aware* discriminator (Reed et al. 2016, which
StackGAN uses): a real digit with a sentence it does not fit counts as fake, so D
must read the sentence and G must draw what it says (``matching=False`` drops it:
then D only asks "real?" and "does the sentence look like a sentence?").

**The text encoder.** The paper's is pretrained on image-caption pairs and
held fixed. minigan's ``TextEncoder`` (mean of word embeddings, then a Dense) is
trained in Stage I by D's loss, the matching-aware term being what makes its
codes tell sentences apart; G reads phi_t without a gradient (G could
otherwise move the condition to suit itself). In Stage II it is frozen with G0.

**Stage II** is trained after Stage I, with Stage I (encoder, augmentation, G0)
frozen, as in the paper: its G sees G0's drawings, its D the real 28 x 28 digits.

``StageOneTrainer`` and ``StageTwoTrainer`` run the two steps with
``minigan.gan.runner.Runner`` (history, checkpoints, exact resume, Ctrl-C).
"""
import numpy

from ... import backend, nn
from ... import functional as F
from ...ops.shape import concat
from ...tensor import Tensor, no_grad
from ..runner import Runner
from ..step import frozen
from .networks import ResidualBlock
from .translation import _TranslationStep, _check_weight, update


def _whole(who, name, value, low=1):
    if isinstance(value, bool) or int(value) != value or value < low:
        raise ValueError(f"{who}: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


# --------------------------------------------------------------- the text
class TextEncoder(nn.Module):
    """phi_t = lrelu(W mean_i e(w_i) + b): word ids (N, L) -> text codes (N, code_dim).

    A bag of words: the order of the words is lost ("a thick seven" and "seven
    a thick" are one code), which is all these sentences need, each word having
    one place."""

    def __init__(self, vocab_size, embed_dim=32, code_dim=32):
        super().__init__()
        self.vocab_size = _whole("TextEncoder", "vocab_size", vocab_size)
        self.code_dim = _whole("TextEncoder", "code_dim", code_dim)
        self.embed = nn.Embedding(self.vocab_size, _whole("TextEncoder", "embed_dim", embed_dim))
        self.dense = nn.Dense(embed_dim, self.code_dim)

    def forward(self, tokens):
        ids = tokens.data if isinstance(tokens, Tensor) else tokens
        if ids.ndim != 2:
            raise ValueError(f"TextEncoder: expected word ids of shape (N, L), got "
                             f"{tuple(ids.shape)}")
        xp = backend.array_module(ids)
        if not xp.issubdtype(ids.dtype, xp.integer):
            raise ValueError(f"TextEncoder: word ids must be integers, got {ids.dtype}")
        if ids.size and bool(((ids < 0) | (ids >= self.vocab_size)).any()):
            raise ValueError(f"TextEncoder: word ids must be in 0..{self.vocab_size - 1}, got "
                             f"values from {int(ids.min())} to {int(ids.max())}")
        bag = self.embed(Tensor(ids)).mean(axis=1)          # mean of the word vectors
        return F.leaky_relu(self.dense(bag), 0.2)


class ConditioningAugmentation(nn.Module):
    """phi_t -> (c, mu, log_sigma): [mu, log sigma] = W phi_t + b, c = mu + sigma * eps,
    eps ~ N(0, I) from minigan's seeded generator (in eval mode too: the condition is
    a sample, as at test time in the paper), or the `eps` given (zeros: c = mu)."""

    def __init__(self, text_dim, c_dim=8):
        super().__init__()
        self.c_dim = _whole("ConditioningAugmentation", "c_dim", c_dim)
        self.dense = nn.Dense(_whole("ConditioningAugmentation", "text_dim", text_dim),
                              2 * self.c_dim)

    def forward(self, code, eps=None):
        h = self.dense(code)
        mu, log_sigma = h[:, :self.c_dim], h[:, self.c_dim:]
        if eps is None:
            rng = backend.generator(code.device)
            eps = Tensor(rng.standard_normal(mu.shape, dtype="float32").astype(mu.dtype))
        return mu + log_sigma.exp() * eps, mu, log_sigma


def kl_to_standard_normal(mu, log_sigma):
    """KL(N(mu, sigma^2) || N(0, I)) = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - 2 log sigma_j),
    averaged over the batch."""
    per_dim = mu * mu + (2.0 * log_sigma).exp() - 1.0 - 2.0 * log_sigma
    return 0.5 * per_dim.sum(axis=1).mean()


def spread(code, h, w):
    """A vector per sample (N, k) copied over every pixel: (N, k, h, w)."""
    n, k = code.shape
    return code.reshape(n, k, 1, 1).broadcast_to((n, k, h, w))


# ---------------------------------------------------------------- the networks
# Stage II's sketch is scaled into (-1, 1) before its atanh, which is infinite at +-1
SHRINK = 0.98


class StageOneGenerator(nn.Module):
    """G0(z, c) -> a 14 x 14 image:

        Dense [z, c] -> 2w x 7 x 7, BN, ReLU
        ConvT 4/2 -> w x 14 x 14, BN, ReLU
        Conv 3/1 -> 1 x 14 x 14, tanh
    """

    def __init__(self, noise_dim=16, c_dim=8, width=32):
        super().__init__()
        self.noise_dim, self.c_dim = noise_dim, c_dim
        w = width
        self.net = nn.dcgan_init(nn.Sequential(
            nn.Dense(noise_dim + c_dim, 2 * w * 7 * 7), nn.Reshape(2 * w, 7, 7),
            nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.BatchNorm2d(w), nn.ReLU(),
            nn.Conv2d(w, 1, 3, 1, 1), nn.Tanh()))

    def forward(self, z, c):
        if z.shape[1] != self.noise_dim or c.shape[1] != self.c_dim:
            raise ValueError(f"StageOneGenerator: expected z of width {self.noise_dim} and c "
                             f"of width {self.c_dim}, got {z.shape[1]} and {c.shape[1]}")
        return self.net(concat([z, c], axis=1))


class StageTwoGenerator(nn.Module):
    """G(s0, c) -> a 28 x 28 image, from Stage I's 14 x 14 image s0:

        encode: Conv 3/1 (w) ReLU at 14, Conv 4/2 (2w) BN ReLU -> 7 x 7
        join:   [h, c spread over 7 x 7], Conv 3/1 (2w) BN ReLU
        refine: `blocks` residual blocks at 7 x 7 (batch norm)
        up:     ConvT 4/2 (w) BN ReLU -> 14, ConvT 4/2 (w/2) BN ReLU -> 28, Conv 3/1 -> delta
        out:    tanh(atanh(0.98 up(s0)) + delta), up(s0) the sketch upsampled (nearest)

    The text comes in again, so that Stage II could mend what Stage I drew wrong,
    not only sharpen it (whether it does is measured by ``stackgan``). Drawing a
    change to the sketch (in tanh's logits) is not the paper's (its Stage II
    decodes the image anew) but LAPGAN's (Denton et al.
    2015: each level adds detail to the level below, upsampled): it starts from
    the sketch, delta being near 0 at initialization. The paper's way, tried
    here for 500 steps (with the sketch also joined to the last layer), drew
    nearly the same digit whatever Stage I had drawn."""

    def __init__(self, c_dim=8, width=32, blocks=2):
        super().__init__()
        self.c_dim, w = c_dim, width
        self.encode = nn.Sequential(nn.Conv2d(1, w, 3, 1, 1), nn.ReLU(),
                                    nn.Conv2d(w, 2 * w, 4, 2, 1), nn.BatchNorm2d(2 * w),
                                    nn.ReLU())
        self.join = nn.Sequential(nn.Conv2d(2 * w + c_dim, 2 * w, 3, 1, 1),
                                  nn.BatchNorm2d(2 * w), nn.ReLU())
        self.blocks = nn.Sequential(*[ResidualBlock(2 * w, norm="batch") for _ in range(blocks)])
        h = max(w // 2, 1)              # fewer channels at 28 x 28, where a pixel costs most
        self.up = nn.Sequential(nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.BatchNorm2d(w), nn.ReLU(),
                                nn.ConvTranspose2d(w, h, 4, 2, 1), nn.BatchNorm2d(h), nn.ReLU())
        self.out = nn.Conv2d(h, 1, 3, 1, 1)
        nn.dcgan_init(self)

    def forward(self, s0, c):
        if s0.ndim != 4 or tuple(s0.shape[1:]) != (1, 14, 14):
            raise ValueError(f"StageTwoGenerator: expected Stage I images of shape "
                             f"(N, 1, 14, 14), got {tuple(s0.shape)}")
        h = self.encode(s0)
        h = self.join(concat([h, spread(c, 7, 7)], axis=1))
        delta = self.out(self.up(self.blocks(h)))
        x = SHRINK * F.interpolate(s0, scale_factor=2, mode="nearest")  # the sketch, 28 x 28
        sketch_logit = 0.5 * ((1.0 + x) / (1.0 - x)).log()             # atanh(x)
        return F.tanh(sketch_logit + delta)


class TextImageDiscriminator(nn.Module):
    """D(x, phi_t) -> a logit, for `size` x `size` images (14: Stage I, 28: Stage II):

        image:  two convolutions to 7 x 7 with w channels: for 14, Conv 4/2 (w) lrelu,
                Conv 3/1 (w) BN lrelu; for 28, Conv 4/2 (w/2) lrelu, Conv 4/2 (w) BN lrelu
        text:   Dense phi_t -> text_channels, lrelu, spread over 7 x 7
        joint:  [image, text] Conv 1/1 (2w) BN lrelu, Flatten, Dense -> 1

    as StackGAN's D joins the compressed text code to the image's 4 x 4 features."""

    SIZES = (14, 28)

    def __init__(self, size, text_dim=32, width=32, text_channels=16):
        super().__init__()
        if size not in self.SIZES:
            raise ValueError(f"TextImageDiscriminator: size must be one of 14, 28 (a stage's "
                             f"resolution), got {size!r}")
        self.size, w = size, width
        if size == 14:
            layers = [nn.Conv2d(1, w, 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.Conv2d(w, w, 3, 1, 1), nn.BatchNorm2d(w), nn.LeakyReLU(0.2)]
        else:                                   # half the channels at 14 x 14, as G's last layer
            h = max(w // 2, 1)
            layers = [nn.Conv2d(1, h, 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.Conv2d(h, w, 4, 2, 1), nn.BatchNorm2d(w), nn.LeakyReLU(0.2)]
        channels = w
        self.image = nn.Sequential(*layers)
        self.text = nn.Sequential(nn.Dense(text_dim, text_channels), nn.LeakyReLU(0.2))
        self.joint = nn.Sequential(nn.Conv2d(channels + text_channels, 2 * w, 1, 1, 0),
                                   nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2), nn.Flatten(),
                                   nn.Dense(2 * w * 7 * 7, 1))
        nn.dcgan_init(self)

    def forward(self, x, code):
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, self.size, self.size):
            raise ValueError(f"TextImageDiscriminator: expected images of shape (N, 1, "
                             f"{self.size}, {self.size}), got {tuple(x.shape)}")
        h = self.image(x)
        return self.joint(concat([h, spread(self.text(code), 7, 7)], axis=1))


def downsample(images):
    """28 x 28 -> 14 x 14 by the mean of each 2 x 2 block (NumPy, the real images
    Stage I's D is shown)."""
    x = numpy.asarray(images, numpy.float32)
    n, ch, h, w = x.shape
    return x.reshape(n, ch, h // 2, 2, w // 2, 2).mean(axis=(3, 5))


def upsample(images):
    """14 x 14 -> 28 x 28, each pixel copied into a 2 x 2 block (nearest: Stage I's
    image as it is, no detail added)."""
    return numpy.repeat(numpy.repeat(numpy.asarray(images), 2, axis=2), 2, axis=3)


# ---------------------------------------------------------------- the steps
def wrong_sentences(tokens):
    """Each sample's sentence swapped for the next sample's (the batch rolled by one):
    the mismatched pairs of the matching-aware D. Two neighbours may share a sentence;
    with 80 sentences that is rare, and the paper draws them the same way."""
    ids = tokens.data if isinstance(tokens, Tensor) else tokens
    xp = backend.array_module(ids)
    return Tensor(xp.roll(ids, 1, axis=0))


def _noise(device, n, dim):
    return Tensor(backend.generator(device).standard_normal((n, dim), dtype="float32"))


class _StageStep(_TranslationStep):
    """What both stages share: the matching-aware D update and G's adversarial + KL update
    around a ``draw(z, c)`` that makes the fakes."""

    def _setup_stage(self, who, noise_dim, kl_weight, matching, batch_size, loss, schedulers):
        self._setup(batch_size, loss, schedulers)
        self.noise_dim = _whole(who, "noise_dim", noise_dim)
        self.kl_weight = _check_weight(who, "kl_weight", kl_weight)
        self.matching = bool(matching)

    def _d_loss(self, x, code, wrong_code, fake):
        """-E log D(x, t) - 1/2 (E log(1 - D(fake, t)) + E log(1 - D(x, t')))."""
        real = self.D(x, code)
        if not self.matching:
            return self.loss.d_loss(real, self.D(fake, code))
        return 0.5 * (self.loss.d_loss(real, self.D(fake, code))
                      + self.loss.d_loss(real, self.D(x, wrong_code)))

    def _update(self, x, tokens, text_code, fakes):
        """One D update, then one G update. `text_code(tokens)` is phi_t (with a graph
        into the encoder when D trains it); `fakes(z, code)` -> (fake, mu, log_sigma)."""
        z = _noise(x.device, x.shape[0], self.noise_dim)
        code, wrong = text_code(tokens), text_code(wrong_sentences(tokens))
        with no_grad():
            fake, _, _ = fakes(z, code.detach())
        loss_d = self._d_loss(x, code, wrong, fake)
        update(self.d_optimizer, loss_d)
        with frozen(*self.d_players()):
            code = code.detach()                            # G reads phi_t, never moves it
            fake, mu, log_sigma = fakes(z, code)
            adv = self.loss.g_loss(self.D(fake, code))      # -E log D(G(z, c), t)
            kl = kl_to_standard_normal(mu, log_sigma)
            update(self.g_optimizer, adv + self.kl_weight * kl)
        return self._record({"loss_d": loss_d.detach(), "loss_g_adv": adv.detach(),
                             "kl": kl.detach()})


class StageOneStep(_StageStep):
    """Stage I: `encoder` (phi_t) and `D` (14 x 14) are D's players, in `d_optimizer`;
    `ca` and `G` (z, c -> 14 x 14) are G's, in `g_optimizer`. ``sample(m)`` -> (real
    14 x 14 images, their sentences' word ids)."""

    def __init__(self, encoder, ca, generator, discriminator, g_optimizer, d_optimizer, sample,
                 noise_dim=16, kl_weight=1.0, matching=True, loss="non-saturating",
                 batch_size=64, schedulers=()):
        self._setup_stage("StageOneStep", noise_dim, kl_weight, matching, batch_size, loss,
                          schedulers)
        self.encoder, self.ca, self.G, self.D = encoder, ca, generator, discriminator
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.sample = sample

    def d_players(self):
        return (self.encoder, self.D)

    def fakes(self, z, code):
        c, mu, log_sigma = self.ca(code)                    # c = mu + sigma * eps
        return self.G(z, c), mu, log_sigma

    def step(self):
        for net in (self.encoder, self.ca, self.G, self.D):
            net.train()
        x, tokens = self.sample(self.batch_size)
        return self._update(x, tokens, self.encoder, self.fakes)


class StageTwoStep(_StageStep):
    """Stage II on top of a trained, frozen Stage I (`encoder`, `ca0`, `g0`, in eval
    mode): `ca` and `G` (Stage I image, c -> 28 x 28) in `g_optimizer`, `D` (28 x 28)
    in `d_optimizer`. ``sample(m)`` -> (real 28 x 28 images, their sentences' ids)."""

    def __init__(self, encoder, ca0, g0, ca, generator, discriminator, g_optimizer, d_optimizer,
                 sample, noise_dim=16, kl_weight=1.0, matching=True, loss="non-saturating",
                 batch_size=64, schedulers=()):
        self._setup_stage("StageTwoStep", noise_dim, kl_weight, matching, batch_size, loss,
                          schedulers)
        self.encoder, self.ca0, self.g0 = encoder, ca0, g0
        self.ca, self.G, self.D = ca, generator, discriminator
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.sample = sample

    def d_players(self):
        return (self.D,)

    def text_code(self, tokens):
        with no_grad():                                     # the encoder is Stage I's, frozen
            return self.encoder(tokens)

    def stage_one(self, z, code):
        """s0 = G0(z, c0), Stage I frozen (eval mode, no graph)."""
        with no_grad():
            c0, _, _ = self.ca0(code)
            return self.g0(z, c0)

    def fakes(self, z, code):
        s0 = self.stage_one(z, code)
        c, mu, log_sigma = self.ca(code)
        return self.G(s0, c), mu, log_sigma

    def step(self):
        for net in (self.encoder, self.ca0, self.g0):
            net.eval()
        for net in (self.ca, self.G, self.D):
            net.train()
        x, tokens = self.sample(self.batch_size)
        return self._update(x, tokens, self.text_code, self.fakes)


# ---------------------------------------------------------------- runners
class StageOneTrainer(Runner, StageOneStep):
    """``StageOneStep`` run by ``Runner``'s ``fit`` (keyword arguments from ``out_dir`` on:
    ``minigan.gan.runner.Runner``)."""
    HISTORY_COLUMNS = ("step", "loss_d", "loss_g_adv", "kl")
    SHOWN = ("loss_d", "loss_g_adv", "kl")

    def __init__(self, encoder, ca, generator, discriminator, g_optimizer, d_optimizer, sample,
                 noise_dim=16, kl_weight=1.0, matching=True, loss="non-saturating",
                 batch_size=64, schedulers=(), **runner):
        StageOneStep.__init__(self, encoder, ca, generator, discriminator, g_optimizer,
                              d_optimizer, sample, noise_dim, kl_weight, matching, loss,
                              batch_size, schedulers)
        self._setup_runner(**runner)

    def checkpoint_parts(self):
        return [("encoder", self.encoder), ("ca", self.ca), ("generator", self.G),
                ("discriminator", self.D), ("g_optimizer", self.g_optimizer),
                ("d_optimizer", self.d_optimizer)]

    def networks(self):
        return [("encoder", self.encoder), ("ca", self.ca), ("generator", self.G),
                ("discriminator", self.D)]

    def samplers(self):
        return [("images", self.sample)]

    def settings(self):
        return {"stage": 1, "noise_dim": self.noise_dim, "kl_weight": self.kl_weight,
                "matching": self.matching, "loss": self.loss.name,
                "batch_size": self.batch_size, "seed": self.seed}


class StageTwoTrainer(Runner, StageTwoStep):
    """``StageTwoStep`` run by ``Runner``'s ``fit``. Its checkpoint holds the frozen
    Stage I too, so it resumes to the same run on its own."""
    HISTORY_COLUMNS = ("step", "loss_d", "loss_g_adv", "kl")
    SHOWN = ("loss_d", "loss_g_adv", "kl")

    def __init__(self, encoder, ca0, g0, ca, generator, discriminator, g_optimizer, d_optimizer,
                 sample, noise_dim=16, kl_weight=1.0, matching=True, loss="non-saturating",
                 batch_size=64, schedulers=(), **runner):
        StageTwoStep.__init__(self, encoder, ca0, g0, ca, generator, discriminator, g_optimizer,
                              d_optimizer, sample, noise_dim, kl_weight, matching, loss,
                              batch_size, schedulers)
        self._setup_runner(**runner)

    def checkpoint_parts(self):
        return [("stage1_encoder", self.encoder), ("stage1_ca", self.ca0),
                ("stage1_generator", self.g0), ("ca", self.ca), ("generator", self.G),
                ("discriminator", self.D), ("g_optimizer", self.g_optimizer),
                ("d_optimizer", self.d_optimizer)]

    def networks(self):
        return [("ca", self.ca), ("generator", self.G), ("discriminator", self.D)]

    def samplers(self):
        return [("images", self.sample)]

    def settings(self):
        return {"stage": 2, "noise_dim": self.noise_dim, "kl_weight": self.kl_weight,
                "matching": self.matching, "loss": self.loss.name,
                "batch_size": self.batch_size, "seed": self.seed}


def _zeros_if(yes, code, width):
    """eps = 0 (c = mu) where asked, else None (eps drawn)."""
    if not yes:
        return None
    return Tensor(backend.array_module(code.data).zeros((code.shape[0], width), code.data.dtype))


def draw(encoder, ca0, g0, tokens, z, ca=None, generator=None, batch=500, at_mean=False):
    """Stage I's images (N, 1, 14, 14) for the word ids `tokens` and noise `z` (NumPy
    arrays), and with Stage II's `ca` and `generator` also Stage II's (N, 1, 28, 28)
    from those same Stage I images; eval mode, no graph, float32 NumPy arrays. The
    augmentation's eps are drawn from minigan's generator (seed it first for the same
    pictures); ``at_mean=True`` uses c = mu and draws nothing (pictures taken during
    training, which must not change the run's random numbers)."""
    nets = [m for m in (encoder, ca0, g0, ca, generator) if m is not None]
    modes = [m.training for m in nets]
    device = next(iter(g0.parameters())).device
    ones, twos = [], []
    try:
        for m in nets:
            m.eval()
        with no_grad():
            for i in range(0, len(tokens), batch):
                t = Tensor(backend.to_device(numpy.ascontiguousarray(tokens[i:i + batch]), device))
                zb = Tensor(backend.to_device(numpy.ascontiguousarray(z[i:i + batch],
                                                                      numpy.float32), device))
                code = encoder(t)
                s0 = g0(zb, ca0(code, _zeros_if(at_mean, code, ca0.c_dim))[0])
                ones.append(s0.numpy().astype(numpy.float32))
                if generator is not None:
                    c = ca(code, _zeros_if(at_mean, code, ca.c_dim))[0]
                    twos.append(generator(s0, c).numpy().astype(numpy.float32))
    finally:
        for m, was in zip(nets, modes):
            m.train(was)
    stage1 = numpy.concatenate(ones) if ones else numpy.zeros((0, 1, 14, 14), numpy.float32)
    if generator is None:
        return stage1
    return stage1, (numpy.concatenate(twos) if twos else numpy.zeros((0, 1, 28, 28),
                                                                     numpy.float32))

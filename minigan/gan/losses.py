"""The GAN losses: what D and G each minimize, written from D's logits.

The discriminator outputs a *logit* l (any real number); the probability it
assigns to "real" is D(x) = sigmoid(l). Every loss here is computed from the
logits with the stable functions (``F.softplus``, ``F.log_sigmoid``,
``F.binary_cross_entropy_with_logits``), never as ``log(sigmoid(l))``: when D is
very sure, sigmoid(l) rounds to exactly 0 or 1 and the log of it is -inf, while
log_sigmoid(l) = -softplus(-l) stays finite and exact for any l.

Both players *minimize* here. The lecture's discriminator *ascends*
    V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))],
which is the same as descending -V: that is ``bce_d_loss``.

Pairs of losses (one for D, one for G) are registered by name in ``LOSSES``:

    name              D minimizes                                  G minimizes
    minimax           -E[log D(x)] - E[log(1 - D(G(z)))]           E[log(1 - D(G(z)))]
    non-saturating    -E[log D(x)] - E[log(1 - D(G(z)))]           -E[log D(G(z))]
    least-squares     0.5 E[(D(x)-1)^2] + 0.5 E[D(G(z))^2]         0.5 E[(D(G(z))-1)^2]
    wasserstein       E[D(G(z))] - E[D(x)]                         -E[D(G(z))]
    hinge             E[relu(1-D(x))] + E[relu(1+D(G(z)))]         -E[D(G(z))]

(for the last three, D(.) means the raw output, not a probability).

The penalties keep the discriminator smooth: ``gradient_penalty`` (WGAN-GP) and
``r1_penalty``. Both differentiate D's output with respect to its *input* with
``minigan.grad(..., create_graph=True)``, so that the penalty itself can then be
differentiated with respect to D's *parameters* (a second-order gradient).
"""
from typing import Callable, NamedTuple

from .. import backend
from .. import functional as F
from ..ops.loss import _reduced, _spread
from ..autograd import make_op
from ..tensor import Tensor, grad, no_grad, enable_grad


def _bce_with_label(logits, label):
    """``F.binary_cross_entropy_with_logits(logits, target)`` for a target that is one
    label for every sample (1 for real, 0 for fake, alpha when smoothed): the same
    formula, the same arithmetic, the same gradient, bit for bit.

    Why not call F's: it checks that every target lies in [0, 1] by looking at the
    target's smallest and largest values, which on a GPU means waiting for the
    device twice a call, four times a discriminator step. Here the label is one
    Python number, checked once by the caller (``_check_real_target``).

        l = max(x, 0) - x t + log(1 + e^{-|x|}),   dl/dx = sigmoid(x) - t
    """
    xp = backend.array_module(logits.data)
    x = logits.data
    target = Tensor(xp.full(x.shape, label, dtype=x.dtype))
    per = xp.maximum(x, 0) - x * target.data + xp.log1p(xp.exp(-xp.abs(x)))
    n = per.size

    def backward(g, out):
        return (_spread(g, "mean", n, logits.shape) * (F.sigmoid(logits) - target),)
    return make_op(_reduced(per, "mean", xp), (logits,), backward, "bce_with_logits")


def _check_real_target(real_target):
    if not 0.0 < real_target <= 1.0:
        raise ValueError(f"the real label (one-sided label smoothing) must be in (0, 1], "
                         f"got {real_target}; 0.9 is the usual smoothed value")


# --------------------------------------------------- the original GAN (BCE)
def bce_d_loss(real_logits, fake_logits, real_target=1.0):
    """The discriminator's binary cross-entropy, on logits:

        L_D = -E[log D(x)] - E[log(1 - D(G(z)))]          (= -V(D, G))

    With one-sided label smoothing (``real_target`` = alpha < 1, e.g. 0.9) the real
    examples are labelled alpha instead of 1, and the fake ones stay 0:

        L_D = -E[alpha log D(x) + (1 - alpha) log(1 - D(x))] - E[log(1 - D(G(z)))]

    Only the real side is smoothed: smoothing the fake label too would reward G's
    samples where p_data is zero (the lecture's optimal D becomes
    (alpha p_data + beta p_model) / (p_data + p_model)).
    """
    _check_real_target(real_target)
    real_loss = _bce_with_label(real_logits, real_target)   # = F.binary_cross_entropy_with_logits
    fake_loss = _bce_with_label(fake_logits, 0.0)           #   against a constant target
    return real_loss + fake_loss


def minimax_g_loss(fake_logits):
    """The generator's loss in the original minimax game (saturating):

        L_G = E[log(1 - D(G(z)))] = E[log sigmoid(-l)] = -E[softplus(l)]

    When D confidently rejects the fakes (l << 0) its gradient -sigmoid(l) vanishes:
    G learns slowly exactly when it is worst. That is why non-saturating exists.
    """
    return -F.softplus(fake_logits).mean()


def non_saturating_g_loss(fake_logits):
    """The non-saturating generator loss (Goodfellow et al. 2014, the one used in practice):

        L_G = -E[log D(G(z))] = -E[log sigmoid(l)]

    Same fixed point as the minimax loss, but its gradient -sigmoid(-l) is largest
    when D rejects the fakes (l << 0): strong gradients early in training.
    """
    return -F.log_sigmoid(fake_logits).mean()


# ------------------------------------------------------------------ LSGAN
def least_squares_d_loss(real_logits, fake_logits, real_target=1.0):
    """LSGAN's discriminator loss (Mao et al. 2017), on the raw output D(.):

        L_D = 0.5 E[(D(x) - 1)^2] + 0.5 E[D(G(z))^2]

    (``real_target`` replaces the 1 for one-sided label smoothing.)
    """
    _check_real_target(real_target)
    return 0.5 * ((real_logits - real_target) ** 2).mean() + 0.5 * (fake_logits ** 2).mean()


def least_squares_g_loss(fake_logits):
    """LSGAN's generator loss:   L_G = 0.5 E[(D(G(z)) - 1)^2]."""
    return 0.5 * ((fake_logits - 1.0) ** 2).mean()


# ----------------------------------------------------------------- WGAN
def wasserstein_d_loss(real_logits, fake_logits):
    """The critic's loss in WGAN (Arjovsky et al. 2017):

        L_D = E[D(G(z))] - E[D(x)]

    Minimizing it maximizes E[D(x)] - E[D(G(z))], which for a 1-Lipschitz critic
    estimates the Wasserstein-1 distance. The Lipschitz constraint comes from
    ``clip_weights`` (the original WGAN) or ``gradient_penalty`` (WGAN-GP).
    """
    return fake_logits.mean() - real_logits.mean()


def wasserstein_g_loss(fake_logits):
    """WGAN's generator loss:   L_G = -E[D(G(z))]."""
    return -fake_logits.mean()


def clip_weights(module, c):
    """Clip every parameter of ``module`` into [-c, c], in place (the original WGAN's
    crude way of keeping the critic Lipschitz). Call it after each critic update."""
    if c <= 0:
        raise ValueError(f"clip_weights: the clipping bound c must be positive, got {c}")
    with no_grad():
        for p in module.parameters():
            xp = backend.array_module(p.data)
            xp.clip(p.data, -c, c, out=p.data)     # in place: the optimizer keeps its handle


# ----------------------------------------------------------------- hinge
def hinge_d_loss(real_logits, fake_logits):
    """The hinge discriminator loss (Lim & Ye 2017; SAGAN, BigGAN):

        L_D = E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]

    D is only pushed until real outputs pass +1 and fake ones pass -1.
    """
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def hinge_g_loss(fake_logits):
    """The hinge generator loss:   L_G = -E[D(G(z))]."""
    return -fake_logits.mean()


# ------------------------------------------------------------- penalties
def _per_sample_norm(g):
    """||g_i||_2 for each sample i (all axes but the first flattened).

    A tiny constant under the square root keeps the gradient finite where g_i = 0
    (d sqrt(s)/ds is infinite at s = 0); it changes the norm by < 1e-6.
    """
    sq = (g * g).reshape(g.shape[0], -1).sum(axis=1)
    return (sq + 1e-12).sqrt()


def _input_gradient(discriminator, x):
    """d D(x) / dx for each sample, kept in the graph (create_graph=True) so that a
    penalty on it can be differentiated again with respect to D's parameters.

    Summing the outputs first is exact when D treats samples independently (no batch
    norm in a critic that is penalized): sample i's input only reaches output i.
    """
    x = x.detach()
    x.requires_grad = True
    with enable_grad():        # the penalty needs this graph even inside no_grad()
        out = discriminator(x)
        (g,) = grad(out.sum(), x, create_graph=True)
    return g


def gradient_penalty(discriminator, real, fake, lam=10.0, eps=None):
    """The WGAN-GP gradient penalty (Gulrajani et al. 2017):

        lam * E[(||grad_xhat D(xhat)||_2 - 1)^2],   xhat = eps x + (1 - eps) G(z),

    with eps ~ U[0, 1] drawn once per sample (from minigan's seeded generator), so
    xhat lies on the segment between a real and a fake sample, where the optimal
    critic has gradient norm 1. Add it to the critic's loss.

    ``eps`` may be given (shape (N,) or broadcastable to the samples) to make the
    penalty deterministic, e.g. in a gradient check.
    """
    if real.shape != fake.shape:
        raise ValueError(f"gradient_penalty: real samples have shape {real.shape} but fake "
                         f"samples have shape {fake.shape}; they are mixed pairwise, so they "
                         f"must match")
    n = real.shape[0]
    bshape = (n,) + (1,) * (real.ndim - 1)          # one eps per sample, broadcast over features
    if eps is None:
        eps = Tensor(backend.generator(real.device).random(bshape, dtype=real.dtype))
    else:                                           # given: same dtype and device as the samples
        eps = Tensor(eps.data if isinstance(eps, Tensor) else eps, dtype=real.dtype,
                     device=real.device).reshape(bshape)
    xhat = eps * real.detach() + (1.0 - eps) * fake.detach()
    norms = _per_sample_norm(_input_gradient(discriminator, xhat))
    return lam * ((norms - 1.0) ** 2).mean()


def r1_penalty(discriminator, real, fake=None, gamma=10.0):
    """The R1 penalty (Mescheder et al. 2018) on real data:

        (gamma / 2) E[||grad_x D(x)||_2^2],   x ~ p_data

    It pushes D's gradient to zero on the data, which makes the training of
    GANs locally convergent (e.g. on the Dirac-GAN). ``fake`` is ignored; it is
    there so that the signature fits ``Trainer(penalty=...)``.
    """
    g = _input_gradient(discriminator, real)
    sq = (g * g).reshape(g.shape[0], -1).sum(axis=1)
    return (gamma / 2.0) * sq.mean()


# -------------------------------------------------------------- registry
class GANLoss(NamedTuple):
    """A pair of losses: ``d_loss(real_logits, fake_logits)`` and ``g_loss(fake_logits)``.

    ``probabilities``: D's output is the logit of a probability (BCE losses), so the
    trainer reports sigmoid(D(.)); otherwise it reports the raw output.
    ``smoothable``: d_loss takes ``real_target`` (one-sided label smoothing).
    """
    name: str
    d_loss: Callable
    g_loss: Callable
    probabilities: bool
    smoothable: bool


LOSSES = {
    "minimax": GANLoss("minimax", bce_d_loss, minimax_g_loss, True, True),
    "non-saturating": GANLoss("non-saturating", bce_d_loss, non_saturating_g_loss, True, True),
    "least-squares": GANLoss("least-squares", least_squares_d_loss, least_squares_g_loss,
                             False, True),
    "wasserstein": GANLoss("wasserstein", wasserstein_d_loss, wasserstein_g_loss, False, False),
    "hinge": GANLoss("hinge", hinge_d_loss, hinge_g_loss, False, False),
}


def get_loss(name):
    """The GANLoss registered under ``name`` (a GANLoss passes through unchanged)."""
    if isinstance(name, GANLoss):
        return name
    key = str(name).lower().replace("_", "-")
    if key not in LOSSES:
        raise ValueError(f"unknown GAN loss {name!r}; choose one of: {', '.join(LOSSES)}")
    return LOSSES[key]

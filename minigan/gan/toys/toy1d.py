"""A GAN on the real line, where every density is known (Goodfellow et al. 2014, Fig. 1).

Data come from a Gaussian p_data. The generator is affine, G(z) = a z + b with
z ~ N(0, 1), so its samples follow p_g = N(b, a^2): a density we can write
down. That makes the lecture's formulas checkable numbers:

    D*(x) = p_data(x) / (p_data(x) + p_g(x))              (the optimal discriminator)
    max_D V(G, D) = -log 4 + 2 JSD(p_data || p_g)         (the value at D*)
    with one-sided label smoothing (real label alpha):  D*(x) = alpha p_data / (p_data + p_g)

The discriminator is a small MLP that outputs a logit l(x); D(x) = sigmoid(l(x)).
Densities, D* and the integrals are host-side NumPy/SciPy bookkeeping; the
training itself runs on minigan tensors.
"""
import math

import numpy
from scipy import integrate

from ... import backend, nn, optim
from ...tensor import Tensor, no_grad
from ..runner import Trainer


# ---------------------------------------------------------------- densities
class Gaussian1D:
    """N(mean, std^2) on the real line: a pdf for plots and integrals, and samples."""

    def __init__(self, mean, std):
        if not std > 0:
            raise ValueError(f"Gaussian1D: std must be > 0, got {std}")
        self.mean, self.std = float(mean), float(std)

    def pdf(self, x):
        z = (numpy.asarray(x, float) - self.mean) / self.std
        return numpy.exp(-0.5 * z * z) / (self.std * math.sqrt(2 * math.pi))

    def sample(self, n, device="cpu", dtype=numpy.float32):
        """n samples as an (n, 1) tensor, from minigan's seeded generator."""
        z = backend.generator(device).standard_normal((n, 1)).astype(dtype)
        return Tensor(z * dtype(self.std) + dtype(self.mean))

    def support(self, width=5.0):
        return self.mean - width * self.std, self.mean + width * self.std

    def __repr__(self):
        return f"N({self.mean:.3g}, {self.std:.3g}^2)"


class AffineGenerator(nn.Module):
    """G(z) = scale * z + shift with z ~ N(0, 1): its samples follow N(shift, scale^2)."""

    def __init__(self, shift=0.0, scale=1.0):
        super().__init__()
        self.shift = nn.Parameter(numpy.array([shift], numpy.float32))
        self.scale = nn.Parameter(numpy.array([scale], numpy.float32))

    def forward(self, z):
        return z * self.scale + self.shift

    def density(self):
        """p_g, the exact density of G(z)."""
        return Gaussian1D(self.shift.item(), abs(self.scale.item()))

    def sample(self, n, device="cpu"):
        return self(noise(n, device))


def noise(n, device="cpu"):
    """z ~ N(0, 1), shape (n, 1)."""
    return Tensor(backend.generator(device).standard_normal((n, 1)).astype(numpy.float32))


def mlp_discriminator(hidden=16, depth=2):
    """A small MLP from x (n, 1) to a logit (n, 1): Dense-Tanh blocks, then Dense."""
    if hidden < 1 or depth < 1:
        raise ValueError(f"mlp_discriminator: hidden and depth must be >= 1, got {hidden}, {depth}")
    layers, width = [], 1
    for _ in range(depth):
        layers += [nn.Dense(width, hidden), nn.Tanh()]
        width = hidden
    layers.append(nn.Dense(width, 1))
    return nn.Sequential(*layers)


# ------------------------------------------------------------------ theory
def optimal_discriminator(p_data, p_g, x, alpha=1.0):
    """D*(x) = alpha p_data / (p_data + p_g)   (alpha = 1: no label smoothing)."""
    pd, pg = p_data.pdf(x), p_g.pdf(x)
    return alpha * pd / numpy.maximum(pd + pg, 1e-300)


def _bounds(p, q, width=10.0):
    lo = min(p.mean - width * p.std, q.mean - width * q.std)
    hi = max(p.mean + width * p.std, q.mean + width * q.std)
    return lo, hi


def jsd(p, q):
    """JSD(p || q) = KL(p || m)/2 + KL(q || m)/2 with m = (p + q)/2, by scipy quad (nats)."""
    def integrand(x):
        a, b = p.pdf(x), q.pdf(x)
        m = 0.5 * (a + b)
        out = 0.0
        if a > 0:
            out += 0.5 * a * math.log(a / m)
        if b > 0:
            out += 0.5 * b * math.log(b / m)
        return out
    lo, hi = _bounds(p, q)
    value, _ = integrate.quad(integrand, lo, hi, limit=200,
                              points=sorted({p.mean, q.mean}))
    return value


def value_at_optimum(p_data, p_g):
    """C(G) = max_D V(G, D) = -log 4 + 2 JSD(p_data || p_g)."""
    return -math.log(4.0) + 2.0 * jsd(p_data, p_g)


def logits_on(D, x, device="cpu"):
    """D's logits at the points x (a NumPy array), as a NumPy array."""
    with no_grad():
        t = Tensor(numpy.asarray(x, numpy.float32).reshape(-1, 1), device=device)
        return D(t).numpy().reshape(-1).astype(float)


def probabilities_on(D, x, device="cpu"):
    """D(x) = sigmoid(logit) at the points x."""
    return 0.5 * (1.0 + numpy.tanh(0.5 * logits_on(D, x, device)))   # a stable sigmoid


def game_value(D, p_data, p_g, n=20001, device="cpu"):
    """V(G, D) = E_data[log D(x)] + E_g[log(1 - D(x))], integrated on a fine grid.

    log D = -log(1 + e^-l) and log(1 - D) = -log(1 + e^l) are taken from the
    logit l directly, so a confident D gives finite numbers.
    """
    lo, hi = _bounds(p_data, p_g, width=8.0)
    x = numpy.linspace(lo, hi, n)
    l = logits_on(D, x, device)
    integrand = -p_data.pdf(x) * numpy.logaddexp(0, -l) - p_g.pdf(x) * numpy.logaddexp(0, l)
    return float(integrate.trapezoid(integrand, x))


def where_either_density_matters(p_data, p_g, x, frac=0.01):
    """Mask of points where p_data or p_g is above `frac` of its own peak."""
    pd, pg = p_data.pdf(x), p_g.pdf(x)
    return (pd > frac * pd.max()) | (pg > frac * pg.max())


# ---------------------------------------------------------------- training
# Both 1-D runs are the ordinary Trainer (``minigan.gan.runner``) fed with the
# 1-D samplers: nothing here is a loop of its own.

def gan_trainer(G, D, p_data, loss="non-saturating", lr_d=0.02, lr_g=0.02, g_optimizer="adam",
                batch_size=256, device="cpu", **trainer_kwargs):
    """The lecture's algorithm on the line: a Trainer of G against D on p_data.

    ``loss``: "non-saturating" (G minimizes -E log D(G(z))) or "minimax" (G
    minimizes E log(1 - D(G(z))), the saturating one); D minimizes the BCE loss.
    D trains with Adam (betas 0.5, 0.999), G with Adam or plain SGD
    (``g_optimizer="sgd"``: its step is lr times the raw gradient, so a vanishing
    gradient shows). Other arguments (d_steps, callbacks, seed, progress, ...) go
    to ``Trainer``; call ``.fit(steps)``.
    """
    if loss not in ("non-saturating", "minimax"):
        raise ValueError(f"gan_trainer: loss must be 'non-saturating' or 'minimax', got {loss!r}")
    if g_optimizer not in ("adam", "sgd"):
        raise ValueError(f"gan_trainer: g_optimizer must be 'adam' or 'sgd', got {g_optimizer!r}")
    G.to(device)
    D.to(device)
    opt_g = (optim.Adam(G.parameters(), lr=lr_g, betas=(0.5, 0.999)) if g_optimizer == "adam"
             else optim.SGD(G.parameters(), lr=lr_g))
    opt_d = optim.Adam(D.parameters(), lr=lr_d, betas=(0.5, 0.999))
    return Trainer(G, D, opt_g, opt_d, lambda n: p_data.sample(n, device),
                   lambda n: noise(n, device), loss=loss, batch_size=batch_size,
                   **trainer_kwargs)


def discriminator_trainer(D, p_data, G, steps, lr=0.02, batch_size=512, real_label=1.0,
                          device="cpu", **trainer_kwargs):
    """A Trainer of D alone against a fixed G (``g_optimizer=None``), for `steps` steps.

    D minimizes  -E_data[alpha log D] - E_data[(1-alpha) log(1-D)] - E_g[log(1-D)]
    (real label alpha), with Adam and fresh samples every step. Its learning rate
    holds for half the steps, then decays linearly to a tenth
    (``optim.hold_then_decay``), so the stochastic D settles onto D*.
    """
    if not 0.0 < real_label <= 1.0:
        raise ValueError(f"discriminator_trainer: real_label alpha must be in (0, 1], got "
                         f"{real_label}")
    G.to(device)
    D.to(device)
    opt_d = optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    settle = optim.LambdaLR(opt_d, optim.hold_then_decay(steps, hold=0.5, end=0.1))
    return Trainer(G, D, None, opt_d, lambda n: p_data.sample(n, device),
                   lambda n: noise(n, device), loss="minimax", batch_size=batch_size,
                   label_smoothing=1.0 - real_label, schedulers=[settle], **trainer_kwargs)

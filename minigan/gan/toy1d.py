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

from .. import backend, nn, optim
from ..tensor import Tensor, no_grad
from . import losses


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
def train_discriminator(D, p_data, G, steps, batch_size=512, lr=0.02, real_label=1.0,
                        device="cpu", callback=None, progress=False):
    """Train D against a fixed G with Adam, fresh samples every step.

    D minimizes  -E_data[alpha log D] - E_data[(1-alpha) log(1-D)] - E_g[log(1-D)]
    (``losses.bce_d_loss`` with real label alpha). The learning rate decays
    linearly to a tenth in the last half, so the stochastic D settles onto D*.
    ``callback(step, D)`` is called before step 0 and after every step.
    D and G are moved to `device` first.
    """
    D.to(device)
    G.to(device)
    opt = optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    it = range(steps)
    if progress:
        from tqdm import tqdm
        it = tqdm(it, desc="D vs fixed G", leave=False)
    if callback:
        callback(0, D)
    for step in it:
        frac = step / max(steps - 1, 1)
        opt.param_groups[0]["lr"] = lr * (1.0 if frac < 0.5 else 1.0 - 1.8 * (frac - 0.5))
        real = p_data.sample(batch_size, device)
        with no_grad():
            fake = G.sample(batch_size, device)
        loss = losses.bce_d_loss(D(real), D(fake), real_target=real_label)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if callback:
            callback(step + 1, D)
    return D


def train_gan(G, D, p_data, steps, g_loss="non-saturating", d_steps=1, batch_size=256,
              lr_d=0.02, lr_g=0.02, g_optimizer="adam", device="cpu", callback=None,
              progress=False):
    """The lecture's algorithm on the line: d_steps of D, then one of G, repeated.

    g_loss: "non-saturating" (G minimizes -E log D(G(z))) or "minimax"
    (G minimizes E log(1 - D(G(z))), the saturating one).
    ``callback(step, G, D, info)`` gets, after each step, the G loss and the norm
    of G's gradient (to watch it vanish).
    """
    g_losses = {"non-saturating": losses.non_saturating_g_loss,
                "minimax": losses.minimax_g_loss}
    if g_loss not in g_losses:
        raise ValueError(f"train_gan: unknown g_loss {g_loss!r}; known: {', '.join(g_losses)}")
    if g_optimizer not in ("adam", "sgd"):
        raise ValueError(f"train_gan: g_optimizer must be 'adam' or 'sgd', got {g_optimizer!r}")
    D.to(device)
    G.to(device)
    opt_d = optim.Adam(D.parameters(), lr=lr_d, betas=(0.5, 0.999))
    opt_g = (optim.Adam(G.parameters(), lr=lr_g, betas=(0.5, 0.999)) if g_optimizer == "adam"
             else optim.SGD(G.parameters(), lr=lr_g))
    it = range(steps)
    if progress:
        from tqdm import tqdm
        it = tqdm(it, desc=f"1-D GAN ({g_loss})", leave=False)
    for step in it:
        for _ in range(d_steps):
            real = p_data.sample(batch_size, device)
            with no_grad():
                fake = G.sample(batch_size, device)
            d_loss = losses.bce_d_loss(D(real), D(fake))
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
        loss = g_losses[g_loss](D(G.sample(batch_size, device)))
        opt_g.zero_grad()
        loss.backward()
        grad_norm = math.sqrt(sum(float((p.grad.data ** 2).sum()) for p in G.parameters()))
        opt_d.zero_grad()           # G's backward also reached D's parameters: drop that
        opt_g.step()
        if callback:
            callback(step + 1, G, D, {"g_loss": loss.item(), "d_loss": d_loss.item(),
                                      "g_grad_norm": grad_norm})
    return G, D

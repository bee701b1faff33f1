"""Two-player differentiable games, and the gradient methods that play them.

A GAN is a game: the generator G minimizes a loss while the discriminator D
minimizes its own. The smallest games that show what goes wrong (and what
fixes it) have one number per player:

* the **bilinear game**  min_x max_y f(x, y) = x y.  Its only equilibrium is
  (0, 0); simultaneous gradient descent-ascent spirals away from it.
* the **Dirac-GAN** (Mescheder, Geiger & Nowozin, 2018): data sit at 0, the
  generator puts all its mass at theta, and the discriminator is the line
  D(x) = psi x. The value is  f(psi theta) + f(0)  with
  f(t) = -log(1 + e^-t) = log sigmoid(t) for the standard GAN, f(t) = t for
  WGAN. Equilibrium: (theta, psi) = (0, 0).

Player 1 owns ``x`` and minimizes ``loss1(x, y)``; player 2 owns ``y`` and
minimizes ``loss2(x, y)`` (for a zero-sum game, loss2 = -loss1). Every method
below moves along the **simultaneous gradient field**

    v(x, y) = (d loss1 / dx,  d loss2 / dy)

which is computed by autodiff (``minigan.grad``), never from a closed form.
Consensus optimization and SGA also need the Jacobian J of v; they get the
products J^T v and J v by differentiating twice (``create_graph=True``).

All states are tensors of any shape, computed elementwise: one call can run
many starting points, or evaluate the vector field on a whole grid at once.
Use float64 when comparing with theory.
"""
import math

import numpy

from ... import backend
from ...tensor import Tensor, grad
from ...ops.math import log_sigmoid, clip

MAX_STEP_SIZE = 1.0        # beyond this no method here is a sensible discretization
MAX_STEPS = 1_000_000

METHODS = ("simultaneous", "alternating", "optimistic", "extragradient", "consensus", "sga")
DIRAC_LOSSES = ("standard", "non-saturating", "wgan", "wgan-gp")


# ----------------------------------------------------------------- games
class Game:
    """Base class: a game is two losses, an equilibrium, and an optional projection."""
    name = "game"
    player_names = ("x", "y")
    equilibrium = (0.0, 0.0)

    def losses(self, x, y):
        """(loss1, loss2): player 1 minimizes loss1 over x, player 2 loss2 over y."""
        raise NotImplementedError

    def project(self, x, y):
        """Map a state back into the feasible set after each step (WGAN's clipping)."""
        return x, y

    def field(self, x, y, create_graph=False):
        """The simultaneous gradient v = (d loss1/dx, d loss2/dy), by autodiff.

        ``x`` and ``y`` must require grad. Losses are summed over elements first:
        each element is its own independent game, so the sum's gradient is the
        elementwise gradient.
        """
        l1, l2 = self.losses(x, y)
        (gx,) = grad(l1.sum(), x, create_graph=create_graph)
        (gy,) = grad(l2.sum(), y, create_graph=create_graph)
        return gx, gy

    def distance(self, x, y):
        """Euclidean distance of a state (arrays) from the equilibrium."""
        ex, ey = self.equilibrium
        return numpy.hypot(numpy.asarray(x) - ex, numpy.asarray(y) - ey)

    def __repr__(self):
        return self.name


class BilinearGame(Game):
    """min_x max_y  f(x, y) = x y.

    loss1 = x y (player 1 descends), loss2 = -x y (player 2 ascends x y).
    v = (y, -x): a pure rotation about the equilibrium (0, 0).
    """
    name = "bilinear game f(x, y) = xy"
    player_names = ("x", "y")

    def losses(self, x, y):
        f = x * y
        return f, -f


def _log_sigmoid_f(t):
    """f(t) = -log(1 + e^-t) = log sigmoid(t): the standard GAN's f."""
    return log_sigmoid(t)


# Gauss-Hermite nodes turn the expectation over Gaussian instance noise into a
# deterministic weighted sum: E[h(eps)] = sum_k w_k h(sqrt(2) sigma t_k) / sqrt(pi).
_GH_NODES, _GH_WEIGHTS = numpy.polynomial.hermite.hermgauss(32)


class DiracGAN(Game):
    """The Dirac-GAN: data at 0, generator at theta, discriminator D(x) = psi x.

    Value (Mescheder et al. 2018, eq. 1 with p_data = delta_0, p_g = delta_theta):

        V(theta, psi) = f(psi theta) + f(0),   G minimizes V, D maximizes V.

    loss (G's objective):
      "standard"        f(t) = log sigmoid(t);  G minimizes f(psi theta)
      "non-saturating"  same D; G minimizes -f(-psi theta) instead
      "wgan"            f(t) = t; optional weight clipping |psi| <= clip
      "wgan-gp"         f(t) = t; D adds gp_weight (|dD/dx (x_hat)| - 1)^2 at
                        x_hat = (0 + theta)/2 (D is linear, so any mix gives the same)
    regularizers (any loss):
      instance_noise=sigma  both data and samples get N(0, sigma^2) noise; the
                            expectation is taken exactly by Gauss-Hermite quadrature
      r1=gamma              D adds gamma/2 E_data |dD/dx|^2  (= gamma/2 psi^2 here)
    The gradients of D in the penalties are taken by autodiff (create_graph=True),
    the way a real GAN computes them.
    """
    player_names = ("theta (generator)", "psi (discriminator)")

    def __init__(self, loss="standard", clip=None, gp_weight=1.0, instance_noise=0.0, r1=0.0):
        if loss not in DIRAC_LOSSES:
            raise ValueError(f"DiracGAN: unknown loss {loss!r}; known losses: "
                             f"{', '.join(DIRAC_LOSSES)}")
        if clip is not None and not clip > 0:
            raise ValueError(f"DiracGAN: clip must be a positive number or None, got {clip}")
        if instance_noise < 0 or r1 < 0 or gp_weight < 0:
            raise ValueError("DiracGAN: instance_noise, r1 and gp_weight must be >= 0, got "
                             f"{instance_noise}, {r1}, {gp_weight}")
        self.loss, self.clip, self.gp_weight = loss, clip, gp_weight
        self.instance_noise, self.r1 = instance_noise, r1
        parts = [loss + (f" (clip {clip})" if clip else "")]
        if instance_noise:
            parts.append(f"instance noise sigma={instance_noise:g}")
        if r1:
            parts.append(f"R1 gamma={r1:g}")
        self.name = "Dirac-GAN, " + ", ".join(parts)

    # f, and the discriminator
    def f(self, t):
        return t if self.loss in ("wgan", "wgan-gp") else _log_sigmoid_f(t)

    @staticmethod
    def discriminator(psi, x):
        """D_psi(x) = psi x."""
        return psi * x

    def _noise(self, like):
        """Noise offsets and weights, shaped to broadcast along a new last axis."""
        xp = backend.array_module(like.data)
        if not self.instance_noise:
            return Tensor(xp.zeros((1,), like.dtype)), Tensor(xp.ones((1,), like.dtype))
        eps = Tensor(xp.asarray(math.sqrt(2.0) * self.instance_noise * _GH_NODES, like.dtype))
        w = Tensor(xp.asarray(_GH_WEIGHTS / math.sqrt(math.pi), like.dtype))
        return eps, w

    def losses(self, theta, psi):
        eps, w = self._noise(theta)
        th, ps = theta.unsqueeze(-1), psi.unsqueeze(-1)
        fake = th + eps                       # generator samples (with instance noise)
        real = eps                            # data at 0 (with instance noise)
        d_fake = self.discriminator(ps, fake)
        d_real = self.discriminator(ps, real)
        # V = E f(D(fake)) + E f(-D(real))   (Mescheder et al.'s sign convention)
        value = (w * (self.f(d_fake) + self.f(-d_real))).sum(axis=-1)
        if self.loss == "non-saturating":
            loss_g = -(w * self.f(-d_fake)).sum(axis=-1)
        else:
            loss_g = (w * self.f(d_fake)).sum(axis=-1)
        loss_d = -value + self._penalties(theta, psi)
        return loss_g, loss_d

    def _penalties(self, theta, psi):
        """Gradient penalties on D, with dD/dx taken by autodiff (create_graph=True)."""
        total = 0.0
        if self.r1:
            # R1: gamma/2 E_data |dD/dx|^2, at the real data x = 0
            xp = backend.array_module(psi.data)
            x_real = Tensor(xp.zeros(psi.shape, psi.dtype), requires_grad=True)
            (dx,) = grad(self.discriminator(psi, x_real).sum(), x_real, create_graph=True)
            total = total + 0.5 * self.r1 * dx * dx
        if self.loss == "wgan-gp":
            # WGAN-GP: lambda (|dD/dx| - 1)^2 at x_hat between a real (0) and a fake (theta)
            x_hat = 0.5 * theta.detach()
            x_hat.requires_grad = True
            (dx,) = grad(self.discriminator(psi, x_hat).sum(), x_hat, create_graph=True)
            total = total + self.gp_weight * (dx.abs() - 1.0) ** 2
        return total

    def project(self, theta, psi):
        if self.clip is None:
            return theta, psi
        return theta, clip(psi, -self.clip, self.clip)


# --------------------------------------------------------------- methods
def _leaf(a):
    """A fresh leaf tensor requiring grad (the state is never part of an old graph)."""
    t = a.detach() if isinstance(a, Tensor) else Tensor(a)
    t.requires_grad = True
    return t


def _jacobian_products(game, x, y):
    """v, J^T v and J v at (x, y), with J = dv/d(x, y), by double backward.

    J^T v: differentiate v . stop_grad(v) (a vector-Jacobian product).
    J v:   J^T u is linear in a dummy u; differentiating (J^T u) . v with
           respect to u gives J v (the "double-vjp" trick).
    """
    gx, gy = game.field(x, y, create_graph=True)
    vx, vy = gx.detach(), gy.detach()
    jtv = grad((gx * vx).sum() + (gy * vy).sum(), [x, y], create_graph=False)
    xp = backend.array_module(x.data)
    ux = Tensor(xp.zeros(x.shape, x.dtype), requires_grad=True)
    uy = Tensor(xp.zeros(y.shape, y.dtype), requires_grad=True)
    jtu = grad((gx * ux).sum() + (gy * uy).sum(), [x, y], create_graph=True)
    jv = grad((jtu[0] * vx).sum() + (jtu[1] * vy).sum(), [ux, uy], allow_unused=True)
    jv = tuple(g if g is not None else Tensor(xp.zeros(x.shape, x.dtype)) for g in jv)
    return (vx, vy), jtv, jv


def check_settings(method, step_size, steps=1):
    """Refuse a method, step size or step count that makes no sense, saying what would."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; known methods: {', '.join(METHODS)}")
    if not (0.0 < step_size < MAX_STEP_SIZE):
        raise ValueError(f"step size must be in (0, {MAX_STEP_SIZE}), got {step_size}")
    if int(steps) != steps or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be an integer in [1, {MAX_STEPS}], got {steps}")


def play(game, method, start, step_size, steps, gamma=1.0, progress=False, device="cpu"):
    """Run `method` on `game` from `start` = (x0, y0) for `steps` steps.

    Returns an array of shape (steps + 1, 2, *state_shape): the states visited.
    ``gamma`` weighs the correction term of "consensus" and "sga". The state is
    float64 on `device` unless `start` holds tensors already.

    The updates (eta = step_size, v = simultaneous gradient field):
      simultaneous   w <- w - eta v(w)
      alternating    x <- x - eta v_x(x, y);  then  y <- y - eta v_y(x_new, y)
      optimistic     w <- w - eta (2 v(w_t) - v(w_{t-1}))               (Daskalakis et al. 2018)
      extragradient  w_half = w - eta v(w);  w <- w - eta v(w_half)     (Korpelevich 1976)
      consensus      w <- w - eta (v + gamma J^T v),  J^T v = grad of |v|^2/2
                                                           (Mescheder et al. 2017)
      sga            w <- w - eta (v + gamma A^T v),  A = (J - J^T)/2  (Balduzzi et al. 2018)
    """
    check_settings(method, step_size, steps)
    eta = float(step_size)
    x0, y0 = start
    x = x0 if isinstance(x0, Tensor) else Tensor(x0, dtype=numpy.float64, device=device)
    y = y0 if isinstance(y0, Tensor) else Tensor(y0, dtype=numpy.float64, device=device)
    x, y = _leaf(x), _leaf(y)
    path = [numpy.stack([x.numpy(), y.numpy()])]
    previous = None                         # v(w_{t-1}) for the optimistic method
    iterator = range(int(steps))
    if progress:
        from tqdm import tqdm
        iterator = tqdm(iterator, desc=f"{method}", leave=False)
    for _ in iterator:
        if method == "simultaneous":
            gx, gy = game.field(x, y)
            nx, ny = x - eta * gx, y - eta * gy
        elif method == "alternating":
            gx, _ = game.field(x, y)
            nx = _leaf(x - eta * gx)
            _, gy = game.field(nx, y)
            ny = y - eta * gy
        elif method == "optimistic":
            gx, gy = game.field(x, y)
            px, py = previous if previous is not None else (gx, gy)
            nx, ny = x - eta * (2 * gx - px), y - eta * (2 * gy - py)
            previous = (gx, gy)
        elif method == "extragradient":
            gx, gy = game.field(x, y)
            hx, hy = game.project(_leaf(x - eta * gx), _leaf(y - eta * gy))
            gx, gy = game.field(_leaf(hx), _leaf(hy))
            nx, ny = x - eta * gx, y - eta * gy
        elif method == "consensus":
            (vx, vy), (jtx, jty), _ = _jacobian_products(game, x, y)
            nx, ny = x - eta * (vx + gamma * jtx), y - eta * (vy + gamma * jty)
        else:  # "sga"
            (vx, vy), (jtx, jty), (jvx, jvy) = _jacobian_products(game, x, y)
            # A^T v = (J^T v - J v) / 2
            nx = x - eta * (vx + gamma * 0.5 * (jtx - jvx))
            ny = y - eta * (vy + gamma * 0.5 * (jty - jvy))
        nx, ny = game.project(nx.detach(), ny.detach())
        x, y = _leaf(nx), _leaf(ny)
        path.append(numpy.stack([x.numpy(), y.numpy()]))
    return numpy.stack(path)


def vector_field(game, xs, ys, device="cpu"):
    """-v on the grid xs x ys (numpy arrays): the direction simultaneous GD moves.

    Returns (X, Y, U, V) ready for matplotlib's quiver/streamplot. The whole
    grid is one batched autodiff call.
    """
    X, Y = numpy.meshgrid(numpy.asarray(xs, float), numpy.asarray(ys, float))
    x, y = _leaf(Tensor(X, device=device)), _leaf(Tensor(Y, device=device))
    gx, gy = game.field(x, y)
    return X, Y, -gx.numpy(), -gy.numpy()


# ------------------------------------------------------- what theory says
def bilinear_rate(method, step_size):
    """Per-step factor by which the distance to (0, 0) changes on the bilinear game.

    Write z = x + i y; v = (y, -x) is multiplication by -i, so each method is a
    linear recursion in z and its rate is the modulus of its largest root:
      simultaneous   |1 + i eta|                    = sqrt(1 + eta^2)  (spirals out)
      alternating    a rotation in the metric x^2 + y^2 - eta x y     = 1 (cycles)
      optimistic     root of r^2 - (1 + 2 i eta) r + i eta = 0
                                                    = sqrt((1 + sqrt(1 - 4 eta^2)) / 2)
      extragradient  |1 + i eta - eta^2|            = sqrt(1 - eta^2 + eta^4)
      consensus      |1 - gamma eta + i eta| with gamma = 1 (the default)
      sga            the same as consensus on this game (J is antisymmetric)
    """
    eta = step_size
    rates = {
        "simultaneous": math.sqrt(1 + eta ** 2),
        "alternating": 1.0,
        "optimistic": math.sqrt((1 + math.sqrt(1 - 4 * eta ** 2)) / 2) if eta <= 0.5 else None,
        "extragradient": math.sqrt(1 - eta ** 2 + eta ** 4),
        "consensus": math.hypot(1 - eta, eta),
        "sga": math.hypot(1 - eta, eta),
    }
    if method not in rates:
        raise ValueError(f"unknown method {method!r}; known methods: {', '.join(METHODS)}")
    return rates[method]


def alternating_invariant(x, y, step_size):
    """x^2 + y^2 - eta x y: the quantity alternating GDA conserves on the bilinear game."""
    return x * x + y * y - step_size * x * y

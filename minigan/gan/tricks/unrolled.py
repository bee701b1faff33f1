"""The unrolled GAN (Metz et al. 2017): G's gradient looks k steps ahead into D's training.

With D's parameters theta and D's loss L_D, let theta_0 = theta and

    theta_i = theta_{i-1} + (D's optimizer step on dL_D(theta_{i-1}) / dtheta_{i-1}),  i = 1..k

G minimizes its loss against D(.; theta_k). Each look-ahead gradient is built with
``create_graph=True``, so d theta_k / d G flows back through all k steps: G sees
how D would answer its move, and a collapse that D would punish next does not
pay. D itself takes the ordinary step; only ``update_generator`` changes.

The look-ahead step is D's own rule, continued from D's optimizer state, as in
the paper:

* Adam (``unroll_lr=None``, the default): with D's (m, v, t) as the start,

      m_i = b1 m_{i-1} + (1 - b1) g_i,   v_i = b2 v_{i-1} + (1 - b2) g_i^2
      theta_i = theta_{i-1} - lr / (1 - b1^(t+i)) * m_i / (sqrt(v_i / (1 - b2^(t+i))) + eps)

  every term a Tensor op, so the look-ahead is differentiable end to end;
* plain gradient steps theta_i = theta_{i-1} - eta g_i (``unroll_lr=eta``).
"""
import math

from ... import backend, nn
from ... import functional as F
from ...optim import Adam
from ...tensor import Tensor, grad
from ..models import Packed, pack
from ..runner import Trainer


def forward_with(D, params, x):
    """D(x) computed with the tensors `params` in place of D's own parameters.

    `params` lists one tensor per parameter of D, in ``D.parameters()`` order
    (weight, bias of each layer): D's output under theta_k, a function of theta_0
    through the unrolled updates. D is a ``Sequential`` (possibly ``Packed``) of
    Dense, Conv2d and batch-norm layers and parameter-free layers (activations,
    Flatten): an MLP's D or a DCGAN's.

    A batch-norm layer normalizes with the batch's statistics, as D does in training,
    and leaves its running statistics alone: a look-ahead is not a step of D's.
    """
    if isinstance(D, Packed):
        x, D = pack(x, D.pack), D.net
    it = iter(params)
    for layer in D:
        if isinstance(layer, nn.Dense):
            x = F.linear(x, next(it), next(it) if layer.bias is not None else None)
        elif isinstance(layer, nn.Conv2d):
            x = F.conv2d(x, next(it), next(it) if layer.bias is not None else None,
                         stride=layer.stride, padding=layer.padding, dilation=layer.dilation)
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            w, b = (next(it), next(it)) if layer.affine else (None, None)
            x = F.batch_norm(x, None, None, w, b, training=True, eps=layer.eps)
        elif next(layer.parameters(), None) is None:
            x = layer(x)
        else:
            raise ValueError(f"forward_with: the unrolled GAN's look-ahead runs D's layers "
                             f"with other parameters, and knows Dense, Conv2d and batch norm; "
                             f"D has a {type(layer).__name__} with parameters")
    return x


class UnrolledTrainer(Trainer):
    """The Trainer with the unrolled GAN's generator update (see the module docstring).

    ``unroll``: k look-ahead steps; ``unroll_lr``: None for D's own Adam rule, or
    eta for plain gradient steps; ``unroll_batch``: samples per look-ahead step
    (a cheaper, noisier D step; default the batch size).
    """

    def __init__(self, *args, unroll=5, unroll_lr=None, unroll_batch=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.unroll = int(unroll)
        self.unroll_lr = None if unroll_lr is None else float(unroll_lr)
        self.unroll_batch = int(unroll_batch or self.batch_size)
        if self.unroll < 1:
            raise ValueError(f"UnrolledTrainer: unroll (k look-ahead steps) must be >= 1, "
                             f"got {unroll}")
        if self.unroll_lr is None and not isinstance(self.d_optimizer, Adam):
            raise ValueError(f"UnrolledTrainer: the look-ahead repeats D's Adam steps, but D's "
                             f"optimizer is {type(self.d_optimizer).__name__}; use Adam for D, "
                             f"or pass unroll_lr=eta for plain gradient look-ahead steps")

    def update_generator(self, z):
        """G's step against D after k look-ahead steps; returns (loss_g, ||grad applied||)."""
        fake = self.G(z)
        nb = min(self.unroll_batch, len(fake))
        theta = list(self.D.parameters())
        moments = self._adam_start(theta) if self.unroll_lr is None else None
        for i in range(1, self.unroll + 1):
            x = self.sample_real(nb)
            # `fake` is not detached: theta_k depends on G through D's look-ahead
            loss_d = self._d_loss(forward_with(self.D, theta, x),
                                  forward_with(self.D, theta, fake[:nb]))
            g = grad(loss_d, theta, create_graph=True)
            theta, moments = self._lookahead(theta, g, moments, i)
        loss_g = self.loss.g_loss(forward_with(self.D, theta, fake))
        self._check_finite("loss_g", loss_g.item())
        params = list(self.G.parameters())
        grads = grad(loss_g, params)
        self.g_optimizer.zero_grad()
        for p, g in zip(params, grads):
            p.grad = g
        self.g_optimizer.step()
        norm = math.sqrt(sum(float((g.data * g.data).sum()) for g in grads))
        return loss_g.item(), norm

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
        """theta_i from theta_{i-1} and its gradient (i = 1..k); see the module docstring."""
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

"""Losses, computed in the numerically stable forms (finite for any logit)."""
from .. import backend
from ..tensor import make_op, check_devices, lift
from .math import sigmoid


def _check_same_shape(name, a, b):
    if a.shape != b.shape:
        raise ValueError(f"{name}: input shape {a.shape} and target shape {b.shape} differ")


def _reduced(data, reduction, xp):
    """The per-element losses reduced: their mean (NaN for an empty batch, as in
    PyTorch), their sum, or all of them (reduction='none')."""
    if reduction == "mean":
        return data.mean() if data.size else data.sum() * float("nan")
    if reduction == "sum":
        return data.sum()
    return data


def _spread(g, reduction, n, shape):
    """The gradient of the reduction step: 1/n (mean), 1 (sum) or elementwise (none).
    (An empty batch has an empty gradient, whatever the factor.)"""
    if reduction == "none":
        return g
    g = g.reshape((1,) * len(shape))
    return g * (1.0 / n) if reduction == "mean" and n else g


def _check_target_range(name, target):
    """BCE needs targets in [0, 1] (probabilities, or labels 0 and 1): one min/max check."""
    t = target.data
    if t.size == 0:
        return
    low, high = float(t.min()), float(t.max())
    if not (0.0 <= low and high <= 1.0):          # NaN fails this too
        raise ValueError(f"{name}: the target must be probabilities in [0, 1] (labels such "
                         f"as 1 for real and 0 for fake), but its values run from {low:g} "
                         f"to {high:g}")


def binary_cross_entropy_with_logits(logits, target, reduction="mean"):
    """BCE on logits x with targets t in [0, 1] (others are refused with a ValueError):

        l = -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))]
          = max(x, 0) - x t + log(1 + e^{-|x|})        (the stable form used here)

    Finite and exact for any x (for x = -1e4 and t = 1 it is exactly 1e4).
    dl/dx = sigmoid(x) - t,   dl/dt = -x.
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    target = lift(target, logits)
    check_devices("binary_cross_entropy_with_logits", logits, target)
    _check_same_shape("binary_cross_entropy_with_logits", logits, target)
    _check_target_range("binary_cross_entropy_with_logits", target)
    xp = backend.array_module(logits.data)
    x, t = logits.data, target.data
    per = xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))
    n = per.size

    def backward(g, out):
        g = _spread(g, reduction, n, logits.shape)
        return (g * (sigmoid(logits) - target) if logits._requires_grad else None,
                -g * logits if target._requires_grad else None)
    return make_op(_reduced(per, reduction, xp), (logits, target), backward, "bce_with_logits")


def mse_loss(input, target, reduction="mean"):
    """Mean squared error: l = (x - y)^2.   dl/dx = 2 (x - y),  dl/dy = -2 (x - y)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    target = lift(target, input)
    check_devices("mse_loss", input, target)
    _check_same_shape("mse_loss", input, target)
    xp = backend.array_module(input.data)
    d = input.data - target.data
    n = d.size

    def backward(g, out):
        g = _spread(g, reduction, n, input.shape) * 2.0
        diff = input - target
        return (g * diff if input._requires_grad else None,
                -g * diff if target._requires_grad else None)
    return make_op(_reduced(d * d, reduction, xp), (input, target), backward, "mse_loss")

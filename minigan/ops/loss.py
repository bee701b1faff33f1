"""Losses, computed in the numerically stable forms (finite for any logit)."""
import numpy    # dtype questions only

from .. import backend
from ..autograd import make_op
from ..checks import not_a_tensor
from ..tensor import Tensor, check_devices, lift, wrap
from .math import sigmoid, softmax, _log_softmax_array


def _check_same_shape(name, a, b):
    if a.shape != b.shape:
        raise ValueError(f"{name}: input shape {a.shape} and target shape {b.shape} differ")


def _check_reduction(reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


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
    if not isinstance(logits, Tensor):
        raise not_a_tensor("binary_cross_entropy_with_logits", "logits", logits)
    _check_reduction(reduction)
    target = lift(target, logits, "binary_cross_entropy_with_logits")
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
    if not isinstance(input, Tensor):
        raise not_a_tensor("mse_loss", "input", input)
    _check_reduction(reduction)
    target = lift(target, input, "mse_loss")
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


# ------------------------------------------------ multi-class: class-index targets
def _check_class_target(name, scores, target, scores_name):
    """Scores (N, C) and integer class indices (N,) in [0, C): the target as a tensor.
    The range is one min/max check, as for BCE's targets."""
    if not isinstance(scores, Tensor):
        raise not_a_tensor(name, scores_name, scores)
    target = lift(target, scores, name)
    check_devices(name, scores, target)
    if not numpy.issubdtype(target.dtype, numpy.integer):
        raise TypeError(f"{name}: the target must be integer class indices (int64 or int32), "
                        f"one per example, but it is {target.dtype}; make it with "
                        f"minigan.tensor(labels, dtype='int64') (one-hot or probability "
                        f"targets are not supported)")
    if scores.ndim != 2:
        raise ValueError(f"{name}: the input must have shape (N, C), one row of C class "
                         f"scores per example, but it has shape {scores.shape}")
    n, c = scores.shape
    if target.shape != (n,):
        raise ValueError(f"{name}: the target must have shape ({n},), one class index per "
                         f"row of the input of shape {scores.shape}, but it has shape "
                         f"{target.shape}")
    if n:
        low, high = int(target.data.min()), int(target.data.max())
        if low < 0:
            raise ValueError(f"{name}: class indices must be in [0, {c}), but the target holds "
                             f"{low} (a negative index; minigan has no ignore_index, every "
                             f"example needs its class)")
        if high >= c:
            raise ValueError(f"{name}: class indices must be in [0, {c}) for {c} classes, but "
                             f"the target holds {high}")
    return target


def _onehot(xp, t, c, dtype):
    """Row n is all zeros but a 1 in column t[n]."""
    o = xp.zeros((t.shape[0], c), dtype=dtype)
    o[xp.arange(t.shape[0]), t] = 1
    return o


def cross_entropy(logits, target, reduction="mean"):
    """Softmax cross-entropy of logits x (N, C) against class indices t (N,), as PyTorch's:

        l_n = -log softmax(x_n)[t_n] = log(sum_j e^{x_nj}) - x_{n,t_n}

    computed through the stable log-softmax (finite and exact for any logits, +-1e4 too).
    Targets must be integers in [0, C); others are refused with a clear error.
    dl_n/dx_n = softmax(x_n) - onehot(t_n)   (and 1/N of it for reduction='mean').
    """
    _check_reduction(reduction)
    target = _check_class_target("cross_entropy", logits, target, "logits")
    xp = backend.array_module(logits.data)
    t = target.data
    n, c = logits.shape
    per = -_log_softmax_array(xp, logits.data, 1)[xp.arange(n), t]

    def backward(g, out):
        g = _spread(g, reduction, n, (n,)).reshape(-1, 1)     # one factor per row
        return (g * (softmax(logits, axis=1) - wrap(_onehot(xp, t, c, logits.dtype))),)
    return make_op(_reduced(per, reduction, xp), (logits,), backward, "cross_entropy")


def nll_loss(log_probs, target, reduction="mean"):
    """Negative log-likelihood of class indices t (N,) under log-probabilities (N, C),
    such as log_softmax's output:

        l_n = -log_probs[n, t_n],    so cross_entropy(x, t) = nll_loss(log_softmax(x), t).

    dl_n/d(log_probs_n) = -onehot(t_n)   (and 1/N of it for reduction='mean').
    """
    _check_reduction(reduction)
    target = _check_class_target("nll_loss", log_probs, target, "log_probs")
    xp = backend.array_module(log_probs.data)
    t = target.data
    n, c = log_probs.shape
    per = -log_probs.data[xp.arange(n), t]

    def backward(g, out):
        g = _spread(g, reduction, n, (n,)).reshape(-1, 1)
        return (-g * wrap(_onehot(xp, t, c, log_probs.dtype)),)
    return make_op(_reduced(per, reduction, xp), (log_probs,), backward, "nll_loss")

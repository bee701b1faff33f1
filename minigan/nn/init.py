"""Weight initializers, with PyTorch's names (``torch.nn.init``).

Each one fills a tensor's array in place and returns the tensor. The random
numbers come from minigan's seeded generator for the tensor's device
(``minigan.manual_seed``), drawn in float64 and then cast, so a float32 and a
float64 model built after the same seed start from the same numbers.

Why the scales: a layer y = W x with fan_in inputs keeps Var(y) close to Var(x)
when Var(W) = gain^2 / fan_in (Kaiming, He et al. 2015), or
Var(W) = 2 gain^2 / (fan_in + fan_out) (Xavier, Glorot & Bengio 2010).
A uniform(-b, b) has variance b^2 / 3, hence the sqrt(3) in the uniform bounds.
"""
import math

import numpy

from .. import backend


def _fill(tensor, values):
    """Write host or device `values` into the tensor's array (cast to its dtype)."""
    tensor.data[...] = values.astype(tensor.data.dtype, copy=False)
    return tensor


def _rng(tensor):
    return backend.generator(tensor.device)


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with U(a, b)."""
    if a > b:
        raise ValueError(f"uniform_: the lower bound a={a} is above the upper bound b={b}")
    u = _rng(tensor).random(tensor.shape, dtype=numpy.float64)
    return _fill(tensor, a + (b - a) * u)


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with N(mean, std^2)."""
    if std < 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    z = _rng(tensor).standard_normal(tensor.shape, dtype=numpy.float64)
    return _fill(tensor, mean + std * z)


def constant_(tensor, val):
    """Fill with the value val."""
    tensor.data[...] = val
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def calculate_gain(nonlinearity, param=None):
    """The gain that keeps activations' variance steady through this nonlinearity:
    1 for linear/conv/sigmoid, 5/3 for tanh, sqrt(2) for relu,
    sqrt(2 / (1 + a^2)) for leaky_relu with slope a (default 0.01), 3/4 for selu."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
              "conv_transpose2d", "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        a = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + a * a))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def calculate_fan_in_and_fan_out(tensor):
    """fan_in = shape[1] * kernel area, fan_out = shape[0] * kernel area.

    For a Dense weight (out, in) that is (in, out); for a Conv2d weight
    (out, in, kh, kw) it is (in*kh*kw, out*kh*kw). (For ConvTranspose2d, whose
    weight is (in, out, kh, kw), PyTorch applies the same rule, so the roles swap.)
    """
    if len(tensor.shape) < 2:
        raise ValueError(f"fan in and fan out need a weight with at least 2 dimensions, "
                         f"got shape {tuple(tensor.shape)}")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor, gain=1.0):
    """U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))   (Glorot)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))   (Glorot)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """U(-b, b) with b = gain * sqrt(3 / fan)   (He).

    PyTorch's default Dense/Conv initialization is this with a = sqrt(5), which
    works out to b = 1 / sqrt(fan_in).
    """
    gain = calculate_gain(nonlinearity, a)
    bound = gain * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """N(0, std^2) with std = gain / sqrt(fan)   (He)."""
    gain = calculate_gain(nonlinearity, a)
    return normal_(tensor, 0.0, gain / math.sqrt(_fan(tensor, mode)))

"""The checks a public function makes on its arguments, and the sentences they raise.

A mistake in a call (a NumPy array where a Tensor goes, ``None`` beside a tensor,
2.5 steps) should stop at the call, in one sentence that names the argument, what
it must be and what it was, not twenty frames deeper as ``AttributeError:
'numpy.ndarray' object has no attribute '_requires_grad'``, or, worse, as a NaN
or a quietly rounded count. Every such check in minigan words its message here,
so that they all read alike.

On the hot path (an op called thousands of times a step) the caller keeps the
check itself to one ``isinstance``, inline, and calls ``not_a_tensor`` only to
build the error::

    if not isinstance(x, Tensor):
        raise not_a_tensor("relu", "x", x)

This module imports nothing of minigan's, so every other module may use it.
"""
import numbers

import numpy


def given(value):
    """What a wrong argument was, for an error message: its value (shortened) and type,
    or for an array its type, shape and dtype."""
    kind = type(value)
    name = kind.__qualname__ if kind.__module__ == "builtins" else \
        f"{kind.__module__.split('.')[0]}.{kind.__qualname__}"
    if hasattr(value, "shape") and hasattr(value, "dtype") and getattr(value, "ndim", 0):
        return f"a {name} of shape {tuple(value.shape)} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} (type {name})"


def not_a_tensor(op, name, value):
    """The TypeError for `op` given `value` as its argument `name`, which must be a Tensor.

    A NumPy array is not turned into a tensor behind the caller's back: which device
    and dtype it should get is the caller's choice (``minigan.tensor(a)`` keeps the
    array's dtype), as in PyTorch, whose functions refuse arrays too."""
    return TypeError(f"{op}: {name} must be a minigan Tensor, got {given(value)}; make one "
                     f"with minigan.tensor(...)")


def whole_number(value, name, op, minimum=0):
    """`value` as an int if it is a whole number >= `minimum`, else an error naming `op`,
    the argument `name`, what it must be and what it was.

    ints and NumPy integers are whole numbers; floats are not, even 3.0 (``range``'s
    rule: rounding 2.5 steps to 3, or a seed of 1.7 to 1, would hide the mistake), and
    neither are bools (True is an int to Python, but never a count or a seed)."""
    if isinstance(value, (bool, numpy.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {name} must be a whole number >= {minimum} (an int), "
                        f"got {given(value)}")
    if value < minimum:
        raise ValueError(f"{op}: {name} must be a whole number >= {minimum}, got {value}")
    return int(value)

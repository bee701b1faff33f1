"""The numbers a training step reports, kept on the device until the step ends.

On a GPU every copy to the host waits for all the work queued before it, so a step
that fetched its dozen numbers one by one would wait a dozen times; the step keeps
them as device arrays and ``fetch_numbers`` copies them over in one go.
"""
import math

from .. import backend
from ..tensor import Tensor


class DeviceNorm:
    """An L2 norm whose squared parts are still on the device: sqrt(sum of squares),
    taken on the host once ``fetch_numbers`` has brought the parts over."""
    __slots__ = ("squares",)

    def __init__(self, squares):
        self.squares = list(squares)


def grad_norm(module):
    """sqrt(sum over parameters of ||dL/dp||^2): how hard this step pushed the player.

    Returned as a ``DeviceNorm``: each parameter's sum of squares is computed where
    the gradient is, and ``fetch_numbers`` takes the root with the step's other
    numbers (the sum runs on the host in float64, parameter by parameter)."""
    return DeviceNorm((p.grad.data * p.grad.data).sum()
                      for p in module.parameters() if p.grad is not None)


def _is_array(v):
    return isinstance(v, Tensor) or (hasattr(v, "dtype") and hasattr(v, "shape"))


def fetch_numbers(numbers):
    """The numbers a step reports, as Python floats, copied from the device at once.

    `numbers` is a nested tuple or list whose entries are Python numbers, one-element
    Tensors or arrays (on the device), or ``DeviceNorm``s. Every array among them is
    fetched in ONE copy (``backend.fetch_floats``): each copy from a GPU waits for
    all the work queued before it, so a step that fetched its dozen numbers one by
    one would wait a dozen times. Returns the same structure, with tuples for lists
    and floats for every entry."""
    pending = []

    def collect(v):
        if isinstance(v, (tuple, list)):
            for u in v:
                collect(u)
        elif isinstance(v, DeviceNorm):
            pending.extend(v.squares)
        elif _is_array(v):
            pending.append(v.data if isinstance(v, Tensor) else v)
    collect(numbers)
    fetched = iter(backend.fetch_floats(pending))

    def build(v):
        if isinstance(v, (tuple, list)):
            return tuple(build(u) for u in v)
        if isinstance(v, DeviceNorm):
            return math.sqrt(sum(next(fetched) for _ in v.squares))
        return next(fetched) if _is_array(v) else float(v)
    return build(numbers)

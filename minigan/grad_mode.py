"""The engine's modes: whether operations are recorded for backward (``no_grad``,
``enable_grad``), and whether backward checks every gradient (``detect_anomaly``).

``make_op`` reads ``grad_mode.enabled`` for every operation, so it is a plain
module attribute; the context managers set it and restore the previous value
on the way out, so blocks nest.
"""
import contextlib

from . import backend

enabled = True             # new operations are recorded for backward
anomaly_enabled = False    # backward checks every gradient for NaN and inf


def is_grad_enabled():
    """True when new operations are recorded for backward."""
    return enabled


@contextlib.contextmanager
def set_grad_enabled(mode):
    """Context manager: record operations (mode True) or not (False) inside the block."""
    global enabled
    prev, enabled = enabled, bool(mode)
    try:
        yield
    finally:
        enabled = prev


def no_grad():
    """Context manager: operations inside record no graph (evaluation, updates)."""
    return set_grad_enabled(False)


def enable_grad():
    """Context manager: record the graph again inside a ``no_grad`` block."""
    return set_grad_enabled(True)


@contextlib.contextmanager
def detect_anomaly():
    """Context manager: check every gradient computed in backward for NaN/inf.

    The first non-finite gradient raises ``FloatingPointError`` naming the
    operation whose backward produced it. It slows backward down; use it to debug.
    """
    global anomaly_enabled
    prev, anomaly_enabled = anomaly_enabled, True
    try:
        yield
    finally:
        anomaly_enabled = prev


def check_finite_gradient(node, i, parent, g):
    """Under ``detect_anomaly``: refuse a NaN or inf in the gradient that `node`'s
    backward gave its input `i`, naming the operation."""
    xp = backend.array_module(g.data)
    if not bool(xp.isfinite(g.data).all()):
        raise FloatingPointError(
            f"detect_anomaly: the backward of '{node._op}' produced NaN or inf "
            f"in the gradient of its input {i} (shape {parent.shape})")

"""``summary()``: the Keras-style parameter table that lecture slides print.

    >>> G.summary(input_shape=(100,))          # or G.summary(z) with a batch z
    Model: "Sequential"
    _______________________________________________________
    Layer (type)           Output Shape           Param #
    =======================================================
    0 (Dense)              (None, 256)             25,856
    ...
    Total params: 1,486,352
    Trainable params: 1,486,352
    Non-trainable params: 0

Rows: one per layer (module without sub-modules), named by its path in the model
(the prefix of its keys in ``state_dict()``), e.g. '0' or 'net.3'; ``depth=1``
shows only the model's direct children (a GAN built from G and D shows two rows).

Output shapes come from running the model once, under ``no_grad`` and in
evaluation mode (so BatchNorm's running statistics are not touched and Dropout
draws no random numbers), on the example batch ``x`` or on zeros of shape
``(1,) + input_shape``. The batch axis is printed as None, as Keras does.

Param # of a layer is the number of numbers in its parameters (weight and bias).
Trainable params are those with ``requires_grad=True``; frozen ones count as
non-trainable. Buffers such as BatchNorm's running statistics are state, not
parameters (PyTorch's convention; Keras counts them as non-trainable params), and
are reported on a line of their own when a model has any.
"""
import numpy

from ..tensor import Tensor, no_grad
from .modes import eval_mode


def _count(params):
    return sum(int(numpy.prod(p.shape)) for p in params)


def _shape_text(out):
    """'(None, 256)' for a tensor output; a list for tuple outputs; '?' when unknown."""
    if isinstance(out, Tensor) or hasattr(out, "shape"):
        return "(" + ", ".join(["None"] + [str(s) for s in out.shape[1:]]) + ")"
    if isinstance(out, (tuple, list)):
        return "[" + ", ".join(_shape_text(o) for o in out) + "]"
    return "?"


def _rows(model, depth):
    """(name, module) of the layers to show: leaves, or the modules at `depth`."""
    rows = []
    for name, m in model.named_modules():
        if m is model:
            continue
        level = name.count(".") + 1
        if (depth is None and not m._modules) or (depth is not None and (
                level == depth or (level < depth and not m._modules))):
            rows.append((name, m))
    if not rows:                        # a single layer summarizes itself
        rows = [(type(model).__name__.lower(), model)]
    return rows


def _model_device(model):
    """The device of the model's first parameter or buffer (None for a model with none)."""
    first = next(iter(list(model.parameters()) + list(model.buffers())), None)
    return first.device if first is not None else None


def _example_input(model, input_shape):
    first = next(iter(model.parameters()), None)
    dtype = first.dtype if first is not None else numpy.float32
    device = _model_device(model) or "cpu"
    return Tensor(numpy.zeros((1,) + tuple(input_shape), dtype=dtype), device=device)


def _record_output_shapes(model, rows, x):
    """Run the model on x once and return {id(module): shape text} for the rows."""
    shapes = {}
    handles = [m.register_forward_hook(
        lambda mod, inputs, out: shapes.setdefault(id(mod), _shape_text(out)))
        for _, m in rows]
    device = _model_device(model)
    try:
        with eval_mode(model), no_grad():
            inputs = x if isinstance(x, tuple) else (x,)      # a tuple: several inputs, G(z, y)
            # the example goes where the model is (a NumPy batch for a GPU model, say)
            model(*[(t if isinstance(t, Tensor) else Tensor(t)).to(device) for t in inputs])
    finally:
        for h in handles:
            h.remove()
    return shapes


def summary(model, x=None, input_shape=None, depth=None, print_fn=print):
    """Print and return the table for `model` (see the module docstring).

    ``x``: an example batch (Tensor or array; a tuple of them for a model with
    several inputs, such as a conditional generator G(z, y)); ``input_shape``: one sample's shape
    without the batch axis, e.g. (100,) or (1, 28, 28). Give one of them for the
    'Output Shape' column. ``print_fn=None`` only returns the string.
    """
    if x is not None and input_shape is not None:
        raise ValueError("summary(): give either an example input x or input_shape, not both")
    if depth is not None and depth < 1:
        raise ValueError(f"summary(): depth must be at least 1, got {depth}")
    rows = _rows(model, depth)
    if input_shape is not None:
        x = _example_input(model, input_shape)
    shapes = _record_output_shapes(model, rows, x) if x is not None else {}

    table = [(f"{name} ({type(m).__name__})", shapes.get(id(m), "?"),
              f"{_count(m.parameters()):,}") for name, m in rows]
    head = ("Layer (type)", "Output Shape", "Param #")
    w0 = max(25, max(len(r[0]) for r in table + [head]) + 3)
    w1 = max(18, max(len(r[1]) for r in table + [head]) + 3)
    w2 = max(10, max(len(r[2]) for r in table + [head]))
    width = w0 + w1 + w2

    def line(r):
        return f"{r[0]:<{w0}}{r[1]:<{w1}}{r[2]:>{w2}}"

    params = list(model.parameters())
    trainable = _count(p for p in params if p.requires_grad)
    total = _count(params)
    out = [f'Model: "{type(model).__name__}"', "_" * width, line(head), "=" * width]
    for i, r in enumerate(table):
        out.append(line(r))
        out.append("_" * width if i < len(table) - 1 else "=" * width)
    out += [f"Total params: {total:,}",
            f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}"]
    n_buffers = _count(model.buffers())
    if n_buffers:
        out.append(f"Buffers (running statistics, not trained): {n_buffers:,}")
    if x is None:
        out.append("(Output shapes: pass an example batch x or input_shape=..., "
                   "e.g. summary(input_shape=(100,)))")
    out.append("_" * width)
    text = "\n".join(out)
    if print_fn is not None:
        print_fn(text)
    return text

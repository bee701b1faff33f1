"""Module and Parameter: how a network keeps its weights, its state and its sub-networks.

A ``Module`` is a function with state. Assigning attributes registers them:

* a ``Parameter`` (a tensor the optimizer trains) goes to ``_parameters``,
* another ``Module`` goes to ``_modules`` (this is how networks nest),
* ``register_buffer(name, tensor)`` keeps state that is not trained, such as
  BatchNorm's running mean and variance.

From these three registries come ``parameters()``, ``state_dict()``,
``load_state_dict()``, ``to(device)``, ``train()``/``eval()`` and ``summary()``.
Names follow PyTorch's ``torch.nn.Module`` so that code moves between the two.
"""
from collections import OrderedDict, namedtuple

import numpy

from .. import backend
from ..tensor import Tensor, _as_array, placement
from .summary import summary as _summary


# ---------------------------------------------------------------- Parameter
class Parameter(Tensor):
    """A tensor that is a trainable weight of a module (requires grad by default).

    Setting ``p.requires_grad = False`` freezes it: the engine then computes no
    gradient for it, and optimizers skip it (its ``.grad`` stays None).
    """
    __slots__ = ()

    def __init__(self, data, requires_grad=True, dtype=None, device=None):
        # placed as minigan.tensor places data: host data on the default device
        super().__init__(data.data if isinstance(data, Tensor) else data,
                         requires_grad=requires_grad, dtype=dtype,
                         device=placement(data, device))

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class _HookHandle:
    """What register_forward_hook returns: call .remove() to take the hook off."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


# ------------------------------------------------------------------- Module
class Module:
    """Base class of every layer and network. Subclasses write ``forward``.

    Calling the module (``model(x)``) runs ``forward(x)``. ``training`` is True
    after construction and after ``train()``, False after ``eval()``; layers
    such as Dropout and BatchNorm behave differently in the two modes.
    """

    def __init__(self):
        # object.__setattr__: our own __setattr__ needs these dicts to exist first
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", [])
        object.__setattr__(self, "training", True)

    # ----------------------------------------------------------- registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() in __init__ "
                               f"before assigning attributes such as '{name}'")
        # An attribute lives in at most one registry; reassigning moves it.
        for registry in (self._parameters, self._modules):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                value = Tensor(value, device=placement(value))
            self._buffers[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name, value):
        """Keep a non-trained tensor (e.g. a running mean) as state: it is saved in
        ``state_dict()`` and moved by ``to()``, but has no gradient. None is allowed."""
        if "_buffers" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() first")
        if value is not None and not isinstance(value, Tensor):
            value = Tensor(value, device=placement(value))    # host data: the default device
        self._buffers[name] = value
        object.__setattr__(self, name, value)

    def register_parameter(self, name, param):
        """Same as ``self.name = param`` (None means 'no such parameter', e.g. bias=False)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter('{name}'): expected a Parameter or None, "
                            f"got {type(param).__name__}")
        setattr(self, name, param)

    def add_module(self, name, module):
        """Same as ``self.name = module``; useful when the name is computed."""
        if not isinstance(module, Module):
            raise TypeError(f"add_module('{name}'): expected a Module, got {type(module).__name__}")
        setattr(self, name, module)

    # ------------------------------------------------------------------ calls
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:                 # summary() listens here for output shapes
            for hook in list(self._forward_hooks):
                hook(self, args, out)
        return out

    def register_forward_hook(self, hook):
        """Call ``hook(module, inputs, output)`` after every forward; returns a handle
        whose ``remove()`` takes it off again."""
        self._forward_hooks.append(hook)
        return _HookHandle(self._forward_hooks, hook)

    # ------------------------------------------------------------- traversal
    def named_children(self):
        """(name, module) for each direct sub-module."""
        return iter(self._modules.items())

    def children(self):
        return (m for _, m in self._modules.items())

    def named_modules(self, prefix=""):
        """(dotted name, module) for this module and all below it, each once, parents first."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            kids = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items()]
            stack.extend(reversed(kids))

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_parameters(self, prefix="", recurse=True):
        """(dotted name, Parameter) pairs, e.g. ('0.weight', ...); a shared Parameter once."""
        seen = set()
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mname, m in mods:
            for pname, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mname}.{pname}" if mname else pname), p

    def parameters(self, recurse=True):
        """Every Parameter (what an optimizer is given)."""
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix="", recurse=True):
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mname, m in mods:
            for bname, b in m._buffers.items():
                if b is not None:
                    yield (f"{mname}.{bname}" if mname else bname), b

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse=recurse))

    def apply(self, fn):
        """Call ``fn(m)`` on every sub-module and then on this one; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes
    def train(self, mode=True):
        """Training mode (Dropout drops, BatchNorm uses batch statistics); returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode (Dropout is the identity, BatchNorm uses running statistics)."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze (True) every parameter; returns self."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def zero_grad(self):
        """Forget every parameter's gradient (sets .grad to None, as PyTorch does)."""
        for p in self.parameters():
            p.grad = None

    # ----------------------------------------------------- devices and dtypes
    def to(self, device=None, dtype=None):
        """Move every parameter and buffer to ``device`` and/or cast the floating-point
        ones to ``dtype``, in place (the Parameter objects stay the same, so an optimizer
        made before still holds them). Returns self."""
        if device is not None:
            device = backend.normalize_device(device)
        if dtype is not None:
            dtype = numpy.dtype(dtype)

        def convert(a):
            if device is not None:
                a = backend.to_device(a, device)
            if dtype is not None and numpy.issubdtype(a.dtype, numpy.floating):
                a = a.astype(dtype, copy=False)
            return a

        for t in list(self.parameters()) + list(self.buffers()):
            t.data = convert(t.data)
            if t.grad is not None:
                t.grad = Tensor(convert(t.grad.data))
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def double(self):
        """Cast to float64 (what numerical gradient checks need)."""
        return self.to(dtype=numpy.float64)

    def float(self):
        return self.to(dtype=numpy.float32)

    # ---------------------------------------------------------- state dicts
    def state_dict(self):
        """An ordered dict name -> array of every parameter AND buffer, e.g.
        {'0.weight': ..., '1.running_mean': ...}.

        The arrays are copies (a snapshot): training on afterwards does not change
        them, so a state dict can be kept as 'the best model so far'.
        """
        sd = OrderedDict()
        for name, p in self.named_parameters():
            sd[name] = p.data.copy()
        for name, b in self.named_buffers():
            sd[name] = b.data.copy()
        return sd

    def load_state_dict(self, state_dict, strict=True):
        """Copy the arrays of ``state_dict`` into this module's parameters and buffers.

        Every problem is collected first and reported in one error: missing keys,
        unexpected keys, entries whose shape differs from the module's, and entries
        that are not numbers. With ``strict=False`` missing and unexpected keys are
        allowed (and returned), the other problems never are. Values may be
        numpy/cupy arrays or Tensors; they are copied onto each parameter's device
        and cast to its dtype.

        All or nothing: every entry is checked and converted before the first one is
        copied in, so a refused state dict leaves the module exactly as it was.
        Returns (missing_keys, unexpected_keys).
        """
        own = OrderedDict(self.named_parameters())
        own.update(self.named_buffers())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        misshaped, unreadable, converted = [], [], []
        for k, t in own.items():
            if k not in state_dict:
                continue
            value = _raw(state_dict[k])
            shape = tuple(numpy.shape(value))
            if shape != tuple(t.shape):
                misshaped.append(f"{k}: checkpoint has shape {shape}, "
                                 f"{type(self).__name__} has {tuple(t.shape)}")
                continue
            kind = value.dtype if hasattr(value, "dtype") else numpy.asarray(value).dtype
            if kind.kind not in "biuf":      # bool, integers, floats: not complex, str, object
                unreadable.append(f"{k}: checkpoint holds {kind} values, numbers were expected")
                continue
            converted.append((t, _as_array(value, dtype=t.dtype, device=t.device)))
        problems = []
        if misshaped:
            problems.append("shape mismatch:\n    " + "\n    ".join(misshaped))
        if unreadable:
            problems.append("not numbers:\n    " + "\n    ".join(unreadable))
        if strict and missing:
            problems.append("missing keys (in the model, not in the state dict): "
                            + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys (in the state dict, not in the model): "
                            + ", ".join(map(str, unexpected)))
        if problems:
            raise RuntimeError(f"Error loading the state dict into {type(self).__name__}:\n  "
                               + "\n  ".join(problems))
        for t, array in converted:             # everything checked: now copy it in
            t.data[...] = array
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------- printing
    def extra_repr(self):
        """The constructor arguments shown in repr, e.g. 'in_features=784, ...'."""
        return ""

    def __repr__(self):
        lines = []
        for name, m in self._modules.items():
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {sub}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n" + "\n".join(lines) + "\n)"

    def summary(self, x=None, input_shape=None, depth=None, print_fn=print):
        """Print (and return) a Keras-style table: each layer's name and type, output
        shape, parameter count, and the totals.

        Output shapes need an example: either a batch ``x`` (a Tensor or array) or
        ``input_shape`` without the batch axis, e.g. ``G.summary(input_shape=(100,))``.
        Without either, the shape column shows '?'. See ``minigan.nn.summary``.
        """
        return _summary(self, x, input_shape=input_shape, depth=depth, print_fn=print_fn)


def _raw(value):
    """The array inside a Tensor, or the value itself."""
    return value.data if isinstance(value, Tensor) else value


# --------------------------------------------------------------- containers
class Sequential(Module):
    """Layers applied one after the other: ``Sequential(Dense(100, 256), ReLU(), ...)``.

    The layers are named '0', '1', ... (so weights are '0.weight', ...), or by
    the keys of an OrderedDict. ``add(layer)`` appends one, like Keras's ``model.add``.
    """

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], OrderedDict):
            for name, layer in layers[0].items():
                self.add_module(name, layer)
        else:
            for layer in layers:
                self.add(layer)

    def add(self, layer):
        """Append a layer at the end (Keras's model.add); returns self."""
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential: every layer must be a Module, got {type(layer).__name__}")
        self.add_module(str(len(self._modules)), layer)
        return self

    append = add

    def forward(self, x):
        for layer in self._modules.values():
            x = layer(x)
        return x

    def __getitem__(self, i):
        layers = list(self._modules.values())
        if isinstance(i, slice):
            return Sequential(*layers[i])
        return layers[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain list's are not)."""

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

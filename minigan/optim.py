"""Optimizers: SGD (with momentum, Nesterov, weight decay) and Adam, with PyTorch's formulas.

An optimizer holds the parameters it trains and, per parameter, the state its
rule needs (a momentum buffer; Adam's two moment estimates and step count).
``step()`` reads each ``p.grad`` and updates ``p.data`` in place; ``zero_grad()``
forgets the gradients before the next backward.

Two rules the code keeps:

* a ``.grad`` array is never written to (it may be shared with another tensor),
  only read; new arrays are made from it;
* a parameter whose ``.grad`` is None (frozen, or unused this step) is skipped.

The arithmetic is plain array code on ``p.data`` (NumPy or CuPy, from the array),
outside the autodiff graph: an update is not something to differentiate.

Parameters may be given as one list, or as a list of groups (dicts with a
'params' list and their own hyperparameters), as in PyTorch.
"""
import math
import numbers

import numpy

from . import backend
from .ops import threads
from .tensor import Tensor


def _group_list(params, defaults, name):
    """Normalize `params` into a list of groups, each with every hyperparameter."""
    if isinstance(params, Tensor):
        raise TypeError(f"{name}: params should be an iterable of tensors (e.g. "
                        f"model.parameters()), got a single tensor; wrap it in a list")
    params = list(params)
    if not params:
        raise ValueError(f"{name}: got an empty parameter list (is the model empty, or was "
                         f"the generator model.parameters() already used up?)")
    groups = params if isinstance(params[0], dict) else [{"params": params}]
    out, seen = [], set()
    for g in groups:
        group = dict(defaults)
        group.update(g)
        group["params"] = list(group["params"])
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: every parameter must be a Tensor, got "
                                f"{type(p).__name__}")
            if id(p) in seen:
                raise ValueError(f"{name}: a parameter appears more than once")
            seen.add(id(p))
        out.append(group)
    return out


def _describe(value):
    """How an unexpected value reads in an error message."""
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"{value!r} (of type {type(value).__name__})"


def _number(opt, name, value, low=0.0, high=math.inf, low_open=False, high_open=False,
            meaning=""):
    """`value` as a float, or a clear error: it must be a finite real number in the range
    [low, high] (an end excluded when its `*_open` is True)."""
    if isinstance(value, (bool, numpy.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{opt}: {name}{meaning} must be a number, got {_describe(value)}")
    value = float(value)
    if high == math.inf:                                  # e.g. ">= 0"
        allowed = f"{'>' if low_open else '>='} {low:g}"
    else:                                                 # e.g. "in [0, 1)"
        allowed = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    too_low = value < low or (low_open and value == low)
    too_high = value > high or (high_open and value == high)
    if not math.isfinite(value) or too_low or too_high:
        raise ValueError(f"{opt}: {name}{meaning} must be a finite number {allowed}, "
                         f"got {value}")
    return value


def _on_device_of(a, p):
    """State array `a` on the device of parameter p (after ``model.to(...)``)."""
    return backend.to_device(a, p.device) if backend.device_of(a) != p.device else a


class Optimizer:
    """Shared machinery: parameter groups, per-parameter state, zero_grad, state dicts."""
    _state_arrays = ()            # which entries of a parameter's state are arrays
    _state_keys = ()              # every entry of a (non-empty) parameter's state

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.param_groups = _group_list(params, defaults, type(self).__name__)
        for g in self.param_groups:
            self._validate(g)
        self.state = {}           # id(param) -> dict

    def _validate(self, group):
        """Check one group's hyperparameters (raising a clear TypeError or ValueError);
        may normalize them in place (Adam's betas become a tuple)."""
        name = type(self).__name__
        _number(name, "lr", group["lr"], meaning=" (the learning rate)")
        _number(name, "weight_decay", group["weight_decay"])

    def _params(self):
        return [p for g in self.param_groups for p in g["params"]]

    def zero_grad(self):
        """Forget every gradient (sets .grad to None, as PyTorch does by default)."""
        for p in self._params():
            p.grad = None

    def step(self):
        """Apply one update to every parameter that has a gradient."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                if g.shape != p.data.shape:
                    raise ValueError(f"{type(self).__name__}: a gradient of shape {g.shape} "
                                     f"for a parameter of shape {p.data.shape}")
                state = self.state.setdefault(id(p), {})
                self._update(p, g, state, group)

    def _update(self, p, g, state, group):
        raise NotImplementedError

    # -------------------------------------------------------- state dicts
    def state_dict(self):
        """{'state': {'0': {...}, ...}, 'param_groups': [{'lr': ..., 'params': [0, 1]}]}.

        Parameters are numbered in order across the groups; the numbers are strings
        in 'state' so that the dict saves with ``minigan.save``. Arrays are copies.
        """
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {}
        for pid, s in self.state.items():
            if pid in index and s:
                state[str(index[pid])] = {k: (v.copy() if k in self._state_arrays else v)
                                          for k, v in s.items()}
        groups = []
        for g in self.param_groups:
            d = {k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()
                 if k != "params"}
            d["params"] = [index[id(p)] for p in g["params"]]
            groups.append(d)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Continue from a saved state: hyperparameters and per-parameter state (moved
        to each parameter's device and dtype). The groups must match in number and size.

        All or nothing: the whole state is checked first (the hyperparameters as the
        constructor checks them, each saved array's shape against its parameter's),
        and only then installed, so a state that is refused leaves this optimizer
        exactly as it was.
        """
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(f"{name}: expected the dict that state_dict() returns, with "
                             f"'state' and 'param_groups', got {_describe(state_dict)[:80]}")
        groups = list(state_dict["param_groups"])
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{name}: the state has {len(groups)} parameter "
                             f"groups, this optimizer has {len(self.param_groups)}")
        # 1. the hyperparameters, checked on copies of the groups
        new_groups = []
        for gi, (saved, own) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(f"{name}: a group of {len(saved['params'])} "
                                 f"parameters in the state, {len(own['params'])} here")
            group = dict(own)
            for k, v in saved.items():
                if k == "params":
                    continue
                if k not in own:
                    raise ValueError(f"{name}: group {gi} of the state has a setting {k!r} that "
                                     f"{type(self).__name__} does not have (is this the state "
                                     f"of another kind of optimizer?)")
                group[k] = tuple(v) if isinstance(own[k], tuple) and \
                    isinstance(v, (list, tuple)) else v
            try:
                self._validate(group)
            except (TypeError, ValueError) as e:
                raise type(e)(f"{name}: group {gi} of the state: {e}") from None
            new_groups.append(group)
        # 2. the per-parameter state, converted into new arrays
        params = self._params()
        new_state = {}
        for key, s in state_dict["state"].items():
            try:
                i = int(key)
            except (TypeError, ValueError):
                raise ValueError(f"{name}: the state's keys must be parameter numbers "
                                 f"('0', '1', ...), got {key!r}") from None
            if not 0 <= i < len(params):
                raise ValueError(f"{name}: state for parameter {i}, but there "
                                 f"are only {len(params)}")
            if not s:
                continue
            if set(s) != set(self._state_keys):
                raise ValueError(f"{name}: the state of parameter {i} has the entries "
                                 f"{sorted(s)}, {type(self).__name__} keeps "
                                 f"{sorted(self._state_keys)}")
            p = params[i]
            entry = {}
            for k, v in s.items():
                if k in self._state_arrays:
                    v = v.data if isinstance(v, Tensor) else v
                    if not hasattr(v, "shape") or not hasattr(v, "dtype"):
                        raise TypeError(f"{name}: '{k}' of parameter {i} must be an array, got "
                                        f"{_describe(v)}")
                    if tuple(v.shape) != tuple(p.shape):
                        raise ValueError(f"{name}: '{k}' of parameter {i} has "
                                         f"shape {tuple(v.shape)}, the parameter {tuple(p.shape)}")
                    if not (numpy.issubdtype(v.dtype, numpy.floating)
                            or numpy.issubdtype(v.dtype, numpy.integer)):
                        raise TypeError(f"{name}: '{k}' of parameter {i} holds {v.dtype} "
                                        f"values, numbers were expected")
                    v = backend.to_device(v, p.device)
                    v = backend.module_for(p.device).array(v, dtype=p.dtype)   # a copy
                elif k == "step":
                    if isinstance(v, (bool, numpy.bool_)) or not isinstance(v, numbers.Real) \
                            or not math.isfinite(v) or v != int(v) or v < 0:
                        raise ValueError(f"{name}: 'step' of parameter {i} must be a whole "
                                         f"number >= 0, got {_describe(v)}")
                    v = int(v)
                entry[k] = v
            new_state[id(p)] = entry
        # 3. everything checked: install it
        for group, own in zip(new_groups, self.param_groups):
            own.clear()
            own.update(group)
        self.state = new_state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"  group {i}: {len(g['params'])} parameters, " + ", ".join(
                f"{k}={v}" for k, v in g.items() if k != "params"))
        return "\n".join(lines) + "\n)"


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's formulas. With g = grad + weight_decay * p:

        momentum:  buf = g (first step),  buf = momentum * buf + (1 - dampening) * g
        nesterov:  d = g + momentum * buf   (else d = buf; without momentum d = g)
        update:    p = p - lr * d
    """
    _state_arrays = ("momentum_buffer",)
    _state_keys = ("momentum_buffer",)

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _validate(self, group):
        super()._validate(group)
        _number("SGD", "momentum", group["momentum"], 0.0, 1.0, high_open=True)
        _number("SGD", "dampening", group["dampening"], 0.0, 1.0)
        if not isinstance(group["nesterov"], (bool, numpy.bool_)):
            raise TypeError(f"SGD: nesterov must be True or False, got "
                            f"{_describe(group['nesterov'])}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")

    def _update(self, p, g, state, group):
        wd, mom = group["weight_decay"], group["momentum"]
        if wd != 0:
            g = g + wd * p.data                        # a new array: p.grad stays untouched
        if mom != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf = state["momentum_buffer"] = _on_device_of(buf, p)
                buf *= mom
                buf += (1 - group["dampening"]) * g
            g = g + mom * buf if group["nesterov"] else buf
        p.data -= group["lr"] * g


# Adam's update is a dozen elementwise passes over p, g, m and v. Over a whole
# layer (millions of numbers) each pass streams the arrays from main memory again;
# cut into blocks of CACHE_BLOCK numbers (5 arrays x 256 KiB in float32: they stay
# in a 2 MiB L2 cache), the dozen passes run on data already in cache and memory
# sees each array about once. Same arithmetic, same result, bit for bit; about
# a quarter less time for the update of a large MLP. (On a GPU: one block.)
# Not smaller: every block costs a dozen NumPy calls, and two threads updating
# side by side wait for each other on Python's lock at every call (the timings
# behind this size are in benchmarks/README.md).
CACHE_BLOCK = 1 << 16


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), PyTorch's formulas. With g = grad + weight_decay * p, at step t:

        m = beta1 m + (1 - beta1) g            (first moment: a running mean of g)
        v = beta2 v + (1 - beta2) g^2          (second moment: a running mean of g^2)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    The divisions by 1 - beta^t undo the bias toward zero of m and v early on.
    GANs often use lr=2e-4, betas=(0.5, 0.999) (the DCGAN paper's choice).
    """
    _state_arrays = ("exp_avg", "exp_avg_sq")
    _state_keys = ("step", "exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _validate(self, group):
        super()._validate(group)
        betas = group["betas"]
        if isinstance(betas, str) or not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam: betas must be a pair of numbers in [0, 1), such as "
                            f"(0.9, 0.999), got {_describe(betas)}")
        for k, b in enumerate(betas):
            _number("Adam", f"betas[{k}]", b, 0.0, 1.0, high_open=True)
        group["betas"] = tuple(betas)
        _number("Adam", "eps", group["eps"], 0.0, low_open=True)

    def _update(self, p, g, state, group):
        beta1, beta2 = group["betas"]
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p.data
        xp = backend.array_module(p.data)
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p.data)
            state["exp_avg_sq"] = xp.zeros_like(p.data)
        m = state["exp_avg"] = _on_device_of(state["exp_avg"], p)
        v = state["exp_avg_sq"] = _on_device_of(state["exp_avg_sq"], p)
        state["step"] += 1
        t = state["step"]
        lr_t, root_t = group["lr"] / (1 - beta1 ** t), math.sqrt(1 - beta2 ** t)
        flat = _flat(p.data, g, m, v, self._scratch_for(p))

        on_cpu = backend.device_of(p.data) == "cpu"

        def update(lo, hi):
            """The formulas above on elements lo..hi, CACHE_BLOCK numbers at a time."""
            step = CACHE_BLOCK if on_cpu else max(hi - lo, 1)
            for b0 in range(lo, hi, step):
                update_block(b0, min(b0 + step, hi))

        def update_block(lo, hi):
            """The formulas above on elements lo..hi, in place: no new arrays."""
            pp, gg, mm, vv, tmp = (a[lo:hi] for a in flat)
            mm *= beta1
            xp.multiply(gg, 1 - beta1, out=tmp)
            mm += tmp                                  # m = beta1 m + (1 - beta1) g
            vv *= beta2
            xp.multiply(gg, gg, out=tmp)
            tmp *= 1 - beta2
            vv += tmp                                  # v = beta2 v + (1 - beta2) g^2
            xp.sqrt(vv, out=tmp)
            tmp /= root_t
            tmp += group["eps"]                        # sqrt(v) / sqrt(1 - beta2^t) + eps
            xp.divide(mm, tmp, out=tmp)
            tmp *= lr_t
            pp -= tmp                                  # p -= lr / (1 - beta1^t) * m / (...)
        if all(a.flags.c_contiguous for a in (p.data, m, v)):
            threads.parallel(p.data.size, update, p.data.size,       # big layers: on every
                             on_cpu=on_cpu)                              # core, in slices
        else:
            update(0, p.data.size)

    def _scratch_for(self, p):
        """One work array per parameter, kept between steps: the update writes its
        temporaries there instead of allocating new ones every step."""
        cache = self.__dict__.setdefault("_scratch", {})
        buf = cache.get(id(p))
        if buf is None or buf.shape != p.data.shape or buf.dtype != p.data.dtype:
            buf = cache[id(p)] = backend.array_module(p.data).empty_like(p.data)
        return buf


def _flat(*arrays):
    """Flat views of contiguous arrays (a copy for a gradient that is not contiguous,
    which is only read)."""
    return [a.reshape(-1) for a in arrays]


# ------------------------------------------------------------- schedules
class LambdaLR:
    """A learning-rate schedule, PyTorch's ``LambdaLR``: before step t (0-based),

        lr_t = initial_lr * lr_lambda(t)

    for every parameter group, where ``initial_lr`` is the group's lr when the
    schedule was made. Call ``step()`` once after each optimizer step (the
    ``Trainer`` does, if given the schedule). ``lr_lambda`` is any function of
    the step; ``hold_then_decay`` below is the one the experiments use.
    ``state_dict`` holds the step, so a resumed run continues the schedule.
    """

    def __init__(self, optimizer, lr_lambda):
        if not callable(lr_lambda):
            raise TypeError(f"LambdaLR: lr_lambda must be a function of the step, got "
                            f"{type(lr_lambda).__name__}")
        self.optimizer, self.lr_lambda = optimizer, lr_lambda
        self.initial_lrs = [group["lr"] for group in optimizer.param_groups]
        self.last_step = 0
        self._apply()

    def _apply(self):
        for group, lr0 in zip(self.optimizer.param_groups, self.initial_lrs):
            group["lr"] = lr0 * self.lr_lambda(self.last_step)

    def step(self):
        """Move to the next step's learning rate."""
        self.last_step += 1
        self._apply()

    def get_last_lr(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        return {"last_step": self.last_step, "initial_lrs": list(self.initial_lrs)}

    def load_state_dict(self, state):
        last_step, lrs = int(state["last_step"]), [float(v) for v in state["initial_lrs"]]
        if last_step < 0 or len(lrs) != len(self.optimizer.param_groups):
            raise ValueError(f"LambdaLR.load_state_dict: expected a step >= 0 and "
                             f"{len(self.optimizer.param_groups)} initial lrs, got step "
                             f"{last_step} and {len(lrs)} lrs")
        self.last_step, self.initial_lrs = last_step, lrs
        self._apply()


def hold_then_decay(total_steps, hold=0.5, start=1.0, end=0.1):
    """A function of the step for ``LambdaLR``: ``start`` for the first ``hold``
    fraction of the steps, then linearly to ``end`` at step ``total_steps``:

        f(t) = start                                   for t < s = int(hold * T)
        f(t) = start + (end - start) * min(1, (t - s) / (T - s))       after

    Large steps early, small ones late: a stochastic player settles near the
    optimum instead of jittering around it. With ``start=1`` it is a factor of
    the optimizer's lr; the mixture experiments give absolute learning rates
    as start and end, over an optimizer whose lr is the factor they scale by.
    """
    if total_steps < 1 or not 0.0 <= hold <= 1.0:
        raise ValueError(f"hold_then_decay: need total_steps >= 1 and hold in [0, 1], got "
                         f"{total_steps} and {hold}")
    s = int(hold * total_steps)
    span = max(1, total_steps - s)

    def f(t):
        if t < s:
            return start
        return start + (end - start) * min(1.0, (t - s) / span)
    return f

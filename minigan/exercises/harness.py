"""How a student's backward is put to the test (this runs in the grader's process).

An exercise file gives ``forward`` (array code, as in ``minigan/ops``) and the
student writes ``backward(g, *inputs, out, **params)`` (Tensor code). Both run
in the student's own process (``remote.py``), which only answers: the grader
joins them into one op of its own engine with ``make_op``, exactly the way the
library builds its own ops, whose forward and backward ask that process for
their values (``StudentOp``). Every number of the verdict is computed here,
and the op is asked three questions:

1. **gradcheck**: does backward agree with central differences of forward?
   (``minigan.gradcheck.check_gradients``, float64, on small random inputs)
2. **the library**: on the same inputs and on edge cases (broadcast shapes,
   logits of +-1e4), do forward and backward agree with minigan's own op?
3. **gradgradcheck**, where the exercise needs a backward that can itself be
   differentiated (the gradient penalty).

The first wrong answer ends the exercise with a ``Failure`` whose message is
written for the student, in the words of the exercise files (g, out, dL/dx,
x[2, 1]) rather than the checker's: which check, which case, which gradient,
the wrong element with both values, and a hint where a known mistake fits
the numbers. Hints come from values only: the student's gradient is compared
with what known wrong formulas give on the same inputs (and with itself under a
doubled g, for the chain rule), and a failure that appears only once stride or
padding changes is pointed out as such; the source code is never read.

"Not started" has one precise meaning (``not_started``): every function the
exercise asks for still raises the template's ``NotImplementedError("your
turn: ...")``, from the student's own file, on every input tried. Anything
else the student did, even a file that no longer loads, is an attempt.

Differentiating a student's backward again (the gradient penalty) works the
same way: where the engine records the backward pass (``create_graph``), each
gradient the student's backward returned is a node whose own backward asks the
student's process for the vector-Jacobian product of their backward
(``RemoteModule.vjp``), computed there by minigan's engine on their code.

The engine normally sums a gradient back over broadcast axes by itself
(``autograd.unbroadcast``); here every gradient must come back with its input's
exact shape, so that forgetting the unbroadcast rule is caught, not repaired.
"""
import os
from dataclasses import dataclass, field

import numpy as np

import minigan
from minigan import grad_mode
from minigan.gradcheck import check_gradients, check_second_gradients
from minigan.autograd import make_op
from minigan.tensor import Tensor

from .remote import Returned, StudentRaised, type_name

#: How closely your op must match minigan's own (float64, so much closer than gradcheck).
COMPARE_RTOL = 1e-7
COMPARE_ATOL = 1e-10


class Failure(Exception):
    """A check found the student's code wrong; the message is written for the student."""


class NotStarted(Exception):
    """The student's function still raises the template's NotImplementedError."""


class BackwardError(Exception):
    """backward returned something the engine cannot use (wrong count, type or shape)."""


@dataclass
class Case:
    """One set of inputs: a label for messages, the arrays, forward's keyword
    parameters, and whether finite differences are meaningful there (not at
    logits of +-1e4, where the library comparison checks instead)."""
    label: str
    arrays: tuple
    params: dict = field(default_factory=dict)
    gradcheck: bool = True


@dataclass
class Mistake:
    """A known wrong formula for the gradient of one input, and what to say when
    the student's gradient matches it. ``wrong(g, *inputs, out, **params)``
    returns that wrong gradient (a Tensor)."""
    input: str
    hint: str
    wrong: object


# ------------------------------------------------------------ messages
def describe_exception(exc, path):
    """What the student's code raised, in their words ('TypeError: ...' and the line of
    their file: the student's process wrote it), or an error met here on their values."""
    if isinstance(exc, StudentRaised):
        return exc.text
    return f"{type(exc).__name__}: {exc}"


def raised_by_stub(exc, path):
    """True when exc is the template's NotImplementedError('your turn: ...'), raised
    by the student's file itself (the stub was not replaced yet)."""
    return isinstance(exc, StudentRaised) and exc.stub


def element(name, index):
    """x[2, 1], as the student would index the array (just x for a single number)."""
    return f"{name}[{', '.join(str(i) for i in index)}]" if index else name


def unfinished(exc, path):
    """The message for a stub reached after the first function was written."""
    where = exc.function or "a function"
    return Failure(f"not finished: {where}() in {os.path.basename(path)} still raises "
                   f"NotImplementedError({str(exc)!r})")


def first_difference(yours, theirs, rtol=COMPARE_RTOL, atol=COMPARE_ATOL):
    """(index, yours, theirs, tolerance) of the first element out of tolerance
    (NaN and inf count as wrong unless both agree exactly), or None."""
    yours, theirs = np.asarray(yours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    tol = atol + rtol * np.abs(theirs)
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(yours - theirs) <= tol)
    bad &= ~((yours == theirs) & ~np.isnan(yours))          # equal infinities agree
    if not bad.any():
        return None
    flat = int(np.flatnonzero(bad.reshape(-1))[0])
    index = tuple(int(i) for i in np.unravel_index(flat, theirs.shape)) if theirs.ndim else ()
    return index, float(yours.reshape(-1)[flat]), float(theirs.reshape(-1)[flat]), \
        float(tol.reshape(-1)[flat])


def difference_message(what, array, index, yours, theirs, tol, theirs_label="minigan",
                       rtol=COMPARE_RTOL, atol=COMPARE_ATOL):
    """A comparison's failure: `what` differs at array[index], both values, the allowance."""
    where = f" at {element(array, index)}" if index != () else ""
    return (f"{what}{where}:\n"
            f"    yours     {yours: .10g}\n"
            f"    {theirs_label:<9} {theirs: .10g}\n"
            f"    |difference| {abs(yours - theirs):.3g} > allowed {tol:.3g} "
            f"({atol:g} + {rtol:g} * |{theirs_label}|)")


def measured_message(failure, array, yours="what your backward gives", slope_of="forward"):
    """The values of a failed gradient check (a ``minigan.gradcheck.GradcheckFailure``)
    in the student's words: their backward's value beside the slope of `slope_of`,
    measured by nudging `array` (the input's name) up and down."""
    f = failure
    if f.element is not None:
        nudged = f"{element(array, f.element)} nudged by +-{f.eps:g}"
    else:
        nudged = f"all of {array} nudged at once, along a random direction"
    return (f"    yours     {f.analytic: <17.10g} ({yours})\n"
            f"    measured  {f.numerical: <17.10g} (the slope of {slope_of}: {nudged})\n"
            f"    |difference| {abs(f.analytic - f.numerical):.3g} > allowed {f.tolerance:.3g} "
            f"({f.atol:g} + {f.rtol:g} * |measured|)")


def where_wrong(failure, array):
    """'at x[2, 1]', or why no single element is named."""
    if failure.element is not None:
        return f"at {element(array, failure.element)}"
    return ("along a random direction (no single element of " + array +
            " is far enough off on its own)")


def g_note(failure, out="out"):
    """Which g the backward was given when it went wrong."""
    if failure.output is None:
        return "g, the gradient arriving from the loss, was random"
    index = failure.output[1]
    if index == ():
        return "g was 1"
    return f"g was 1 at {element(out, index)} and 0 elsewhere"


def shape_message(name, got, want, note=""):
    """A gradient of the wrong shape, with the likely reason (and `note`, what the
    exercise says about this input's layout, when the sizes are only in another order)."""
    got, want = tuple(got), tuple(want)
    msg = (f"backward returned dL/d{name} of shape {got}, but {name} has shape "
           f"{want}: a gradient has the shape of its input")
    try:
        broadcast = np.broadcast_shapes(want, got) == got
    except ValueError:
        broadcast = False
    swapped = [i for i in range(len(got)) if len(got) == len(want) and got[i] != want[i]]
    if len(want) == 2 and got == want[::-1]:
        msg += " (this is the transposed shape: a missing transpose, or one too many?)"
    elif len(swapped) == 2 and got[swapped[0]] == want[swapped[1]] \
            and got[swapped[1]] == want[swapped[0]]:
        msg += (f" (the same sizes with axes {swapped[0]} and {swapped[1]} swapped"
                + (f"; {note}" if note else "") + ")")
    elif sorted(got) == sorted(want):
        msg += " (the same sizes in another order" + (f"; {note}" if note else "") + ")"
    elif broadcast:
        msg += (f" ({name} was broadcast to {tuple(got)} in the forward: sum the gradient "
                f"over the axes broadcasting stretched, the unbroadcast rule)")
    elif int(np.prod(got)) == int(np.prod(want)):
        msg += f" (it has as many elements: reshape it to {name}'s shape?)"
    return msg


# ------------------------------------------------------------ the student's op
class StudentOp:
    """The student's forward and backward as one op of the grader's engine.

    ``module`` is the student's file seen through their process
    (``remote.RemoteModule``); ``inputs`` names forward's array arguments in
    order; ``returns`` names those whose gradients backward returns (the others,
    such as a BCE label, are constants); ``notes`` says, per input, what to add
    to a wrong-shape message (a layout to recall). Calling it with Tensors gives
    a Tensor made by ``make_op``.
    """

    def __init__(self, module, name, inputs, returns, forward="forward", backward="backward",
                 notes=None):
        self.module, self.name = module, name
        self.inputs, self.returns = tuple(inputs), tuple(returns)
        self.notes = dict(notes or {})
        self.forward_name, self.backward_name = forward, backward

    def __call__(self, *tensors, **params):
        data = self.forward_data([t.data for t in tensors], params)

        def backward(g, out):
            return self.checked(self.call_backward(g, tensors, out, params), tensors)
        return make_op(data, tuple(tensors), backward, self.name)

    def forward_data(self, arrays, params):
        """The student's forward on the arrays: an array of numbers."""
        value = self.module.call(self.forward_name, arrays, params, grad=False)
        if isinstance(value, Returned):
            value = value.data
        if not isinstance(value, (np.ndarray, int, float)) or isinstance(value, bool):
            raise BackwardError(f"forward returned a {type_name(value)}, not an array of "
                                f"numbers (was forward changed?)")
        return np.asarray(value)

    def call_backward(self, g, tensors, out, params):
        """The student's backward on (g, *tensors, out), as their process answered it.
        A Tensor it returned becomes, while the engine records (create_graph) and if it
        was connected to the inputs in their process, a node whose backward asks their
        process to differentiate their backward (vjp); else a constant."""
        args = (g, *tensors, out)
        result = self.module.call(self.backward_name, args, params)
        recording = grad_mode.enabled

        def node(i, r):
            if not isinstance(r, Returned):
                return r
            if not (recording and r.requires_grad):
                return Tensor(r.data)

            def vjp(u, _out):
                return tuple(self.module.vjp(self.backward_name, args, params, i, u))
            return make_op(r.data, args, vjp, f"{self.name}'s backward (yours)")
        if isinstance(result, (tuple, list)):
            return type(result)(node(i, r) for i, r in enumerate(result))
        return node(0, result)

    def raw_backward(self, g, tensors, out, params):
        """The student's backward called directly, its result checked (for diagnosis)."""
        with minigan.no_grad():
            return self.checked(self.call_backward(g, tensors, out, params), tensors)

    def checked(self, result, tensors):
        """One gradient per input, as Tensors of the inputs' exact shapes (None for constants)."""
        names = self.returns
        if len(names) == 1 and not isinstance(result, (tuple, list)):
            result = (result,)
        want = (f"dL/d{names[0]}" if len(names) == 1 else
                "a tuple (" + ", ".join(f"dL/d{n}" for n in names) + ")")
        if not isinstance(result, (tuple, list)) or len(result) != len(names):
            got = (f"{len(result)} values" if isinstance(result, (tuple, list))
                   else type_name(result))
            raise BackwardError(f"backward must return {want}, but it returned {got}")
        given = dict(zip(names, result))
        grads = []
        for name, t in zip(self.inputs, tensors):
            if name not in given:
                grads.append(None)
                continue
            v = given[name]
            if v is None:
                raise BackwardError(f"backward returned None for dL/d{name}; every "
                                    f"gradient in {want} is needed")
            if not isinstance(v, Tensor):
                if not isinstance(v, (np.ndarray, np.generic, int, float)):
                    raise BackwardError(f"backward returned a {type_name(v)} for "
                                        f"dL/d{name}; return a minigan Tensor (or a NumPy array)")
                v = Tensor(np.asarray(v, dtype=np.float64))
            if v.shape != t.shape:
                raise BackwardError(shape_message(name, v.shape, t.shape,
                                                  self.notes.get(name, "")))
            grads.append(v)
        return tuple(grads)


# ------------------------------------------------------------ the checks
def tensors_for(op, case):
    """Fresh float64 Tensors for a case; those whose gradients backward returns require grad."""
    return [minigan.tensor(np.array(a, dtype=np.float64), requires_grad=name in op.returns)
            for name, a in zip(op.inputs, case.arrays)]


def call_checked(fn, path):
    """Run fn(); an exception in the student's code becomes a Failure naming it."""
    try:
        return fn()
    except (Failure, NotStarted):
        raise
    except BackwardError as e:
        raise Failure(str(e)) from None
    except Exception as e:                       # the student's code raised: report, not crash
        if raised_by_stub(e, path):
            raise unfinished(e, path) from None
        raise Failure(describe_exception(e, path)) from None


def gradient_check(op, case, path, second_order=False, mistakes=()):
    """The student's backward against the slope of forward (``minigan.gradcheck``:
    central differences in float64) on one case; with `second_order`, the
    derivative of their backward's result too (``gradgradcheck``)."""
    xs = tensors_for(op, case)
    checker = check_second_gradients if second_order else check_gradients
    res = call_checked(lambda: checker(lambda *ts: op(*ts, **case.params), xs), path)
    if res.passed:
        return
    f = res.failure
    name = op.inputs[f.input]
    if second_order:
        # the checked function's outputs are the first-order gradients, one per input
        # backward returns; the wrong value is the derivative of one of their elements
        grad_of = [n for n in op.inputs if n in op.returns][f.output[0]] \
            if f.output is not None else name
        which = (f"the derivative of {element('dL/d' + grad_of, f.output[1])}"
                 if f.output is not None else f"the derivative of dL/d{grad_of}")
        values = measured_message(f, name, "the engine differentiating your backward",
                                  f"your dL/d{grad_of}")
        text = (f"second-derivative check, case {case.label!r}: differentiating your "
                f"dL/d{grad_of} again gives a wrong value {where_wrong(f, name)}\n"
                f"{values}\n"
                f"  (the engine differentiated your backward's result, dL/d{grad_of} for a "
                f"random g, as the gradient penalty needs; the value shown is {which} "
                f"with respect to {element(name, f.element) if f.element else name})")
        extra = needs_graph_hint(op, case, name)
    else:
        text = (f"gradient check, case {case.label!r}: your dL/d{name} is wrong "
                f"{where_wrong(f, name)}\n{measured_message(f, name)}\n"
                f"  (here {g_note(f)})")
        extra = diagnose(op, case, name, mistakes)
    raise Failure(text + "".join(f"\nhint: {h}" for h in extra))


def library_comparison(op, case, reference, reference_name, path, mistakes=()):
    """Forward and backward against minigan's own op, on one case (a random g)."""
    xs = tensors_for(op, case)
    out = call_checked(lambda: op(*xs, **case.params), path)
    ref = reference(*xs, **case.params)
    if out.shape != ref.shape:
        raise Failure(f"comparison with minigan's own {reference_name}, case {case.label!r}: "
                      f"the forward gives shape {out.shape}, minigan {ref.shape} (was forward "
                      f"changed?)")
    diff = first_difference(out.data, ref.data)
    if diff is not None:
        raise Failure(difference_message(
            f"comparison with minigan's own {reference_name}, case {case.label!r}: the "
            f"forward (given) differs (was it changed?)", "out", *diff))
    rng = np.random.default_rng(7)
    u = Tensor(rng.standard_normal(out.shape) + 0.5)      # dL/d(out), never all near 0
    wanted = [x for x in xs if x.requires_grad]
    yours = call_checked(lambda: minigan.grad(out, wanted, u), path)
    theirs = minigan.grad(ref, wanted, u)
    names = [n for n in op.inputs if n in op.returns]
    for name, a, b in zip(names, yours, theirs):
        diff = first_difference(a.data, b.data)
        if diff is not None:
            text = difference_message(f"comparison with minigan's own {reference_name} (with a "
                                      f"random g), case {case.label!r}: your dL/d{name} "
                                      f"differs", name, *diff)
            if not np.all(np.isfinite(a.data)):
                text += ("\nhint: your gradient has NaN or inf here: some step of your formula "
                         "overflows (e^x at x = 1e4 is inf) or divides by 0; find a form that "
                         "stays finite")
            raise Failure(text + "".join(f"\nhint: {h}" for h in diagnose(op, case, name,
                                                                          mistakes)))


def diagnose(op, case, name, mistakes):
    """Hints for a wrong dL/d(name), found by comparing values, never by reading code."""
    xs = tensors_for(op, case)
    try:
        with minigan.no_grad():
            out = op(*xs, **case.params)
        rng = np.random.default_rng(3)
        g = Tensor(rng.uniform(0.5, 1.5, out.shape))
        mine = dict(zip(op.inputs, op.raw_backward(g, xs, out, case.params)))[name]
        doubled = dict(zip(op.inputs, op.raw_backward(g * 2.0, xs, out, case.params)))[name]
    except Exception:                # a backward that crashes here has been reported already
        return []
    hints = []
    if np.allclose(mine.data, doubled.data) and not np.allclose(mine.data, 0):
        hints.append(f"your dL/d{name} stays the same when g doubles: multiply by g, the "
                     f"gradient arriving from the loss (the chain rule)")
    for m in mistakes:
        if m.input != name:
            continue
        try:
            with minigan.no_grad():
                wrong = m.wrong(g, *xs, out, **case.params)
        except Exception:
            continue
        wrong = wrong.data if isinstance(wrong, Tensor) else np.asarray(wrong)
        if wrong.shape == mine.shape and np.allclose(mine.data, wrong, rtol=1e-6, atol=1e-9) \
                and m.hint not in hints:
            hints.append(m.hint)
    return hints


def needs_graph_hint(op, case, name):
    """After a failed gradgradcheck: is the student's gradient connected to the input at all?"""
    xs = tensors_for(op, case)
    try:
        out = op(*xs, **case.params)
        g = Tensor(np.ones(out.shape))
        grads = op.checked(op.call_backward(g, xs, out, case.params), xs)
    except Exception:
        return []
    mine = dict(zip(op.inputs, grads))[name]
    if mine is not None and not mine.requires_grad:
        return [f"your dL/d{name} is not connected to {name}: it was computed from .data "
                f"(NumPy arrays), so the engine sees a constant, whose derivative is 0. "
                f"Write it with Tensor operations on {name} (or out)."]
    return []


def stub_error(call, path):
    """The template's NotImplementedError('your turn: ...') if call() raises it from the
    student's file (the stub is still there), else None (any other outcome: the checks
    report it properly)."""
    try:
        call()
    except StudentRaised as e:
        if raised_by_stub(e, path):
            return e
    except Exception:
        pass
    return None


def not_started(calls, path):
    """Raise NotStarted when every call (function name, thunk) still hits the template's
    stub: the one definition of "not started" (see the module text). A student who
    wrote any of the functions, or a branch of one, has started."""
    stubs = [(fname, stub_error(call, path)) for fname, call in calls]
    if stubs and all(e is not None for _, e in stubs):
        names = sorted({fname for fname, _ in stubs})
        raise NotStarted(f"{os.path.basename(path)}: {' and '.join(f'{n}()' for n in names)} "
                         f"still raise{'s' if len(names) == 1 else ''} the template's "
                         f"NotImplementedError({str(stubs[0][1])!r})")


def backward_call(op, case):
    """A thunk calling the student's backward once on `case` (with g = 1)."""
    def call():
        xs = tensors_for(op, case)
        with minigan.no_grad():
            out = op(*xs, **case.params)
            op.call_backward(Tensor(np.ones(out.shape)), xs, out, case.params)
    return call

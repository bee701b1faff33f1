"""What each exercise is checked with: its inputs, minigan's own op, known mistakes.

Most exercises are one op (``OpCheck``): every case is gradient-checked
against central differences and compared with the library's op; the edge
cases (logits of +-1e4, saturated activations) only with the library, where a
finite difference says little. The known mistakes are wrong formulas, kept
here only to name a mistake when the student's numbers match one of them.

Two exercises are not a single backward and have checks of their own: Adam's
step (five steps beside ``minigan.optim.Adam``) and the gradient penalty
(softplus checked to second order, then the penalty's value and its gradient
with respect to the critic's weights against ``minigan.gan.losses``).

Instance norm's backward, like softplus's in the gradient penalty, is checked
to second order too (``second_order``): the grader differentiates it again.

Every check runs in float64 on small shapes: a whole workspace takes seconds.
The checks run in the grader's process: ``module`` is the student's file seen
through their process (``remote.RemoteModule``), which only answers calls;
every reference value (minigan's ops, Adam, the penalty) is computed here.
"""
import os
from dataclasses import dataclass

import numpy as np

import minigan
import minigan.functional as F
from minigan.gan import losses
from minigan.gradcheck import check_gradients
from minigan.autograd import make_op, unbroadcast
from minigan.tensor import Tensor

from .harness import (Case, Mistake, StudentOp, Failure, gradient_check, library_comparison,
                      call_checked, first_difference, difference_message, not_started,
                      backward_call, measured_message, where_wrong)
from .remote import Returned, type_name


def require(module, names, path):
    """The functions the grader calls must be there."""
    for name in names:
        if not callable(getattr(module, name, None)):
            raise Failure(f"{os.path.basename(path)} has no function {name}(); was it renamed or "
                          f"deleted? (python -m minigan exercises new DIR --only ... --force "
                          f"writes a fresh copy, replacing yours)")


@dataclass
class OpCheck:
    """An exercise made of one op: forward given, backward written by the student."""
    inputs: tuple                 # forward's array arguments, in order
    returns: tuple                # the inputs whose gradients backward returns
    reference: object             # minigan's own op: reference(*tensors, **params)
    reference_name: str
    cases: object                 # cases(rng) -> [Case]
    mistakes: tuple = ()
    second_order: bool = False
    notes: object = None          # {input: what to recall when its gradient's shape is off}
    case_hints: object = None     # case_hints(failed case, cases passed before) -> [hint]

    def op(self, module, name):
        return StudentOp(module, name, self.inputs, self.returns, notes=self.notes)

    def run(self, module, path, name, probe=True):
        """Check every case; returns how many checks passed. `probe`: first raise
        NotStarted if backward is still the stub (off when the caller decides that)."""
        require(module, ("forward", "backward"), path)
        op = self.op(module, name)
        cases = self.cases(np.random.default_rng(0))
        if probe:
            not_started([("backward", backward_call(op, case)) for case in cases], path)
        n, passed = 0, []
        for case in cases:
            try:
                n += self._check_case(op, case, path)
            except Failure as e:
                hints = self.case_hints(case, passed) if self.case_hints else []
                if not hints:
                    raise
                raise Failure(str(e) + "".join(f"\nhint: {h}" for h in hints)) from None
            passed.append(case)
        return n

    def _check_case(self, op, case, path):
        """Every check of one case; returns how many were made."""
        n = 0
        if case.gradcheck:
            gradient_check(op, case, path, mistakes=self.mistakes)
            n += 1
        library_comparison(op, case, self.reference, self.reference_name, path, self.mistakes)
        n += 1
        if self.second_order and case.gradcheck:
            gradient_check(op, case, path, second_order=True)
            n += 1
        return n


# ------------------------------------------------------------ input makers
def away_from_zero(rng, *shape):
    """Values in +-[0.3, 2]: no kink (of leaky ReLU) within a finite difference's reach."""
    return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def _averaged_to(g, shape):
    """A known mistake: g averaged, not summed, back to `shape` (the engine's own
    unbroadcast, divided by how many values were summed into each)."""
    return unbroadcast(g, shape) * (float(np.prod(shape)) / g.size)


def _n_reduced(x, axis):
    if axis is None:
        return x.size
    axes = axis if isinstance(axis, tuple) else (axis,)
    return int(np.prod([x.shape[a] for a in axes]))


def _kept(g, x, axis):
    """g with the reduced axes put back as size 1."""
    if axis is None:
        return g.reshape((1,) * x.ndim)
    axes = {a % x.ndim for a in (axis if isinstance(axis, tuple) else (axis,))}
    return g.reshape(tuple(1 if i in axes else s for i, s in enumerate(x.shape)))


def _stat(x):
    return (0,) + tuple(range(2, x.ndim))


def _chan(a, ndim):
    return a.reshape((1, -1) + (1,) * (ndim - 2))


def _xhat(x, eps, axes=None):
    """xhat over `axes` (batch norm's by default), and the axes."""
    axes = _stat(x) if axes is None else axes
    c = x - x.mean(axis=axes, keepdims=True)
    return c * ((c * c).mean(axis=axes, keepdims=True) + eps) ** -0.5, axes


# ------------------------------------------------------------ the exercises
def _sigmoid_cases(rng):
    return [Case("x of shape (3, 4)", (rng.standard_normal((3, 4)) * 2,)),
            Case("saturated x: -1e4, -40, 0, 40, 1e4", (np.array([-1e4, -40.0, 0.0, 40.0, 1e4]),),
                 gradcheck=False)]


SIGMOID = OpCheck(
    ("x",), ("x",), lambda x: F.sigmoid(x), "F.sigmoid", _sigmoid_cases,
    mistakes=(
        Mistake("x", "your formula uses x where the derivative needs the output: "
                     "s (1 - s) holds for s = sigmoid(x), which is `out`",
                lambda g, x, out: g * x * (1 - x)),
        Mistake("x", "your dL/dx is g * sigmoid(x), the function itself, not its derivative",
                lambda g, x, out: g * out),
    ))

TANH = OpCheck(
    ("x",), ("x",), lambda x: F.tanh(x), "F.tanh",
    lambda rng: [Case("x of shape (3, 4)", (rng.standard_normal((3, 4)),)),
                 Case("saturated x: -1e4, -20, 0, 20, 1e4",
                      (np.array([-1e4, -20.0, 0.0, 20.0, 1e4]),), gradcheck=False)],
    mistakes=(
        Mistake("x", "your formula is g (1 - tanh(x)): check whether the square survived "
                     "the quotient rule",
                lambda g, x, out: g * (1 - out)),
        Mistake("x", "your formula uses x where the derivative needs the output tanh(x), "
                     "which is `out`",
                lambda g, x, out: g * (1 - x * x)),
    ))

LEAKY_RELU = OpCheck(
    ("x",), ("x",), lambda x, negative_slope=0.2: F.leaky_relu(x, negative_slope),
    "F.leaky_relu",
    lambda rng: [Case("x of shape (3, 4), negative_slope 0.2", (away_from_zero(rng, 3, 4),)),
                 Case("x of shape (6,), negative_slope 0.01", (away_from_zero(rng, 6),),
                      {"negative_slope": 0.01}),
                 Case("x from -1e4 to 1e4", (np.array([-1e4, -3.0, -1e-3, 1e-3, 3.0, 1e4]),),
                      gradcheck=False)],
    mistakes=(
        Mistake("x", "for x <= 0 the slope is negative_slope, not 0 (that would be ReLU)",
                lambda g, x, out, negative_slope=0.2: g * (x.data > 0)),
        Mistake("x", "the two slopes are swapped: where x > 0 the op is the identity",
                lambda g, x, out, negative_slope=0.2:
                g * np.where(x.data > 0, negative_slope, 1.0)),
    ))


def _broadcast_cases(rng):
    pairs = [((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (2, 3)),
             ((2, 3), (2, 3))]
    return [Case(f"{a} + {b}", (rng.standard_normal(a), rng.standard_normal(b)))
            for a, b in pairs]


BROADCAST_ADD = OpCheck(
    ("a", "b"), ("a", "b"), lambda a, b: a + b, "add (the + of two Tensors)", _broadcast_cases,
    mistakes=(
        Mistake("b", "you averaged over the broadcast axes; sum instead: every use of b[j] "
                     "passes on its whole gradient",
                lambda g, a, b, out: _averaged_to(g, b.shape)),
        Mistake("a", "you averaged over the broadcast axes; sum instead: every use of a[i] "
                     "passes on its whole gradient",
                lambda g, a, b, out: _averaged_to(g, a.shape)),
    ))

MATMUL = OpCheck(
    ("a", "b"), ("a", "b"), lambda a, b: a @ b, "matmul (@)",
    lambda rng: [Case("square A (4, 4) and B (4, 4)",
                      (rng.standard_normal((4, 4)), rng.standard_normal((4, 4)))),
                 Case("A (3, 4) and B (4, 5)",
                      (rng.standard_normal((3, 4)), rng.standard_normal((4, 5)))),
                 Case("a row times a column, A (1, 3) and B (3, 1)",
                      (rng.standard_normal((1, 3)), rng.standard_normal((3, 1))))],
    mistakes=(
        Mistake("a", "your dL/da is g @ b: a transpose is missing (dL/dA[i, j] sums "
                     "G[i, k] B[j, k] over k)",
                lambda g, a, b, out: g @ b),
        Mistake("b", "your dL/db is a @ g: a transpose is missing (dL/dB[j, k] sums "
                     "A[i, j] G[i, k] over i)",
                lambda g, a, b, out: a @ g),
        Mistake("a", "your dL/da has its two factors in the wrong order (b^T @ g instead of "
                     "g and b^T the other way round)",
                lambda g, a, b, out: b.T @ g),
        Mistake("b", "your dL/db has its two factors in the wrong order (g @ a^T instead of "
                     "a^T and g the other way round)",
                lambda g, a, b, out: g @ a.T),
    ))

LINEAR = OpCheck(
    ("x", "w", "b"), ("x", "w", "b"), lambda x, w, b: F.linear(x, w, b), "F.linear",
    lambda rng: [Case("x (2, 3), square W (3, 3), b (3,)",
                      (rng.standard_normal((2, 3)), rng.standard_normal((3, 3)),
                       rng.standard_normal(3))),
                 Case("x (5, 4), W (3, 4), b (3,)",
                      (rng.standard_normal((5, 4)), rng.standard_normal((3, 4)),
                       rng.standard_normal(3)))],
    mistakes=(
        Mistake("w", "your dL/dw is x^T g, which is the gradient of W^T: transpose it "
                     "(W is stored out x in)",
                lambda g, x, w, b, out: x.T @ g),
        Mistake("x", "your dL/dx is g W^T; W enters the forward transposed, so the way "
                     "back multiplies by W itself",
                lambda g, x, w, b, out: g @ w.T),
    ))


def _bce_cases(rng):
    x = rng.standard_normal((4, 3)) * 3
    edge = np.array([[1e4, -1e4, 1e4, -1e4], [0.0, 35.0, -35.0, 2.0]])
    edge_t = np.array([[1.0, 1.0, 0.0, 0.0], [0.5, 1.0, 0.0, 0.9]])
    return [Case("logits (4, 3), labels in [0, 1]", (x, rng.uniform(0, 1, (4, 3)))),
            Case("logits (6,), labels 0 and 1", (rng.standard_normal(6) * 2,
                                                 np.array([1.0, 0, 1, 0, 1, 0]))),
            Case("logits of +-1e4 and +-35", (edge, edge_t), gradcheck=False)]


BCE_WITH_LOGITS = OpCheck(
    ("x", "t"), ("x",), lambda x, t: F.binary_cross_entropy_with_logits(x, t),
    "F.binary_cross_entropy_with_logits", _bce_cases,
    mistakes=(
        Mistake("x", "L is the mean over all elements: each element's gradient carries the "
                     "factor 1/n",
                lambda g, x, t, out: g * (F.sigmoid(x) - t)),
        Mistake("x", "the sign is flipped: raising the logit of a real example (t = 1) must "
                     "lower its loss",
                lambda g, x, t, out: g * (t - F.sigmoid(x)) * (1.0 / x.size)),
        Mistake("x", "your formula leaves out the label t",
                lambda g, x, t, out: g * F.sigmoid(x) * (1.0 / x.size)),
    ))


def _mean_cases(rng, op="mean"):
    x = rng.standard_normal((2, 3, 4))
    return [Case(f"{op} over axis 1 of (2, 3, 4)", (x,), {"axis": 1}),
            Case(f"{op} over axes (0, 2) of (2, 3, 4), keepdims", (x,),
                 {"axis": (0, 2), "keepdims": True}),
            Case(f"{op} over axis -1 of (3, 5)", (rng.standard_normal((3, 5)),), {"axis": -1}),
            Case(f"{op} of everything, (2, 3, 4)", (x,), {"axis": None})]


MEAN = OpCheck(
    ("x",), ("x",), lambda x, axis=None, keepdims=False: x.mean(axis=axis, keepdims=keepdims),
    "mean", _mean_cases,
    mistakes=(
        Mistake("x", "each element enters the mean with weight 1/n: divide by n, the number "
                     "of elements averaged into one output",
                lambda g, x, out, axis=None, keepdims=False:
                _kept(g, x, axis).broadcast_to(x.shape)),
        Mistake("x", "n is the number of elements averaged into one output, not x.size",
                lambda g, x, out, axis=None, keepdims=False:
                _kept(g, x, axis).broadcast_to(x.shape) * (1.0 / x.size)),
    ))


def _var_wrong(g, x, axis, factor, centered=True):
    c = x - x.mean(axis=axis, keepdims=True) if centered else x
    return _kept(g, x, axis) * c * factor


VAR = OpCheck(
    ("x",), ("x",), lambda x, axis=None, keepdims=False: x.var(axis=axis, keepdims=keepdims),
    "var", lambda rng: _mean_cases(rng, "var"),
    mistakes=(
        Mistake("x", "wrong normalizer: this variance divides by n (the biased one, as batch "
                     "norm uses), not n - 1, so its derivative has 2/n",
                lambda g, x, out, axis=None, keepdims=False:
                _var_wrong(g, x, axis, 2.0 / (_n_reduced(x, axis) - 1))),
        Mistake("x", "the derivative of a square brings a factor 2",
                lambda g, x, out, axis=None, keepdims=False:
                _var_wrong(g, x, axis, 1.0 / _n_reduced(x, axis))),
        Mistake("x", "the variance measures x - mean, not x: center x before multiplying",
                lambda g, x, out, axis=None, keepdims=False:
                _var_wrong(g, x, axis, 2.0 / _n_reduced(x, axis), centered=False)),
    ))


def _g_loss_cases(rng):
    return [Case("logits (6, 1)", (rng.standard_normal((6, 1)) * 2,)),
            Case("logits of +-1e4 and +-40", (np.array([[1e4], [-1e4], [0.0], [40.0], [-40.0]]),),
                 gradcheck=False)]


NON_SATURATING = OpCheck(
    ("logits",), ("logits",), lambda a: losses.non_saturating_g_loss(a),
    "gan.losses.non_saturating_g_loss", _g_loss_cases,
    mistakes=(
        Mistake("logits", "this is the gradient of the saturating loss log(1 - D(G(z))), "
                          "-sigmoid(a)/n (lecture 4); the non-saturating loss differentiates "
                          "-log sigmoid(a) instead",
                lambda g, a, out: -g * F.sigmoid(a) * (1.0 / a.size)),
        Mistake("logits", "the sign is flipped: the generator's loss must fall when D's logit "
                          "on its fakes rises",
                lambda g, a, out: g * F.sigmoid(-a) * (1.0 / a.size)),
        Mistake("logits", "L is a mean over the batch: each logit's gradient carries 1/n",
                lambda g, a, out: -g * F.sigmoid(-a)),
    ))


def _bn_cases(rng):
    return [Case("x (6, 3)", (rng.standard_normal((6, 3)) * 2 + 1, rng.standard_normal(3),
                              rng.standard_normal(3))),
            Case("images x (2, 3, 2, 2)", (rng.standard_normal((2, 3, 2, 2)),
                                           rng.uniform(0.5, 2, 3), rng.standard_normal(3))),
            Case("x (5, 2) far from 0 (50 + 10 noise)", (50 + 10 * rng.standard_normal((5, 2)),
                                                        rng.standard_normal(2),
                                                        rng.standard_normal(2)))]


def _bn_dx_without(g, x, w, eps, mean_term, var_term, axes=None):
    """dL/dx of batch norm (statistics over `axes`: instance norm's with (2, 3)) with the
    path through mu and/or var left out (known mistakes); with both, the right one."""
    xh, axes = _xhat(x, eps, axes)
    c = x - x.mean(axis=axes, keepdims=True)
    istd = ((c * c).mean(axis=axes, keepdims=True) + eps) ** -0.5
    gx = g
    if mean_term:
        gx = gx - g.mean(axis=axes, keepdims=True)
    if var_term:
        gx = gx - xh * (g * xh).mean(axis=axes, keepdims=True)
    return gx * istd * _chan(w, x.ndim)


BATCH_NORM = OpCheck(
    ("x", "weight", "bias"), ("x", "weight", "bias"),
    lambda x, w, b, eps=1e-5: F.batch_norm(x, None, None, w, b, training=True, eps=eps),
    "F.batch_norm (training=True)", _bn_cases,
    mistakes=(
        Mistake("x", "your dL/dx is weight * g / sqrt(var + eps), the path through xhat "
                     "alone: in training mode mu and var are computed from the batch, so they "
                     "depend on every x too. Add the terms of those two paths",
                lambda g, x, w, b, out, eps=1e-5: _bn_dx_without(g, x, w, eps, False, False)),
        Mistake("x", "your dL/dx has the path through mu but not the one through var "
                     "(a term proportional to xhat)",
                lambda g, x, w, b, out, eps=1e-5: _bn_dx_without(g, x, w, eps, True, False)),
        Mistake("x", "your dL/dx has the path through var but not the one through mu "
                     "(a term, the same for the whole channel, from the mean of g)",
                lambda g, x, w, b, out, eps=1e-5: _bn_dx_without(g, x, w, eps, False, True)),
        Mistake("weight", "dL/dweight sums g * xhat over the channel's values, not g alone",
                lambda g, x, w, b, out, eps=1e-5: g.sum(axis=_stat(x))),
    ))


def _conv_cases(rng):
    return [Case("x (2, 3, 5, 5), w (4, 3, 3, 3), stride 1, padding 0",
                 (rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)),
                  rng.standard_normal(4))),
            Case("x (2, 3, 5, 5), w (4, 3, 3, 3), stride 2, padding 1",
                 (rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)),
                  rng.standard_normal(4)), {"stride": 2, "padding": 1}),
            Case("x (1, 2, 4, 5), w (3, 2, 2, 3), stride 1, padding 1",
                 (rng.standard_normal((1, 2, 4, 5)), rng.standard_normal((3, 2, 2, 3)),
                  rng.standard_normal(3)), {"padding": 1})]


# The known mistakes of the two convolutions are computed from the library's own
# gradients (minigan.grad through F.conv2d / F.conv_transpose2d, for the g the
# diagnosis uses) and changed the way each mistake changes them.
def _library_grads(conv, g, x, w, b, stride, padding):
    """(dL/dx, dL/dw, dL/db) of minigan's own op for this g, as arrays."""
    xs = [minigan.tensor(np.asarray(t.data, dtype=np.float64), requires_grad=True)
          for t in (x, w, b)]
    with minigan.enable_grad():
        out = conv(*xs, stride=stride, padding=padding)
        return [t.data for t in minigan.grad(out, xs, Tensor(np.asarray(g.data)))]


def _one_sample(conv, which, n):
    """The gradient `which` (0 x, 1 w, 2 b) from sample n of the batch alone."""
    def wrong(g, x, w, b, out, stride=1, padding=0):
        if x.shape[0] < 2:
            raise ValueError("one sample: nothing to tell apart")
        pick = slice(n, n + 1) if n >= 0 else slice(n, None)
        return _library_grads(conv, Tensor(g.data[pick]), Tensor(x.data[pick]), w, b,
                              stride, padding)[which]
    return wrong


def _scaled(conv, which, factor):
    """The gradient `which`, times factor(g, x) (an average where a sum belongs)."""
    def wrong(g, x, w, b, out, stride=1, padding=0):
        return _library_grads(conv, g, x, w, b, stride, padding)[which] * factor(g, x)
    return wrong


def _flipped_dw(conv):
    def wrong(g, x, w, b, out, stride=1, padding=0):
        return _library_grads(conv, g, x, w, b, stride, padding)[1][:, :, ::-1, ::-1]
    return wrong


def _correlate(x, k):
    """Stride-1 correlation of x (N, C, H, W) with k (O, C, kh, kw), no padding: (N, O, ., .)."""
    windows = np.lib.stride_tricks.sliding_window_view(x, k.shape[2:], axis=(2, 3))
    return np.einsum("ncuvij,ocij->nouv", windows, k)


def _conv2d_dx_unflipped(g, x, w, b, out, stride=1, padding=0):
    """conv2d's dL/dx written as a full correlation of g, with w's channels swapped but
    the kernel not rotated (the right one rotates it by 180 degrees); stride 1 only."""
    kh, kw = w.shape[2:]
    ph, pw = kh - 1 - padding, kw - 1 - padding
    if stride != 1 or ph < 0 or pw < 0:
        raise ValueError("the full-correlation form is written here for stride 1 only")
    gp = np.pad(np.asarray(g.data), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return _correlate(gp, np.asarray(w.data).transpose(1, 0, 2, 3))


def _conv_t_dx_flipped(g, x, w, b, out, stride=1, padding=0):
    """conv_transpose2d's dL/dx with the kernel rotated by 180 degrees (it needs w as it is)."""
    flipped = Tensor(np.ascontiguousarray(np.asarray(w.data)[:, :, ::-1, ::-1]))
    return F.conv2d(Tensor(np.asarray(g.data)), flipped, stride=stride, padding=padding).data


def _per_batch(g, x):
    return 1.0 / x.shape[0]


def _per_output_value(g, x):
    return 1.0 / (g.shape[0] * g.shape[2] * g.shape[3])


def _conv_mistakes(conv, dx_mistake):
    """The mistakes both convolutions' backwards are known for (dx_mistake: the kernel's flip)."""
    one_sample = ("your dL/dw holds the contribution of one sample of the batch only: w is "
                  "shared by every sample, so its gradient adds up all of theirs (a loop "
                  "over the samples that overwrites instead of adding?)")
    return (
        dx_mistake,
        Mistake("w", "your dL/dw is the right one divided by the batch size N: w is shared by "
                     "every sample, so its gradient sums their contributions, it does not "
                     "average them", _scaled(conv, 1, _per_batch)),
        Mistake("w", one_sample, _one_sample(conv, 1, 0)),
        Mistake("w", one_sample, _one_sample(conv, 1, -1)),
        Mistake("w", "your dL/dw is the right one flipped (rotated by 180 degrees): the forward "
                     "uses w[:, :, i, j] at offset (i, j) of each window, with no flip, so "
                     "dL/dw[., ., i, j] pairs g with the input at that same offset",
                _flipped_dw(conv)),
        Mistake("b", "your dL/db is the mean of g; b is added to every output value, so its "
                     "gradient is the sum of g over the batch and every pixel "
                     "(g.sum(axis=(0, 2, 3)))", _scaled(conv, 2, _per_output_value)),
    )


def _stride_padding_hint(where):
    """case_hints for a convolution: a case that fails only once stride or padding
    changes (after a case with stride 1 and padding 0 passed) says so."""
    def hints(case, passed):
        stride, padding = case.params.get("stride", 1), case.params.get("padding", 0)
        plain = any(c.params.get("stride", 1) == 1 and c.params.get("padding", 0) == 0
                    for c in passed)
        if (stride, padding) == (1, 0) or not plain:
            return []
        changed = " and ".join(t for t in (f"stride {stride}" if stride != 1 else "",
                                           f"padding {padding}" if padding != 0 else "") if t)
        return [f"your backward passed the case with stride 1 and padding 0 but fails with "
                f"{changed}: check that backward uses stride and padding wherever the "
                f"forward does ({where})"]
    return hints


CONV2D = OpCheck(
    ("x", "w", "b"), ("x", "w", "b"),
    lambda x, w, b, stride=1, padding=0: F.conv2d(x, w, b, stride=stride, padding=padding),
    "F.conv2d", _conv_cases,
    mistakes=_conv_mistakes(F.conv2d, Mistake(
        "x", "your dL/dx is a full correlation of g with the kernel unflipped: written as a "
             "convolution of g, the way back needs w rotated by 180 degrees "
             "(w[:, :, ::-1, ::-1], in and out channels swapped); or take the hint's route, "
             "W_mat^T @ G_mat and col2im, which needs no flip", _conv2d_dx_unflipped)),
    notes={"x": "x is (N, C, H, W)",
           "w": "w is (O, C, kh, kw): out channels first, then in channels (PyTorch's "
                "layout)"},
    case_hints=_stride_padding_hint("im2col, col2im, output_size"))


def _conv_t_cases(rng):
    return [Case("x (2, 2, 3, 3), w (2, 3, 3, 3), stride 1, padding 0",
                 (rng.standard_normal((2, 2, 3, 3)), rng.standard_normal((2, 3, 3, 3)),
                  rng.standard_normal(3))),
            Case("x (2, 4, 3, 3), w (4, 3, 3, 3), stride 2, padding 1",
                 (rng.standard_normal((2, 4, 3, 3)), rng.standard_normal((4, 3, 3, 3)),
                  rng.standard_normal(3)), {"stride": 2, "padding": 1}),
            Case("x (1, 2, 3, 4), w (2, 2, 2, 2), stride 2, padding 0",
                 (rng.standard_normal((1, 2, 3, 4)), rng.standard_normal((2, 2, 2, 2)),
                  rng.standard_normal(2)), {"stride": 2})]


CONV_TRANSPOSE2D = OpCheck(
    ("x", "w", "b"), ("x", "w", "b"),
    lambda x, w, b, stride=1, padding=0: F.conv_transpose2d(x, w, b, stride=stride,
                                                            padding=padding),
    "F.conv_transpose2d", _conv_t_cases,
    mistakes=_conv_mistakes(F.conv_transpose2d, Mistake(
        "x", "your dL/dx used the kernel flipped (rotated by 180 degrees): the transposed "
             "convolution scatters w[:, :, i, j] to offset (i, j) with no flip, so the way "
             "back is conv2d(g, w) with w as it is", _conv_t_dx_flipped)),
    notes={"x": "x is (N, Cin, H, W)",
           "w": "w is (Cin, Cout, kh, kw): in channels first, the layout of the conv2d it "
                "reverses"},
    case_hints=_stride_padding_hint("F.conv2d's stride= and padding=, im2col of g"))


# ------------------------------------------------------------ Adam
def _adam_variant(bias_correction=True, eps_inside=False, swap_betas=False, squared=True):
    """Adam's step and some known wrong versions of it, on NumPy arrays."""
    def step(p, g, m, v, t, lr, beta1, beta2, eps):
        b1, b2 = (beta2, beta1) if swap_betas else (beta1, beta2)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * (g * g if squared else g)
        mh, vh = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if bias_correction else (m, v)
        with np.errstate(invalid="ignore"):
            denom = np.sqrt(vh + eps) if eps_inside else np.sqrt(vh) + eps
        return p - lr * mh / denom, m, v
    return step


ADAM_MISTAKES = (
    ("your steps match Adam without the bias correction: m and v start at 0, so divide "
     "them by 1 - beta1^t and 1 - beta2^t", _adam_variant(bias_correction=False)),
    ("eps goes after the square root: sqrt(v_hat) + eps", _adam_variant(eps_inside=True)),
    ("beta1 belongs to m (the gradient's average) and beta2 to v (the squared gradient's)",
     _adam_variant(swap_betas=True)),
    ("v averages the squared gradient g * g, elementwise", _adam_variant(squared=False)),
)

ADAM_CASES = (
    ("default settings (lr 1e-3, betas (0.9, 0.999))", dict(lr=1e-3, beta1=0.9, beta2=0.999), 1.0),
    ("the lecture's Adam(0.0002, 0.5)", dict(lr=2e-4, beta1=0.5, beta2=0.999), 1.0),
    ("gradients of size 1e4", dict(lr=1e-2, beta1=0.9, beta2=0.999), 1e4),
    ("gradients of size 1e-9, where eps matters", dict(lr=1e-3, beta1=0.9, beta2=0.999), 1e-9),
)


def _arrays(result, shape, path):
    """The student's (p, m, v), as three arrays of p's shape."""
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        raise Failure(f"step() in {os.path.basename(path)} must return three arrays (p, m, v), "
                      f"but it returned {type_name(result)}"
                      + (f" of {len(result)}" if isinstance(result, (tuple, list)) else ""))
    out = []
    for name, a in zip("pmv", result):
        a = a.data if isinstance(a, Tensor) else a
        try:
            a = np.asarray(a, dtype=np.float64)
        except (TypeError, ValueError):
            raise Failure(f"step() returned a {type_name(a)} for {name}; return NumPy "
                          f"arrays") from None
        if a.shape != shape:
            raise Failure(f"step() returned {name} of shape {a.shape}, but the parameter has "
                          f"shape {shape}")
        out.append(a)
    return out


def check_adam(module, path, name):
    require(module, ("step",), path)
    shape = (3, 4)
    zeros = np.zeros(shape)
    not_started([("step", lambda: module.step(np.ones(shape), np.ones(shape), zeros.copy(),
                                              zeros.copy(), 1))], path)
    n = 0
    rng = np.random.default_rng(0)
    for label, s, scale in ADAM_CASES:
        p = minigan.tensor(rng.standard_normal(shape), requires_grad=True)
        opt = minigan.optim.Adam([p], lr=s["lr"], betas=(s["beta1"], s["beta2"]), eps=1e-8)
        mine = (p.data.copy(), zeros.copy(), zeros.copy())
        wrong = [(p.data.copy(), zeros.copy(), zeros.copy()) for _ in ADAM_MISTAKES]
        for t in range(1, 6):
            grad = rng.standard_normal(shape) * scale
            p.grad = Tensor(grad.copy())
            opt.step()
            state = opt.state[id(p)]
            args = [a.copy() for a in mine]
            result = call_checked(lambda: module.step(args[0], grad.copy(), args[1], args[2], t,
                                                      lr=s["lr"], beta1=s["beta1"],
                                                      beta2=s["beta2"], eps=1e-8), path)
            mine = _arrays(result, shape, path)
            wrong = [step(*w[:1], grad, *w[1:], t, s["lr"], s["beta1"], s["beta2"], 1e-8)
                     for (_, step), w in zip(ADAM_MISTAKES, wrong)]
            for what, array, yours, theirs in (("the parameter", "p", mine[0], p.data),
                                               ("m", "m", mine[1], state["exp_avg"]),
                                               ("v", "v", mine[2], state["exp_avg_sq"])):
                diff = first_difference(yours, theirs, rtol=1e-9, atol=0.0)
                if diff is None:
                    continue
                text = difference_message(f"after step {t} of minigan.optim.Adam, case "
                                          f"{label!r}: {what} differs", array, *diff,
                                          theirs_label="Adam", rtol=1e-9, atol=0.0)
                if not np.all(np.isfinite(mine[0])):
                    text += ("\nhint: your parameter is NaN or inf: is t used as given "
                             "(1 for the first step, so that 1 - beta^t is not 0)?")
                for (hint, _), w in zip(ADAM_MISTAKES, wrong):
                    if np.allclose(mine[0], w[0], rtol=1e-9, atol=0.0):
                        text += f"\nhint: {hint}"
                raise Failure(text)
            n += 1
    return n


# ------------------------------------------------------------ the gradient penalty
SOFTPLUS_MISTAKES = (
    Mistake("x", "your dL/dx is g * softplus(x), the function itself (out); its derivative "
                 "is d/dx log(1 + e^x) = e^x / (1 + e^x) = sigmoid(x)",
            lambda g, x, out: g * out),
    Mistake("x", "your dL/dx is g * sigmoid(-x): the sign inside is flipped; softplus rises "
                 "with x, its slope going from 0 (x -> -inf) to 1 (x -> +inf)",
            lambda g, x, out: g * F.sigmoid(-x)),
    Mistake("x", "your dL/dx is g * sigmoid(x) (1 - sigmoid(x)), the derivative of "
                 "sigmoid; softplus's derivative is sigmoid(x) itself",
            lambda g, x, out: g * F.sigmoid(x) * (1 - F.sigmoid(x))),
)


def _softplus_cases(rng):
    return [Case("x of shape (3, 4)", (rng.standard_normal((3, 4)) * 2,)),
            Case("x from -1e4 to 1e4", (np.array([-1e4, -15.0, 0.0, 15.0, 1e4]),),
                 gradcheck=False)]


def _critic(softplus, W1, b1, w2):
    """The grader's critic, D(x) = softplus(x W1^T + b1) w2: scores (N,). (The
    student's process builds the same one around their softplus: student_side.py.)"""
    return lambda x: softplus(F.linear(x, W1, b1)) @ w2


def _remote_penalty(module, real, fake, eps, lam):
    """The student's penalty as a function of the critic's weights, for the checks
    here: its value from their process and, where it has a graph there, a node whose
    backward is the gradient their process computed (an Opaque or a number for
    anything that is not a Tensor)."""
    def penalty(W1, b1, w2):
        value, grads = module.penalty((W1, b1, w2), real, fake, eps, lam)
        if not isinstance(value, Returned):
            return value
        if not value.requires_grad or grads is None:
            return Tensor(value.data)

        def backward(g, out):
            g = g.reshape(())
            return tuple(None if d is None else g * Tensor(d) for d in grads)
        return make_op(value.data, (W1, b1, w2), backward, "gradient_penalty (yours)")
    return penalty


def _penalty_variants(critic, real, fake, eps, lam):
    """Known wrong versions of the penalty, as (hint, value), from the input gradient."""
    xhat = (eps * real + (1 - eps) * fake).detach()
    xhat.requires_grad = True
    (g,) = minigan.grad(critic(xhat).sum(), xhat)
    sq = (g.data ** 2).reshape(g.shape[0], -1).sum(axis=1)
    swapped = losses.gradient_penalty(critic, real, fake, lam=lam, eps=1 - eps)
    at_real = losses.gradient_penalty(critic, real, fake, lam=lam, eps=np.ones(eps.shape))
    at_fake = losses.gradient_penalty(critic, real, fake, lam=lam, eps=np.zeros(eps.shape))
    return (
        ("the norm is the square root of the sum of squares; yours matches the squared norm",
         lam * np.mean((sq - 1) ** 2)),
        ("(norm - 1)^2 is taken per sample, then averaged; yours matches (mean norm - 1)^2",
         lam * (np.mean(np.sqrt(sq)) - 1) ** 2),
        ("the penalty is multiplied by lam", np.mean((np.sqrt(sq) - 1) ** 2)),
        ("one norm per sample (over its own features), not one over the whole batch",
         lam * (np.sqrt(sq.sum()) - 1) ** 2),
        ("xhat = eps real + (1 - eps) fake; yours matches eps and 1 - eps swapped",
         float(swapped.data)),
        ("the penalty averages (norm - 1)^2 over the N samples; yours matches their sum",
         lam * np.sum((np.sqrt(sq) - 1) ** 2)),
        ("the penalty is taken at xhat, between the real and the fake samples; yours matches "
         "it taken at the real samples", float(at_real.data)),
        ("the penalty is taken at xhat, between the real and the fake samples; yours matches "
         "it taken at the fake samples", float(at_fake.data)),
    )


SOFTPLUS = OpCheck(("x",), ("x",), lambda x: F.softplus(x), "F.softplus", _softplus_cases,
                   mistakes=SOFTPLUS_MISTAKES, second_order=True)


def check_gradient_penalty(module, path, name):
    """Part 1, softplus's backward (to second order), then part 2, the penalty: its
    value, then its gradient with respect to the critic's weights. Not started only
    when both functions are still the template's stubs."""
    require(module, ("forward", "backward", "gradient_penalty"), path)
    rng = np.random.default_rng(1)
    N, d, hidden, lam = 4, 3, 5, 10.0
    W1, b1, w2 = (minigan.tensor(rng.standard_normal(s) * 0.8, requires_grad=True)
                  for s in ((hidden, d), (hidden,), (hidden,)))
    real = minigan.tensor(rng.standard_normal((N, d)))
    fake = minigan.tensor(rng.standard_normal((N, d)) + 1.0)
    eps = minigan.tensor(rng.uniform(0, 1, (N, 1)))
    op = SOFTPLUS.op(module, "softplus")
    cases = SOFTPLUS.cases(np.random.default_rng(0))
    not_started([("backward", backward_call(op, case)) for case in cases]
                + [("gradient_penalty", lambda: module.penalty(
                    (W1, b1, w2), real, fake, eps, lam, softplus="minigan"))], path)
    n = SOFTPLUS.run(module, path, "softplus", probe=False)
    # their penalty on the critic built around their softplus, in their process
    yours = _remote_penalty(module, real, fake, eps, lam)

    pen = call_checked(lambda: yours(W1, b1, w2), path)
    if not isinstance(pen, Tensor) or pen.size != 1:
        raise Failure(f"gradient_penalty() must return a one-element Tensor, got "
                      f"{type_name(pen)}" + (f" of shape {pen.shape}"
                                             if isinstance(pen, Tensor) else ""))
    ref_critic = _critic(F.softplus, W1, b1, w2)
    ref = losses.gradient_penalty(ref_critic, real, fake, lam=lam, eps=eps)
    diff = first_difference(pen.data.reshape(()), ref.data)
    if diff is not None:
        text = difference_message("the penalty's value, against minigan.gan.losses."
                                  "gradient_penalty (same critic, eps and lam)", "penalty",
                                  *diff)
        value = float(pen.data.reshape(()))
        for hint, v in _penalty_variants(ref_critic, real, fake, eps, lam):
            if np.isclose(value, v, rtol=1e-6, atol=1e-9):
                text += f"\nhint: {hint}"
        raise Failure(text)
    n += 1
    if not pen.requires_grad:
        raise Failure("the penalty's value is right, but it has no gradient with respect to "
                      "the critic's weights: the input gradient was computed without "
                      "create_graph=True (or detached), so the engine cannot differentiate "
                      "through it\nhint: minigan.grad(critic(xhat).sum(), xhat, "
                      "create_graph=True)")
    res = call_checked(lambda: check_gradients(yours, [W1, b1, w2]), path)
    if not res.passed:
        f = res.failure
        weight = ("W1", "b1", "w2")[f.input]
        raise Failure(f"gradient check of the penalty with respect to the critic's weights "
                      f"(through your softplus's backward): its gradient is wrong "
                      f"{where_wrong(f, weight)}\n"
                      f"{measured_message(f, weight, 'what your code gives')}")
    n += 1
    mine = call_checked(lambda: minigan.grad(pen, [W1, b1, w2]), path)
    theirs = minigan.grad(ref, [W1, b1, w2])
    for wname, a, b in zip(("W1", "b1", "w2"), mine, theirs):
        diff = first_difference(a.data, b.data, rtol=1e-6, atol=1e-9)
        if diff is not None:
            raise Failure(difference_message(
                f"the penalty's gradient with respect to {wname}, against minigan.gan.losses."
                f"gradient_penalty", wname, *diff, rtol=1e-6, atol=1e-9))
    return n + 1


# ------------------------------------------------- the applications (lecture 4)
def _upsample_cases(rng):
    return [Case("x (2, 3, 2, 3), scale 2", (rng.standard_normal((2, 3, 2, 3)),)),
            Case("x (1, 2, 3, 2), scale 3", (rng.standard_normal((1, 2, 3, 2)),), {"scale": 3}),
            Case("x (2, 1, 1, 4), scale 2", (rng.standard_normal((2, 1, 1, 4)),))]


def _blocks(g, x, scale):
    """g (N, C, H s, W s) as (N, C, H, s, W, s): pixel (h, w)'s block at [:, :, h, :, w, :]."""
    N, C, H, W = x.shape
    return g.reshape(N, C, H, scale, W, scale)


def _strided_sum(g, x, scale):
    """A known mistake: g reshaped (N, C, s, H, s, W), adding up pixels H and W apart."""
    N, C, H, W = x.shape
    return g.reshape(N, C, scale, H, scale, W).sum(axis=(2, 4))


UPSAMPLE_NEAREST = OpCheck(
    ("x",), ("x",), lambda x, scale=2: F.interpolate(x, scale_factor=scale),
    "F.interpolate (mode='nearest')", _upsample_cases,
    mistakes=(
        Mistake("x", "your dL/dx takes one value of g from each scale x scale block: every copy "
                     "of a pixel changes the loss, so the gradients of all its copies add up "
                     "(sum the block)",
                lambda g, x, out, scale=2: _blocks(g, x, scale)[:, :, :, 0, :, 0]),
        Mistake("x", "your dL/dx is the mean of each block: every copy passes on its whole "
                     "gradient, so sum the block, do not average it",
                lambda g, x, out, scale=2: _blocks(g, x, scale).sum(axis=(3, 5))
                * (1.0 / scale ** 2)),
        Mistake("x", "your dL/dx adds up pixels H (or W) apart, not the scale x scale block of "
                     "neighbours: the reshape needs each block's axis right after its pixel's, "
                     "(N, C, H, scale, W, scale)",
                lambda g, x, out, scale=2: _strided_sum(g, x, scale)),
    ))


def _pool_cases(rng):
    return [Case("x (2, 3, 4, 6), kernel 2 (stride 2, padding 0)",
                 (rng.standard_normal((2, 3, 4, 6)),), {"kernel_size": 2}),
            Case("x (1, 2, 5, 4), kernel 3, stride 1, padding 1",
                 (rng.standard_normal((1, 2, 5, 4)),), {"kernel_size": 3, "stride": 1,
                                                        "padding": 1}),
            Case("x (2, 2, 5, 5), kernel 3, stride 2, padding 1",
                 (rng.standard_normal((2, 2, 5, 5)),), {"kernel_size": 3, "stride": 2,
                                                        "padding": 1})]


def _pool_dx(g, x, out, kernel_size=2, stride=None, padding=0, share=None, overwrite=False):
    """avg_pool2d's dL/dx and known wrong versions of it, on arrays: every window gives
    each of its pixels `share` (right: g / k^2), added (+=), or, with `overwrite`,
    assigned (=) tap after tap; then the padding is cut off."""
    k, p = kernel_size, padding
    stride = k if stride is None else stride
    g = np.asarray(g.data)
    N, C, H, W = x.shape
    OH, OW = g.shape[2:]
    share = g / (k * k) if share is None else share
    dxpad = np.zeros((N, C, H + 2 * p, W + 2 * p))
    for i in range(k):
        for j in range(k):
            taps = (slice(None), slice(None), slice(i, i + stride * (OH - 1) + 1, stride),
                    slice(j, j + stride * (OW - 1) + 1, stride))
            if overwrite:
                dxpad[taps] = share
            else:
                dxpad[taps] += share
    return dxpad[:, :, p:p + H, p:p + W]


def _pool_dx_last_window(g, x, out, kernel_size=2, stride=None, padding=0):
    """A known mistake: each window's share assigned (=) to its pixels window after
    window, so where windows overlap the last one wins."""
    k, p = kernel_size, padding
    stride = k if stride is None else stride
    g = np.asarray(g.data)
    N, C, H, W = x.shape
    dxpad = np.zeros((N, C, H + 2 * p, W + 2 * p))
    for oh in range(g.shape[2]):
        for ow in range(g.shape[3]):
            dxpad[:, :, oh * stride:oh * stride + k, ow * stride:ow * stride + k] = \
                g[:, :, oh, ow, None, None] / (k * k)
    return dxpad[:, :, p:p + H, p:p + W]


def _pool_dx_image_pixels_only(g, x, out, kernel_size=2, stride=None, padding=0):
    """A known mistake: each window's g divided by the number of image pixels in it
    (PyTorch's count_include_pad=False), not by k^2."""
    ones = Tensor(np.ones(x.shape))
    count = F.avg_pool2d(ones, kernel_size, stride, padding).data * kernel_size ** 2
    return _pool_dx(g, x, out, kernel_size, stride, padding, share=np.asarray(g.data) / count)


def _pool_hints(case, passed):
    """A case that fails only once windows overlap or touch the padding, after one
    whose windows did neither passed, says so."""
    def plain(c):
        k = c.params.get("kernel_size", 2)
        return c.params.get("stride", k) == k and c.params.get("padding", 0) == 0
    if plain(case) or not any(plain(c) for c in passed):
        return []
    k = case.params.get("kernel_size", 2)
    stride, padding = case.params.get("stride", k), case.params.get("padding", 0)
    changed = " and ".join(t for t in (
        f"stride {stride} < kernel_size {k} (overlapping windows)" if stride < k else "",
        f"padding {padding}" if padding else "") if t)
    return [f"your backward passed the case whose windows neither overlap nor touch the "
            f"padding, but fails with {changed}: a pixel in several windows gets a share from "
            f"each of them (+=), and the gradient that lands on the padding is cut off at the "
            f"end"]


AVG_POOL2D = OpCheck(
    ("x",), ("x",),
    lambda x, kernel_size=2, stride=None, padding=0: F.avg_pool2d(x, kernel_size, stride,
                                                                  padding),
    "F.avg_pool2d", _pool_cases,
    mistakes=(
        Mistake("x", "your dL/dx is kernel_size^2 times too large: y is each window's mean, "
                     "so each of its k^2 pixels gets g / k^2",
                lambda g, x, out, **kw: _pool_dx(g, x, out, share=np.asarray(g.data), **kw)),
        Mistake("x", "where windows overlap (stride < kernel_size) a pixel gets a share of "
                     "the gradient from every window that holds it: add them up (+=); yours "
                     "keeps one window's share only (=)",
                lambda g, x, out, **kw: _pool_dx(g, x, out, overwrite=True, **kw)),
        Mistake("x", "where windows overlap (stride < kernel_size) a pixel gets a share of "
                     "the gradient from every window that holds it: add them up (+=); yours "
                     "keeps one window's share only (=)", _pool_dx_last_window),
        Mistake("x", "you divided each window's g by the number of image pixels in it; the "
                     "mean divides by kernel_size^2 always, the zeros of the padding counted "
                     "(PyTorch's count_include_pad=True)", _pool_dx_image_pixels_only),
    ),
    case_hints=_pool_hints)


def _instance_norm_cases(rng):
    return [Case("x (2, 2, 2, 3)", (rng.standard_normal((2, 2, 2, 3)), rng.uniform(0.5, 2, 2),
                                    rng.standard_normal(2))),
            Case("x (1, 3, 3, 2), eps 1e-3", (rng.standard_normal((1, 3, 3, 2)) * 2 + 1,
                                              rng.standard_normal(3), rng.standard_normal(3)),
                 {"eps": 1e-3}),
            Case("x (2, 2, 3, 3) far from 0 (50 + 10 noise)",
                 (50 + 10 * rng.standard_normal((2, 2, 3, 3)), rng.uniform(0.5, 2, 2),
                  rng.standard_normal(2)))]


def _in_dx_without(mean_term, var_term):
    return lambda g, x, w, b, out, eps=1e-5: _bn_dx_without(g, x, w, eps, mean_term, var_term,
                                                            axes=(2, 3))


INSTANCE_NORM = OpCheck(
    ("x", "weight", "bias"), ("x", "weight", "bias"),
    lambda x, w, b, eps=1e-5: F.instance_norm(x, weight=w, bias=b, eps=eps),
    "F.instance_norm", _instance_norm_cases,
    mistakes=(
        Mistake("x", "your dL/dx is weight * g / sqrt(var + eps), the path through xhat "
                     "alone: mu and var are computed from the sample's own pixels, so they "
                     "depend on every one of them too. Add the terms of those two paths",
                _in_dx_without(False, False)),
        Mistake("x", "your dL/dx has the path through var but not the one through mu (a term, "
                     "the same for all pixels of one sample's channel, from the mean of g over "
                     "them)", _in_dx_without(False, True)),
        Mistake("x", "your dL/dx has the path through mu but not the one through var "
                     "(a term proportional to xhat)", _in_dx_without(True, False)),
        Mistake("x", "your dL/dx is batch norm's (exercise 12), with statistics over the batch "
                     "too; instance norm's mu and var are each sample's own, means over axes "
                     "(2, 3) only",
                lambda g, x, w, b, out, eps=1e-5: _bn_dx_without(g, x, w, eps, True, True)),
        Mistake("weight", "dL/dweight sums g * xhat over every sample and pixel, not g alone",
                lambda g, x, w, b, out, eps=1e-5: g.sum(axis=(0, 2, 3))),
    ),
    second_order=True)


# ------------------------------------------------------------ the table
CHECKS = {
    "sigmoid": SIGMOID.run,
    "tanh": TANH.run,
    "leaky_relu": LEAKY_RELU.run,
    "broadcast_add": BROADCAST_ADD.run,
    "matmul": MATMUL.run,
    "linear": LINEAR.run,
    "bce_with_logits": BCE_WITH_LOGITS.run,
    "adam": check_adam,
    "mean": MEAN.run,
    "var": VAR.run,
    "non_saturating_g_loss": NON_SATURATING.run,
    "batch_norm": BATCH_NORM.run,
    "conv2d": CONV2D.run,
    "conv_transpose2d": CONV_TRANSPOSE2D.run,
    "gradient_penalty": check_gradient_penalty,
    "upsample_nearest": UPSAMPLE_NEAREST.run,
    "avg_pool2d": AVG_POOL2D.run,
    "instance_norm": INSTANCE_NORM.run,
}

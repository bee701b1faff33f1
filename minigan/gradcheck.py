"""Numerical gradient checks: is a backward formula right?

Autodiff gives the *analytic* gradient, computed by the backward functions in
``minigan/ops``. A finite difference gives the *numerical* one, computed from
the forward alone. If the two agree, the backward is right. The central
difference

    df/dx_j  ~  (f(x + eps e_j) - f(x - eps e_j)) / (2 eps)

has an error of order eps^2 (the first-order error terms cancel), so in
float64 with eps = 1e-6 it agrees with the true derivative to about 1e-9.
In float32 the rounding error (about 1e-7 / eps) swamps it: that is why the
check always runs in float64 and upcasts (with a warning) float32 inputs.

Which comparison is made depends on the size of each input:

* small inputs (at most ``FULL_JACOBIAN_MAX_ELEMENTS`` elements) get the
  full Jacobian: every element is nudged in turn (2 evaluations each);
* larger inputs get ``n_directions`` random directional derivatives: the
  input is nudged along a random vector v and (f(x + eps v) - f(x - eps v)) / (2 eps)
  is compared with the analytic (grad f) . v. A failure is then located
  element by element.

A non-scalar output is handled the same way from the other side: with at most
``FULL_JACOBIAN_MAX_ROWS`` elements every Jacobian row is compared (one
backward pass each), otherwise its elements are summed with random weights u
(the backward pass then computes u^T J, a vector-Jacobian product: the
gradient that arrives as g is u).

A pair (analytic a, numerical n) passes when |a - n| <= atol + rtol |n|.

``gradgradcheck`` checks second derivatives: it runs ``gradcheck`` on the
function x -> grad(u . f(x), x) computed with ``create_graph=True``, that is,
it differentiates the backward pass itself (what WGAN-GP and R1 rely on).
"""
import warnings
from dataclasses import dataclass

import numpy

from . import backend
from .tensor import Tensor, grad, no_grad, enable_grad

#: Inputs up to this many elements get the full Jacobian (2 forward calls per element).
FULL_JACOBIAN_MAX_ELEMENTS = 256
#: Outputs up to this many elements get one backward pass per Jacobian row.
FULL_JACOBIAN_MAX_ROWS = 32
#: Random output projections used for larger outputs.
N_OUTPUT_PROJECTIONS = 3
#: At most this many elements are nudged one by one to locate a directional failure.
LOCATE_MAX_ELEMENTS = 2048


class GradcheckError(AssertionError):
    """The analytic gradient disagrees with the numerical one."""


@dataclass(frozen=True)
class GradcheckFailure:
    """The worst comparison of a failed check, as data, for callers that word the
    report themselves (the exercise grader writes it for students).

    input: the position of the input among fn's arguments; element: the index
    of the input's element at fault, or None when only a random direction
    (``direction``, counted from 0) fails and no single element does alone;
    output: (which output, its element index) when one Jacobian row was
    compared, or None when the outputs were summed with random weights
    (``weights``, the number of that random weighting, counted from 0).
    """
    input: int
    input_shape: tuple
    element: object
    direction: object
    output: object
    weights: object
    analytic: float
    numerical: float
    eps: float
    atol: float
    rtol: float

    @property
    def tolerance(self):
        return self.atol + self.rtol * abs(self.numerical)


class GradcheckResult:
    """What a check found: ``passed``, ``max_abs_error`` over all compared
    values, ``message`` (the failure report, or '' when it passed) and
    ``failure`` (the same report as a ``GradcheckFailure``, or None)."""

    def __init__(self, passed, max_abs_error, message, n_compared, failure=None):
        self.passed = passed
        self.max_abs_error = max_abs_error
        self.message = message
        self.n_compared = n_compared
        self.failure = failure

    def __bool__(self):
        return self.passed

    def __repr__(self):
        return (f"GradcheckResult(passed={self.passed}, max_abs_error={self.max_abs_error:.3g}, "
                f"n_compared={self.n_compared})")


# ----------------------------------------------------------------- helpers
def _prepare_inputs(inputs, who, stacklevel):
    """Float64 leaf copies of the inputs that require grad (others pass as they are)."""
    if isinstance(inputs, Tensor) or not isinstance(inputs, (tuple, list)):
        inputs = (inputs,)
    prepared, checked = [], []
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad:
            if x.dtype != numpy.float64:
                warnings.warn(f"{who}: input {i} is {x.dtype.name}; checking in float64 instead "
                              f"(central differences in {x.dtype.name} are too coarse to "
                              f"compare with)", stacklevel=stacklevel)
            xp = backend.array_module(x.data)
            x = Tensor(xp.array(x.data, dtype=numpy.float64, copy=True), requires_grad=True)
            checked.append(i)
        prepared.append(x)
    if not checked:
        raise ValueError(f"{who}: no input has requires_grad=True, so there is nothing to "
                         f"check; make the inputs with minigan.tensor(..., dtype='float64', "
                         f"requires_grad=True)")
    return prepared, checked


def _outputs(fn, xs):
    """Call fn and return its outputs as a list of tensors."""
    out = fn(*xs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: the function must return a Tensor (or a tuple of "
                            f"Tensors), got {type(o).__name__}")
    return outs


def _flat_values(fn, xs):
    """The outputs, evaluated without a graph, as one flat float64 array."""
    with no_grad():
        outs = _outputs(fn, xs)
    xp = backend.array_module(outs[0].data)
    return xp.concatenate([xp.asarray(o.data, dtype=numpy.float64).reshape(-1) for o in outs])


def _vjp(outs, xs, checked, u):
    """u^T J for every checked input: one backward pass with grad_outputs = u."""
    pieces, start = [], 0
    for o in outs:
        pieces.append(Tensor(u[start:start + o.size].reshape(o.shape).astype(o.dtype)))
        start += o.size
    live = [(o, p) for o, p in zip(outs, pieces) if o.requires_grad]
    xp = backend.array_module(u)
    if not live:
        return [xp.zeros(xs[i].size) for i in checked]
    gs = grad([o for o, _ in live], [xs[i] for i in checked], [p for _, p in live],
              allow_unused=True)
    return [xp.zeros(xs[i].size) if g is None else g.data.astype(numpy.float64).reshape(-1)
            for i, g in zip(checked, gs)]


def _nudge_element(fn, xs, x, j, eps):
    """(f(x + eps e_j) - f(x - eps e_j)) / (2 eps): the derivative along element j.

    The input's data is changed in place and restored exactly afterwards (the
    analytic pass is already done, so nothing else reads it meanwhile).
    """
    flat = x.data.reshape(-1)          # a view: the float64 copies made above are contiguous
    old = flat[j].copy()
    flat[j] = old + eps
    plus = _flat_values(fn, xs)
    flat[j] = old - eps
    minus = _flat_values(fn, xs)
    flat[j] = old
    return (plus - minus) / (2 * eps)


def _nudge_direction(fn, xs, x, d, eps):
    """(f(x + eps d) - f(x - eps d)) / (2 eps): the derivative along the direction d."""
    flat = x.data.reshape(-1)
    saved = flat.copy()
    flat += eps * d
    plus = _flat_values(fn, xs)
    flat[...] = saved - eps * d
    minus = _flat_values(fn, xs)
    flat[...] = saved
    return (plus - minus) / (2 * eps)


def _index_in(shape, flat_index):
    return tuple(int(i) for i in numpy.unravel_index(int(flat_index), shape)) if shape else ()


# ------------------------------------------------------------------ checker
def check_gradients(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, n_directions=4, seed=0,
                    _who="gradcheck", _output_names=None, _stacklevel=2):
    """Compare analytic and numerical gradients of ``fn`` at ``inputs``.

    Returns a ``GradcheckResult`` (it never raises on a mismatch); ``gradcheck``
    is the asserting version. Arguments as in ``gradcheck``.
    """
    xs, checked = _prepare_inputs(inputs, _who, _stacklevel + 1)
    with enable_grad():
        outs = _outputs(fn, xs)
    xp = backend.array_module(outs[0].data)
    m = sum(o.size for o in outs)
    if m == 0:
        return GradcheckResult(True, 0.0, "", 0)
    rng = numpy.random.default_rng(seed)

    # The rows of P select what is compared on the output side: all of J's rows
    # (P = identity) for small outputs, random projections u^T J otherwise.
    full_rows = m <= FULL_JACOBIAN_MAX_ROWS
    P = numpy.eye(m) if full_rows else rng.standard_normal((N_OUTPUT_PROJECTIONS, m))
    P = xp.asarray(P)
    # analytic[k][r] = (P[r]^T J) restricted to checked input k, flattened
    rows = [_vjp(outs, xs, checked, P[r]) for r in range(P.shape[0])]
    analytic = [xp.stack([row[k] for row in rows]) for k in range(len(checked))]

    worst = None           # (ratio, message, GradcheckFailure) of the worst comparison seen
    max_err, n_compared = 0.0, 0
    for k, i in enumerate(checked):
        x = xs[i]
        a, n, by_direction = _compare(fn, xs, x, P, analytic[k], eps, n_directions, rng)
        if a.size == 0:
            continue
        err = numpy.abs(a - n)
        n_compared += err.size
        max_err = max(max_err, float(numpy.where(numpy.isnan(err), numpy.inf, err).max()))
        ratio = numpy.where(numpy.isfinite(err), err / (atol + rtol * numpy.abs(n)),
                            numpy.inf)                     # NaN and inf always fail
        r, c = numpy.unravel_index(int(ratio.argmax()), ratio.shape)
        if ratio[r, c] <= 1 or (worst is not None and ratio[r, c] <= worst[0]):
            continue
        a_rc, n_rc, element, direction = a[r, c], n[r, c], None, None
        if by_direction:               # nudge single elements to find the culprit
            a_el, n_el, j = _locate(fn, xs, x, P[r], analytic[k][r], eps, atol, rtol)
            if j is None:
                direction = int(c)
                where = f"random direction {c} (no single element is at fault alone)"
            else:
                a_rc, n_rc, element = a_el, n_el, _index_in(x.shape, j)
                where = f"element {element}"
        else:
            element = _index_in(x.shape, c)
            where = f"element {element}"
        of = (_out_index(outs, r, _output_names) if full_rows
              else f"the output's elements summed with random weights (weighting {r})")
        msg = (f"{_who} failed for input {i} (shape {tuple(x.shape)}) at {where}, "
               f"derivative of {of}:\n"
               f"    analytic  {a_rc: .10g}\n    numerical {n_rc: .10g}\n"
               f"    |difference| {abs(a_rc - n_rc):.3g} > tolerance "
               f"{atol + rtol * abs(n_rc):.3g} (atol {atol:g} + rtol {rtol:g} * |numerical|)")
        failure = GradcheckFailure(
            input=i, input_shape=tuple(x.shape), element=element, direction=direction,
            output=_out_position(outs, r) if full_rows else None,
            weights=None if full_rows else int(r), analytic=float(a_rc), numerical=float(n_rc),
            eps=eps, atol=atol, rtol=rtol)
        worst = (float(ratio[r, c]), msg, failure)
    if worst is None:
        return GradcheckResult(True, max_err, "", n_compared)
    return GradcheckResult(False, max_err, worst[1], n_compared, worst[2])


def _compare(fn, xs, x, P, analytic, eps, n_directions, rng):
    """The analytic and numerical values to compare for one input, as host arrays
    of shape (rows of P, compared things), and whether the things are directions.

    Small input: every element (the full Jacobian, restricted to P's rows).
    Large input: n_directions random directions d, comparing (P J) d both ways.
    """
    xp = backend.array_module(x.data)
    if x.size <= FULL_JACOBIAN_MAX_ELEMENTS:
        cols = [P @ _nudge_element(fn, xs, x, j, eps) for j in range(x.size)]
        num = xp.stack(cols, axis=1) if cols else xp.zeros_like(analytic)
        return backend.to_numpy(analytic), backend.to_numpy(num), False
    dirs = rng.standard_normal((n_directions, x.size))
    cols = [P @ _nudge_direction(fn, xs, x, xp.asarray(d), eps) for d in dirs]
    return backend.to_numpy(analytic) @ dirs.T, backend.to_numpy(xp.stack(cols, axis=1)), True


def _out_position(outs, r):
    """(which output, its element index) of element r of the flattened outputs."""
    for k, o in enumerate(outs):
        if r < o.size:
            return k, _index_in(o.shape, r)
        r -= o.size
    return len(outs) - 1, ()


def _out_index(outs, r, names=None):
    """Name element r of the flattened outputs: which output, which index."""
    if names is None:
        names = ["the output"] if len(outs) == 1 else [f"output {k}" for k in range(len(outs))]
    for name, o in zip(names, outs):
        if r < o.size:
            return f"{name}, element {_index_in(o.shape, r)}" if o.ndim else name
        r -= o.size
    return str(r)


def _locate(fn, xs, x, p_row, a_row, eps, atol, rtol):
    """After a failed directional check, nudge elements one at a time to find the
    worst one (all of them, or a random sample of LOCATE_MAX_ELEMENTS)."""
    size = x.size
    candidates = range(size) if size <= LOCATE_MAX_ELEMENTS else \
        numpy.random.default_rng(1).choice(size, LOCATE_MAX_ELEMENTS, replace=False)
    a_row = backend.to_numpy(a_row)
    best = (0.0, None, None, None)
    for j in candidates:
        n_j = float(backend.to_numpy(p_row @ _nudge_element(fn, xs, x, int(j), eps)))
        a_j = float(a_row[j])
        err = abs(a_j - n_j)
        ratio = err / (atol + rtol * abs(n_j)) if numpy.isfinite(err) else numpy.inf
        if ratio > best[0]:
            best = (ratio, a_j, n_j, int(j))
    if best[0] <= 1:
        return None, None, None
    return best[1], best[2], best[3]


# ------------------------------------------------------------------ public
def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, n_directions=4, seed=0,
              raise_exception=True):
    """Check the gradients of ``fn`` at ``inputs`` against central differences.

        numerical df/dx_j = (f(x + eps e_j) - f(x - eps e_j)) / (2 eps)

    ``fn`` takes the inputs (Tensors, or anything else passed through as is)
    and returns a Tensor of any shape (or a tuple of Tensors). Only the inputs
    with ``requires_grad=True`` are checked, on float64 copies (float32 inputs
    are upcast with a warning). Inputs with at most
    ``FULL_JACOBIAN_MAX_ELEMENTS`` elements are checked element by element,
    larger ones along ``n_directions`` random directions (see the module text).

    Returns True when every analytic value a and numerical value n satisfy
    |a - n| <= atol + rtol |n|. Otherwise raises ``GradcheckError`` naming the
    input, the worst element, both values there and the tolerance (or returns
    False when ``raise_exception=False``).
    """
    res = check_gradients(fn, inputs, eps, atol, rtol, n_directions, seed, "gradcheck",
                          _stacklevel=3)
    if not res.passed and raise_exception:
        raise GradcheckError(res.message)
    return res.passed


def second_order_function(fn, inputs, seed=0, _stacklevel=1):
    """The function x -> grad(u . fn(x), x) that gradgradcheck checks, for a fixed random u.

    Returns ``(g, inputs)``: ``g`` takes the same inputs and returns the tuple
    of first-order gradients, computed with ``create_graph=True`` so that they
    can be differentiated again.
    """
    xs, checked = _prepare_inputs(inputs, "gradgradcheck", _stacklevel + 2)
    with enable_grad():
        outs = _outputs(fn, xs)
    rng = numpy.random.default_rng(seed + 1)
    us = []
    for o in outs:
        xp = backend.array_module(o.data)
        us.append(Tensor(xp.asarray(rng.standard_normal(o.shape)).astype(o.dtype)))

    def first_gradients(*args):
        with enable_grad():
            o = _outputs(fn, args)
            live = [(t, u) for t, u in zip(o, us) if t.requires_grad]
            want = [args[i] for i in checked]
            if not live:
                return tuple(_zeros_like(w) for w in want)
            gs = grad([t for t, _ in live], want, [u for _, u in live], create_graph=True,
                      allow_unused=True)
        return tuple(_zeros_like(w) if g is None else g for g, w in zip(gs, want))
    return first_gradients, xs


def _zeros_like(t):
    return Tensor(backend.array_module(t.data).zeros_like(t.data))


def check_second_gradients(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, n_directions=4,
                           seed=0, _stacklevel=1):
    """``check_gradients`` for second derivatives (see ``gradgradcheck``)."""
    g, xs = second_order_function(fn, inputs, seed, _stacklevel + 1)
    names = [f"the first-order gradient for input {i}" for i, x in enumerate(xs)
             if isinstance(x, Tensor) and x.requires_grad]
    return check_gradients(g, xs, eps, atol, rtol, n_directions, seed, "gradgradcheck",
                           _output_names=names)


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, n_directions=4, seed=0,
                  raise_exception=True):
    """Check second derivatives of ``fn``: gradcheck of x -> grad(u . fn(x), x).

    For a fixed random u the first-order gradient h(x) = J(x)^T u is computed by
    ``minigan.grad(fn(x), x, grad_outputs=u, create_graph=True)``; its own
    gradient (the Hessian-vector products of u . f) is then compared with central
    differences of h, exactly as ``gradcheck`` does:

        numerical dh/dx_j = (h(x + eps e_j) - h(x - eps e_j)) / (2 eps)

    Returns True, or raises ``GradcheckError`` (False with ``raise_exception=False``).
    """
    res = check_second_gradients(fn, inputs, eps, atol, rtol, n_directions, seed,
                                 _stacklevel=2)
    if not res.passed and raise_exception:
        raise GradcheckError(res.message)
    return res.passed

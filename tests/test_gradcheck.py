"""gradcheck and gradgradcheck themselves: they pass right backwards, catch wrong
ones, and say where (input, element, analytic and numerical values, tolerance)."""
import re

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan.gradcheck import (GradcheckError, check_gradients, FULL_JACOBIAN_MAX_ELEMENTS,
                               FULL_JACOBIAN_MAX_ROWS)
from minigan.autograd import make_op
from minigan.tensor import wrap


def t64(shape, seed=0, requires_grad=True):
    v = np.random.default_rng(seed).standard_normal(shape)
    return minigan.tensor(v, requires_grad=requires_grad)


def square_wrong_at(flat_index, factor=3.0):
    """x^2 whose backward is wrong at one element (factor x instead of 2x there)."""
    def fn(x):
        def backward(g, out):
            k = np.full(x.shape, 2.0)
            k.reshape(-1)[flat_index] = factor
            return (g * wrap(k) * x,)
        return make_op(x.data ** 2, (x,), backward, "square")
    return fn


def square_constant_backward(x):
    """x^2 with a right first derivative that is not differentiable again:
    its backward wraps a raw array (2x) as a constant, so d2/dx2 comes out 0."""
    return make_op(x.data ** 2, (x,), lambda g, out: (g * wrap(2 * x.data),), "square")


def numbers(msg):
    return [float(v) for v in re.findall(r"(?:analytic|numerical)\s+(-?[\d.e+-]+)", msg)]


# ------------------------------------------------------------------ passing
def test_returns_true_for_right_gradients():
    x, w = t64((3, 4)), t64((2, 4), 1)
    assert minigan.gradcheck(lambda x, w: F.sigmoid(F.linear(x, w)), (x, w)) is True
    assert minigan.gradgradcheck(lambda x, w: F.sigmoid(F.linear(x, w)), [x, w]) is True


def test_single_tensor_and_passthrough_arguments():
    x = t64((4,))
    assert minigan.gradcheck(lambda x, p: F.leaky_relu(x, p), (x, 0.3))
    assert minigan.gradcheck(F.tanh, x)
    const = t64((4,), 2, requires_grad=False)                # not checked, used as is
    assert minigan.gradcheck(lambda x, c: x * c, (x, const))


def test_tuple_outputs():
    x = t64((3,))
    assert minigan.gradcheck(lambda x: (x.exp(), (x * x).sum()), x)


def test_inputs_are_left_untouched():
    x = t64((3, 2))
    before = x.numpy().copy()
    minigan.gradcheck(F.tanh, x)
    minigan.gradgradcheck(F.tanh, x)
    np.testing.assert_array_equal(x.numpy(), before)
    assert x.grad is None


def test_float32_inputs_are_upcast_with_a_warning():
    x = minigan.tensor([0.1, 0.2, -0.3], requires_grad=True)
    seen = []

    def fn(a):
        seen.append(a.dtype)
        return F.tanh(a)
    with pytest.warns(UserWarning, match="float32.*float64"):
        assert minigan.gradcheck(fn, x)
    assert set(seen) == {np.dtype(np.float64)}
    assert x.dtype == np.float32


def test_no_checked_input_is_a_clear_error():
    with pytest.raises(ValueError, match="requires_grad=True"):
        minigan.gradcheck(F.tanh, t64((3,), requires_grad=False))


def test_function_must_return_a_tensor():
    with pytest.raises(TypeError, match="must return a Tensor"):
        minigan.gradcheck(lambda x: x.numpy(), t64((3,)))


# ------------------------------------------------------------------ failing
def test_error_type():
    assert issubclass(GradcheckError, AssertionError)


def test_wrong_backward_names_input_element_values_and_tolerance():
    x, y = t64((3, 4)), t64((2,), 5)
    wrong = square_wrong_at(6)                     # flat 6 of (3, 4) is element (1, 2)
    with pytest.raises(GradcheckError) as err:
        minigan.gradcheck(lambda y, x: wrong(x).sum() + y.sum(), (y, x))
    msg = str(err.value)
    assert "input 1 (shape (3, 4))" in msg
    assert "element (1, 2)" in msg
    a, n = numbers(msg)
    xv = x.numpy()[1, 2]
    assert a == pytest.approx(3 * xv, rel=1e-6) and n == pytest.approx(2 * xv, rel=1e-6)
    assert "tolerance" in msg and "atol 1e-05" in msg and "rtol 0.001" in msg


def test_wrong_backward_in_a_large_input_is_found_by_directions_and_located():
    assert 40 * 30 > FULL_JACOBIAN_MAX_ELEMENTS             # the directional path
    x = t64((40, 30))
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(40, 30\)\) at element \(17, 3\)"):
        minigan.gradcheck(lambda x: square_wrong_at(17 * 30 + 3)(x).sum(), x)


def test_wrong_backward_with_a_large_output_is_found_by_projections():
    assert 50 > FULL_JACOBIAN_MAX_ROWS                      # random output projections
    x = t64((50,))
    with pytest.raises(GradcheckError, match=r"element \(7,\).*summed with random weights"):
        minigan.gradcheck(square_wrong_at(7), x)


def test_a_failure_is_also_given_as_data():
    # a small output: one Jacobian row, named by its output element
    x, y = t64((3, 4)), t64((2,), 5)
    res = check_gradients(lambda y, x: square_wrong_at(6)(x) + y.sum(), (y, x))
    f = res.failure
    assert not res.passed and (f.input, f.input_shape, f.element) == (1, (3, 4), (1, 2))
    assert (f.output, f.weights, f.direction) == ((0, (1, 2)), None, None)
    xv = x.numpy()[1, 2]
    assert f.analytic == pytest.approx(3 * xv, rel=1e-6)
    assert f.numerical == pytest.approx(2 * xv, rel=1e-6)
    assert f.tolerance == pytest.approx(1e-5 + 1e-3 * abs(f.numerical))
    # a large output: its elements summed with random weights, which are named instead
    res = check_gradients(square_wrong_at(7), t64((50,)))
    assert res.failure.output is None and res.failure.weights in range(3)
    assert res.failure.element == (7,)
    assert check_gradients(F.tanh, t64((3,))).failure is None


def test_small_output_reports_the_jacobian_row():
    x = t64((2, 3))
    with pytest.raises(GradcheckError, match=r"the output, element \(0, 1\)"):
        minigan.gradcheck(square_wrong_at(1), x)


def test_raise_exception_false_returns_false():
    assert minigan.gradcheck(square_wrong_at(0), t64((3,)), raise_exception=False) is False
    res = check_gradients(square_wrong_at(0), t64((3,)))
    assert not res.passed and res.max_abs_error > 0.1 and "element (0,)" in res.message


def test_tolerances_are_used():
    # a derivative off by 0.5% passes with rtol=1e-2 and fails with rtol=1e-3
    x = t64((3,))
    slightly = square_wrong_at(1, factor=2.01)
    assert minigan.gradcheck(slightly, x, rtol=1e-2)
    with pytest.raises(GradcheckError):
        minigan.gradcheck(slightly, x, rtol=1e-3)


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    x = t64((3, 4))
    assert minigan.gradcheck(square_constant_backward, x)             # first order is right
    with pytest.raises(GradcheckError) as err:
        minigan.gradgradcheck(square_constant_backward, x)
    msg = str(err.value)
    assert msg.startswith("gradgradcheck failed for input 0")
    a, n = numbers(msg)
    assert a == 0.0 and abs(n) > 0.1                  # d2/dx2 should be 2 u, found 0


def test_gradgradcheck_on_large_inputs():
    x = t64((30, 20))
    assert minigan.gradgradcheck(lambda x: (x ** 3).sum(axis=0), x)
    with pytest.raises(GradcheckError):
        minigan.gradgradcheck(square_constant_backward, x)


def test_central_difference_accuracy_in_float64():
    """The numerical derivative of exp at 1 is within ~1e-9 of e (error O(eps^2) + rounding)."""
    x = minigan.tensor(np.array([1.0]), requires_grad=True)
    res = check_gradients(F.exp, x)
    assert res.passed and res.max_abs_error < 1e-8


def test_nan_gradient_fails():
    def nan_backward(x):
        return make_op(x.data * 2, (x,), lambda g, out: (g * float("nan"),), "nan_double")
    with pytest.raises(GradcheckError, match="analytic +nan"):
        minigan.gradcheck(nan_backward, t64((3,)))
    with pytest.raises(GradcheckError, match="analytic +nan"):
        minigan.gradcheck(lambda x: nan_backward(x).sum(), t64((20, 20)))

"""Is every backward formula in minigan right? Check them all, numerically.

    python examples/gradcheck_demo.py

For each op, the analytic gradient (what backward computes) is compared with
the central difference (f(x + eps) - f(x - eps)) / (2 eps) in float64, and then
the same is done for second derivatives (the gradient of the gradient, which
WGAN-GP and R1 penalties need). The table lists the largest absolute
difference found by each check ("|err|") and whether it is within tolerance.
Then a deliberately wrong backward shows what a failure looks like. Runs in a
few seconds.
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # a checkout
import minigan  # noqa: E402
import minigan.functional as F  # noqa: E402
from minigan.gradcheck import GradcheckError, check_gradients, check_second_gradients  # noqa: E402
from minigan.autograd import make_op  # noqa: E402

COLOR = sys.stdout.isatty()


def paint(text, code):
    return f"\033[{code}m{text}\033[0m" if COLOR else text


def verdict(ok):
    return paint("pass", "32") if ok else paint("FAIL", "1;31")


# --------------------------------------------------------------- the inputs
rng = np.random.default_rng(0)


def normal(*shape):
    return rng.standard_normal(shape)


def positive(*shape):                 # for log, sqrt, the base of a power
    return rng.uniform(0.5, 2.0, shape)


def away_from_zero(*shape):           # for divisors, abs, relu: no kink within eps
    return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def seeded_dropout(x):
    minigan.manual_seed(1)            # the same mask at every evaluation
    return F.dropout(x, 0.5, training=True)


MASK = rng.random((3, 4)) > 0.5

# (name, function, input arrays); every op the engine has, and the layers once they exist
CASES = [
    ("add (broadcast)", lambda a, b: a + b, [normal(3, 4), normal(4)]),
    ("sub (0-d scalar)", lambda a, b: a - b, [normal(3, 4), normal()]),
    ("mul (both broadcast)", lambda a, b: a * b, [normal(3, 1), normal(1, 4)]),
    ("div", lambda a, b: a / b, [normal(3, 4), away_from_zero(3, 4)]),
    ("neg", lambda a: -a, [normal(3, 4)]),
    ("pow (scalar exponent)", lambda a: a ** 3, [normal(3, 4)]),
    ("pow (tensor exponent)", lambda a, b: a ** b, [positive(3, 4), normal(3, 4)]),
    ("exp", F.exp, [normal(3, 4)]),
    ("log", F.log, [positive(3, 4)]),
    ("sqrt", F.sqrt, [positive(3, 4)]),
    ("abs", F.abs, [away_from_zero(3, 4)]),
    ("maximum", F.maximum, [normal(3, 4), normal(4)]),
    ("minimum", F.minimum, [normal(3, 4), normal(3, 1)]),
    ("clip", lambda a: F.clip(a, -0.5, 0.5), [normal(3, 4)]),
    ("where", lambda a, b: F.where(MASK, a, b), [normal(3, 4), normal(3, 4)]),
    ("relu", F.relu, [away_from_zero(3, 4)]),
    ("leaky_relu", lambda a: F.leaky_relu(a, 0.2), [away_from_zero(3, 4)]),
    ("tanh", F.tanh, [normal(3, 4)]),
    ("sigmoid", F.sigmoid, [normal(3, 4)]),
    ("softplus", F.softplus, [normal(3, 4)]),
    ("log_sigmoid", F.log_sigmoid, [normal(3, 4)]),
    ("dropout", seeded_dropout, [normal(3, 4)]),
    ("sum (axis 0)", lambda a: a.sum(axis=0), [normal(2, 3, 4)]),
    ("mean (axes 0,2, keepdims)", lambda a: a.mean(axis=(0, 2), keepdims=True), [normal(2, 3, 4)]),
    ("var (axis -1)", lambda a: a.var(axis=-1), [normal(2, 3, 4)]),
    ("max (all)", lambda a: a.max(), [normal(2, 3, 4)]),
    ("reshape", lambda a: a.reshape(4, 6), [normal(2, 3, 4)]),
    ("transpose", lambda a: a.transpose(0, 2), [normal(2, 3, 4)]),
    ("permute", lambda a: a.permute(2, 0, 1), [normal(2, 3, 4)]),
    ("broadcast_to", lambda a: a.broadcast_to(2, 3, 4), [normal(3, 1)]),
    ("concat", lambda a, b: F.concat([a, b], axis=1), [normal(2, 3), normal(2, 2)]),
    ("stack", lambda a, b: F.stack([a, b]), [normal(2, 3), normal(2, 3)]),
    ("pad", lambda a: F.pad(a, (1, 1, 2, 0)), [normal(2, 3, 4)]),
    ("index: slices", lambda a: a[1:, ::2], [normal(3, 4)]),
    ("index: repeated rows", lambda a: a[[0, 2, 0]], [normal(3, 4)]),
    ("index: boolean mask", lambda a: a[MASK], [normal(3, 4)]),
    ("matmul (batched)", lambda a, b: a @ b, [normal(2, 3, 4), normal(2, 4, 5)]),
    ("linear", F.linear, [normal(5, 4), normal(3, 4), normal(3)]),
    ("bce_with_logits", F.binary_cross_entropy_with_logits,
     [normal(4, 3), rng.uniform(0, 1, (4, 3))]),
    ("mse_loss", F.mse_loss, [normal(4, 3), normal(4, 3)]),
]
if hasattr(F, "conv2d"):
    CASES.append(("conv2d (stride 2, pad 1)",
                  lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
                  [normal(2, 3, 5, 5), normal(4, 3, 3, 3), normal(4)]))
if hasattr(F, "conv_transpose2d"):
    CASES.append(("conv_transpose2d (stride 2)",
                  lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                     output_padding=1),
                  [normal(2, 4, 3, 3), normal(4, 3, 3, 3), normal(3)]))
if hasattr(F, "batch_norm"):
    CASES.append(("batch_norm (training)",
                  lambda x, w, b: F.batch_norm(x, minigan.tensor(np.zeros(3)),
                                               minigan.tensor(np.ones(3)), w, b, training=True),
                  [normal(4, 3, 2, 2), positive(3), normal(3)]))
if hasattr(F, "instance_norm"):          # the applications' layers (pix2pix, CycleGAN)
    CASES.append(("instance_norm (affine)",
                  lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
                  [normal(2, 3, 2, 3), positive(3), normal(3)]))
    CASES.append(("interpolate (nearest, x2)",
                  lambda x: F.interpolate(x, scale_factor=2), [normal(2, 2, 2, 3)]))
    CASES.append(("avg_pool2d (3, s 2, pad 1)",
                  lambda x: F.avg_pool2d(x, 3, stride=2, padding=1), [normal(2, 2, 5, 4)]))


def shapes(arrays):
    return " ".join(str(a.shape).replace(" ", "") for a in arrays)


def run_table():
    head = f"{'op':<27} {'input shapes':<24} {'grad |err|':>10}       {'2nd |err|':>9}"
    print(paint(head, "1"))
    print("-" * len(head))
    failures = 0
    for name, fn, arrays in CASES:
        def inputs():
            return [minigan.tensor(a, requires_grad=True) for a in arrays]
        try:
            first = check_gradients(fn, inputs())
            second = check_second_gradients(fn, inputs())
            cells = (f"{first.max_abs_error:>10.1e} {verdict(first.passed)}  "
                     f"{second.max_abs_error:>9.1e} {verdict(second.passed)}")
            failures += (not first.passed) + (not second.passed)
        except Exception as e:               # an op that crashes is reported, not hidden
            cells = paint(f"error: {type(e).__name__}: {e}"[:60], "1;31")
            failures += 1
        print(f"{name:<27} {shapes(arrays):<24} {cells}")
    return failures


# ------------------------------------------------------- a wrong backward
def square_with_a_bug(x):
    """x^2, but the backward forgot the 2: it returns g * x instead of g * 2x."""
    return make_op(x.data ** 2, (x,), lambda g, out: (g * x,), "square")


def show_a_failure():
    print(paint("\nWhat a wrong backward looks like", "1"))
    print("    def square_with_a_bug(x):   # d/dx x^2 is 2x, the backward says x")
    print("        return make_op(x.data ** 2, (x,), lambda g, out: (g * x,), 'square')\n")
    x = minigan.tensor(np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]]), requires_grad=True)
    try:
        minigan.gradcheck(lambda x: square_with_a_bug(x).sum(), x)
    except GradcheckError as err:
        print(f"{paint(type(err).__name__, '1;31')}: {err}")


def main():
    start = time.perf_counter()
    print(paint("Gradient check of every minigan op (float64, eps = 1e-6, "
                "atol = 1e-5, rtol = 1e-3)\n", "1"))
    failures = run_table()
    show_a_failure()
    total = len(CASES)
    summary = (f"\n{total} ops, {2 * total} checks, {failures} failed "
               f"({time.perf_counter() - start:.1f} s)")
    print(paint(summary, "1;32" if failures == 0 else "1;31"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

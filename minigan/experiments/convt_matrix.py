"""The transposed convolution is multiplication by C^T: the experiment ``convt-matrix``.

The lecture writes a convolution of a 4 x 4 image with a 3 x 3 kernel (stride 1,
no padding) as a 4 x 16 matrix C times the image flattened to 16 numbers; the
2 x 2 result goes back up to 4 x 4 through C^T, which is what a transposed
convolution computes. Here C is built explicitly from the kernel
(``minigan.ops.conv.conv_matrix``) and checked against minigan's ``conv2d``
and ``conv_transpose2d`` on three geometries:

* the lecture's: kernel 3, stride 1, no padding (4 x 4 -> 2 x 2);
* stride 2 with padding 1, kernel 3 (4 x 4 -> 2 x 2); going back needs
  ``output_padding=1``, since a stride-2 convolution maps both 3 x 3 and 4 x 4
  to 2 x 2 and C^T's shape says which one was meant;
* DCGAN's up-sampling layer: kernel 4, stride 2, padding 1 (4 x 4 -> 2 x 2).

Each check is made twice: with integer-valued numbers, where every sum is exact
in float64 and the two sides must agree bit for bit, and with random floats,
where they may differ in the last bit (the sums run in another order). The
gradient of conv2d with respect to its input, applied to a vector g, is C^T g
as well: the third column of the table.
"""
import numpy

from . import experiment
from .claims import claim, titled
from .. import functional as F
from ..ops.conv import conv_matrix
from ..tensor import Tensor, grad

# name -> (kernel size, stride, padding, output_padding of the way back)
CASES = {
    "stride 1, no padding (the lecture's)": (3, 1, 0, 0),
    "stride 2, padding 1 (back with output_padding 1)": (3, 2, 1, 1),
    "kernel 4, stride 2, padding 1 (DCGAN's)": (4, 2, 1, 0),
}
SIZE = 4          # the input is SIZE x SIZE


def check_case(kernel, stride, padding, output_padding, x, k, y):
    """The three comparisons for one geometry, float64 arrays x (H, W), k (kh, kw), y
    (OH, OW). Returns (C, a dict of the largest absolute differences)."""
    C = conv_matrix(k.reshape(1, 1, kernel, kernel), x.shape, stride, padding)
    xt = Tensor(x.reshape(1, 1, *x.shape), requires_grad=True)
    kt = Tensor(k.reshape(1, 1, kernel, kernel))
    conv = F.conv2d(xt, kt, stride=stride, padding=padding)
    up = F.conv_transpose2d(Tensor(y.reshape(1, 1, *y.shape)), kt, stride=stride,
                            padding=padding, output_padding=output_padding)
    # d<y, conv2d(x)>/dx = C^T y: the input gradient of the convolution
    (gx,) = grad([conv], [xt], [Tensor(y.reshape(conv.shape))])
    return C, {
        "conv2d_vs_C_x": float(numpy.abs(C @ x.ravel() - conv.numpy().ravel()).max()),
        "conv_transpose2d_vs_CT_y": float(numpy.abs(C.T @ y.ravel() - up.numpy().ravel()).max()),
        "conv2d_input_gradient_vs_CT_y": float(numpy.abs(C.T @ y.ravel()
                                                         - gx.numpy().ravel()).max()),
        "shape_C": list(C.shape), "shape_out": list(conv.shape[2:]),
        "shape_up": list(up.shape[2:])}


def run_all(seed=0):
    """Every case with integer values (must match exactly) and random floats."""
    rng = numpy.random.default_rng(seed)
    results, matrices = {}, {}
    for name, (kernel, stride, padding, output_padding) in CASES.items():
        small = (SIZE + 2 * padding - kernel) // stride + 1
        ints = [rng.integers(-9, 10, size=s).astype(numpy.float64)
                for s in ((SIZE, SIZE), (kernel, kernel), (small, small))]
        floats = [rng.standard_normal(a.shape) for a in ints]
        C, exact = check_case(kernel, stride, padding, output_padding, *ints)
        _, approx = check_case(kernel, stride, padding, output_padding, *floats)
        results[name] = {"kernel": kernel, "stride": stride, "padding": padding,
                         "output_padding": output_padding,
                         "integers_max_abs_difference": {k: v for k, v in exact.items()
                                                         if not k.startswith("shape")},
                         "floats_max_abs_difference": {k: v for k, v in approx.items()
                                                       if not k.startswith("shape")},
                         **{k: v for k, v in exact.items() if k.startswith("shape")}}
        # the figures label each entry by its kernel tap: a kernel holding 1..k*k
        taps = numpy.arange(1, kernel * kernel + 1, dtype=numpy.float64)
        matrices[name] = (conv_matrix(taps.reshape(1, 1, kernel, kernel), (SIZE, SIZE),
                                      stride, padding), kernel)
    return results, matrices


@experiment("convt-matrix", "the transposed convolution is multiplication by C^T: the 4x16 "
                            "convolution matrix, checked against conv2d and conv_transpose2d",
                            lecture=4)
def run_convt_matrix(cfg):
    from .figures import matrices as figs
    results, mats = run_all(cfg.seed)
    exact = all(v == 0.0 for r in results.values()
                for v in r["integers_max_abs_difference"].values())
    worst = max(v for r in results.values() for v in r["floats_max_abs_difference"].values())
    worst_int = max(v for r in results.values() for v in r["integers_max_abs_difference"].values())
    claims = [claim(
        "the transposed convolution is multiplication by C^T, the transpose of the "
        "convolution's matrix C (and so the convolution's input gradient)",
        "C x = conv2d(x), C^T y = conv_transpose2d(y) and C^T y = the input gradient, exactly "
        "with integer entries, in every case",
        f"largest difference with integers {worst_int:g}",
        exact)]
    note = (f"integer entries: C x = conv2d(x) and C^T y = conv_transpose2d(y) exactly; "
            f"random floats: largest difference {worst:.1e}")
    figs.conv_matrices([(n, m, k, False) for n, (m, k) in mats.items()],
                       cfg.out / "convt_matrix_C.png",
                       "The convolution as a matrix: conv2d(x) = C vec(x)", note)
    figs.conv_matrices([(n, m, k, True) for n, (m, k) in mats.items()],
                       cfg.out / "convt_matrix_CT.png",
                       titled("The transposed convolution: conv_transpose2d(y) = C^T vec(y)",
                              claims), note)
    for name, r in results.items():
        print(f"{name}: C is {r['shape_C'][0]}x{r['shape_C'][1]}; largest differences, "
              f"integers {max(r['integers_max_abs_difference'].values()):.1e}, floats "
              f"{max(r['floats_max_abs_difference'].values()):.1e}")
    return {"claims": claims, "cases": results, "all_exact_with_integers": exact,
            "largest_float_difference": worst}

"""The lecture's convolution matrix C: conv2d is C vec(x), conv_transpose2d is C^T vec(y),
exactly where the numbers are integers (every float64 sum is then exact)."""
import json

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan.ops.conv import conv_matrix
from minigan.experiments import convt_matrix as lab


@pytest.mark.parametrize("name", list(lab.CASES))
def test_integer_images_match_bit_for_bit(name):
    kernel, stride, padding, output_padding = lab.CASES[name]
    rng = np.random.default_rng(1)
    x = rng.integers(-9, 10, (4, 4)).astype(np.float64)
    k = rng.integers(-9, 10, (kernel, kernel)).astype(np.float64)
    y = rng.integers(-9, 10, (2, 2)).astype(np.float64)
    C, diff = lab.check_case(kernel, stride, padding, output_padding, x, k, y)
    assert C.shape == (4, 16) and diff["shape_up"] == [4, 4]
    assert diff["conv2d_vs_C_x"] == 0.0
    assert diff["conv_transpose2d_vs_CT_y"] == 0.0
    assert diff["conv2d_input_gradient_vs_CT_y"] == 0.0


def test_the_lectures_matrix_holds_the_kernel_on_shifted_rows():
    k = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    C = conv_matrix(k, (4, 4))
    # output pixel (0, 0) sees input rows 0..2, columns 0..2: flat 0,1,2, 4,5,6, 8,9,10
    np.testing.assert_array_equal(C[0], [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(C[3], np.roll(C[0], 5))      # one row and one column on


@pytest.mark.parametrize("stride, padding, size", [(1, 0, (5, 6)), (2, 1, (7, 6)),
                                                   (2, 2, (5, 5)), (3, 1, (8, 7))])
def test_many_channels_and_geometries_agree_with_both_ops(stride, padding, size):
    rng = np.random.default_rng(2)
    w = rng.standard_normal((3, 2, 3, 3))
    x = rng.standard_normal((1, 2) + size)
    C = conv_matrix(w, size, stride, padding)
    y = F.conv2d(minigan.tensor(x), minigan.tensor(w), stride=stride, padding=padding)
    np.testing.assert_allclose(C @ x.ravel(), y.numpy().ravel(), rtol=0, atol=1e-12)
    g = rng.standard_normal(y.shape)
    # the output_padding that gives back the input's size
    op = tuple((n + 2 * padding - 3) % stride for n in size)
    up = F.conv_transpose2d(minigan.tensor(g), minigan.tensor(w), stride=stride,
                            padding=padding, output_padding=op)
    assert up.shape[2:] == size
    np.testing.assert_allclose(C.T @ g.ravel(), up.numpy().ravel(), rtol=0, atol=1e-12)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="must be 4-D"):
        conv_matrix(np.ones((3, 3)), (4, 4))
    with pytest.raises(ValueError, match="does not fit"):
        conv_matrix(np.ones((1, 1, 5, 5)), (3, 3))


def test_the_experiment_writes_both_figures_and_exact_numbers(tmp_path):
    from minigan.__main__ import main
    assert main(["run", "convt-matrix", "--quick", "--no-progress", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "convt_matrix_C.png").stat().st_size > 10_000
    assert (tmp_path / "convt_matrix_CT.png").stat().st_size > 10_000
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert m["all_exact_with_integers"] is True
    assert m["largest_float_difference"] < 1e-14

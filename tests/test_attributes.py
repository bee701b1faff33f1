"""The moment measures of a digit (minigan.data.attributes): ink and slant, on images
whose answer is known by construction."""
import numpy as np
import pytest

from minigan.data import attributes


def bar(column_of_row, size=28):
    """A one-pixel-wide vertical stroke whose column in row y is column_of_row(y)."""
    img = np.full((size, size), -1.0)
    for y in range(4, size - 4):
        img[y, int(round(column_of_row(y)))] = 1.0
    return img


def test_an_upright_bar_has_no_slant_and_a_sheared_one_has_the_shear():
    upright = bar(lambda y: 14)
    leaning = bar(lambda y: 14 - 0.25 * (y - 13.5))       # x' = x - s (y - ybar)
    s = attributes.slant(np.stack([upright, leaning])[:, None])
    assert abs(s[0]) < 1e-9
    assert s[1] == pytest.approx(-0.25, abs=0.02)


def test_ink_counts_the_pixels_in_zero_one():
    img = np.full((1, 28, 28), -1.0)
    img[0, :3, :4] = 1.0
    img[0, 10, 10] = 0.0                                   # half a pixel of ink
    assert attributes.ink(img)[0] == pytest.approx(12.5)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="slant"):
        attributes.slant(np.zeros((2, 3, 28, 28)))
    with pytest.raises(ValueError, match="ink"):
        attributes.ink(np.zeros(28))

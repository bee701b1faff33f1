"""Image domains with a known answer (minigan.data.domains) and the judge of their
styles (minigan.eval.domains): each transform's formula and property, the pairings'
semantics, the printed digits' determinism and checksum, clear errors."""
import os
import shutil

import numpy as np
import pytest
from scipy import ndimage

from minigan.data import domains, mnist
from minigan.data.domains import STYLES, edges, style


def _bar(width=3, top=6, bottom=22, left=12):
    """One image with a vertical bar of ink, `width` pixels wide."""
    x = -np.ones((1, 1, 28, 28), np.float32)
    x[0, 0, top:bottom, left:left + width] = 1.0
    return x


def _ink(x):
    return ((x + 1) / 2).sum(axis=(1, 2, 3))


def _column_centroids(img):
    """Each row's ink-weighted column (NaN for a row without ink)."""
    u = (img + 1) / 2
    with np.errstate(invalid="ignore"):
        return (u * np.arange(28)).sum(axis=1) / u.sum(axis=1)


@pytest.fixture
def digits(mnist_dir):
    x, y = mnist("test")
    return x[:300], y[:300]


# ------------------------------------------------------------------ edges
def test_edges_is_the_morphological_gradient_of_a_square():
    x = -np.ones((1, 1, 28, 28), np.float32)
    x[0, 0, 8:18, 8:18] = 1.0
    e = edges(x)
    assert e.shape == x.shape and e.dtype == np.float32
    # +1 on the square's border, inside (rows 8 and 17) and outside (rows 7 and 18)
    assert (e[0, 0, 7, 8:18] == 1).all() and (e[0, 0, 8, 8:18] == 1).all()
    assert (e[0, 0, 17, 8:18] == 1).all() and (e[0, 0, 18, 8:18] == 1).all()
    assert (e[0, 0, 10:16, 10:16] == -1).all()          # flat inside: no edge
    assert (e[0, 0, :6] == -1).all() and e[0, 0, 7, 7] == -1   # background; the cross misses corners


def test_edges_of_digits_are_deterministic_in_range_with_background_minus_one(digits):
    x, _ = digits
    e = edges(x)
    assert e.shape == x.shape and e.dtype == np.float32
    assert e.min() >= -1 and e.max() <= 1
    np.testing.assert_array_equal(e, edges(x))
    for img, ed in zip(x[:50, 0], e[:50, 0]):
        # where x and its 3 x 3 neighbourhood are background, so is the edge map
        empty = ~ndimage.binary_dilation(img > -1, np.ones((3, 3), bool))
        assert (ed[empty] == -1).all()
    assert (_ink(e) > 0).all()


# ------------------------------------------------------------------ styles
def test_plain_is_the_identity_in_a_new_array(digits):
    x, _ = digits
    p = style(x, "plain")
    np.testing.assert_array_equal(p, x)
    assert p is not x and p.flags.writeable


@pytest.mark.parametrize("name", STYLES)
def test_every_style_keeps_shape_dtype_and_range(digits, name):
    x, _ = digits
    s = style(x, name)
    assert s.shape == x.shape and s.dtype == np.float32
    assert s.min() >= -1 and s.max() <= 1
    np.testing.assert_array_equal(s, style(x, name))
    assert (_ink(s) > 5).all()                 # no digit is erased


def test_thick_and_thin_move_each_side_of_a_stroke():
    bar = _bar(width=4)
    thick, thin = style(bar, "thick")[0, 0], style(bar, "thin")[0, 0]
    row = 14
    # thick: one more pixel of full ink on each side
    np.testing.assert_array_equal(thick[row, 10:18], [-1, 1, 1, 1, 1, 1, 1, -1])
    # thin: half a pixel less on each side (the border pixels half inked: 0 = grey 0.5)
    np.testing.assert_allclose(thin[row, 11:17], [-1, 0, 1, 1, 0, -1], atol=1e-6)
    assert _ink(style(bar, "thick")) > _ink(bar) > _ink(style(bar, "thin"))


def test_thick_has_more_ink_and_thin_less_on_every_digit(digits):
    x, _ = digits
    plain, thick, thin = _ink(x), _ink(style(x, "thick")), _ink(style(x, "thin"))
    assert (thick > plain).all() and (thin < plain).all()
    assert 1.4 < (thick / plain).mean() < 2.0 and 0.4 < (thin / plain).mean() < 0.7


def test_slanted_shifts_each_row_by_the_shear():
    bar = _bar(width=2, top=4, bottom=24, left=13)
    s = style(bar, "slanted")[0, 0]
    rows = np.arange(6, 22)
    shift = _column_centroids(s)[rows] - _column_centroids(bar[0, 0])[rows]
    # x' = x - 0.3 (y - 13.5): the top leans right
    np.testing.assert_allclose(shift, -domains.SHEAR * (rows - domains.CENTRE), atol=0.02)
    assert abs(_ink(style(bar, "slanted"))[0] - _ink(bar)[0]) < 0.5      # a shear keeps area


def test_slanted_digits_lean_by_the_shear(digits):
    x, _ = digits
    s = style(x, "slanted")
    slopes = []
    for a, b in zip(x[:100, 0], s[:100, 0]):
        d = _column_centroids(b) - _column_centroids(a)
        rows = np.flatnonzero(np.isfinite(d))          # the rows with ink
        slopes.append(np.polyfit(rows, d[rows], 1)[0])
    assert abs(np.median(slopes) + domains.SHEAR) < 0.05
    ratio = _ink(s) / _ink(x)
    assert 0.97 < ratio.mean() < 1.03


def test_the_four_styles_differ_on_every_digit(digits):
    x, _ = digits
    styled = [style(x, s) for s in STYLES]
    for i in range(len(STYLES)):
        for j in range(i + 1, len(STYLES)):
            diff = np.abs(styled[i] - styled[j]).reshape(len(x), -1).max(axis=1)
            assert (diff > 0.5).all(), (STYLES[i], STYLES[j])


def test_the_evaluator_still_reads_styled_digits(mnist_dir):
    from minigan.eval.evaluate import load_classifier, classify
    x, y = mnist("test")
    x, y = x[:1000], y[:1000]
    clf = load_classifier()
    for name in STYLES:
        p, _ = classify(clf, style(x, name))
        assert (p.argmax(axis=1) == y).mean() >= 0.95, name


def test_unknown_style_names_the_styles():
    with pytest.raises(ValueError, match="plain, thick, thin, slanted"):
        style(_bar(), "bold")
    with pytest.raises(ValueError, match="plain, thick, thin, slanted"):
        domains.styled(_bar(), [1], styles=("plain", "italic"))


@pytest.mark.parametrize("bad, match", [
    (np.zeros((2, 28, 28), np.float32), r"\(N, 1, 28, 28\).*\(2, 28, 28\)"),
    (np.zeros((2, 3, 28, 28), np.float32), r"\(N, 1, 28, 28\).*\(2, 3, 28, 28\)"),
    (np.zeros((2, 1, 28, 28), np.uint8), "uint8"),
    (np.full((2, 1, 28, 28), 255.0, np.float32), r"\[-1, 1\]"),
    (np.full((2, 1, 28, 28), np.nan, np.float32), "NaN"),
])
def test_wrong_images_get_clear_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        style(bad, "thick")
    with pytest.raises(ValueError, match=match):
        edges(bad)


def test_a_tensor_is_styled_like_its_array():
    import minigan
    x = _bar()
    np.testing.assert_array_equal(style(minigan.tensor(x), "thin"), style(x, "thin"))
    np.testing.assert_array_equal(edges(minigan.tensor(x)), edges(x))


def test_an_empty_batch_stays_empty():
    empty = np.zeros((0, 1, 28, 28), np.float32)
    for name in STYLES:
        assert style(empty, name).shape == (0, 1, 28, 28)
    assert edges(empty).shape == (0, 1, 28, 28)


# ------------------------------------------------------------------ pairings
def test_paired_edges_pairs_each_digit_with_its_edge_map(mnist_dir):
    e, x, y = domains.paired_edges("test")
    tx, ty = mnist("test")
    assert e.shape == x.shape == (10000, 1, 28, 28)
    np.testing.assert_array_equal(x, tx)
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(e[:100], edges(x[:100]))


def test_unpaired_train_halves_are_disjoint_and_carry_their_transform(mnist_dir):
    u = domains.unpaired("thick", "train", seed=0)
    x, y = mnist("train")
    assert len(u.a_index) == len(u.b_index) == 30000
    assert not np.intersect1d(u.a_index, u.b_index).size               # no image on both sides
    np.testing.assert_array_equal(np.sort(np.concatenate([u.a_index, u.b_index])),
                                  np.arange(60000))
    np.testing.assert_array_equal(u.a, x[u.a_index])                    # A: plain
    np.testing.assert_array_equal(u.a_labels, y[u.a_index])
    np.testing.assert_array_equal(u.b[:500], style(x[u.b_index[:500]], "thick"))   # B: thick
    np.testing.assert_array_equal(u.b_labels, y[u.b_index])
    assert u.transform == "thick" and u.a.dtype == u.b.dtype == np.float32
    again, other = domains.unpaired("thick", "train", seed=0), domains.unpaired("thick", seed=1)
    np.testing.assert_array_equal(again.a_index, u.a_index)
    assert not np.array_equal(other.a_index, u.a_index)


@pytest.mark.parametrize("transform", ["thin", "edges"])
def test_unpaired_test_split_keeps_the_true_translation(mnist_dir, transform):
    u = domains.unpaired(transform, "test")
    x, y = mnist("test")
    np.testing.assert_array_equal(u.a_index, np.arange(10000))
    np.testing.assert_array_equal(u.b_index, u.a_index)
    np.testing.assert_array_equal(u.a, x)
    np.testing.assert_array_equal(u.b_labels, y)
    a = u.a[:500]
    truth = edges(a) if transform == "edges" else style(a, transform)
    np.testing.assert_array_equal(u.b[:500], truth)                     # b = T(a)


def test_unpaired_refuses_an_unknown_transform():
    with pytest.raises(ValueError, match="plain, thick, thin, slanted, edges"):
        domains.unpaired("bold")


def test_styled_gives_each_image_one_style_and_keeps_the_originals(digits):
    x, y = digits
    xs, labels, d, plain = domains.styled(x, y, seed=3)
    np.testing.assert_array_equal(plain, x)
    np.testing.assert_array_equal(labels, y)
    assert d.dtype == labels.dtype == np.int64 and set(d) == {0, 1, 2, 3}
    for k, name in enumerate(STYLES):
        np.testing.assert_array_equal(xs[d == k], style(plain[d == k], name))
    again = domains.styled(x, y, seed=3)
    np.testing.assert_array_equal(again[2], d)
    assert not np.array_equal(domains.styled(x, y, seed=4)[2], d)
    two = domains.styled(x, y, styles=("thin", "slanted"))
    assert set(two[2]) == {0, 1}
    with pytest.raises(ValueError, match="300 labels"):
        domains.styled(x, y[:10])


# ------------------------------------------------------------------ printed digits
def test_printed_digits_are_seeded_in_range_and_balanced():
    x, y = domains.printed_digits(500, seed=0)
    assert x.shape == (500, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() >= -1 and x.max() <= 1 and (_ink(x) > 10).all()
    counts = np.bincount(y, minlength=10)
    assert counts.min() >= 30 and counts.max() <= 75          # about 50 of each digit
    x2, y2 = domains.printed_digits(500, seed=0)
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)
    x3, _ = domains.printed_digits(500, seed=1)
    assert not np.array_equal(x3, x)
    assert domains.printed_digits(0)[0].shape == (0, 1, 28, 28)


def test_without_jitter_printed_digits_are_the_glyphs_and_test_fonts_are_held_out():
    glyphs, labels, font, names = domains.printed_glyphs()
    assert glyphs.shape == (10 * len(names), 1, 28, 28)
    assert set(domains.TEST_FONTS) < set(names)
    test_rows = np.isin(np.asarray(names)[font], domains.TEST_FONTS)
    for fonts, rows in (("train", ~test_rows), ("test", test_rows)):
        x, y = domains.printed_digits(300, seed=2, jitter=False, fonts=fonts)
        # each image is one glyph of the allowed fonts, with its label
        match = (x[:, None] == glyphs[None, rows]).all(axis=(2, 3, 4))
        assert match.any(axis=1).all(), fonts
        np.testing.assert_array_equal(y, labels[rows][match.argmax(axis=1)])
    xt, _ = domains.printed_test_set(50, seed=0, jitter=False)
    np.testing.assert_array_equal(xt, domains.printed_digits(50, 0, False, "test")[0])


def test_jitter_moves_the_glyphs_within_its_bounds():
    plain, _ = domains.printed_digits(200, seed=5, jitter=False)
    moved, _ = domains.printed_digits(200, seed=5, jitter=True)
    assert (np.abs(moved - plain).reshape(200, -1).max(axis=1) > 0.2).all()
    ratio = _ink(moved) / _ink(plain)        # scale 0.9-1.1 and a slight stroke change
    assert 0.5 < ratio.min() and ratio.max() < 2.0


def test_printed_digits_are_read_by_the_evaluator():
    from minigan.eval.evaluate import load_classifier, classify
    clf = load_classifier()
    for x, y in (domains.printed_digits(500, seed=0), domains.printed_test_set(500, seed=0)):
        p, _ = classify(clf, x)
        assert (p.argmax(axis=1) == y).mean() >= 0.9


def test_a_glyph_file_with_another_sha256_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(domains, "PRINTED_DIGITS_SHA256", "0" * 64)
    with pytest.raises(ValueError, match="printed digits.*SHA-256.*expected 0000.*"
                                         "minigan.experiments.glyphs"):
        domains.printed_digits(10)
    monkeypatch.undo()
    copy = tmp_path / "printed_digits.npz"
    shutil.copy(domains.PRINTED_DIGITS, copy)
    with open(copy, "r+b") as f:                        # one byte changed
        f.seek(os.path.getsize(copy) // 2)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 1]))
    with pytest.raises(ValueError, match="SHA-256"):
        domains.printed_glyphs(copy)


@pytest.mark.parametrize("call, match", [
    (lambda: domains.printed_digits(-1), "whole number"),
    (lambda: domains.printed_digits(2.5), "whole number"),
    (lambda: domains.printed_digits(5, fonts="mine"), "'train', 'test' or 'all'"),
])
def test_printed_digits_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_the_lab_renders_the_shipped_glyphs(tmp_path):
    """The shipped file is what `python -m minigan.experiments.glyphs` renders, and its
    writer gives the same bytes twice (so the SHA-256 can be pinned)."""
    from minigan.experiments import glyphs
    from minigan.serialization import load, sha256_of
    shipped = load(domains.PRINTED_DIGITS)
    assert tuple(shipped["fonts"]) == glyphs.FONTS
    arrays = glyphs.render(glyphs.FONTS[:3])
    diff = np.abs(arrays["glyphs"].astype(int) - shipped["glyphs"][:30].astype(int))
    assert diff.max() <= 2          # the same, up to FreeType's rounding on another build
    glyphs.write(arrays, tmp_path / "a.npz")
    glyphs.write(arrays, tmp_path / "b.npz")
    assert sha256_of(tmp_path / "a.npz") == sha256_of(tmp_path / "b.npz")
    again = load(tmp_path / "a.npz")
    np.testing.assert_array_equal(again["glyphs"], arrays["glyphs"])
    assert again["fonts"].dtype.kind == "U"


# ------------------------------------------------------------------ the judge of styles
def test_domain_classifier_has_one_output_per_domain():
    import minigan
    from minigan.eval.domains import domain_classifier
    out = domain_classifier(3)(minigan.tensor(np.zeros((2, 1, 28, 28), np.float32)))
    assert out.shape == (2, 3)
    with pytest.raises(ValueError, match=">= 2"):
        domain_classifier(1)


def test_a_short_training_teaches_the_judge_the_styles(mnist_dir):
    """30 steps lift the accuracy on held-out digits from chance (1 in 4) to well
    above it; the full training (3,000 steps) reaches about 98.6%."""
    import minigan
    from minigan.eval.domains import (domain_accuracy, domain_classifier,
                                      train_domain_classifier)
    train_x, _ = mnist("train")
    test_x, _ = mnist("test")
    train = {s: style(train_x[:250], s) for s in STYLES}
    test = {s: style(test_x[:200], s) for s in STYLES}
    minigan.manual_seed(0)
    before, _ = domain_accuracy(domain_classifier(4), test)
    model, losses = train_domain_classifier(train, steps=30, batch_size=32, seed=0)
    after, per_style = domain_accuracy(model, test)
    assert before < 0.4 and after > 0.55, (before, after, per_style)
    assert np.mean(losses[-5:]) < 0.7 * losses[0]
    with pytest.raises(ValueError, match="at least two domains"):
        train_domain_classifier({"plain": train["plain"]}, steps=1)


def test_nearest_style_reads_each_true_transform_and_is_not_fooled_by_a_mark(digits):
    """The untrained judge: each style's true transform is read as that style, and a
    plain digit with a dark mark low on the left (the shortcut a trained judge
    learned to read as slant) is still read as plain."""
    from minigan.eval.domains import nearest_style
    x = digits[0][:50]
    truths = [style(x, s) for s in STYLES]
    for i, s in enumerate(STYLES):
        assert (nearest_style(truths[i], truths) == i).all(), s
    marked = x.copy()
    marked[:, :, 20:27, 0:4] = 1.0
    assert (nearest_style(marked, truths) == STYLES.index("plain")).all()
    with pytest.raises(ValueError, match="every style"):
        nearest_style(x[:3], truths)

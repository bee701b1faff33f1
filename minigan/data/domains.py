"""Image domains with a known answer: MNIST seen through fixed transforms, for the
translation GANs (pix2pix, CycleGAN, StarGAN), where a translation can then be
scored against the true one instead of judged by eye.

All images are float32 NumPy arrays (N, 1, 28, 28) in [-1, 1], background -1, ink
+1 (``data.mnist``'s layout). Every transform acts on each image alone, never mixes
images, and returns a new array of the same shape in [-1, 1].

**Edges** (pix2pix's edges -> digit): the morphological gradient with the 3 x 3 cross
C (a pixel and its four neighbours)::

    edges(x) = dilate_C(x) - erode_C(x) - 1       dilate_C(x)[i, j] = max of x over C at (i, j)
                                                  erode_C(x)[i, j]  = min of x over C at (i, j)

dilate - erode is in [0, 2]: 0 (so -1 after the shift) on the background and inside
a stroke, where x is flat, and up to 2 (+1) on both sides of a stroke's border, so
each stroke becomes its outline, a hollow double line.

**Styles** (``STYLES``; CycleGAN's and StarGAN's domains), ``style(x, name)``:

* ``plain``: x itself (a copy).
* ``thick``: dilate_C(x): every stroke grows by one pixel on each side.
* ``thin``: grey erosion by half a pixel on each side. A whole pixel is too much
  (MNIST's strokes are 2 or 3 pixels wide; erode_C erases many digits), so the
  image is upsampled twice (bilinear, pixel centres kept), eroded there with a
  3 x 3 square (one fine pixel, half a coarse one) and averaged back 2 x 2::

      thin(x) = down2(erode_3x3(up2(x)))

* ``slanted``: the horizontal shear x' = x - SHEAR * (y - 13.5) (column x, row y
  counted downwards, 13.5 the image's centre row): the top leans right, as
  italics do, by atan(SHEAR) = 21.8 degrees, bilinear (order 1), background -1
  outside.

Every style keeps the digits readable: the evaluator classifier
(``minigan.eval.evaluate``) reads MNIST's 10,000 test digits at 99.51% plain,
98.38% thick, 97.04% thin and 98.83% slanted (72.28% as edge maps, which it was
never trained on). And the styles are told apart: ``minigan.eval.domains``'
classifier, trained 3,000 steps, names the style of 98.6% of the styled test digits.

**Pairings.** ``paired_edges`` gives (edge map, digit) pairs for pix2pix;
``unpaired`` gives two domains that share no image (CycleGAN), with the true
translation of the test set kept for scoring; ``styled`` gives each image one
style at random, with the plain originals, so the true translation to any style t
is ``style(plain, t)`` (StarGAN).

**Printed digits** (``printed_digits``): the digits 0-9 rendered once with the
TrueType fonts matplotlib ships (``python -m minigan.experiments.glyphs`` writes
``glyphs/printed_digits.npz``, checked by its SHA-256 here), drawn with a random
affine jitter. Some fonts (``TEST_FONTS``) are held out: ``printed_test_set``
draws only from them, so a model trained on ``printed_digits`` is tested on
typefaces it never saw. The evaluator reads 96.6% of ``printed_digits`` (98.3%
without jitter) and 99.1% of ``printed_test_set``.
"""
import os
from dataclasses import dataclass

import numpy
from scipy import ndimage

from .. import backend
from ..serialization import check_sha256, load
from ..tensor import Tensor
from .mnist_files import mnist

STYLES = ("plain", "thick", "thin", "slanted")
TRANSFORMS = STYLES + ("edges",)       # what `unpaired` can put on side B
SHEAR = 0.4                            # slanted: x' = x - SHEAR * (y - 13.5)
CENTRE = 13.5                          # the centre of a 28-pixel row or column
CROSS = ndimage.generate_binary_structure(2, 1)     # a pixel and its 4 neighbours
# (1, 1, k, k) footprints: the filter runs over rows and columns only, never across
# images or channels
_CROSS = CROSS[None, None]
_CHUNK = 4096                          # images upsampled at a time by `thin`


def _check(images, who):
    """images (NumPy, CuPy or a Tensor) as a float32 NumPy array (N, 1, 28, 28) in
    [-1, 1], or a clear ValueError."""
    a = numpy.asarray(backend.to_numpy(images.data if isinstance(images, Tensor) else images))
    if a.ndim != 4 or a.shape[1:] != (1, 28, 28):
        raise ValueError(f"{who}: expected images of shape (N, 1, 28, 28) (data.mnist's "
                         f"layout), got shape {a.shape}")
    if not numpy.issubdtype(a.dtype, numpy.floating):
        raise ValueError(f"{who}: expected float images in [-1, 1], got dtype {a.dtype} "
                         f"(uint8 pixels p become p / 127.5 - 1)")
    a = a.astype(numpy.float32, copy=False)
    if a.size and not numpy.isfinite(a).all():
        raise ValueError(f"{who}: the images contain NaN or infinite values")
    if a.size and (a.min() < -1.0 - 1e-6 or a.max() > 1.0 + 1e-6):
        raise ValueError(f"{who}: pixels must be in [-1, 1] (data.mnist's range), got values "
                         f"from {a.min():g} to {a.max():g}")
    return a


# ------------------------------------------------------------------ edges
def edges(images):
    """The edge map of each image: dilate_C(x) - erode_C(x) - 1, C the 3 x 3 cross
    (see the module docstring). float32 (N, 1, 28, 28) in [-1, 1], background -1,
    the outline of each stroke near +1."""
    x = _check(images, "edges")
    grown = ndimage.grey_dilation(x, footprint=_CROSS, mode="nearest")
    shrunk = ndimage.grey_erosion(x, footprint=_CROSS, mode="nearest")
    return (grown - shrunk - 1).astype(numpy.float32)


# ------------------------------------------------------------------ styles
def _thick(x):
    """dilate_C(x): each pixel becomes the brightest of itself and its 4 neighbours."""
    return ndimage.grey_dilation(x, footprint=_CROSS, mode="nearest")


def _upsample2(a):
    """Bilinear 2x upsampling of the last axis, pixel centres kept (each pixel i
    becomes two at i - 1/4 and i + 1/4): 3/4 of itself plus 1/4 of the neighbour on
    that side, the edge pixel repeated beyond the border."""
    before = numpy.concatenate([a[..., :1], a[..., :-1]], axis=-1)
    after = numpy.concatenate([a[..., 1:], a[..., -1:]], axis=-1)
    pairs = numpy.stack([0.75 * a + 0.25 * before, 0.75 * a + 0.25 * after], axis=-1)
    return pairs.reshape(a.shape[:-1] + (2 * a.shape[-1],))


def _thin(x):
    """down2(erode_3x3(up2(x))): erosion by half a pixel on each side."""
    out = numpy.empty_like(x)
    for i in range(0, len(x), _CHUNK):            # 4x the pixels: a chunk at a time
        a = x[i:i + _CHUNK]
        up = _upsample2(_upsample2(a).swapaxes(-1, -2)).swapaxes(-1, -2)   # rows, columns
        eroded = ndimage.minimum_filter(up, size=(1, 1, 3, 3), mode="nearest")
        n, c, h, w = a.shape
        out[i:i + _CHUNK] = eroded.reshape(n, c, h, 2, w, 2).mean(axis=(3, 5))
    return out


def _slanted(x):
    """The shear x' = x - SHEAR * (y - 13.5), bilinear. affine_transform maps each
    output pixel (y, x') back to the input pixel it reads: (y, x' + SHEAR (y - 13.5))."""
    inverse = numpy.array([[1.0, 0.0], [SHEAR, 1.0]])
    offset = numpy.array([0.0, -SHEAR * CENTRE])
    out = numpy.empty_like(x)
    for i in range(len(x)):
        out[i, 0] = ndimage.affine_transform(x[i, 0], inverse, offset=offset, order=1,
                                             mode="constant", cval=-1.0)
    return out


_STYLE_FNS = {"plain": numpy.copy, "thick": _thick, "thin": _thin, "slanted": _slanted}


def _style_fn(name, who, known=STYLES):
    if not isinstance(name, str) or name not in known:
        raise ValueError(f"{who}: unknown style {name!r}; the styles are "
                         f"{', '.join(known)}")
    return edges if name == "edges" else _STYLE_FNS[name]


def style(images, name):
    """The images drawn in style `name` (one of ``STYLES``: plain, thick, thin,
    slanted; the formulas are in the module docstring). float32 (N, 1, 28, 28) in
    [-1, 1], a new array."""
    fn = _style_fn(name, "style")
    x = _check(images, "style")
    return numpy.clip(fn(x), -1.0, 1.0).astype(numpy.float32, copy=False)


# ------------------------------------------------------------------ pairings
def paired_edges(split="train", data_dir=None):
    """pix2pix's pairs: (edge_maps, digits, labels) of an MNIST split, edge_maps[i] =
    edges(digits[i]). digits and labels are ``data.mnist``'s read-only arrays."""
    digits, labels = mnist(split, data_dir)
    return edges(digits), digits, labels


@dataclass(frozen=True)
class Unpaired:
    """Two domains A and B of MNIST digits (``unpaired``). a: plain digits, b: digits
    in style `transform`; *_labels their digits; *_index the MNIST rows they were
    made from (a[i] from MNIST image a_index[i])."""
    a: numpy.ndarray
    a_labels: numpy.ndarray
    a_index: numpy.ndarray
    b: numpy.ndarray
    b_labels: numpy.ndarray
    b_index: numpy.ndarray
    transform: str


def unpaired(transform="thick", split="train", data_dir=None, seed=0):
    """CycleGAN's data: plain digits (domain A) and digits in style `transform`
    (domain B; any of ``TRANSFORMS``: a style or "edges").

    split "train": a permutation of the 60,000 training images drawn from
    ``numpy.random.default_rng(seed)`` is cut in two halves; A is the plain images of
    the first half (a_index), B the transformed images of the second (b_index). The
    halves are disjoint, so no image appears on both sides: no pair (x, T(x)) is
    ever seen, and a model can only learn the translation from the two
    distributions. Indices are sorted.

    split "test": A is the whole test set, plain, and b = T(a) image for image
    (a_index == b_index): the ground truth of G_AB(a), kept for scoring only (a
    model is never trained on it)."""
    fn = _style_fn(transform, "unpaired", TRANSFORMS)
    images, labels = mnist(split, data_dir)
    if split == "train":
        order = numpy.random.default_rng(seed).permutation(len(images))
        half = len(images) // 2
        a_index, b_index = numpy.sort(order[:half]), numpy.sort(order[half:])
    else:
        a_index = b_index = numpy.arange(len(images))
    a = images[a_index]                              # fancy indexing: new arrays
    b = numpy.clip(fn(images[b_index]), -1.0, 1.0).astype(numpy.float32, copy=False)
    return Unpaired(a, labels[a_index], a_index, b, labels[b_index], b_index, transform)


def styled(images, labels, styles=STYLES, seed=0):
    """StarGAN's data: each image in one style drawn at random (uniformly over
    `styles`, from ``numpy.random.default_rng(seed)``).

    Returns (x_styled, digit_labels, domain_labels, plain): x_styled[i] =
    style(plain[i], styles[domain_labels[i]]); domain_labels are int64 indices into
    `styles`; plain is a float32 copy of `images`, so the true translation of
    x_styled to any style t is ``style(plain, t)``."""
    styles = tuple(styles)
    if not styles:
        raise ValueError(f"styled: give at least one style of {', '.join(STYLES)}")
    fns = [_style_fn(s, "styled") for s in styles]
    plain = _check(images, "styled").copy()
    labels = numpy.asarray(labels)
    if labels.shape != (len(plain),):
        raise ValueError(f"styled: expected {len(plain)} labels, one per image, got shape "
                         f"{labels.shape}")
    domains = numpy.random.default_rng(seed).integers(0, len(styles), len(plain))
    out = numpy.empty_like(plain)
    for d, fn in enumerate(fns):
        rows = domains == d
        out[rows] = numpy.clip(fn(plain[rows]), -1.0, 1.0)
    return out, labels.astype(numpy.int64), domains.astype(numpy.int64), plain


# ------------------------------------------------------------------ printed digits
PRINTED_DIGITS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "glyphs",
                              "printed_digits.npz")
PRINTED_DIGITS_SHA256 = "86ef6d3166a65967740352391d4d63636fe3ef6cac7dc78203700b8d141a1193"
# one font of each family, never drawn by printed_digits' default, only by printed_test_set
TEST_FONTS = ("DejaVuSans-BoldOblique", "DejaVuSansMono-Bold", "DejaVuSerif-Italic",
              "STIXGeneralBol", "cmss10")
# the random affine jitter: rotation, scale, shift (each uniform within), stroke change
ROTATION = 10.0          # degrees, +-
SCALE = (0.9, 1.1)
SHIFT = 2.0              # pixels, +-, each axis
STROKE = 0.5             # +-: the fraction of the way towards thick (> 0) or thin (< 0)


def printed_glyphs(path=None, sha256=None):
    """The shipped glyphs, after checking the file's SHA-256: (glyphs float32 (G, 1, 28,
    28) in [-1, 1], labels int64 (G,), font index int64 (G,), font names (F,))."""
    path = os.fspath(path or PRINTED_DIGITS)
    check_sha256(path, sha256 or PRINTED_DIGITS_SHA256, "the printed digits",
                 "Reinstall minigan, or render them again with `python -m "
                 "minigan.experiments.glyphs` and set PRINTED_DIGITS_SHA256 in "
                 "minigan/data/domains.py to the SHA-256 it prints")
    z = load(path)
    glyphs = z["glyphs"].astype(numpy.float32)[:, None] / numpy.float32(127.5) - 1
    return glyphs, z["labels"], z["font"], tuple(str(f) for f in z["fonts"])


def _jitter(x, rng):
    """One glyph (1, 28, 28) with a random stroke change, then a random rotation, scale
    and shift about the centre (13.5, 13.5), bilinear, background -1 outside. The
    stroke change is the blend x + s (thick(x) - x) for s > 0, x + |s| (thin(x) - x)
    for s < 0, s uniform in [-STROKE, STROKE]."""
    s = rng.uniform(-STROKE, STROKE)
    target = _thick(x[None])[0] if s > 0 else _thin(x[None])[0]
    x = x + abs(s) * (target - x)
    angle = numpy.deg2rad(rng.uniform(-ROTATION, ROTATION))
    scale = rng.uniform(*SCALE)
    shift = rng.uniform(-SHIFT, SHIFT, size=2)
    # output pixel o reads the input at c + A^-1 (o - c - shift), A = scale * R(angle)
    cos, sin = numpy.cos(angle), numpy.sin(angle)
    inverse = numpy.array([[cos, sin], [-sin, cos]]) / scale
    c = numpy.array([CENTRE, CENTRE])
    offset = c - inverse @ (c + shift)
    return ndimage.affine_transform(x[0], inverse, offset=offset, order=1, mode="constant",
                                    cval=-1.0)[None]


def printed_digits(n, seed=0, jitter=True, fonts="train"):
    """n printed digits: (images float32 (n, 1, 28, 28) in [-1, 1], labels int64 (n,)).

    Each image is a glyph of a font and a digit drawn uniformly and independently,
    from ``numpy.random.default_rng(seed)``; with `jitter`, then a random stroke
    change and affine map (``_jitter``: rotation within +-10 degrees, scale 0.9-1.1,
    shift within +-2 pixels, each uniform), from the same generator. The same seed
    gives the same images.

    fonts: "train" (the default: every font but ``TEST_FONTS``), "test" (only those,
    what ``printed_test_set`` draws), or "all"."""
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise ValueError(f"printed_digits: n must be a whole number >= 0, got {n!r}")
    if fonts not in ("train", "test", "all"):
        raise ValueError(f"printed_digits: fonts must be 'train', 'test' or 'all', got "
                         f"{fonts!r}")
    glyphs, labels, font, names = printed_glyphs()
    held_out = numpy.isin(names, TEST_FONTS)
    use = {"train": ~held_out, "test": held_out, "all": numpy.ones_like(held_out)}[fonts]
    if not use.any():
        raise ValueError(f"printed_digits: the glyph file holds none of the {fonts} fonts")
    rng = numpy.random.default_rng(seed)
    chosen_fonts = numpy.flatnonzero(use)[rng.integers(0, use.sum(), int(n))]
    digits = rng.integers(0, 10, int(n))
    row_of = numpy.zeros((len(names), 10), numpy.int64)      # the glyph of (font, digit)
    row_of[font, labels] = numpy.arange(len(glyphs))
    rows = row_of[chosen_fonts, digits]
    images = glyphs[rows]
    if jitter:
        images = numpy.stack([_jitter(g, rng) for g in images]) if len(images) else images
    return numpy.clip(images, -1.0, 1.0).astype(numpy.float32), labels[rows].astype(numpy.int64)


def printed_test_set(n=2000, seed=0, jitter=True):
    """The held-out printed digits: ``printed_digits(n, seed, jitter, fonts="test")``,
    drawn only from ``TEST_FONTS``, typefaces that ``printed_digits``' default never
    uses; so any seed gives a test set disjoint from every training draw."""
    return printed_digits(n, seed, jitter, fonts="test")

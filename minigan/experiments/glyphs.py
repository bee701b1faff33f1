"""Printed digits: 0-9 rendered once with the TrueType fonts matplotlib ships, written
as the package's data file ``minigan/data/glyphs/printed_digits.npz``::

    python -m minigan.experiments.glyphs [--to PATH]

prints the file's SHA-256, which goes into ``minigan/data/domains.py``
(``PRINTED_DIGITS_SHA256``); the library reads the file, never the fonts.

Each glyph is prepared the way MNIST's digits were (LeCun et al.):

1. FreeType (``matplotlib.ft2font``, no hinting, anti-aliased) draws the digit
   white on black, RENDER_PT points at 72 dpi (RENDER_PT pixels to the em);
2. the drawing is cropped to its ink's bounding box;
3. it is resampled so that its longer side is 20 pixels, keeping its aspect ratio,
   by area averaging: output pixel i is the mean of the input over the interval
   [i * n_in / n_out, (i + 1) * n_in / n_out) of each axis (``_box_matrix``);
4. it is put into a 28 x 28 image so that its centre of mass falls on pixel
   (14, 14), the mean centre of mass of MNIST's training digits, by a whole-pixel
   translation (MNIST's own).

The file holds ``glyphs`` (F * 10, 28, 28) uint8 (0 background, 255 ink),
``labels`` (F * 10,) int64 (the digit), ``font`` (F * 10,) int64 (an index into
``fonts``) and ``fonts`` (F,) the font files' names without ".ttf", as plain arrays
read with ``allow_pickle=False``. It is a deflated .npz whose zip entries carry a
fixed time stamp, so the same fonts and FreeType give the same bytes, hence the
same SHA-256.
"""
import argparse
import io
import os
import sys
import zipfile

import numpy
import matplotlib
from matplotlib import ft2font

from ..serialization import atomic_write, sha256_of

# families, and each family's weights and slants; minigan.data.domains holds some out
# for testing (TEST_FONTS)
FONTS = ("DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique",
         "DejaVuSansMono", "DejaVuSansMono-Bold", "DejaVuSansMono-Oblique",
         "DejaVuSansMono-BoldOblique",
         "DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic", "DejaVuSerif-BoldItalic",
         "STIXGeneral", "STIXGeneralBol", "STIXGeneralItalic", "STIXGeneralBolIta",
         "cmr10", "cmb10", "cmss10", "cmti10", "cmtt10")
RENDER_PT = 200          # pixels to the em when drawing (a digit is about 150 high)
BOX = 20                 # the longer side of a digit, as in MNIST
SIZE = 28
CENTRE = 14.0            # where the centre of mass goes (MNIST's training mean)
DEST = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    "data", "glyphs", "printed_digits.npz")


def font_path(name):
    """The path of one of matplotlib's TrueType fonts."""
    return os.path.join(matplotlib.get_data_path(), "fonts", "ttf", name + ".ttf")


def draw(font_name, digit):
    """The digit drawn white on black by FreeType: float64 in [0, 1], cropped to its ink."""
    font = ft2font.FT2Font(font_path(font_name))
    font.set_size(RENDER_PT, 72)
    no_hinting = getattr(getattr(ft2font, "LoadFlags", None), "NO_HINTING", None)
    font.set_text(str(digit), 0.0, flags=ft2font.LOAD_NO_HINTING if no_hinting is None
                  else no_hinting)
    font.draw_glyphs_to_bitmap(antialiased=True)
    ink = numpy.asarray(font.get_image(), dtype=numpy.float64) / 255.0
    rows, cols = numpy.flatnonzero(ink.any(axis=1)), numpy.flatnonzero(ink.any(axis=0))
    if not len(rows):
        raise ValueError(f"{font_name} draws nothing for the digit {digit}")
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _box_matrix(n_out, n_in):
    """(n_out, n_in): row i averages the input over [i, i + 1) * n_in / n_out."""
    step = n_in / n_out
    lo = numpy.arange(n_out)[:, None] * step
    j = numpy.arange(n_in)[None, :]
    overlap = numpy.clip(numpy.minimum(lo + step, j + 1) - numpy.maximum(lo, j), 0, None)
    return overlap / step


def fit_to_box(ink, box=BOX):
    """Resized by area averaging so that the longer side is `box` pixels."""
    h, w = ink.shape
    scale = box / max(h, w)
    out_h, out_w = max(1, round(h * scale)), max(1, round(w * scale))
    return _box_matrix(out_h, h) @ ink @ _box_matrix(out_w, w).T


def centre(ink, size=SIZE, at=CENTRE):
    """ink put into a size x size image, its centre of mass moved to (at, at) by a
    whole-pixel translation (kept inside the image)."""
    h, w = ink.shape
    r, c = numpy.arange(h), numpy.arange(w)
    total = ink.sum()
    com = (ink.sum(axis=1) @ r / total, ink.sum(axis=0) @ c / total)
    top = int(numpy.clip(round(at - com[0]), 0, size - h))
    left = int(numpy.clip(round(at - com[1]), 0, size - w))
    out = numpy.zeros((size, size))
    out[top:top + h, left:left + w] = ink
    return out


def render(fonts=FONTS):
    """{glyphs, labels, font, fonts}: every digit of every font, as the file holds them."""
    glyphs, labels, font = [], [], []
    for f, name in enumerate(fonts):
        for digit in range(10):
            g = centre(fit_to_box(draw(name, digit)))
            glyphs.append(numpy.round(numpy.clip(g, 0, 1) * 255).astype(numpy.uint8))
            labels.append(digit)
            font.append(f)
    return {"glyphs": numpy.stack(glyphs), "labels": numpy.asarray(labels, numpy.int64),
            "font": numpy.asarray(font, numpy.int64), "fonts": numpy.asarray(fonts, dtype=str)}


def write(arrays, path):
    """The arrays as a deflated .npz whose bytes depend on the arrays alone (fixed time
    stamps), written atomically (``minigan.serialization.atomic_write``)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, a in arrays.items():
            entry = io.BytesIO()
            numpy.lib.format.write_array(entry, a, allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, entry.getvalue())
    atomic_write(path, buf.getvalue())


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m minigan.experiments.glyphs",
                                description="Render the printed digits minigan ships.")
    p.add_argument("--to", default=DEST, help="where to write (default: the package's file)")
    args = p.parse_args(argv)
    os.makedirs(os.path.dirname(os.path.abspath(args.to)), exist_ok=True)
    arrays = render()
    write(arrays, args.to)
    print(f"wrote {args.to}: {len(arrays['glyphs'])} glyphs, {len(FONTS)} fonts "
          f"({os.path.getsize(args.to):,} bytes; matplotlib {matplotlib.__version__})\n"
          f"SHA-256 {sha256_of(args.to)}: set minigan/data/domains.py's PRINTED_DIGITS_SHA256")
    return 0


if __name__ == "__main__":
    sys.exit(main())

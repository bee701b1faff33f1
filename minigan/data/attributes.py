"""What a digit image looks like, measured from its image moments: how much ink it
has and how far it leans. StarGAN's scores ask whether an output took a style itself
(not a sign a trained judge reads as it), and StackGAN's sentences are built from
these same measures.

With the ink of pixel (row y, column x) I(y, x) = (pixel + 1) / 2 in [0, 1]:

    ink   = sum I                                   (the zeroth moment: stroke mass)
    slant = mu_11 / mu_02,  mu_pq = sum I (x - xbar)^p (y - ybar)^q

slant is the least-squares slope of column against row through the ink: a digit
sheared by x' = x - s (y - ybar) has its slant lowered by s (rows grow downwards,
so a digit leaning right has a negative slant).
"""
import numpy


def _ink(images, who):
    x = numpy.asarray(images, dtype=numpy.float64)
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 3:
        raise ValueError(f"{who}: expected images of shape (N, 1, H, W) or (N, H, W), got "
                         f"{numpy.shape(images)}")
    return numpy.clip((x + 1.0) / 2.0, 0.0, 1.0)


def ink(images):
    """The ink of each image, sum of (pixel + 1) / 2 (pixels in [-1, 1])."""
    return _ink(images, "ink").sum(axis=(1, 2))


def slant(images):
    """mu_11 / mu_02 of each image's ink: columns moved per row down the digit."""
    i = _ink(images, "slant")
    rows = numpy.arange(i.shape[1], dtype=numpy.float64)[None, :, None]
    cols = numpy.arange(i.shape[2], dtype=numpy.float64)[None, None, :]
    mass = i.sum(axis=(1, 2)) + 1e-9
    ybar = (i * rows).sum(axis=(1, 2)) / mass
    xbar = (i * cols).sum(axis=(1, 2)) / mass
    dy = rows - ybar[:, None, None]
    dx = cols - xbar[:, None, None]
    return (i * dx * dy).sum(axis=(1, 2)) / ((i * dy * dy).sum(axis=(1, 2)) + 1e-9)

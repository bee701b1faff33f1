"""Walking in the latent space, and arithmetic on codes.

* ``lerp(z0, z1, t)``: the straight line (1 - t) z0 + t z1. Its midpoint is
  shorter than either end: for z ~ N(0, I) in d dimensions ||z|| is about sqrt(d),
  but ||(z0 + z1) / 2|| is about sqrt(d / 2), a region G rarely saw in training.
* ``slerp(z0, z1, t)``: the great-circle path, sin((1 - t) w) / sin(w) z0 +
  sin(t w) / sin(w) z1 with cos w = z0.z1 / (|z0| |z1|), which keeps the norm
  (exactly, when |z0| = |z1|).
* ``walk(codes, n_steps, kind)``: consecutive codes joined by such paths.
* ``concept_arithmetic(a, b, c)``: mean(a) - mean(b) + mean(c), each an (n, d) array
  of codes of one concept (DCGAN's "man with glasses - man + woman").
"""
import numpy


def lerp(z0, z1, t):
    """(1 - t) z0 + t z1 for each t in the 1-D array t: shape (len(t), d)."""
    t = numpy.asarray(t, dtype=numpy.float64)[:, None]
    return (1.0 - t) * z0[None] + t * z1[None]


def slerp(z0, z1, t):
    """Spherical interpolation along the great circle through z0 and z1 (see the module
    docstring); falls back to lerp where z0 and z1 are (anti)parallel."""
    t = numpy.asarray(t, dtype=numpy.float64)[:, None]
    cos = float(z0 @ z1 / (numpy.linalg.norm(z0) * numpy.linalg.norm(z1)))
    omega = numpy.arccos(numpy.clip(cos, -1.0, 1.0))
    if numpy.sin(omega) < 1e-6:
        return lerp(z0, z1, t[:, 0])
    return (numpy.sin((1.0 - t) * omega) * z0[None] + numpy.sin(t * omega) * z1[None]) \
        / numpy.sin(omega)


def walk(codes, n_steps, kind="slerp"):
    """One row per consecutive pair of `codes` (k, d): n_steps codes from codes[i] to
    codes[i + 1], ends included. Returns (k - 1, n_steps, d)."""
    path = {"lerp": lerp, "slerp": slerp}.get(kind)
    if path is None:
        raise ValueError(f"walk: kind must be 'lerp' or 'slerp', got {kind!r}")
    codes = numpy.asarray(codes, dtype=numpy.float64)
    if codes.ndim != 2 or len(codes) < 2:
        raise ValueError(f"walk: expected at least two codes of shape (k, d), got {codes.shape}")
    t = numpy.linspace(0.0, 1.0, n_steps)
    return numpy.stack([path(codes[i], codes[i + 1], t) for i in range(len(codes) - 1)])


def concept_arithmetic(a, b, c):
    """mean(a) - mean(b) + mean(c) for three (n, d) arrays of codes."""
    means = [numpy.asarray(v, dtype=numpy.float64).mean(axis=0) for v in (a, b, c)]
    if len({m.shape for m in means}) != 1:
        raise ValueError(f"concept_arithmetic: the codes differ in size: "
                         f"{[m.shape for m in means]}")
    return means[0] - means[1] + means[2]

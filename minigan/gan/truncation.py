"""Jacobian-based truncation: leave out the samples G draws in the "no GAN's land"
between the data's separate pieces.

Why a GAN draws such samples at all. MNIST's digits lie on (nearly) separate
pieces, a 4 apart from a 9, but z ~ N(0, I) fills one connected space, and a
continuous G maps connected to connected. So G's samples cannot jump from the
4s to the 9s: somewhere in z-space there is a path that G takes from one to the
other, and the images along it are half-4, half-9. G can only make that region
small by changing fast there. Where it does, its Jacobian

    J(z) = dG(z) / dz          (784 x 100 for the DCGAN)

is large. Tanielian et al. (2020, "Learning disconnected manifolds: a no GAN's
land") prove that the in-between mass cannot vanish for a G of bounded Jacobian,
and propose to throw away the samples whose ||J(z)||_F is largest (JBT,
Jacobian-based truncation). Unlike the truncation trick (shorter z), it keeps
G's samples spread over all of z-space; unlike discriminator rejection sampling
(``rejection.py``), it needs no second network: only G.

How ||J(z)||_F is computed without the 784 x 100 matrix (Hutchinson's trick). For
a random vector v with independent entries of mean 0 and variance 1,

    E_v ||J^T v||^2 = E_v v^T J J^T v = trace(J J^T) = ||J||_F^2,

and J^T v is one reverse-mode pass: the gradient of v . G(z) with respect to z.
Averaging over k vectors v gives the estimate; minigan uses Rademacher vectors
(entries +-1), whose estimate varies less than a Gaussian one's. G is run in eval
mode, so that batch norm uses its running statistics and sample i's output
depends on z_i alone: one backward pass then gives every sample's J_i^T v_i at once.
"""
import numpy

from .. import backend
from ..tensor import Tensor, enable_grad, grad


def jacobian_norms(G, z, projections=8, batch=500, seed=0):
    """||dG(z_i)/dz_i||_F for each row z_i of `z` (NumPy, (N, d)), estimated with
    `projections` Rademacher vectors per sample (see the module docstring); a float64
    NumPy vector of length N.

    G runs in eval mode (batch norm's running statistics: the samples do not touch
    each other) and is put back in the mode it was in."""
    if int(projections) != projections or projections < 1:
        raise ValueError(f"jacobian_norms: projections must be a positive integer, got "
                         f"{projections}")
    z = numpy.asarray(z)
    if z.ndim != 2:
        raise ValueError(f"jacobian_norms: expected codes of shape (N, d), got {z.shape}")
    device = next(iter(G.parameters())).device
    rng = numpy.random.default_rng(seed)
    was_training = G.training
    G.eval()
    out = []
    try:
        for i in range(0, len(z), batch):
            zt = Tensor(z[i:i + batch], device=device)
            zt.requires_grad = True
            with enable_grad():
                x = G(zt)
                sq = 0.0
                for _ in range(projections):
                    v = Tensor(rng.choice(numpy.array([-1.0, 1.0], dtype=x.data.dtype),
                                          size=x.shape), device=device)
                    (g,) = grad(x, zt, grad_outputs=v)       # row i: J_i^T v_i
                    sq = sq + (g.data.astype("float64") ** 2).sum(axis=1)
            out.append(backend.to_numpy(sq) / projections)
    finally:
        G.train(was_training)
    return numpy.sqrt(numpy.concatenate(out))


def jacobian_truncation(G, n, keep=0.8, noise_dim=None, projections=8, seed=0, batch=500):
    """Jacobian-based truncation (Tanielian et al. 2020): draw a pool of
    ceil(n / keep) codes z ~ N(0, I), estimate ||J(z)||_F for each
    (``jacobian_norms``), and return the n codes with the smallest norms, in the
    pool's order: a float32 (n, d) array, and the largest norm kept (the threshold).

    keep = 1 returns the pool as drawn. The codes come from NumPy's generator
    seeded with `seed`, so the same call returns the same codes. `noise_dim`: the
    length of z (default: the first layer's input size, G[0].in_features)."""
    if not 0.0 < keep <= 1.0:
        raise ValueError(f"jacobian_truncation: keep is the fraction of the pool kept, in "
                         f"(0, 1], got {keep}")
    if int(n) != n or n < 1:
        raise ValueError(f"jacobian_truncation: n must be a positive integer, got {n}")
    if noise_dim is None:
        noise_dim = G[0].in_features
    pool_size = int(numpy.ceil(n / keep))
    rng = numpy.random.default_rng(seed)
    pool = rng.standard_normal((pool_size, noise_dim)).astype(numpy.float32)
    norms = jacobian_norms(G, pool, projections, batch, seed=seed + 1)
    kept = numpy.sort(numpy.argsort(norms, kind="stable")[:n])
    return pool[kept], float(norms[kept].max())

"""Jacobian-based truncation (gan/truncation.py): the norm estimate against finite
differences, samples kept apart, and the in-between samples it leaves out."""
import numpy as np
import pytest

from minigan import nn
from minigan.gan.models import Rescale
from minigan.gan.truncation import jacobian_norms, jacobian_truncation
from minigan.tensor import Tensor, no_grad


def _float64(module):
    for p in module.parameters():
        p.data = p.data.astype("float64")
    return module


def _fd_jacobian_norm(G, z, eps=1e-6):
    """||dG/dz||_F at each row of z by central differences (float64)."""
    def f(x):
        with no_grad():
            return G(Tensor(x)).numpy().reshape(len(x), -1)
    out = []
    for zi in z:
        cols = [(f((zi + eps * e)[None]) - f((zi - eps * e)[None]))[0] / (2 * eps)
                for e in np.eye(len(zi))]
        out.append(np.linalg.norm(np.stack(cols, axis=1)))
    return np.array(out)


def test_one_output_makes_the_estimate_exact():
    # with one output J^T v = +-grad G, so a single +-1 projection gives ||J|| exactly
    G = _float64(nn.Sequential(nn.Dense(3, 8), nn.Tanh(), nn.Dense(8, 1)))
    z = np.random.default_rng(1).standard_normal((5, 3))
    np.testing.assert_allclose(jacobian_norms(G, z, projections=1), _fd_jacobian_norm(G, z),
                               rtol=1e-6)


def test_the_estimate_approaches_the_frobenius_norm_with_more_projections():
    G = _float64(nn.Sequential(nn.Dense(3, 16), nn.Tanh(), nn.Dense(16, 7)))
    z = np.random.default_rng(2).standard_normal((4, 3))
    exact = _fd_jacobian_norm(G, z)
    rough = np.abs(jacobian_norms(G, z, projections=2) / exact - 1).max()
    close = np.abs(jacobian_norms(G, z, projections=3000) / exact - 1).max()
    assert close < 0.02
    assert close < rough


def test_batch_norm_does_not_couple_the_samples_and_the_mode_is_restored(device):
    # one output: the estimate is exact whatever the draws, so a sample's norm must
    # not depend on which batch it came in (in train mode, batch norm would couple
    # them, and a batch of one would have no gradient at all)
    G = nn.Sequential(nn.Dense(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Dense(6, 1)).to(device)
    G.train()
    with no_grad():              # running statistics away from (0, 1)
        for i in range(5):
            G(Tensor(np.random.default_rng(i).standard_normal((32, 4)).astype("float32") + 1,
                     device=device))
    z = np.random.default_rng(9).standard_normal((6, 4)).astype("float32")
    together = jacobian_norms(G, z, projections=1)
    alone = [jacobian_norms(G, z[i:i + 1], projections=1)[0] for i in range(6)]
    np.testing.assert_allclose(together, alone, rtol=1e-5)
    assert np.all(together > 0)
    assert G.training


def test_truncation_leaves_out_the_samples_between_two_modes():
    # G(z) = 3 tanh(8 z): two modes near -3 and +3, joined through z = 0, where
    # |G'(z)| = 24 (1 - tanh^2(8 z)) is largest
    G = nn.Sequential(nn.Dense(1, 1), nn.Tanh(), Rescale(3.0))
    G[0].weight.data[...] = 8.0
    G[0].bias.data[...] = 0.0
    z_all, _ = jacobian_truncation(G, 20_000, keep=1.0, projections=1)
    z_kept, threshold = jacobian_truncation(G, 20_000, keep=0.9, projections=1)
    with no_grad():
        between = [float((np.abs(G(Tensor(z)).numpy()) < 2.0).mean()) for z in (z_all, z_kept)]
    assert between[0] > 0.06         # about 8% of G's samples lie between the modes
    assert between[1] < 0.001        # truncation leaves them out
    assert threshold < 24.0


def test_truncation_keeps_the_lowest_norms_and_is_seeded():
    G = nn.Sequential(nn.Dense(5, 12), nn.Tanh(), nn.Dense(12, 9))
    z, threshold = jacobian_truncation(G, 100, keep=0.5, seed=3)
    assert z.shape == (100, 5) and z.dtype == np.float32
    pool = np.random.default_rng(3).standard_normal((200, 5)).astype(np.float32)
    norms = jacobian_norms(G, pool, seed=4)
    kept = np.isin(pool[:, 0], z[:, 0])
    assert kept.sum() == 100
    assert norms[kept].max() == pytest.approx(threshold)
    assert norms[kept].max() <= norms[~kept].min()
    np.testing.assert_array_equal(jacobian_truncation(G, 100, keep=0.5, seed=3)[0], z)


@pytest.mark.parametrize("kwargs, match", [({"keep": 0.0}, "keep is the fraction"),
                                           ({"keep": 1.5}, "keep is the fraction"),
                                           ({"n": 0}, "n must be a positive integer"),
                                           ({"projections": 0}, "projections must be")])
def test_bad_settings_are_refused(kwargs, match):
    G = nn.Sequential(nn.Dense(2, 3))
    args = {"n": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        jacobian_truncation(G, **args)

"""Jacobian-based truncation (gan/tricks/truncation.py): the norm estimate against finite
differences, samples kept apart, and the in-between samples it leaves out."""
import numpy as np
import pytest

from minigan import nn
from minigan.gan.models import Rescale
from minigan.gan.tricks.clusters import kmeans_clusters
from minigan.gan.tricks.truncation import jacobian_norms, jacobian_truncation, keep_per_stratum
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
    z_all = jacobian_truncation(G, 20_000, keep=1.0, projections=1).codes
    cut = jacobian_truncation(G, 20_000, keep=0.9, projections=1)
    z_kept, threshold = cut.codes, cut.threshold
    with no_grad():
        between = [float((np.abs(G(Tensor(z)).numpy()) < 2.0).mean()) for z in (z_all, z_kept)]
    assert between[0] > 0.06         # about 8% of G's samples lie between the modes
    assert between[1] < 0.001        # truncation leaves them out
    assert threshold < 24.0


def test_truncation_keeps_the_lowest_norms_and_is_seeded():
    G = nn.Sequential(nn.Dense(5, 12), nn.Tanh(), nn.Dense(12, 9))
    cut = jacobian_truncation(G, 100, keep=0.5, seed=3)
    z, threshold = cut.codes, cut.threshold
    assert z.shape == (100, 5) and z.dtype == np.float32
    pool = np.random.default_rng(3).standard_normal((200, 5)).astype(np.float32)
    norms = jacobian_norms(G, pool, seed=4)
    kept = np.isin(pool[:, 0], z[:, 0])
    assert kept.sum() == 100
    assert norms[kept].max() == pytest.approx(threshold)
    assert norms[kept].max() <= norms[~kept].min()
    np.testing.assert_array_equal(jacobian_truncation(G, 100, keep=0.5, seed=3).codes, z)
    np.testing.assert_array_equal(cut.pool, pool)
    np.testing.assert_allclose(cut.norms, norms)
    out = cut.left_out                   # the rest of the pool, the largest norm first
    assert len(out) == 100 and not np.isin(out, cut.kept).any()
    assert np.all(np.diff(cut.norms[out]) <= 0)


@pytest.mark.parametrize("kwargs, match", [({"keep": 0.0}, "keep is the fraction"),
                                           ({"keep": 1.5}, "keep is the fraction"),
                                           ({"n": 0}, "n must be a positive integer"),
                                           ({"projections": 0}, "projections must be")])
def test_bad_settings_are_refused(kwargs, match):
    G = nn.Sequential(nn.Dense(2, 3))
    args = {"n": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        jacobian_truncation(G, **args)


# ------------------------------------------------------------ cutting within strata
def test_each_stratum_keeps_its_share_and_its_smallest_scores():
    rng = np.random.default_rng(0)
    strata = rng.integers(0, 3, 600)
    scores = rng.random(600) + strata          # stratum 2 scores highest throughout
    freq = np.array([0.2, 0.3, 0.5])
    kept = keep_per_stratum(scores, strata, freq, 100)
    assert kept.dtype.kind == "i" and np.all(np.diff(kept) > 0)
    np.testing.assert_array_equal(np.bincount(strata[kept], minlength=3), [20, 30, 50])
    for j in range(3):                          # within a stratum: the smallest scores
        mine = strata == j
        inside = np.isin(np.flatnonzero(mine), kept)
        assert scores[mine][inside].max() < scores[mine][~inside].min()
    # one cut over all of them would keep stratum 0 alone
    assert set(strata[np.argsort(scores)[:100]]) == {0}


def test_shares_are_rounded_to_sum_to_n_and_a_short_stratum_is_filled_from_the_rest():
    strata = np.array([0] * 10 + [1] * 10 + [2] * 10)
    scores = np.arange(30.0)[::-1]
    kept = keep_per_stratum(scores, strata, [1 / 3] * 3, 10)      # 3.33 each: 4, 3, 3
    assert len(kept) == 10 and sorted(np.bincount(strata[kept])) == [3, 3, 4]
    # frequencies a hair over 1 in sum (allowed: 1e-6) whose rounded-down quotas
    # already pass n (900,001 + 900,001 + 1,200,000): still exactly n
    kept = keep_per_stratum(np.arange(6e6), np.repeat([0, 1, 2], 2_000_000),
                            [0.3 + 4e-7, 0.3 + 4e-7, 0.4], 3_000_000)
    assert len(kept) == 3_000_000
    # stratum 0 has 2 items but a quota of 5: its 3 free places go to the smallest
    # scores left in the others
    strata = np.array([0, 0] + [1] * 18)
    scores = np.array([9.0, 8.0] + list(range(18)))
    kept = keep_per_stratum(scores, strata, [0.5, 0.5], 10)
    np.testing.assert_array_equal(kept, [0, 1] + list(range(2, 10)))


@pytest.mark.parametrize("args, match", [
    ((np.ones(3), np.zeros(4, int), [1.0], 2), "3 scores but 4 strata"),
    ((np.ones(3), np.zeros(3, int), [1.0], 4), "n must be an integer in 1..3"),
    ((np.ones(3), np.zeros(3, int), [0.5, 0.4], 2), "sum to 1"),
    ((np.ones(3), np.array([0, 1, 2]), [0.5, 0.5], 2), "strata must be integers in 0..1"),
    ((np.ones(3), np.array([0.0, 1.0, 0.0]), [0.5, 0.5], 2), "strata must be integers")])
def test_bad_strata_are_refused(args, match):
    with pytest.raises(ValueError, match=match):
        keep_per_stratum(*args)


def test_truncation_within_clusters_keeps_the_data_mix_that_one_cut_tilts():
    # G(z) = (4 h + 1, h / 2 - 1), h = LeakyReLU_{1/8}(z1): its 'bright' images (first
    # pixel > 1, z1 > 0) change 8 times as fast as its 'dim' ones, as an inked digit
    # changes more pixels than a thin 1. One cut keeps the slow (dim) ones; within two
    # clusters found on 'training images' half bright, half dim (centres (3, -1) and
    # (-1, -1): the border at a first pixel of 1), each half keeps its share.
    G = nn.Sequential(nn.Dense(2, 2), nn.LeakyReLU(0.125), nn.Dense(2, 2))
    G[0].weight.data[...] = np.array([[1.0, 0.0], [0.0, 0.0]], np.float32)
    G[0].bias.data[...] = 0.0
    G[2].weight.data[...] = np.array([[4.0, 0.0], [0.5, 0.0]], np.float32)
    G[2].bias.data[...] = np.array([1.0, -1.0], np.float32)
    train = np.array([[3.0, -1.0]] * 50 + [[-1.0, -1.0]] * 50, np.float32)
    train += np.random.default_rng(0).normal(0, 0.1, train.shape).astype(np.float32)
    clusters = kmeans_clusters(train, 2, n_components=2, seed=0)
    np.testing.assert_allclose(clusters.frequencies, [0.5, 0.5])

    def bright_share(z):                     # of G's images, the share in the bright cluster
        with no_grad():
            x = G(Tensor(z)).numpy()
        bright = clusters.assign(np.array([[3.0, -1.0]], np.float32))[0]
        return float((clusters.assign(x) == bright).mean())
    plain = jacobian_truncation(G, 500, keep=0.5, projections=4)
    within = jacobian_truncation(G, 500, keep=0.5, projections=4, clusters=clusters)
    assert bright_share(plain.pool) == pytest.approx(0.5, abs=0.05)
    assert bright_share(plain.codes) < 0.2
    assert bright_share(within.codes) == 0.5
    np.testing.assert_array_equal(within.pool, plain.pool)       # the same pool, seeded

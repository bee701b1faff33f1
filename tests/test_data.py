"""Toy mixtures: the PacGAN and Unrolled-GAN layouts, seeded sampling, clear errors."""
import math

import numpy as np
import pytest

import minigan
from minigan import data


def test_ring_defaults_follow_pacgan():
    r = data.ring()
    assert r.n_modes == 8 and r.std == 0.01
    angles = 2 * math.pi * np.arange(8) / 8
    np.testing.assert_allclose(r.centers, np.stack([np.cos(angles), np.sin(angles)], 1), atol=1e-12)


def test_ring_unrolled_setting_is_one_flag_away():
    r = data.ring(setting="unrolled")
    assert r.std == 0.02
    np.testing.assert_allclose(np.linalg.norm(r.centers, axis=1), 2.0)
    assert data.mixture("ring-unrolled").std == 0.02


def test_ring_explicit_values_override_setting():
    r = data.ring(n_modes=6, radius=3.0, std=0.1)
    assert r.n_modes == 6 and r.std == 0.1
    np.testing.assert_allclose(np.linalg.norm(r.centers, axis=1), 3.0)


def test_grid_defaults_follow_pacgan():
    g = data.grid()
    assert g.n_modes == 25 and g.std == 0.05
    assert sorted(set(g.centers[:, 0])) == [-4, -2, 0, 2, 4]
    assert sorted(set(g.centers[:, 1])) == [-4, -2, 0, 2, 4]
    assert len({tuple(c) for c in g.centers}) == 25


def test_samples_are_seeded_float32_tensors_with_the_right_spread(device):
    r = data.ring(std=0.05)
    minigan.manual_seed(3)
    x, modes = r.sample(4000, device=device, return_modes=True)
    assert isinstance(x, minigan.Tensor) and x.shape == (4000, 2) and x.dtype == np.float32
    assert x.device == device
    minigan.manual_seed(3)
    np.testing.assert_array_equal(r.sample(4000, device=device).numpy(), x.numpy())
    xs, m = x.numpy(), np.asarray(modes.get() if hasattr(modes, "get") else modes)
    resid = xs - r.centers[m]
    assert abs(resid.std() - 0.05) < 0.003               # the std is the std
    counts = np.bincount(m, minlength=8)
    assert counts.min() > 400 and counts.max() < 600     # modes are equally likely (500 each)


def test_gaussian_1d():
    g = data.gaussian_1d(4.0, 0.5)
    x = g.sample(5000).numpy()
    assert x.shape == (5000, 1)
    assert abs(x.mean() - 4.0) < 0.05 and abs(x.std() - 0.5) < 0.03


@pytest.mark.parametrize("make, match", [
    (lambda: data.GaussianMixture(np.zeros((0, 2)), 0.1), "at least one mode"),
    (lambda: data.ring(n_modes=0), "at least one mode"),
    (lambda: data.grid(side=0), "at least one mode"),
    (lambda: data.ring(std=-0.1), "must be >= 0"),
    (lambda: data.grid(std=float("nan")), "must be >= 0"),
    (lambda: data.ring(setting="wide"), "unknown setting"),
    (lambda: data.mixture("spiral"), "known: ring, ring-unrolled, grid"),
])
def test_bad_mixtures_get_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()

"""Latent walks and code arithmetic: the paths' ends and norms, the arithmetic, errors."""
import numpy as np
import pytest

from minigan.lessons import latent


def test_both_paths_start_and_end_at_the_codes_and_slerp_keeps_the_norm():
    rng = np.random.default_rng(0)
    z0, z1 = rng.standard_normal(100), rng.standard_normal(100)
    t = np.linspace(0, 1, 9)
    for path in (latent.lerp, latent.slerp):
        p = path(z0, z1, t)
        np.testing.assert_allclose(p[0], z0, atol=1e-12)
        np.testing.assert_allclose(p[-1], z1, atol=1e-12)
    mid_l = np.linalg.norm(latent.lerp(z0, z1, [0.5])[0])
    mid_s = np.linalg.norm(latent.slerp(z0, z1, [0.5])[0])
    ends = (np.linalg.norm(z0) + np.linalg.norm(z1)) / 2
    assert 0.6 < mid_l / ends < 0.8                   # about 1/sqrt(2) for random codes
    assert abs(mid_s / ends - 1) < 0.05
    # equal norms: slerp keeps it exactly, all along the path
    u = z1 / np.linalg.norm(z1) * np.linalg.norm(z0)
    np.testing.assert_allclose(np.linalg.norm(latent.slerp(z0, u, t), axis=1),
                               np.linalg.norm(z0), rtol=1e-12)


def test_slerp_of_parallel_codes_falls_back_to_the_line():
    z = np.ones(4)
    np.testing.assert_allclose(latent.slerp(z, 2 * z, [0.5])[0], 1.5 * z)


def test_a_walk_has_one_row_per_consecutive_pair():
    codes = np.random.default_rng(1).standard_normal((9, 5))
    w = latent.walk(codes, 9, "slerp")
    assert w.shape == (8, 9, 5)
    np.testing.assert_allclose(w[3, -1], codes[4], atol=1e-12)
    np.testing.assert_allclose(w[4, 0], codes[4], atol=1e-12)
    with pytest.raises(ValueError, match="kind must be 'lerp' or 'slerp'"):
        latent.walk(codes, 9, "cubic")
    with pytest.raises(ValueError, match="at least two codes"):
        latent.walk(codes[:1], 9)


def test_concept_arithmetic_averages_each_concept():
    a, b, c = np.full((3, 2), 3.0), np.full((3, 2), 1.0), np.array([[0.0, 0.0], [2.0, 4.0]])
    np.testing.assert_allclose(latent.concept_arithmetic(a, b, c), [3.0, 4.0])
    with pytest.raises(ValueError, match="differ in size"):
        latent.concept_arithmetic(a, b, np.zeros((3, 5)))


def test_the_arithmetic_refuses_a_model_too_weak_to_draw_the_concepts():
    import minigan
    from minigan.experiments import latent_walk as lab
    from minigan.eval import evaluate
    from minigan.gan import models
    minigan.manual_seed(0)
    G = models.dcgan_generator()                  # untrained: no confident digit
    with pytest.raises(RuntimeError, match="too weak for the arithmetic.*python -m minigan run "
                                           "dcgan"):
        lab.concepts(G, evaluate.load_classifier(), np.random.default_rng(0), 50, 0, 7)

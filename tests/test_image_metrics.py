"""Image-GAN metrics (Inception Score, Frechet distance, class accuracy, copying)
against cases known in closed form or by brute force."""
import math

import numpy as np
import pytest

import minigan
from minigan.eval import metrics


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------- Inception Score

@pytest.mark.parametrize("k,splits", [(2, 1), (10, 5), (10, 10)])
def test_is_of_confident_predictions_spread_over_k_classes_is_k(k, splits):
    # each consecutive part holds every class 3 times, each predicted with certainty
    n = k * splits * 3
    probs = np.eye(k)[np.arange(n) % k]
    mean, std = metrics.inception_score(probs, splits=splits)
    assert mean == pytest.approx(k, abs=1e-6)
    assert std == pytest.approx(0.0, abs=1e-9)


def test_is_of_a_single_repeated_image_is_one():
    row = _softmax(np.random.default_rng(0).normal(size=(1, 10)) * 3)
    mean, std = metrics.inception_score(np.repeat(row, 100, axis=0), splits=10)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_is_of_uniform_predictions_is_one():
    mean, std = metrics.inception_score(np.full((50, 10), 0.1), splits=5)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_is_hand_computed_two_classes_four_samples():
    probs = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    # p(y) = (0.625, 0.375); KL of each row to it, by hand (0 ln 0 = 0):
    kl = [math.log(1 / 0.625), math.log(1 / 0.625), math.log(1 / 0.375),
          0.5 * math.log(0.5 / 0.625) + 0.5 * math.log(0.5 / 0.375)]
    mean, std = metrics.inception_score(probs, splits=1)
    assert mean == pytest.approx(math.exp(sum(kl) / 4), rel=1e-12)
    assert std == 0.0


def _is_numpy(p):
    """The formula written out once more, for one part."""
    py = p.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - np.log(py)), 0.0)
    return math.exp(terms.sum(axis=1).mean())


def test_is_matches_the_formula_on_random_predictions_and_lies_in_1_k():
    probs = _softmax(np.random.default_rng(1).normal(size=(200, 10)) * 2)
    parts = [_is_numpy(probs[i * 20:(i + 1) * 20]) for i in range(10)]
    mean, std = metrics.inception_score(probs, splits=10)
    assert mean == pytest.approx(np.mean(parts), rel=1e-10)
    assert std == pytest.approx(np.std(parts), rel=1e-10)
    assert 1.0 < mean < 10.0


def test_is_splits_score_each_part_on_its_own():
    # first half all class 0, second half all class 1 (each half collapsed)
    probs = np.eye(2)[[0] * 10 + [1] * 10]
    assert metrics.inception_score(probs, splits=1) == pytest.approx((2.0, 0.0))
    assert metrics.inception_score(probs, splits=2) == pytest.approx((1.0, 0.0))


def test_is_uneven_splits_use_array_split():
    probs = _softmax(np.random.default_rng(2).normal(size=(7, 3)))
    parts = [_is_numpy(probs[:3]), _is_numpy(probs[3:5]), _is_numpy(probs[5:])]
    mean, std = metrics.inception_score(probs, splits=3)
    assert mean == pytest.approx(np.mean(parts), rel=1e-12)
    assert std == pytest.approx(np.std(parts), rel=1e-12)


def test_is_accepts_float32_softmax_rows_and_a_tensor():
    probs = _softmax(np.random.default_rng(3).normal(size=(40, 10))).astype(np.float32)
    ref = metrics.inception_score(probs.astype(np.float64), splits=4)
    assert metrics.inception_score(probs, splits=4) == pytest.approx(ref, rel=1e-5)
    assert metrics.inception_score(minigan.tensor(probs), splits=4) == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize("probs,splits,match", [
    (np.full(10, 0.1), 1, "2-D"),
    (np.full((4, 2, 5), 0.1), 1, "2-D"),
    (np.random.default_rng(0).normal(size=(20, 10)), 2, "logits"),
    (np.array([[1.2, -0.2]] * 4), 1, "probability distribution"),
    (np.full((4, 2), 0.5), 5, "cannot be cut into 5 parts"),
    (np.full((4, 2), 0.5), 0, "positive integer"),
    (np.array([[np.nan, 0.5]] * 4), 1, "NaN"),
])
def test_is_errors_name_the_problem(probs, splits, match):
    with pytest.raises(ValueError, match=match):
        metrics.inception_score(probs, splits=splits)


# ---------------------------------------------------------------- class accuracy

def test_class_accuracy_hand_case():
    probs = np.array([[0.8, 0.1, 0.1],    # 0, asked 0: right
                      [0.2, 0.7, 0.1],    # 1, asked 1: right
                      [0.1, 0.6, 0.3],    # 1, asked 2: wrong
                      [0.0, 0.1, 0.9]])   # 2, asked 2: right
    assert metrics.class_accuracy(probs, [0, 1, 2, 2]) == 0.75
    assert metrics.class_accuracy(np.log(probs + 1e-9), np.array([0, 1, 2, 2])) == 0.75
    assert metrics.class_accuracy(probs, [1, 0, 0, 0]) == 0.0


@pytest.mark.parametrize("requested,match", [
    ([0, 1, 2], "4 class labels"),
    ([0, 1, 3, 2], r"0\.\.2"),
    ([0, 1, 1.5, 2], "whole class labels"),
])
def test_class_accuracy_errors(requested, match):
    with pytest.raises(ValueError, match=match):
        metrics.class_accuracy(np.full((4, 3), 1 / 3), requested)


# ---------------------------------------------------------------- Frechet distance

def _closed_form_diag(mu1, a, mu2, b):
    return float(((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum())


def _random_cov(rng, d):
    m = rng.normal(size=(d, d))
    return m @ m.T / d + 0.1 * np.eye(d)


def test_fd_of_a_set_with_itself_is_zero():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(500, 8)) @ rng.normal(size=(8, 8))
    scale = np.trace(np.cov(f, rowvar=False))
    assert metrics.frechet_distance(f, f) < 1e-6 * scale


@pytest.mark.parametrize("d", [1, 5, 32])
def test_fd_of_diagonal_gaussians_matches_the_closed_form(d):
    rng = np.random.default_rng(d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    a, b = rng.uniform(0.1, 3.0, size=d), rng.uniform(0.1, 3.0, size=d)
    fd = metrics.frechet_distance_from_stats(mu1, np.diag(a), mu2, np.diag(b))
    assert fd == pytest.approx(_closed_form_diag(mu1, a, mu2, b), rel=1e-6)


def test_fd_of_rotated_diagonal_gaussians_matches_the_closed_form():
    # S = Q diag(a) Q^T and Q diag(b) Q^T commute: same closed form, but the
    # matrices are full, so an elementwise square root would be caught
    rng = np.random.default_rng(5)
    d = 6
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    a, b = rng.uniform(0.1, 3.0, size=d), rng.uniform(0.1, 3.0, size=d)
    fd = metrics.frechet_distance_from_stats(mu1, q @ np.diag(a) @ q.T, mu2, q @ np.diag(b) @ q.T)
    assert fd == pytest.approx(_closed_form_diag(mu1, a, mu2, b), rel=1e-6)


def _sym_sqrt(s):
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def test_fd_of_general_gaussians_matches_a_symmetric_eigen_formula():
    # Tr (S1 S2)^{1/2} = Tr (S1^{1/2} S2 S1^{1/2})^{1/2}, the latter by eigh only
    rng = np.random.default_rng(6)
    d = 7
    s1, s2 = _random_cov(rng, d), _random_cov(rng, d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    r1 = _sym_sqrt(s1)
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) \
        - 2 * np.trace(_sym_sqrt(r1 @ s2 @ r1))
    assert metrics.frechet_distance_from_stats(mu1, s1, mu2, s2) == pytest.approx(expected,
                                                                                  rel=1e-8)


def test_fd_is_symmetric():
    rng = np.random.default_rng(7)
    a = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5))
    b = rng.normal(size=(200, 5)) * 2 + 1
    assert metrics.frechet_distance(a, b) == pytest.approx(metrics.frechet_distance(b, a),
                                                           rel=1e-9)


def test_fd_translation_by_v_adds_the_squared_norm_of_v():
    rng = np.random.default_rng(8)
    a = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6))
    v = np.array([1.0, -2.0, 0.5, 0.0, 3.0, 1.5])
    assert metrics.frechet_distance(a, a + v) == pytest.approx(v @ v, rel=1e-6)


def test_fd_estimated_from_samples_is_near_the_closed_form():
    rng = np.random.default_rng(9)
    mu1, mu2 = np.array([0.0, 1.0, 0.0, -1.0]), np.array([0.5, 1.0, -0.5, -1.0])
    a, b = np.array([1.0, 2.0, 0.5, 1.0]), np.array([1.0, 1.0, 1.5, 0.25])
    n = 20_000
    fa = mu1 + rng.normal(size=(n, 4)) * np.sqrt(a)
    fb = mu2 + rng.normal(size=(n, 4)) * np.sqrt(b)
    exact = _closed_form_diag(mu1, a, mu2, b)                  # about 0.84
    assert metrics.frechet_distance(fa, fb) == pytest.approx(exact, abs=0.03)


def test_feature_statistics_are_the_mean_and_unbiased_covariance():
    f = np.random.default_rng(10).normal(size=(50, 3))
    mu, sigma = metrics.feature_statistics(f)
    np.testing.assert_allclose(mu, f.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(sigma, (f - mu).T @ (f - mu) / 49, rtol=1e-12)
    mu1, s1 = metrics.feature_statistics(f[:, :1].astype(np.float32))
    assert mu1.shape == (1,) and s1.shape == (1, 1) and s1.dtype == np.float64


def test_fd_with_fewer_samples_than_features_is_accurate_and_quiet(recwarn):
    # singular covariances: sqrtm warns "Matrix is singular" but its root is
    # still right; the answer agrees with the symmetric eigen form, no warning
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=(5, 20)), rng.normal(size=(8, 20)) + 1
    (mu1, s1), (mu2, s2) = metrics.feature_statistics(a), metrics.feature_statistics(b)
    r1 = _sym_sqrt(s1)
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) \
        - 2 * np.trace(_sym_sqrt(r1 @ s2 @ r1))
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    zero = np.zeros((3, 3))
    assert metrics.frechet_distance_from_stats(np.zeros(3), zero, np.ones(3), zero) == 3.0
    assert not [w for w in recwarn if "singular" in str(w.message)]


def test_fd_nudges_both_covariances_when_sqrtm_fails(monkeypatch):
    # the first root comes back NaN (as sqrtm can for a near-singular product):
    # the distance is then that of the pair nudged by eps * I, all traces included
    real_sqrtm, calls = metrics._sqrtm, []

    def flaky(m):
        calls.append(m)
        return np.full_like(m, np.nan) if len(calls) == 1 else real_sqrtm(m)

    monkeypatch.setattr(metrics, "_sqrtm", flaky)
    mu1, mu2 = np.array([0.0, 1.0]), np.array([2.0, 1.0])
    a, b, eps = np.array([1.0, 0.0]), np.array([4.0, 0.0]), 1e-2
    fd = metrics.frechet_distance_from_stats(mu1, np.diag(a), mu2, np.diag(b), eps=eps)
    assert len(calls) == 2
    assert fd == pytest.approx(_closed_form_diag(mu1, a + eps, mu2, b + eps), rel=1e-9)


def test_fd_refuses_a_covariance_that_is_not_positive_semidefinite():
    with pytest.raises(ValueError, match="positive semi-definite"):
        metrics.frechet_distance_from_stats(np.zeros(2), np.eye(2), np.zeros(2), -np.eye(2))


@pytest.mark.parametrize("a,b,match", [
    (np.zeros((10, 4)), np.zeros((10, 5)), "different dimensions"),
    (np.zeros((1, 4)), np.zeros((10, 4)), "at least 2"),
    (np.zeros(10), np.zeros((10, 1)), "2-D"),
    (np.full((10, 2), np.inf), np.zeros((10, 2)), "NaN or inf"),
])
def test_fd_errors_name_the_problem(a, b, match):
    with pytest.raises(ValueError, match=match):
        metrics.frechet_distance(a, b)


def test_fd_from_stats_errors_name_the_problem():
    with pytest.raises(ValueError, match="same length"):
        metrics.frechet_distance_from_stats(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match=r"sigma2 must be a \(3, 3\)"):
        metrics.frechet_distance_from_stats(np.zeros(3), np.eye(3), np.zeros(3), np.eye(2))


# ---------------------------------------------------------------- nearest neighbours

def _brute_force(x, r):
    x = x.reshape(len(x), -1).astype(np.float64)
    r = r.reshape(len(r), -1).astype(np.float64)
    d = np.sqrt(((x[:, None, :] - r[None, :, :]) ** 2).sum(axis=2))
    return d.min(axis=1), d.argmin(axis=1)


def test_nearest_neighbour_distances_match_brute_force_with_exact_copies_at_zero():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(300, 20))
    x = rng.normal(size=(50, 20))
    x[[3, 17, 40]] = ref[[5, 299, 0]]                  # exact copies of training rows
    d, j = metrics.nearest_neighbour_distances(x, ref, return_index=True)
    d_bf, j_bf = _brute_force(x, ref)
    np.testing.assert_allclose(d, d_bf, rtol=1e-10)
    np.testing.assert_array_equal(j, j_bf)
    assert d.shape == (50,) and (d[[3, 17, 40]] == 0).all()
    assert (d[np.setdiff1d(np.arange(50), [3, 17, 40])] > 0).all()


def test_nearest_neighbour_distances_do_not_depend_on_the_batching():
    rng = np.random.default_rng(1)
    ref, x = rng.normal(size=(257, 16)), rng.normal(size=(61, 16))
    d = metrics.nearest_neighbour_distances(x, ref)
    for batch, rbatch in [(1, 1), (7, 13), (61, 256), (1000, 10_000)]:
        np.testing.assert_allclose(
            metrics.nearest_neighbour_distances(x, ref, batch=batch, reference_batch=rbatch),
            d, rtol=1e-12)


def test_nearest_neighbour_distances_are_exact_for_near_copies_far_from_the_origin():
    # ||x||^2 ~ 1e8: the expansion alone loses ~1e-8 * 1e8 of the squared distance;
    # recomputing ||x - r|| for the row found keeps a 1e-3 perturbation exact
    rng = np.random.default_rng(2)
    ref = 1000.0 + rng.normal(size=(100, 64))
    x = ref[:20] + 1e-3 * rng.normal(size=(20, 64))
    d_bf, _ = _brute_force(x, ref)
    np.testing.assert_allclose(metrics.nearest_neighbour_distances(x, ref), d_bf, rtol=1e-9)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_nearest_neighbour_distances_are_dtype_safe(dtype):
    # uint8 MNIST pixels would wrap around if multiplied in uint8
    rng = np.random.default_rng(3)
    ref = rng.integers(0, 256, size=(200, 1, 6, 6)).astype(dtype)
    x = rng.integers(0, 256, size=(30, 1, 6, 6)).astype(dtype)
    x[0] = ref[9]
    d = metrics.nearest_neighbour_distances(x, ref, batch=8, reference_batch=64)
    d_bf, _ = _brute_force(x, ref)
    assert d.dtype == np.float64 and d[0] == 0
    np.testing.assert_allclose(d, d_bf, rtol=1e-10)


def test_nearest_neighbour_distances_accept_image_shapes_and_tensors(device):
    rng = np.random.default_rng(4)
    ref = rng.uniform(-1, 1, size=(40, 1, 28, 28)).astype(np.float32)
    x = rng.uniform(-1, 1, size=(12, 1, 28, 28)).astype(np.float32)
    d = metrics.nearest_neighbour_distances(x, ref)
    np.testing.assert_allclose(metrics.nearest_neighbour_distances(x.reshape(12, 784),
                                                                   ref.reshape(40, 28, 28)), d)
    on_device = metrics.nearest_neighbour_distances(minigan.tensor(x, device=device),
                                                    minigan.tensor(ref, device=device).data)
    assert isinstance(on_device, np.ndarray)
    np.testing.assert_allclose(on_device, d, rtol=1e-12)


@pytest.mark.parametrize("x,ref,kw,match", [
    (np.zeros(784), np.zeros((5, 784)), {}, "leading axis"),
    (np.zeros((3, 784)), np.zeros((5, 28, 27)), {}, "same size"),
    (np.zeros((3, 784)), np.zeros((0, 784)), {}, "reference must hold"),
    (np.zeros((3, 784)), np.zeros((5, 784)), {"batch": 0}, "positive integer"),
    (np.full((3, 4), np.nan), np.zeros((5, 4)), {}, "NaN"),
])
def test_nearest_neighbour_distances_errors(x, ref, kw, match):
    with pytest.raises(ValueError, match=match):
        metrics.nearest_neighbour_distances(x, ref, **kw)


# ---------------------------------------------------------------- copying report

def _digits(rng, n):
    """Stand-in images: noisy copies of 5 prototypes, (n, 1, 8, 8) in [0, 1]."""
    protos = np.random.default_rng(99).uniform(size=(5, 1, 8, 8))
    return np.clip(protos[rng.integers(0, 5, size=n)] + 0.2 * rng.normal(size=(n, 1, 8, 8)),
                   0, 1)


def test_copying_report_tells_a_copying_model_from_an_honest_one():
    rng = np.random.default_rng(0)
    train, test = _digits(rng, 600), _digits(rng, 200)
    copier = metrics.copying_report(train[100:300], train, test, n=None)
    assert copier["gen_median"] == 0 and copier["gen_p5"] == 0 and copier["gen_mean"] == 0
    assert copier["gen_exact_copies"] == 1.0 and copier["median_ratio"] == 0
    assert copier["test_median"] > 0 and copier["test_exact_copies"] == 0
    honest = metrics.copying_report(_digits(rng, 200), train, test, n=None)
    assert honest["gen_exact_copies"] == 0
    assert 0.8 < honest["median_ratio"] < 1.25          # as far from train as new images are
    # a model that returns the test images is exactly as far as the test images
    mirror = metrics.copying_report(test, train.reshape(600, 64), test.reshape(200, 8, 8), n=None)
    assert mirror["median_ratio"] == 1.0 and mirror["gen_mean"] == mirror["test_mean"]
    assert (copier["n_gen"], copier["n_test"], copier["n_train"]) == (200, 200, 600)
    # the numbers are the stated statistics of the nearest-train distances
    r = metrics.copying_report(_digits(np.random.default_rng(5), 300), train, test, n=None)
    d = metrics.nearest_neighbour_distances(_digits(np.random.default_rng(5), 300), train)
    t = metrics.nearest_neighbour_distances(test, train)
    assert r["gen_median"] == pytest.approx(np.median(d), rel=1e-12)
    assert r["gen_mean"] == pytest.approx(d.mean(), rel=1e-12)
    assert r["gen_p5"] == pytest.approx(np.percentile(d, 5), rel=1e-12)
    assert r["test_p5"] == pytest.approx(np.percentile(t, 5), rel=1e-12)
    assert r["median_ratio"] == pytest.approx(np.median(d) / np.median(t), rel=1e-12)


def test_copying_report_flags_lightly_perturbed_copies():
    rng = np.random.default_rng(1)
    train, test = _digits(rng, 600), _digits(rng, 200)
    near = train[:200] + 0.01 * rng.normal(size=train[:200].shape)
    r = metrics.copying_report(near, train, test, n=None)
    assert r["gen_exact_copies"] == 0 and r["median_ratio"] < 0.1


def test_copying_report_subsamples_reproducibly():
    rng = np.random.default_rng(2)
    train, test, gen = _digits(rng, 300), _digits(rng, 150), _digits(rng, 150)
    r1 = metrics.copying_report(gen, train, test, n=50, seed=3)
    r2 = metrics.copying_report(gen, train, test, n=50, seed=3)
    assert r1 == r2 and r1["n_gen"] == 50 and r1["n_test"] == 50 and r1["n_train"] == 300


def test_copying_report_errors():
    with pytest.raises(ValueError, match="same size"):
        metrics.copying_report(np.zeros((4, 1, 28, 28)), np.zeros((10, 1, 28, 28)),
                               np.zeros((4, 1, 8, 8)))
    with pytest.raises(ValueError, match="n must be a positive integer"):
        metrics.copying_report(np.zeros((4, 64)), np.zeros((10, 64)), np.zeros((4, 64)), n=0)

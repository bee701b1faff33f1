"""Judging image GANs with numbers: classifiers minigan trained itself.

A GAN's samples are scored through the eyes of ``MnistClassifier``
(``minigan.gan.models``), trained on MNIST with minigan by
``python -m minigan run mnist-classifier``. A second judge, ``MnistMLPClassifier``
(another architecture, another seed: ``--set judge=mlp --seed 1``), scores them
again (``second_opinion``): a setting chosen by looking at the first judge's
scores is checked by one that took no part in the choice. Their weights ship
with the package (``weights/``), and ``load_classifier`` checks their SHA-256
before use, so every machine judges with the same eyes and nobody has to train
them by hand.

What is measured (the formulas are in ``minigan.eval.metrics``):

* the classifier Inception Score over 10,000 samples in 10 splits: high when
  each sample is clearly one digit and all ten digits appear (at most 10);
* the Frechet distance between the samples' and the test images' features
  (the classifier's 128 penultimate numbers), beside its floor: 10,000 real
  training images against the same test images;
* for a conditional model, how often the classifier sees the requested digit;
* each sample's distance to its nearest training image, beside the same for
  held-out test images: a model that copies its training set sits closer;
* precision, recall, density and coverage (``minigan.eval.manifold``, k = 5) of the
  samples' features against the test images', beside the same four for as many
  real training images (``_real_train_vs_test``): what a perfect generator would
  score with that many samples, since none of the four is 1 for real data.
"""
import os

import numpy

from .. import backend
from ..serialization import load, check_sha256
from ..tensor import Tensor, no_grad
from . import metrics, manifold
from ..gan.models import MnistClassifier, MnistMLPClassifier

_HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")
WEIGHTS = os.path.join(_HERE, "mnist_classifier.npz")
WEIGHTS_SHA256 = "907753e0cebf061ad6de56d8259e1921fa525045d15f19d54724961ad6276c26"
# judge -> (its network, its shipped weights, their SHA-256). "cnn" is the judge every
# report uses; "mlp", another architecture trained on another seed, is the second
# judge that checks a setting chosen by looking at the first one's scores.
JUDGES = {"cnn": (MnistClassifier, WEIGHTS, WEIGHTS_SHA256),
          "mlp": (MnistMLPClassifier, os.path.join(_HERE, "mnist_mlp_classifier.npz"),
                  "bff39820567d54690ff2f14e8f10d4358c19279ddef1a371ddc68e043f37ad4f")}
N_SAMPLES = 10_000        # samples an evaluation scores
MANIFOLD_K = 5            # the k of precision, recall, density, coverage (both papers')


def load_classifier(path=None, device="cpu", sha256=None, judge="cnn"):
    """The evaluator `judge` ("cnn", or "mlp", the second judge) with its shipped
    weights (or those at `path`), checked against their SHA-256, in eval mode on
    `device`."""
    if judge not in JUDGES:
        raise ValueError(f"load_classifier: judge must be one of {', '.join(JUDGES)}, "
                         f"got {judge!r}")
    network, shipped, shipped_sha256 = JUDGES[judge]
    path = os.fspath(path or shipped)
    expected = sha256 if sha256 is not None else (shipped_sha256 if path == shipped else None)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"the evaluator classifier's weights are missing: {path}. Train them with "
            f"`python -m minigan run mnist-classifier --set judge={judge}` (a few minutes), "
            f"which writes {os.path.basename(shipped)} into its --out folder, and pass "
            f"that path")
    if expected is not None:
        check_sha256(path, expected, "the evaluator classifier's weights",
                     f"Reinstall minigan, or retrain with `python -m minigan run "
                     f"mnist-classifier --set judge={judge}`")
    clf = network()
    clf.load_state_dict(load(path))
    return clf.to(device).eval()


def as_images(samples):
    """Samples as float32 NCHW images in [-1, 1]: accepts uint8 pixels 0..255 of shape
    (N, 28, 28) or (N, 1, 28, 28) (what the experiments save), floats in [-1, 1] of
    shape (N, 784), (N, 28, 28) or (N, 1, 28, 28), NumPy arrays or Tensors."""
    x = samples.numpy() if isinstance(samples, Tensor) else backend.to_numpy(samples)
    if x.dtype == numpy.uint8:
        x = x.astype(numpy.float32) / 127.5 - 1.0
    x = numpy.asarray(x, numpy.float32)
    if x.ndim == 2 and x.shape[1] == 784:
        x = x.reshape(-1, 1, 28, 28)
    elif x.ndim == 3 and x.shape[1:] == (28, 28):
        x = x[:, None]
    if x.ndim != 4 or x.shape[1:] != (1, 28, 28):
        raise ValueError(f"expected MNIST-shaped images, (N, 1, 28, 28), (N, 28, 28) or "
                         f"(N, 784), got shape {x.shape}")
    return x


def classify(classifier, samples, batch=500, device=None):
    """(probabilities (N, 10), features (N, 128)) of the classifier on `samples`, as
    NumPy float64 arrays, computed in batches without a graph."""
    x = as_images(samples)
    device = device or next(iter(classifier.parameters())).device
    probs, feats = [], []
    with no_grad():
        for i in range(0, len(x), batch):
            h = classifier.features(Tensor(x[i:i + batch], device=device))
            logits = classifier.head(h).numpy().astype(numpy.float64)
            logits -= logits.max(axis=1, keepdims=True)
            p = numpy.exp(logits)
            probs.append(p / p.sum(axis=1, keepdims=True))
            feats.append(h.numpy().astype(numpy.float64))
    return numpy.concatenate(probs), numpy.concatenate(feats)


def frechet_to(classifier, samples, reference_stats):
    """The Frechet distance between the classifier's features of `samples` and
    `reference_stats` (a (mean, covariance) pair, e.g. ``reference(...)["test_stats"]``)."""
    _, feats = classify(classifier, samples)
    return metrics.frechet_distance_from_stats(*metrics.feature_statistics(feats),
                                               *reference_stats)


_REFERENCE = {}


def reference(classifier_key, classifier, data_dir=None, n_train=N_SAMPLES):
    """The real images' side of the comparisons, computed once per process: test
    features and statistics, and those of the first `n_train` training images
    (``manifold_reference`` adds the k-NN radii of the test features when asked).

    Callers key it by ``id(classifier)``. The entry keeps the classifier itself,
    so that while it is cached no other classifier can be given the same id (a
    freed object's id is reused), and an entry found under the key but made for
    another classifier is computed again: one judge's features are never
    compared with another's."""
    from ..data import mnist
    key = (classifier_key, data_dir, n_train)
    cached = _REFERENCE.get(key)
    if cached is None or cached["classifier"] is not classifier:
        test_x, test_y = mnist("test", data_dir)
        train_x, _ = mnist("train", data_dir)
        test_p, test_f = classify(classifier, test_x)
        _, train_f = classify(classifier, train_x[:n_train])
        _REFERENCE[key] = dict(classifier=classifier, test_images=test_x, test_labels=test_y,
                               test_probs=test_p, test_features=test_f, train_features=train_f,
                               test_stats=metrics.feature_statistics(test_f),
                               train_stats=metrics.feature_statistics(train_f))
    return _REFERENCE[key]


def manifold_reference(ref, n, k=MANIFOLD_K):
    """The test features' k-NN radii, and precision, recall, density and coverage of
    the first `n` training images' features against the test features (the
    real-vs-real values for `n` samples), computed once per `ref` (from
    ``reference``), k and n. `n` may not exceed the training features ``ref`` holds."""
    if n > len(ref["train_features"]):
        raise ValueError(f"manifold_reference: n must be at most the {len(ref['train_features'])} "
                         f"training images the reference holds, got {n}")
    cache = ref.setdefault("manifold", {})
    if k not in cache:
        cache[k] = {"test_radii": manifold.knn_radii(ref["test_features"], k)}
    if n not in cache[k]:
        cache[k][n] = manifold.prdc(ref["test_features"], ref["train_features"][:n], k,
                                    real_radii=cache[k]["test_radii"])
    return cache[k]["test_radii"], cache[k][n]


def manifold_scores(feats, ref, k=MANIFOLD_K):
    """Precision, recall, density and coverage of the features `feats` (N, 128)
    against the test features, and the same four for N real training images
    (keys suffixed ``_real_train_vs_test``), and ``manifold_k``."""
    radii, real = manifold_reference(ref, len(feats), k)
    out = manifold.prdc(ref["test_features"], feats, k, real_radii=radii)
    out.update({f"{name}_real_train_vs_test": v for name, v in real.items()})
    return dict(out, manifold_k=k)


def _shuffled(rows, seed=0):
    """The rows in a fixed random order (the same for every evaluation)."""
    return rows[numpy.random.default_rng(seed).permutation(len(rows))]


def evaluate(samples, requested=None, classifier=None, data_dir=None, nn_samples=1000):
    """Every number of an image GAN's report, for 10,000 `samples` (and, for a
    conditional model, the classes `requested`).

    Returns a dict: inception_score (mean, std over 10 splits), the same for real
    test images, frechet_distance (samples vs test features) and its floor
    (10,000 training vs test images), class_accuracy (conditional only), and
    the nearest-training-image distances of the first `nn_samples` samples
    beside those of as many test images; precision, recall, density and
    coverage against the test images beside those of as many training images
    (``manifold_scores``; left out for fewer than ``MANIFOLD_K + 1`` samples, or
    more than the reference's 10,000 training images).
    """
    from ..data import mnist
    clf = classifier or load_classifier()
    ref = reference(id(clf), clf, data_dir)
    probs, feats = classify(clf, samples)
    # the 10 splits must each be a random tenth: samples saved class by class (the
    # conditional run's) would otherwise give splits of one class each and IS near 1
    is_mean, is_std = metrics.inception_score(_shuffled(probs), splits=10)
    real_mean, real_std = metrics.inception_score(_shuffled(ref["test_probs"]), splits=10)
    mu, sigma = metrics.feature_statistics(feats)
    out = {"n_samples": len(probs),
           "inception_score": is_mean, "inception_score_std": is_std,
           "inception_score_real_test": real_mean, "inception_score_real_test_std": real_std,
           "frechet_distance": metrics.frechet_distance_from_stats(mu, sigma, *ref["test_stats"]),
           "frechet_distance_floor_train_vs_test": metrics.frechet_distance_from_stats(
               *ref["train_stats"], *ref["test_stats"])}
    if requested is not None:
        out["class_accuracy"] = metrics.class_accuracy(probs, backend.to_numpy(
            requested.data if isinstance(requested, Tensor) else requested))
    if MANIFOLD_K < len(feats) <= len(ref["train_features"]):
        out.update(manifold_scores(feats, ref))
    train_x, _ = mnist("train", data_dir)
    k = min(nn_samples, len(probs))
    out["nearest_train"] = metrics.copying_report(as_images(samples)[:k], train_x,
                                                  ref["test_images"][:k])
    return out


def second_opinion(samples, classifier, requested=None, data_dir=None):
    """The headline numbers of ``evaluate`` through the eyes of another `classifier`
    (the second judge, ``load_classifier(judge="mlp")``), keys prefixed ``judge2_``:
    its Inception Score (and that of real test images), its Frechet distance (and
    its floor), and for a conditional model its class accuracy."""
    ref = reference(id(classifier), classifier, data_dir)
    probs, feats = classify(classifier, samples)
    out = {"judge2_inception_score": metrics.inception_score(_shuffled(probs), splits=10)[0],
           "judge2_inception_score_real_test": metrics.inception_score(
               _shuffled(ref["test_probs"]), splits=10)[0],
           "judge2_frechet_distance": metrics.frechet_distance_from_stats(
               *metrics.feature_statistics(feats), *ref["test_stats"]),
           "judge2_frechet_distance_floor_train_vs_test": metrics.frechet_distance_from_stats(
               *ref["train_stats"], *ref["test_stats"])}
    if requested is not None:
        out["judge2_class_accuracy"] = metrics.class_accuracy(probs, backend.to_numpy(
            requested.data if isinstance(requested, Tensor) else requested))
    return out

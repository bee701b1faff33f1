"""Classes found without labels: k-means clusters of the training images.

A conditional GAN (``models.ConditionalGenerator``) is told which digit to draw; the
unconditional one must decide that itself, and a generator that is a continuous map
from z spends part of its z-space on shapes half-way between two digits. Told a
*cluster* instead of a label, it gets most of the help without any label: the
cluster-conditioned GAN (Sage et al. 2018; Liu et al. 2020's self-conditioned GAN
re-clusters during training, here the clusters are found once, before it).

The clusters: k-means (Lloyd's algorithm, k-means++ seeding) on the first 50
principal components of the pixels. Each image x (784 pixels) becomes

    p = V^T (x - mean),   V: the top 50 right singular vectors of the centred pixels

and k-means minimises sum_i ||p_i - c_{cluster(i)}||^2 over the k centres c. On MNIST
(the labels used only to measure it, never by the GAN) k = 10 clusters are 60% pure
(the share of images whose cluster's most common digit is their own), k = 100 88%.
Many small clusters are purer than ten large ones: a 4 and a 9 that ten clusters
would merge get clusters of their own.
"""
from dataclasses import dataclass

import numpy


@dataclass(frozen=True)
class Clusters:
    """The cluster of each training image and how often each cluster occurs.

    labels: int64, shape (N,), in 0..k-1; frequencies: float64, shape (k,), summing
    to 1: a sampler draws the clusters it asks G for with these probabilities, so
    the generated mix matches the data's."""
    labels: numpy.ndarray
    frequencies: numpy.ndarray

    @property
    def k(self):
        return len(self.frequencies)


def kmeans_clusters(images, k, n_components=50, iters=30, seed=0, pca_rows=10_000):
    """k-means clusters of `images` (any shape (N, ...), on the host) in the space of
    their first `n_components` principal components.

    The components come from an SVD of `pca_rows` evenly spaced images (the top
    directions of 10,000 MNIST digits are those of all 60,000, at a sixth of the
    cost); then every image is projected and clustered. The same `seed` gives the
    same clusters.
    """
    from scipy.cluster.vq import kmeans2
    x = numpy.asarray(images, dtype=numpy.float32).reshape(len(images), -1)
    if not 1 < k < len(x):
        raise ValueError(f"kmeans_clusters: k must be between 2 and {len(x) - 1} "
                         f"(the number of images less one), got {k}")
    n_components = min(n_components, x.shape[1])
    mean = x.mean(axis=0)
    rows = x[::max(1, len(x) // pca_rows)] - mean
    _, _, vt = numpy.linalg.svd(rows, full_matrices=False)
    projected = (x - mean) @ vt[:n_components].T
    _, labels = kmeans2(projected, k, iter=iters, minit="++", seed=seed, missing="raise")
    labels = labels.astype(numpy.int64)
    counts = numpy.bincount(labels, minlength=k)
    return Clusters(labels, counts / counts.sum())


def purity(cluster_labels, true_labels):
    """The share of items whose cluster's most common true label is their own: 1.0
    when every cluster holds one class. (For reporting only: labels never train.)"""
    cluster_labels = numpy.asarray(cluster_labels)
    true_labels = numpy.asarray(true_labels)
    majority = sum(numpy.bincount(true_labels[cluster_labels == c]).max()
                   for c in numpy.unique(cluster_labels))
    return majority / len(true_labels)

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


@dataclass(frozen=True, eq=False)
class Clusters:
    """The cluster of each training image, how often each cluster occurs, and what
    it takes to place a new image in one.

    labels: int64, shape (N,), in 0..k-1; frequencies: float64, shape (k,), summing
    to 1: a sampler draws the clusters it asks G for with these probabilities, so
    the generated mix matches the data's. mean (pixels), components (n_components x
    pixels) and centres (k x n_components): the projection and the k centres, for
    ``assign``."""
    labels: numpy.ndarray
    frequencies: numpy.ndarray
    mean: numpy.ndarray = None
    components: numpy.ndarray = None
    centres: numpy.ndarray = None

    @property
    def k(self):
        return len(self.frequencies)

    def assign(self, images, batch=10_000):
        """The cluster of each of `images` (on the host, any shape (N, ...), scaled as
        the training images were): the nearest centre to its projection
        p = V^T (x - mean), as k-means assigns. An int64 vector of length N.

        On the training images themselves it can differ from ``labels`` for a few:
        SciPy's kmeans2 returns the labels of its last assignment and the centres
        moved once more after it (on MNIST, k = 100: 293 of 60,000 images, and no
        cluster's frequency by more than 0.00014). ``labels`` are kept as the
        clustering of record, since the cluster GAN trained on them."""
        if self.centres is None:
            raise ValueError("Clusters.assign: these clusters keep no centres (made "
                             "without kmeans_clusters); nothing to assign to")
        x = numpy.asarray(images, dtype=numpy.float32).reshape(len(images), -1)
        if x.shape[1] != self.mean.shape[0]:
            raise ValueError(f"Clusters.assign: images of {x.shape[1]} pixels, but the "
                             f"clusters were found on images of {self.mean.shape[0]}")
        c = self.centres
        out = []
        for i in range(0, len(x), batch):
            p = (x[i:i + batch] - self.mean) @ self.components.T
            # ||p - c||^2 = ||p||^2 - 2 p.c + ||c||^2; ||p||^2 is the same for every c
            out.append(numpy.argmin((c * c).sum(axis=1) - 2 * p @ c.T, axis=1))
        return numpy.concatenate(out).astype(numpy.int64) if out else numpy.zeros(0, numpy.int64)


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
    centres, labels = kmeans2(projected, k, iter=iters, minit="++", seed=seed,
                              missing="raise")
    labels = labels.astype(numpy.int64)
    counts = numpy.bincount(labels, minlength=k)
    return Clusters(labels, counts / counts.sum(), mean, vt[:n_components], centres)


def purity(cluster_labels, true_labels):
    """The share of items whose cluster's most common true label is their own: 1.0
    when every cluster holds one class. (For reporting only: labels never train.)"""
    cluster_labels = numpy.asarray(cluster_labels)
    true_labels = numpy.asarray(true_labels)
    majority = sum(numpy.bincount(true_labels[cluster_labels == c]).max()
                   for c in numpy.unique(cluster_labels))
    return majority / len(true_labels)

"""The cluster-conditioned DCGAN's parts: k-means clusters found without labels, classes
drawn as often as the clusters occur, the projection discriminator, and G's weights
averaged over training (with batch norm's statistics recomputed for the average)."""
import json

import numpy as np
import pytest

import minigan
from minigan import backend, nn, optim
from minigan import data
from minigan.gan import models
from minigan.gan.tricks.averaging import WeightAverage
from minigan.gan.tricks.clusters import kmeans_clusters, purity
from minigan.gan.runner import Trainer


# ------------------------------------------------------------------ clusters
def _blobs(n_per=200, seed=0):
    """Three well-separated kinds of 8 x 8 'images' and their kinds."""
    rng = np.random.default_rng(seed)
    protos = rng.standard_normal((3, 64)) * 5
    kinds = np.repeat(np.arange(3), n_per)
    x = protos[kinds] + 0.3 * rng.standard_normal((len(kinds), 64))
    order = rng.permutation(len(kinds))
    return x[order].reshape(-1, 1, 8, 8).astype(np.float32), kinds[order]


def test_kmeans_finds_separated_kinds_without_their_labels():
    x, kinds = _blobs()
    c = kmeans_clusters(x, 3, n_components=10, seed=0)
    assert c.labels.dtype == np.int64 and c.labels.shape == (600,)
    assert purity(c.labels, kinds) == 1.0
    np.testing.assert_allclose(c.frequencies, [1 / 3] * 3)
    again = kmeans_clusters(x, 3, n_components=10, seed=0)
    np.testing.assert_array_equal(c.labels, again.labels)          # seeded: the same


def test_new_images_are_placed_in_the_cluster_of_their_kind():
    x, kinds = _blobs()
    c = kmeans_clusters(x, 3, n_components=10, seed=0)
    np.testing.assert_array_equal(c.assign(x), c.labels)      # its own images: their clusters
    # new images of the same kinds (more noise), flat this time: any shape (N, ...) will do
    fresh = x.reshape(600, 64) + 0.3 * np.random.default_rng(1).standard_normal((600, 64))
    placed = c.assign(fresh)
    assert placed.dtype == np.int64
    np.testing.assert_array_equal(placed, c.labels)
    with pytest.raises(ValueError, match="images of 63 pixels"):
        c.assign(np.zeros((2, 63), np.float32))
    from minigan.gan.tricks.clusters import Clusters
    with pytest.raises(ValueError, match="keep no centres"):
        Clusters(c.labels, c.frequencies).assign(x)


def test_purity_counts_each_clusters_majority():
    # cluster 0 holds kinds 0, 0, 1; cluster 1 holds 2, 2: 4 of 5 in their cluster's majority
    assert purity([0, 0, 0, 1, 1], [0, 0, 1, 2, 2]) == pytest.approx(0.8)


def test_kmeans_refuses_a_bad_k():
    x, _ = _blobs(n_per=5)
    for k in (1, 15, 0):
        with pytest.raises(ValueError, match="k must be between 2 and 14"):
            kmeans_clusters(x, k)


def test_classes_are_drawn_as_often_as_asked(device):
    minigan.manual_seed(0)
    p = np.array([0.5, 0.3, 0.0, 0.2])
    z, y = data.labelled_noise_sampler(device, 5, 4, probs=p)(200_000)
    assert z.shape == (200_000, 5) and y.numpy().dtype == np.int64
    freq = np.bincount(y.numpy(), minlength=4) / 200_000
    np.testing.assert_allclose(freq, p, atol=0.005)                # 4 sigma is 0.0045
    assert freq[2] == 0                                              # never the empty one
    for bad in ([0.5, 0.5], [0.7, 0.7, -0.4, 0.0], [0.2, 0.2, 0.2, 0.2]):
        with pytest.raises(ValueError, match="probs must be 4 non-negative numbers"):
            data.labelled_noise_sampler("cpu", 5, 4, probs=bad)


# ------------------------------------------------------ projection discriminator
def test_projection_discriminator_adds_the_class_embeddings_dot_the_features():
    minigan.manual_seed(0)
    D = models.ProjectionDiscriminator(n_classes=7, width=4)
    x = minigan.tensor(np.random.default_rng(1).standard_normal((5, 1, 28, 28)).astype(np.float32))
    y = minigan.tensor(np.array([0, 3, 6, 3, 1]))
    out = D(x, y).numpy()
    h = D.features(x).numpy()                                        # (5, 4 w x 4 x 4)
    plain = D.head(D.features(x)).numpy()
    e = D.embed.weight.numpy().T[[0, 3, 6, 3, 1]]                   # e_y: row y of the table
    np.testing.assert_allclose(out, plain + (e * h).sum(1, keepdims=True), rtol=1e-5, atol=1e-6)
    # a gradient reaches the embedding rows of the classes asked, and only those
    D(x, y).sum().backward()
    used = np.abs(D.embed.weight.grad.numpy()).sum(0) > 0
    np.testing.assert_array_equal(used, [True, True, False, True, False, False, True])


# ------------------------------------------------------------ weight average
class _Step:
    """What WeightAverage is called with: the trainer (unused) and the step."""


def test_the_average_is_an_ema_with_a_short_warm_up(device):
    lin = nn.Dense(3, 2).to(device)
    avg = WeightAverage(lin, decay=0.9)
    expected = [p.numpy().copy() for p in lin.parameters()]
    rng, xp = np.random.default_rng(0), backend.module_for(device)
    for step in range(1, 40):
        for p in lin.parameters():
            p.data[...] = xp.asarray(rng.standard_normal(p.shape))
        avg(_Step(), step)
        d = min(0.9, (1 + step) / (10 + step))
        expected = [d * e + (1 - d) * p.numpy() for e, p in zip(expected, lin.parameters())]
    for a, e in zip(avg.average, expected):
        np.testing.assert_allclose(backend.to_numpy(a), e, rtol=1e-5)
    saved = avg.state_dict()                                         # host arrays
    assert all(isinstance(a, np.ndarray) for a in saved["average"])
    again = WeightAverage(nn.Dense(3, 2).to(device), decay=0.5)
    again.load_state_dict(saved)
    assert again.decay == 0.9
    for a, b in zip(again.average, avg.average):
        np.testing.assert_array_equal(backend.to_numpy(a), backend.to_numpy(b))
    with pytest.raises(ValueError, match="decay must be in"):
        WeightAverage(lin, decay=1.0)


def test_the_averaged_model_recomputes_batch_norms_statistics():
    minigan.manual_seed(0)
    net = nn.Sequential(nn.Dense(4, 3), nn.BatchNorm1d(3))
    avg = WeightAverage(net, decay=0.5)
    rng = np.random.default_rng(2)
    batches = [rng.standard_normal((16, 4)).astype(np.float32) + 3 for _ in range(5)]
    feeds = iter(batches)
    model = avg.averaged_model(lambda: (minigan.tensor(next(feeds)),), batches=5)
    assert not model.training and net.training                      # a copy, in eval mode
    # the running mean is the plain mean of the five batches' means under the average
    w, b = avg.average[0], avg.average[1]
    means = [(x @ w.T + b).mean(0) for x in batches]
    np.testing.assert_allclose(model[1].running_mean.numpy(), np.mean(means, 0), rtol=1e-5)
    assert model[1].momentum == net[1].momentum == 0.1               # put back
    assert net[1].running_mean.numpy().tolist() == [0, 0, 0]        # the model's own untouched


def test_a_resumed_run_ends_with_the_same_average(tmp_path):
    def run(stop_at=None):
        minigan.manual_seed(0)
        G, D = nn.Sequential(nn.Dense(2, 2)), nn.Sequential(nn.Dense(2, 1))
        avg = WeightAverage(G, decay=0.99)
        tr = Trainer(G, D, optim.Adam(G.parameters(), lr=1e-2), optim.Adam(D.parameters(), lr=1e-2),
                     data.sampler(np.random.default_rng(0).standard_normal((64, 2)).astype(
                         np.float32)), data.noise_sampler("cpu", 2), batch_size=8,
                     progress=False, callbacks=[avg], verbose=False)
        if stop_at:
            tr.fit(stop_at)
            tr.save_checkpoint(tmp_path / "ck.npz")
            G2, D2 = nn.Sequential(nn.Dense(2, 2)), nn.Sequential(nn.Dense(2, 1))
            avg = WeightAverage(G2, decay=0.99)
            tr = Trainer(G2, D2, optim.Adam(G2.parameters(), lr=1e-2),
                         optim.Adam(D2.parameters(), lr=1e-2), tr.sample_real,
                         data.noise_sampler("cpu", 2), batch_size=8, progress=False,
                         callbacks=[avg], verbose=False)
            tr.load_checkpoint(tmp_path / "ck.npz")
        tr.fit(30)
        return [a.copy() for a in avg.average]
    for a, b in zip(run(), run(stop_at=12)):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------ the experiment
@pytest.mark.slow
def test_dcgan_clusters_runs_and_reports_its_clusters(mnist_dir, tmp_path):
    from minigan.__main__ import main
    out = tmp_path / "o"
    assert main(["run", "dcgan-clusters", "--quick", "--steps", "4", "--no-progress",
                 "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["n_clusters"] == 100 and m["cluster_purity"] > 0.8   # 88% on MNIST
    assert "inception_score_own_weights" in m and m["weight_average_decay"] == 0.999
    samples, clusters = np.load(out / "samples.npy"), np.load(out / "clusters.npy")
    assert samples.shape == (10000, 28, 28) and samples.dtype == np.uint8
    assert clusters.shape == (10000,) and 0 <= clusters.min() and clusters.max() < 100
    assert (out / "dcgan-clusters_samples.png").exists()

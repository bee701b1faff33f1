"""The GPU path, checked before a GPU arrives.

Three kinds of test, grouped by what they check:

* CPU tests of the CPU-side parts: the GPU extras in setup.cfg, the error when
  CuPy is missing, how CuPy arrays are recognised, how often a training step
  copies from the device, the bookkeeping of the GPU's random generator;
* GPU-path tests that take the ``gpu`` fixture: each runs twice, on a stand-in
  for CuPy here (``tests/fake_cupy.py``, NumPy arrays that minigan takes for GPU
  arrays and that count what a GPU would wait for) and on CuPy itself where a
  GPU is found (skipped elsewhere);
* a few that only the real CuPy can answer (``needs_gpu``).
"""
import configparser
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import minigan
from minigan import backend, nn, optim
from minigan import data
from minigan.eval import metrics
from minigan.gan.runner import Trainer
from minigan.gan import losses as L
from minigan.ops import shape as shape_ops
from minigan.tensor import Tensor

import fake_cupy

ROOT = pathlib.Path(__file__).resolve().parents[1]
needs_gpu = pytest.mark.skipif(not backend.cuda_available(),
                               reason="no CUDA device (CuPy or GPU missing)")


@pytest.fixture(params=["stand-in", pytest.param("cupy", marks=needs_gpu)])
def gpu(request, monkeypatch):
    """'cuda' backed by the stand-in for CuPy, or by CuPy on a real GPU."""
    if request.param == "stand-in":
        fake_cupy.install(monkeypatch)
    return request.param


@pytest.fixture
def no_cupy(monkeypatch):
    """A machine without CuPy: `import cupy` fails, and the backend has not looked yet."""
    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_cupy_error", None)
    monkeypatch.setattr(backend, "_generators", {})


def count_host_copies(monkeypatch):
    """Count the calls of backend.to_numpy, the one door from the device to the host."""
    calls = []
    real = backend.to_numpy

    def counting(a):
        calls.append(type(a).__name__)
        return real(a)
    monkeypatch.setattr(backend, "to_numpy", counting)
    return calls


def mlp_gan(device, out_dir=None, **kw):
    """The lecture's small MLP GAN on the ring, fed on `device`."""
    minigan.manual_seed(7)
    G = nn.Sequential(nn.Dense(2, 16), nn.ReLU(), nn.Dense(16, 2)).to(device)
    D = nn.Sequential(nn.Dense(2, 16), nn.LeakyReLU(0.2), nn.Dense(16, 1)).to(device)
    ring = data.ring()
    kw.setdefault("batch_size", 16)
    return Trainer(G, D, optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999)),
                   optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999)),
                   lambda n: ring.sample(n, device=device), data.noise_sampler(device),
                   progress=False, out_dir=out_dir, **kw)


def same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(
        a.view(np.uint8), b.view(np.uint8))


# ------------------------------------------------- 1. installable GPU extras
def test_gpu_extras_install_prebuilt_cupy_wheels():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    extras = {k: [r.strip() for r in v.strip().splitlines() if r.strip()]
              for k, v in cfg["options.extras_require"].items()}
    assert extras["gpu-cuda12"] == ["cupy-cuda12x>=13"]
    assert extras["gpu-cuda13"] == ["cupy-cuda13x>=13.6"]      # the first cupy-cuda13x
    for name, reqs in extras.items():                           # never the source package
        assert not any(r.split(">")[0].split("=")[0].strip() == "cupy" for r in reqs), name
    for major, (extra, wheel) in backend.GPU_EXTRAS.items():
        assert any(r.startswith(wheel) for r in extras[extra]), (major, extra)
        assert f"[{extra}]" in backend.INSTALL_HINT


def test_missing_cupy_error_names_the_command_for_each_cuda(no_cupy):
    with pytest.raises(RuntimeError) as e:
        minigan.tensor([1.0], device="cuda")
    text = str(e.value)
    assert "CuPy is not installed" in text
    assert "pip install 'minigan[gpu-cuda12]'" in text and "[gpu-cuda13]" in text


# ------------------------------------------------------ 2. one default device
def test_default_cuda_without_cupy_fails_at_once_everywhere(no_cupy, monkeypatch):
    monkeypatch.setenv("MINIGAN_DEVICE", "cuda")
    makers = [lambda: nn.Dense(2, 3), lambda: nn.Conv2d(1, 2, 3), lambda: nn.BatchNorm1d(4),
              lambda: nn.ConvTranspose2d(2, 1, 4), lambda: nn.Parameter(np.zeros(3)),
              lambda: minigan.tensor(np.ones(3)), lambda: minigan.tensor([1.0]),
              lambda: data.ring().sample(4)]
    for make in makers:
        with pytest.raises(RuntimeError, match=r"device='cuda' was asked for, but CuPy is "
                                               r"not installed.*gpu-cuda12"):
            make()


def test_the_issues_one_liner_fails_with_the_cupy_message_or_runs_on_the_gpu():
    code = ("import minigan.nn as nn\n"
            "print([p.device for p in nn.Dense(2, 3).parameters()])\n")
    env = dict(os.environ, MINIGAN_DEVICE="cuda", PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       cwd=ROOT)
    if backend.cuda_available():
        assert r.returncode == 0 and "['cuda', 'cuda']" in r.stdout, r.stderr
    else:
        assert r.returncode != 0
        assert "device='cuda' was asked for" in r.stderr, r.stderr


def test_host_data_goes_to_the_default_device_and_device_data_stays(monkeypatch):
    monkeypatch.setenv("MINIGAN_DEVICE", "cpu")
    assert minigan.tensor(np.ones(2)).device == "cpu"
    assert minigan.tensor(np.ones(2), device="cpu").device == "cpu"
    from minigan.tensor import placement
    assert placement(np.ones(2)) == placement([1.0]) == placement(3.0) == "cpu"
    assert placement(np.ones(2), "cuda") == "cuda"              # a device named wins
    monkeypatch.setenv("MINIGAN_DEVICE", "cuda")
    assert placement(np.ones(2)) == placement([1.0]) == "cuda"
    assert placement(Tensor(np.ones(2))) == "cpu"               # a tensor stays (torch.tensor)


def test_default_cuda_puts_every_new_tensor_and_parameter_on_the_gpu(gpu, monkeypatch):
    monkeypatch.setenv("MINIGAN_DEVICE", "cuda")
    layers = [nn.Dense(3, 4), nn.Conv2d(1, 2, 3), nn.ConvTranspose2d(2, 1, 4, 2, 1),
              nn.BatchNorm2d(2), nn.BatchNorm1d(4), nn.InstanceNorm2d(2, affine=True)]
    for layer in layers:
        for name, t in list(layer.named_parameters()) + list(layer.named_buffers()):
            assert t.device == "cuda", (layer, name)
    assert minigan.tensor(np.ones((2, 3), np.float32)).device == "cuda"
    assert minigan.tensor([1.0, 2.0]).device == "cuda"
    assert nn.Parameter(np.zeros(2)).device == "cuda"
    assert data.ring().sample(5).device == "cuda"
    assert data.noise_sampler(None)(4).device == "cuda"
    # the first forward pass of a model built and fed with defaults works
    minigan.manual_seed(0)
    model = nn.Sequential(nn.Dense(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Dense(4, 1))
    out = model(minigan.tensor(np.ones((5, 3), np.float32)))
    assert out.device == "cuda" and out.shape == (5, 1)
    out.sum().backward()
    assert all(p.grad.device == "cuda" for p in model.parameters())


def test_a_device_named_wins_over_the_default(gpu, monkeypatch):
    monkeypatch.setenv("MINIGAN_DEVICE", "cuda")
    layer = nn.Dense(3, 2, device="cpu")
    assert all(p.device == "cpu" for p in layer.parameters())
    assert minigan.tensor(np.ones(2), device="cpu").device == "cpu"
    assert data.ring().sample(3, device="cpu").device == "cpu"
    monkeypatch.setenv("MINIGAN_DEVICE", "cpu")
    assert all(p.device == "cuda" for p in nn.BatchNorm1d(3, device="cuda").parameters())


# ------------------------------------------------- 3. CuPy arrays recognised
class _CupyLikeArray:
    """Looks like a CuPy array to anything that asks its type's module, as a real one
    would before anyone imported CuPy; NumPy cannot read it."""

    def __init__(self, values):
        self.values = np.asarray(values)
        self.dtype, self.shape, self.ndim = self.values.dtype, self.values.shape, self.values.ndim

    def get(self):
        return self.values.copy()

    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed.")


_CupyLikeArray.__module__ = "cupy._core.core"


def test_cupy_arrays_are_recognised_without_importing_cupy(no_cupy):
    a = _CupyLikeArray([[1.0, 2.0]])
    assert backend.is_device_array(a) and backend.device_of(a) == "cuda"
    assert not backend.is_device_array(np.ones(2)) and backend.device_of(np.ones(2)) == "cpu"
    np.testing.assert_array_equal(backend.to_numpy(a), [[1.0, 2.0]])      # via .get()
    np.testing.assert_array_equal(metrics._as_numpy(a), [[1.0, 2.0]])
    np.testing.assert_array_equal(metrics._to_host(a), [[1.0, 2.0]])
    # never taken for a NumPy array: without CuPy, the error says so
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        backend.array_module(np.ones(1), a)
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        minigan.tensor(a)


def test_first_call_with_a_cupy_array_finds_cupy(gpu, monkeypatch):
    """The first thing minigan sees is a CuPy array (nothing imported CuPy before)."""
    import cupy
    if gpu == "cupy":              # real CuPy: the backend forgets it has looked
        monkeypatch.setattr(backend, "_cupy", None)
        monkeypatch.setattr(backend, "_cupy_error", None)
    t = minigan.tensor(cupy.asarray(np.arange(3.0)))
    assert t.device == "cuda" and backend.array_module(t.data) is cupy
    host = backend.to_numpy(cupy.asarray(np.arange(3.0)))
    assert type(host) is np.ndarray
    ring = data.ring()
    samples = ring.sample(200, device="cuda")
    raw = samples.data                                   # a raw CuPy array
    assert metrics.mode_scores(raw, ring) == metrics.mode_scores(samples.numpy(), ring)


def test_precision_recall_density_coverage_run_on_the_device_and_copy_once(gpu, monkeypatch):
    """The four manifold measures of device arrays: every distance block computed on
    the device, the same numbers as on the host, and one copy back for all four (and
    the finiteness check)."""
    import cupy
    from minigan.eval import manifold
    rng = np.random.default_rng(0)
    real, fake = rng.standard_normal((300, 8)), rng.standard_normal((250, 8)) * 1.2
    on_host = manifold.prdc(real, fake, k=5)
    monkeypatch.setattr(manifold, "BLOCK_ELEMENTS", 10_000)     # several blocks
    calls = count_host_copies(monkeypatch)
    if gpu == "stand-in":
        fake_cupy.FAKE.transfers = fake_cupy.FAKE.implicit = 0
    on_device = manifold.prdc(cupy.asarray(real), cupy.asarray(fake), k=5)
    assert on_device == pytest.approx(on_host, abs=1e-12)
    assert len(calls) == 1
    if gpu == "stand-in":
        assert fake_cupy.FAKE.transfers == 1 and fake_cupy.FAKE.implicit == 0
    radii = manifold.knn_radii(cupy.asarray(real), k=5)
    assert backend.is_device_array(radii)
    np.testing.assert_allclose(backend.to_numpy(radii), manifold.knn_radii(real, k=5))
    with pytest.raises(ValueError, match="same device"):
        manifold.prdc(cupy.asarray(real), fake)


@needs_gpu
def test_first_call_with_a_cupy_array_in_a_fresh_process():
    code = ("import cupy, numpy, minigan\n"
            "from minigan import backend\n"
            "from minigan.gan import data, metrics\n"
            "t = minigan.tensor(cupy.arange(3.0))\n"
            "assert t.device == 'cuda', t.device\n"
            "assert type(backend.to_numpy(cupy.arange(3))) is numpy.ndarray\n"
            "ring = data.ring()\n"
            "x = cupy.asarray(ring.sample(100).numpy())\n"
            "print(metrics.mode_scores(x, ring)['modes'])\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT)
    assert r.returncode == 0, r.stderr


# ---------------------------------------------- 4. out-of-range indices raise
def test_the_bound_check_raises_as_numpy_does():
    check = shape_ops.check_index_bounds
    check((np.array([0, 2, -3]),), (3,))                         # in range: nothing
    check((np.array([], dtype=np.int64),), (3,))                 # empty: nothing
    check((slice(None), 1), (2, 3))                              # no index arrays
    cases = [((np.array([0, 3]),), (3,), "index 3 is out of bounds for axis 0 with size 3"),
             ((np.array([-4]),), (3,), "index -4 is out of bounds for axis 0 with size 3"),
             ((slice(None), np.array([[3]])), (2, 3), "axis 1 with size 3"),
             ((Ellipsis, np.array([4])), (2, 3, 4), "index 4 is out of bounds for axis 2"),
             ((None, np.array([1]), np.array([5])), (2, 5), "index 5 .* axis 1 with size 5"),
             ((np.array([True, False]), np.array([2])), (2, 2, 2), "axis 1 with size 2"),
             (np.array([7], dtype=np.uint8), (4,), "index 7 .* axis 0 with size 4")]
    for idx, shape, message in cases:
        with pytest.raises(IndexError, match=message):
            check(idx, shape)
        with pytest.raises(IndexError):                          # NumPy agrees
            np.zeros(shape)[idx]


def test_the_bound_check_copies_once_for_all_index_arrays(monkeypatch):
    calls = count_host_copies(monkeypatch)
    shape_ops.check_index_bounds((np.array([0, 1]), np.array([[2], [0]])), (2, 3))
    assert len(calls) == 1


def test_out_of_range_indices_raise_on_the_cpu_without_the_extra_check(monkeypatch):
    checked = []
    monkeypatch.setattr(shape_ops, "check_index_bounds", lambda *a: checked.append(a))
    x = minigan.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(IndexError, match="out of bounds"):
        x[[0, 2]]
    assert not checked                     # NumPy raises by itself: no extra reduction


def test_out_of_range_indices_raise_on_the_gpu(gpu, monkeypatch):
    checked = []
    real = shape_ops.check_index_bounds

    def spy(idx, shape):
        checked.append(shape)
        return real(idx, shape)
    monkeypatch.setattr(shape_ops, "check_index_bounds", spy)
    x = minigan.tensor(np.arange(6.0).reshape(2, 3), device="cuda", requires_grad=True)
    rows = minigan.tensor(np.array([1, 2]), device="cuda")
    for idx in ([0, 2], np.array([-3]), (slice(None), [3]), (Ellipsis, np.array([5])), rows):
        with pytest.raises(IndexError, match=r"indexing a tensor of shape \(2, 3\): index "
                                             r"-?\d+ is out of bounds"):
            x[idx]
    assert checked
    y = x[[1, 1, -2]]                      # in range: values, and gradients that add up
    np.testing.assert_array_equal(y.numpy(), [[3, 4, 5], [3, 4, 5], [0, 1, 2]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1, 1], [2, 2, 2]])


# ------------------------------------------------------ 5. few host syncs
LOSSES = [dict(loss="non-saturating"), dict(loss="minimax", label_smoothing=0.1),
          dict(loss="wasserstein", penalty=L.gradient_penalty, d_steps=2),
          dict(loss="least-squares")]


@pytest.mark.parametrize("kw", LOSSES, ids=lambda kw: kw["loss"])
def test_a_training_step_copies_from_the_device_once(kw, monkeypatch):
    tr = mlp_gan("cpu", **kw)
    tr.fit(2)
    calls = count_host_copies(monkeypatch)
    tr.fit(7)
    assert len(calls) <= 2 * 5, calls
    assert len(calls) == 5                 # one stacked copy a step, for all its numbers


@pytest.mark.parametrize("kw", LOSSES, ids=lambda kw: kw["loss"])
def test_a_training_step_on_the_gpu_waits_for_it_once(gpu, kw, monkeypatch):
    tr = mlp_gan("cuda", **kw)
    tr.fit(2)
    calls = count_host_copies(monkeypatch)
    fake_cupy.FAKE.transfers = fake_cupy.FAKE.implicit = 0
    tr.fit(7)
    assert len(calls) == 5, calls
    if gpu == "stand-in":                  # no hidden copy either (float(), .item(), bool())
        assert fake_cupy.FAKE.implicit == 0
        assert fake_cupy.FAKE.transfers == 5
    assert all(isinstance(v, float) for r in tr.history.records for v in r.values()
               if not isinstance(v, int))


def test_the_applications_layers_stay_on_the_gpu(gpu, monkeypatch):
    """Instance norm, nearest upsampling, average pooling and a U-Net skip (concat
    along the channels) on device arrays: outputs and gradients, of first and second
    order, stay on the device, and nothing is copied to the host on the way."""
    minigan.manual_seed(0)
    enc = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.InstanceNorm2d(4, affine=True),
                        nn.LeakyReLU(0.2)).to("cuda")
    dec = nn.Sequential(nn.AvgPool2d(2), nn.Upsample(scale_factor=2)).to("cuda")
    head = nn.Conv2d(8, 1, 1).to("cuda")
    x = minigan.tensor(np.random.default_rng(0).standard_normal((2, 1, 6, 6)), dtype="float32",
                       device="cuda", requires_grad=True)
    calls = count_host_copies(monkeypatch)
    fake_cupy.FAKE.transfers = fake_cupy.FAKE.implicit = 0
    h = enc(x)
    out = head(minigan.functional.concat([dec(h), h], axis=1))
    (gx,) = minigan.grad(out.sum(), x, create_graph=True)     # a gradient penalty's first half
    ((gx * gx).sum() + out.mean()).backward()
    assert out.device == "cuda" and out.shape == (2, 1, 6, 6)
    params = list(enc.parameters()) + list(head.parameters())
    assert all(p.grad is not None and p.grad.device == "cuda" for p in params)
    assert calls == []
    if gpu == "stand-in":
        assert fake_cupy.FAKE.transfers == 0 and fake_cupy.FAKE.implicit == 0


def test_the_progan_pieces_and_embedding_stay_on_the_gpu(gpu, monkeypatch):
    """ProGAN's equalized layers, pixel norm and minibatch stddev, and an embedding, on
    device arrays: outputs and gradients of first and second order stay on the device.
    The one copy to the host is the embedding's range check (its smallest and largest
    index, in one copy)."""
    minigan.manual_seed(0)
    emb = nn.Embedding(10, 4).to("cuda")
    net = nn.Sequential(nn.EqualizedConv2d(2, 3, 3, padding=1), nn.LeakyReLU(0.2),
                        nn.PixelNorm(), nn.MinibatchStdDev(2), nn.Flatten(),
                        nn.EqualizedDense(4 * 16, 1, gain=1.0)).to("cuda")
    x = minigan.tensor(np.random.default_rng(0).standard_normal((4, 1, 4, 4)), dtype="float32",
                       device="cuda", requires_grad=True)
    labels = minigan.tensor(np.array([1, 7, 7, 0]), device="cuda")
    calls = count_host_copies(monkeypatch)
    fake_cupy.FAKE.transfers = fake_cupy.FAKE.implicit = 0
    code = emb(labels).reshape(4, 1, 2, 2)                    # a 2 x 2 map per label
    h = minigan.functional.concat([x, minigan.functional.interpolate(code, scale_factor=2)],
                                  axis=1)
    out = net(h)
    (gx,) = minigan.grad(out.sum(), x, create_graph=True)
    ((gx * gx).sum() + out.mean()).backward()
    assert out.device == "cuda" and out.shape == (4, 1)
    params = list(net.parameters()) + list(emb.parameters())
    assert all(p.grad is not None and p.grad.device == "cuda" for p in params)
    assert len(calls) == 1                                    # the embedding's range check
    if gpu == "stand-in":
        assert fake_cupy.FAKE.transfers == 1 and fake_cupy.FAKE.implicit == 0


def test_the_image_history_stays_on_the_gpu(gpu, monkeypatch, tmp_path):
    """SimGAN's history on device images: the mixed batch and the stored images stay
    on the device, nothing comes back to the host (the indices are drawn on the host
    and sent), and a checkpoint of it goes through the host and back to the device at
    the next push."""
    from minigan.gan.tricks.history import ImageHistory
    minigan.manual_seed(0)
    rng = np.random.default_rng(1)
    calls = count_host_copies(monkeypatch)
    fake_cupy.FAKE.transfers = fake_cupy.FAKE.implicit = 0
    history = ImageHistory(8, seed=0)
    for _ in range(3):
        fake = minigan.tensor(rng.standard_normal((4, 1, 4, 4)), dtype="float32", device="cuda")
        mixed = history.push_and_mix(fake)
        assert mixed.device == "cuda" and mixed.shape == (4, 1, 4, 4)
    assert calls == [] and backend.device_of(history._images) == "cuda"
    if gpu == "stand-in":
        assert fake_cupy.FAKE.transfers == 0 and fake_cupy.FAKE.implicit == 0
    minigan.save(history.state_dict(), str(tmp_path / "history.npz"))
    again = ImageHistory(8, seed=0)
    again.load_state_dict(minigan.load(str(tmp_path / "history.npz")))
    assert again.push_and_mix(fake).device == "cuda"
    assert backend.device_of(again._images) == "cuda"


def _small_app_setup():
    """What the applications' device tests share: Adam over several modules, 24 random
    28 x 28 images (the seed set first), and a quiet Trainer of batch 4."""
    from minigan import optim

    def adam(*ms):
        return optim.Adam([p for m in ms for p in m.parameters()], lr=1e-3)
    minigan.manual_seed(0)
    x = np.random.default_rng(0).uniform(-1, 1, (24, 1, 28, 28)).astype(np.float32)
    return adam, x, dict(progress=False, verbose=False, batch_size=4)


@pytest.mark.parametrize("app", ["pix2pix", "cyclegan", "stargan"])
def test_the_translation_steps_run_on_the_gpu_and_copy_once_a_step(gpu, app, monkeypatch):
    """pix2pix, CycleGAN and StarGAN on device arrays: their networks, samplers and
    StarGAN's target domains stay on the device; each step's numbers come back in
    one copy (the samplers draw no new epoch order in the steps counted)."""
    from minigan import data
    from minigan.gan.apps import networks as nets
    from minigan.gan.apps.translation import Pix2PixTrainer, CycleTrainer, StarTrainer

    adam, x, quiet = _small_app_setup()
    if app == "pix2pix":
        G, D = nets.UNet(1, 1, 4).to("cuda"), nets.PatchDiscriminator(2, 4).to("cuda")
        tr = Pix2PixTrainer(G, D, adam(G), adam(D), data.sampler((x, -x), device="cuda"),
                            **quiet)
    elif app == "cyclegan":
        gs = [nets.ResnetGenerator(1, 1, 4, 1).to("cuda") for _ in range(2)]
        ds = [nets.PatchDiscriminator(1, 4, "instance").to("cuda") for _ in range(2)]
        tr = CycleTrainer(*gs, *ds, adam(*gs), adam(*ds), data.sampler(x, device="cuda"),
                          data.sampler(-x, device="cuda"), identity_weight=1.0, **quiet)
    else:
        G, D = nets.StarGenerator(3, 4, 1).to("cuda"), nets.StarDiscriminator(3, 4).to("cuda")
        tr = StarTrainer(G, D, adam(G), adam(D),
                         data.sampler((x, np.arange(24) % 3), device="cuda"), 3, **quiet)
    tr.fit(1)
    calls = count_host_copies(monkeypatch)
    fake_cupy.FAKE.transfers = fake_cupy.FAKE.implicit = 0
    tr.fit(3)
    assert len(calls) == 2, calls
    if gpu == "stand-in" and app != "stargan":
        assert fake_cupy.FAKE.implicit == 0 and fake_cupy.FAKE.transfers == 2
    # StarGAN's labels are checked on the way in (one_hot and cross_entropy refuse a
    # class out of range), and each check waits for the device once: seven a step
    for _, net in tr.networks():
        assert all(p.device == "cuda" and p.grad.device == "cuda" for p in net.parameters())


@pytest.mark.parametrize("app", ["progan", "simgan", "stackgan"])
def test_the_growing_stacking_refining_steps_run_on_the_gpu(gpu, app, monkeypatch):
    """ProGAN (through a fade-in), SimGAN's refiner (with its history) and StackGAN's
    Stage I on device arrays: every parameter and its gradient stays on the device,
    and the steps' numbers come back from it and nowhere else."""
    from minigan import data
    from minigan.data import sentences as S
    from minigan.gan.apps import networks as nets, progressive as pg, refiner as rf
    from minigan.gan.apps import stacked as st
    from minigan.gan.tricks.history import ImageHistory

    adam, x, quiet = _small_app_setup()
    if app == "progan":
        G = pg.ProgressiveGenerator(channels=(8, 4, 4)).to("cuda")
        D = pg.ProgressiveDiscriminator(channels=(8, 4, 4)).to("cuda")
        tr = pg.ProgressiveTrainer(G, D, adam(G), adam(D), data.sampler(x, device="cuda"),
                                   data.noise_sampler("cuda", pg.NOISE_DIM),
                                   pg.ProgressiveSchedule(fade=2, stabilize=(1, 1, 1)), **quiet)
    elif app == "simgan":
        R, D = rf.Refiner(1, 4, 1).to("cuda"), nets.PatchDiscriminator(1, 4, norm="none").to("cuda")
        tr = rf.RefinerTrainer(R, D, adam(R), adam(D), data.sampler(x, device="cuda"),
                               data.sampler(-x, device="cuda"), history=ImageHistory(16, seed=0),
                               **quiet)
    else:
        enc = st.TextEncoder(len(S.VOCABULARY), 4, 4).to("cuda")
        ca = st.ConditioningAugmentation(4, 2).to("cuda")
        G = st.StageOneGenerator(noise_dim=4, c_dim=2, width=4).to("cuda")
        D = st.TextImageDiscriminator(14, text_dim=4, width=4).to("cuda")
        tokens = S.tokens_of_triples([(d % 10, d % 3, (d + 1) % 3) for d in range(24)])
        tr = st.StageOneTrainer(enc, ca, G, D, adam(ca, G), adam(enc, D),
                                data.sampler((st.downsample(x), tokens), device="cuda"),
                                noise_dim=4, **quiet)
    tr.fit(4)
    assert all(np.isfinite(v) for r in tr.history.records for k, v in r.items()
               if isinstance(v, float))
    for _, net in tr.networks():
        for p in net.parameters():
            assert p.device == "cuda"
            assert p.grad is None or p.grad.device == "cuda"


def test_fetch_floats_is_exact_and_one_copy(monkeypatch):
    calls = count_host_copies(monkeypatch)
    values = [np.float32(0.1), np.array(1 / 3, np.float32), np.array(2 / 3),
              np.array([[7.25]], np.float32)]
    out = backend.fetch_floats(values)
    assert len(calls) == 1
    assert out == [float(np.float32(0.1)), float(np.float32(1 / 3)), 2 / 3, 7.25]
    assert backend.fetch_floats([]) == []


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")   # NumPy on the NaNs
def test_divergence_is_still_caught_at_the_step_that_diverged():
    tr = mlp_gan("cpu")
    tr.fit(3)
    next(iter(tr.D.parameters())).data[...] = np.nan
    with pytest.raises(minigan.gan.TrainingDiverged, match="step 4: loss_d is nan"):
        tr.fit(5)
    assert len(tr.history) == 3


# --------------------------------------------------- 6. exact resume on a GPU
def test_the_counted_generator_continues_exactly_from_its_state():
    g = backend.CountedGenerator(42, module=np)
    first = [g.standard_normal(3), g.random(2), g.integers(0, 10, size=4)]
    state = g.state()
    assert state == {"seed": 42, "draws": 3} and json.loads(json.dumps(state)) == state
    later = [g.standard_normal(3), g.random((2, 2))]
    h = backend.CountedGenerator(0, module=np)
    h.set_state(state)
    again = [h.standard_normal(3), h.random((2, 2))]
    for a, b in zip(later, again):
        np.testing.assert_array_equal(a, b)
    fresh = backend.CountedGenerator(42, module=np)
    np.testing.assert_array_equal(fresh.standard_normal(3), first[0])    # same seed, same run
    other = backend.CountedGenerator(43, module=np)
    assert not np.array_equal(other.standard_normal(3), first[0])
    assert not np.array_equal(later[0], first[0])                        # draws differ
    assert backend.CountedGenerator(None, module=np).state()["draws"] == 0   # unseeded: saveable


def test_rng_state_names_each_generator_made(monkeypatch):
    monkeypatch.setattr(backend, "require_cupy", lambda: np)      # a 'GPU' drawing with NumPy
    monkeypatch.setattr(backend, "_generators", {})               # (not left to other tests)
    backend.manual_seed(5)
    backend.generator("cpu").random(3)
    backend.generator("cuda").random(3)
    state = json.loads(json.dumps(backend.rng_state()))
    assert state["cuda"] == {"seed": 5, "draws": 1} and "bit_generator" in state["cpu"]
    want = (backend.generator("cpu").random(2), backend.generator("cuda").random(2))
    backend.manual_seed(99)
    backend.set_rng_state(state)
    got = (backend.generator("cpu").random(2), backend.generator("cuda").random(2))
    for a, b in zip(want, got):
        np.testing.assert_array_equal(a, b)


def test_resume_on_the_gpu_continues_exactly(gpu, tmp_path):
    whole = mlp_gan("cuda")
    whole.fit(8)
    first = mlp_gan("cuda", out_dir=tmp_path)
    first.fit(4)
    rng = json.loads(str(minigan.load(tmp_path / "checkpoint.npz")["rng"]))
    assert rng["cuda"]["seed"] == 0 and rng["cuda"]["draws"] > 0   # (seed, draws) saved
    resumed = mlp_gan("cuda", out_dir=tmp_path)
    resumed.fit(8, resume=True)
    assert resumed.history.records == whole.history.records
    for a, b in zip(whole.G.state_dict().values(), resumed.G.state_dict().values()):
        assert same_bits(backend.to_numpy(a), backend.to_numpy(b))


def test_a_checkpoint_without_the_gpu_generator_still_resumes(gpu, tmp_path):
    first = mlp_gan("cuda", out_dir=tmp_path)
    first.fit(3)
    ck = minigan.load(tmp_path / "checkpoint.npz")
    rng = json.loads(str(ck["rng"]))
    del rng["cuda"]                              # as a checkpoint written on the CPU has
    ck["rng"] = json.dumps(rng)
    resumed = mlp_gan("cuda")
    resumed.load_state_dict(ck)
    resumed.fit(5)                               # re-seeded from (seed, step): it runs on
    assert len(resumed.history) == 5


# ---------------------------------------------------------- 7. GPU coverage
def test_checkpoint_round_trip_of_device_tensors(gpu, tmp_path):
    def build():
        minigan.manual_seed(1)
        return nn.Sequential(nn.Dense(3, 4), nn.BatchNorm1d(4), nn.ReLU(),
                             nn.Dense(4, 2)).to("cuda")
    model = build()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    x = minigan.tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3), device="cuda")
    model(x).sum().backward()
    opt.step()
    path = tmp_path / "ck.npz"
    minigan.save({"model": model.state_dict(), "opt": opt.state_dict(), "x": x}, path)
    ck = minigan.load(path)
    np.testing.assert_array_equal(ck["x"], x.numpy())
    twin = build()
    twin_opt = optim.Adam(twin.parameters(), lr=1e-2)
    twin.load_state_dict(ck["model"])
    twin_opt.load_state_dict(ck["opt"])
    for (name, a), b in zip(model.state_dict().items(), twin.state_dict().values()):
        assert backend.device_of(b) == "cuda", name
        assert same_bits(backend.to_numpy(a), backend.to_numpy(b)), name
    for p in twin.parameters():
        assert backend.device_of(twin_opt.state[id(p)]["exp_avg"]) == "cuda"
    for m, o in ((model, opt), (twin, twin_opt)):       # both continue alike
        o.zero_grad()
        m(x).sum().backward()
        o.step()
    for a, b in zip(model.parameters(), twin.parameters()):
        assert same_bits(a.numpy(), b.numpy())


def test_an_experiment_runs_and_resumes_with_device_cuda(gpu, tmp_path, capsys):
    from minigan.__main__ import main
    out = tmp_path / "mog"
    args = ["run", "mog", "--quick", "--steps", "10", "--device", "cuda", "--no-progress",
            "--jobs", "1", "--out", str(out)]
    assert main(args) == 0, capsys.readouterr().err
    record = json.loads((out / "metrics.json").read_text())
    assert record["config"]["device"] == "cuda"
    assert (out / "mog_side_by_side.png").exists()
    from minigan import data
    from minigan.eval import metrics
    ring = data.mixture("ring")
    for method in record:                          # each run's numbers are its samples'
        if isinstance(record[method], dict) and "modes" in record[method]:
            samples = np.load(out / f"samples_{method}.npy")
            assert 0 <= record[method]["modes"] <= 8
            assert record[method]["modes"] == metrics.mode_scores(samples, ring)["modes"]
    assert main(args + ["--resume"]) == 0                  # the finished runs just load
    again = json.loads((out / "metrics.json").read_text())
    for method in ("gan",):
        assert {k: v for k, v in again[method].items() if k != "seconds"} == \
            {k: v for k, v in record[method].items() if k != "seconds"}


def test_summary_of_a_gpu_model(gpu):
    minigan.manual_seed(0)
    model = nn.Sequential(nn.Dense(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dense(8, 2)).to("cuda")
    for text in (model.summary(input_shape=(3,), print_fn=None),
                 model.summary(np.ones((4, 3), np.float32), print_fn=None),
                 model.summary(minigan.tensor(np.ones((4, 3), np.float32)), print_fn=None)):
        assert "(None, 2)" in text and "Total params: 66" in text
    assert all(p.device == "cuda" for p in model.parameters())


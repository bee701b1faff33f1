"""MNIST: reading and checking the IDX files, downloading them (from a local server
only), and the batching that feeds a dataset to training (Batches, sampler)."""
import contextlib
import functools
import gzip
import hashlib
import http.server
import itertools
import os
import re
import shutil
import socket
import threading

import numpy as np
import pytest

import minigan
from minigan import backend
from minigan import data
from minigan.data import mnist_files as mnist_files

TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
LABELS = "t10k-labels-idx1-ubyte.gz"


@pytest.fixture(autouse=True)
def _fresh(monkeypatch, tmp_path):
    """Every test starts with no arrays kept from another test, no MINIGAN_DATA, and a
    cache in tmp_path, and no mirror but an address that refuses: nothing here may
    reach beyond this machine."""
    mnist_files.clear_cache()
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
    monkeypatch.setattr(mnist_files, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(mnist_files, "MIRRORS", [f"http://127.0.0.1:{_closed_port()}/"])
    yield
    mnist_files.clear_cache()


def _closed_port():
    """A port on 127.0.0.1 where nothing listens (a connection is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _raw_idx(magic, dims, body):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    return header + bytes(body)


def _fake_test_split(folder, images=None, labels=None):
    """Uncompressed test-split files with valid headers (no MNIST needed)."""
    n = 10000
    images = np.arange(n * 784, dtype=np.int64) % 256 if images is None else images
    labels = np.arange(n) % 10 if labels is None else labels
    folder.mkdir(parents=True, exist_ok=True)
    (folder / TEST_FILES[0]).write_bytes(_raw_idx(2051, (n, 28, 28), images.astype(np.uint8)))
    (folder / TEST_FILES[1]).write_bytes(_raw_idx(2049, (n,), labels.astype(np.uint8)))
    return images.astype(np.uint8).reshape(n, 1, 28, 28), labels.astype(np.int64)


# ------------------------------------------------------------- reading
def test_train_and_test_splits_are_mnist(mnist_dir):
    x, y = data.mnist("train", data_dir=mnist_dir)
    assert x.shape == (60000, 1, 28, 28) and x.dtype == np.float32
    assert y.shape == (60000,) and y.dtype == np.int64
    assert x.min() == -1.0 and x.max() == 1.0
    assert list(y[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(np.bincount(y)) == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    xt, yt = data.mnist("test", data_dir=mnist_dir)
    assert xt.shape == (10000, 1, 28, 28) and yt.shape == (10000,)
    assert list(yt[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert list(np.bincount(yt)) == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_pixels_are_scaled_to_minus_one_one(mnist_dir):
    with gzip.open(mnist_dir / "t10k-images-idx3-ubyte.gz") as f:
        pixels = np.frombuffer(f.read(), np.uint8, offset=16).reshape(10000, 1, 28, 28)
    x, _ = data.mnist("test", data_dir=mnist_dir)
    np.testing.assert_array_equal(x, pixels.astype(np.float32) / np.float32(127.5) - 1)


def test_uncompressed_files_in_an_env_folder_are_read(mnist_dir, tmp_path, monkeypatch):
    folder = tmp_path / "raw"
    folder.mkdir()
    for name in TEST_FILES:
        with gzip.open(mnist_dir / (name + ".gz")) as f:
            (folder / name).write_bytes(f.read())
    monkeypatch.setenv("MINIGAN_DATA", str(folder))
    x, y = data.mnist("test")
    x0, y0 = data.mnist("test", data_dir=mnist_dir)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


def test_fake_uncompressed_split_is_read_from_an_mnist_subfolder(tmp_path):
    pixels, labels = _fake_test_split(tmp_path / "data" / "mnist")
    x, y = data.mnist("test", data_dir=tmp_path / "data")       # folder/mnist/ is looked in too
    np.testing.assert_array_equal(x, pixels / np.float32(127.5) - 1)
    np.testing.assert_array_equal(y, labels)


def test_arrays_are_kept_and_read_only(tmp_path):
    _fake_test_split(tmp_path)
    x, y = data.mnist("test", data_dir=tmp_path)
    x2, y2 = data.mnist("test", data_dir=tmp_path)
    assert x2 is x and y2 is y                                   # read once per process
    with pytest.raises(ValueError, match="read-only"):
        x[0, 0, 0, 0] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        y[0] = 3
    # a replaced file is read again
    _fake_test_split(tmp_path, labels=np.arange(10000)[::-1] % 10)
    _, y3 = data.mnist("test", data_dir=tmp_path)
    assert y3[0] == 9999 % 10


def test_wrong_split_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"no split 'val'.*'train' \(60,000.*'test' \(10,000"):
        data.mnist("val")


@pytest.mark.parametrize("via", ["data_dir", "env"])
def test_folder_without_the_files_says_what_is_missing_and_where_to_get_it(tmp_path, via,
                                                                           monkeypatch):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "t10k-images.idx3-ubyte").write_bytes(b"")       # as 7-Zip would name it
    if via == "env":
        monkeypatch.setenv("MINIGAN_DATA", str(folder))
        kwargs, how = {}, r"\$MINIGAN_DATA"
    else:
        kwargs, how = {"data_dir": folder}, "data_dir="
    with pytest.raises(mnist_files.MNISTNotFoundError) as err:
        data.mnist("test", **kwargs)
    msg = str(err.value)
    assert re.search(how, msg)
    for expected in (str(folder), "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                     "rename it", mnist_files.MIRRORS[0], str(tmp_path / "cache"),
                     "unset MINIGAN_DATA" if via == "env" else "leave out data_dir",
                     "downloading"):
        assert expected in msg, expected
    assert "train-images" not in msg
    assert not (tmp_path / "cache").exists()                    # a named folder never downloads


def test_a_folder_that_does_not_exist_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nowhere \(from data_dir=.*does not exist"):
        data.mnist("train", data_dir=tmp_path / "nowhere")


@pytest.mark.parametrize("damage, match", [
    (lambda b: b[:-100],
     r"expected 4,542 bytes with SHA-256 f7ae60f9.*found 4,442 bytes.*truncated"),
    (lambda b: b[:2000] + bytes([b[2000] ^ 1]) + b[2001:],
     r"expected 4,542 bytes with SHA-256 f7ae60f9.*found 4,542 bytes with SHA-256 .*differ"),
])
def test_a_corrupt_gz_file_is_named_with_what_was_expected(mnist_dir, tmp_path, damage, match):
    folder = tmp_path / "bad"
    folder.mkdir()
    shutil.copy(mnist_dir / "t10k-images-idx3-ubyte.gz", folder)
    (folder / LABELS).write_bytes(damage((mnist_dir / LABELS).read_bytes()))
    with pytest.raises(mnist_files.CorruptMNISTError, match=match) as err:
        data.mnist("test", data_dir=folder)
    assert str(folder / LABELS) in str(err.value)
    assert f"Put a correct copy in {folder}" in str(err.value)


def test_a_truncated_uncompressed_file_is_named_with_its_expected_length(tmp_path):
    _fake_test_split(tmp_path)
    path = tmp_path / TEST_FILES[0]
    path.write_bytes(path.read_bytes()[:-784])
    with pytest.raises(mnist_files.CorruptMNISTError,
                       match=r"t10k-images-idx3-ubyte is truncated: expected an IDX file with "
                             r"magic 2051 .* 10000 x 28 x 28, 7,840,016 bytes in all; found "
                             r"7,839,232 bytes"):
        data.mnist("test", data_dir=tmp_path)


def test_a_file_with_the_wrong_header_is_named(tmp_path):
    _fake_test_split(tmp_path)
    # the training labels' header (60000) under the test labels' name
    (tmp_path / TEST_FILES[1]).write_bytes(_raw_idx(2049, (60000,), np.zeros(10000, np.uint8)))
    with pytest.raises(mnist_files.CorruptMNISTError,
                       match=r"expected an IDX file with magic 2049 .* sizes 10000.*found magic "
                             r"2049 \(bytes 00 00 08 01\) and sizes 60000"):
        data.mnist("test", data_dir=tmp_path)
    (tmp_path / TEST_FILES[1]).write_bytes(_raw_idx(2051, (10000,), np.zeros(10000, np.uint8)))
    with pytest.raises(mnist_files.CorruptMNISTError, match=r"found magic 2051"):
        data.mnist("test", data_dir=tmp_path)


def test_labels_outside_0_to_9_are_refused(tmp_path):
    _fake_test_split(tmp_path, labels=np.full(10000, 11))
    with pytest.raises(mnist_files.CorruptMNISTError, match="labels up to 11; digits are 0-9"):
        data.mnist("test", data_dir=tmp_path)


def test_cache_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setattr(mnist_files, "CACHE_DIR", None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mnist_files.cache_dir() == tmp_path / "xdg" / "minigan" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert mnist_files.cache_dir() == tmp_path / "home" / ".cache" / "minigan" / "mnist"


# ------------------------------------------------------------ downloading
class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def _serve(root):
    """An HTTP server on 127.0.0.1 (a free port) serving the folder root, in a thread."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def mirrors(mnist_dir, tmp_path):
    """Local mirrors: good/ (the originals), flipped/ (one byte flipped in each),
    short/ (each cut short) and empty/ (nothing: 404)."""
    root = tmp_path / "www"
    for kind in ("good", "flipped", "short", "empty"):
        (root / kind).mkdir(parents=True)
    for name in mnist_files.CHECKSUMS:
        if name.startswith("train-images"):
            continue                                 # 10 MB: not needed here
        blob = (mnist_dir / name).read_bytes()
        (root / "good" / name).write_bytes(blob)
        (root / "flipped" / name).write_bytes(blob[:1000] + bytes([blob[1000] ^ 0xFF])
                                              + blob[1001:])
        (root / "short" / name).write_bytes(blob[:len(blob) // 2])
    with _serve(root) as url:
        yield {kind: f"{url}/{kind}/" for kind in ("good", "flipped", "short", "empty")}


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_brings_the_files_with_the_right_checksum(mirrors, tmp_path):
    cache = tmp_path / "dl"
    names = ["t10k-labels-idx1-ubyte", "train-labels-idx1-ubyte.gz"]
    paths = mnist_files.download_mnist(cache, names=names, mirrors=[mirrors["good"]],
                                       progress=False)
    assert [p.name for p in paths] == [LABELS, "train-labels-idx1-ubyte.gz"]
    for p in paths:
        assert _sha256(p) == mnist_files.CHECKSUMS[p.name][1]
    assert sorted(os.listdir(cache)) == sorted(p.name for p in paths)   # no temporaries


@pytest.mark.parametrize("kind, match", [
    ("flipped", r"checksum mismatch: expected SHA-256 f7ae60f9\w+, got \w+"),
    ("short", r"expected 4,542 bytes, received 2,271"),
    ("empty", r"HTTP 404"),
])
def test_a_bad_mirror_gives_a_clear_error_and_leaves_nothing(mirrors, tmp_path, kind, match):
    cache = tmp_path / "dl"
    with pytest.raises(mnist_files.DownloadError, match=match) as err:
        mnist_files.download_mnist(cache, names=[LABELS], mirrors=[mirrors[kind]],
                                   progress=False)
    msg = str(err.value)
    for expected in (mirrors[kind] + LABELS, "MINIGAN_DATA", "data_dir", str(cache)):
        assert expected in msg, expected
    assert os.listdir(cache) == []


def test_every_failing_mirror_is_listed(mirrors, tmp_path):
    closed = f"http://127.0.0.1:{_closed_port()}/"
    with pytest.raises(mnist_files.DownloadError) as err:
        mnist_files.download_mnist(tmp_path / "dl", names=[LABELS], progress=False,
                                   mirrors=[closed, mirrors["flipped"], mirrors["empty"]])
    lines = str(err.value).splitlines()
    assert lines[1].startswith(f"  {closed}{LABELS}: ") and "refused" in lines[1].lower()
    assert lines[2].startswith(f"  {mirrors['flipped']}{LABELS}: checksum mismatch")
    assert lines[3] == f"  {mirrors['empty']}{LABELS}: HTTP 404 File not found"
    assert os.listdir(tmp_path / "dl") == []


@pytest.mark.parametrize("first", ["flipped", "short", "closed"])
def test_a_bad_or_unreachable_mirror_falls_through_to_a_good_one(mirrors, tmp_path, first):
    cache = tmp_path / "dl"
    bad = f"http://127.0.0.1:{_closed_port()}/" if first == "closed" else mirrors[first]
    (path,) = mnist_files.download_mnist(cache, names=[LABELS], mirrors=[bad, mirrors["good"]],
                                         progress=False)
    assert _sha256(path) == mnist_files.CHECKSUMS[LABELS][1]
    assert os.listdir(cache) == [LABELS]


def test_a_wrong_file_already_there_is_replaced(mirrors, tmp_path):
    cache = tmp_path / "dl"
    cache.mkdir()
    (cache / LABELS).write_bytes(b"not mnist")
    mnist_files.download_mnist(cache, names=[LABELS], mirrors=[mirrors["good"]], progress=False)
    assert _sha256(cache / LABELS) == mnist_files.CHECKSUMS[LABELS][1]
    assert os.listdir(cache) == [LABELS]


def test_ctrl_c_during_a_download_leaves_no_temporary(mirrors, tmp_path, monkeypatch):
    class Interrupting:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n):
            raise KeyboardInterrupt

    monkeypatch.setattr(mnist_files, "tqdm", Interrupting)
    cache = tmp_path / "dl"
    with pytest.raises(KeyboardInterrupt):
        mnist_files.download_mnist(cache, names=[LABELS], mirrors=[mirrors["good"]])
    assert os.listdir(cache) == []


def test_a_leftover_of_a_killed_download_is_removed(mirrors, tmp_path):
    cache = tmp_path / "dl"
    cache.mkdir()
    (cache / f".{LABELS}.abcd1234.tmp").write_bytes(b"half")    # as kill -9 would leave it
    mnist_files.download_mnist(cache, names=[LABELS], mirrors=[mirrors["good"]], progress=False)
    assert os.listdir(cache) == [LABELS]


def test_mnist_downloads_into_the_empty_cache(mirrors, tmp_path, monkeypatch):
    """No data_dir, no MINIGAN_DATA: the cache is filled from the first mirror that works."""
    monkeypatch.delenv("MINIGAN_DATA")              # the mnist_dir fixture set it
    cache = tmp_path / "cache"
    assert mnist_files.cache_dir() == cache
    monkeypatch.setattr(mnist_files, "MIRRORS", [f"http://127.0.0.1:{_closed_port()}/",
                                                 mirrors["flipped"], mirrors["good"]])
    x, y = data.mnist("test")
    assert x.shape == (10000, 1, 28, 28) and list(y[:3]) == [7, 2, 1]
    assert sorted(os.listdir(cache)) == sorted(n + ".gz" for n in TEST_FILES)
    # and a damaged cached file is named, with the way out
    mnist_files.clear_cache()
    (cache / LABELS).write_bytes(b"oops")
    with pytest.raises(mnist_files.CorruptMNISTError, match="Delete it and minigan downloads it"):
        data.mnist("test")


def test_download_false_does_not_download(tmp_path):
    with pytest.raises(mnist_files.MNISTNotFoundError, match="download=False"):
        mnist_files.load("test", download=False)
    assert not (tmp_path / "cache").exists()


def test_download_refuses_a_name_that_is_not_mnist(tmp_path):
    with pytest.raises(ValueError, match="'cifar.gz' is not an MNIST file"):
        mnist_files.download_mnist(tmp_path, names=["cifar"], mirrors=[])


# --------------------------------------------------------------- batching
def _toy(n=10):
    """images whose pixels all equal the example's index, labels = index: rows stay
    together exactly when image[i] == label[i] everywhere."""
    images = np.broadcast_to(np.arange(n, dtype=np.float32)[:, None, None, None],
                             (n, 1, 2, 2)).copy()
    return images, np.arange(n, dtype=np.int64)


def _ids(batch):
    x, y = batch
    assert (x.numpy()[:, 0, 0, 0] == y.numpy()).all()      # the rows stayed together
    return list(y.numpy())


def test_batches_are_seeded():
    images, labels = _toy(50)
    minigan.manual_seed(7)
    a = [_ids(b) for b in data.Batches((images, labels), 8, epochs=2)]
    minigan.manual_seed(7)
    b = [_ids(b) for b in data.Batches((images, labels), 8, epochs=2)]
    minigan.manual_seed(8)
    c = [_ids(b) for b in data.Batches((images, labels), 8, epochs=2)]
    assert a == b and a != c


def test_batches_see_every_example_once_per_epoch_with_a_short_last_batch():
    images, labels = _toy(10)
    batches = data.Batches((images, labels), batch_size=4, epochs=3)
    assert len(batches) == 9 and batches.batches_per_epoch == 3
    got = [_ids(b) for b in batches]
    assert [len(b) for b in got] == [4, 4, 2] * 3
    epochs = [sum(got[i:i + 3], []) for i in (0, 3, 6)]
    for e in epochs:
        assert sorted(e) == list(range(10))
    assert epochs[0] != epochs[1] != epochs[2]                 # reshuffled every epoch


def test_drop_last_drops_the_short_batch():
    images, labels = _toy(10)
    batches = data.Batches((images, labels), batch_size=4, drop_last=True, epochs=2)
    got = [_ids(b) for b in batches]
    assert len(batches) == 4 and [len(b) for b in got] == [4, 4, 4, 4]
    assert len(set(got[0] + got[1])) == 8


def test_batches_without_shuffle_keep_the_order_and_can_run_forever():
    images, _ = _toy(5)
    batches = data.Batches(images, 2, shuffle=False, epochs=None)
    got = [list(x.numpy()[:, 0, 0, 0].astype(int)) for x in itertools.islice(batches, 7)]
    assert got == [[0, 1], [2, 3], [4], [0, 1], [2, 3], [4], [0, 1]]
    with pytest.raises(TypeError, match="forever"):
        len(batches)


def test_batches_are_tensors_on_the_device(device):
    images, labels = _toy(6)
    x, y = next(iter(data.Batches((images, labels), 4, device=device)))
    assert isinstance(x, minigan.Tensor) and isinstance(y, minigan.Tensor)
    assert x.device == device and y.device == device
    assert x.dtype == np.float32 and y.dtype == np.int64 and x.shape == (4, 1, 2, 2)
    s = data.sampler((images, labels), device=device)
    x, y = s(5)
    assert x.device == device and y.device == device and x.shape == (5, 1, 2, 2)
    assert data.sampler(images, device=device)(3).device == device


@pytest.mark.parametrize("make, error, match", [
    (lambda: data.Batches((np.zeros(3), np.zeros(4)), 2), ValueError,
     r"same number of examples .*\[3, 4\]"),
    (lambda: data.Batches(np.zeros(3), 0), ValueError, "batch_size must be a positive"),
    (lambda: data.Batches(np.zeros(3), 4, drop_last=True), ValueError, "no batch at all"),
    (lambda: data.Batches(np.zeros((0, 2)), 4), ValueError, "empty"),
    (lambda: data.Batches(np.zeros(3), 2, epochs=-1), ValueError, "epochs"),
    (lambda: data.sampler(()), ValueError, "give an array"),
    (lambda: data.sampler(3.0), TypeError, "must be an array"),
    (lambda: data.sampler(np.zeros(3))(-1), ValueError, ">= 0"),
])
def test_bad_batching_gets_clear_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_sampler_wraps_around_the_epoch():
    images, labels = _toy(10)
    s = data.sampler((images, labels))
    got = [_ids(s(4)) for _ in range(5)]                       # 20 examples: two epochs
    assert [len(b) for b in got] == [4] * 5
    flat = sum(got, [])
    assert sorted(flat[:10]) == list(range(10)) and sorted(flat[10:]) == list(range(10))
    assert flat[:10] != flat[10:]
    assert s.epoch == 2 and s.position == 10
    more = _ids(s(25))                                  # epochs 3 and 4, and 5 begun
    assert s.epoch == 5 and s.position == 5
    assert sorted(more[:10]) == sorted(more[10:20]) == list(range(10))
    assert more[20:] == list(s.permutation[:5])


def test_sampler_gives_a_tensor_for_one_array():
    images, _ = _toy(3)
    x = data.sampler(images)(7)
    assert isinstance(x, minigan.Tensor) and x.shape == (7, 1, 2, 2)
    assert data.sampler(images)(0).shape == (0, 1, 2, 2)
    assert isinstance(data.sampler((images,))(2), minigan.Tensor)     # a 1-tuple too
    assert isinstance(next(iter(data.Batches([images], 2))), minigan.Tensor)


def test_sampler_draws_nothing_until_asked():
    minigan.manual_seed(3)
    expected = backend.generator("cpu").permutation(10)
    minigan.manual_seed(3)
    s = data.sampler(_toy(10))
    assert s.state_dict()["permutation"] is None
    assert _ids(s(10)) == list(expected)


def test_sampler_state_round_trip_continues_identically(tmp_path):
    images, labels = _toy(10)
    s = data.sampler((images, labels))
    for _ in range(3):
        s(4)                                                    # mid-way through epoch 2
    minigan.save({"sampler": s.state_dict(),
                  "rng": np.asarray(str(backend.generator("cpu").bit_generator.state))},
                  tmp_path / "ck.npz")
    rng_state = backend.generator("cpu").bit_generator.state
    expected = [_ids(s(4)) for _ in range(6)]                   # crosses two epoch boundaries

    minigan.manual_seed(123)                                    # another run, elsewhere
    r = data.sampler((images, labels))
    r(3)
    r.load_state_dict(minigan.load(tmp_path / "ck.npz")["sampler"])
    backend.generator("cpu").bit_generator.state = rng_state
    assert [_ids(r(4)) for _ in range(6)] == expected


def test_sampler_refuses_a_state_that_does_not_fit():
    s = data.sampler(_toy(10))
    s(3)
    state = s.state_dict()
    with pytest.raises(ValueError, match="dataset of 10 examples, but this sampler has 12"):
        data.sampler(_toy(12)).load_state_dict(state)
    bad = dict(state, permutation=np.zeros(10, dtype=np.int64))
    with pytest.raises(ValueError, match="each of 0..9 once"):
        data.sampler(_toy(10)).load_state_dict(bad)
    with pytest.raises(ValueError, match="lacks position"):
        data.sampler(_toy(10)).load_state_dict({"size": 10, "epoch": 1, "permutation": None})


def test_batches_take_tensors_and_an_own_generator():
    images, labels = _toy(10)
    order = np.random.default_rng(5).permutation(10)
    got = [_ids(b) for b in data.Batches((minigan.tensor(images), labels), 5,
                                         generator=np.random.default_rng(5))]
    assert sum(got, []) == list(order)
    s = data.sampler((images, labels), generator=np.random.default_rng(5))
    assert _ids(s(10)) == list(order)

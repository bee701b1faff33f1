"""Checkpoints: minigan.save / minigan.load round trips, atomic writes, refusing unsafe files."""
import os
import pickle
import zipfile

import numpy as np
import pytest

import minigan
from minigan import nn, optim
from minigan.serialization import CheckpointError


def _model():
    return nn.Sequential(nn.Dense(3, 4), nn.BatchNorm1d(4), nn.LeakyReLU(0.2), nn.Dense(4, 1))


def _trained(steps=2):
    m = _model()
    opt = optim.Adam(m.parameters(), lr=1e-2, betas=(0.5, 0.999))
    for _ in range(steps):
        opt.zero_grad()
        m(minigan.tensor(np.random.randn(8, 3).astype(np.float32))).sum().backward()
        opt.step()
    return m, opt


def test_nested_structure_round_trips(tmp_path):
    obj = {"G": {"w": np.arange(6.0).reshape(2, 3), "t": minigan.tensor([1.0, 2.0])},
           "step": 100, "lr": 2e-4, "name": "dcgan", "done": False, "best": None,
           "betas": [0.5, 0.999], "sizes": (1, 2, 3), "empty": [], "nothing": {},
           "rng": '{"state": 12345}', "history": [{"loss": 0.5}, {"loss": 0.25}],
           "file": np.int8(3)}
    path = tmp_path / "ckpt.npz"
    minigan.save(obj, path)
    back = minigan.load(path)
    assert set(back) == set(obj)
    np.testing.assert_array_equal(back["G"]["w"], obj["G"]["w"])
    assert isinstance(back["G"]["t"], np.ndarray) and back["G"]["t"].dtype == np.float32
    assert back["step"] == 100 and type(back["step"]) is int
    assert back["lr"] == 2e-4 and type(back["lr"]) is float
    assert back["name"] == "dcgan" and back["done"] is False and back["best"] is None
    assert back["betas"] == [0.5, 0.999] and back["sizes"] == (1, 2, 3)
    assert back["empty"] == [] and back["nothing"] == {} and back["rng"] == obj["rng"]
    assert back["history"] == [{"loss": 0.5}, {"loss": 0.25}] and back["file"] == 3
    # an ordinary npz: numpy reads it, with the keys joined by "/"
    with np.load(path, allow_pickle=False) as z:
        assert "G/w" in z.files and "step" in z.files and int(z["step"]) == 100


def test_model_and_optimizer_checkpoint_resumes(tmp_path):
    m, opt = _trained()
    minigan.save({"G": m.state_dict(), "opt_g": opt.state_dict(), "step": 2}, tmp_path / "c.npz")
    ck = minigan.load(tmp_path / "c.npz")
    m2 = _model()
    m2.load_state_dict(ck["G"])
    opt2 = optim.Adam(m2.parameters(), lr=1e-2, betas=(0.5, 0.999))
    opt2.load_state_dict(ck["opt_g"])
    assert opt2.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(m2.state_dict()[k], v)
    x = np.random.randn(8, 3).astype(np.float32)
    for model, o in ((m, opt), (m2, opt2)):           # one more step each: identical
        o.zero_grad()
        model(minigan.tensor(x)).sum().backward()
        o.step()
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(m2.state_dict()[k], v)


def test_write_is_atomic(tmp_path, monkeypatch):
    """A crash during the write leaves the old checkpoint intact and no temporary file."""
    path = tmp_path / "c.npz"
    minigan.save({"step": 1}, path)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut")
    monkeypatch.setattr(np.lib.format, "write_array", crash)
    with pytest.raises(KeyboardInterrupt):
        minigan.save({"step": 2, "w": np.ones(3)}, path)
    monkeypatch.undo()
    assert minigan.load(path) == {"step": 1}
    assert os.listdir(tmp_path) == ["c.npz"]


def test_truncated_and_foreign_files_name_the_file(tmp_path):
    good = tmp_path / "good.npz"
    m, opt = _trained(1)
    minigan.save({"G": m.state_dict(), "opt": opt.state_dict()}, good)
    data = good.read_bytes()
    for name, content in [("half.npz", data[:len(data) // 2]), ("tail.npz", data[:-30]),
                          ("text.npz", b"not a checkpoint at all"), ("empty.npz", b"")]:
        p = tmp_path / name
        p.write_bytes(content)
        with pytest.raises(CheckpointError, match=name) as e:
            minigan.load(p)
        # no zipfile traceback chained underneath
        assert e.value.__cause__ is None
        assert e.value.__context__ is None or e.value.__suppress_context__
    np.save(tmp_path / "plain.npy", np.ones(2))
    with pytest.raises(CheckpointError, match="plain.npy"):
        minigan.load(tmp_path / "plain.npy")


class _Evil:
    """Unpickling this object would create a marker file (it must never happen)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_objects_are_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.npz"
    payload = np.empty(1, dtype=object)
    payload[0] = _Evil(str(marker))
    np.savez(evil, **{"G/0.weight": np.ones(2), "payload": payload})   # numpy pickles objects
    assert not marker.exists()
    with pytest.raises(CheckpointError, match="pickle"):
        minigan.load(evil)
    assert not marker.exists()
    # a raw pickle file posing as a checkpoint is refused too
    raw = tmp_path / "raw.npz"
    raw.write_bytes(pickle.dumps(_Evil(str(marker))))
    with pytest.raises(CheckpointError, match="raw.npz"):
        minigan.load(raw)
    assert not marker.exists()


def test_foreign_npz_without_description_loads_as_nested_dicts(tmp_path):
    np.savez(tmp_path / "f.npz", **{"G/w": np.ones(2), "step": np.array(5)})
    back = minigan.load(tmp_path / "f.npz")
    assert back["step"] == 5 and back["G"]["w"].shape == (2,)


def test_unsupported_values_are_refused_before_writing(tmp_path):
    path = tmp_path / "c.npz"
    for bad, word in [({"f": lambda: 0}, "function"), ({1: np.ones(1)}, "keys"),
                      ({"a/b": 1}, "keys"), ({"o": np.array([object()])}, "objects"),
                      (_model(), "state_dict"), ({"opt": optim.SGD(_model().parameters(), lr=1)},
                                                 "state_dict")]:
        with pytest.raises(TypeError, match=word):
            minigan.save(bad, path)
    assert not path.exists() and os.listdir(tmp_path) == []


def test_zip_entries_are_stored_under_slash_keys(tmp_path):
    minigan.save({"G": _model().state_dict()}, tmp_path / "c.npz")
    names = zipfile.ZipFile(tmp_path / "c.npz").namelist()
    assert "G/0.weight.npy" in names and "G/1.running_var.npy" in names


# ------------------------------------------- a missing folder, leftovers of crashes
def test_save_into_a_missing_folder_names_the_target(tmp_path):
    target = tmp_path / "no" / "such" / "folder" / "ckpt.npz"
    with pytest.raises(FileNotFoundError) as e:
        minigan.save({"step": 1}, target)
    msg = str(e.value)
    assert str(target) in msg and "does not exist" in msg and "makedirs" in msg
    assert ".tmp" not in msg                       # not the temporary file's name
    assert e.value.filename == str(target)


def test_save_onto_a_folder_names_the_target(tmp_path):
    target = tmp_path / "ckpt.npz"
    target.mkdir()
    with pytest.raises(OSError) as e:
        minigan.save({"step": 1}, target)
    assert str(target) in str(e.value) and ".tmp" not in str(e.value)
    assert os.listdir(tmp_path) == ["ckpt.npz"]    # no temporary file left behind


def _leftovers(folder, target="ckpt.npz"):
    """Files named as save names its temporaries for `target`, as a killed save leaves them."""
    names = [f".{target}.a1b2c3d4.tmp", f".{target}.zz_09xyq.tmp"]
    for name in names:
        (folder / name).write_bytes(b"PK\x03\x04 half a checkpoint")
    return names


UNRELATED = ["ckpt.npz.tmp", ".ckpt.npz.tmp", ".ckpt.npz.a1b2c3d4.tmp.keep",
             ".ckpt.npz.a1b2c3d4e.tmp", ".other.npz.a1b2c3d4.tmp", ".ckpt.npz.A1B2C3D4.tmp",
             "notes.txt", ".xckpt.npz.a1b2c3d4.tmp", ".ckpt.npz.ab.cd.ef.tmp"]


@pytest.mark.parametrize("action", ["save", "load"])
def test_leftover_temporaries_are_removed_at_the_next_save_or_load(tmp_path, action):
    target = tmp_path / "ckpt.npz"
    minigan.save({"step": 1}, target)
    for name in UNRELATED:
        (tmp_path / name).write_bytes(b"not minigan's")
    stale = _leftovers(tmp_path)
    if action == "save":
        minigan.save({"step": 2}, target)
    else:
        assert minigan.load(target) == {"step": 1}
    left = set(os.listdir(tmp_path))
    assert not left & set(stale), "a leftover temporary survived"
    assert left == set(UNRELATED) | {"ckpt.npz"}, "something else was removed"
    for name in UNRELATED:
        assert (tmp_path / name).exists()


def test_leftovers_beside_a_missing_checkpoint_go_at_its_load(tmp_path):
    stale = _leftovers(tmp_path)
    with pytest.raises(FileNotFoundError):
        minigan.load(tmp_path / "ckpt.npz")
    assert not set(os.listdir(tmp_path)) & set(stale)


@pytest.mark.skipif(not hasattr(os, "fork") or os.name != "posix", reason="POSIX only")
def test_a_save_killed_mid_write_is_cleaned_up_next_time(tmp_path):
    """kill -9 in the middle of writing: the old checkpoint survives, the temporary
    file stays behind, and the next save of the same target removes it."""
    import signal
    import subprocess
    import sys
    target = tmp_path / "ckpt.npz"
    minigan.save({"step": 1}, target)
    code = (
        "import os, signal, sys, numpy as np\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "import minigan\n"
        "real = np.lib.format.write_array\n"
        "calls = []\n"
        "def write(*a, **k):\n"
        "    calls.append(1)\n"
        "    if len(calls) == 2:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    return real(*a, **k)\n"
        "np.lib.format.write_array = write\n"
        "minigan.save({'w': np.ones(1000), 'v': np.ones(1000), 'step': 2}, sys.argv[1])\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(minigan.__file__)))
    done = subprocess.run([sys.executable, "-c", code, str(target), root], timeout=60)
    assert done.returncode == -signal.SIGKILL
    left = [n for n in os.listdir(tmp_path) if n != "ckpt.npz"]
    assert len(left) == 1 and left[0].startswith(".ckpt.npz.") and left[0].endswith(".tmp")
    assert minigan.load(target) == {"step": 1}          # the old checkpoint is intact...
    assert os.listdir(tmp_path) == ["ckpt.npz"]         # ...and loading it cleaned up


@pytest.mark.skipif(os.name != "posix", reason="file locks are POSIX here")
def test_a_temporary_still_being_written_is_left_alone(tmp_path):
    """Another process saving the same target holds a lock on its temporary file:
    a save or load meanwhile (a monitor reading the latest checkpoint) must not
    delete it from under the writer."""
    import fcntl
    target = tmp_path / "ckpt.npz"
    minigan.save({"step": 1}, target)
    busy = tmp_path / ".ckpt.npz.k3y_0abc.tmp"
    with open(busy, "wb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)           # what a writer holds
        minigan.save({"step": 2}, target)
        assert minigan.load(target) == {"step": 2}
        assert busy.exists()
    minigan.load(target)                                  # the writer died: now it goes
    assert not busy.exists()


# ------------------------------------------------------------ atomic_write
def test_atomic_write_replaces_the_file_whole(tmp_path):
    from minigan.serialization import atomic_write, atomic_file
    target = tmp_path / "metrics.json"
    atomic_write(target, "{}\n")
    assert target.read_bytes() == b"{}\n"
    atomic_write(str(target), b"\x00\x01")                     # bytes, and a str path
    assert target.read_bytes() == b"\x00\x01"
    atomic_write(target, "r\u00e9sum\u00e9\r\n")                  # str: UTF-8, newlines kept
    assert target.read_bytes() == "r\u00e9sum\u00e9\r\n".encode("utf-8")
    with pytest.raises(RuntimeError, match="half way"):
        with atomic_file(target) as f:
            f.write(b"half a file")
            raise RuntimeError("half way")
    assert target.read_bytes() == "r\u00e9sum\u00e9\r\n".encode("utf-8")   # as it was
    assert os.listdir(tmp_path) == ["metrics.json"]              # no temporary left
    _leftovers(tmp_path, "metrics.json")
    atomic_write(target, "{}")                                   # a crash's leftovers go
    assert os.listdir(tmp_path) == ["metrics.json"]


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX file modes")
def test_atomic_files_get_the_permissions_open_gives(tmp_path):
    from minigan.serialization import atomic_write
    with open(tmp_path / "plain", "w"):
        pass
    atomic_write(tmp_path / "atomic", "x")
    minigan.save({"step": 1}, tmp_path / "ckpt.npz")
    plain = os.stat(tmp_path / "plain").st_mode & 0o777
    assert os.stat(tmp_path / "atomic").st_mode & 0o777 == plain
    assert os.stat(tmp_path / "ckpt.npz").st_mode & 0o777 == plain

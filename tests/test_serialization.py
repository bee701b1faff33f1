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

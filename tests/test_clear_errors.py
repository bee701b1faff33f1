"""Every mistake in a call stops at the call, in one sentence that names the argument,
what it must be and what it was: no NaN from ``tensor + None``, no 2.5 steps trained
as 3, no checkpoint that gives back other values than were saved, and on the command
line no traceback, but the message alone and exit code 2.

Library calls run in-process; the command line runs through ``minigan.__main__.main``,
whose output ``capsys`` holds."""
import errno
import json
import operator
import os
import shutil

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import experiments, nn, optim
from minigan.__main__ import main
from minigan.data import mnist_files
from minigan.gan.runner import Trainer
from minigan.serialization import CheckpointError, MAX_DEPTH


# ------------------------------------------------- operators given a non-number
BINARY = [("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
          ("div", operator.truediv), ("pow", operator.pow), ("matmul", operator.matmul),
          ("compare (<)", operator.lt), ("compare (<=)", operator.le),
          ("compare (>)", operator.gt), ("compare (>=)", operator.ge)]
# Python turns `None < t` into `t > None`: the reflected comparison is the mirrored one
MIRRORED = {"compare (<)": "compare (>)", "compare (<=)": "compare (>=)",
            "compare (>)": "compare (<)", "compare (>=)": "compare (<=)"}


@pytest.mark.parametrize("name, op", BINARY, ids=[n for n, _ in BINARY])
@pytest.mark.parametrize("other, type_name", [(None, "NoneType"), ("x", "str"), ({}, "dict"),
                                              (1j, "complex"), ([[1.0], [2.0, 3.0]], "list")])
def test_an_operator_refuses_what_is_not_a_number_naming_the_operation_and_the_type(
        name, op, other, type_name):
    t = minigan.tensor([1.0, 2.0])
    with pytest.raises(TypeError) as e:
        op(t, other)
    assert str(e.value).startswith(f"{name}: the other operand must be")
    assert f"(type {type_name})" in str(e.value)
    with pytest.raises(TypeError) as e:             # reflected: other + t, other < t...
        op(other, t)
    assert str(e.value).startswith(f"{MIRRORED.get(name, name)}: the other operand must be")
    assert f"(type {type_name})" in str(e.value)


def test_eq_and_backward_refuse_none_too():
    t = minigan.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"^eq: .* got None \(type NoneType\)"):
        t.eq(None)
    with pytest.raises(TypeError, match=r"^backward\(grad=...\): .* got 'g' \(type str\)"):
        (t * 2).backward("g")


def test_numbers_lists_and_arrays_still_combine_with_a_tensor():
    """The refusal above must not catch what worked: numbers (NumPy's too), lists and
    arrays of numbers, each keeping the tensor's dtype where it is a scalar."""
    t = minigan.tensor([1.0, 2.0])
    assert (t + 1).tolist() == [2.0, 3.0] and (2.5 * t).tolist() == [2.5, 5.0]
    assert (t + np.float64(1)).dtype == np.float32 and (t * np.int64(2)).tolist() == [2.0, 4.0]
    assert (t + [1, 2]).tolist() == [2.0, 4.0] and (t - (1, 1)).tolist() == [0.0, 1.0]
    assert (t < 1.5).tolist() == [True, False] and (True * t).tolist() == [1.0, 2.0]
    assert (np.ones(2, dtype=np.float32) + t).tolist() == [2.0, 3.0]


def test_a_functional_op_given_no_tensor_at_all_names_both_operands():
    with pytest.raises(TypeError, match=r"^add: a or b must be a minigan Tensor, got 1 "
                                        r"\(type int\) and None \(type NoneType\)"):
        F.add(1, None)
    with pytest.raises(TypeError, match=r"^matmul: a or b must be a minigan Tensor"):
        F.matmul(np.ones((2, 2)), np.ones((2, 2)))


# ------------------------------------------------- what tensor() is given
@pytest.mark.parametrize("make", [minigan.tensor, minigan.Tensor], ids=["tensor", "Tensor"])
def test_ragged_lists_are_refused_naming_what_was_given(make):
    with pytest.raises(ValueError, match=r"^tensor: data must be a number, or lists nested as "
                                         r"a rectangle .* got \[\[1, 2\], \[3\]\] \(type list\)"
                                         r", whose rows differ in length"):
        make([[1, 2], [3]])


@pytest.mark.parametrize("make", [minigan.tensor, minigan.Tensor], ids=["tensor", "Tensor"])
@pytest.mark.parametrize("data, given", [(1j, "1j (type complex)"),
                                         ([1.0, 2j], "[1.0, 2j] (type list)"),
                                         (np.array([1 + 1j]), "a numpy.ndarray of shape (1,) "
                                                              "and dtype complex128")])
def test_complex_numbers_are_refused_naming_what_was_given(make, data, given):
    with pytest.raises(TypeError) as e:
        make(data)
    assert str(e.value).startswith("tensor: data must be real numbers")
    assert f"got {given}, complex" in str(e.value)


# -------------------------------------- arrays and lists where a Tensor goes
ARRAY = np.zeros((4, 3), dtype=np.float32)
W = minigan.tensor(np.ones((2, 3), dtype=np.float32))


@pytest.mark.parametrize("call, start, given", [
    (lambda: nn.Dense(3, 2)(ARRAY), "Dense(3 -> 2): the input must be a minigan Tensor",
     "numpy.ndarray of shape (4, 3) and dtype float32"),
    (lambda: nn.Dense(3, 2)(ARRAY.tolist()), "Dense(3 -> 2): the input must be a minigan Tensor",
     "(type list)"),
    (lambda: F.relu(ARRAY), "relu: x must be a minigan Tensor", "numpy.ndarray of shape (4, 3)"),
    (lambda: F.relu([1.0, -1.0]), "relu: x must be a minigan Tensor", "[1.0, -1.0] (type list)"),
    (lambda: F.linear(ARRAY, W), "linear: x must be a minigan Tensor", "numpy.ndarray"),
    (lambda: F.linear(minigan.tensor(ARRAY), ARRAY[:2]), "linear: weight must be a minigan "
     "Tensor", "numpy.ndarray of shape (2, 3)"),
    (lambda: F.linear(minigan.tensor(ARRAY), W, [0.0, 0.0]), "linear: bias must be a minigan "
     "Tensor", "[0.0, 0.0] (type list)"),
    (lambda: nn.Conv2d(1, 2, 3)(np.zeros((1, 1, 5, 5))),
     "Conv2d(1 -> 2, 3x3): the input must be a minigan Tensor", "numpy.ndarray"),
    (lambda: nn.Conv2d(1, 2, 3)(np.zeros((1, 1, 5, 5)).tolist()),    # was AttributeError
     "Conv2d(1 -> 2, 3x3): the input must be a minigan Tensor", "(type list)"),
    (lambda: nn.BatchNorm1d(3)(ARRAY.tolist()),                       # was AttributeError
     "BatchNorm1d(3): the input must be a minigan Tensor", "(type list)"),
    (lambda: F.conv2d(np.zeros((1, 1, 5, 5)), minigan.tensor(np.ones((2, 1, 3, 3)))),
     "conv2d: x must be a minigan Tensor", "numpy.ndarray"),
    (lambda: F.batch_norm(ARRAY, None, None, training=True),
     "batch_norm: x must be a minigan Tensor", "numpy.ndarray"),
    (lambda: F.sum(ARRAY), "sum: x must be a minigan Tensor", "numpy.ndarray"),
    (lambda: F.reshape(ARRAY, 12), "reshape: x must be a minigan Tensor", "numpy.ndarray"),
    (lambda: F.stack([W, ARRAY]), "stack: tensors[1] must be a minigan Tensor", "numpy.ndarray"),
    (lambda: F.mse_loss(ARRAY, W), "mse_loss: input must be a minigan Tensor", "numpy.ndarray"),
    (lambda: nn.InstanceNorm2d(3)(np.zeros((1, 3, 4, 4)).tolist()),
     "InstanceNorm2d(3): the input must be a minigan Tensor", "(type list)"),
    (lambda: nn.Upsample()(np.zeros((1, 3, 4, 4))),
     "Upsample(scale_factor=2): the input must be a minigan Tensor", "numpy.ndarray"),
    (lambda: nn.AvgPool2d(2)(np.zeros((1, 3, 4, 4))),
     "AvgPool2d(kernel_size=(2, 2), stride=(2, 2)): the input must be a minigan Tensor",
     "numpy.ndarray"),
    (lambda: F.instance_norm(np.zeros((1, 3, 4, 4))), "instance_norm: x must be a minigan Tensor",
     "numpy.ndarray"),
    (lambda: F.interpolate(np.zeros((1, 3, 4, 4)), scale_factor=2),
     "interpolate: x must be a minigan Tensor", "numpy.ndarray"),
    (lambda: F.avg_pool2d(np.zeros((1, 3, 4, 4)), 2), "avg_pool2d: x must be a minigan Tensor",
     "numpy.ndarray"),
    (lambda: nn.PixelNorm()(np.zeros((1, 3, 4, 4))), "PixelNorm: the input must be a minigan "
     "Tensor", "numpy.ndarray"),
    (lambda: nn.MinibatchStdDev()(np.zeros((4, 3, 4, 4)).tolist()),
     "MinibatchStdDev(group_size=4): the input must be a minigan Tensor", "(type list)"),
    (lambda: nn.EqualizedConv2d(3, 2, 3)(np.zeros((1, 3, 4, 4))),
     "EqualizedConv2d(3 -> 2, 3x3): the input must be a minigan Tensor", "numpy.ndarray"),
    (lambda: nn.EqualizedDense(3, 2)(ARRAY), "EqualizedDense(3 -> 2): the input must be a "
     "minigan Tensor", "numpy.ndarray of shape (4, 3)"),
    (lambda: nn.Embedding(5, 2)([0, 1]), "Embedding(5, 2): the input must be a minigan Tensor",
     "(type list)"),
    (lambda: F.pixel_norm(np.zeros((4, 3))), "pixel_norm: x must be a minigan Tensor",
     "numpy.ndarray"),
    (lambda: F.minibatch_stddev(np.zeros((4, 3, 2, 2))),
     "minibatch_stddev: x must be a minigan Tensor", "numpy.ndarray"),
    (lambda: F.embedding([0, 1], W), "embedding: input must be a minigan Tensor", "(type list)"),
], ids=["Dense-array", "Dense-list", "relu-array", "relu-list", "linear-x", "linear-weight",
        "linear-bias", "Conv2d-array", "Conv2d-list", "BatchNorm1d-list", "conv2d", "batch_norm",
        "sum", "reshape", "stack", "mse_loss", "InstanceNorm2d-list", "Upsample-array",
        "AvgPool2d-array", "instance_norm", "interpolate", "avg_pool2d", "PixelNorm-array",
        "MinibatchStdDev-list", "EqualizedConv2d-array", "EqualizedDense-array",
        "Embedding-list", "pixel_norm", "minibatch_stddev", "embedding"])
def test_a_layer_or_function_given_no_tensor_names_the_argument_and_what_it_got(call, start,
                                                                                 given):
    with pytest.raises(TypeError) as e:
        call()
    message = str(e.value)
    assert message.startswith(start), message
    assert given in message and "minigan.tensor(" in message


# ------------------------------------------------------------ counts and seeds
def _trainer(out_dir=None):
    minigan.manual_seed(0)
    G, D = nn.Dense(2, 2), nn.Dense(2, 1)
    return Trainer(G, D, optim.SGD(G.parameters(), lr=0.1), optim.SGD(D.parameters(), lr=0.1),
                   lambda m: minigan.tensor(np.ones((m, 2), dtype=np.float32)),
                   lambda m: minigan.tensor(np.ones((m, 2), dtype=np.float32)),
                   batch_size=4, progress=False, out_dir=out_dir)


@pytest.mark.parametrize("steps, error, given", [
    (-1, ValueError, "got -1"), (2.5, TypeError, "got 2.5 (type float)"),
    (3.0, TypeError, "got 3.0 (type float)"), (True, TypeError, "got True (type bool)"),
    ("abc", TypeError, "got 'abc' (type str)"), (None, TypeError, "got None (type NoneType)")])
def test_fit_refuses_a_step_count_that_is_not_a_whole_number(tmp_path, steps, error, given):
    """Before: fit(-1) trained nothing and fit(2.5) trained 3 steps, silently; fit("abc")
    failed in tqdm. Now nothing starts, not even the run's folder."""
    trainer = _trainer(out_dir=tmp_path / "run")
    with pytest.raises(error) as e:
        trainer.fit(steps)
    assert str(e.value).startswith("Trainer.fit: steps must be a whole number >= 0")
    assert str(e.value).endswith(given)
    assert trainer.global_step == 0 and not (tmp_path / "run").exists()


def test_fit_takes_a_numpy_integer_and_zero():
    trainer = _trainer()
    trainer.fit(np.int64(2))
    assert trainer.global_step == 2
    trainer.fit(0)                       # the total is reached already: nothing to do
    assert trainer.global_step == 2


@pytest.mark.parametrize("seed, error, given", [
    (1.7, TypeError, "got 1.7 (type float)"), ("x", TypeError, "got 'x' (type str)"),
    (True, TypeError, "got True (type bool)"), (-1, ValueError, "got -1")])
def test_manual_seed_refuses_what_is_not_a_whole_number(seed, error, given):
    with pytest.raises(error) as e:
        minigan.manual_seed(seed)
    assert str(e.value).startswith("manual_seed: seed must be a whole number >= 0")
    assert str(e.value).endswith(given)


def test_manual_seed_takes_a_numpy_integer_as_the_same_seed():
    minigan.manual_seed(np.int64(7))
    a = minigan.backend.generator("cpu").random(3)
    minigan.manual_seed(7)
    assert np.array_equal(a, minigan.backend.generator("cpu").random(3))


# ------------------------------------------------------------------ checkpoints
def test_strings_and_number_types_come_back_exactly(tmp_path):
    obj = {"s": "a\x00", "nuls": "\x00\x00", "inner": "a\x00b", "empty": "",
           "mixed": [1, 2.5], "tuple": (2.0, 3), "ints": [1, 2], "floats": [0.5, 2.0],
           "strings": ["x\x00", "y"], "extremes": [-2 ** 63, 2 ** 63 - 1]}
    minigan.save(obj, tmp_path / "c.npz")
    back = minigan.load(tmp_path / "c.npz")
    assert back == obj
    for key in obj:
        if isinstance(obj[key], (list, tuple)):
            assert [type(v) for v in back[key]] == [type(v) for v in obj[key]], key


@pytest.mark.parametrize("obj, path", [({"x": 2 ** 70}, "'x'"), ({"a": {"b": [1, 2 ** 64]}},
                                                                   "'a/b/1'"),
                                       ({"x": np.uint64(2 ** 64 - 1)}, "'x'"),
                                       ({"x": -2 ** 63 - 1}, "'x'")])
def test_an_integer_beyond_64_bits_is_refused_naming_its_key_path(tmp_path, obj, path):
    with pytest.raises(ValueError, match=rf"^save: {path} is the integer \d+|^save: {path} is "
                                         rf"the integer -\d+"):
        minigan.save(obj, tmp_path / "c.npz")
    assert os.listdir(tmp_path) == []


def test_a_key_holding_a_nul_is_refused_naming_it(tmp_path):
    with pytest.raises(TypeError, match=r"keys must be non-empty strings without '/' or "
                                        r"'\\x00', got 'k\\x00' at a$"):
        minigan.save({"a": {"k\x00": 1}}, tmp_path / "c.npz")


def test_a_structure_too_deep_or_holding_itself_is_refused_when_saved(tmp_path):
    loop = {}
    loop["self"] = loop
    with pytest.raises(ValueError, match=rf"^save: 'self/self/self/.../self/self' is nested "
                                         rf"more than {MAX_DEPTH} dicts and lists deep"):
        minigan.save(loop, tmp_path / "c.npz")
    deepest = None
    for _ in range(MAX_DEPTH):           # as deep as allowed: it round-trips
        deepest = [deepest]
    minigan.save({"d": deepest[0]}, tmp_path / "c.npz")
    assert minigan.load(tmp_path / "c.npz") == {"d": deepest[0]}


def _too_deep_for_json():
    return "[" * 100_000 + "]" * 100_000             # beyond the JSON reader's stack


def _deeper_than_save_writes():
    node = {"t": "none"}                             # valid, but deeper than MAX_DEPTH
    for _ in range(MAX_DEPTH + 5):
        node = {"t": "list", "items": [node]}
    return json.dumps(node)


@pytest.mark.parametrize("description", [_too_deep_for_json, _deeper_than_save_writes])
def test_a_checkpoint_nested_too_deeply_is_refused_with_a_sentence(tmp_path, description):
    """Before: RecursionError, a traceback as deep as the file's nesting."""
    path = tmp_path / "deep.npz"
    np.savez(path, __minigan__=np.asarray(description()))
    with pytest.raises(CheckpointError, match=r"deep.npz: the checkpoint's description .*"
                                              r"nested .*deep.*refused"):
        minigan.load(path)


# ------------------------------------------------------------------ the command line
def _refused(capsys, argv):
    """Run the command line; it must exit with code 2 and print no traceback. Returns
    what it printed on stderr."""
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code == 2, out + err
    return err


@pytest.mark.parametrize("blank", ["", "  "])
def test_an_empty_out_is_refused_instead_of_writing_into_runs(capsys, tmp_path, monkeypatch,
                                                              blank):
    """Before: --out "" fell back to runs/NAME/ without a word."""
    monkeypatch.chdir(tmp_path)
    err = _refused(capsys, ["run", "vanishing-gradients", "--out", blank])
    assert err.strip() == (f"error: --out must name a folder, got {blank!r}; leave --out out "
                           f"to write into runs/vanishing-gradients/")
    assert os.listdir(tmp_path) == []


@pytest.fixture
def probe():
    """register(fn): an experiment `fn(cfg)` under a probe name, for this test only."""
    names = []

    def register(fn):
        experiments.load_all()
        name = f"test-probe-{len(names)}"
        experiments.experiment(name, "a probe", lecture=1)(fn)
        names.append(name)
        return name
    yield register
    for name in names:
        experiments.EXPERIMENTS.pop(name, None)


def test_an_output_folder_removed_during_the_run_is_named_without_a_traceback(capsys, tmp_path,
                                                                            probe):
    def removes_its_folder(cfg):
        shutil.rmtree(cfg.out)           # as `rm -r runs/NAME` in another terminal would
        return {"score": 1.0}
    out = tmp_path / "out"
    err = _refused(capsys, ["run", probe(removes_its_folder), "--out", str(out)])
    assert err.startswith(f"error: could not write '{out}/")
    assert "No such file or directory" in err and f"output folder '{out}'" in err
    assert len(err.strip().splitlines()) == 1


def test_a_write_refused_during_the_run_is_named_without_a_traceback(capsys, tmp_path, probe):
    """The error a figure's write gets in a folder made read-only (simulated: this
    test may run as root, to whom permission bits do not apply)."""
    def denied(cfg):
        target = os.fspath(cfg.out / "figure.png")
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), target)
    out = tmp_path / "out"
    err = _refused(capsys, ["run", probe(denied), "--out", str(out)])
    assert err.startswith(f"error: could not write '{out / 'figure.png'}' (Permission denied)")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into a read-only folder all the same")
def test_an_output_folder_made_read_only_during_the_run_is_named(capsys, tmp_path, probe):
    def read_only(cfg):
        os.chmod(cfg.out, 0o555)
        (cfg.out / "figure.png").write_bytes(b"png")
    out = tmp_path / "out"
    try:
        err = _refused(capsys, ["run", probe(read_only), "--out", str(out)])
    finally:
        os.chmod(out, 0o755)
    assert err.startswith(f"error: could not write '{out / 'figure.png'}'")


def test_an_os_error_outside_the_output_folder_is_not_disguised(tmp_path, probe):
    """Only a failure to write the run's own files is the user's to fix; another one
    (a bug, a file the experiment reads) keeps its traceback."""
    def elsewhere(cfg):
        raise PermissionError(errno.EACCES, "Permission denied", "/elsewhere/file")
    with pytest.raises(PermissionError):
        main(["run", probe(elsewhere), "--out", str(tmp_path / "out")])


@pytest.fixture
def no_mnist_anywhere(monkeypatch, tmp_path):
    """No $MINIGAN_DATA, an empty cache in tmp_path, and a mirror that refuses."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    mnist_files.clear_cache()
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
    monkeypatch.setattr(mnist_files, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(mnist_files, "MIRRORS", [f"http://127.0.0.1:{closed}/"])
    yield
    mnist_files.clear_cache()


def _corrupt_train_split(folder):
    """The training split's two files, uncompressed, with a header that is not MNIST's."""
    folder.mkdir()
    (folder / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x01" + b"\x00" * 12)
    (folder / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + b"\x00" * 4)
    return folder


@pytest.mark.parametrize("case, start", [
    ("not found", "error: MNIST: the folder"),
    ("corrupt", "error: MNIST: "),
    ("download failed", "error: MNIST: could not download train-images-idx3-ubyte.gz")])
def test_mnist_errors_under_run_are_the_message_alone(capsys, tmp_path, no_mnist_anywhere,
                                                     case, start):
    """Before: about 30 lines of traceback above the message, and exit code 1."""
    argv = ["run", "mnist-mlp", "--quick", "--no-progress", "--out", str(tmp_path / "out")]
    if case == "not found":
        (tmp_path / "empty").mkdir()
        argv += ["--data-dir", str(tmp_path / "empty")]
    elif case == "corrupt":
        argv += ["--data-dir", str(_corrupt_train_split(tmp_path / "bad"))]
    err = _refused(capsys, argv)
    assert err.startswith(start), err
    expected = {"not found": "lacks the train split's files",
                "corrupt": "train-images-idx3-ubyte is not the expected file",
                "download failed": "every mirror failed"}[case]
    assert expected in err

"""The grader decides, the student's code only answers (minigan/exercises: remote.py,
student_side.py, wire.py, integrity.py).

Every cheat that worked on the grader that ran the checks inside the student's
process is a test here, and each must end in FAIL (or "tampered"), never in a
pass: the student's code patching the checks or their table, patching Adam,
writing a verdict and leaving. Then: no student can change another's grade
(minigan's files are fingerprinted, classmates' files read before any student
code runs, every process a student started ends with their run), and a reply
that cannot be read is that one exercise's "error", nothing more.

The tests that let a student rewrite minigan's files do it to a copy of the
package, graded by a grader started from that copy, never to this checkout.
"""
import csv
import hashlib
import io
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from minigan.__main__ import main
from minigan.exercises import catalogue, grading, integrity, wire
from minigan.exercises.workspace import new_workspace

from exercise_solutions.fill import fill

ROOT = pathlib.Path(__file__).resolve().parents[1]
JOBS = 2
LINUX = pathlib.Path("/proc/self/fd").is_dir()
needs_proc = pytest.mark.skipif(not LINUX, reason="needs Linux's /proc")


def workspace(folder, names, solved=()):
    new_workspace(folder, [catalogue.get(n) for n in names])
    if solved:
        fill(folder, list(solved))
    return folder


def answer(folder, name, source, **values):
    """Append `source` to one exercise's file (its module-level code runs as written,
    its functions replace the stubs above them); NAME=value pairs replace the names
    in the source by the values' repr (paths)."""
    for key, value in values.items():
        source = source.replace(key, repr(str(value)))
    path = folder / catalogue.get(name).filename
    path.write_text(path.read_text() + "\n\n# the student's code\n" + source)


def grade(folder, time_limit=grading.DEFAULT_TIME_LIMIT):
    return {r.exercise.name: r for r in grading.grade_workspace(folder, None, time_limit,
                                                                jobs=JOBS)}


# ------------------------------------------------------------ the cheats
WRONG_MEAN = '''
def backward(g, x, out, axis=None, keepdims=False):
    return g.reshape(keepdims_shape(x.shape, axis)).broadcast_to(x.shape)   # 1/n forgotten
'''
REACH_THE_GRADER = '''
import os
import minigan

# the installed package behind the student's view of it: make minigan.exercises importable
minigan.__path__.append(os.path.dirname(os.path.realpath(minigan.__file__)))
'''
CHEATS = {
    "patches the checks' functions from its file": ("mean", REACH_THE_GRADER + '''
from minigan.exercises import checks, harness

def nothing(*args, **kwargs):
    return None

for module in (checks, harness):
    module.gradient_check = module.library_comparison = module.not_started = nothing
checks.OpCheck.run = lambda self, *args, **kwargs: 42
with open(MARKER, "w") as f:
    f.write("done")
''' + WRONG_MEAN, ["dL/dx is wrong", "each element enters the mean with weight 1/n"]),
    "replaces the table of checks and __main__.CHECKS": ("mean", REACH_THE_GRADER + '''
import __main__
from minigan.exercises import checks

checks.CHECKS["mean"] = lambda *args: 42
__main__.CHECKS = {"mean": lambda *args: 42}
with open(MARKER, "w") as f:
    f.write("done")
''' + WRONG_MEAN, ["dL/dx is wrong"]),
    "replaces minigan.optim.Adam.step with its own steps": ("adam", '''
import numpy as np
import minigan.optim

def step(p, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    return p - lr * m / (np.sqrt(v) + eps), m, v          # no bias correction

def adam_like_mine(self):
    for group in self.param_groups:
        for q in group["params"]:
            s = self.state.setdefault(id(q), {"step": 0, "exp_avg": np.zeros_like(q.data),
                                              "exp_avg_sq": np.zeros_like(q.data)})
            s["step"] += 1
            q.data[...], s["exp_avg"], s["exp_avg_sq"] = step(
                q.data, q.grad.data, s["exp_avg"], s["exp_avg_sq"], s["step"], group["lr"],
                *group["betas"], group["eps"])

minigan.optim.Adam.step = adam_like_mine
with open(MARKER, "w") as f:
    f.write("done")
''', ["after step 1", "the parameter differs", "without the bias correction"]),
    "writes a pass verdict to sys.argv[3] and leaves with os._exit(0)": ("sigmoid", '''
import json
import os
import sys

def backward(g, x, out):
    verdict = json.dumps({"status": "pass", "checks": 5, "message": "5 checks passed"})
    for path in sys.argv[3:4]:
        with open(path, "w") as f:
            f.write(verdict)
    with open(MARKER, "w") as f:
        f.write("done")
    os._exit(0)
''', ["ended the process", "exit code 0"]),
}


@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_a_cheat_that_worked_when_the_checks_ran_beside_the_students_code_now_fails(
        tmp_path, cheat):
    name, source, expected = CHEATS[cheat]
    ws = workspace(tmp_path / "ws", [name])
    marker = tmp_path / "marker"
    answer(ws, name, source, MARKER=marker)
    result = grade(ws)[name]
    assert marker.read_text() == "done"            # the cheat ran in full, in its process
    assert result.status == grading.FAIL, result.message
    for fragment in expected:
        assert fragment in result.message, result.message


# ------------------------------------------------------------ what the student's process sees
def test_the_students_process_holds_no_check_and_cannot_import_the_answers(tmp_path):
    ws = workspace(tmp_path / "ws", ["sigmoid"])
    answer(ws, "sigmoid", '''
import importlib.util
import json
import os
import sys

def _origin(name):
    spec = importlib.util.find_spec(name)
    return None if spec is None else [spec.origin, list(spec.submodule_search_locations or [])]

seen = {"modules": sorted(m for m in sys.modules if "exercises" in m or m in ("checks", "harness",
                                                                             "grading")),
        "path": list(sys.path), "cwd": os.getcwd(), "tests": _origin("tests"),
        "exercise_solutions": _origin("exercise_solutions")}
try:
    import minigan.exercises
    seen["minigan.exercises"] = minigan.exercises.__file__
except ImportError:
    seen["minigan.exercises"] = None
with open(MARKER, "w") as f:
    json.dump(seen, f)

def backward(g, x, out):
    return g * out * (1 - out)
''', MARKER=tmp_path / "seen.json")
    result = grade(ws)["sigmoid"]
    assert result.status == grading.PASS, result.message      # right code still passes
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen["modules"] == []                 # no checks, no grader in its memory
    assert seen["minigan.exercises"] is None     # ... nor on its path
    for name in ("tests", "exercise_solutions"):
        assert seen[name] is None or str(ROOT) not in str(seen[name]), seen[name]
    for entry in map(pathlib.Path, seen["path"]):
        assert entry.resolve() not in (ROOT, ROOT / "tests"), seen["path"]
        assert not (entry / "tests" / "exercise_solutions").exists(), entry
        assert not (entry / "exercise_solutions").exists(), entry
    assert ROOT not in pathlib.Path(seen["cwd"]).resolve().parents


def _gone(pid, wait=10.0):
    """The process ended within `wait` seconds (SIGKILL is not instantaneous; a zombie
    that nobody has reaped yet counts as ended)."""
    import time
    deadline = time.monotonic() + wait
    while True:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


@needs_proc
def test_every_process_a_student_started_ends_with_their_run(tmp_path):
    ws = workspace(tmp_path / "ws", ["sigmoid"])
    answer(ws, "sigmoid", '''
import subprocess

# one stays in the process group but drops the environment; one leaves the group
in_group = subprocess.Popen([SLEEP, "300"], env={})
own_session = subprocess.Popen([SLEEP, "301"], start_new_session=True)
with open(MARKER, "w") as f:
    f.write(f"{in_group.pid} {own_session.pid}")

def backward(g, x, out):
    return g * out * (1 - out)
''', MARKER=tmp_path / "pids", SLEEP=shutil.which("sleep"))
    try:
        assert grade(ws)["sigmoid"].status == grading.PASS
        pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
        assert [_gone(p) for p in pids] == [True, True]
    finally:
        for p in (tmp_path / "pids").read_text().split() if (tmp_path / "pids").exists() else []:
            try:
                os.kill(int(p), 9)
            except OSError:
                pass


def test_a_student_cannot_change_a_classmates_file_before_it_is_graded(tmp_path):
    parent = tmp_path / "class"
    bob = workspace(parent / "bob", ["sigmoid"], solved=["sigmoid"])
    alice = workspace(parent / "alice", ["sigmoid"])
    answer(alice, "sigmoid", '''
with open(BOBS_FILE, "w") as f:          # graded after her: give him a wrong answer
    f.write("def forward(x):\\n    return x\\n\\ndef backward(g, x, out):\\n    return g\\n")

def backward(g, x, out):
    return g * out * (1 - out)
''', BOBS_FILE=bob / "01_sigmoid.py")
    graded = grading.grade_class(parent, jobs=JOBS)
    assert "return g\n" in (bob / "01_sigmoid.py").read_text()     # the attempt was made
    assert [r.status for r in graded["bob"]] == [grading.PASS]      # on the file he handed in
    assert [r.status for r in graded["alice"]] == [grading.PASS]


# ------------------------------------------------------------ minigan's own files
def test_the_manifest_sees_a_file_changed_added_removed_or_linked(tmp_path):
    tree = tmp_path / "pkg"
    (tree / "sub" / "__pycache__").mkdir(parents=True)
    (tree / "a.py").write_text("a = 1\n")
    (tree / "sub" / "b.py").write_text("b = 2\n")
    (tree / "sub" / "__pycache__" / "b.pyc").write_bytes(b"cache")
    manifest = integrity.Manifest.of(tree)
    assert manifest.changes() == []
    (tree / "sub" / "__pycache__" / "b.pyc").write_bytes(b"Python's own cache")
    assert manifest.changes() == []                          # left out on purpose
    (tree / "a.py").write_text("a = 2\n")
    (tree / "sub" / "b.py").unlink()
    (tree / "c.py").write_text("")
    os.symlink(tmp_path, tree / "elsewhere")
    assert [str(c) for c in manifest.changes()] == [
        "minigan/a.py (changed)", "minigan/sub/b.py (removed)", "minigan/c.py (added)",
        "minigan/elsewhere (added)"]


def test_a_package_changed_since_the_grader_started_is_refused_before_grading(
        tmp_path, monkeypatch):
    tree = tmp_path / "pkg"
    tree.mkdir()
    (tree / "checks.py").write_text("CHECKS = {}\n")
    monkeypatch.setattr(integrity, "PACKAGE", tree)
    monkeypatch.setattr(integrity, "_BASELINES", {})
    ws = workspace(tmp_path / "ws", ["sigmoid"], solved=["sigmoid"])
    assert grade(ws)["sigmoid"].status == grading.PASS       # the digests are taken here
    (tree / "checks.py").write_text("CHECKS = {'sigmoid': None}\n")
    with pytest.raises(integrity.PackageChanged, match=r"changed since this grader started: "
                                                       r"minigan/checks.py \(changed\)"):
        grading.grade_workspace(ws, jobs=JOBS)
    with pytest.raises(integrity.PackageChanged):
        grading.grade_class(tmp_path, jobs=JOBS)


def copied_package(tmp_path):
    """A copy of the package to grade with, that a test's student may rewrite."""
    root = tmp_path / "install"
    shutil.copytree(ROOT / "minigan", root / "minigan",
                    ignore=shutil.ignore_patterns("__pycache__", "*.npz"))
    return pathlib.Path(os.path.realpath(root))


def cli_from(root, *args):
    """`python -m minigan ...` run from the copy `root`: (exit code, stdout, stderr)."""
    env = dict(os.environ, PYTHONPATH=str(root))
    r = subprocess.run([sys.executable, "-m", "minigan", *args], capture_output=True, text=True,
                       cwd=root, env=env, timeout=300)
    return r.returncode, r.stdout, r.stderr


REWRITE = '''
import os
import minigan

installed = os.path.dirname(os.path.realpath(minigan.__file__))
if not installed.startswith(INSTALL):          # only ever the test's copy
    raise RuntimeError("not the test's copy of minigan: " + installed)
with open(os.path.join(installed, *TARGET), "a") as f:
    f.write(LINE)

def backward(g, x, out):
    return g * out * (1 - out)
'''


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_student_who_appends_to_checks_py_stops_the_class_run(tmp_path):
    install = copied_package(tmp_path)
    ours = _digest(ROOT / "minigan" / "exercises" / "checks.py")
    parent = tmp_path / "class"
    workspace(parent / "alice", ["sigmoid", "tanh"], solved=["sigmoid", "tanh"])
    bob = workspace(parent / "bob", ["sigmoid", "tanh"], solved=["tanh"])
    answer(bob, "sigmoid", REWRITE.replace("TARGET", repr(("exercises", "checks.py"))),
           INSTALL=install, LINE="\nCHECKS['tanh'] = lambda *args: 42  # a student was here\n")
    workspace(parent / "carol", ["sigmoid", "tanh"], solved=["sigmoid", "tanh"])
    scores = tmp_path / "scores.csv"
    code, out, err = cli_from(install, "exercises", "check", "--class", str(parent), "--csv",
                              str(scores), "--jobs", str(JOBS))
    assert code == 3, out + err
    assert "a student was here" in (install / "minigan" / "exercises" / "checks.py").read_text()
    assert _digest(ROOT / "minigan" / "exercises" / "checks.py") == ours
    assert "while bob's exercises were graded: minigan/exercises/checks.py (changed)" in err
    assert "bob is marked tampered; not graded: carol" in err
    rows = {row["student"]: row for row in csv.DictReader(scores.open(newline=""))}
    assert list(rows) == ["alice", "bob"]
    assert (rows["alice"]["sigmoid"], rows["alice"]["tanh"]) == ("pass", "pass")
    assert (rows["bob"]["sigmoid"], rows["bob"]["tanh"]) == ("tampered", "tampered")
    assert (rows["bob"]["tampered"], rows["bob"]["passed"], rows["bob"]["total"]) == \
        ("2", "0", "0/2 passed")
    assert "minigan/exercises/checks.py (changed)" in rows["bob"]["tanh reason"]
    assert " T  T" in out


def test_a_student_who_rewrites_optim_py_is_marked_tampered(tmp_path):
    install = copied_package(tmp_path)
    ws = workspace(tmp_path / "ws", ["sigmoid", "adam"], solved=["adam"])
    answer(ws, "sigmoid", REWRITE.replace("TARGET", repr(("optim.py",))), INSTALL=install,
           LINE="\nAdam.step = lambda self: None\n")
    code, out, err = cli_from(install, "exercises", "check", str(ws), "--jobs", str(JOBS))
    assert code == 1, out + err
    rows = [ln for ln in out.splitlines() if ln[:3].strip().isdigit()]
    assert len(rows) == 2 and all("TAMPERED" in ln for ln in rows), out
    assert "minigan/optim.py (changed)" in out and "tampered: 2" in out


# ------------------------------------------------------------ one malformed answer
FRAMES = '''
import io
import json
import os
import struct
import time

import numpy as np

def frame(header, arrays=()):
    data = header if isinstance(header, bytes) else json.dumps(header).encode()
    out = struct.pack(">II", len(data), len(arrays)) + data
    for a in arrays:
        out += struct.pack(">Q", len(a)) + a
    return out

def pipes():
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}").startswith("pipe:"):
                found.append(int(name))
        except OSError:
            pass
    return found

def to_the_grader(data):
    for fd in pipes():
        try:
            os.write(fd, data)
        except OSError:          # the end the grader writes to
            pass

class Evil:
    def __reduce__(self):
        return (os.mkdir, (MARKER,))

def pickled():
    buf = io.BytesIO()
    np.save(buf, np.array([Evil()], dtype=object), allow_pickle=True)
    return buf.getvalue()
'''
SEND = '''
def backward(g, x, out):
    to_the_grader(PAYLOAD)
    return g * out * (1 - out)
'''
MALFORMED = {
    "empty": ("struct.pack('>II', 0, 0)", "an empty message"),
    "not JSON": ("frame(b'{not json')", "header is not JSON"),
    "of an unknown kind": ("frame({'kind': 'pass', 'message': '5 checks passed'})",
                           "unknown kind 'pass'"),
    "a verdict instead of an answer": ("frame({'status': 'pass', 'checks': 5})",
                                       "not a message with a kind"),
    "a pickled array": ("frame({'kind': 'value', 'value': {'__array__': 0}}, [pickled()])",
                        "an array that cannot be read"),
}


@needs_proc
@pytest.mark.parametrize("kind", sorted(MALFORMED) + ["missing"])
def test_an_answer_that_cannot_be_read_is_that_exercises_error_only(tmp_path, kind):
    ws = workspace(tmp_path / "ws", ["sigmoid", "tanh"], solved=["tanh"])
    if kind == "missing":                     # the reply pipe closed, the process alive
        source = FRAMES + ('\ndef backward(g, x, out):\n    for fd in pipes():\n'
                           '        os.close(fd)\n    time.sleep(60)\n')
        fragment = "closed its reply pipe without answering"
    else:
        payload, fragment = MALFORMED[kind]
        source = FRAMES + SEND.replace("PAYLOAD", payload)
    answer(ws, "sigmoid", source, MARKER=tmp_path / "unpickled")
    results = grade(ws)
    assert results["sigmoid"].status == grading.ERROR, results["sigmoid"].message
    assert fragment in results["sigmoid"].message and "no verdict" in results["sigmoid"].reason
    assert results["tanh"].status == grading.PASS
    assert not (tmp_path / "unpickled").exists()       # nothing of a reply is ever run


def test_reading_a_message_never_unpickles(tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))
    buf = io.BytesIO()
    np.save(buf, np.array([Evil()], dtype=object), allow_pickle=True)
    header = b'{"kind": "value", "value": {"__array__": 0}}'
    data = (len(header).to_bytes(4, "big") + (1).to_bytes(4, "big") + header
            + len(buf.getvalue()).to_bytes(8, "big") + buf.getvalue())
    stream = io.BytesIO(data)
    with pytest.raises(wire.WireError, match="cannot be read"):
        wire.decode(stream.read)
    assert not marker.exists()
    ok = io.BytesIO(wire.encode({"x": (np.arange(3.0), None, 2)}))
    x = wire.decode(ok.read)["x"]
    assert isinstance(x, tuple) and x[0].tolist() == [0.0, 1.0, 2.0] and x[1:] == (None, 2)


def _message(header, count=0, tail=b""):
    return len(header).to_bytes(4, "big") + count.to_bytes(4, "big") + header + tail


@pytest.mark.parametrize("data, words", [
    (_message(b""), "an empty message"),
    (_message(b"not json"), "header is not JSON"),
    (_message(b"[" * 100000), "header is not JSON (RecursionError"),
    (_message(b"{}", 10 ** 6), "over the limits"),
    (_message(b'{"a": {"__array__": 3}}'), "a reference to array 3 of 0"),
    (_message(b'{"a": 1}', 1, (10 ** 12).to_bytes(8, "big")), "more than"),
])
def test_the_wire_refuses_what_it_cannot_read(data, words):
    with pytest.raises(wire.WireError, match=re.escape(words)):
        wire.decode(io.BytesIO(data).read)


@needs_proc
def test_a_class_with_an_error_is_graded_whole_and_the_csv_counts_it(tmp_path, capsys):
    parent = tmp_path / "class"
    alice = workspace(parent / "alice", ["sigmoid", "tanh"], solved=["tanh"])
    answer(alice, "sigmoid", FRAMES + SEND.replace("PAYLOAD", MALFORMED["not JSON"][0]),
           MARKER=tmp_path / "unpickled")
    workspace(parent / "bob", ["sigmoid", "tanh"], solved=["sigmoid", "tanh"])
    (parent / "notes.txt").write_text("the marks of last year")
    scores = tmp_path / "scores.csv"
    assert main(["exercises", "check", "--class", str(parent), "--csv", str(scores),
                 "--jobs", str(JOBS)]) == 0
    out = capsys.readouterr().out
    assert "skipped notes.txt: a file, not a student's folder" in out
    assert "E error: no verdict" in out
    rows = {row["student"]: row for row in csv.DictReader(scores.open(newline=""))}
    assert list(rows) == ["alice", "bob"]
    alice_row = rows["alice"]
    assert (alice_row["sigmoid"], alice_row["tanh"], alice_row["error"]) == ("error", "pass", "1")
    assert (alice_row["total"], alice_row["out_of"], alice_row["tampered"]) == \
        ("1/2 passed", "2", "0")
    assert "header is not JSON" in alice_row["sigmoid reason"]
    assert rows["bob"]["total"] == "2/2 passed"
    # the student's own `check` prints the same counts
    assert main(["exercises", "check", str(alice), "--jobs", str(JOBS)]) == 1
    out = capsys.readouterr().out
    assert "total: 1/2 passed (50.0%)" in out and "error: 1; tampered: 0" in out
    assert "--- 1 sigmoid (01_sigmoid.py): ERROR" in out


def test_tally_and_the_csv_count_errors_and_tampering_alike(tmp_path):
    sig, tanh, mean = (catalogue.get(n) for n in ("sigmoid", "tanh", "mean"))
    results = [grading.Result(sig, grading.ERROR, "no verdict: ..."),
               grading.Result(tanh, grading.TAMPERED, "minigan's own files changed ..."),
               grading.Result(mean, grading.PASS, "4 checks passed")]
    score = grading.tally(results)
    assert (score.errors, score.tampered, score.out_of, score.attempted, score.total) == \
        (1, 1, 3, 1, "1/3 passed")
    path = grading.write_csv(tmp_path / "s.csv", {"dana": results})
    row = next(csv.DictReader(path.open(newline="")))
    assert (row["error"], row["tampered"], row["out_of"]) == ("1", "1", "3")
    assert (row["sigmoid"], row["tanh"]) == ("error", "tampered")

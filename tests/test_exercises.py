"""The class exercise kit (minigan/exercises): workspaces, the grader, its messages.

The answers live in tests/exercise_solutions/ (never in a workspace, never in the
package): ``fill`` puts them in place of the stubs, so "a workspace filled with
the library's own formulas" is a fresh workspace plus those functions. Every
grading here runs the student files in subprocesses, as the real grader does.
"""
import ast
import csv
import os
import pathlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from minigan.__main__ import main
from minigan.exercises import catalogue, grading
from minigan.exercises.workspace import (new_workspace, exercises_in, MARKER, README, TEST_FILE,
                                        TEMPLATES)

from exercise_solutions.fill import fill, splice

ROOT = pathlib.Path(__file__).resolve().parents[1]
JOBS = 2                        # the grader's processes at a time (the suite runs on 2 cores)


def solved_workspace(folder, only=None):
    exercises = None if only is None else [catalogue.get(n) for n in only]
    new_workspace(folder, exercises)
    fill(folder, only)
    return folder


def write_answer(folder, name, source):
    """Put `source`'s functions (a student's answer) in place of the stubs of one exercise."""
    path = folder / catalogue.get(name).filename
    path.write_text(splice(path.read_text(), source))


def grade(folder, only=None, time_limit=grading.DEFAULT_TIME_LIMIT):
    exercises = None if only is None else [catalogue.get(n) for n in only]
    results = grading.grade_workspace(folder, exercises, time_limit, jobs=JOBS)
    return {r.exercise.name: r for r in results}


def cli(*args):
    """`python -m minigan ...` in a process of its own: (exit code, stdout, stderr)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-m", "minigan", *args], capture_output=True, text=True,
                       cwd=ROOT, env=env, timeout=300)
    return r.returncode, r.stdout, r.stderr


# ------------------------------------------------------------ the catalogue
ISSUE_TOPICS = ("sigmoid", "leaky_relu", "broadcast_add", "mean", "var", "matmul", "linear",
                "bce_with_logits", "conv2d", "conv_transpose2d", "batch_norm", "adam",
                "non_saturating_g_loss", "gradient_penalty",
                "upsample_nearest", "avg_pool2d", "instance_norm")     # the applications' layers


def test_list_gives_every_exercise_a_description_and_a_difficulty(capsys):
    assert main(["exercises", "list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()[1:]
    assert len(lines) == len(catalogue.EXERCISES)
    for line, e in zip(lines, catalogue.EXERCISES):
        number, name, lecture, difficulty, summary = line.split(None, 4)
        assert (int(number), name, int(lecture)) == (e.number, e.name, e.lecture)
        assert difficulty in catalogue.DIFFICULTIES and len(summary) > 20
    assert set(ISSUE_TOPICS) <= set(catalogue.BY_NAME)


@pytest.mark.parametrize("exercise", catalogue.EXERCISES, ids=lambda e: e.name)
def test_each_template_gives_the_forward_and_leaves_the_backward(exercise):
    text = (TEMPLATES / exercise.filename).read_text()
    tree = ast.parse(text)
    doc = ast.get_docstring(tree)
    assert doc.startswith(f"Exercise {exercise.number}: ") and "Hint" in doc
    assert "Your task" in doc and ("What to derive" in doc or "What to work out" in doc)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    stubs = [n for n in functions.values()
             if any(isinstance(s, ast.Raise) and "your turn" in ast.unparse(s) for s in n.body)]
    assert stubs, "a stub raising NotImplementedError('your turn: ...')"
    for stub in stubs:                   # a docstring and the raise: nothing of the answer
        assert len(stub.body) == 2 and ast.get_docstring(stub)


# ------------------------------------------------------------ fresh and solved
def test_a_fresh_workspace_is_all_not_started(tmp_path, capsys):
    ws = tmp_path / "ws"
    assert main(["exercises", "new", str(ws)]) == 0
    written = sorted(p.name for p in ws.iterdir())
    assert written == sorted([e.filename for e in catalogue.EXERCISES]
                             + ["README.md", "test_exercises.py", MARKER])
    for e in catalogue.EXERCISES:        # the templates as they are: no answer in the workspace
        assert (ws / e.filename).read_text() == (TEMPLATES / e.filename).read_text()
    capsys.readouterr()
    assert main(["exercises", "check", str(ws), "--jobs", str(JOBS)]) == 0   # nothing failed
    out = capsys.readouterr().out
    rows = [ln for ln in out.splitlines() if ln[:3].strip().isdigit()]
    assert len(rows) == 18 and all("not started" in ln for ln in rows)
    assert "total: 0/18 passed (0.0%)\nattempted: 0 of 18 (0 of them failed); " \
           "not started: 18; missing file: 0" in out


def test_a_workspace_with_the_librarys_formulas_passes_every_exercise(tmp_path, capsys):
    ws = solved_workspace(tmp_path / "solved")
    assert main(["exercises", "check", str(ws), "--jobs", str(JOBS)]) == 0
    out = capsys.readouterr().out
    rows = [ln for ln in out.splitlines() if ln[:3].strip().isdigit()]
    assert len(rows) == 18 and all(" pass " in ln for ln in rows), out
    assert "total: 18/18 passed (100.0%)" in out


# ------------------------------------------------------------ plausible mistakes
MISTAKES = {
    "matmul: a missing transpose": ("matmul", """
def backward(g, a, b, out):
    return g @ b, a.T @ g
""", ["gradient check", "your dL/da is wrong at a[", "yours", "measured",
      "a transpose is missing"]),
    "non-saturating loss: a sign": ("non_saturating_g_loss", """
def backward(g, logits, out):
    return g * (-logits).sigmoid() * (1.0 / logits.size)
""", ["dL/dlogits is wrong", "measured", "the sign is flipped"]),
    "broadcast add: no unbroadcast": ("broadcast_add", """
def backward(g, a, b, out):
    return g, g
""", ["dL/db of shape (3, 4)", "b has shape (4,)", "the unbroadcast rule"]),
    "broadcast add: averaged instead of summed": ("broadcast_add", """
def backward(g, a, b, out):
    lead = g.ndim - b.ndim
    kept = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(b.shape) if s == 1)
    return g, g.mean(axis=kept, keepdims=True).reshape(b.shape)
""", ["dL/db is wrong", "you averaged over the broadcast axes; sum instead"]),
    "var: divided by n - 1": ("var", """
def backward(g, x, out, axis=None, keepdims=False):
    kept = keepdims_shape(x.shape, axis)
    n = x.size // g.reshape(kept).size
    return g.reshape(kept) * (x - x.mean(axis=axis, keepdims=True)) * (2.0 / (n - 1))
""", ["dL/dx is wrong", "wrong normalizer", "not n - 1"]),
    "batch norm: without the mean terms": ("batch_norm", """
def backward(g, x, weight, bias, out, eps=1e-5):
    axes = stat_axes(x.ndim)
    c = x - x.mean(axis=axes, keepdims=True)
    inv_std = ((c * c).mean(axis=axes, keepdims=True) + eps) ** -0.5
    return (g * inv_std * per_channel(weight, x.ndim), (g * c * inv_std).sum(axis=axes),
            g.sum(axis=axes))
""", ["dL/dx is wrong", "the path through xhat alone", "depend on every x"]),
    "linear: dW transposed": ("linear", """
def backward(g, x, w, b, out):
    return g @ w, x.T @ g, g.sum(axis=0)
""", ["dL/dw is wrong", "the gradient of W^T: transpose it"]),
    "sigmoid: the chain rule forgotten": ("sigmoid", """
def backward(g, x, out):
    return out * (1 - out)
""", ["dL/dx is wrong", "the chain rule"]),
    "mean: divided by x.size": ("mean", """
def backward(g, x, out, axis=None, keepdims=False):
    return g.reshape(keepdims_shape(x.shape, axis)).broadcast_to(x.shape) * (1.0 / x.size)
""", ["dL/dx is wrong", "not x.size"]),
    "BCE: a sigmoid that overflows at 1e4": ("bce_with_logits", """
def backward(g, x, t, out):
    s = x.exp() / (1 + x.exp())
    return g * (s - t) * (1.0 / x.size)
""", ["logits of +-1e4", "yours", "nan", "NaN or inf"]),
    "Adam: no bias correction": ("adam", """
import numpy as np

def step(p, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    return p - lr * m / (np.sqrt(v) + eps), m, v
""", ["after step 1", "the parameter differs", "without the bias correction"]),
    "gradient penalty: softplus's backward from .data": ("gradient_penalty", """
import numpy as np
import minigan

def backward(g, x, out):
    return g * minigan.tensor(1 / (1 + np.exp(-x.data)))
""", ["second-derivative check", "differentiating your dL/dx again", "yours     0 ",
      "not connected to x"]),
    "gradient penalty: without create_graph": ("gradient_penalty", """
import minigan

def backward(g, x, out):
    return g * x.sigmoid()

def gradient_penalty(critic, real, fake, eps, lam=10.0):
    xhat = (eps * real + (1 - eps) * fake).detach()
    xhat.requires_grad = True
    (grad,) = minigan.grad(critic(xhat).sum(), xhat)
    norms = (grad * grad).sum(axis=1).sqrt()
    return lam * ((norms - 1.0) ** 2).mean()
""", ["no gradient with respect to the critic's weights", "create_graph=True"]),
}



# The convolutions' and the gradient penalty's typical mistakes: each must bring its hint.
# The right conv2d backward, with one thing changed per mistake (see
# exercise_solutions/13_conv2d.py for the right one).
CONV2D_RIGHT = """
def backward(g, x, w, b, out, stride=1, padding=0):
    O, C, kh, kw = w.shape
    cols = im2col(x.data, kh, kw, stride, padding)
    g_mat = g.data.transpose(1, 0, 2, 3).reshape(O, -1)
    dw = (g_mat @ cols.T).reshape(w.shape)
    dx = col2im(w.data.reshape(O, -1).T @ g_mat, x.shape, kh, kw, stride, padding)
    return dx, dw, g_mat.sum(axis=1)
"""
CONV_T_RIGHT = """
import minigan.functional as F

def backward(g, x, w, b, out, stride=1, padding=0):
    Cin, Cout, kh, kw = w.shape
    dx = F.conv2d(g, w, stride=stride, padding=padding)
    x_mat = x.data.transpose(1, 0, 2, 3).reshape(Cin, -1)
    dw = (x_mat @ im2col(g.data, kh, kw, stride, padding).T).reshape(w.shape)
    return dx, dw, g.sum(axis=(0, 2, 3))
"""


def changed(source, old, new):
    assert source.count(old) == 1, old              # the mistake is made where meant
    return source.replace(old, new)


PENALTY_RIGHT = """
import minigan

def backward(g, x, out):
    return g * x.sigmoid()

def gradient_penalty(critic, real, fake, eps, lam=10.0):
    xhat = (eps * real + (1 - eps) * fake).detach()
    xhat.requires_grad = True
    (grad,) = minigan.grad(critic(xhat).sum(), xhat, create_graph=True)
    norms = (grad * grad).sum(axis=1).sqrt()
    return lam * ((norms - 1.0) ** 2).mean()
"""

MISTAKES.update({
    "conv2d: dW averaged over the batch": ("conv2d", changed(
        CONV2D_RIGHT, "dw = (g_mat @ cols.T).reshape(w.shape)",
        "dw = (g_mat @ cols.T).reshape(w.shape) / x.shape[0]"),
        ["your dL/dw is wrong at w[", "divided by the batch size N"]),
    "conv2d: dW of the last sample only": ("conv2d", changed(
        CONV2D_RIGHT, "dw = (g_mat @ cols.T).reshape(w.shape)",
        "n = x.shape[0] - 1\n"
        "    dw = (g.data[n:].transpose(1, 0, 2, 3).reshape(O, -1)\n"
        "          @ im2col(x.data[n:], kh, kw, stride, padding).T).reshape(w.shape)"),
        ["your dL/dw is wrong", "contribution of one sample of the batch only"]),
    "conv2d: dx a full correlation with the kernel unflipped": ("conv2d", changed(
        CONV2D_RIGHT, "dx = col2im(w.data.reshape(O, -1).T @ g_mat, x.shape, kh, kw, stride, "
                      "padding)",
        "import numpy as np\n"
        "    gp = np.pad(g.data, ((0, 0), (0, 0), (kh - 1 - padding,) * 2, "
        "(kw - 1 - padding,) * 2))\n"
        "    windows = np.lib.stride_tricks.sliding_window_view(gp, (kh, kw), axis=(2, 3))\n"
        "    dx = np.einsum('ncuvij,ocij->nouv', windows, w.data.transpose(1, 0, 2, 3))"),
        ["your dL/dx is wrong at x[", "the kernel unflipped", "rotated by 180 degrees"]),
    "conv2d: stride and padding left out of the backward": ("conv2d", CONV2D_RIGHT.replace(
        "stride, padding)", "1, 0)"),
        ["case 'x (2, 3, 5, 5), w (4, 3, 3, 3), stride 2, padding 1'",
         "passed the case with stride 1 and padding 0 but fails with stride 2 and padding 1"]),
    "conv2d: dW with its channel axes swapped": ("conv2d", changed(
        CONV2D_RIGHT, "dw = (g_mat @ cols.T).reshape(w.shape)",
        "dw = (g_mat @ cols.T).reshape(w.shape).transpose(1, 0, 2, 3)"),
        ["dL/dw of shape (3, 4, 3, 3)", "axes 0 and 1 swapped",
         "w is (O, C, kh, kw): out channels first"]),
    "conv2d: db the mean of g": ("conv2d", changed(
        CONV2D_RIGHT, "g_mat.sum(axis=1)", "g_mat.mean(axis=1)"),
        ["your dL/db is wrong at b[", "your dL/db is the mean of g"]),
    "conv_transpose2d: dx with the kernel flipped": ("conv_transpose2d", changed(
        CONV_T_RIGHT, "dx = F.conv2d(g, w, stride=stride, padding=padding)",
        "dx = F.conv2d(g, minigan.tensor(w.data[:, :, ::-1, ::-1].copy()), stride=stride, "
        "padding=padding)").replace("import minigan.functional", "import minigan\nimport "
                                                                "minigan.functional"),
        ["your dL/dx is wrong at x[", "used the kernel flipped", "conv2d(g, w) with w as it is"]),
    "conv_transpose2d: stride left out of dx": ("conv_transpose2d", changed(
        CONV_T_RIGHT, "dx = F.conv2d(g, w, stride=stride, padding=padding)",
        "dx = F.conv2d(g, w, padding=padding)"),
        ["dL/dx of shape (2, 4, 5, 5)", "but fails with stride 2 and padding 1"]),
    "conv_transpose2d: dW averaged over the batch": ("conv_transpose2d", changed(
        CONV_T_RIGHT, ".reshape(w.shape)\n", ".reshape(w.shape) / x.shape[0]\n"),
        ["your dL/dw is wrong at w[", "divided by the batch size N"]),
    "conv_transpose2d: dW with in and out channels swapped": ("conv_transpose2d", changed(
        CONV_T_RIGHT, ".reshape(w.shape)\n", ".reshape(w.shape).transpose(1, 0, 2, 3)\n"),
        ["dL/dw of shape (3, 2, 3, 3)", "axes 0 and 1 swapped",
         "w is (Cin, Cout, kh, kw): in channels first"]),
    "gradient penalty: softplus's derivative taken as softplus": ("gradient_penalty", changed(
        PENALTY_RIGHT, "return g * x.sigmoid()", "return g * out"),
        ["your dL/dx is wrong at x[", "the function itself (out)"]),
    "gradient penalty: summed over the samples": ("gradient_penalty", changed(
        PENALTY_RIGHT, "** 2).mean()", "** 2).sum()"),
        ["the penalty's value", "yours matches their sum"]),
})

# The applications' exercises (16 to 18): the right answers of exercise_solutions/, with one
# thing changed per mistake.
UPSAMPLE_RIGHT = """
def backward(g, x, out, scale=2):
    N, C, H, W = x.shape
    return g.reshape(N, C, H, scale, W, scale).sum(axis=(3, 5))
"""
AVG_POOL_RIGHT = """
import numpy as np

def backward(g, x, out, kernel_size=2, stride=None, padding=0):
    k = kernel_size
    stride = k if stride is None else stride
    N, C, H, W = x.shape
    OH, OW = g.shape[2:]
    dxpad = np.zeros((N, C, H + 2 * padding, W + 2 * padding))
    for i in range(k):
        for j in range(k):
            dxpad[window_slices(i, j, stride, OH, OW)] += g.data / (k * k)
    return dxpad[:, :, padding:padding + H, padding:padding + W]
"""
INSTANCE_NORM_RIGHT = """
def backward(g, x, weight, bias, out, eps=1e-5):
    axes = (2, 3)
    n = x.shape[2] * x.shape[3]
    centered = x - x.mean(axis=axes, keepdims=True)
    inv_std = ((centered * centered).mean(axis=axes, keepdims=True) + eps) ** -0.5
    xhat = centered * inv_std
    sum_g = g.sum(axis=axes, keepdims=True)
    sum_gxh = (g * xhat).sum(axis=axes, keepdims=True)
    dx = inv_std * per_channel(weight) * (g - sum_g * (1.0 / n) - xhat * (sum_gxh * (1.0 / n)))
    return dx, sum_gxh.sum(axis=(0, 2, 3)), sum_g.sum(axis=(0, 2, 3))
"""

MISTAKES.update({
    "upsample: one pixel of each block": ("upsample_nearest", """
def backward(g, x, out, scale=2):
    return g[:, :, ::scale, ::scale]
""", ["your dL/dx is wrong at x[", "takes one value of g from each scale x scale block"]),
    "upsample: the blocks averaged": ("upsample_nearest", changed(
        UPSAMPLE_RIGHT, ".sum(axis=(3, 5))", ".mean(axis=(3, 5))"),
        ["your dL/dx is wrong", "the mean of each block"]),
    "upsample: pixels H apart added up": ("upsample_nearest", changed(
        UPSAMPLE_RIGHT, "g.reshape(N, C, H, scale, W, scale).sum(axis=(3, 5))",
        "g.reshape(N, C, scale, H, scale, W).sum(axis=(2, 4))"),
        ["your dL/dx is wrong", "adds up pixels H (or W) apart"]),
    "avg_pool2d: overlapping windows overwrite": ("avg_pool2d", changed(
        AVG_POOL_RIGHT, "] += g.data", "] = g.data"),
        ["case 'x (1, 2, 5, 4), kernel 3, stride 1, padding 1'", "keeps one window's share only",
         "passed the case whose windows neither overlap nor touch the padding"]),
    "avg_pool2d: g not divided by k^2": ("avg_pool2d", changed(
        AVG_POOL_RIGHT, "g.data / (k * k)", "g.data"),
        ["your dL/dx is wrong at x[", "kernel_size^2 times too large"]),
    "avg_pool2d: padding kept": ("avg_pool2d", changed(
        AVG_POOL_RIGHT, "return dxpad[:, :, padding:padding + H, padding:padding + W]",
        "return dxpad"),
        ["dL/dx of shape (1, 2, 7, 6), but x has shape (1, 2, 5, 4)",
         "fails with stride 1 < kernel_size 3 (overlapping windows) and padding 1"]),
    "instance norm: without the mean term": ("instance_norm", changed(
        INSTANCE_NORM_RIGHT, "(g - sum_g * (1.0 / n) - xhat", "(g - xhat"),
        ["your dL/dx is wrong at x[", "the path through var but not the one through mu"]),
    "instance norm: batch norm's statistics": ("instance_norm", changed(
        INSTANCE_NORM_RIGHT, "axes = (2, 3)\n    n = x.shape[2] * x.shape[3]",
        "axes = (0, 2, 3)\n    n = x.shape[0] * x.shape[2] * x.shape[3]"),
        ["your dL/dx is wrong", "batch norm's (exercise 12)", "each sample's own"]),
    "instance norm: computed from .data": ("instance_norm", changed(
        INSTANCE_NORM_RIGHT, "    return dx, sum_gxh.sum(axis=(0, 2, 3)), sum_g.sum(axis=(0, 2, 3))",
        "    return (minigan.tensor(dx.data), minigan.tensor(sum_gxh.data.sum(axis=(0, 2, 3))),\n"
        "            minigan.tensor(sum_g.data.sum(axis=(0, 2, 3))))").replace(
            "def backward", "import minigan\n\ndef backward"),
        ["second-derivative check", "not connected to x"]),
})

#: The checker's words, which a student's message must not use (it says "yours" and
#: "measured", "x[2, 1]", "a random g", "allowed", not these).
JARGON = ("GradcheckError", "gradcheck", "projected", "random vector", "analytic",
          "numerical", "atol", "rtol", "input 0", "input 1", "input 2", "tolerance")


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_plausible_mistake_fails_with_a_message_that_points_at_it(tmp_path, mistake):
    name, source, expected = MISTAKES[mistake]
    ws = tmp_path / "ws"
    new_workspace(ws, [catalogue.get(name)])
    write_answer(ws, name, source)
    result = grade(ws)[name]
    assert result.status == grading.FAIL, result.message
    for fragment in expected:
        assert fragment in result.message, result.message
    for word in JARGON:
        assert word not in result.message, f"{word!r} in:\n{result.message}"
    assert "\n" not in result.reason and result.reason.split(" | ")[0] == \
        result.message.splitlines()[0].strip()


# ------------------------------------------------------------ the grader survives
def test_an_exception_a_loop_and_a_wrong_shape_fail_only_their_exercise(tmp_path, capsys):
    ws = tmp_path / "ws"
    names = ["sigmoid", "tanh", "leaky_relu", "matmul", "mean", "var"]
    new_workspace(ws, [catalogue.get(n) for n in names])
    write_answer(ws, "sigmoid", "def backward(g, x, out):\n    return g * {}['slope']\n")
    write_answer(ws, "tanh", "def backward(g, x, out):\n    while True:\n        pass\n")
    write_answer(ws, "leaky_relu", "def backward(g, x, out, negative_slope=0.2):\n"
                                   "    return g.sum()\n")
    (ws / catalogue.get("mean").filename).write_text("def forward(x:\n")    # a syntax error
    write_answer(ws, "var", "import os\nimport sys\n\n"
                            "def backward(g, x, out, axis=None, keepdims=False):\n"
                            "    print('the student prints too')\n"
                            "    sys.stderr.write('last words\\n')\n"
                            "    sys.stderr.flush()\n"
                            "    os._exit(3)\n")                      # the process dies
    fill(ws, ["matmul"])
    assert main(["exercises", "check", str(ws), "--time-limit", "2",
                 "--jobs", str(JOBS)]) == 1
    out = capsys.readouterr().out
    assert "total: 1/6 passed" in out
    results = grade(ws, time_limit=2)
    assert results["matmul"].status == grading.PASS
    for name in ("sigmoid", "tanh", "leaky_relu", "mean", "var"):
        assert results[name].status == grading.FAIL
    assert "KeyError: 'slope'" in results["sigmoid"].message
    assert "01_sigmoid.py, line" in results["sigmoid"].message
    assert "took longer than 2 s" in results["tanh"].message
    assert "in backward: while True:" in results["tanh"].message
    assert "dL/dx of shape ()" in results["leaky_relu"].message
    assert "SyntaxError" in results["mean"].message and "could not be loaded" in \
        results["mean"].message
    assert "before the checks finished (exit code 3: a crash" in results["var"].message
    assert "last words" in results["var"].message                      # its stderr, for a clue


def test_a_loop_that_silences_its_timer_is_killed(tmp_path):
    # the stand-in for a loop inside C code, which the process's own timer cannot stop
    ws = tmp_path / "ws"
    new_workspace(ws, [catalogue.get("sigmoid")])
    write_answer(ws, "sigmoid", "import signal\n\ndef backward(g, x, out):\n"
                                "    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                                "    while True:\n        pass\n")
    if not hasattr(__import__("signal"), "SIGALRM"):
        pytest.skip("no SIGALRM on this platform")
    result = grading.grade_file(catalogue.get("sigmoid"), ws / "01_sigmoid.py", time_limit=1,
                                kill_grace=1)
    assert result.status == grading.FAIL and "took longer than 1 s and was stopped" in \
        result.message
    assert result.seconds < 30


# ------------------------------------------------------------ writing workspaces
def test_new_never_overwrites_a_students_work_without_force(tmp_path, capsys):
    ws = tmp_path / "ws"
    assert main(["exercises", "new", str(ws), "--only", "sigmoid,tanh"]) == 0
    mine = ws / "01_sigmoid.py"
    work = mine.read_text().replace('raise NotImplementedError("your turn', 'return g  # ("')
    mine.write_text(work)
    capsys.readouterr()
    # again, over the changed file: refused, nothing written (not even the new exercise)
    assert main(["exercises", "new", str(ws), "--only", "sigmoid,tanh,mean"]) == 2
    err = capsys.readouterr().err
    assert "nothing was written" in err and "01_sigmoid.py" in err and "--force" in err
    assert mine.read_text() == work and not (ws / "09_mean.py").exists()
    # adding other exercises leaves the work alone; an untouched file is simply unchanged
    assert main(["exercises", "new", str(ws), "--only", "tanh,mean"]) == 0
    assert mine.read_text() == work and (ws / "09_mean.py").exists()
    assert "already there, unchanged: 02_tanh.py" in capsys.readouterr().out
    assert [e.name for e in exercises_in(ws)] == ["sigmoid", "tanh", "mean"]
    # --force replaces it, keeping the work beside it; a second --force keeps both backups
    assert main(["exercises", "new", str(ws), "--only", "sigmoid", "--force"]) == 0
    assert mine.read_text() == (TEMPLATES / "01_sigmoid.py").read_text()
    assert (ws / "01_sigmoid.py.bak").read_text() == work
    mine.write_text(work + "\n# second try\n")
    assert main(["exercises", "new", str(ws), "--only", "sigmoid", "--force"]) == 0
    assert (ws / "01_sigmoid.py.bak").read_text() == work
    assert (ws / "01_sigmoid.py.bak2").read_text() == work + "\n# second try\n"
    # a student's own README is kept, never a reason to refuse
    (ws / "README.md").write_text("my notes")
    assert main(["exercises", "new", str(ws), "--only", "var"]) == 0
    assert (ws / "README.md").read_text() == "my notes"
    assert "kept your own README.md" in capsys.readouterr().out


def test_new_refuses_a_folder_that_holds_other_things(tmp_path, capsys):
    other = tmp_path / "home"
    other.mkdir()
    (other / "thesis.tex").write_text("...")
    assert main(["exercises", "new", str(other)]) == 2
    assert "not an exercise workspace" in capsys.readouterr().err
    assert sorted(p.name for p in other.iterdir()) == ["thesis.tex"]
    assert main(["exercises", "new", str(tmp_path / "empty")]) == 0      # a new folder is fine


@pytest.mark.parametrize("args, message", [
    (["new", "{ws}", "--only", "sigmoid,tahn"], "unknown exercise 'tahn' (did you mean 'tanh'?)"),
    (["check", "{ws}", "--only", "convd2"], "unknown exercise 'convd2'"),
    (["check", "{tmp}/nowhere"], "no such folder"),
    (["check", "{tmp}"], "is not an exercise workspace"),
    (["check"], "check needs a workspace folder"),
    (["check", "{ws}", "--class", "{tmp}"], "give one of the two"),
    (["check", "{ws}", "--time-limit", "0"], "--time-limit must be positive"),
    (["check", "--class", "{ws}"], "none of its folders is an exercise workspace"),
])
def test_bad_input_is_refused_with_a_clear_error(tmp_path, capsys, args, message):
    ws = tmp_path / "ws"
    new_workspace(ws, [catalogue.get("sigmoid")])
    capsys.readouterr()
    args = [a.format(ws=ws, tmp=tmp_path) for a in args]
    assert main(["exercises", *args]) == 2
    assert message in capsys.readouterr().err


# ------------------------------------------------------------ the command line, pytest, a class
def test_the_command_line_exit_codes(tmp_path):
    ws = solved_workspace(tmp_path / "ws", ["sigmoid", "tanh"])
    write_answer(ws, "tanh", "def backward(g, x, out):\n    return g * (1 - out)\n")
    code, out, err = cli("exercises", "check", str(ws), "--jobs", str(JOBS))
    assert code == 1, out + err
    assert "total: 1/2 passed (50.0%)\nattempted: 2 of 2 (1 of them failed)" in out
    assert "--- 2 tanh (02_tanh.py): FAIL" in out and "yours" in out and "measured" in out
    code, out, _ = cli("exercises", "check", str(ws), "--only", "sigmoid")
    assert code == 0 and "total: 1/1 passed (100.0%)" in out
    assert cli("exercises", "check", str(tmp_path / "missing"))[0] == 2


def test_pytest_on_a_workspace_gives_the_same_verdicts(tmp_path):
    ws = solved_workspace(tmp_path / "ws", ["sigmoid", "tanh", "leaky_relu"])
    write_answer(ws, "tanh", "def backward(g, x, out):\n    return g * (1 - x * x)\n")
    new_workspace(ws, [catalogue.get("mean")])                  # handed out, not started
    assert (ws / "test_exercises.py").read_text() == TEST_FILE
    assert (ws / "README.md").read_text() == README
    graded = grade(ws)
    assert [r.status for r in graded.values()] == ["pass", "fail", "pass", "not started"]

    report = tmp_path / "report.xml"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        f"--junitxml={report}", str(ws)], capture_output=True, text=True,
                       cwd=tmp_path, env=env, timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr                # a failure, as check says
    outcome = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = case.get("name").split("[")[1].rstrip("]")
        kinds = {child.tag for child in case}
        outcome[name] = ("fail" if "failure" in kinds else
                         "not started" if "skipped" in kinds else "pass")
    assert outcome == {name: res.status for name, res in graded.items()}
    assert "uses x where the derivative needs the output tanh(x)" in r.stdout  # check's message


def test_a_class_is_graded_in_one_command_with_a_csv(tmp_path):
    parent = tmp_path / "class"
    solved_workspace(parent / "alice", ["sigmoid", "tanh"])
    new_workspace(parent / "bob", [catalogue.get("sigmoid"), catalogue.get("tanh")])
    write_answer(parent / "bob", "sigmoid", "def backward(g, x, out):\n    return g * out\n")
    new_workspace(parent / "carol", [catalogue.get("sigmoid")])  # tanh was never handed out
    (parent / "handouts").mkdir()
    (parent / "handouts" / "slides.pdf").write_text("...")
    scores = tmp_path / "scores.csv"
    code, out, err = cli("exercises", "check", "--class", str(parent), "--csv", str(scores),
                         "--jobs", str(JOBS))
    assert code == 0, out + err
    assert "3 students, 2 exercises" in out and "skipped handouts/" in out
    rows = {row["student"]: row for row in csv.DictReader(scores.open())}
    assert list(rows) == ["alice", "bob", "carol"]
    assert (rows["alice"]["passed"], rows["alice"]["percent"]) == ("2", "100.0")
    assert (rows["bob"]["sigmoid"], rows["bob"]["tanh"]) == ("fail", "not started")
    assert rows["bob"]["failed"] == "1" and rows["bob"]["not_started"] == "1"
    assert rows["carol"]["tanh"] == "missing file"               # never handed out: 0 points
    assert (rows["carol"]["total"], rows["carol"]["out_of"]) == ("0/2 passed", "2")
    assert "02_tanh.py is not in the folder" in rows["carol"]["tanh reason"]


# ------------------------------------------------------------ one total, the student's and the CSV's
def test_the_students_printed_total_is_the_csvs_total_for_the_same_folder(tmp_path, capsys):
    names = ["sigmoid", "tanh", "leaky_relu", "mean", "var", "matmul"]
    parent = tmp_path / "class"
    ws = parent / "dana"
    solved_workspace(ws, names)
    write_answer(ws, "leaky_relu", "def backward(g, x, out, negative_slope=0.2):\n"
                                   "    return g * (x.data > 0)\n")             # fails
    for name in ("mean", "var"):                                            # not started
        e = catalogue.get(name)
        (ws / e.filename).write_text((TEMPLATES / e.filename).read_text())
    (ws / catalogue.get("matmul").filename).unlink()                        # missing file
    solved_workspace(parent / "eve", names)                                 # a classmate

    assert main(["exercises", "check", str(ws), "--jobs", str(JOBS)]) == 1
    out = capsys.readouterr().out
    total, percent = re.search(r"^total: (.+) \((.+)%\)$", out, re.M).groups()
    attempted, out_of = re.search(r"^attempted: (\d+) of (\d+) ", out, re.M).groups()
    assert (total, percent, attempted, out_of) == ("2/6 passed", "33.3", "3", "6")
    assert "not started: 2; missing file: 1" in out
    assert re.search(r"^  5  matmul .* missing file ", out, re.M), out

    scores = tmp_path / "scores.csv"
    assert main(["exercises", "check", "--class", str(parent), "--csv", str(scores),
                 "--jobs", str(JOBS)]) == 0
    rows = {row["student"]: row for row in csv.DictReader(scores.open(newline=""))}
    dana = rows["dana"]
    assert (dana["total"], dana["percent"], dana["attempted"], dana["out_of"]) == \
        (total, percent, attempted, out_of)
    assert [dana[n] for n in names] == ["pass", "pass", "fail", "not started", "not started",
                                        "missing file"]
    assert (dana["failed"], dana["not_started"], dana["missing_file"]) == ("1", "2", "1")
    assert rows["eve"]["total"] == "6/6 passed"
    # `check DIR --csv` writes the same row for the folder
    own = tmp_path / "own.csv"
    assert main(["exercises", "check", str(ws), "--csv", str(own), "--jobs", str(JOBS)]) == 1
    assert next(csv.DictReader(own.open(newline=""))) == dana


def test_the_csv_gives_a_state_and_a_one_line_reason_per_exercise(tmp_path):
    sig, tanh, mean = (catalogue.get(n) for n in ("sigmoid", "tanh", "mean"))
    fail = ("gradient check, case 'x of shape (3, 4)': your dL/dx is wrong at x[2, 1]\n"
            "    yours     1.85              (what your backward gives)\n"
            "    measured  0.273             (the slope of forward: x[2, 1] nudged by +-1e-06)\n"
            "    |difference| 1.58 > allowed 0.000283 (1e-05 + 0.001 * |measured|)\n"
            "  (here g was 1 at out[2, 1] and 0 elsewhere)\n"
            "hint: your formula is g (1 - tanh(x))")
    graded = {"=alice": [grading.Result(sig, grading.PASS, "5 checks passed"),
                         grading.Result(tanh, grading.FAIL, fail),
                         grading.Result(mean, grading.NOT_STARTED, "09_mean.py: backward() ...")],
              "bob": [grading.Result(sig, grading.MISSING, "01_sigmoid.py is not in the folder"),
                      grading.Result(tanh, grading.FAIL, "KeyError: 'slope'\n    at 02_tanh.py, "
                                                         "line 30, in backward: return ..."),
                      grading.Result(mean, grading.PASS, "4 checks passed")]}
    path = grading.write_csv(tmp_path / "scores.csv", graded)
    with path.open(newline="") as f:
        header, *rows = list(csv.reader(f))
    assert header == ["student", "total", "percent", "passed", "attempted", "out_of", "failed",
                      "not_started", "missing_file", "error", "tampered", "sigmoid", "tanh",
                      "mean",
                      "sigmoid reason", "tanh reason", "mean reason"]
    alice, bob = (dict(zip(header, r)) for r in rows)
    assert alice["student"] == "'=alice"              # a spreadsheet shows it, not a formula
    assert (alice["total"], alice["percent"], alice["attempted"]) == ("1/3 passed", "33.3", "2")
    assert alice["tanh reason"] == (
        "gradient check, case 'x of shape (3, 4)': your dL/dx is wrong at x[2, 1] | "
        "yours 1.85, measured 0.273 | hint: your formula is g (1 - tanh(x))")
    assert alice["sigmoid reason"] == alice["mean reason"] == ""   # pass, not started
    assert bob["sigmoid"] == "missing file" and bob["missing_file"] == "1"
    assert bob["sigmoid reason"] == "01_sigmoid.py is not in the folder"
    assert bob["tanh reason"] == ("KeyError: 'slope' | at 02_tanh.py, line 30, in backward: "
                                  "return ...")
    assert (bob["total"], bob["attempted"], bob["out_of"]) == ("1/3 passed", "2", "3")
    long = grading.Result(sig, grading.FAIL, "x" * 1000)
    assert len(long.reason) == grading.REASON_MAX and long.reason.endswith("...")


def test_write_csv_refuses_what_it_cannot_write(tmp_path):
    sig, tanh = catalogue.get("sigmoid"), catalogue.get("tanh")
    with pytest.raises(ValueError, match="no student was graded"):
        grading.write_csv(tmp_path / "s.csv", {})
    with pytest.raises(ValueError, match="bob was graded on tanh, the first student on sigmoid"):
        grading.write_csv(tmp_path / "s.csv", {"al": [grading.Result(sig, grading.PASS, "")],
                                               "bob": [grading.Result(tanh, grading.PASS, "")]})
    assert not (tmp_path / "s.csv").exists()
    with pytest.raises(ValueError, match="unknown result state 'skipped'"):
        grading.tally([grading.Result(sig, "skipped", "")])


def test_tally_counts_out_of_every_exercise_not_of_those_attempted():
    states = ["pass"] * 6 + ["fail"] * 3 + ["not started"] * 5 + ["missing file"]
    results = [grading.Result(e, s, "") for e, s in zip(catalogue.EXERCISES, states)]
    score = grading.tally(results)
    assert (score.total, score.percent, score.attempted, score.out_of) == \
        ("6/15 passed", "40.0", 9, 15)
    assert score.lines() == ("total: 6/15 passed (40.0%)\nattempted: 9 of 15 (3 of them "
                             "failed); not started: 5; missing file: 1; error: 0; tampered: 0")
    assert grading.tally([]).percent == "0.0"


# ------------------------------------------------------------ what "not started" means
NOT_STARTED_CASES = {
    # the template with only its comments and docstrings changed: still not started
    "notes only": ("sigmoid", None, grading.NOT_STARTED, "backward() still raises the "
                                                        "template's NotImplementedError"),
    # the stub left in one branch: started (every input tried must hit the stub, and
    # the first one the grader tries, of 12 elements, does)
    "one branch written": ("sigmoid", "def backward(g, x, out):\n"
                                      "    if x.size <= 5:\n"
                                      "        return g * out * (1 - out)\n"
                                      "    raise NotImplementedError('your turn: the rest')\n",
                           grading.FAIL, "not finished: backward() in 01_sigmoid.py"),
    # a NotImplementedError of the student's own is an error like any other
    "own NotImplementedError": ("sigmoid", "def backward(g, x, out):\n"
                                           "    raise NotImplementedError('later')\n",
                                grading.FAIL, "NotImplementedError: later"),
    # exercise 15 asks for two functions: one of them written is started
    "penalty only": ("gradient_penalty", changed(PENALTY_RIGHT, "def backward(g, x, out):\n"
                                                 "    return g * x.sigmoid()\n", ""),
                     grading.FAIL, "not finished: backward() in 15_gradient_penalty.py"),
    "softplus only": ("gradient_penalty", "def backward(g, x, out):\n"
                                          "    return g * x.sigmoid()\n",
                      grading.FAIL, "not finished: gradient_penalty() in 15_gradient_penalty"),
    "neither": ("gradient_penalty", None, grading.NOT_STARTED,
                "backward() and gradient_penalty() still raise"),
}


@pytest.mark.parametrize("case", sorted(NOT_STARTED_CASES))
def test_not_started_means_every_function_asked_for_still_raises_the_stub(tmp_path, case):
    name, source, status, fragment = NOT_STARTED_CASES[case]
    ws = tmp_path / "ws"
    new_workspace(ws, [catalogue.get(name)])
    path = ws / catalogue.get(name).filename
    if source is None:
        path.write_text(path.read_text().replace("(README.md says", "(My notes. README.md says"))
        assert path.read_text() != (TEMPLATES / path.name).read_text()
    else:
        write_answer(ws, name, source)
    result = grade(ws)[name]
    assert result.status == status, result.message
    assert fragment in result.message, result.message


# ------------------------------------------------------------ files are written atomically
def test_the_kit_writes_its_files_with_the_one_atomic_write(tmp_path, monkeypatch):
    from minigan.exercises import reports, workspace
    from minigan.serialization import atomic_write
    seen = []

    def spy(path, data):
        seen.append(pathlib.Path(path).name)
        atomic_write(path, data)
    monkeypatch.setattr(workspace, "atomic_write", spy)
    monkeypatch.setattr(reports, "atomic_write", spy)
    ws = tmp_path / "ws"
    new_workspace(ws, [catalogue.get("sigmoid")])
    assert sorted(seen) == sorted(p.name for p in ws.iterdir())     # every file of `new`
    (ws / "01_sigmoid.py").write_text("# mine\n")
    seen.clear()
    new_workspace(ws, [catalogue.get("sigmoid")], force=True)       # the backup too
    assert sorted(seen) == [MARKER, "01_sigmoid.py", "01_sigmoid.py.bak"]
    assert (ws / "01_sigmoid.py.bak").read_text() == "# mine\n"
    seen.clear()
    grading.write_csv(tmp_path / "s.csv", {"al": [grading.Result(catalogue.get("sigmoid"),
                                                                 grading.PASS, "")]})
    assert seen == ["s.csv"]

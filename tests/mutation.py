"""Mutation runs: does the test suite catch a bug when PyTorch is not installed?

A classroom installs what the README says, without PyTorch, so every test that
compares with torch is skipped there. This script plants one known bug at a time
(a *mutant*) in a copy of the repository and runs the relevant test files with a
Python that has no torch. A mutant is *caught* when the tests fail, and
*survives* when they pass: then some behaviour is checked only against PyTorch.

    python3 -m venv /tmp/venv-notorch
    /tmp/venv-notorch/bin/pip install numpy scipy matplotlib tqdm pytest hypothesis
    python tests/mutation.py --python /tmp/venv-notorch/bin/python

Options: ``--only WORD`` runs the mutants whose description contains WORD,
``--list`` prints them, ``--jobs N`` runs N at a time. The exit status is 0 when
every mutant is caught, 1 when one survives, 2 when the run itself could not be
trusted (torch importable, the unmutated tests failing, a mutation that no longer
applies).

A mutation is ``Mutation(file, old_text, new_text, description, tests)``: old_text
must occur exactly once in the file (so that a refactoring that moves the code is
noticed, not silently skipped), and `tests` are the test files to run, with
``-x -q`` (stop at the first failure: enough to call it caught, and fast).
This file is not collected by pytest (no ``test_`` prefix).
"""
import argparse
import collections
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

Mutation = collections.namedtuple("Mutation", "file old new description tests")

# What a copy of the repository needs for the tests to run (not .venv, .git, runs/, ...).
COPY = ["minigan", "tests", "setup.cfg", "pyproject.toml", "pytest.ini", "tox.ini"]

MUTATIONS = [
    Mutation("minigan/ops/conv.py",
             "dilation * (kernel - 1) + output_padding + 1",
             "dilation * (kernel - 1) + 1",
             "conv_transpose2d output size ignores output_padding",
             ["tests/test_conv.py"]),
    Mutation("minigan/ops/norm.py",
             "    r *= (1.0 - momentum)\n    r += (momentum * batch_stat)",
             "    r *= momentum\n    r += ((1.0 - momentum) * batch_stat)",
             "batch norm running stats use the Keras momentum convention",
             ["tests/test_batchnorm.py"]),
    Mutation("minigan/optim.py",
             'g = g + mom * buf if group["nesterov"] else buf',
             'g = buf if group["nesterov"] else buf',
             "SGD Nesterov steps with the raw momentum buffer",
             ["tests/test_optim.py"]),
    Mutation("minigan/optim.py",
             'lr_t, root_t = group["lr"] / (1 - beta1 ** t), math.sqrt(1 - beta2 ** t)',
             'lr_t, root_t = group["lr"], math.sqrt(1 - beta2 ** t)',
             "Adam drops the first-moment bias correction",
             ["tests/test_optim.py"]),
    Mutation("minigan/optim.py",
             'lr_t, root_t = group["lr"] / (1 - beta1 ** t), math.sqrt(1 - beta2 ** t)',
             'lr_t, root_t = group["lr"] / (1 - beta1 ** t), 1.0',
             "Adam drops the second-moment bias correction",
             ["tests/test_optim.py"]),
    Mutation("minigan/optim.py",
             'buf += (1 - group["dampening"]) * g',
             "buf += g",
             "SGD momentum ignores dampening",
             ["tests/test_optim.py"]),
    Mutation("minigan/autograd.py",
             "g = g.sum(axis=axes, keepdims=True)",
             "g = g.mean(axis=axes, keepdims=True)",
             "unbroadcast averages instead of summing",
             ["tests/test_ops_numpy.py"]),
    Mutation("minigan/ops/math.py",
             "xp.where(pos, xp.asarray(1, g.dtype), slope.astype(g.dtype))",
             "xp.where(pos, xp.asarray(1, g.dtype), xp.zeros_like(slope, dtype=g.dtype))",
             "leaky_relu backward forgets the negative slope",
             ["tests/test_ops_numpy.py", "tests/test_ops_gradcheck.py"]),
    Mutation("minigan/ops/math.py",
             "m = (a.data > b.data) + 0.5 * (a.data == b.data)",
             "m = (a.data >= b.data) + 0.0 * (a.data == b.data)",
             "maximum gives a tie's whole gradient to the first input",
             ["tests/test_ops_numpy.py"]),
    Mutation("minigan/ops/reduce.py",
             "m /= m.sum(axis=axes, keepdims=True)",
             "m /= 1",
             "max gives every tied maximum the whole gradient",
             ["tests/test_ops_numpy.py"]),
    Mutation("minigan/ops/layout.py",
             "h_span, w_span = geo.sh * (geo.OH - 1) + 1, geo.sw * (geo.OW - 1) + 1\n"
             "    image = xp.empty((N, C, geo.H, geo.W), dtype=cols.dtype) if nchw else None\n"
             "\n"
             "    def add(c0, c1):\n"
             "        for i in range(geo.kh):\n"
             "            h0 = i * geo.dh\n"
             "            for j in range(geo.kw):\n"
             "                w0 = j * geo.dw\n"
             "                out[c0:c1, h0:h0 + h_span:geo.sh, w0:w0 + w_span:geo.sw, :] += "
             "cols[c0:c1, i, j]",
             "h_span, w_span = geo.sw * (geo.OH - 1) + 1, geo.sh * (geo.OW - 1) + 1\n"
             "    image = xp.empty((N, C, geo.H, geo.W), dtype=cols.dtype) if nchw else None\n"
             "\n"
             "    def add(c0, c1):\n"
             "        for i in range(geo.kh):\n"
             "            h0 = i * geo.dh\n"
             "            for j in range(geo.kw):\n"
             "                w0 = j * geo.dw\n"
             "                out[c0:c1, h0:h0 + h_span:geo.sw, w0:w0 + w_span:geo.sh, :] += "
             "cols[c0:c1, i, j]",
             "col2im swaps the vertical and horizontal strides",
             ["tests/test_conv.py"]),
    Mutation("minigan/ops/math.py",
             "scale = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))",
             "scale = keep.astype(x.dtype) * x.dtype.type(1.0)",
             "dropout does not scale the survivors by 1 / (1 - p)",
             ["tests/test_ops_numpy.py"]),
    Mutation("minigan/nn/layers.py",
             "use_batch = self.training or self.running_mean is None",
             "use_batch = True",
             "BatchNorm in eval mode normalizes with the batch statistics",
             ["tests/test_nn.py"]),
    Mutation("minigan/ops/norm.py",
             "var = (_sum_of_products(xp, xhat, xhat, axes) / n).astype(x.dtype, copy=False)",
             "var = (_sum_of_products(xp, xhat, xhat, axes) / (n - 1)).astype(x.dtype, "
             "copy=False)",
             "batch norm normalizes with the unbiased variance",
             ["tests/test_batchnorm.py"]),
    Mutation("minigan/ops/norm.py",
             "_update_running(running_var, var.reshape(-1) * (n / (n - 1)), momentum)",
             "_update_running(running_var, var.reshape(-1), momentum)",
             "batch norm's running variance takes the biased variance",
             ["tests/test_batchnorm.py"]),
    # the faults of the same issue: all-or-nothing loads and no silent wrong values
    Mutation("minigan/optim.py",
             "            try:\n                self._validate(group)\n",
             "            own.update(group)\n"
             "            try:\n                self._validate(group)\n",
             "Optimizer.load_state_dict installs settings before checking them",
             ["tests/test_optim.py"]),
    Mutation("minigan/nn/module.py",
             "converted.append((t, _as_array(value, dtype=t.dtype, device=t.device)))",
             "t.data[...] = _as_array(value, dtype=t.dtype, device=t.device)",
             "Module.load_state_dict copies entries before checking the rest",
             ["tests/test_nn.py"]),
    Mutation("minigan/ops/loss.py",
             '    _check_target_range("binary_cross_entropy_with_logits", target)\n',
             "",
             "binary cross-entropy accepts targets outside [0, 1]",
             ["tests/test_ops_gradcheck.py"]),
    # the applications' layers
    Mutation("minigan/ops/norm.py",
             "    pixels = tuple(range(2, x.ndim))\n    if x.size and",
             "    pixels = (0,) + tuple(range(2, x.ndim))\n    if x.size and",
             "instance norm takes its statistics over the batch too (batch norm)",
             ["tests/test_instancenorm.py"]),
    Mutation("minigan/ops/norm.py",
             "            gxd += -scale * sum_g / n\n",
             "",
             "the normalization's first-order backward leaves out the path through the mean",
             ["tests/test_instancenorm.py"]),
    Mutation("minigan/ops/pool.py",
             "lambda g, out: (_sum_pool(g, sh, sw),)",
             "lambda g, out: (g[:, :, ::sh, ::sw],)",
             "upsample's backward takes one pixel of each block instead of the block's sum",
             ["tests/test_pool.py"]),
    Mutation("minigan/ops/pool.py",
             "1.0 / (kernel[0] * kernel[1])",
             "1.0 / (kernel[0] * kernel[0])",
             "avg_pool2d divides by kh^2 instead of kh kw",
             ["tests/test_ops_numpy.py"]),
]

# The exercise grader: the student's code only answers, the grader decides,
# and no student changes another's grade. `--only grader` runs these.
GRADER_TESTS = ["tests/test_grader_isolation.py"]
MUTATIONS += [
    Mutation("minigan/exercises/grade_one.py",
             "    except (ExerciseTimeout, ProcessEnded) as e:\n        return FAIL, str(e)\n",
             "    except (ExerciseTimeout, ProcessEnded) as e:\n"
             "        return (PASS if \"exit code 0\" in str(e) else FAIL), str(e)\n",
             "grader: the verdict taken from the student's process (it exited with 0: a pass)",
             GRADER_TESTS),
    Mutation("minigan/exercises/remote.py",
             'raise ProtocolError(f"an answer of unknown kind {kind!r}")',
             'return reply.get("value")',
             "grader: an answer of unknown kind from the student's process taken as a value",
             GRADER_TESTS),
    Mutation("minigan/exercises/remote.py",
             'if entry.name != "exercises":',
             'if entry.name != "__pycache__":',
             "grader: minigan/exercises (the checks) on the student's process's path",
             GRADER_TESTS),
    Mutation("minigan/exercises/remote.py",
             "os.killpg(self.proc.pid, signal.SIGKILL)",
             "os.kill(self.proc.pid, signal.SIGKILL)",
             "grader: the student's process group is not killed, only the process",
             GRADER_TESTS),
    Mutation("minigan/exercises/remote.py",
             "        kill_marked(self.token)\n",
             "",
             "grader: processes that left the student's process group live on",
             GRADER_TESTS),
    Mutation("minigan/exercises/grading.py",
             "results = _grade_files(files[d.name], jobs, time_limit, kill_grace)",
             "results = _grade_files([_read(e, d / e.filename) for e in only], jobs, "
             "time_limit, kill_grace)",
             "grader: a student's files read at their turn, after classmates' code ran",
             GRADER_TESTS),
    Mutation("minigan/exercises/grading.py",
             "        changes = manifest.changes()\n        if changes:\n"
             "            graded[d.name]",
             "        changes = []\n        if changes:\n            graded[d.name]",
             "grader: the integrity check after each student of a class skipped",
             GRADER_TESTS),
    Mutation("minigan/exercises/grading.py",
             "    changes = manifest.changes()\n    return _tampered(results, changes, \"your\") "
             "if changes else results\n",
             "    return results\n",
             "grader: the integrity check after a workspace skipped",
             GRADER_TESTS),
    Mutation("minigan/exercises/grading.py",
             "    if changes:\n        raise PackageChanged(changes)\n",
             "    if changes and False:\n        raise PackageChanged(changes)\n",
             "grader: a package changed before grading is graded with all the same",
             GRADER_TESTS),
    Mutation("minigan/exercises/integrity.py",
             "for name in files + links:",
             "for name in files:",
             "grader: the manifest misses a linked folder added to the package",
             GRADER_TESTS),
    Mutation("minigan/exercises/grade_one.py",
             "    except ProtocolError as e:",
             "    except ZeroDivisionError as e:",
             "grader: an answer that cannot be read stops the whole run, not one exercise",
             GRADER_TESTS),
    Mutation("minigan/exercises/wire.py",
             "a = np.load(io.BytesIO(read_exact(size)), allow_pickle=False)",
             "a = np.load(io.BytesIO(read_exact(size)), allow_pickle=True)",
             "grader: arrays from the student's process read with pickle allowed",
             GRADER_TESTS),
    Mutation("minigan/exercises/reports.py",
             "s.failed, s.not_started, s.missing, s.errors, s.tampered]",
             "s.failed, s.not_started, s.missing, 0, 0]",
             "grader: the CSV leaves error and tampered out of its counts",
             GRADER_TESTS),
]

# The translation applications. `--only translation` runs these.
MUTATIONS += [
    Mutation("minigan/gan/apps/networks.py",
             "    extra = (size[0] - 2 * h, size[1] - 2 * w)\n",
             "    extra = (0, 0)\n",
             "translation: the U-Net's up-convolutions never add the odd row and column",
             ["tests/test_translation.py"]),
    Mutation("minigan/gan/apps/translation.py",
             "            loss_g = adv + self.cycle_weight * cycle\n",
             "            loss_g = adv\n",
             "translation: CycleGAN's generators are trained without their cycle term",
             ["tests/test_translation.py"]),
    Mutation("minigan/gan/apps/translation.py",
             "shift = rng.integers(1, self.n_domains, size=source.shape[0])",
             "shift = rng.integers(0, self.n_domains, size=source.shape[0])",
             "translation: StarGAN may ask for the domain an image is already in",
             ["tests/test_translation.py"]),
]


# ------------------------------------------------------------------ helpers
def _copy_repository(dest):
    """A copy of what the tests need, without caches (a stale .pyc must not hide a mutant)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")
    for name in COPY:
        src = os.path.join(ROOT, name)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dest, name), ignore=ignore)
        elif os.path.exists(src):
            shutil.copy2(src, os.path.join(dest, name))


def _apply(copy, m):
    """Plant mutant m in the copy; old text must occur exactly once."""
    path = os.path.join(copy, m.file)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    n = text.count(m.old)
    if n != 1:
        raise ValueError(f"mutation {m.description!r}: the text to replace occurs {n} times in "
                         f"{m.file} (exactly once is needed); update the mutation")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(m.old, m.new))


def _env(copy):
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONPATH"] = copy                     # the copy's minigan, never an installed one
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _pytest(python, copy, tests, timeout):
    """Run the test files in the copy: (status, first failing test or error, seconds)."""
    cmd = [python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=copy, env=_env(copy), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", f"still running after {timeout} s", time.perf_counter() - start
    seconds = time.perf_counter() - start
    out = done.stdout + done.stderr
    first = re.search(r"^(FAILED|ERROR) (\S+)", out, re.M)     # the test's node id
    detail = first.group(2).split("::", 1)[-1] if first else \
        out.strip().splitlines()[-1] if out.strip() else ""
    status = {0: "passed", 1: "failed", 5: "no tests"}.get(done.returncode, "error")
    return status, detail, seconds


def _torch_version(python):
    """torch's version if `python` can import it, else None."""
    done = subprocess.run([python, "-c", "import torch; print(torch.__version__)"],
                          capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def _run_mutant(python, m, timeout):
    with tempfile.TemporaryDirectory(prefix="minigan-mutant-") as copy:
        _copy_repository(copy)
        _apply(copy, m)
        status, detail, seconds = _pytest(python, copy, m.tests, timeout)
    caught = status in ("failed", "error", "timeout")
    return m, ("caught" if caught else "SURVIVED"), status, detail, seconds


def _table(rows):
    head = ("#", "mutant", "tests", "result", "first failure", "s")
    body = [(str(i + 1), m.description, " ".join(os.path.basename(t) for t in m.tests), result,
             (detail if len(detail) <= 64 else detail[:61] + "..."), f"{sec:.1f}")
            for i, (m, result, _, detail, sec) in enumerate(rows)]
    widths = [max(len(r[k]) for r in [head] + body) for k in range(len(head))]
    line = "  ".join("-" * w for w in widths)
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()   # noqa: E731
    return "\n".join([fmt(head), line] + [fmt(r) for r in body])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", default=sys.executable,
                    help="the Python to test with; it should NOT have torch (default: this one)")
    ap.add_argument("--only", action="append", default=[],
                    help="run only mutants whose description contains this text (repeatable)")
    ap.add_argument("--jobs", type=int, default=1, help="mutants run at the same time")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per test run")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--allow-torch", action="store_true",
                    help="run even though torch is importable (the parity tests then run too, "
                         "so the result says nothing about a classroom without torch)")
    args = ap.parse_args(argv)

    mutants = [m for m in MUTATIONS if not args.only
               or any(w.lower() in m.description.lower() for w in args.only)]
    if args.list:
        for i, m in enumerate(mutants, 1):
            print(f"{i:2d}. {m.description}  [{m.file} -> {' '.join(m.tests)}]")
        return 0
    if not mutants:
        print("no mutant matches --only", file=sys.stderr)
        return 2

    version = _torch_version(args.python)
    if version is not None:
        msg = (f"{args.python} can import torch {version}: the PyTorch comparisons would run "
               f"and hide what a classroom without torch would miss. Use a Python without "
               f"torch (see the docstring), or pass --allow-torch.")
        if not args.allow_torch:
            print("refusing: " + msg, file=sys.stderr)
            return 2
        print("warning: " + msg, file=sys.stderr)

    # Every mutation must still apply, and the unmutated tests must pass: otherwise
    # 'caught' would mean nothing.
    tests = sorted({t for m in mutants for t in m.tests})
    with tempfile.TemporaryDirectory(prefix="minigan-baseline-") as copy:
        _copy_repository(copy)
        for m in mutants:
            text = open(os.path.join(copy, m.file), encoding="utf-8").read()
            if text.count(m.old) != 1:
                print(f"mutation {m.description!r}: the text to replace occurs "
                      f"{text.count(m.old)} times in {m.file}; update it", file=sys.stderr)
                return 2
        where = subprocess.run([args.python, "-c", "import minigan; print(minigan.__file__)"],
                               cwd=copy, env=_env(copy), capture_output=True, text=True)
        if not where.stdout.strip().startswith(os.path.realpath(copy)) and \
                not where.stdout.strip().startswith(copy):
            print(f"the copy's minigan is not the one imported ({where.stdout.strip()} "
                  f"{where.stderr.strip()[-300:]})", file=sys.stderr)
            return 2
        print(f"baseline: {' '.join(tests)} with {args.python} "
              f"(torch: {version or 'not installed'})", flush=True)
        status, detail, seconds = _pytest(args.python, copy, tests, args.timeout)
        if status != "passed":
            print(f"the unmutated tests do not pass ({status}: {detail}); fix that first",
                  file=sys.stderr)
            return 2
        print(f"baseline passed in {seconds:.1f} s; {len(mutants)} mutants", flush=True)

    rows = []
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futures = [pool.submit(_run_mutant, args.python, m, args.timeout) for m in mutants]
        for fut in futures:
            row = fut.result()
            rows.append(row)
            print(f"  {row[1]:8s} {row[0].description}", flush=True)
    print()
    print(_table(rows))
    survived = [r for r in rows if r[1] != "caught"]
    print(f"\n{len(rows) - len(survived)} of {len(rows)} mutants caught"
          + (f"; SURVIVED: {', '.join(r[0].description for r in survived)}" if survived else ""))
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())

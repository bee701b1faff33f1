"""The grader's side of a student's process: start it, ask it, end it.

The student's code never runs in the grader's process. For each exercise file
``StudentProcess.start`` lays out a scratch folder

    bin/            copies of student_side.py and wire.py: what the student's process runs
    lib/minigan/    links to every entry of the installed package except exercises/
    work/FILE       the student's file, as the grader read it before any student
                    code ran

and starts ``python -I -S -B bin/student_side.py work/FILE lib SECONDS SITE`` there: in
a session (a process group) of its own, its working directory work/, its
standard input and output the two pipes of the protocol (``wire.py``), its
standard error a file. ``-I -S`` leave out the environment's PYTHONPATH, the
user's and the site's .pth files (an editable install would put the repository,
and so tests/ with the answers, on the path); the student side's path is Python's
library, lib/ and NumPy's folder. So the checks, the verdict and the answer
key are neither in that process's memory nor on its path.

The grader asks (``call``, ``vjp``, ``penalty``: see student_side.py) and gets values
back, or one of these, which end the exercise:

    StudentRaised    the student's code raised (an ordinary Exception: a check
                     turns it into a failure, or into "not started" for the stub)
    ExerciseTimeout  the time limit ran out, in the child's timer or the grader's
    ProcessEnded     the process ended before it answered (a crash, os._exit)
    ProtocolError    an answer that cannot be read: empty, not JSON, of unknown
                     kind, an array that is not numbers, a closed pipe

The last three are BaseExceptions, so that no ``except Exception`` in the
checks can take one for a wrong answer. ``close`` kills the whole process
group, and, on Linux, any process that left the group but kept the run's
token in its environment.
"""
import os
import pathlib
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import numpy as np

from ..tensor import Tensor
from .. import grad_mode
from . import wire

HERE = pathlib.Path(__file__).resolve().parent
#: The installed package the student's process sees (without exercises/).
PACKAGE = HERE.parent
#: The environment variable that marks every process a student's run started.
TOKEN_VAR = "MINIGAN_GRADING_RUN"
#: Seconds to wait for a process whose reply pipe closed to end.
END_WAIT = 2.0


class StudentRaised(Exception):
    """The student's code raised: the exception's type, its message (str(self)),
    the description in the student's words (``text``: which line of their file),
    whether it is the template's stub, and the function it was raised in."""

    def __init__(self, reply):
        super().__init__(str(reply.get("message", "")))
        self.type_name = str(reply.get("type", "Exception"))
        self.text = str(reply.get("text", ""))
        self.stub = reply.get("stub") is True
        self.function = str(reply.get("function", ""))


class ExerciseTimeout(BaseException):
    """The time limit ran out; the message says where the code was, when known."""


class ProcessEnded(BaseException):
    """The student's process ended before answering; the message gives its exit code
    and its last lines of standard error."""


class ProtocolError(BaseException):
    """An answer the grader cannot read; the message says what was wrong."""


class Opaque:
    """Something a student's function returned that is not a number or an array
    (only its type's name crosses the pipe)."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<a {self.type_name}>"


class Returned:
    """A Tensor a student's function returned: its array, and whether it was
    connected to a graph (requires_grad) in the student's process."""

    def __init__(self, data, requires_grad):
        self.data, self.requires_grad = data, requires_grad


def type_name(value):
    """The type's name of a returned value, as the student wrote it."""
    return value.type_name if isinstance(value, Opaque) else type(value).__name__


def _scratch_layout(scratch, package, filename, source):
    """The scratch folder of one student's file (see the module text)."""
    bin_dir, lib, work = scratch / "bin", scratch / "lib" / "minigan", scratch / "work"
    for d in (bin_dir, lib, work):
        d.mkdir(parents=True)
    for name in ("student_side.py", "wire.py"):
        shutil.copyfile(HERE / name, bin_dir / name)
    for entry in package.iterdir():
        if entry.name != "exercises":
            os.symlink(entry, lib / entry.name)
    (work / filename).write_bytes(source)
    return bin_dir / "student_side.py", work / filename


def _environment(token):
    """The student's process's environment: no PYTHON* variables, the CPU, one
    thread per library, and the run's token (which kill_marked looks for)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update({"MINIGAN_DEVICE": "cpu", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1", TOKEN_VAR: token})
    return env


class StudentProcess:
    """One student file, loaded in a process of its own, answering the grader."""

    def __init__(self, proc, scratch, errors, token, student_file):
        self.proc, self.scratch, self.errors, self.token = proc, scratch, errors, token
        self.student_file = student_file
        self._buffer = bytearray()
        self.deadline = None
        self.time_limit = None
        self.kill_grace = None
        self.warning = None              # NumPy's first runtime warning in the student's code
        os.set_blocking(proc.stdin.fileno(), False)

    @classmethod
    def start(cls, filename, source, time_limit, package=PACKAGE):
        """Start the student's process on `source` (the file's bytes, named `filename`);
        it loads the file within `time_limit` seconds, while the grader does other work."""
        scratch = pathlib.Path(tempfile.mkdtemp(prefix="minigan-grade-"))
        try:
            runner, student_file = _scratch_layout(scratch, pathlib.Path(package), filename,
                                                   source)
            token = uuid.uuid4().hex
            errors = scratch / "stderr.txt"
            site = str(pathlib.Path(np.__file__).resolve().parents[1])
            with open(errors, "wb") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-I", "-S", "-B", str(runner), str(student_file),
                     str(scratch / "lib"), repr(float(time_limit)), site],
                    cwd=scratch / "work", env=_environment(token), stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=err, start_new_session=True)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        return cls(proc, scratch, errors, token, student_file)

    # -------------------------------------------------------- the clock
    def begin(self, time_limit, kill_grace):
        """The exercise's clock starts: `time_limit` seconds for everything asked from
        now on; a process silent `kill_grace` seconds past it is killed."""
        self.time_limit, self.kill_grace = time_limit, kill_grace
        self.deadline = time.monotonic() + time_limit

    def remaining(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ExerciseTimeout(f"took longer than {self.time_limit:g} s (the time limit) "
                                  f"and was stopped")
        return left

    # -------------------------------------------------------- asking
    def loaded(self):
        """The names of the functions the student's file defines (after it loaded)."""
        try:
            ready = self._reply()
        except ProcessEnded:
            raise ProtocolError(f"the process that runs the student's code could not start; "
                                f"the last lines it wrote:\n{self.stderr_tail()}") from None
        if ready["kind"] != "ready":
            raise ProtocolError(f"the student's process began with {ready['kind']!r}, not "
                                f"'ready'")
        reply = self._reply()
        if reply["kind"] == "loaded":
            names = reply.get("callables")
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ProtocolError("the student's process said it loaded the file but sent "
                                    "no list of its functions")
            return set(names)
        return self._unwrap(reply)

    def ask(self, request):
        """Send one request (a dict, see student_side.py) and return the value answered."""
        request = dict(request, seconds=self.remaining())
        self._send(wire.encode(request))
        return self._unwrap(self._reply())

    def _unwrap(self, reply):
        kind = reply["kind"]
        if kind in ("value", "raised") and self.warning is None and \
                isinstance(reply.get("warning"), str):
            self.warning = reply["warning"]
        if kind == "value":
            if "value" not in reply:
                raise ProtocolError("an answer of kind 'value' without a value")
            return reply["value"]
        if kind == "raised":
            raise StudentRaised(reply)
        if kind == "timeout":
            where = reply.get("where")
            at = ("\n" + "\n".join(map(str, where))) if isinstance(where, list) and where \
                else " (in the grader's checks)"
            raise ExerciseTimeout(f"took longer than {self.time_limit:g} s (an endless loop?); "
                                  f"it was stopped{at}")
        raise ProtocolError(f"an answer of unknown kind {kind!r}")

    # -------------------------------------------------------- the pipes
    def _wait_until(self):
        return self.deadline + self.kill_grace

    def _timed_out(self):
        self.kill()
        raise ExerciseTimeout(f"took longer than {self.time_limit:g} s and was stopped (an "
                              f"endless loop inside NumPy?)")

    def _send(self, data):
        fd = self.proc.stdin.fileno()
        view = memoryview(data)
        while view:
            left = self._wait_until() - time.monotonic()
            if left <= 0:
                self._timed_out()
            _, ready, _ = select.select([], [fd], [], left)
            if not ready:
                continue
            try:
                view = view[os.write(fd, view):]
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError):
                self._ended()

    def _read_exact(self, n):
        fd = self.proc.stdout.fileno()
        while len(self._buffer) < n:
            left = self._wait_until() - time.monotonic()
            if left <= 0:
                self._timed_out()
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                self._ended()
            self._buffer += chunk
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    def _reply(self):
        try:
            reply = wire.decode(self._read_exact)
        except wire.WireError as e:
            raise ProtocolError(f"the answer could not be read: {e}") from None
        if not isinstance(reply, dict) or not isinstance(reply.get("kind"), str):
            raise ProtocolError("the answer is not a message with a kind")
        return reply

    def _ended(self):
        """The reply pipe closed: the process ended (a crash, os._exit), or it closed
        the pipe and lives on (then the answer is missing)."""
        try:
            code = self.proc.wait(timeout=END_WAIT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise ProtocolError("the student's process closed its reply pipe without "
                                "answering") from None
        how = f"exit code {code}" if code >= 0 else f"killed by signal {-code}"
        raise ProcessEnded(f"your code ended the process that was checking it before the "
                           f"checks finished ({how}: a crash, or os._exit?); the last lines "
                           f"it wrote:\n{self.stderr_tail()}")

    def stderr_tail(self, lines=8, size=4096):
        """The last lines the process wrote to standard error, for a crash report."""
        with open(self.errors, "rb") as f:
            f.seek(max(0, os.path.getsize(self.errors) - size))
            text = f.read().decode("utf-8", "replace")
        kept = [ln for ln in text.strip().splitlines() if ln.strip()]
        return "\n".join("    " + ln for ln in kept[-lines:]) or "    (none)"

    # -------------------------------------------------------- the end
    def kill(self):
        """Kill the process and everything it started (its process group)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.kill()
        except OSError:
            pass

    def close(self):
        """End the process, its process group, the processes that left the group with
        the run's token, and remove the scratch folder."""
        self.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        kill_marked(self.token)
        shutil.rmtree(self.scratch, ignore_errors=True)


def kill_marked(token):
    """Kill every process of ours whose environment holds TOKEN_VAR=token (Linux's
    /proc; elsewhere nothing): the ones that left the process group (setsid)."""
    proc = pathlib.Path("/proc")
    if not proc.is_dir():
        return
    marker = f"{TOKEN_VAR}={token}".encode() + b"\0"
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


# ------------------------------------------------------------ the student's module
def _to_wire(value):
    """A grader-side argument as the wire carries it (a Tensor with its requires_grad)."""
    if isinstance(value, Tensor):
        return {"__tensor__": np.asarray(value.data), "requires_grad": value.requires_grad}
    if isinstance(value, (tuple, list)):
        return type(value)(_to_wire(v) for v in value)
    return value


def _from_wire(value):
    """An answered value: arrays, numbers, None, Returned (a Tensor), Opaque, and
    tuples and lists of them; anything else is a ProtocolError."""
    if isinstance(value, np.ndarray) or value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (tuple, list)):
        return type(value)(_from_wire(v) for v in value)
    if isinstance(value, dict):
        if set(value) == {"__tensor__", "requires_grad"} and \
                isinstance(value["__tensor__"], np.ndarray):
            return Returned(value["__tensor__"], value["requires_grad"] is True)
        if set(value) == {"__object__"} and isinstance(value["__object__"], str):
            return Opaque(value["__object__"][:100])
    raise ProtocolError(f"an answer holding a {type(value).__name__} the grader does not "
                        f"expect")


def as_constant(value):
    """Returned Tensors as grader-side Tensors that are constants (no graph)."""
    if isinstance(value, Returned):
        return Tensor(value.data)
    if isinstance(value, (tuple, list)):
        return type(value)(as_constant(v) for v in value)
    return value


class RemoteModule:
    """The student's file, as the checks see it: ``module.forward(...)``,
    ``module.step(...)`` ... send the arguments to the student's process and return
    what it answered (Tensors as constants). ``call`` keeps the Returned values for
    a caller that builds graph nodes (``harness.StudentOp``); ``vjp`` and
    ``penalty`` are the two requests beyond a call (see student_side.py)."""

    def __init__(self, process, callables):
        self._process, self._callables = process, set(callables)

    def __getattr__(self, name):
        if name.startswith("_") or name not in self._callables:
            raise AttributeError(name)
        return lambda *args, **kwargs: as_constant(self.call(name, args, kwargs))

    @property
    def warning(self):
        return self._process.warning

    def call(self, name, args, kwargs, grad=None):
        """The student's function `name` called on args and kwargs, in the grader's
        grad mode (or `grad`); the answer with Tensors as Returned."""
        return _from_wire(self._process.ask({
            "kind": "call", "function": name, "args": _to_wire(list(args)),
            "kwargs": {k: _to_wire(v) for k, v in kwargs.items()},
            "grad": grad_mode.enabled if grad is None else bool(grad)}))

    def vjp(self, name, args, kwargs, index, weight):
        """d sum(weight * r) / d(each argument), r the index-th value `name` returns:
        one Tensor (or None) per argument."""
        answer = _from_wire(self._process.ask({
            "kind": "vjp", "function": name, "args": _to_wire(list(args)),
            "kwargs": {k: _to_wire(v) for k, v in kwargs.items()}, "index": int(index),
            "weight": np.asarray(weight.data if isinstance(weight, Tensor) else weight)}))
        if not isinstance(answer, list) or len(answer) != len(args) or \
                not all(a is None or isinstance(a, np.ndarray) for a in answer):
            raise ProtocolError("an answer to a vjp request that is not one array (or None) "
                                "per argument")
        return [None if a is None else Tensor(a) for a in answer]

    def penalty(self, weights, real, fake, eps, lam, softplus="yours"):
        """The student's gradient_penalty on the grader's critic (see student_side.py):
        (the value, Returned or other, and the gradients for W1, b1, w2 or None)."""
        answer = self._process.ask({
            "kind": "penalty", "softplus": softplus,
            "weights": [np.asarray(w.data) for w in weights], "real": np.asarray(real.data),
            "fake": np.asarray(fake.data), "eps": np.asarray(eps.data), "lam": float(lam)})
        if not isinstance(answer, dict) or set(answer) != {"penalty", "grads"}:
            raise ProtocolError("an answer to a penalty request without the penalty")
        grads = answer["grads"]
        if grads is not None and (not isinstance(grads, list) or len(grads) != 3 or not all(
                g is None or isinstance(g, np.ndarray) for g in grads)):
            raise ProtocolError("an answer to a penalty request with gradients for other "
                                "than W1, b1, w2")
        return _from_wire(answer["penalty"]), grads

"""The student's side of the grader: a process that only answers.

    python -I -S -B BIN/student_side.py STUDENT_FILE LIB SECONDS [SITE ...]

The grader (``remote.py``) starts one per exercise file, with copies of this
file and of ``wire.py`` in a folder of their own (BIN). This process holds no
check, no verdict and no answer: its ``sys.path`` is Python's own library,
LIB (a folder whose ``minigan`` is a view of the installed package without
``minigan/exercises``) and SITE (where NumPy is); its working directory is a
scratch folder. It says "ready" (so that a failure before is the grader's,
not the student's), loads STUDENT_FILE (a copy) within SECONDS, says which
functions it defines, then serves requests from its standard input, one at a
time, each answered on its standard output (``wire.py``):

    call      call one of the student's functions (forward, backward, step, ...)
              on the arrays sent (as minigan Tensors where the grader sent
              Tensors, with the same requires_grad), in the grad mode sent
    vjp       sum(weight * r) for r, one gradient that backward returns, taken
              back to backward's Tensor arguments by minigan's engine: how the
              grader differentiates a student's backward again
    penalty   the student's gradient_penalty on the grader's critic
              D(x) = softplus(x W1^T + b1) w2 (softplus: the student's op, or
              minigan's for the "not started" probe): its value and, when it has
              a graph, its gradient with respect to W1, b1 and w2

The answers are values (arrays, and what else the function returned: None or
a type's name), an exception described in the student's words (which line of
their file, whether it is the template's stub), or "timeout" (SECONDS, sent
with each request, ran out; the interval timer says where the code was). The
grader compares, decides and writes the verdict; nothing here is trusted.
Standard output is the reply pipe, so the student's own print() goes to
/dev/null; standard error goes to a file the grader shows after a crash.
"""
import importlib.util
import os
import signal
import sys
import traceback
import warnings

#: The template's stub message starts so.
STUB_PREFIX = "your turn"
#: The most values a returned tuple may hold (more is described, not sent).
MAX_ITEMS = 64
#: The longest description of an exception.
MAX_TEXT = 4000


class ExerciseTimeout(BaseException):
    """The time limit ran out (a BaseException, so that `except Exception` in a
    student's loop cannot swallow it)."""


# ------------------------------------------------------------ exceptions, in words
def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def short(filename):
    """minigan/ops/linalg.py rather than the whole path."""
    parts = filename.replace("\\", "/").split("/")
    return "/".join(parts[parts.index("minigan"):]) if "minigan" in parts else parts[-1]


def describe_exception(exc, path):
    """'TypeError: ...' and where: the student's line first, the line that raised it after."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if _same_file(f.filename, path)]
    try:
        text = f"{type(exc).__name__}: {exc}"
    except Exception:                            # an exception whose str() raises
        text = type(exc).__name__
    if mine:
        f = mine[-1]
        text += f"\n    at {os.path.basename(path)}, line {f.lineno}, in {f.name}: {f.line}"
        if frames[-1] is not f:
            last = frames[-1]
            text += f"\n    (raised in {short(last.filename)}, line {last.lineno}, in {last.name})"
    return text


def raised_by_stub(exc, path):
    """True when exc is the template's NotImplementedError('your turn: ...'), raised
    by the student's file itself (the stub was not replaced yet)."""
    if not isinstance(exc, NotImplementedError) or not str(exc).startswith(STUB_PREFIX):
        return False
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and _same_file(frames[-1].filename, path)


def error_reply(exc, path):
    """An exception from the student's code, as the grader's words need it."""
    text = describe_exception(exc, path)
    if isinstance(exc, SystemExit):
        text = f"your code called sys.exit({exc.code!r}) (or exit()): {text}"
    frames = traceback.extract_tb(exc.__traceback__)
    try:
        message = str(exc)
    except Exception:
        message = ""
    return {"kind": "raised", "type": type(exc).__name__, "message": message[:MAX_TEXT],
            "text": text[:MAX_TEXT], "stub": raised_by_stub(exc, path),
            "function": frames[-1].name if frames else ""}


def timeout_reply(exc, path):
    """Where the student's code was when the timer rang (the timer's own frame left out)."""
    where = [ln for ln in describe_exception(exc, path).splitlines()[1:]
             if not ln.strip().startswith("(raised in")]
    return {"kind": "timeout", "where": where}


def _on_alarm(signum, frame):
    raise ExerciseTimeout()


# ------------------------------------------------------------ values
def describe(value, depth=0):
    """What the student's function returned, as the wire can carry it: arrays for
    Tensors and arrays, the number for a number, None, tuples and lists of these,
    and {"__object__": type name} for anything else."""
    import numpy as np
    from minigan.tensor import Tensor
    if isinstance(value, Tensor):
        data = np.asarray(value.data)
        if data.dtype.kind not in "biuf":
            return {"__object__": f"Tensor of dtype {data.dtype}"}
        return {"__tensor__": data, "requires_grad": bool(value.requires_grad)}
    if isinstance(value, (np.ndarray, np.generic)):
        data = np.asarray(value)
        if data.dtype.kind not in "biuf":
            return {"__object__": f"{type(value).__name__} of dtype {data.dtype}"}
        return data
    if value is None or isinstance(value, (bool, int, float)):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2 ** 53:
            return float(value)
        return value
    if isinstance(value, (tuple, list)) and depth < 2 and len(value) <= MAX_ITEMS:
        items = [describe(v, depth + 1) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    return {"__object__": type(value).__name__}


def arguments(values):
    """The request's arguments: {"__tensor__": a, "requires_grad": r} becomes a
    minigan Tensor leaf, everything else stays as sent."""
    import minigan

    def one(v):
        if isinstance(v, dict) and "__tensor__" in v:
            return minigan.tensor(v["__tensor__"], requires_grad=bool(v["requires_grad"]))
        return v
    if isinstance(values, dict):
        return {k: one(v) for k, v in values.items()}
    return [one(v) for v in values]


# ------------------------------------------------------------ what is served
def serve_call(module, req):
    from minigan import grad_mode
    fn = getattr(module, req["function"])
    args, kwargs = arguments(req["args"]), arguments(req["kwargs"])
    with grad_mode.set_grad_enabled(bool(req["grad"])):
        return describe(fn(*args, **kwargs))


def serve_vjp(module, req):
    """sum(weight * r), r the index-th gradient backward returns, differentiated by
    the engine with respect to each Tensor argument that requires grad."""
    import minigan
    from minigan.tensor import Tensor
    fn = getattr(module, req["function"])
    args, kwargs = arguments(req["args"]), arguments(req["kwargs"])
    with minigan.enable_grad():
        result = fn(*args, **kwargs)
        items = result if isinstance(result, (tuple, list)) else (result,)
        r = items[req["index"]]
        wanted = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        if not isinstance(r, Tensor) or not r.requires_grad or not wanted:
            return [None] * len(args)
        grads = iter(minigan.grad(r, wanted, Tensor(req["weight"]), allow_unused=True))
    out = [next(grads) if isinstance(a, Tensor) and a.requires_grad else None for a in args]
    return [None if g is None else g.data for g in out]


def student_op(module):
    """The student's forward and backward as one op of the engine (softplus)."""
    import numpy as np
    from minigan.autograd import make_op
    from minigan.tensor import Tensor

    def op(x):
        data = np.asarray(module.forward(x.data), dtype=np.float64)

        def backward(g, out):
            r = module.backward(g, x, out)
            if isinstance(r, (tuple, list)) and len(r) == 1:
                r = r[0]
            if not isinstance(r, Tensor):
                r = Tensor(np.asarray(r, dtype=np.float64))
            if r.shape != x.shape:
                raise ValueError(f"backward returned dL/dx of shape {r.shape}, but x has "
                                 f"shape {x.shape}")
            return (r,)
        return make_op(data, (x,), backward, "softplus (yours)")
    return op


def serve_penalty(module, req):
    import minigan
    import minigan.functional as F
    from minigan.tensor import Tensor
    W1, b1, w2 = (minigan.tensor(a, requires_grad=True) for a in req["weights"])
    real, fake, eps = (minigan.tensor(req[k]) for k in ("real", "fake", "eps"))
    softplus = student_op(module) if req["softplus"] == "yours" else F.softplus

    def critic(x):
        return softplus(F.linear(x, W1, b1)) @ w2
    with minigan.enable_grad():
        pen = module.gradient_penalty(critic, real, fake, eps, req["lam"])
        grads = None
        if isinstance(pen, Tensor) and pen.requires_grad and pen.size == 1:
            grads = [None if g is None else g.data for g in
                     minigan.grad(pen, [W1, b1, w2], allow_unused=True)]
    return {"penalty": describe(pen), "grads": grads}


SERVE = {"call": serve_call, "vjp": serve_vjp, "penalty": serve_penalty}


def answer(module, req, path):
    """Run one request under the timer and the warnings' record; the reply."""
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if hasattr(signal, "setitimer"):
                signal.setitimer(signal.ITIMER_REAL, max(float(req["seconds"]), 1e-3))
            try:
                reply = {"kind": "value", "value": SERVE[req["kind"]](module, req)}
            finally:
                if hasattr(signal, "setitimer"):
                    signal.setitimer(signal.ITIMER_REAL, 0)
    except ExerciseTimeout as e:
        return timeout_reply(e, path)
    except BaseException as e:                  # anything the student's code raised
        reply = error_reply(e, path)
    reply["warning"] = warning_note(caught)
    return reply


def warning_note(caught):
    """NumPy's first runtime warning (an overflow, a division by zero), if there was one."""
    for w in caught:
        if issubclass(w.category, RuntimeWarning):
            return f"NumPy warned: {w.message} ({short(w.filename)}, line {w.lineno})"
    return None


def load(path, seconds):
    """The student's file as a module of its own (never put on sys.path); the reply."""
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            name = "minigan_exercise_" + os.path.splitext(os.path.basename(path))[0]
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
    except ExerciseTimeout as e:
        return None, timeout_reply(e, path)
    except BaseException as e:                  # SyntaxError, an import error, sys.exit() ...
        return None, error_reply(e, path)
    finally:
        if hasattr(signal, "setitimer"):
            signal.setitimer(signal.ITIMER_REAL, 0)
    names = sorted(n for n in dir(module) if not n.startswith("_")
                   and callable(getattr(module, n, None)))
    return module, {"kind": "loaded", "callables": names}


# ------------------------------------------------------------ the loop
def main(argv):
    path, lib, seconds, sites = argv[1], argv[2], float(argv[3]), argv[4:]
    here = os.path.dirname(os.path.abspath(__file__))
    # the replies get private copies of the pipes; the student's prints go nowhere
    requests, replies = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    sys.stdin, sys.stdout = open(os.devnull), open(os.devnull, "w")
    sys.path[:] = [lib] + [p for p in sys.path if p and os.path.abspath(p) != here] + sites
    sys.path.insert(0, here)
    import wire                                 # this folder's copy
    del sys.path[0]
    import minigan                              # noqa: F401  (the view of the package)
    if hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, _on_alarm)

    def send(message):
        data = wire.encode(message)
        while data:
            data = data[os.write(replies, data):]

    def read_exact(n):
        chunks = []
        while n:
            chunk = os.read(requests, n)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    send({"kind": "ready"})                     # from here on, the student's code runs
    module, reply = load(path, seconds)
    send(reply)
    if module is None:
        return 0
    while True:
        try:
            req = wire.decode(read_exact)
        except EOFError:                        # the grader is done with this file
            return 0
        reply = answer(module, req, path)
        try:
            send(reply)
        except wire.WireError as e:             # e.g. an array of strings
            send({"kind": "raised", "type": "TypeError", "message": str(e), "stub": False,
                  "text": f"your function returned something the grader cannot read: {e}",
                  "function": "", "warning": None})


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Checkpoints: ``minigan.save(obj, path)`` and ``minigan.load(path)``.

What can be saved: (nested) dicts with string keys whose values are arrays
(NumPy or CuPy), Tensors, Python numbers, strings, booleans, None, and lists or
tuples (of numbers, or of any of these), e.g.::

    minigan.save({"G": G.state_dict(), "D": D.state_dict(),
                  "opt_g": opt_g.state_dict(), "step": 100}, "runs/ckpt.npz")
    ckpt = minigan.load("runs/ckpt.npz")
    G.load_state_dict(ckpt["G"])

The file is an ordinary ``.npz`` (a zip of ``.npy`` arrays): the nested keys are
joined with "/" ("G/0.weight", "opt_g/state/0/exp_avg"), so ``numpy.load`` can
read it too. One extra entry, ``__minigan__``, holds a JSON description of the
structure (which entries were numbers, strings, lists, None), so ``load`` gives
back the same nested structure, with numpy arrays for arrays and Tensors and
Python values for the rest: the same characters in a string, the same int or
float in a list. What a checkpoint cannot hold exactly (an int beyond 64 bits,
a key with '/' or a NUL character in it, nesting deeper than ``MAX_DEPTH``) is refused
when saving, with its key path named.

Safety, because a checkpoint may come from anywhere:

* reading uses ``allow_pickle=False``: a file that carries a pickled Python
  object is refused, and nothing in it is ever run;
* writing goes to a temporary file in the same folder that is then renamed over
  the target (``os.replace``, atomic), so a crash mid-write never leaves half a
  checkpoint where a good one was (``atomic_file``; ``atomic_write`` writes any
  file that way, and metrics.json, the exercise verdicts and the class CSV use it);
* a process killed mid-write (``kill -9``, a power cut) leaves its temporary file
  behind, named ``.<target name>.<8 random characters>.tmp``; the next ``save`` or
  ``load`` of that target removes such leftovers. Only names of exactly that form
  are touched, and never one that a running save is still writing (the writer
  holds a lock on its file while it writes).
"""
import contextlib
import errno
import hashlib
import json
import os
import re
import tempfile
import zipfile

try:
    import fcntl               # POSIX: file locks tell a live writer from a leftover
except ImportError:            # Windows: an open file cannot be deleted anyway
    fcntl = None

import numpy

from . import backend
from .tensor import Tensor

MANIFEST = "__minigan__"
# dicts and lists inside one another, at most: a state_dict is 3 or 4 deep; deeper is
# a mistake (a structure that holds itself) or, in a file, a description crafted to
# exhaust the stack
MAX_DEPTH = 100
INT64 = (-2 ** 63, 2 ** 63 - 1)    # the integers an int64 entry holds
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")      # a zip with entries, an empty zip


class CheckpointError(ValueError):
    """A file that is not a readable minigan checkpoint (truncated, not .npz, unsafe)."""


# -------------------------------------------------------------------- save
def _flatten(obj, path, arrays):
    """Walk obj; put arrays into `arrays` under "/"-joined keys; return the structure node.

    Every value comes back from ``load`` as it went in: a string with all its
    characters, an int as an int and a float as a float, even side by side in one
    list. What cannot (an int beyond 64 bits, a key the zip format would cut, a
    structure deeper than MAX_DEPTH) is refused with a sentence naming its key path."""
    key = "/".join(path)
    if len(path) > MAX_DEPTH:
        raise ValueError(f"save: {_shown(path)} is nested more than {MAX_DEPTH} dicts and "
                         f"lists deep, more than a checkpoint holds (does a dict or list "
                         f"contain itself?)")
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, str) or not k or "/" in k or "\x00" in k:
                raise TypeError(f"save: dictionary keys must be non-empty strings without '/' "
                                f"or '\\x00', got {k!r} at {key or 'the top level'}")
            if not path and k == MANIFEST:
                raise ValueError(f"save: the top-level key {MANIFEST!r} is reserved")
            items.append([k, _flatten(v, path + [k], arrays)])
        return {"t": "dict", "items": items}
    if obj is None:
        return {"t": "none"}
    if isinstance(obj, (bool, numpy.bool_)):
        arrays[key] = numpy.asarray(bool(obj))
        return {"t": "bool", "k": key}
    if isinstance(obj, (int, numpy.integer)):
        if not INT64[0] <= obj <= INT64[1]:
            raise ValueError(f"save: {_shown(path)} is the integer {obj}, outside the 64-bit "
                             f"range a checkpoint stores ({INT64[0]} to {INT64[1]}); store it "
                             f"as a string, str(n), and turn it back with int()")
        arrays[key] = numpy.asarray(int(obj), dtype=numpy.int64)
        return {"t": "int", "k": key}
    if isinstance(obj, (float, numpy.floating)):
        arrays[key] = numpy.asarray(float(obj), dtype=numpy.float64)
        return {"t": "float", "k": key}
    if isinstance(obj, str):
        # NumPy's strings drop trailing NUL characters ("a\x00" reads back "a"):
        # the length, kept beside, gives them back
        arrays[key] = numpy.asarray(obj, dtype=str)
        return {"t": "str", "k": key, "n": len(obj)}
    if isinstance(obj, Tensor):
        obj = obj.data
    if hasattr(obj, "dtype") and hasattr(obj, "shape"):          # numpy or cupy array
        a = backend.to_numpy(obj)
        if a.dtype.hasobject:
            raise TypeError(f"save: '{key}' is an array of Python objects, which could only be "
                            f"stored by pickling; convert it to numbers first")
        arrays[key] = a
        return {"t": "array", "k": key}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        # one array for a list of ints (that fit 64 bits) or of floats; a mixed list item
        # by item, so that [1, 2.5] does not come back as [1.0, 2.5]
        ints = all(isinstance(v, int) and not isinstance(v, bool) and INT64[0] <= v <= INT64[1]
                   for v in obj)
        if obj and (ints or all(isinstance(v, float) for v in obj)):
            arrays[key] = numpy.asarray(obj, dtype=numpy.int64 if ints else numpy.float64)
            return {"t": kind, "k": key}
        return {"t": kind, "items": [_flatten(v, path + [str(i)], arrays)
                                     for i, v in enumerate(obj)]}
    where = f"'{key}'" if key else "the object"
    if hasattr(obj, "state_dict"):          # a model or optimizer itself
        raise TypeError(f"save: cannot store {where}, a {type(obj).__name__}; save its "
                        f"state_dict() instead (and load it back with load_state_dict)")
    raise TypeError(f"save: cannot store {where} of type {type(obj).__name__}; use arrays, "
                    f"Tensors, numbers, strings, booleans, None, lists and dicts")


def _shown(path):
    """A key path for a message: 'G/0.weight', shortened in the middle when long."""
    parts = path if len(path) <= 6 else path[:3] + ["..."] + path[-2:]
    return f"'{'/'.join(parts)}'" if path else "the object"


def save(obj, path):
    """Write `obj` (see the module docstring) to `path` as an .npz file, atomically."""
    arrays = {}
    structure = _flatten(obj, [], arrays)
    arrays[MANIFEST] = numpy.asarray(json.dumps(structure), dtype=str)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, f"save: the folder {folder!r} does not exist, so "
                                f"the checkpoint cannot be written there; create it first, "
                                f"e.g. os.makedirs({folder!r}, exist_ok=True)", path)
    try:
        with atomic_file(path) as f:
            # what numpy.savez does, minus its argument names (a key called 'file' is fine
            # here) and with pickling switched off
            with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
                for k, a in arrays.items():
                    with zf.open(k + ".npy", "w", force_zip64=True) as entry:
                        numpy.lib.format.write_array(entry, a, allow_pickle=False)
    except OSError as e:
        if e.filename != path:
            # name the checkpoint, not the temporary file the user never asked for
            raise type(e)(e.errno, f"save: could not write the checkpoint "
                                   f"({e.strerror or e})", path) from e
        raise


# ------------------------------------------------------------ atomic writes
def sha256_of(path):
    """The SHA-256 of a file's bytes, as hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_sha256(path, expected, what, remedy):
    """Refuse (ValueError) a file whose SHA-256 is not `expected`: the weights minigan
    ships (the judges, the trained DCGAN, its encoder) are the ones every machine
    uses. `what` names the file for the reader, `remedy` says what to do."""
    found = sha256_of(path)
    if found != expected:
        raise ValueError(f"{what} {path} are not the ones minigan ships: SHA-256 {found}, "
                         f"expected {expected}. {remedy}")


def atomic_write(path, data):
    """Write `data` (bytes, or a str, written as UTF-8) to the file `path`, atomically.

    The bytes go to a temporary file beside `path`, reach the disk (flush and
    fsync), and only then does the file take the name `path` (``os.replace``):
    a reader finds the old file or the new one, never half of one, and a crash
    leaves at most a temporary file, which the next write of `path` removes.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_file(path) as f:
        f.write(data)


@contextlib.contextmanager
def atomic_file(path):
    """``with atomic_file(path) as f:`` a binary file to write; when the block ends,
    it becomes `path` as ``atomic_write`` describes (an error in the block leaves
    `path` as it was). For writers that stream, as ``save`` does."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    _remove_leftover_temporaries(path)
    tmp = None
    try:
        fd, tmp = _new_temporary(path, folder)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())                  # on disk before it takes the real name
            if fcntl is not None:
                os.replace(tmp, path)             # while locked: no cleaner takes it first
        if fcntl is None:
            os.replace(tmp, path)                 # Windows renames only closed files
    except BaseException:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _temporary_pattern(path):
    """The names ``save`` gives its temporary files for `path`: ``.<name>.XXXXXXXX.tmp``."""
    return re.compile(r"\." + re.escape(os.path.basename(path)) + r"\.[a-z0-9_]{8}\.tmp")


def _new_file_mode():
    """The permissions ``open()`` gives a new file: 0o666 less the process's umask
    (read once, at import, since reading it means setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


_NEW_FILE_MODE = _new_file_mode()


def _new_temporary(path, folder):
    """Create and lock a temporary file for `path` in `folder`: (file descriptor, name).

    The lock (POSIX) marks the file as being written, so that another process's
    ``_remove_leftover_temporaries`` leaves it alone. In the instant between
    creating and locking, a cleaner may have removed it (nothing links to it any
    more): then take a new one.
    """
    while True:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".",
                                   suffix=".tmp")
        if hasattr(os, "fchmod"):                # mkstemp's 0600: make it what open() gives
            os.fchmod(fd, _NEW_FILE_MODE)
        if fcntl is None:
            return fd, tmp
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)       # waits while a cleaner holds it
        except OSError:                          # a file system without locks: cleaners
            return fd, tmp                       # cannot lock it either, so they skip it
        if os.fstat(fd).st_nlink > 0:
            return fd, tmp
        os.close(fd)


def _remove_leftover_temporaries(path):
    """Remove the temporary files that interrupted saves of `path` left beside it.

    Only files named as ``save`` names its temporaries for this very target, and
    only those no live writer holds locked (POSIX), or that can be deleted at all
    (Windows refuses to delete a file that is open).
    """
    folder = os.path.dirname(os.path.abspath(path))
    pattern = _temporary_pattern(path)
    try:
        names = [e.name for e in os.scandir(folder) if pattern.fullmatch(e.name)]
    except OSError:
        return
    for name in names:
        leftover = os.path.join(folder, name)
        try:
            if fcntl is None:
                os.unlink(leftover)
                continue
            fd = os.open(leftover, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)   # refused: a save is writing it
                os.unlink(leftover)                              # while we hold the lock
            finally:
                os.close(fd)
        except OSError:
            pass           # gone already, being written, or not ours to delete: leave it


# -------------------------------------------------------------------- load
def _read_arrays(path):
    """Every entry of the .npz as a numpy array, or a CheckpointError naming the file."""
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic not in _ZIP_MAGIC:
        raise CheckpointError(f"{path} is not a minigan checkpoint: an .npz (zip) file was "
                              f"expected, but the file does not start like one")
    try:
        with numpy.load(path, allow_pickle=False) as z:
            arrays = {}
            for k in z.files:
                try:
                    arrays[k] = z[k]
                except ValueError as e:
                    if "pickle" in str(e):
                        raise CheckpointError(
                            f"{path}: entry '{k}' holds a pickled Python object; minigan "
                            f"refuses to load it, since unpickling can run arbitrary code"
                        ) from None
                    raise
            return arrays
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as e:
        raise CheckpointError(f"{path} could not be read as a checkpoint (truncated or "
                              f"corrupted?): {type(e).__name__}: {e}") from None


def _build(node, arrays, path, depth=0):
    """Rebuild the object that `_flatten` described."""
    if depth > MAX_DEPTH:
        raise CheckpointError(f"{path}: the checkpoint's description is nested more than "
                              f"{MAX_DEPTH} dicts and lists deep; minigan.save writes none "
                              f"that deep, so the file is refused")
    t = node.get("t")
    if t == "dict":
        return {k: _build(v, arrays, path, depth + 1) for k, v in node["items"]}
    if t == "none":
        return None
    if t in ("list", "tuple"):
        if "k" in node:
            items = _entry(arrays, node["k"], path).tolist()
        else:
            items = [_build(v, arrays, path, depth + 1) for v in node["items"]]
        return items if t == "list" else tuple(items)
    if t == "str" and "n" in node:           # the NULs that NumPy dropped at the end
        text = _entry(arrays, node["k"], path).item()
        return text + "\x00" * (int(node["n"]) - len(text))
    if t in ("bool", "int", "float", "str"):
        return _entry(arrays, node["k"], path).item()
    if t == "array":
        return _entry(arrays, node["k"], path)
    raise CheckpointError(f"{path}: unknown entry type {t!r} in the checkpoint's description")


def _entry(arrays, key, path):
    if key not in arrays:
        raise CheckpointError(f"{path}: the entry '{key}' is missing (a damaged checkpoint?)")
    return arrays[key]


def _nest(arrays):
    """For an .npz written by something else: split keys on '/' into nested dicts."""
    out = {}
    for key, a in arrays.items():
        parts = key.split("/")
        d = out
        for p in parts[:-1]:
            d = d.setdefault(p, {})
        d[parts[-1]] = a.item() if a.ndim == 0 else a
    return out


def load(path):
    """Read a checkpoint written by ``save`` and return the same nested structure
    (arrays as numpy arrays; numbers, strings, booleans, None and lists as Python
    values). A file that is not an .npz, is truncated, or carries pickled objects
    raises ``CheckpointError`` naming the file."""
    path = os.fspath(path)
    _remove_leftover_temporaries(path)
    arrays = _read_arrays(path)
    if MANIFEST not in arrays:
        return _nest(arrays)
    try:
        structure = json.loads(str(arrays.pop(MANIFEST)))
    except ValueError:
        raise CheckpointError(f"{path}: the checkpoint's description ({MANIFEST}) is not "
                              f"valid JSON") from None
    except RecursionError:
        raise CheckpointError(f"{path}: the checkpoint's description ({MANIFEST}) is nested "
                              f"too deeply to read; minigan.save writes none that deep, so the "
                              f"file is refused") from None
    try:
        return _build(structure, arrays, path)
    except (AttributeError, TypeError, KeyError, ValueError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(f"{path}: the checkpoint's description does not match its "
                              f"entries ({type(e).__name__}: {e})") from None

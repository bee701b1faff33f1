"""The grader's pipe protocol: messages of JSON and NumPy arrays, never pickle.

Both sides use it: the grader (``remote.py``) and the student's process
(``student_side.py``, which gets a copy of this file: it imports nothing of
``minigan.exercises``). A message is a structure of dicts (string keys), lists,
tuples, numbers, strings, None and NumPy arrays. On the wire it is

    4 bytes   n, the length of the JSON header (big-endian)
    4 bytes   k, how many arrays follow
    n bytes   the header: the structure as JSON, each array replaced by
              {"__array__": i} and each tuple by {"__tuple__": [...]}
    k times   8 bytes (the length) and an array in ``np.save``'s format

Arrays are read back with ``np.load(..., allow_pickle=False)``, and only
numbers (bool, int, uint, float) are accepted, so reading a message never runs
code from it. Whatever does not fit these rules, or the limits below, is a
``WireError``: the grader turns one into that exercise's "error" state.
"""
import io
import json
import struct

import numpy as np

#: The largest JSON header and the most array bytes a message may hold.
MAX_HEADER = 1 << 20
MAX_ARRAY_BYTES = 32 << 20
MAX_ARRAYS = 256
#: Array dtypes a message may carry: booleans and real numbers.
NUMERIC_KINDS = "biuf"


class WireError(Exception):
    """A message that cannot be read (or written): what was wrong, in one line."""


def encode(message):
    """The bytes of one message (see the module text)."""
    arrays = []

    def walk(value):
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in NUMERIC_KINDS:
                raise WireError(f"an array of dtype {value.dtype} cannot be sent")
            arrays.append(value)
            return {"__array__": len(arrays) - 1}
        if isinstance(value, tuple):
            return {"__tuple__": [walk(v) for v in value]}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise WireError("a dict with keys that are not strings cannot be sent")
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, (np.bool_, np.integer, np.floating)):
            return value.item()
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise WireError(f"a {type(value).__name__} cannot be sent")

    header = json.dumps(walk(message)).encode("utf-8")
    parts = [struct.pack(">II", len(header), len(arrays)), header]
    for a in arrays:
        buf = io.BytesIO()
        np.save(buf, a, allow_pickle=False)
        data = buf.getvalue()
        parts += [struct.pack(">Q", len(data)), data]
    return b"".join(parts)


def decode(read_exact):
    """Read one message with ``read_exact(n)`` (exactly n bytes, or raise). Returns
    the structure; raises WireError for anything malformed."""
    n, k = struct.unpack(">II", read_exact(8))
    if n == 0:
        raise WireError("an empty message (no header)")
    if n > MAX_HEADER or k > MAX_ARRAYS:
        raise WireError(f"a message of {n} header bytes and {k} arrays, over the limits "
                        f"({MAX_HEADER} bytes, {MAX_ARRAYS} arrays)")
    try:
        structure = json.loads(read_exact(n).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise WireError(f"a message whose header is not JSON ({type(e).__name__}: "
                        f"{str(e)[:200]})") from None
    arrays, total = [], 0
    for _ in range(k):
        (size,) = struct.unpack(">Q", read_exact(8))
        total += size
        if total > MAX_ARRAY_BYTES:
            raise WireError(f"a message with more than {MAX_ARRAY_BYTES} bytes of arrays")
        try:
            a = np.load(io.BytesIO(read_exact(size)), allow_pickle=False)
        except Exception as e:          # a corrupt .npy, or an object array (pickle refused)
            raise WireError(f"an array that cannot be read ({type(e).__name__}: {e})") from None
        if not isinstance(a, np.ndarray) or a.dtype.kind not in NUMERIC_KINDS:
            raise WireError(f"an array of dtype {getattr(a, 'dtype', type(a).__name__)}, "
                            f"not numbers")
        arrays.append(a)

    def walk(value):
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            if set(value) == {"__array__"}:
                i = value["__array__"]
                if not isinstance(i, int) or not 0 <= i < len(arrays):
                    raise WireError(f"a reference to array {i!r} of {len(arrays)}")
                return arrays[i]
            if set(value) == {"__tuple__"} and isinstance(value["__tuple__"], list):
                return tuple(walk(v) for v in value["__tuple__"])
            return {k: walk(v) for k, v in value.items()}
        return value

    try:
        return walk(structure)
    except RecursionError:
        raise WireError("a message nested too deeply") from None

"""MNIST from its four original IDX files: where they are, whether they are right, reading them.

MNIST (LeCun, Cortes and Burges) is 70,000 handwritten digits, 28 x 28 grayscale,
split into 60,000 training and 10,000 test examples. It comes as four files::

    train-images-idx3-ubyte.gz   train-labels-idx1-ubyte.gz     (the "train" split)
    t10k-images-idx3-ubyte.gz    t10k-labels-idx1-ubyte.gz      (the "test" split)

gzipped or not (both are read: for each NAME we look for ``NAME.gz``, then ``NAME``).

**Where they are looked for**, in this order:

1. the folder given as ``data_dir`` (the lab's ``--data-dir``);
2. else the folder in the environment variable ``MINIGAN_DATA``;
3. else a per-user cache, ``$XDG_CACHE_HOME/minigan/mnist`` (``~/.cache/minigan/mnist``).

In a folder you name (1 or 2) the files may lie in the folder itself or in its
``mnist/`` subfolder. Only the cache is ever downloaded into: a folder you named
that lacks the files is an error that says what is missing and where to get it,
because writing into your folders behind your back would be rude.

**Whether they are right.** A ``.gz`` file must have exactly the size and SHA-256
of the original distribution (``CHECKSUMS``). An uncompressed file has no published
checksum, so its IDX header and its exact length are checked instead. A file that
fails gets an error naming it, what was expected and what was found.

**Downloading** (into the cache only) tries the mirrors in ``MIRRORS`` in turn. Each
file goes to a temporary file in the cache folder, its size and SHA-256 are checked
while it arrives, and only a correct file is renamed into place; on any failure,
Ctrl-C included, the temporary file is removed. So the cache only ever holds
complete, verified files.

**The IDX format** (after gunzip) is big-endian: a 4-byte magic ``00 00 08 ndims``
(0x08 means unsigned bytes; 2051 for images, 2049 for labels), then ``ndims``
4-byte sizes (N, 28, 28 for images; N for labels), then the bytes in C order.

``load(split)`` returns float32 images ``pixel / 127.5 - 1`` in [-1, 1] of shape
(N, 1, 28, 28) (NCHW, one channel) and int64 labels (N,). The arrays are kept
for the rest of the process (a second call costs nothing) and are read-only, so
that no caller can change what the next one gets: take ``.copy()`` to edit them.
"""
import functools
import gzip
import hashlib
import http.client
import os
import pathlib
import urllib.error
import urllib.request

import numpy
from tqdm.auto import tqdm

# A temporary file that is locked while it is written and renamed into place when
# complete: the checkpoints' way of never leaving half a file (minigan.serialization).
from ..serialization import _new_temporary, _remove_leftover_temporaries, fcntl

# split -> (images file, labels file, number of examples)
SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60000),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10000),
}

# the original .gz files: name -> (size in bytes, SHA-256)
CHECKSUMS = {
    "train-images-idx3-ubyte.gz":
        (9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    "train-labels-idx1-ubyte.gz":
        (28881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    "t10k-images-idx3-ubyte.gz":
        (1648877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    "t10k-labels-idx1-ubyte.gz":
        (4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
}

# where the .gz files can be downloaded from, tried in turn (the checksum is what
# makes a mirror trustworthy, so a plain-http one is fine)
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]

CACHE_DIR = None     # None: $XDG_CACHE_HOME/minigan/mnist or ~/.cache/minigan/mnist
TIMEOUT = 30         # seconds a mirror may stay silent before we try the next one
ENV_VAR = "MINIGAN_DATA"

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049     # 0x00000803, 0x00000801
ROWS = COLS = 28


class MNISTError(Exception):
    """Something is wrong with the MNIST files; the message says what and how to fix it."""


class MNISTNotFoundError(MNISTError, FileNotFoundError):
    """A folder that was named (data_dir or $MINIGAN_DATA) lacks MNIST files."""


class CorruptMNISTError(MNISTError, ValueError):
    """An MNIST file is there but is not right: truncated, corrupted, or another file."""


class DownloadError(MNISTError, RuntimeError):
    """No mirror gave a correct copy of an MNIST file."""


# ------------------------------------------------------------------ where
def cache_dir():
    """The per-user cache: ``CACHE_DIR`` if set, else $XDG_CACHE_HOME/minigan/mnist,
    else ~/.cache/minigan/mnist."""
    if CACHE_DIR is not None:
        return pathlib.Path(CACHE_DIR)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "minigan" / "mnist"


def _check_split(split):
    if split not in SPLITS:
        valid = " and ".join(f"'{s}' ({n:,} examples)" for s, (_, _, n) in SPLITS.items())
        raise ValueError(f"MNIST has no split {split!r}; the splits are {valid}")
    return SPLITS[split]


def _find(folder, name):
    """folder/NAME.gz if it is there, else folder/NAME, else None."""
    for candidate in (folder / (name + ".gz"), folder / name):
        if candidate.is_file():
            return candidate
    return None


def _where_named(data_dir):
    """(folder, how it was named) for a folder the user named, or (None, None)."""
    if data_dir is not None:
        return pathlib.Path(data_dir).expanduser(), f"data_dir={os.fspath(data_dir)!r}"
    if os.environ.get(ENV_VAR):
        return pathlib.Path(os.environ[ENV_VAR]).expanduser(), f"${ENV_VAR}"
    return None, None


def _how_to_get(names):
    gz = ", ".join(n + ".gz" for n in names)
    what = f"the original file {gz}" if len(names) == 1 else f"the original files ({gz})"
    return (f"{what} can be downloaded from "
            f"{' or '.join(MIRRORS) if MIRRORS else 'any MNIST mirror'} "
            f"(their sizes and SHA-256 are in minigan.data.mnist_files.CHECKSUMS)")


def _not_found(folder, how, split, names, candidates):
    """The error for a named folder without the files: what is missing, and the ways out."""
    if not folder.is_dir():
        what = f"the folder {folder} (from {how}) does not exist"
    else:
        # report the candidate (folder or folder/mnist) that holds the most files
        best = max(candidates, key=lambda c: sum(_find(c, n) is not None for n in names))
        missing = [n for n in names if _find(best, n) is None]
        what = (f"the folder {best} (from {how}) lacks the {split} split's "
                f"{'file' if len(missing) == 1 else 'files'} "
                + ", ".join(f"{n}.gz (or {n} uncompressed)" for n in missing))
        renamed = [c / n.replace("-idx", ".idx") for c in candidates for n in missing
                   if (c / n.replace("-idx", ".idx")).is_file()]
        if renamed:   # what gunzip -N, 7-Zip or macOS make of the original .gz files
            what += (f" (found {', '.join(str(r) for r in renamed)}: an archive tool took "
                     f"the name stored inside the .gz; rename it with '-idx' for '.idx')")
    cache = cache_dir()
    unset = ("unset MINIGAN_DATA" if how.startswith("$") else "leave out data_dir (--data-dir)"
             + (" and unset MINIGAN_DATA" if os.environ.get(ENV_VAR) else ""))
    return MNISTNotFoundError(
        f"MNIST: {what}. Put the files there (gzipped or not; in the folder itself or in "
        f"its mnist/ subfolder): {_how_to_get(names)}. Or {unset} to use the per-user "
        f"cache {cache}, which minigan fills by downloading them, checksums checked.")


def locate(split, data_dir=None, download=True, progress=True):
    """The paths of the split's two files, ``(images_path, labels_path)``.

    Looks in data_dir, else $MINIGAN_DATA, else the cache (see the module docstring);
    downloads into the cache what it lacks (``download=False``: an error instead).
    """
    images_name, labels_name, _ = _check_split(split)
    names = (images_name, labels_name)
    folder, how = _where_named(data_dir)
    if folder is not None:
        candidates = [folder, folder / "mnist"]
        for c in candidates:
            found = [_find(c, n) for n in names]
            if all(found):
                return tuple(found)
        raise _not_found(folder, how, split, names, candidates)
    cache = cache_dir()
    found = [_find(cache, n) for n in names]
    missing = [n for n, f in zip(names, found) if f is None]
    if missing and not download:
        raise MNISTNotFoundError(
            f"MNIST: the cache {cache} lacks {', '.join(n + '.gz' for n in missing)} and "
            f"download=False; {_how_to_get(names)}, or set MINIGAN_DATA to a folder that "
            f"holds them")
    if missing:
        download_mnist(cache, names=missing, progress=progress)
        found = [_find(cache, n) for n in names]
    return tuple(found)


# --------------------------------------------------------- right or wrong
def _advice(path):
    """How to replace a bad file: the cache's way or a named folder's way."""
    name = path.name if path.name.endswith(".gz") else path.name + ".gz"
    if path.parent.resolve() == cache_dir().resolve():
        return (f"Delete it and minigan downloads it again (it is in minigan's cache), or "
                f"put a correct copy there: {_how_to_get([name[:-3]])}.")
    return f"Put a correct copy in {path.parent}: {_how_to_get([name[:-3]])}."


def _read_gz(path):
    """The decompressed bytes of an original .gz file, after checking its size and SHA-256."""
    size, sha256 = CHECKSUMS[path.name]
    blob = path.read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if len(blob) != size or digest != sha256:
        why = ("it is truncated or incomplete" if len(blob) < size else
               "it is longer than the original" if len(blob) > size else
               "its bytes differ from the original (corrupted, or another file)")
        raise CorruptMNISTError(
            f"MNIST: {path} is not the original {path.name}: expected {size:,} bytes with "
            f"SHA-256 {sha256}, found {len(blob):,} bytes with SHA-256 {digest}; {why}. "
            f"{_advice(path)}")
    try:
        return gzip.decompress(blob)
    except (OSError, EOFError) as e:      # cannot happen with the checksum right; be sure
        raise CorruptMNISTError(f"MNIST: {path} does not decompress ({e}). {_advice(path)}")


def _parse_idx(raw, path, magic, dims):
    """The uint8 array of an IDX file's bytes, after checking its magic, sizes and length.

    ``magic`` is 2051 (images) or 2049 (labels); ``dims`` the expected sizes.
    """
    header = 4 + 4 * len(dims)
    expected_len = header + int(numpy.prod(dims))
    what = (f"an IDX file with magic {magic} (bytes 00 00 08 {len(dims):02x}) and sizes "
            f"{' x '.join(map(str, dims))}, {expected_len:,} bytes in all")
    if len(raw) >= header:
        found_magic = int.from_bytes(raw[:4], "big")
        found_dims = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big")
                           for i in range(len(dims)))
        if found_magic != magic or found_dims != tuple(dims):
            raise CorruptMNISTError(
                f"MNIST: {path} is not the expected file: expected {what}; found magic "
                f"{found_magic} (bytes {raw[:4].hex(' ')}) and sizes "
                f"{' x '.join(map(str, found_dims))}. {_advice(path)}")
    if len(raw) != expected_len:
        cut = "truncated" if len(raw) < expected_len else "longer than it should be"
        raise CorruptMNISTError(
            f"MNIST: {path} is {cut}: expected {what}; found {len(raw):,} bytes. "
            f"{_advice(path)}")
    return numpy.frombuffer(raw, dtype=numpy.uint8, offset=header).reshape(dims)


def read_idx(path, magic, dims):
    """Read and check one IDX file, gzipped (size and SHA-256 checked) or not (header and
    length checked); returns its uint8 array of shape ``dims``."""
    path = pathlib.Path(path)
    if path.suffix == ".gz":
        if path.name not in CHECKSUMS:
            raise CorruptMNISTError(f"MNIST: {path.name} is not one of the four MNIST files "
                                    f"({', '.join(CHECKSUMS)})")
        raw = _read_gz(path)
    else:
        raw = path.read_bytes()
    return _parse_idx(raw, path, magic, dims)


# ---------------------------------------------------------------- reading
def load(split, data_dir=None, download=True, progress=True):
    """(images, labels) of a split: images float32 ``pixel / 127.5 - 1`` in [-1, 1],
    shape (N, 1, 28, 28); labels int64 (N,). Read-only arrays, kept for the process."""
    paths = locate(split, data_dir, download=download, progress=progress)
    # the key names the files and their size and time stamp: a replaced file is re-read
    key = tuple((os.fspath(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns)
                for p in paths)
    return _load_files(split, key)


@functools.lru_cache(maxsize=4)
def _load_files(split, key):
    (images_path, _, _), (labels_path, _, _) = key
    n = SPLITS[split][2]
    pixels = read_idx(images_path, IMAGES_MAGIC, (n, ROWS, COLS))
    labels = read_idx(labels_path, LABELS_MAGIC, (n,))
    if labels.max() > 9:
        raise CorruptMNISTError(f"MNIST: {labels_path} holds labels up to {labels.max()}; "
                                f"digits are 0-9. {_advice(pathlib.Path(labels_path))}")
    # x = pixel / 127.5 - 1 maps 0..255 onto [-1, 1], the range of a tanh generator
    images = pixels.reshape(n, 1, ROWS, COLS).astype(numpy.float32) / numpy.float32(127.5)
    images -= numpy.float32(1.0)
    labels = labels.astype(numpy.int64)
    images.flags.writeable = False     # shared by every caller in this process
    labels.flags.writeable = False
    return images, labels


def clear_cache():
    """Forget the arrays read so far in this process (the next ``load`` reads the files)."""
    _load_files.cache_clear()


# ------------------------------------------------------------ downloading
class _BadDownload(Exception):
    """A mirror answered, but not with the right bytes."""


def _describe(e):
    """A failure in a few words: 'HTTP 404 Not Found', 'connection refused', ..."""
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        reason = e.reason
        return getattr(reason, "strerror", None) or str(reason)
    return str(e) or type(e).__name__


def _fetch(url, target, size, sha256, progress, timeout):
    """Download url into target through a locked temporary file beside it, checking the
    size and SHA-256 as the bytes arrive; the temporary is removed on any failure."""
    _remove_leftover_temporaries(os.fspath(target))    # what a killed download left
    fd, tmp = _new_temporary(os.fspath(target), os.fspath(target.parent))
    try:
        digest, got = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as f:
            with urllib.request.urlopen(url, timeout=timeout) as response, \
                    tqdm(total=size, unit="B", unit_scale=True, desc=target.name,
                         disable=not progress, leave=False) as bar:
                while True:
                    chunk = response.read(1 << 16)
                    if not chunk:
                        break
                    got += len(chunk)
                    if got > size:
                        raise _BadDownload(f"it sent more than the expected {size:,} bytes "
                                           f"(not the original file)")
                    digest.update(chunk)
                    f.write(chunk)
                    bar.update(len(chunk))
            if got != size:
                raise _BadDownload(f"expected {size:,} bytes, received {got:,} "
                                   f"(the download was cut off, or it is another file)")
            if digest.hexdigest() != sha256:
                raise _BadDownload(f"checksum mismatch: expected SHA-256 {sha256}, "
                                   f"got {digest.hexdigest()}")
            f.flush()
            os.fsync(f.fileno())
            if fcntl is not None:
                os.replace(tmp, target)        # while locked: no cleaner removes it first
        if fcntl is None:
            os.replace(tmp, target)            # Windows renames only closed files
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def download_mnist(dest=None, names=None, mirrors=None, progress=True, timeout=None):
    """Download MNIST's .gz files into ``dest`` (default: the cache), verified.

    ``names``: which files (default all four; with or without ``.gz``); a file already
    there with the right checksum is kept. ``mirrors``: base URLs tried in turn for each
    file (default ``MIRRORS``). Returns the paths. If no mirror gives a correct copy,
    DownloadError lists each mirror's failure; nothing half-downloaded stays behind.
    """
    dest = pathlib.Path(cache_dir() if dest is None else dest)
    mirrors = list(MIRRORS if mirrors is None else mirrors)
    timeout = TIMEOUT if timeout is None else timeout
    names = list(CHECKSUMS) if names is None else [n if n.endswith(".gz") else n + ".gz"
                                                    for n in names]
    for name in names:
        if name not in CHECKSUMS:
            raise ValueError(f"download_mnist: {name!r} is not an MNIST file; the files "
                             f"are {', '.join(CHECKSUMS)}")
    dest.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        size, sha256 = CHECKSUMS[name]
        target = dest / name
        paths.append(target)
        if target.is_file() and target.stat().st_size == size and \
                hashlib.sha256(target.read_bytes()).hexdigest() == sha256:
            continue
        failures = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            try:
                _fetch(url, target, size, sha256, progress, timeout)
                break
            except (_BadDownload, OSError, http.client.HTTPException, ValueError) as e:
                failures.append(f"  {url}: {_describe(e)}")
        else:
            tried = "\n".join(failures) if failures else "  (no mirrors were given)"
            raise DownloadError(
                f"MNIST: could not download {name} into {dest}; every mirror failed:\n"
                f"{tried}\nNothing half-downloaded was left there. To place the files by "
                f"hand: get the four files ({', '.join(CHECKSUMS)}; sizes and SHA-256 in "
                f"minigan.data.mnist_files.CHECKSUMS) from any of these mirrors or a copy you "
                f"trust, put them in one folder, and point minigan at it with "
                f"MINIGAN_DATA=/that/folder or data_dir='/that/folder' (--data-dir in the "
                f"lab), or put them into the cache {cache_dir()}.")
    return paths


def mnist(split, data_dir=None):
    """MNIST as arrays: ``(images, labels)`` of the ``split`` "train" (60,000) or "test" (10,000).

    images: float32, shape (N, 1, 28, 28) (NCHW, one channel), ``pixel / 127.5 - 1``,
    so 0..255 becomes [-1, 1], the range of a generator whose last layer is tanh.
    labels: int64, shape (N,), the digits 0-9.

    The four original IDX files are read from ``data_dir`` if given, else from the
    folder in $MINIGAN_DATA, else from a per-user cache (~/.cache/minigan/mnist),
    which is filled by downloading them, checksums checked (``minigan.data.mnist_files``
    tells the whole story). The arrays are NumPy arrays on the host, read-only and
    kept for the rest of the process: a second call is free. ``Batches`` and
    ``sampler`` turn them into Tensors on a device, a batch at a time.
    """
    return load(split, data_dir)

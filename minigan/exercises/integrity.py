"""The installed package's fingerprint: no student's code may change the grader.

A student's code runs with the grader's permissions, so it could rewrite
minigan's own files: the checks, the optimizer Adam's step is compared with,
the engine. The grader already holds its modules in memory, but every student
graded after, and the next run, would meet the changed files. So the grader
takes the SHA-256 digest of every file of the package (``baseline``: once per
process, at the first grading, before any student's code has run) and, before
a class is graded and after each student, hashes them again
(``Manifest.changes``): a file changed, added or removed names the student
after whom it changed. The digests live only in the grader's memory, where a
student's process cannot reach them.

Left out: ``__pycache__`` folders (Python writes those itself, and the
student's processes run with -B, so they write none). A student who poisons a
cached .pyc could still reach the next run's grader: real isolation takes
another user account or a container (docs/teaching.md says so).
"""
import hashlib
import os
import pathlib
from dataclasses import dataclass

#: The installed package: the folder that holds minigan/__init__.py.
PACKAGE = pathlib.Path(__file__).resolve().parents[1]
SKIPPED_FOLDERS = ("__pycache__",)

_BASELINES = {}


@dataclass(frozen=True)
class Change:
    """One file of the package that is not as the grader found it."""
    path: str                 # relative to the package, with / (exercises/checks.py)
    what: str                 # "changed", "added" or "removed"

    def __str__(self):
        return f"minigan/{self.path} ({self.what})"


def _digest(path):
    if os.path.islink(path):                  # a link is recorded by where it points
        return "link to " + os.readlink(path)
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError as e:
        return f"unreadable ({e.strerror})"
    return h.hexdigest()


class Manifest:
    """The digest of every file under `root` (but the SKIPPED_FOLDERS)."""

    def __init__(self, root, digests):
        self.root, self.digests = pathlib.Path(root), dict(digests)

    @classmethod
    def of(cls, root=None):
        root = PACKAGE if root is None else root
        digests = {}
        for folder, subfolders, files in os.walk(root):
            subfolders[:] = [d for d in subfolders if d not in SKIPPED_FOLDERS]
            links = [d for d in subfolders if os.path.islink(os.path.join(folder, d))]
            for name in files + links:           # os.walk does not enter linked folders
                full = os.path.join(folder, name)
                digests[os.path.relpath(full, root).replace(os.sep, "/")] = _digest(full)
        return cls(root, digests)

    def changes(self):
        """[Change] between these digests and the files as they are now."""
        now = Manifest.of(self.root).digests
        out = [Change(p, "removed" if p not in now else "changed")
               for p in sorted(self.digests) if now.get(p) != self.digests[p]]
        out += [Change(p, "added") for p in sorted(set(now) - set(self.digests))]
        return out


def baseline(root=None):
    """The manifest of `root` (the installed package) taken the first time this
    process asked for it."""
    root = PACKAGE if root is None else root
    key = str(pathlib.Path(root).resolve())
    if key not in _BASELINES:
        _BASELINES[key] = Manifest.of(root)
    return _BASELINES[key]


class PackageChanged(Exception):
    """minigan's files changed: before grading (`student` None) or while `student`'s
    code ran. Carries the results graded so far (that student's marked tampered)
    and the students not graded, so that the class's table and CSV can still be
    written for those graded."""

    def __init__(self, changes, student=None, graded=None, not_graded=()):
        self.changes, self.student = list(changes), student
        self.graded, self.not_graded = dict(graded or {}), list(not_graded)
        files = ", ".join(map(str, self.changes))
        if student is None:
            text = (f"minigan's installed files changed since this grader started: {files}. "
                    f"Nothing was graded")
        else:
            text = (f"the class run stopped: minigan's installed files changed while "
                    f"{student}'s exercises were graded: {files}. {student} is marked "
                    f"tampered")
            if self.not_graded:
                text += f"; not graded: {', '.join(self.not_graded)}"
        super().__init__(text + ". Reinstall minigan (its files must be the ones the grader "
                                "started with) and grade again.")

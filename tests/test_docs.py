"""The README is a door, and the pages it opens point at files that exist.

- README.md stays at most 250 lines: the lab reports live in docs/.
- Every repository path written in backticks in README.md, docs/*.md and
  benchmarks/README.md exists: `minigan/...`, `examples/...`, `tests/...`,
  `benchmarks/...`, `docs/...`, and a path inside the package written from
  its folder (`gan/train.py`, `ops/conv.py: conv2d`) as minigan/gan/train.py.
  A bare file name (`optim.py`) must exist somewhere in the repository.
- Every relative Markdown link resolves from the page that holds it.
"""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README_MAX_LINES = 250

PAGES = [ROOT / "README.md", ROOT / "benchmarks" / "README.md",
         *sorted((ROOT / "docs").glob("**/*.md"))]

# the top folders of the repository a path may start with
TOP = ("minigan", "examples", "tests", "benchmarks", "docs")
# files of a student's exercise workspace (docs/teaching.md shows one), not of the repository
WORKSPACE_FILES = {"01_sigmoid.py", "02_tanh.py", "04_broadcast_add.py"}
SKIP_DIRS = {".git", ".venv", "runs", "node_modules", "__pycache__"}


def _package_folders():
    return {p.name for p in (ROOT / "minigan").iterdir() if p.is_dir() and p.name != "__pycache__"}


def _repo_files():
    names = set()
    for p in ROOT.rglob("*"):
        if not SKIP_DIRS & set(p.relative_to(ROOT).parts):
            names.add(p.name)
    return names


def _without_fences(text):
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def code_spans(text):
    """The inline code spans of a Markdown text (fenced blocks left out)."""
    return re.findall(r"`([^`]+)`", _without_fences(text))


def path_candidates(span, package_folders):
    """(token, repository path or None for a bare file name) for each path in a span."""
    out = []
    for token in span.split():
        token = token.split("::")[0].strip("(),;:")
        if token.startswith(("-", "..", "~", "/", "$")) or "=" in token:
            continue
        first = token.split("/")[0]
        if "/" in token:
            if first in TOP:
                out.append((token, token))
            elif first in package_folders:
                out.append((token, "minigan/" + token))
        elif re.fullmatch(r"[\w.-]+\.(py|sh)", token):
            out.append((token, None))
    return out


def test_readme_is_at_most_250_lines():
    n = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert n <= README_MAX_LINES, (
        f"README.md has {n} lines, more than {README_MAX_LINES}: it is a door; move "
        f"reports and details to a page in docs/ and link it")


def test_the_readme_keeps_the_commands_ci_runs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'python -m pip install -e ".[test]" && python -m pytest -q' in text
    assert "python -m pip install -e . && python -m minigan run mog" in text


def test_the_path_finder_finds_paths():
    folders = {"gan", "ops"}
    found = path_candidates("gan/models.py: dcgan_generator", folders)
    assert found == [("gan/models.py", "minigan/gan/models.py")]
    assert path_candidates("tests/test_conv.py::test_x", folders) == \
        [("tests/test_conv.py", "tests/test_conv.py")]
    assert path_candidates("python tests/exercise_solutions/fill.py DIR", folders) == \
        [("tests/exercise_solutions/fill.py", "tests/exercise_solutions/fill.py")]
    assert path_candidates("optim.py", folders) == [("optim.py", None)]
    for not_a_path in ("runs/mog/", "../shared/data/mnist/", "--out/checkpoints/dcgan/",
                       "~/.cache/minigan/mnist", "DIR/checkpoints/RUN/", "--set images=FILE.npy",
                       "minigan.gan.data.mnist(split)"):
        assert path_candidates(not_a_path, folders) == [], not_a_path


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_in_backticks_exists(page):
    folders, files = _package_folders(), _repo_files()
    missing = []
    for span in code_spans(page.read_text(encoding="utf-8")):
        for token, path in path_candidates(span, folders):
            if path is None:
                ok = token in files or token in WORKSPACE_FILES
            else:
                ok = (ROOT / path).exists()
            if not ok:
                missing.append(token)
    assert not missing, f"{page.relative_to(ROOT)} names paths that do not exist: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    text = _without_fences(page.read_text(encoding="utf-8"))
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        if not (page.parent / target.split("#")[0]).exists():
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)} links to missing files: {broken}"


def test_what_quick_takes_is_said_once_and_the_same_everywhere():
    from minigan.experiments import QUICK_TAKES
    for page in (ROOT / "README.md", ROOT / "docs" / "running.md"):
        assert QUICK_TAKES in " ".join(page.read_text(encoding="utf-8").split()), page
    other = re.compile(r"under (a|one|two|2) minutes?", re.I)
    for page in PAGES:
        text = " ".join(page.read_text(encoding="utf-8").split())
        for m in re.finditer(r"--quick`?[^.]{0,80}", text):
            assert not other.search(m.group(0)), f"{page}: {m.group(0)}"

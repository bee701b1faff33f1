"""The house: the library never imports matplotlib; figures are the lab's."""
import pkgutil
import subprocess
import sys

import minigan


def _library_modules():
    names = []
    for info in pkgutil.walk_packages(minigan.__path__, "minigan."):
        if info.name.startswith("minigan.experiments"):
            continue
        names.append(info.name)
    return names


def test_the_library_does_not_import_matplotlib():
    names = _library_modules()
    assert "minigan.gan.train" in names and "minigan.gan.unrolled" in names
    code = ("import importlib, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib')\n"
            "print('matplotlib loaded:', bad[:3]) if bad else print('clean')\n"
            "sys.exit(1 if bad else 0)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_figures_do_import_matplotlib():
    # the check above can fail: the lab's figure modules do load matplotlib
    code = ("import sys, minigan.experiments.figures.style\n"
            "sys.exit(0 if 'matplotlib' in sys.modules else 1)\n")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_the_library_does_not_import_the_lab():
    code = ("import importlib, sys\n"
            f"for name in {_library_modules()!r}:\n"
            "    importlib.import_module(name)\n"
            "sys.exit(1 if any(m.startswith('minigan.experiments') for m in sys.modules) else 0)\n")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0

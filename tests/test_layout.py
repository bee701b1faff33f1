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
    assert {"minigan.gan.step", "minigan.gan.runner", "minigan.gan.tricks.unrolled",
            "minigan.eval.evaluate", "minigan.data.mnist_files", "minigan.lessons.latent",
            "minigan.gan.recipes", "minigan.eval.pixels"} <= set(names)
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


def test_the_gan_core_reads_algorithm_first():
    """gan/step.py holds the algorithm: GANStep.step and its two override points come
    before anything else in the class, and the runner's bookkeeping is elsewhere."""
    import inspect
    from minigan.gan import step, runner
    methods = [n for n, v in vars(step.GANStep).items() if inspect.isfunction(v)]
    assert methods[:4] == ["__init__", "step", "update_discriminator", "update_generator"]
    assert not hasattr(step.GANStep, "fit") and not hasattr(step.GANStep, "save_checkpoint")
    assert issubclass(runner.Trainer, step.GANStep)
    assert len(inspect.getsource(step).splitlines()) < 260

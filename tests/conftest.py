"""Shared fixtures: every test that takes `device` runs on the CPU, and on CuPy
where a GPU is present (skipped cleanly elsewhere)."""
import os

import numpy as np
import pytest

import minigan
from minigan import backend

os.environ.setdefault("MPLBACKEND", "Agg")
# every figure a test draws is checked for texts drawn over each other
os.environ.setdefault("MINIGAN_CHECK_FIGURES", "1")

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not backend.cuda_available(), reason="no CUDA device (CuPy or GPU missing)"))]


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


@pytest.fixture(autouse=True)
def _seed():
    minigan.manual_seed(0)
    np.random.seed(0)


try:
    import torch  # noqa: F401
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False

needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch is not installed")


@pytest.fixture
def torch_one_thread():
    """Reference tests use tiny tensors: torch's thread pool only adds waiting
    (ten times slower on a busy machine), so run torch on one thread."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ------------------------------------------------------------------ MNIST
# Tests read MNIST from the four IDX files beside the project (../shared/data/mnist),
# or from the folder in $MINIGAN_TEST_MNIST; they never download. A test that needs
# MNIST takes the `mnist_dir` fixture (or carries @needs_mnist) and is skipped, with
# the reason, where the files are absent.
def _find_mnist_dir():
    from pathlib import Path
    from minigan.data import mnist_files as mnist_files
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
    root = Path(os.environ.get("MINIGAN_TEST_MNIST") or default)
    for folder in (root, root / "mnist"):
        if all(mnist_files._find(folder, name) is not None
               for images, labels, _ in mnist_files.SPLITS.values() for name in (images, labels)):
            return folder, None
    return None, (f"MNIST's four IDX files are not in {root} (set MINIGAN_TEST_MNIST to a "
                  f"folder that holds them)")


MNIST_DIR, MNIST_MISSING = _find_mnist_dir()
needs_mnist = pytest.mark.skipif(MNIST_DIR is None, reason=MNIST_MISSING or "")


@pytest.fixture
def mnist_dir(monkeypatch):
    """The folder with MNIST's files (skips the test where there is none). It is also put
    in $MINIGAN_DATA for the test, so code that calls data.mnist(split) without a
    data_dir reads it and never downloads."""
    if MNIST_DIR is None:
        pytest.skip(MNIST_MISSING)
    monkeypatch.setenv("MINIGAN_DATA", str(MNIST_DIR))
    return MNIST_DIR

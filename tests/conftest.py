"""Shared fixtures: every test that takes `device` runs on the CPU, and on CuPy
where a GPU is present (skipped cleanly elsewhere)."""
import os

import numpy as np
import pytest

import minigan
from minigan import backend

os.environ.setdefault("MPLBACKEND", "Agg")

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

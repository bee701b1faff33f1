"""The benchmark's workloads (benchmarks/gan_step.py) run, and its PyTorch mirror of
each is the same network: a ratio between two different models would mean nothing."""
import importlib.util
import os

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "gan_step", os.path.join(HERE, "..", "benchmarks", "gan_step.py"))
gan_step = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gan_step)


def test_the_recipe_workload_is_the_dcgan_experiments_step():
    from minigan.experiments.image_gans import RECIPES
    from minigan.gan.recipes import R1_EVERY
    recipe = RECIPES["dcgan-plus"]
    assert gan_step.WORKLOADS["dcgan_recipe"] == recipe.batch_size
    assert (gan_step.RECIPE_LR, gan_step.R1_GAMMA, gan_step.R1_EVERY, gan_step.EMA_DECAY) == \
        (recipe.lr, recipe.r1, R1_EVERY, recipe.average)
    assert "dcgan_recipe" not in gan_step.DEFAULT         # no target: run only when asked


def test_the_recipe_workload_trains_with_its_penalty():
    """The benchmark times the library's own step: the lazy R1 penalty on D updates 0
    and 4 only (every R1_EVERY-th), G's weight average following G."""
    step, sync = gan_step.run_minigan("dcgan_recipe", 4, 0, "cpu")
    records = [step() for _ in range(5)]
    assert [r["penalty"] > 0 for r in records] == [True, False, False, False, True]
    assert all(np.isfinite(r["loss_d"]) and np.isfinite(r["loss_g"]) for r in records)
    assert len({r["loss_g"] for r in records}) == 5       # the weights moved every step


def test_the_dcgan_workload_is_the_experiments_dcgan():
    from minigan.gan import models
    G, D, _, _ = gan_step.minigan_models("dcgan_mnist")
    for ours, theirs in ((G, models.dcgan_generator()), (D, models.dcgan_discriminator())):
        assert [p.shape for p in ours.parameters()] == [p.shape for p in theirs.parameters()]


@pytest.mark.parametrize("name", sorted(gan_step.WORKLOADS))
def test_the_pytorch_mirror_has_the_same_parameters(name):
    pytest.importorskip("torch")
    G, D, zshape, xshape = gan_step.minigan_models(name)
    tG, tD, tz, tx = gan_step.torch_models(name)
    assert (zshape, xshape) == (tz, tx)
    for ours, theirs in ((G, tG), (D, tD)):
        # element counts in order (a Dense stores its weight transposed from nn.Linear's)
        assert [p.data.size for p in ours.parameters()] == \
            [p.numel() for p in theirs.parameters()]


def test_the_pytorch_profile_is_split_by_operator_name():
    from types import SimpleNamespace as E
    spec = importlib.util.spec_from_file_location(
        "profile_step", os.path.join(HERE, "..", "benchmarks", "profile_step.py"))
    profile_step = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(profile_step)
    us = 1e6                                   # the profiler counts microseconds
    events = [E(key="aten::convolution_backward", self_cpu_time_total=5 * us, cpu_time_total=6 * us),
              E(key="aten::mkldnn_convolution", self_cpu_time_total=1 * us, cpu_time_total=1 * us),
              E(key="aten::native_batch_norm", self_cpu_time_total=2 * us, cpu_time_total=2 * us),
              E(key="Optimizer.step#Adam.step", self_cpu_time_total=0.5 * us, cpu_time_total=3 * us),
              E(key="aten::add_", self_cpu_time_total=2.5 * us, cpu_time_total=2.5 * us),
              E(key="aten::_convert_indices", self_cpu_time_total=1 * us, cpu_time_total=1 * us)]
    parts = profile_step.torch_shares(events)
    assert parts["all"] == pytest.approx(12)
    assert (parts["convolutions"], parts["batch norm"], parts["optimizer"]) == (6, 2, 3)
    # the add_ is Adam's own (inside its total); "_convert" is not a convolution
    assert parts["everything else"] == pytest.approx(1)

"""The unrolled GAN: one overridden generator update, and an honest history."""
import numpy as np

from minigan import data
from minigan.experiments import mog_recipes as recipes


def test_unrolled_history_logs_the_norm_of_the_gradient_it_applied():
    # Watch G's optimizer: at each step() record the norm of the gradients it is about
    # to apply, computed here from p.grad, independently of the Trainer's bookkeeping.
    ring = data.ring()
    tr = recipes.make_trainer("unrolled", ring, schedule=recipes.Schedule(batch_size=24, steps=4))
    applied, g_step = [], tr.g_optimizer.step

    def watched_step():
        applied.append(np.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum())
                                   for p in tr.G.parameters())))
        g_step()
    tr.g_optimizer.step = watched_step
    tr.fit(4)
    assert len(applied) == 4                      # one G update per step, none thrown away
    np.testing.assert_allclose(tr.history["grad_norm_g"], applied, rtol=1e-6)
    assert len(set(np.round(applied, 6))) == 4    # four different steps, not one repeated


def test_unrolled_trainer_moves_g_once_per_step():
    # The parent's generator update is replaced, not run and discarded: after one step G
    # has moved by exactly one optimizer step of the gradient that was logged.
    ring = data.ring()
    tr = recipes.make_trainer("unrolled", ring, schedule=recipes.Schedule(batch_size=24, steps=1))
    calls = []
    step = tr.g_optimizer.step
    tr.g_optimizer.step = lambda: (calls.append(1), step())
    tr.step()
    assert calls == [1]
    assert tr.g_optimizer.state and all(s["step"] == 1 for s in tr.g_optimizer.state.values())

"""The generator's weights averaged over training (Yazici et al. 2019, "The Unusual
Effectiveness of Averaging in GAN Training").

G's own weights circle around a good point: the game's gradients rotate (the
bilinear game of the first lecture shows why), and Adam's steps at a large learning
rate add noise. Their running average sits nearer the middle of the circle:

    avg <- decay * avg + (1 - decay) * w          after every step (an EMA)

With decay 0.999 the average spans about the last 1/(1 - decay) = 1,000 steps. Early
in a run the decay is min(decay, (1 + t) / (10 + t)) at step t, so that a short run's
average is not still half made of the initial weights (0.999^700 = 0.5). That cap
reaches 0.999 only at t = 8,991 and 0.9998 at t = 44,991, so in a run of 12,000
steps any decay above about 0.999 acts like 0.999. Only the weights are averaged;
the average is never trained, so training is unchanged.

Batch norm needs one more step: the running statistics G gathered belong to G's own
weights, not to the averaged ones. ``averaged_model`` therefore recomputes them,
running the averaged G in training mode over fresh batches and taking the plain
mean of their statistics (momentum 1/(i + 1) at batch i is exactly that mean).
"""
import copy

from ... import backend
from ..runner import Callback
from ...tensor import no_grad
from ...nn.layers import _BatchNorm


class WeightAverage(Callback):
    """A Trainer callback that keeps the EMA of ``model``'s parameters (``decay``), in
    checkpoints too (a resumed run's average is the same as an unbroken run's)."""

    def __init__(self, model, decay=0.999):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"WeightAverage: decay must be in [0, 1), got {decay}")
        super().__init__(self._update)
        self.model, self.decay = model, float(decay)
        self.average = [p.data.copy() for p in model.parameters()]

    def _update(self, trainer, step):
        d = min(self.decay, (1.0 + step) / (10.0 + step))
        for avg, p in zip(self.average, self.model.parameters()):
            avg *= d                             # in place: no new array per step
            avg += (1.0 - d) * p.data

    def averaged_model(self, sample_inputs, batches=100):
        """A copy of the model with the averaged weights, in eval mode, its batch-norm
        running statistics recomputed over `batches` calls of ``sample_inputs()`` (the
        model's inputs as a tuple, e.g. a training-size batch of noise and classes)."""
        model = copy.deepcopy(self.model)
        for avg, p in zip(self.average, model.parameters()):
            p.data[...] = avg
        norms = [m for m in model.modules() if isinstance(m, _BatchNorm)
                 and m.running_mean is not None]
        if norms and batches < 1:
            raise ValueError("averaged_model: batch norm's statistics need at least one batch")
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
        model.train()
        with no_grad():
            for i in range(batches if norms else 0):
                for m in norms:
                    m.momentum = 1.0 / (i + 1)
                model(*sample_inputs())
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        return model.eval()

    def state_dict(self):
        return {"decay": self.decay, "average": [backend.to_numpy(a) for a in self.average]}

    def load_state_dict(self, state):
        if len(state["average"]) != len(self.average):
            raise ValueError(f"WeightAverage: the checkpoint averages {len(state['average'])} "
                             f"parameters, this model has {len(self.average)}")
        for avg, saved in zip(self.average, state["average"]):
            if tuple(saved.shape) != tuple(avg.shape):
                raise ValueError(f"WeightAverage: a saved average of shape {tuple(saved.shape)} "
                                 f"for a parameter of shape {tuple(avg.shape)}")
            avg[...] = backend.array_module(avg).asarray(saved)
        self.decay = float(state["decay"])

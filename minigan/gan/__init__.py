"""GANs on top of the engine: what each player minimizes, and how they take turns.

Reading order: ``losses`` (the objectives and penalties) -> ``train`` (the
alternating loop of the lecture's algorithm). Beside them: ``games`` (two-player
differentiable games), ``data`` (toy distributions and MNIST), ``metrics`` and
``viz``; import those modules by name (``from minigan.gan import data``).
"""
from . import losses, train  # noqa: F401
from .losses import (LOSSES, GANLoss, get_loss, clip_weights,  # noqa: F401
                     gradient_penalty, r1_penalty)
from .train import Trainer, History, Callback, TrainingDiverged, train_gan  # noqa: F401

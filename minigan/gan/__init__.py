"""GANs on top of the engine: the core a student reads first, then the rest.

The core, in reading order:

* ``losses``: what each player minimizes, and the penalties (WGAN-GP, R1);
* ``step``: one step of the lecture's algorithm (``GANStep``), with its override
  points;
* ``runner``: ``Trainer``, the step run by ``fit``, with history, callbacks,
  checkpoints and Ctrl-C;
* ``models``: the networks (the lecture's MLP GAN, DCGAN, the conditional GAN).

Built on it:

* ``tricks/``: techniques that lift a GAN: the unrolled GAN, G's weights averaged,
  discriminator rejection sampling, Jacobian-based truncation, k-means clusters;
* ``toys/``: two-player games (the bilinear game, Dirac-GAN) and a GAN on the real
  line, where D* and the game's value are exact;
* ``recipes``: an image GAN built and trained from a recipe (its networks, its
  loop's settings, MNIST).

Data is ``minigan.data``, evaluation ``minigan.eval``, the later lessons'
techniques ``minigan.lessons``; recipes' settings and figures are the lab's,
``minigan.experiments``.
"""
from . import losses, step, runner  # noqa: F401
from .losses import (LOSSES, GANLoss, get_loss, clip_weights,  # noqa: F401
                     gradient_penalty, r1_penalty)
from .step import GANStep, TrainingDiverged  # noqa: F401
from .runner import (Trainer, History, Callback, Recorder, CheckpointMismatch,  # noqa: F401
                     TrainingInterrupted, train_gan)

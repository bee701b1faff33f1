"""GANs on top of the engine: the techniques a user imports into their own code.

Reading order:

* ``losses``: what each player minimizes, and the penalties (WGAN-GP, R1);
* ``train``: the alternating loop of the lecture's algorithm (``Trainer``), with
  its override points;
* ``models``: the networks, and PacGAN's packing and the rescaling layer;
* ``unrolled``: the unrolled GAN, a Trainer whose generator looks ahead;
* ``rejection``: discriminator rejection sampling, D* = p_data / (p_data + p_g)
  turned into a filter on G's samples;
* ``averaging``: G's weights averaged over training (an EMA), batch norm's
  statistics recomputed for the average;
* ``truncation``: Jacobian-based truncation, G's samples with the largest
  ||dG/dz|| (drawn between the data's separate pieces) left out;
* ``clusters``: k-means clusters of the training images, classes without labels
  for a conditional model;
* ``data``: toy distributions (mixtures of Gaussians) and noise;
* ``metrics``: mode coverage, high-quality samples, reverse KL;
* ``games``: two-player differentiable games (the bilinear game, Dirac-GAN);
* ``toy1d``: a GAN on the real line, where D* and the game's value are exact.

Import the modules by name (``from minigan.gan import data``). Recipes, settings
and figures are the lab's: ``minigan.experiments``.
"""
from . import losses, train  # noqa: F401
from .losses import (LOSSES, GANLoss, get_loss, clip_weights,  # noqa: F401
                     gradient_penalty, r1_penalty)
from .train import Trainer, History, Callback, TrainingDiverged, train_gan  # noqa: F401

"""The applications lecture, built on the GAN core.

* ``networks``: the U-Net and the encoder-decoder, the ResNet generator, the
  patch discriminator, StarGAN's two-headed discriminator;
* ``translation``: pix2pix (paired), CycleGAN and DiscoGAN (unpaired, a cycle
  back), StarGAN (one generator for k domains): each step written as its
  formulas, and a Trainer for each;
* ``stacked``: StackGAN (text -> 14 x 14 -> 28 x 28): the bag-of-words text encoder,
  conditioning augmentation and its KL term, the two stages' networks and steps.

The domains they translate between are ``minigan.data.domains``; the
experiments that train and score them, ``minigan.experiments.translation``.
"""
from . import networks, translation, stacked  # noqa: F401

"""The applications lecture, built on the GAN core.

* ``networks``: the U-Net and the encoder-decoder, the ResNet generator, the
  patch discriminator, StarGAN's two-headed discriminator;
* ``translation``: pix2pix (paired), CycleGAN and DiscoGAN (unpaired, a cycle
  back), StarGAN (one generator for k domains): each step written as its
  formulas, and a Trainer for each;
* ``progressive``: progressive growing (ProGAN), 7x7 -> 14x14 -> 28x28, each new
  block faded in, and its Trainer;
* ``stacked``: StackGAN (text -> 14 x 14 -> 28 x 28): the bag-of-words text encoder,
  conditioning augmentation and its KL term, the two stages' networks and steps;
* ``refiner``: SimGAN's refiner of synthetic images, its local adversarial loss,
  self-regularization and history of refined images.

The domains they translate between are ``minigan.data.domains``, the sentences
``minigan.data.sentences``; the experiments that train and score them are
``minigan.experiments.translation``, ``progan``, ``stackgan`` and ``simgan``.
"""
from . import networks, translation, progressive, stacked, refiner  # noqa: F401

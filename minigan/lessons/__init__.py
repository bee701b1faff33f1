"""Techniques of the later lectures, built on a trained G:

* ``latent``: walks in z-space (lerp, slerp) and vector arithmetic on codes;
* ``inversion``: an image's code by descent through G, by an encoder, by both;
  the editing objective;
* ``pretraining``: a conv autoencoder (L2 loss, no labels) whose encoder starts a
  classifier trained on few labels.
"""

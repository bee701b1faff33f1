"""Techniques that lift a GAN beyond the lecture's plain form, each on its own:

* ``unrolled``: the unrolled GAN, a Trainer whose generator looks ahead;
* ``averaging``: G's weights averaged over training (an EMA), batch norm's
  statistics recomputed for the average;
* ``rejection``: discriminator rejection sampling, D* = p_data / (p_data + p_g)
  turned into a filter on G's samples;
* ``truncation``: Jacobian-based truncation, G's samples with the largest
  ||dG/dz|| (drawn between the data's separate pieces) left out;
* ``clusters``: k-means clusters of the training images, classes without labels;
* ``history``: SimGAN's buffer of earlier generated images, half of each of D's
  batches drawn from it.
"""

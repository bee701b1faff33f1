"""The lab's figures (matplotlib), one module per kind of picture.

* ``style``: what every figure shares (colours, titles, PNG and GIF writers);
* ``phase_plane``: two-player games, trajectories over a vector field;
* ``densities_1d``: a GAN on the real line, densities and D against D*;
* ``mixtures_2d``: GANs in the plane, samples, D's field, mode occupancy.

The library (``minigan.gan`` and below) never imports these: figures are the lab's.
"""

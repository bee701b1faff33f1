"""Toy games where the theory is exact:

* ``games``: two-player differentiable games (the bilinear game, Dirac-GAN) and
  the methods that play them (simultaneous, alternating, optimistic, extragradient,
  consensus, SGA);
* ``toy1d``: a GAN on the real line, where D* and the game's value are exact.
"""

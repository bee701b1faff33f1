"""Vanishing gradients: why the generator minimizes -log D(G(z)).

    python examples/vanishing_gradients.py [--quick]

With a = D's logit on a fake sample, the saturating loss log(1 - sigmoid(a))
has gradient -sigmoid(a) = -D(G(z)), which vanishes when D rejects the fakes;
the non-saturating loss -log sigmoid(a) has gradient -(1 - D(G(z))).
The figure (runs/vanishing-gradients/) shows both, and a 1-D GAN under a
strong discriminator: stalled with one loss, moving with the other.
"""
import math
import sys

from minigan.__main__ import main
from minigan.experiments.vanishing import generator_logit_gradients

if __name__ == "__main__":
    for d in (0.5, 0.1, 0.01, 0.001):
        a = [math.log(d / (1 - d))]       # the logit with sigmoid(a) = d
        sat, ns = generator_logit_gradients(a)
        print(f"D(G(z)) = {d:<6}  |grad| saturating {sat[0]:.4f}   non-saturating {ns[0]:.4f}"
              f"   ratio {ns[0] / sat[0]:.0f}")
    sys.exit(main(["run", "vanishing-gradients", *sys.argv[1:]]))

"""The Dirac-GAN (Mescheder et al. 2018): which training methods actually converge?

    python examples/dirac_gan.py [--quick]

Data sit at 0, the generator at theta, the discriminator is D(x) = psi x.
Plain gradient descent-ascent circles away from the equilibrium (0, 0); the R1
penalty (gamma/2 psi^2 on D) makes it converge. Figures go to runs/dirac-gan/.
"""
import sys

import numpy as np

from minigan.__main__ import main
from minigan.gan.toys import games

if __name__ == "__main__":
    start = (1.0, 1.0)
    for name, game in [("plain GAN", games.DiracGAN("standard")),
                       ("R1, gamma = 1", games.DiracGAN("standard", r1=1.0))]:
        path = games.play(game, "simultaneous", start, 0.2, 500)
        print(f"{name:<14} distance to (0, 0): {np.hypot(*start):.3f} -> "
              f"{np.hypot(*path[-1]):.3g} after 500 steps")
    sys.exit(main(["run", "dirac-gan", *sys.argv[1:]]))

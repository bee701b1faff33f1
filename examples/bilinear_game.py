"""Non-convergence on the bilinear game min_x max_y xy, and what converges.

    python examples/bilinear_game.py [--quick]

Each method is run from (1, 0.5) with step 0.1; the printed per-step factor of
the distance to the equilibrium (0, 0) is measured and compared with theory.
Figures (phase plane, distance on a log scale, a GIF) go to runs/bilinear/.
"""
import sys

import numpy as np

from minigan.__main__ import main
from minigan.gan.toys import games

if __name__ == "__main__":
    game = games.BilinearGame()
    print(f"{'method':<14} {'measured':>10} {'theory':>10}   per-step factor of the distance")
    for method in games.METHODS:
        path = games.play(game, method, (1.0, 0.5), 0.1, 200)
        d = np.hypot(path[:, 0], path[:, 1])
        measured = (d[-1] / d[-21]) ** (1 / 20)
        theory = games.bilinear_rate(method, 0.1)
        print(f"{method:<14} {measured:10.6f} {theory:10.6f}"
              + ("   (cycles: x^2 + y^2 - eta xy is conserved)" if method == "alternating" else ""))
    sys.exit(main(["run", "bilinear", *sys.argv[1:]]))

"""The optimal discriminator D* = p_data / (p_data + p_g), and the value -log 4 + 2 JSD.

    python examples/optimal_discriminator.py [--quick]

With the generator held fixed, a small MLP discriminator is trained until it
stops changing; it lands on D*, and the value of the game lands on
-log 4 + 2 JSD(p_data || p_g). With one-sided label smoothing it lands on
alpha D*. Then a whole 1-D GAN is trained (Goodfellow et al. 2014, Figure 1).
Figures go to runs/optimal-discriminator/ and runs/gan-1d/ (for another
folder, run each with `python -m minigan run NAME --out DIR`).
"""
import sys

from minigan.__main__ import main

if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a in ("--quick", "--no-progress")]
    rc = main(["run", "optimal-discriminator", *args])
    sys.exit(rc or main(["run", "gan-1d", *args]))

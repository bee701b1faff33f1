"""The trained DCGAN that ships with minigan, as the evaluator classifier does.

The lessons on a trained generator (walks and arithmetic in its latent space,
inverting it, batch norm's correlations) start from these weights, so they run
in seconds on any machine and every student sees the same G. They are
``dcgan-plus``'s G, seed 0: ``models.dcgan_generator`` with the weights averaged
over training (decay 0.999) and batch norm's statistics recomputed for them, the
G that drew that run's scored samples, and its D (``models.dcgan_discriminator``
with ``depth=3``), which the editing objective of ``invert`` asks.

Reproduce them (about 40 minutes on 2 CPU cores) with::

    python -m minigan run dcgan-plus --out runs/dcgan-plus
    python -m minigan.experiments.trained --ship runs/dcgan-plus

which writes the file below; its SHA-256 is checked at every load.
"""
import os

from ..serialization import load, save, check_sha256
from . import models

_HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")
WEIGHTS = os.path.join(_HERE, "dcgan_plus_seed0.npz")
WEIGHTS_SHA256 = "ec4d0a3a861306cdf84a6202d37f1041f2f16fdd0b40206d995e8bce3125afde"
D_DEPTH = 3              # dcgan-plus's discriminator: three convolutions


def build(d_depth=D_DEPTH):
    """The untrained (G, D) of the shipped architecture."""
    return models.dcgan_generator(), models.dcgan_discriminator(depth=d_depth)


def load_dcgan(path=None, device="cpu", sha256=None):
    """(G, D) of the shipped trained DCGAN (or of `path`, a file ``save_dcgan``
    wrote), in eval mode on `device`. The shipped file's SHA-256 is checked (and
    `sha256`'s, when given), so every machine draws with the same G."""
    path = os.fspath(path or WEIGHTS)
    expected = sha256 if sha256 is not None else (WEIGHTS_SHA256 if path == WEIGHTS else None)
    if not os.path.exists(path):
        raise FileNotFoundError(f"the trained DCGAN's weights are missing: {path}. Make them "
                                f"with `python -m minigan run dcgan-plus --out runs/dcgan-plus` "
                                f"and `python -m minigan.experiments.trained --ship "
                                f"runs/dcgan-plus`")
    if expected is not None:
        check_sha256(path, expected, "the trained DCGAN's weights",
                     "Reinstall minigan, or make them again (minigan.gan.pretrained)")
    state = load(path)
    for key in ("generator", "discriminator", "d_depth"):
        if key not in state:
            raise ValueError(f"{path} is not a trained DCGAN written by save_dcgan: it has no "
                             f"{key!r} (it holds {', '.join(map(str, state)) or 'nothing'})")
    G, D = build(int(state["d_depth"]))
    G.load_state_dict(state["generator"])
    D.load_state_dict(state["discriminator"])
    return G.to(device).eval(), D.to(device).eval()


def save_dcgan(G, D, path, d_depth, source):
    """Write (G, D) as a file ``load_dcgan`` reads; `source` says where they came from."""
    save({"generator": G.state_dict(), "discriminator": D.state_dict(),
          "d_depth": int(d_depth), "source": str(source)}, path)
    return path

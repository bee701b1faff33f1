"""The trained image GANs that the lecture experiments start from (``latent-walk``,
``invert``, ``bn-correlation``): found where a run left them, or trained once and cached.

A lesson loads ``dcgan-plus``'s G unless told ``--set gan=dcgan`` (the plain DCGAN
of the lecture), and prints and records where its G came from.
``load_gan(cfg, NAME)`` looks, in this order, for

1. ``OUT/checkpoints/NAME/checkpoint.npz``: this experiment's own earlier training
   (or a ``python -m minigan run NAME --out OUT``);
2. ``runs/NAME/checkpoints/NAME/checkpoint.npz`` beside OUT (OUT's parent) and in
   the working folder: a ``python -m minigan run NAME`` with the default --out;
3. the per-user model cache: ``$MINIGAN_MODELS/NAME.npz``, else
   ``$XDG_CACHE_HOME/minigan/models/NAME.npz`` (``~/.cache/minigan/models``).

When none is there it trains one with a short budget of its own, with a progress
bar, and caches its weights (3; ``NAME-quick.npz`` for ``--quick``, which only
another --quick run uses; its training checkpoint, for ``--resume``, is
``OUT/checkpoints/NAME-fallback[-quick]/``, never looked in for a model):
``FALLBACK`` steps at the recipe's --quick batch size and learning rate. That model
is weaker than a full ``python -m minigan run NAME``; run that first for the best
figures. Where it cannot train (no MNIST) the error names the command that makes
the model.

A full run's checkpoint gives the very G that drew the run's scored samples: where
the recipe averages G's weights over training (``dcgan-plus``), the averaged
weights, batch norm's statistics recomputed as the run recomputed them. A cached
fallback model is G's own weights, as trained.
"""
import json
import os
import pathlib
from dataclasses import replace

from . import choice, trainer_settings, resuming
from .image_gans import RECIPES
from ..gan.recipes import bn_batches, build, make_trainer
from ..gan.tricks.averaging import WeightAverage
from ..serialization import load, save

# recipe -> (steps, --quick steps) of the fallback training, at the recipe's --quick
# batch size and learning rate
FALLBACK = {"dcgan-plus": (2_000, 400), "dcgan": (2_000, 400), "cgan": (2_000, 400)}

# the trained DCGANs a lesson can start from (``--set gan=NAME``); the first is the default
GANS = ("dcgan-plus", "dcgan")
GAN_CHOICE = choice(*GANS)


def chosen_gan(cfg):
    """The recipe whose trained G a lesson loads: ``--set gan=NAME``, else dcgan-plus."""
    return cfg.option("gan", GANS[0])


def fallback_run(model, quick):
    """The name of the fallback training run (its checkpoint: OUT/checkpoints/NAME/)."""
    return f"{model}-fallback" + ("-quick" if quick else "")


class MissingModel(FileNotFoundError):
    """No trained model was found, and none could be trained here."""


def cache_dir():
    """Where trained models are cached: $MINIGAN_MODELS, else the per-user cache."""
    if os.environ.get("MINIGAN_MODELS"):
        return pathlib.Path(os.environ["MINIGAN_MODELS"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "minigan" / "models"


def candidates(cfg, model):
    """Every place a trained `model` is looked for, in order."""
    out = pathlib.Path(cfg.out)
    rel = pathlib.Path(model) / "checkpoints" / model / "checkpoint.npz"
    paths = [cfg.run_dir(model) / "checkpoint.npz", out.parent / rel, pathlib.Path("runs") / rel,
             cache_dir() / f"{model}.npz"]
    if cfg.quick:          # a --quick run may use the model of an earlier --quick run
        paths.append(cache_dir() / f"{model}-quick.npz")
    unique = []
    for p in paths:
        if p.resolve() not in [u.resolve() for u in unique]:
            unique.append(p)
    return unique


def _load_from(path, model, device):
    state = load(path)
    if "generator" not in state or "discriminator" not in state:
        raise ValueError(f"{path} holds no 'generator' and 'discriminator': not a trained "
                         f"{model}; delete it or train again with "
                         f"`python -m minigan run {model}`")
    G, D = build(RECIPES[model], device)
    try:
        G.load_state_dict(state["generator"])
        D.load_state_dict(state["discriminator"])
        averaged = _averaged(state, G, model, device)
    except (ValueError, RuntimeError) as e:
        raise ValueError(f"{path} does not hold a {model} of minigan's architecture: {e}. "
                         f"Delete it, or train again with `python -m minigan run {model}`") \
            from None
    return (G if averaged is None else averaged).eval(), D.eval(), averaged is not None


def _averaged(state, G, model, device):
    """G with the weights its run averaged over training (``gan/tricks/averaging.py``), exactly
    the G that drew the run's scored samples, or None where the file keeps no average.

    A run whose recipe averages G (``dcgan``) keeps the average in its checkpoint,
    among the callbacks' states; a cached fallback model keeps none. The batch-norm
    statistics are recomputed as the run did, from the batches its seed and batch
    size give (``mnist.bn_batches``), so the lessons see the run's G to the bit."""
    saved = [cb for cb in (state.get("callbacks") or {}).values()
             if isinstance(cb, dict) and set(cb) == {"decay", "average"}]
    if not saved:
        return None
    config = json.loads(str(state.get("config") or "{}"))
    average = WeightAverage(G, float(saved[0]["decay"]))
    average.load_state_dict(saved[0])
    recipe = replace(RECIPES[model], batch_size=int(config.get("batch_size",
                                                               RECIPES[model].batch_size)))
    return average.averaged_model(bn_batches(recipe, None, int(config.get("seed", 0)), device))


def load_gan(cfg, model="dcgan-plus", train=True):
    """(G, D, where they came from) for the trained `model` (a recipe of ``FALLBACK``), in eval
    mode on cfg.device: found (see the module docstring) or, with `train`, trained
    now and cached. Raises MissingModel, naming the command that makes one, when
    none is found and training is not possible (train=False, or no MNIST)."""
    paths = candidates(cfg, model)
    for path in paths:
        if path.exists():
            G, D, averaged = _load_from(path, model, cfg.device)
            source = str(path) + (" (G's weights averaged over training)" if averaged else "")
            print(f"{cfg.name}: the trained {model} from {source}")
            return G, D, source
    looked = ", ".join(str(p) for p in paths)
    make = f"python -m minigan run {model} --out runs/{model}"
    if not train:
        raise MissingModel(f"no trained {model} found (looked in {looked}); make one with "
                           f"`{make}`")
    from .. import data
    try:
        train_x, train_y = data.mnist("train", cfg.data_dir)
    except (OSError, ValueError) as e:
        raise MissingModel(f"no trained {model} found (looked in {looked}), and none can be "
                           f"trained here without MNIST ({e}); make one with `{make}` "
                           f"where MNIST is, and copy it to {paths[-1]}") from None
    steps = FALLBACK[model][1 if cfg.quick else 0]
    recipe = RECIPES[model]
    recipe = replace(recipe, batch_size=recipe.quick_batch_size or recipe.batch_size,
                     lr=recipe.quick_lr or recipe.lr)
    print(f"no trained {model} found; training one for {steps} steps (batch "
          f"{recipe.batch_size}, lr {recipe.lr:g}) and caching it in {paths[-1]}")
    trainer = make_trainer(recipe, train_x, train_y, cfg.seed, cfg.device,
                           progress={"desc": f"{model} (for {cfg.name})"} if cfg.progress
                           else False, **trainer_settings(cfg, fallback_run(model, cfg.quick)))
    # Its checkpoint goes to a run of its own name, not OUT/checkpoints/MODEL/ where a
    # `run MODEL --out OUT` leaves a fully trained model: otherwise a later full run
    # with the same --out would take this short (or --quick) training for that.
    trainer.fit(steps, resume=resuming(cfg))
    paths[-1].parent.mkdir(parents=True, exist_ok=True)
    save({"generator": trainer.G.state_dict(), "discriminator": trainer.D.state_dict(),
          "steps": steps, "trained_by": cfg.name}, paths[-1])
    return trainer.G.eval(), trainer.D.eval(), f"trained now ({steps} steps), cached in {paths[-1]}"

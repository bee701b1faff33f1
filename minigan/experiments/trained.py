"""The trained DCGAN the lessons start from (``latent-walk``, ``invert``,
``bn-correlation``): the one that ships with minigan, or the one ``--model PATH``
names. A lesson prints and records which G it drew with; it never picks up a
model that happens to lie in ``runs/``.

``--model PATH`` takes any of:

* a file ``minigan.gan.pretrained.save_dcgan`` wrote (the shipped one's kind);
* a run's checkpoint, ``runs/dcgan/checkpoints/dcgan/checkpoint.npz`` (the plain
  DCGAN of the lecture) or ``runs/dcgan-plus/checkpoints/dcgan-plus/checkpoint.npz``;
* such a run's folder, ``runs/dcgan`` (its one checkpoint is found inside).

A run's checkpoint gives the very G that drew the run's scored samples: where the
recipe averages G's weights over training (``dcgan-plus``), the averaged weights,
batch norm's statistics recomputed as the run recomputed them.

Any image GAN run of ``image_gans`` (``mnist-mlp``, ``dcgan``, ``cgan``, ...) is read
by ``run_checkpoint`` and ``load_recipe_gan``: ``classifier-score`` finds its three
models so, in the run folders under its ``--model DIR``.

``python -m minigan.experiments.trained --ship RUN`` writes the package's shipped
file from a finished ``dcgan-plus`` run and prints its SHA-256 (to paste into
``minigan/gan/pretrained.py``).
"""
import argparse
import json
import os
import pathlib
import sys
from dataclasses import replace

from .image_gans import RECIPES
from ..gan import pretrained
from ..gan.recipes import bn_batches
from ..gan.tricks.averaging import WeightAverage
from ..serialization import load

# the recipes whose checkpoints --model reads, by the depth of their D
RECIPE_OF_DEPTH = {2: "dcgan", 3: "dcgan-plus"}


class MissingModel(FileNotFoundError):
    """--model names no trained DCGAN that can be read."""


def cache_dir():
    """Where models trained for a lesson (an encoder, an autoencoder) are cached:
    $MINIGAN_MODELS, else the per-user cache."""
    if os.environ.get("MINIGAN_MODELS"):
        return pathlib.Path(os.environ["MINIGAN_MODELS"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "minigan" / "models"


def checkpoint_in(path):
    """`path` itself, or the one DCGAN checkpoint inside a run's folder."""
    path = pathlib.Path(path)
    if path.is_dir():
        found = sorted(p for name in RECIPE_OF_DEPTH.values()
                       for p in path.glob(f"checkpoints/{name}/checkpoint.npz"))
        if len(found) != 1:
            raise MissingModel(f"--model {path}: a run folder must hold one trained DCGAN "
                               f"(checkpoints/dcgan/ or checkpoints/dcgan-plus/), found "
                               f"{len(found)}; pass the checkpoint file itself")
        return found[0]
    if not path.exists():
        raise MissingModel(f"--model {path}: no such file or folder")
    return path


def _averaged(state, G, model, device):
    """G with the weights its run averaged over training (``gan/tricks/averaging.py``),
    exactly the G that drew the run's scored samples, or None where the checkpoint
    keeps no average. The batch-norm statistics are recomputed as the run did, from
    the batches its seed and batch size give (``recipes.bn_batches``)."""
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


def load_checkpoint_gan(path, device="cpu"):
    """(G, D, a description, D's depth) from a dcgan or dcgan-plus run's checkpoint."""
    state = load(path)
    if "generator" not in state or "discriminator" not in state:
        raise MissingModel(f"--model {path}: not a trained DCGAN (it holds no 'generator' "
                           f"and 'discriminator')")
    errors = []
    for depth, model in RECIPE_OF_DEPTH.items():
        G, D = pretrained.build(depth)
        try:
            G.load_state_dict(state["generator"])
            D.load_state_dict(state["discriminator"])
        except (ValueError, RuntimeError, KeyError) as e:
            errors.append(f"as a {model}: {e}")
            continue
        G, D = G.to(device), D.to(device)
        averaged = _averaged(state, G, model, device)
        what = f"the trained {model} of {path}" + (
            " (G's weights averaged over training)" if averaged is not None else "")
        return (averaged if averaged is not None else G).eval(), D.eval(), what, depth
    raise MissingModel(f"--model {path}: not a DCGAN of minigan's architecture ("
                       + "; ".join(errors) + ")")


def run_checkpoint(run_dir, name):
    """The checkpoint a run of the image_gans recipe `name` leaves in its folder
    (``python -m minigan run NAME --out RUN_DIR``): RUN_DIR/checkpoints/NAME/checkpoint.npz,
    or None where there is none."""
    path = pathlib.Path(run_dir) / "checkpoints" / name / "checkpoint.npz"
    return path if path.is_file() else None


def load_recipe_gan(path, name, device="cpu"):
    """(G in eval mode, a description, the step it reached) from the checkpoint of a run
    of the image_gans recipe `name` (``mnist-mlp``, ``dcgan``, ``cgan``, ...): G built as
    the recipe builds it (``gan.recipes.build``), its weights loaded, and where the
    recipe averages G's weights, the averaged G (as ``load_checkpoint_gan``). A
    checkpoint of another architecture is a ``MissingModel`` naming the recipe."""
    from ..gan.recipes import build
    if name not in RECIPES:
        raise ValueError(f"load_recipe_gan: name must be one of {', '.join(RECIPES)}, "
                         f"got {name!r}")
    state = load(path)
    if "generator" not in state:
        raise MissingModel(f"{path}: not a trained GAN's checkpoint (it holds no "
                           f"'generator')")
    G, _ = build(RECIPES[name])
    try:
        G.load_state_dict(state["generator"])
    except (ValueError, RuntimeError, KeyError) as e:
        raise MissingModel(f"{path}: not a {name} generator of minigan's architecture "
                           f"({e})") from None
    G = G.to(device)
    averaged = _averaged(state, G, name, device)
    step = int(state["step"]) if "step" in state else None
    what = (f"the trained {name} of {path}" + (f", step {step:,}" if step is not None else "")
            + (" (G's weights averaged over training)" if averaged is not None else ""))
    return (averaged if averaged is not None else G).eval(), what, step


def load_gan(cfg):
    """(G, D, where they came from) in eval mode on cfg.device: ``--model``'s, else the
    shipped trained DCGAN; printed as well."""
    if cfg.model:
        path = checkpoint_in(cfg.model)
        state_keys = set(load(path))
        if "d_depth" in state_keys:
            G, D = pretrained.load_dcgan(path, cfg.device)
            source = f"the trained DCGAN of {path}"
        else:
            G, D, source, _ = load_checkpoint_gan(path, cfg.device)
    else:
        G, D = pretrained.load_dcgan(device=cfg.device)
        where = "minigan/gan/weights/" + os.path.basename(pretrained.WEIGHTS)
        source = (f"the trained DCGAN that ships with minigan ({where}: dcgan-plus, seed 0, "
                  f"G's weights averaged)")
    print(f"{cfg.name}: G is {source}")
    return G, D, source


def shipped(cfg):
    """True when the lesson draws with the shipped G (no --model)."""
    return not cfg.model


def ship(run_dir, dest=None):
    """Write the shipped file from a finished dcgan-plus run's checkpoint; its SHA-256."""
    from ..serialization import sha256_of
    path = checkpoint_in(run_dir)
    G, D, _, depth = load_checkpoint_gan(path)
    state = load(path)
    seed = json.loads(str(state.get("config") or "{}")).get("seed")
    steps = f"{int(state['step']):,} steps" if "step" in state else "steps not recorded"
    source = (f"{RECIPE_OF_DEPTH[depth]}, seed {seed}, {steps}; G's weights as the run "
              f"scored them")
    dest = dest or pretrained.WEIGHTS
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    pretrained.save_dcgan(G, D, dest, depth, source)
    return dest, sha256_of(dest)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m minigan.experiments.trained",
                                description="Write the trained DCGAN minigan ships.")
    p.add_argument("--ship", metavar="RUN", required=True,
                   help="a finished dcgan-plus run's folder (or its checkpoint)")
    p.add_argument("--to", default=None, help="where to write (default: the package's file)")
    args = p.parse_args(argv)
    dest, sha = ship(args.ship, args.to)
    print(f"wrote {dest}\nSHA-256 {sha}: set minigan/gan/pretrained.py's WEIGHTS_SHA256")
    return 0


if __name__ == "__main__":
    sys.exit(main())

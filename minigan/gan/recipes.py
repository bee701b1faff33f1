"""An image GAN built from a recipe: its networks, its loop's settings, MNIST.

``ImageRecipe`` says how one image GAN trains (the networks, batch size, learning
rate, R1 penalty, G's weight average, how its samples are scored); ``make_trainer``
builds the ``Trainer`` that trains it on MNIST. Which recipes the lab runs, and
with which numbers, is the lab's (``minigan.experiments.image_gans.RECIPES``).
"""
from dataclasses import dataclass
from functools import partial

import numpy

from .. import backend, data, optim
from ..tensor import Tensor
from . import models
from .losses import r1_penalty
from .runner import Trainer
from .tricks.averaging import WeightAverage
from .tricks.clusters import kmeans_clusters

R1_EVERY = 4            # a recipe's R1 penalty is lazy: every 4th D update, 4 times as strong


@dataclass(frozen=True)
class ImageRecipe:
    """How one image GAN trains: its networks, its loop's settings and its budget."""
    model: str                 # "mlp", "dcgan", "cgan" or "clusters"
    steps: int                 # the full run's steps (chosen to fit the budget)
    quick_steps: int           # --quick
    batch_size: int
    lr: float = 2e-4
    betas: tuple = (0.5, 0.999)
    d_depth: int = 2           # "dcgan": D's strided convolutions (2, the lecture's; or 3)
    quick_batch_size: int = None   # --quick's own settings (None: the same): a short run
    quick_lr: float = None         # learns faster with small batches and a larger lr
    stages: tuple = ()         # steps at which a grid of the fixed noise is drawn
    budget_minutes: int = 30   # on 2 CPU cores
    clusters: int = 0          # "clusters": how many k-means clusters G and D are told
    average: float = None      # the decay of G's weight average (None: G's own weights)
    r1: float = 0.0            # gamma of the R1 penalty on D (0: none), lazy: every 4th step
    jacobian_keep: float = None    # Jacobian-based truncation: the scored samples are the
                                   # fraction of a larger pool with the smallest ||dG/dz||
                                   # (gan/tricks/truncation.py); None: every sample as drawn
    jacobian_clusters: int = 0     # > 0: that cut is made within each of this many
                                   # k-means clusters of the training images, each kept
                                   # at its share of the data (0: one cut over the pool)

    def __post_init__(self):
        if self.jacobian_keep is not None and self.model in ("cgan", "clusters"):
            raise ValueError(f"ImageRecipe: Jacobian-based truncation is for an "
                             f"unconditional G(z), not the {self.model!r} model")
        if self.jacobian_clusters and self.jacobian_keep is None:
            raise ValueError("ImageRecipe: jacobian_clusters sets how the Jacobian-based "
                             "truncation cuts, but jacobian_keep is None (no truncation)")


def build(recipe, device="cpu"):
    """(G, D) of a recipe's model, on `device`."""
    model = recipe.model
    if model == "mlp":
        G, D = models.keras_mlp_generator(), models.keras_mlp_discriminator()
    elif model == "dcgan":
        G, D = models.dcgan_generator(), models.dcgan_discriminator(depth=recipe.d_depth)
    elif model == "cgan":
        G, D = models.ConditionalGenerator(), models.ConditionalDiscriminator()
    elif model == "clusters":
        G = models.ConditionalGenerator(n_classes=recipe.clusters)
        D = models.ProjectionDiscriminator(n_classes=recipe.clusters, depth=recipe.d_depth)
    else:
        raise ValueError(f"unknown image model {model!r}; known: mlp, dcgan, cgan, clusters")
    return G.to(device), D.to(device)


def _noise_sampler(model, device, clusters=None):
    if model == "cgan":
        return data.labelled_noise_sampler(device, models.NOISE_DIM, models.N_CLASSES)
    if model == "clusters":           # the clusters as often as they occur in the data
        return data.labelled_noise_sampler(device, models.NOISE_DIM, clusters.k,
                                           probs=clusters.frequencies)
    return data.noise_sampler(device, models.NOISE_DIM)


def find_clusters(recipe, train_x, seed=0):
    """The k-means clusters of the training images a "clusters" recipe is told (no
    labels), or None for the other recipes."""
    if recipe.model != "clusters":
        return None
    return kmeans_clusters(train_x, recipe.clusters, seed=seed)


def make_trainer(recipe, train_x, train_y, seed=0, device="cpu", callbacks=(), progress=False,
                 clusters=None, **settings):
    """The Trainer of a recipe (not trained yet): G, D, two Adams, MNIST batches (for
    "clusters": `clusters`, from ``find_clusters``, in place of the labels), the R1
    penalty and G's weight average (``weight_average``) where the recipe has them.
    `settings` go to the Trainer as they are (``out_dir``, ``name``, ``callbacks``
    added after the recipe's...)."""
    if recipe.model == "clusters" and clusters is None:
        raise ValueError(f"make_trainer: the recipe {recipe.model!r} needs its clusters "
                         f"(find_clusters)")
    backend.manual_seed(seed)
    G, D = build(recipe, device)
    x = train_x.reshape(len(train_x), 784) if recipe.model == "mlp" else train_x
    arrays = (x,)
    if recipe.model == "cgan":
        arrays = (x, train_y)
    elif recipe.model == "clusters":      # the cluster in the label's place
        arrays = (x, clusters.labels)
    penalty, every = None, 1
    if recipe.r1:
        penalty, every = partial(r1_penalty, gamma=recipe.r1), R1_EVERY
    callbacks = list(callbacks)
    if recipe.average is not None:
        callbacks.append(WeightAverage(G, recipe.average))
    callbacks += list(settings.pop("callbacks", ()))
    return Trainer(G, D, optim.Adam(G.parameters(), lr=recipe.lr, betas=recipe.betas),
                   optim.Adam(D.parameters(), lr=recipe.lr, betas=recipe.betas),
                   data.sampler(arrays, device=device),
                   _noise_sampler(recipe.model, device, clusters),
                   loss="non-saturating", batch_size=recipe.batch_size, seed=seed,
                   penalty=penalty, penalty_every=every,
                   callbacks=callbacks, progress=progress, **settings)


def weight_average(trainer):
    """The ``WeightAverage`` of G a recipe's Trainer keeps, or None."""
    return next((cb for cb in trainer.callbacks if isinstance(cb, WeightAverage)), None)




def bn_batches(recipe, clusters, seed, device):
    """Training-size batches of G's inputs, from a generator of their own, for the
    averaged G's batch-norm statistics (``WeightAverage.averaged_model``)."""
    rng = numpy.random.default_rng(seed + 4_409)

    def batch():
        z = Tensor(rng.standard_normal((recipe.batch_size, models.NOISE_DIM)).astype(
            numpy.float32), device=device)
        if clusters is None:
            return (z,)
        return z, Tensor(rng.choice(clusters.k, recipe.batch_size, p=clusters.frequencies),
                         device=device)
    return batch

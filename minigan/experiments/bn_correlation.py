"""Why batch norm in G correlates a batch, and how virtual batch norm removes it:
the experiment ``bn-correlation``.

A generator trained with batch norm normalizes each layer with the statistics of
the batch it is drawing, so a sample depends on its batch mates: the same code z
gives another image in another batch, and the images of one batch share
whatever the batch statistics added (Salimans et al. 2016, Goodfellow's NIPS
2016 tutorial). Virtual batch norm normalizes each sample with a fixed reference
batch plus itself, so a sample depends on its own code only.

The trained DCGAN (``experiments/trained.py``) is drawn three ways with the same
weights: batch norm with the batch's statistics (training mode, as during GAN
training), virtual batch norm with a fixed reference batch of 64 codes
(``gan.models.with_reference_batch``), and, for comparison, batch norm with its
running statistics (evaluation mode, how minigan draws samples). Two numbers:

* **dependence on batch mates**: the largest pixel change of G(z) for one fixed
  z when the other samples of its batch are redrawn (in float64, so rounding
  does not blur it): large for batch norm, zero (to 1e-6) for virtual batch norm;
* **intra-batch correlation** of the part of each image that its batch put
  there: d_i = G(z_i) drawn in its batch - G(z_i) drawn with the running
  statistics (a rendering of z_i alone). ICC = 1 - (mean squared distance
  between the d of two samples of the same batch) / (the same for samples of
  different batches): 0 for independent samples (up to sampling noise); a
  component of variance s^2 shared by a batch beside independent variance e^2
  gives s^2 / (s^2 + e^2). Measured on small batches (8), where the batch
  statistics fluctuate most. The ICC of the images themselves is reported too:
  for a trained G it is near 0, the shared part being small beside the
  differences between digits.
"""
import numpy

from . import experiment
from .claims import claim, titled
from .trained import load_gan
from ..eval.pixels import to_pixels
from .. import backend
from ..gan import models
from ..tensor import Tensor, no_grad

BATCH = 8
N_REFERENCE = 64


def draw(G, z, batch_size, device="cpu"):
    """G(z) in consecutive batches of `batch_size`, as a float array (N, 28, 28)."""
    out = []
    with no_grad():
        for i in range(0, len(z), batch_size):
            out.append(backend.to_numpy(G(Tensor(z[i:i + batch_size], device=device)).data))
    return numpy.concatenate(out).reshape(len(z), 28, 28)


def intra_batch_correlation(images, batch_size):
    """ICC = 1 - mean within-batch squared distance / mean between-batch squared distance,
    for images in consecutive batches of `batch_size`."""
    x = images.reshape(len(images), -1).astype(numpy.float64)
    sq = (x * x).sum(1)
    d = sq[:, None] + sq[None, :] - 2.0 * x @ x.T            # every pairwise squared distance
    batch = numpy.arange(len(x)) // batch_size
    same = batch[:, None] == batch[None, :]
    off = ~numpy.eye(len(x), dtype=bool)
    return float(1.0 - d[same & off].mean() / d[~same].mean())


def dependence_on_batch_mates(G, z0, rng, batch_size, trials, device="cpu"):
    """The largest change of G(z0) (any pixel) over `trials` batches whose other
    samples are redrawn; also the images of z0 in each batch."""
    images = []
    for _ in range(trials):
        z = numpy.concatenate([z0[None], rng.standard_normal((batch_size - 1, z0.size))])
        images.append(draw(G, z, batch_size, device)[0])
    images = numpy.stack(images)
    return float(numpy.abs(images - images[0]).max()), images


def bn_claims(out):
    """Virtual batch norm's point (Salimans et al. 2016), decided from the run."""
    bn = out["batch norm (batch statistics)"]["max_change_of_one_sample"]
    vbn = out["virtual batch norm"]["max_change_of_one_sample"]
    return [claim(
        "under batch norm a sample changes with its batch mates; under virtual batch norm "
        "it depends on its own code only",
        "one code's image moves by more than 1e-3 (pixels in [-1, 1]) when its batch mates "
        "are redrawn under batch norm, and by less than 1e-6 (float64) under virtual batch "
        "norm", f"{bn:.2g} and {vbn:.1e}", bn > 1e-3 and vbn < 1e-6)]


@experiment("bn-correlation", "batch norm in G makes the samples of a batch depend on each "
                              "other; virtual batch norm (a fixed reference batch) does not",
            lecture=4, loads_model=True)
def run_bn_correlation(cfg):
    from .figures import images as figs
    G, _, source = load_gan(cfg)
    rng = numpy.random.default_rng(cfg.seed + 31)
    z_ref = rng.standard_normal((N_REFERENCE, models.NOISE_DIM)).astype(numpy.float32)
    n_batches = 24 if cfg.quick else 128
    z = rng.standard_normal((n_batches * BATCH, models.NOISE_DIM)).astype(numpy.float32)
    z0 = rng.standard_normal(models.NOISE_DIM)
    # G as minigan draws samples (before training mode moves the running statistics): the
    # rendering of each code alone, against which the batch's contribution is measured
    alone = draw(G.eval(), z, 256, cfg.device)
    out = {"batch norm (running statistics)": {
        "intra_batch_correlation_images": intra_batch_correlation(alone, BATCH)}}
    pictures = {}
    variants = {"batch norm (batch statistics)": G, "virtual batch norm":
                models.with_reference_batch(G, z_ref)}
    for name, net in variants.items():
        net.train()
        imgs = draw(net, z, BATCH, cfg.device)
        icc = intra_batch_correlation(imgs - alone, BATCH)
        net64 = net.double()      # float64: a real dependence, not a rounding difference
        change, same_z = dependence_on_batch_mates(net64, z0, numpy.random.default_rng(
            cfg.seed + 57), BATCH, 8, cfg.device)
        net.float()
        out[name] = {"intra_batch_correlation": icc,
                     "intra_batch_correlation_images": intra_batch_correlation(imgs, BATCH),
                     "max_change_of_one_sample": change}
        pictures[name] = (imgs[:6 * BATCH], (imgs - alone)[:6 * BATCH], same_z)
        print(f"{name}: ICC of the batch's contribution {icc:.3f}, largest change of G(z0) "
              f"with new batch mates {change:.2e}")
    bn, vbn = out["batch norm (batch statistics)"], out["virtual batch norm"]
    note = (f"what the batch adds, G(z) in its batch - G(z) alone, is shared by a batch: "
            f"ICC {bn['intra_batch_correlation']:.3f} (batch norm), "
            f"{vbn['intra_batch_correlation']:.3f} (virtual)\none code, new batch mates: "
            f"largest pixel change {bn['max_change_of_one_sample']:.2f} (batch norm), "
            f"{vbn['max_change_of_one_sample']:.1e} (virtual)")
    claims = bn_claims(out)
    # What the eye cannot see in the images themselves, drawn as signed differences: the
    # part of each image its batch put there (minus its average over all batches, which
    # is the same for every sample), and one code's deviation from its own mean image over
    # 8 batches; each on one scale for both variants, the batch norm panel's largest
    # value at full colour.
    added = {n: d - d.mean(axis=0) for n, (_, d, _) in pictures.items()}
    moved = {n: z - z.mean(axis=0) for n, (_, _, z) in pictures.items()}
    scale_added = max(numpy.abs(added["batch norm (batch statistics)"]).max(), 1e-12)
    scale_moved = max(numpy.abs(moved["batch norm (batch statistics)"]).max(), 1e-12)
    panels = []
    for name, (grid, _, _) in pictures.items():
        panels.append((f"{name}: 6 batches of {BATCH}, one per row", to_pixels(grid)))
        panels.append((f"{name}: what its batch added to each image (full colour "
                       f"±{scale_added:.2f}); one colour along a row: the correlation",
                       numpy.clip(added[name] / scale_added, -1, 1)))
    figs.rows(panels, cfg.out / "bn_correlation_batches.png",
              titled("The same weights, two normalizations: batches as rows", claims), note,
              ncol=BATCH)
    panels = []
    for name, (_, _, same_z) in pictures.items():
        panels.append((f"{name}: one code z0 in 8 batches", to_pixels(same_z)))
        panels.append((f"{name}: each minus their mean (full colour ±{scale_moved:.2f}); "
                       f"white: z0's image does not move",
                       numpy.clip(moved[name] / scale_moved, -1, 1)))
    figs.rows(panels, cfg.out / "bn_correlation_same_code.png",
              titled("One code, eight different batch mates", claims), note, ncol=8)
    return {"claims": claims, "model": source, "batch_size": BATCH, "n_batches": n_batches,
            "n_reference": N_REFERENCE, "variants": out}

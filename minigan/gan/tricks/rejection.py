"""Discriminator rejection sampling: the optimal discriminator turned into a sampler.

For a fixed generator with density p_g, the best discriminator is

    D*(x) = p_data(x) / (p_data(x) + p_g(x)),

so its logit l*(x) = log D*(x) / (1 - D*(x)) is the log density ratio
log p_data(x) / p_g(x). That ratio is exactly what rejection sampling needs to
turn samples of p_g (which we can draw) into samples of p_data: draw x ~ p_g
and keep it with probability

    a(x) = p_data(x) / (M p_g(x)) = exp(l(x) - log M),     M >= max_x p_data / p_g.

A kept sample then follows p_g(x) a(x) / (mean acceptance) = p_data(x). A trained
discriminator is only near D*, and M is not known, so (as Azadi et al. 2019,
"Discriminator Rejection Sampling") minigan

1. trains a fresh discriminator to tell real samples from the frozen generator's
   (``fit_density_ratio``: BCE, i.e. the D step of the GAN loop with G fixed),
   so that its logit estimates log p_data / p_g;
2. estimates log M as a high quantile of the logits over a pool of G's samples
   (the very largest logit is one noisy outlier; a quantile slightly below it
   caps the few samples above at acceptance 1);
3. keeps each pooled sample with probability min(1, exp(l(x) - log M))
   (``rejection_sample``).

Where G puts mass between the modes of the data, p_data / p_g is small, and those
samples are thrown away; where G under-fills a mode, the ratio is large and its
samples are kept. The price is the discarded samples (an acceptance of a few
percent needs a pool 20-50 times larger than the samples wanted) and the extra
discriminator training; both are cheap next to training the GAN on a toy problem.
"""
import numpy

from ... import backend, nn, optim
from ...nn import eval_mode
from ...tensor import Tensor, no_grad
from ..step import GANStep


def fit_density_ratio(D, sample_real, sample_fake, steps, batch_size=512, lr=1e-3,
                      betas=(0.5, 0.999), final_lr_factor=0.01, callback=None):
    """Train D (logits) to separate real samples from a fixed generator's, so that
    D's logit approaches log p_data(x) / p_g(x).

    The GAN loop's own step with G held fixed (``GANStep`` with no G optimizer):
    the BCE loss (real label 1, fake 0), Adam, lr held for half the steps, then
    linearly down to ``lr * final_lr_factor`` (a settled estimate, not one that
    jitters with the last batch). ``sample_real(n)`` / ``sample_fake(n)``: n
    samples as Tensors (the generator's are drawn without a graph). Returns D.
    ``callback(step, record)`` is called after each step with the step's record
    (for a progress bar).
    """
    if steps < 1:
        raise ValueError(f"fit_density_ratio: need at least one step, got {steps}")
    opt = optim.Adam(D.parameters(), lr=lr, betas=betas)
    sched = optim.LambdaLR(opt, optim.hold_then_decay(steps, 0.5, 1.0, final_lr_factor))

    def fakes(n):                        # the fixed generator's samples, ready-made
        with no_grad():
            return sample_fake(n)
    # G is the identity: the step's "noise" is already the fakes
    step = GANStep(nn.Identity(), D, None, opt, sample_real, fakes, loss="minimax",
                   batch_size=batch_size, schedulers=[sched])
    for i in range(steps):
        record = step.step()
        if callback is not None:
            callback(i, record)
    return D


def logits_of(D, x, batch=50_000):
    """D's logits on the rows of x (NumPy, shape (N, ...)) as a float64 NumPy vector,
    computed on D's device, without a graph."""
    device = next(iter(D.parameters())).device
    out = []
    with eval_mode(D), no_grad():
        for i in range(0, len(x), batch):
            out.append(backend.to_numpy(D(Tensor(x[i:i + batch], device=device)).data))
    return numpy.concatenate(out).reshape(-1).astype(numpy.float64)


def rejection_sample(pool, logits, n, quantile=99.9, seed=0):
    """Keep each row of `pool` (NumPy, samples of G) with probability
    min(1, exp(logits - log M)), log M = the `quantile`-th percentile of the logits;
    return the first `n` kept rows and the acceptance rate.

    Raises ValueError when fewer than n rows are kept: the caller needs a larger
    pool (the message says how much larger), never fewer samples than asked for.
    """
    logits = numpy.asarray(logits, numpy.float64).reshape(-1)
    if len(logits) != len(pool):
        raise ValueError(f"rejection_sample: {len(pool)} samples but {len(logits)} logits")
    if not numpy.isfinite(logits).all():
        raise ValueError("rejection_sample: the logits contain NaN or inf")
    log_m = numpy.percentile(logits, quantile)
    accept = numpy.exp(numpy.minimum(logits - log_m, 0.0))     # a(x), at most 1
    keep = numpy.random.default_rng(seed).random(len(logits)) < accept
    rate = float(keep.mean())
    if keep.sum() < n:
        need = int(numpy.ceil(n / max(rate, 1e-9) * 1.2))
        raise ValueError(f"rejection_sample: only {int(keep.sum())} of {len(pool)} samples "
                         f"were kept (acceptance {rate:.2%}), {n} wanted; draw a pool of "
                         f"about {need} samples")
    return pool[keep][:n], rate

"""Evaluation mode for a block of code: ``with eval_mode(G): x = G(z)``.

``Module.eval()`` switches a network to evaluation mode for good; ``eval_mode``
switches it for the block and then gives every sub-module back the mode it had,
which is what drawing samples in the middle of training needs.
"""
import contextlib


@contextlib.contextmanager
def eval_mode(*modules):
    """Evaluation mode inside the block (Dropout off, BatchNorm on its running
    statistics: each sample drawn on its own), then every sub-module back in the
    mode it was in, so that drawing samples from a model in the middle of training,
    or from one already in eval mode, leaves it as it was. A module given as None is
    skipped.

    >>> with eval_mode(G):                                   # doctest: +SKIP
    ...     x = G(z)
    """
    modes = [(m, m.training) for module in modules if module is not None
             for m in module.modules()]
    for module in modules:
        if module is not None:
            module.eval()
    try:
        yield modules[0] if len(modules) == 1 else modules
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)

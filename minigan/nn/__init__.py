"""Networks built from modules, in reading order:

* ``module.py``: ``Module`` (parameters, buffers, state dicts, train/eval, to(device)),
  ``Parameter``, the containers ``Sequential`` and ``ModuleList``, and ``eval_mode``
  (evaluation mode inside a block, each module's own mode back afterwards);
* ``init.py``: weight initializers (``minigan.nn.init``) and ``dcgan_init``;
* ``layers.py``: ``Dense``/``Linear``, ``Conv2d``, ``ConvTranspose2d``, ``BatchNorm1d/2d``,
  ``ReferenceBatchNorm2d``, ``VirtualBatchNorm2d`` and their ``ReferenceBatch`` wrapper,
  activations, ``Dropout``, ``Flatten``, ``Reshape``;
* ``summary.py``: the Keras-style ``model.summary()`` table.
"""
from .module import Module, Parameter, Sequential, ModuleList, eval_mode  # noqa: F401
from . import init  # noqa: F401
from .init import dcgan_init  # noqa: F401
from .layers import (Dense, Linear, Conv2d, ConvTranspose2d, BatchNorm1d, BatchNorm2d,  # noqa: F401
                     ReferenceBatchNorm2d, VirtualBatchNorm2d, ReferenceBatch,
                     ReLU, LeakyReLU, Tanh, Sigmoid, Dropout, Flatten, Reshape, Identity)
from .summary import summary  # noqa: F401

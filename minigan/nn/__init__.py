"""Networks built from modules, in reading order:

* ``module.py``: ``Module`` (parameters, buffers, state dicts, train/eval, to(device)),
  ``Parameter``, the containers ``Sequential`` and ``ModuleList``;
* ``modes.py``: ``eval_mode`` (evaluation mode inside a block, each module's own
  mode back afterwards);
* ``init.py``: weight initializers (``minigan.nn.init``);
* ``layers.py``: ``Dense``/``Linear``, ``Conv2d``, ``ConvTranspose2d``, ProGAN's
  ``EqualizedDense`` and ``EqualizedConv2d`` (the equalized learning rate), ``Upsample``
  and ``AvgPool2d`` (resizing by whole factors), ``BatchNorm1d/2d``, ``InstanceNorm2d``,
  ProGAN's ``PixelNorm`` and ``MinibatchStdDev``, ``ReferenceBatchNorm2d``,
  ``VirtualBatchNorm2d`` and their ``ReferenceBatch`` wrapper, ``Embedding`` (a table
  of vectors looked up by integer index), activations, ``Dropout``, ``Flatten``,
  ``Reshape``, and ``dcgan_init`` (the DCGAN paper's initialization of those layers);
* ``summary.py``: the Keras-style ``model.summary()`` table.

No two of them import each other, directly or through others (``module.py`` uses
``summary.py`` for ``Module.summary``, and ``summary.py`` needs only ``modes.py``);
tests/test_layout.py checks it.
"""
from .module import Module, Parameter, Sequential, ModuleList  # noqa: F401
from .modes import eval_mode  # noqa: F401
from . import init  # noqa: F401
from .layers import (Dense, Linear, Conv2d, ConvTranspose2d, Upsample, AvgPool2d,  # noqa: F401
                     EqualizedDense, EqualizedConv2d, PixelNorm, MinibatchStdDev, Embedding,
                     BatchNorm1d, BatchNorm2d, InstanceNorm2d,
                     ReferenceBatchNorm2d, VirtualBatchNorm2d, ReferenceBatch,
                     ReLU, LeakyReLU, Tanh, Sigmoid, Dropout, Flatten, Reshape, Identity,
                     dcgan_init)
from .summary import summary  # noqa: F401

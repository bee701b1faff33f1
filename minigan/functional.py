"""The public functional namespace, ``import minigan.functional as F``.

Names, argument names, defaults and weight layouts follow
``torch.nn.functional`` so that code moves between the two with few changes.
Each function is defined in ``minigan/ops``, next to its backward. Beyond
torch's names, the applications' pieces that PyTorch leaves to user code:
``virtual_batch_norm`` (Salimans et al.), ``pixel_norm`` and ``minibatch_stddev``
(ProGAN).
"""
from .ops.math import (add, sub, mul, div, neg, pow, exp, log, sqrt, abs, maximum, minimum,  # noqa: F401
                       clip, where, relu, leaky_relu, tanh, sigmoid, softplus, log_sigmoid,
                       log_softmax, softmax, dropout)
from .ops.reduce import sum, mean, var, max  # noqa: F401
from .ops.shape import (reshape, flatten, unsqueeze, squeeze, permute, transpose, swapaxes,  # noqa: F401
                        broadcast_to, concat, cat, stack, pad, getitem, embedding)
from .ops.linalg import matmul, linear  # noqa: F401
from .ops.loss import (binary_cross_entropy_with_logits, mse_loss, cross_entropy,  # noqa: F401
                       nll_loss)
from .ops.conv import conv2d, conv_transpose2d  # noqa: F401
from .ops.norm import batch_norm, instance_norm, virtual_batch_norm, pixel_norm  # noqa: F401
from .ops.pool import interpolate, upsample, avg_pool2d  # noqa: F401
from .ops.minibatch import minibatch_stddev  # noqa: F401

clamp = clip

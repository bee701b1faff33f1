"""minigan: a from-scratch NumPy/CuPy engine for teaching generative adversarial networks.

Reading order: backend -> autograd -> tensor -> ops/ -> functional -> gradcheck -> nn/ -> optim -> gan/.
"""
from .backend import manual_seed, cuda_available  # noqa: F401
from .tensor import (Tensor, tensor, no_grad, enable_grad, is_grad_enabled,  # noqa: F401
                     detect_anomaly, grad)
from . import functional  # noqa: F401
from .gradcheck import gradcheck, gradgradcheck  # noqa: F401
from . import nn, optim  # noqa: F401
from .serialization import save, load  # noqa: F401

__version__ = "0.1.0"

"""The layers: each holds its parameters and calls one function of ``minigan.functional``.

Constructor arguments, weight layouts and default initializations follow PyTorch,
so a model and its weights move between the two:

=================  ==========================  ====================================
layer              weight shape                default init (PyTorch's)
=================  ==========================  ====================================
Dense (Linear)     (out, in)                   U(-1/sqrt(fan_in), 1/sqrt(fan_in))
Conv2d             (out, in, kh, kw)           same, fan_in = in*kh*kw
ConvTranspose2d    (in, out, kh, kw)           same, fan_in = out*kh*kw (torch's rule)
BatchNorm1d/2d     (C,) scale and shift        scale 1, shift 0
InstanceNorm2d     (C,), only if affine=True   scale 1, shift 0
Embedding          (num_embeddings, dim)       N(0, 1)
=================  ==========================  ====================================

EqualizedDense and EqualizedConv2d (ProGAN's equalized learning rate) have Dense's
and Conv2d's weight shapes, but draw their weights from N(0, 1) and their biases 0.

The weight's bound is kaiming_uniform_ with a = sqrt(5); the bias's is
1/sqrt(fan_in). A wrong input shape is reported with the layer's own description,
e.g. "Dense(784 -> 1024): expected input with 784 features, got shape (64, 100)".
"""
import math

import numpy

from .. import backend
from .. import functional as F
from ..checks import not_a_tensor, whole_number
from ..ops.conv import int_pair
from ..ops.pool import scale_pair, check_padding, check_window
from ..tensor import DEFAULT_DTYPE, Tensor
from . import init
from .module import Module, Parameter


def _empty(shape, dtype, device):
    """A zero-filled Parameter that an initializer is about to overwrite, made on
    `device` (None: the default device, $MINIGAN_DEVICE or 'cpu'), so a GPU model
    never starts on the host."""
    dtype = numpy.dtype(DEFAULT_DTYPE if dtype is None else dtype)
    device = backend.normalize_device(device)
    xp = backend.module_for(device)            # cupy without CuPy: the error says what to do
    return Parameter(xp.zeros(shape, dtype=dtype), device=device)


def _default_init(weight, bias, fan_in):
    """PyTorch's reset_parameters for Linear and Conv: kaiming_uniform(a=sqrt(5)) on the
    weight (bound 1/sqrt(fan_in)), U(-1/sqrt(fan_in), 1/sqrt(fan_in)) on the bias."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound)


# -------------------------------------------------------------------- dense
class Dense(Module):
    """y = x W^T + b, with W of shape (out_features, in_features): PyTorch's Linear
    (also available as ``Linear``). The input may have any leading axes."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"Dense: in_features and out_features must be positive, "
                             f"got {in_features} and {out_features}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = _empty((out_features, in_features), dtype, device)
        self.bias = _empty((out_features,), dtype, device) if bias else None
        _default_init(self.weight, self.bias, in_features)

    def forward(self, x):
        self._check_input(x)
        return F.linear(x, self.weight, self.bias)

    def _check_input(self, x):
        name = f"{type(self).__name__}({self.in_features} -> {self.out_features})"
        if not isinstance(x, Tensor):
            raise not_a_tensor(name, "the input", x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"{name}: expected input with {self.in_features} features, got "
                             f"shape {tuple(x.shape)}")

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


Linear = Dense


# ------------------------------------------------------------ convolutions
class _ConvBase(Module):
    """What Conv2d and ConvTranspose2d share: arguments, checks, repr."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 bias, weight_shape, device, dtype):
        super().__init__()
        if in_channels <= 0 or out_channels <= 0:
            raise ValueError(f"{type(self).__name__}: in_channels and out_channels must be "
                             f"positive, got {in_channels} and {out_channels}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        name = type(self).__name__
        self.kernel_size = int_pair(kernel_size, "kernel_size", name, 1)
        self.stride = int_pair(stride, "stride", name, 1)
        self.padding = int_pair(padding, "padding", name, 0)
        self.dilation = int_pair(dilation, "dilation", name, 1)
        self.weight = _empty(weight_shape, dtype, device)
        self.bias = _empty((out_channels,), dtype, device) if bias else None
        fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
        _default_init(self.weight, self.bias, fan_in)

    def _check_input(self, x):
        # (N, C, H, W), or one unbatched image (C, H, W) as PyTorch allows
        if not isinstance(x, Tensor):
            raise not_a_tensor(self._describe(), "the input", x)
        if x.ndim not in (3, 4) or x.shape[-3] != self.in_channels:
            raise ValueError(f"{self._describe()}: expected input of shape (N, {self.in_channels}"
                             f", H, W), got shape {tuple(x.shape)}")

    def _describe(self):
        k = self.kernel_size
        return f"{type(self).__name__}({self.in_channels} -> {self.out_channels}, {k[0]}x{k[1]})"

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if getattr(self, "output_padding", (0, 0)) != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvBase):
    """2-D convolution (cross-correlation, as in PyTorch) over NCHW images.

    Weight (out_channels, in_channels, kh, kw). Output size per axis:
    floor((H + 2 padding - dilation (k - 1) - 1) / stride) + 1.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 bias=True, device=None, dtype=None):
        kh, kw = int_pair(kernel_size, "kernel_size", type(self).__name__, 1)
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, bias,
                         (out_channels, in_channels, kh, kw), device, dtype)

    def forward(self, x):
        self._check_input(x)
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                        dilation=self.dilation)


class ConvTranspose2d(_ConvBase):
    """Transposed convolution: the gradient of Conv2d with respect to its input,
    used by a DCGAN generator to upsample. Weight (in_channels, out_channels, kh, kw).
    Output size per axis: (H - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, bias=True, dilation=1, device=None, dtype=None):
        name = type(self).__name__
        kh, kw = int_pair(kernel_size, "kernel_size", name, 1)
        self_output_padding = int_pair(output_padding, "output_padding", name, 0)
        st, di = int_pair(stride, "stride", name, 1), int_pair(dilation, "dilation", name, 1)
        for op, s, d in zip(self_output_padding, st, di):
            if op >= max(s, d):      # PyTorch's rule: else the extra row has no input behind it
                raise ValueError(f"ConvTranspose2d: output_padding ({output_padding}) must be "
                                 f"smaller than stride ({stride}) or dilation ({dilation})")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, bias,
                         (in_channels, out_channels, kh, kw), device, dtype)
        self.output_padding = self_output_padding

    def forward(self, x):
        self._check_input(x)
        return F.conv_transpose2d(x, self.weight, self.bias, stride=self.stride,
                                  padding=self.padding, output_padding=self.output_padding,
                                  dilation=self.dilation)


# ------------------------------------------- ProGAN's equalized learning rate
class _Equalized:
    """What EqualizedDense and EqualizedConv2d share (Karras et al. 2018, "Progressive
    growing of GANs", section 4.1): the stored weight w is drawn from N(0, 1), and the
    layer uses w_hat = c w at every call, with He's constant

        c = gain / sqrt(fan_in)          (gain sqrt(2): c = sqrt(2 / fan_in))

    So the layer computes what the plain layer with weight c w computes, and by the
    chain rule dL/dw = c dL/dw_hat. Why: Adam divides each step by the gradient's own
    scale, so a step changes w by about the learning rate whatever c is; w_hat then
    changes by about c times the learning rate, in proportion to its own scale
    (c), and every layer learns at the same relative speed, however large its
    fan-in. The bias is not scaled and starts at 0. ``gain=1`` for a last layer, as
    the paper's code does."""

    def _equalize(self, gain, fan_in):
        if not gain > 0:
            raise ValueError(f"{type(self).__name__}: gain must be positive, got {gain}")
        self.gain = float(gain)
        self.scale = self.gain / math.sqrt(fan_in)            # c = gain / sqrt(fan_in)
        init.normal_(self.weight, 0.0, 1.0)
        if self.bias is not None:
            init.zeros_(self.bias)

    def effective_weight(self):
        """w_hat = c w, the weight the layer computes with (a Tensor in the graph)."""
        return self.weight * self.scale


class EqualizedDense(_Equalized, Dense):
    """Dense with ProGAN's equalized learning rate: y = x (c W)^T + b, W drawn from
    N(0, 1), c = gain / sqrt(in_features) applied at every call (see ``_Equalized``).
    Its state dict is Dense's (weight, bias), the stored W."""

    def __init__(self, in_features, out_features, bias=True, gain=math.sqrt(2), device=None,
                 dtype=None):
        Dense.__init__(self, in_features, out_features, bias, device, dtype)
        self._equalize(gain, self.in_features)

    def forward(self, x):
        self._check_input(x)
        return F.linear(x, self.effective_weight(), self.bias)

    def extra_repr(self):
        return super().extra_repr() + f", gain={self.gain:.4g}"


class EqualizedConv2d(_Equalized, Conv2d):
    """Conv2d with ProGAN's equalized learning rate: the convolution with weight c w,
    w drawn from N(0, 1), c = gain / sqrt(in_channels kh kw) applied at every call
    (see ``_Equalized``). Its state dict is Conv2d's (weight, bias), the stored w."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 bias=True, gain=math.sqrt(2), device=None, dtype=None):
        Conv2d.__init__(self, in_channels, out_channels, kernel_size, stride, padding,
                        dilation, bias, device, dtype)
        kh, kw = self.kernel_size
        self._equalize(gain, self.in_channels * kh * kw)

    def forward(self, x):
        self._check_input(x)
        return F.conv2d(x, self.effective_weight(), self.bias, stride=self.stride,
                        padding=self.padding, dilation=self.dilation)

    def extra_repr(self):
        return super().extra_repr() + f", gain={self.gain:.4g}"


# ------------------------------------------------ resizing: upsampling and pooling
def _check_image(layer, x):
    """A resizing layer's input: a Tensor (N, C, H, W)."""
    if not isinstance(x, Tensor):
        raise not_a_tensor(layer._describe(), "the input", x)
    if x.ndim != 4:
        raise ValueError(f"{layer._describe()}: expected input of shape (N, C, H, W), got shape "
                         f"{tuple(x.shape)}")


class Upsample(Module):
    """Nearest-neighbour upsampling by a whole factor: each pixel repeated s x s times,
    (N, C, H, W) -> (N, C, s H, s W), the way a U-Net's decoder (pix2pix) doubles its
    images before a convolution. No parameters. ``scale_factor`` is a whole number or
    an (h, w) pair (PyTorch's first argument is ``size``, so PyTorch code names
    scale_factor= anyway); only mode='nearest' is implemented. Backward: each s x s
    block of the gradient summed (``F.interpolate``)."""

    def __init__(self, scale_factor=2, mode="nearest"):
        super().__init__()
        if mode != "nearest":
            raise NotImplementedError(f"Upsample: only mode='nearest' is implemented, got "
                                      f"mode={mode!r}")
        sh, sw = scale_pair("Upsample", scale_factor)
        self.scale_factor = sh if sh == sw else (sh, sw)
        self.mode = mode

    def _describe(self):
        return f"Upsample(scale_factor={self.scale_factor})"

    def forward(self, x):
        _check_image(self, x)
        return F.interpolate(x, scale_factor=self.scale_factor, mode=self.mode)

    def extra_repr(self):
        return f"scale_factor={self.scale_factor}, mode={self.mode!r}"


class AvgPool2d(Module):
    """The mean of each kh x kw window, every channel on its own: PyTorch's AvgPool2d with
    its defaults (stride = kernel_size, zero padding counted in the mean, the output
    size rounded down: floor((H + 2 padding - kh) / stride) + 1). No parameters.
    ceil_mode, count_include_pad and divisor_override are accepted at their defaults
    only (``F.avg_pool2d``)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        name = type(self).__name__
        if ceil_mode or not count_include_pad or divisor_override is not None:
            raise NotImplementedError(f"{name}: only PyTorch's defaults are implemented "
                                      f"(ceil_mode=False, count_include_pad=True, "
                                      f"divisor_override=None)")
        self.kernel_size = int_pair(kernel_size, "kernel_size", name, 1)
        self.stride = self.kernel_size if stride is None else int_pair(stride, "stride", name, 1)
        self.padding = int_pair(padding, "padding", name, 0)
        check_padding(name, self.kernel_size, self.padding)

    def _describe(self):
        return f"AvgPool2d(kernel_size={self.kernel_size}, stride={self.stride})"

    def forward(self, x):
        _check_image(self, x)
        check_window(self._describe(), x.shape, self.kernel_size, self.padding)
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        s = f"kernel_size={self.kernel_size}, stride={self.stride}"
        return s + (f", padding={self.padding}" if self.padding != (0, 0) else "")


# ------------------------------------------------------------ batch norm
def _check_channels_input(layer, x):
    """x must be a Tensor (N, C, H, W) with the layer's C = num_features channels; the
    error names the layer (``layer._describe()``), what it expected and what it got."""
    if not isinstance(x, Tensor):
        raise not_a_tensor(layer._describe(), "the input", x)
    if x.ndim != 4 or x.shape[1] != layer.num_features:
        raise ValueError(f"{layer._describe()}: expected input of shape (N, "
                         f"{layer.num_features}, H, W), got shape {tuple(x.shape)}")


def _init_normalization(layer, num_features, eps, affine, dtype, device):
    """What every normalization layer checks and holds: num_features > 0, eps > 0,
    and (affine) a per-channel scale starting at 1 and shift starting at 0."""
    name = type(layer).__name__
    if num_features <= 0:
        raise ValueError(f"{name}: num_features must be positive, got {num_features}")
    if eps <= 0:
        raise ValueError(f"{name}: eps must be positive, got {eps}")
    layer.num_features, layer.eps, layer.affine = int(num_features), eps, affine
    if affine:
        layer.weight = init.ones_(_empty((num_features,), dtype, device))
        layer.bias = init.zeros_(_empty((num_features,), dtype, device))
    else:
        layer.weight = layer.bias = None


class _BatchNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, per channel (axis 1).

    Training: mean and var are the batch's (var biased), and the running
    statistics move toward them: running = (1 - momentum) running + momentum batch
    (the running variance uses the unbiased batch variance, as in PyTorch).
    ``momentum=None`` makes them the plain mean over every batch seen so far
    (PyTorch's cumulative average): batch k enters with momentum 1/k, counted in
    the buffer ``num_batches_tracked``. Evaluation: the running statistics are used
    instead.
    """
    _expected_ndims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None):
        super().__init__()
        _init_normalization(self, num_features, eps, affine, dtype, device)
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1] or None (a "
                             f"cumulative average), got {momentum}")
        self.momentum, self.track_running_stats = momentum, track_running_stats
        if track_running_stats:
            self.register_buffer("running_mean", _empty((num_features,), dtype, device).detach())
            self.register_buffer("running_var",
                                 init.ones_(_empty((num_features,), dtype, device)).detach())
            if momentum is None:         # the cumulative average needs the batches' count
                device = backend.normalize_device(device)
                self.register_buffer("num_batches_tracked", Tensor(
                    backend.module_for(device).zeros((), dtype="int64"), device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)

    def forward(self, x):
        if not isinstance(x, Tensor):
            raise not_a_tensor(f"{type(self).__name__}({self.num_features})", "the input", x)
        if x.ndim not in self._expected_ndims or x.shape[1] != self.num_features:
            want = " or ".join(self._shape_words)
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected input of "
                             f"shape {want}, got shape {tuple(x.shape)}")
        # Without running statistics there is nothing else to use: batch statistics always.
        use_batch = self.training or self.running_mean is None
        momentum = self.momentum
        if momentum is None and use_batch and self.running_mean is not None:
            momentum = 1.0 / self._count_batch()      # batch k: the mean of all k so far
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_batch, momentum, self.eps)

    def _count_batch(self):
        """num_batches_tracked += 1; returns the new count (momentum=None's 1/k)."""
        count = getattr(self, "num_batches_tracked", None)
        if count is None:
            raise ValueError(f"{type(self).__name__}: momentum=None (a cumulative average) must "
                             f"be chosen when the layer is made, which gives it the "
                             f"num_batches_tracked buffer it counts batches in")
        count.data += 1
        return int(count.data)

    def reset_running_stats(self):
        if self.running_mean is not None:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
        if getattr(self, "num_batches_tracked", None) is not None:
            self.num_batches_tracked.data[...] = 0

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over features: input (N, C) or (N, C, L), statistics over N (and L)."""
    _expected_ndims = (2, 3)

    @property
    def _shape_words(self):
        return (f"(N, {self.num_features})", f"(N, {self.num_features}, L)")


class BatchNorm2d(_BatchNorm):
    """Batch norm over image channels: input (N, C, H, W), statistics over N, H and W."""
    _expected_ndims = (4,)

    @property
    def _shape_words(self):
        return (f"(N, {self.num_features}, H, W)",)


class InstanceNorm2d(Module):
    """Instance norm (Ulyanov et al. 2016), the normalization of pix2pix's and CycleGAN's
    generators: each sample's channels normalized over that sample's own pixels,

        y[n, c] = (x[n, c] - mean(x[n, c])) / sqrt(var(x[n, c]) + eps) * weight[c] + bias[c]

    (var biased), so one image's output never depends on the rest of its batch, and
    training and evaluation compute the same thing. PyTorch's defaults: affine=False
    (no weight or bias; with affine=True they start at 1 and 0) and no running
    statistics (``track_running_stats=True`` is not implemented; ``momentum`` is
    accepted and unused). Input (N, C, H, W).
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None):
        super().__init__()
        _init_normalization(self, num_features, eps, affine, dtype, device)
        if track_running_stats:
            raise NotImplementedError("InstanceNorm2d: track_running_stats=True is not "
                                      "implemented; every sample is normalized with its own "
                                      "statistics, in training and evaluation alike")
        self.momentum, self.track_running_stats = momentum, False

    def _describe(self):
        return f"InstanceNorm2d({self.num_features})"

    def forward(self, x):
        _check_channels_input(self, x)
        return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, affine={self.affine}"


# ------------------------------------------ ProGAN's pixel norm and minibatch stddev
class PixelNorm(Module):
    """ProGAN's pixel-wise feature normalization (Karras et al. 2018, section 4.2):
    each pixel's feature vector divided by its root mean square,

        b[n, c, h, w] = a[n, c, h, w] / sqrt((1/C) sum over c' of a[n, c', h, w]^2 + eps)

    after each convolution of the generator, in place of batch norm. No parameters,
    no statistics over the batch, the same in training and evaluation. Input (N, C)
    or (N, C, H, W) (``F.pixel_norm``)."""

    def __init__(self, eps=1e-8):
        super().__init__()
        if not eps >= 0:
            raise ValueError(f"PixelNorm: eps must be >= 0, got {eps}")
        self.eps = eps

    def forward(self, x):
        if not isinstance(x, Tensor):
            raise not_a_tensor("PixelNorm", "the input", x)
        if x.ndim not in (2, 4):
            raise ValueError(f"PixelNorm: expected input of shape (N, C) or (N, C, H, W), got "
                             f"shape {tuple(x.shape)}")
        return F.pixel_norm(x, self.eps)

    def extra_repr(self):
        return f"eps={self.eps}"


class MinibatchStdDev(Module):
    """ProGAN's minibatch standard deviation (Karras et al. 2018, section 3), at the
    start of D's last block: (N, C, H, W) -> (N, C + 1, H, W), the extra channel the
    standard deviation of each feature and pixel over a group of ``group_size``
    samples, averaged into one number per group (``F.minibatch_stddev``: groups of
    min(group_size, N), and N must be a multiple of that). A batch of identical images
    gets a map of sqrt(eps), about 0; varied ones a larger number, so D can see a
    collapsed generator. No parameters. The layer that follows takes C + 1 channels."""

    def __init__(self, group_size=4, eps=1e-8):
        super().__init__()
        self.group_size = whole_number(group_size, "group_size", "MinibatchStdDev", minimum=1)
        if not eps >= 0:
            raise ValueError(f"MinibatchStdDev: eps must be >= 0, got {eps}")
        self.eps = eps

    def forward(self, x):
        if not isinstance(x, Tensor):
            raise not_a_tensor(self._describe(), "the input", x)
        if x.ndim != 4:
            raise ValueError(f"{self._describe()}: expected input of shape (N, C, H, W), got "
                             f"shape {tuple(x.shape)}")
        return F.minibatch_stddev(x, self.group_size, self.eps)

    def _describe(self):
        return f"MinibatchStdDev(group_size={self.group_size})"

    def extra_repr(self):
        return f"group_size={self.group_size}"


# ------------------------------------------ reference and virtual batch norm
class ReferenceBatchNorm2d(Module):
    """Batch norm whose statistics come from a reference batch fixed in advance, so
    a sample's output does not depend on the rest of its batch (Salimans et al. 2016).

    ``reference``: the batch (R, num_features, H, W) of this layer's inputs whose
    per-channel mean and (biased) variance normalize every sample, fixed at
    construction and kept as a buffer (saved and moved with the model). Inside a
    network the layer's input for the reference batch changes as earlier layers
    learn: leave ``reference`` out and wrap the network in ``ReferenceBatch(net,
    reference_inputs)``, which runs the reference batch through the network
    before every batch, so these statistics follow the weights (with gradient).

    y = (x - mean_ref) / sqrt(var_ref + eps) * weight + bias   (``F.virtual_batch_norm``
    with include_self=False). There is no train/eval difference and no running
    statistics.
    """
    include_self = False

    def __init__(self, num_features, reference=None, eps=1e-5, affine=True, device=None,
                 dtype=None):
        super().__init__()
        _init_normalization(self, num_features, eps, affine, dtype, device)
        self.register_buffer("reference", None)
        if reference is not None:
            self.reference = self._checked_reference(reference).detach().to(
                device=backend.normalize_device(device),
                dtype=numpy.dtype(DEFAULT_DTYPE if dtype is None else dtype))
        self._capturing = False      # set by ReferenceBatch during its reference pass
        self._captured = None        # this layer's input for the reference batch, this step

    def _checked_reference(self, reference):
        ref = reference if isinstance(reference, Tensor) else Tensor(numpy.asarray(reference))
        if ref.ndim != 4 or ref.shape[1] != self.num_features or ref.shape[0] < 1:
            raise ValueError(f"{self._describe()}: the reference batch must have shape (R, "
                             f"{self.num_features}, H, W) with R >= 1, got shape "
                             f"{tuple(ref.shape)}")
        if ref.shape[0] * ref.shape[2] * ref.shape[3] < 2:
            raise ValueError(f"{self._describe()}: the reference batch {tuple(ref.shape)} has "
                             f"one value per channel, too few for a variance")
        return ref

    def _describe(self):
        return f"{type(self).__name__}({self.num_features})"

    def forward(self, x):
        _check_channels_input(self, x)
        if self._capturing:
            # ReferenceBatch's first pass: x *is* the reference batch; it is normalized
            # by its own statistics, and kept for the pass of the real batch
            self._captured = x
            return F.virtual_batch_norm(x, x, self.weight, self.bias, self.eps, False)
        ref = self._captured if self._captured is not None else self.reference
        if ref is None:
            raise ValueError(f"{self._describe()}: no reference batch; give reference= at "
                             f"construction, or wrap the network in nn.ReferenceBatch(net, "
                             f"reference_inputs)")
        return F.virtual_batch_norm(x, ref, self.weight, self.bias, self.eps, self.include_self)

    def extra_repr(self):
        ref = "from ReferenceBatch" if self.reference is None else \
            f"reference={tuple(self.reference.shape)}"
        return f"{self.num_features}, {ref}, eps={self.eps}, affine={self.affine}"


class VirtualBatchNorm2d(ReferenceBatchNorm2d):
    """Virtual batch norm (Salimans et al. 2016): each sample is normalized with the
    statistics of the reference batch *together with itself*, R + 1 samples, so
    that it is also normalized like a member of a batch (the reference's
    statistics alone would ignore it), yet its output still depends on itself and
    the fixed reference only, never on its batch mates.

    For channel c with a = HW / (R HW + HW) = 1 / (R + 1) (same image size):
        mean_i = (1 - a) mean_ref + a mean(x_i),
        var_i  = the variance of the reference's values and x_i's pooled,
        y_i    = (x_i - mean_i) / sqrt(var_i + eps) * weight + bias.
    ``reference`` as in ``ReferenceBatchNorm2d`` (fixed at construction, or left out
    for a ``ReferenceBatch`` wrapper to supply).
    """
    include_self = True


class ReferenceBatch(Module):
    """``net`` whose Reference/VirtualBatchNorm2d layers take their reference statistics
    from ``net(reference)``: the reference inputs (e.g. a batch of noise codes for a
    generator) are fixed at construction; every call first runs them through the
    network (each such layer normalizing them by their own statistics and keeping
    them), then runs the real batch, each layer normalizing with the reference's
    activations of this very step. Gradients flow through both passes, as in the
    paper; the cost is a second forward pass of R samples.
    """

    def __init__(self, net, reference):
        super().__init__()
        self.net = net
        ref = reference if isinstance(reference, Tensor) else Tensor(numpy.asarray(reference))
        self.register_buffer("reference", ref.detach())
        if not self._layers():
            raise ValueError("ReferenceBatch: the network has no ReferenceBatchNorm2d or "
                             "VirtualBatchNorm2d layer to give a reference batch to")

    def _layers(self):
        return [m for m in self.net.modules() if isinstance(m, ReferenceBatchNorm2d)]

    def forward(self, *inputs):
        layers = self._layers()
        for m in layers:
            m._capturing = True
        try:
            self.net(self.reference)
        finally:
            for m in layers:
                m._capturing = False
        try:
            return self.net(*inputs)
        finally:
            for m in layers:          # the next call captures afresh
                m._captured = None


# ------------------------------------------------------------------ embedding
class Embedding(Module):
    """A table of num_embeddings vectors of size embedding_dim, looked up by integer
    indices of any shape: (N,) -> (N, embedding_dim), (N, L) -> (N, L, embedding_dim);
    PyTorch's Embedding, its weight (num_embeddings, embedding_dim) drawn from N(0, 1).
    A class label becomes a learned vector this way (a conditional generator's input,
    StackGAN's conditioning on a label). Backward: each row's gradient is the sum over
    the places it was looked up (``F.embedding``). The indices are a Tensor of
    integers in 0..num_embeddings-1. padding_idx, max_norm and sparse gradients are
    not implemented (they must stay at their defaults)."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, device=None,
                 dtype=None):
        super().__init__()
        self.num_embeddings = whole_number(num_embeddings, "num_embeddings", "Embedding", 1)
        self.embedding_dim = whole_number(embedding_dim, "embedding_dim", "Embedding", 1)
        if padding_idx is not None or max_norm is not None or scale_grad_by_freq or sparse:
            raise NotImplementedError("Embedding: padding_idx, max_norm, scale_grad_by_freq and "
                                      "sparse are not implemented; leave them at their defaults")
        self.weight = init.normal_(_empty((self.num_embeddings, self.embedding_dim), dtype,
                                          device))

    def forward(self, input):
        if not isinstance(input, Tensor) and not hasattr(input, "dtype"):
            raise not_a_tensor(self._describe(), "the input", input)
        return F.embedding(input, self.weight)

    def _describe(self):
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


# ------------------------------------------------------------- activations
class ReLU(Module):
    """max(x, 0). (``inplace`` is accepted for PyTorch code and ignored: minigan
    always makes a new array, which gives the same result.)"""

    def __init__(self, inplace=False):
        super().__init__()

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise (the DCGAN discriminator uses 0.2)."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    """tanh(x), squashing a generator's output into (-1, 1)."""

    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    """1 / (1 + e^-x), a discriminator's probability 'real'."""

    def forward(self, x):
        return F.sigmoid(x)


# ------------------------------------------------- regularization and shape
class Dropout(Module):
    """In training, zero each element with probability p and scale the survivors by
    1 / (1 - p), so the expected value is unchanged; in evaluation, the identity."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p is a probability and must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Flatten(Module):
    """Merge axes start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        if not isinstance(x, Tensor):
            raise not_a_tensor(f"Flatten(start_dim={self.start_dim})", "the input", x)
        if x.ndim <= self.start_dim:
            raise ValueError(f"Flatten(start_dim={self.start_dim}): expected an input with more "
                             f"than {self.start_dim} axes, got shape {tuple(x.shape)}")
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Reshape(Module):
    """Give each sample a new shape, keeping the batch axis: Reshape(1, 28, 28) turns
    (N, 784) into (N, 1, 28, 28). One entry may be -1."""

    def __init__(self, *shape):
        super().__init__()
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if sum(1 for s in shape if s == -1) > 1:
            raise ValueError(f"Reshape({', '.join(map(str, shape))}): at most one entry may be -1")
        self.shape = tuple(int(s) for s in shape)

    def forward(self, x):
        if not isinstance(x, Tensor):
            raise not_a_tensor(f"Reshape({self.extra_repr()})", "the input", x)
        n = 1
        for s in self.shape:
            n *= s
        per_sample = x.size // x.shape[0] if x.ndim and x.shape[0] else 0
        if x.ndim == 0 or (n > 0 and per_sample != n) or (n < 0 and per_sample % -n):
            raise ValueError(f"Reshape({self.extra_repr()}): each sample of the input has "
                             f"{per_sample} "
                             f"elements (input shape {tuple(x.shape)}), which cannot be "
                             f"shaped as {self.shape}")
        return x.reshape((x.shape[0],) + self.shape)

    def extra_repr(self):
        return ", ".join(map(str, self.shape))


class Identity(Module):
    """Returns its input (a placeholder, e.g. for a layer switched off)."""

    def forward(self, x):
        return x


# ------------------------------------------------- the DCGAN paper's initialization
def dcgan_init(module):
    """The DCGAN paper's initialization (Radford et al. 2016), applied to every layer
    inside `module`: conv, transposed-conv and dense weights from N(0, 0.02^2);
    BatchNorm weight (scale) from N(1, 0.02^2) and bias 0. Other biases keep their
    default initialization. Equalized layers (ProGAN's) keep their N(0, 1) weights.
    Returns the module, so ``G = dcgan_init(Generator())`` works.
    """
    for m in module.modules():
        if isinstance(m, _Equalized):        # its N(0, 1) weights are scaled at every call
            continue
        if isinstance(m, (Dense, Conv2d, ConvTranspose2d)):
            init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, _BatchNorm) and m.weight is not None:
            init.normal_(m.weight, 1.0, 0.02)
            init.zeros_(m.bias)
    return module

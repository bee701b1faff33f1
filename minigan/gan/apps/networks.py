"""The networks of the translation applications, for MNIST-sized images (NCHW).

* ``UNet``: pix2pix's generator (Isola et al. 2017). An encoder of strided
  convolutions halves the image three times (28 -> 14 -> 7 -> 3); a decoder of
  transposed convolutions doubles it back, and each decoder stage is fed the
  encoder's map of the same size beside its own (a *skip connection*, a concat
  along channels), so the fine detail of the input need not squeeze through the
  3 x 3 bottleneck. ``skips=False`` gives the plain encoder-decoder, the
  lecture's other generator choice (and DiscoGAN's).
* ``ResnetGenerator``: CycleGAN's and StarGAN's generator (Johnson et al. 2016):
  down twice, residual blocks at 7 x 7, up twice; instance norm.
* ``PatchDiscriminator``: the "PatchGAN" (pix2pix, CycleGAN): convolutions only,
  so D answers with a map of logits, one per overlapping patch of the input (for
  28 x 28: a 7 x 7 map, each logit seeing an 18 x 18 patch), and the loss
  averages over patches: D judges local texture, the L1 or cycle term the
  global layout.
* ``StarDiscriminator``: StarGAN's D, one trunk with two heads: real-or-fake per
  patch, and which of the k domains the image belongs to.
* ``with_domain``: StarGAN's conditioning, the one-hot target domain spread over
  every pixel as k more input channels.

Sizes need not be powers of two: a transposed convolution (kernel 4, stride 2,
padding 1) maps h to 2h, so a decoder stage that must reach an odd size (7 from
3) asks for one more row and column (``output_padding``), computed in
``up_to`` from the size it must match.
"""
from ... import nn
from ... import functional as F
from ...ops.shape import concat
from ..models import one_hot

NORMS = ("batch", "instance", "none")


def norm_layer(kind, channels):
    """A normalization of `channels` channels: batch norm (pix2pix, DiscoGAN), instance
    norm with a learned scale and shift (CycleGAN, StarGAN: each image normalized by
    itself, so one image's style does not leak into another's), or none."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {kind!r}")


def up_to(layer, x, size):
    """The transposed convolution `layer` (kernel 4, stride 2, padding 1) applied to
    x, its output made exactly `size` = (h, w): 2h_in naturally, one more row or
    column via ``output_padding`` where the encoder's map was odd."""
    h, w = x.shape[2], x.shape[3]
    extra = (size[0] - 2 * h, size[1] - 2 * w)
    if not all(e in (0, 1) for e in extra):
        raise ValueError(f"up_to: a stride-2 up-convolution takes {h}x{w} to {2 * h}x{2 * w} "
                         f"or one more, not {size[0]}x{size[1]}")
    return F.conv_transpose2d(x, layer.weight, layer.bias, stride=2, padding=1,
                              output_padding=extra)


def _check_image(who, x, channels):
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(f"{who}: expected images of shape (N, {channels}, H, W), got "
                         f"{tuple(x.shape)}")
    if x.shape[2] < 8 or x.shape[3] < 8:
        raise ValueError(f"{who}: images must be at least 8x8 (three halvings), got "
                         f"{x.shape[2]}x{x.shape[3]}")


class UNet(nn.Module):
    """G(x): image to image, three stages down, three up (kernel 4, stride 2, padding 1).

        e1 = lrelu(conv(x))               w    x 14 x 14   (no norm on the input layer)
        e2 = lrelu(norm(conv(e1)))        2w   x  7 x  7
        e3 = relu(norm(conv(e2)))         4w   x  3 x  3   (the bottleneck)
        d2 = relu(norm(up(e3)))           2w   x  7 x  7,  then [d2, e2] when skips
        d1 = relu(norm(up(d2)))           w    x 14 x 14,  then [d1, e1] when skips
        y  = tanh(up(d1))                 out  x 28 x 28
    """

    def __init__(self, in_channels=1, out_channels=1, width=32, skips=True, norm="batch"):
        super().__init__()
        self.in_channels, self.skips = in_channels, bool(skips)
        w, s = width, 2 if skips else 1          # a skip doubles a decoder stage's input
        self.down1 = nn.Conv2d(in_channels, w, 4, 2, 1)
        self.down2 = nn.Conv2d(w, 2 * w, 4, 2, 1)
        self.norm2 = norm_layer(norm, 2 * w)
        self.down3 = nn.Conv2d(2 * w, 4 * w, 4, 2, 1)
        self.norm3 = norm_layer(norm, 4 * w)
        self.up2 = nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1)
        self.unorm2 = norm_layer(norm, 2 * w)
        self.up1 = nn.ConvTranspose2d(s * 2 * w, w, 4, 2, 1)
        self.unorm1 = norm_layer(norm, w)
        self.out = nn.ConvTranspose2d(s * w, out_channels, 4, 2, 1)
        nn.dcgan_init(self)

    def forward(self, x):
        _check_image(type(self).__name__, x, self.in_channels)
        e1 = F.leaky_relu(self.down1(x), 0.2)
        e2 = F.leaky_relu(self.norm2(self.down2(e1)), 0.2)
        e3 = F.relu(self.norm3(self.down3(e2)))
        d2 = F.relu(self.unorm2(up_to(self.up2, e3, e2.shape[2:])))
        if self.skips:
            d2 = concat([d2, e2], axis=1)         # the skip: e2's detail beside d2
        d1 = F.relu(self.unorm1(up_to(self.up1, d2, e1.shape[2:])))
        if self.skips:
            d1 = concat([d1, e1], axis=1)
        return F.tanh(up_to(self.out, d1, x.shape[2:]))

    def extra_repr(self):
        return f"skips={self.skips}"


class ResidualBlock(nn.Module):
    """x + norm(conv(relu(norm(conv(x))))): the block learns a change to x, not x.

    ``dilation`` d spaces each 3x3 kernel's taps d pixels apart (padding d keeps the
    size): the block then sees 4d + 1 pixels across instead of 5, for the same
    weights and work."""

    def __init__(self, channels, norm="instance", dilation=1):
        super().__init__()
        d = dilation
        self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, 1, d, dilation=d),
                                  norm_layer(norm, channels), nn.ReLU(),
                                  nn.Conv2d(channels, channels, 3, 1, d, dilation=d),
                                  norm_layer(norm, channels))

    def forward(self, x):
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """G(x): conv 3x3 (w) -> down to 14 (2w) -> down to 7 (4w) -> `blocks` residual
    blocks -> up to 14 -> up to 28 -> conv 3x3 -> tanh; norm and ReLU between."""

    def __init__(self, in_channels=1, out_channels=1, width=32, blocks=3, norm="instance",
                 stem_norm=None):
        super().__init__()
        self.in_channels, w = in_channels, width
        stem_norm = norm if stem_norm is None else stem_norm
        self.stem = nn.Sequential(nn.Conv2d(in_channels, w, 3, 1, 1), norm_layer(stem_norm, w),
                                  nn.ReLU())
        self.down1 = nn.Sequential(nn.Conv2d(w, 2 * w, 4, 2, 1), norm_layer(norm, 2 * w),
                                   nn.ReLU())
        self.down2 = nn.Sequential(nn.Conv2d(2 * w, 4 * w, 4, 2, 1), norm_layer(norm, 4 * w),
                                   nn.ReLU())
        self.blocks = nn.Sequential(*[ResidualBlock(4 * w, norm) for _ in range(blocks)])
        self.up1 = nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1)
        self.unorm1 = norm_layer(norm, 2 * w)
        self.up2 = nn.ConvTranspose2d(2 * w, w, 4, 2, 1)
        self.unorm2 = norm_layer(norm, w)
        self.out = nn.Conv2d(w, out_channels, 3, 1, 1)
        nn.dcgan_init(self)

    def forward(self, x):
        _check_image(type(self).__name__, x, self.in_channels)
        h1 = self.down1(self.stem(x))             # 14 x 14
        h = self.blocks(self.down2(h1))           # 7 x 7
        h = F.relu(self.unorm1(up_to(self.up1, h, h1.shape[2:])))
        h = F.relu(self.unorm2(up_to(self.up2, h, x.shape[2:])))
        return F.tanh(self.out(h))


class PatchDiscriminator(nn.Module):
    """D(x) -> a map of logits, one per patch (PatchGAN):

        conv 4/2 (w) lrelu -> conv 4/2 (2w) norm lrelu -> conv 3/1 (1)

    28 x 28 in, 7 x 7 logits out; each logit's receptive field is 18 x 18 pixels
    (4, then 4 + 3*2 = 10, then 10 + 2*4 = 18). pix2pix feeds it the input and
    the output side by side (``in_channels=2``): D judges the pair, a conditional GAN."""

    def __init__(self, in_channels=1, width=32, norm="batch"):
        super().__init__()
        self.in_channels = in_channels
        self.net = nn.dcgan_init(nn.Sequential(
            nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1), norm_layer(norm, 2 * width),
            nn.LeakyReLU(0.2), nn.Conv2d(2 * width, 1, 3, 1, 1)))

    def forward(self, *images):
        x = images[0] if len(images) == 1 else concat(list(images), axis=1)
        _check_image(type(self).__name__, x, self.in_channels)
        return self.net(x)


def with_domain(x, domains, n_domains):
    """[x, one-hot(domain) spread over every pixel]: (N, C, H, W) -> (N, C + k, H, W)."""
    n, _, h, w = x.shape
    maps = one_hot(domains, n_domains, x.dtype).reshape(n, n_domains, 1, 1)
    return concat([x, maps.broadcast_to((n, n_domains, h, w))], axis=1)


class StarGenerator(nn.Module):
    """G(x, c): a ResnetGenerator fed the image and the target domain c's maps.

    Its first layer has no normalization, unlike StarGAN's: the domain maps are
    constant over the image, so the first convolution turns them into a constant
    per channel, and a constant per channel and image is exactly what instance
    norm subtracts; the target domain would reach the rest of G only through the
    zero padding at the borders. Without a norm there, the constant shifts each
    channel before the ReLU, which keeps a different part of the image for each
    domain, and no later instance norm can take that back. (Batch norm would keep
    the shift too, but its running statistics, gathered over real images and G's
    own outputs fed back for the reconstruction, fit neither at test time.)"""

    def __init__(self, n_domains, width=32, blocks=3, channels=1):
        super().__init__()
        self.n_domains = n_domains
        self.net = ResnetGenerator(channels + n_domains, channels, width, blocks,
                                   norm="instance", stem_norm="none")

    def forward(self, x, target):
        return self.net(with_domain(x, target, self.n_domains))


class StarDiscriminator(nn.Module):
    """D(x) -> (patch logits of real-or-fake, k logits of the domain), one trunk: the
    PatchDiscriminator's (CycleGAN's D) with a second head.

        conv 4/2 (w) lrelu -> conv 4/2 (2w) instance norm lrelu       2w x 7 x 7
        src: conv 3/1 (1)               7 x 7 patch logits, as PatchDiscriminator's
        cls: conv 7/1, no padding (k)   1 x 1, flattened to k logits: the whole image"""

    def __init__(self, n_domains, width=32, channels=1):
        super().__init__()
        self.n_domains, self.channels = n_domains, channels
        self.trunk = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1), norm_layer("instance", 2 * width),
            nn.LeakyReLU(0.2))
        self.src = nn.Conv2d(2 * width, 1, 3, 1, 1)
        self.cls = nn.Conv2d(2 * width, n_domains, 7, 1, 0)
        nn.dcgan_init(self)

    def forward(self, x):
        _check_image(type(self).__name__, x, self.channels)
        if x.shape[2] != 28 or x.shape[3] != 28:
            raise ValueError(f"StarDiscriminator: its domain head is sized for 28x28 "
                             f"images, got {x.shape[2]}x{x.shape[3]}")
        h = self.trunk(x)
        return self.src(h), self.cls(h).reshape(x.shape[0], self.n_domains)

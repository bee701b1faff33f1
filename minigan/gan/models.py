"""The networks of minigan's GANs, built from ``minigan.nn`` layers.

The toy GANs on mixtures of Gaussians use small MLPs:

* G: z -> [Dense hidden -> ReLU] x depth -> Dense 2  (-> Rescale(s))
* D: x -> (Rescale(1/s) ->) [Dense hidden -> ReLU] x depth -> Dense 1 (a logit)

and two techniques that wrap them:

* ``Packed``: PacGAN's packing (Lin et al. 2018). D judges m samples at once,
  (B, d) -> (B/m, m d). A collapsed generator gives packs whose m points sit
  on one mode, which real packs rarely do, so D can punish the collapse.
* ``Rescale``: a fixed factor. G ending in Rescale(s) and D starting with
  Rescale(1/s) make both networks work on the plane shrunk by s, so Adam moves
  G's output s times faster.
"""
from .. import nn


class Rescale(nn.Module):
    """x -> factor * x, a fixed factor (nothing learned)."""

    def __init__(self, factor):
        super().__init__()
        self.factor = float(factor)

    def forward(self, x):
        return x * self.factor

    def extra_repr(self):
        return f"factor={self.factor:g}"


class Packed(nn.Module):
    """PacGAN's packing around a discriminator: (B, d) samples -> (B/m, m d) packs.

    Consecutive samples form one pack: rows 0..m-1 the first, m..2m-1 the second...
    """

    def __init__(self, net, pack):
        super().__init__()
        self.net, self.pack = net, int(pack)

    def forward(self, x):
        return self.net(pack(x, self.pack))

    def extra_repr(self):
        return f"pack={self.pack}"


def pack(x, m):
    """(B, d) -> (B/m, m d): m consecutive samples side by side in one row."""
    if x.ndim != 2 or x.shape[0] % m:
        raise ValueError(f"Packed(pack={m}): expected a batch of shape (B, d) with B "
                         f"divisible by {m}, got shape {tuple(x.shape)}")
    return x.reshape(x.shape[0] // m, x.shape[1] * m)


def mlp_generator(noise_dim=2, hidden=128, depth=2, out_dim=2, out_scale=1.0):
    """z -> [Dense hidden -> ReLU] x depth -> Dense out_dim (-> Rescale(out_scale))."""
    layers, d = [], noise_dim
    for _ in range(depth):
        layers += [nn.Dense(d, hidden), nn.ReLU()]
        d = hidden
    layers.append(nn.Dense(d, out_dim))
    if out_scale != 1.0:
        layers.append(Rescale(out_scale))
    return nn.Sequential(*layers)


def mlp_discriminator(pack=1, hidden=128, depth=2, in_dim=2, in_scale=1.0):
    """x (m packed samples) (-> Rescale(1 / in_scale)) -> [Dense hidden -> ReLU] x depth
    -> Dense 1; wrapped in ``Packed`` when pack > 1."""
    layers, d = ([] if in_scale == 1.0 else [Rescale(1.0 / in_scale)]), in_dim * pack
    for _ in range(depth):
        layers += [nn.Dense(d, hidden), nn.ReLU()]
        d = hidden
    net = nn.Sequential(*layers, nn.Dense(d, 1))
    return net if pack == 1 else Packed(net, pack)

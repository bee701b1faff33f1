"""A generator's images as pixels, the form ``samples.npy`` keeps and the judges read:
uint8, (N, 28, 28), pixel = round((x + 1) * 127.5) for x in [-1, 1]."""
import numpy

from ..nn import eval_mode
from ..tensor import no_grad


def to_pixels(images):
    """Images in [-1, 1] (any of (N, 784), (N, 28, 28), (N, 1, 28, 28)) as uint8 pixels
    (N, 28, 28): pixel = round((x + 1) * 127.5), the convention of samples.npy."""
    x = numpy.asarray(images, numpy.float32).reshape(len(images), 28, 28)
    return numpy.clip(numpy.round((x + 1.0) * 127.5), 0, 255).astype(numpy.uint8)


def generate(G, z, labels=None, batch=500):
    """G's images for the noise z (and classes), in eval mode (batch norm uses its
    running statistics), as uint8 pixels (N, 28, 28); G is left in the mode it was in."""
    out = []
    with eval_mode(G), no_grad():
        for i in range(0, len(z), batch):
            args = (z[i:i + batch],) + (() if labels is None else (labels[i:i + batch],))
            out.append(to_pixels(G(*args).numpy()))
    return numpy.concatenate(out)

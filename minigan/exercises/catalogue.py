"""The exercises, in the order a class meets them.

Each exercise is one op of the engine whose backward the student writes. It
has a number (its place in the suggested order, and the prefix of its file),
a name, the lecture that motivates it, a difficulty and a one-line summary.
The lectures are the five GAN lectures minigan is built to teach, numbered
1 to 5 (see the README's "Teaching with minigan"):

    1  introduction: generator and discriminator
    2  the algorithm and the Keras MLP GAN (Dense, LeakyReLU, tanh, sigmoid,
       binary cross-entropy, Adam)
    3  the formulation (expectations over the data), training difficulties, DCGAN
    4  transposed convolution as a matrix, vanishing gradients, batch norm,
       and the applications (pix2pix, CycleGAN: upsampling, pooling, instance norm)
    5  the two-player game, DCGAN, better losses (Wasserstein)
"""
import difflib
from dataclasses import dataclass

DIFFICULTIES = ("easy", "medium", "hard")


@dataclass(frozen=True)
class Exercise:
    number: int
    name: str
    lecture: int
    difficulty: str
    summary: str

    @property
    def filename(self):
        """The student's file: the number keeps a folder listing in the suggested order
        (and, not being a valid module name, the file can never shadow an import)."""
        return f"{self.number:02d}_{self.name}.py"


EXERCISES = (
    Exercise(1, "sigmoid", 2, "easy",
             "sigmoid(x) = 1/(1+e^-x): its derivative from the output alone"),
    Exercise(2, "tanh", 2, "easy",
             "tanh(x), the generator's last activation: derivative from the output"),
    Exercise(3, "leaky_relu", 2, "easy",
             "LeakyReLU(0.2) of the Keras GAN: a piecewise derivative"),
    Exercise(4, "broadcast_add", 2, "medium",
             "a + b with broadcasting: sum the gradient back to each shape (unbroadcast)"),
    Exercise(5, "matmul", 2, "medium",
             "C = A B: the gradients of both factors of a matrix product"),
    Exercise(6, "linear", 2, "medium",
             "the Dense layer y = x W^T + b (PyTorch's weight layout)"),
    Exercise(7, "bce_with_logits", 2, "medium",
             "binary cross-entropy on logits, finite for logits of +-1e4"),
    Exercise(8, "adam", 2, "medium",
             "one Adam step, with bias correction, as minigan.optim.Adam takes it"),
    Exercise(9, "mean", 3, "easy",
             "the mean over an axis: the batch average behind every expectation"),
    Exercise(10, "var", 3, "medium",
             "the (biased) variance over an axis: batch statistics"),
    Exercise(11, "non_saturating_g_loss", 4, "medium",
             "the generator's -E[log D(G(z))] on logits: strong gradients when D wins"),
    Exercise(12, "batch_norm", 4, "hard",
             "batch norm's backward in training mode, mean and variance terms included"),
    Exercise(13, "conv2d", 4, "hard",
             "conv2d by im2col: a convolution's backward as two matrix products"),
    Exercise(14, "conv_transpose2d", 4, "hard",
             "the transposed convolution, whose backward is a convolution"),
    Exercise(15, "gradient_penalty", 5, "hard",
             "WGAN-GP: a backward that can itself be differentiated, and the penalty"),
    Exercise(16, "upsample_nearest", 4, "easy",
             "nearest-neighbour upsampling, a U-Net's decoder: its backward sums each block"),
    Exercise(17, "avg_pool2d", 4, "medium",
             "average pooling with stride and padding: overlapping windows share a gradient"),
    Exercise(18, "instance_norm", 4, "hard",
             "pix2pix's instance norm: batch norm per sample, a backward differentiated again"),
)

BY_NAME = {e.name: e for e in EXERCISES}


def get(name):
    """The exercise called `name`, or a KeyError that lists the known names."""
    try:
        return BY_NAME[name]
    except KeyError:
        close = difflib.get_close_matches(name, BY_NAME, n=1)
        maybe = f" (did you mean {close[0]!r}?)" if close else ""
        raise KeyError(f"unknown exercise {name!r}{maybe}; the exercises are: "
                       f"{', '.join(BY_NAME)}") from None


def parse_only(text):
    """'sigmoid,tanh' -> the exercises named, in catalogue order (KeyError for a wrong name)."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise KeyError("--only needs at least one exercise name (comma-separated), "
                       f"from: {', '.join(BY_NAME)}")
    wanted = {get(n).name for n in names}
    return [e for e in EXERCISES if e.name in wanted]


def from_filename(filename):
    """The exercise whose student file is called `filename`, or None."""
    for e in EXERCISES:
        if e.filename == filename:
            return e
    return None

"""Exercise 16: nearest-neighbour upsampling (lecture 4, easy).

Lecture 4 ends with the applications: pix2pix translates an image into another
image with a U-Net, whose decoder doubles the size of its feature maps at
every stage. The simplest way to double an image, and the one the lecture calls
"up-sampling by interpolation" at its plainest, is to repeat every pixel:

    y[n, c, h, w] = x[n, c, h // s, w // s]          s = scale, (N, C, H, W) -> (N, C, sH, sW)

    x = [[1, 2],        y = [[1, 1, 2, 2],
         [3, 4]]             [1, 1, 2, 2],
                             [3, 3, 4, 4],
                             [3, 3, 4, 4]]      (scale 2)

Your task: write backward(g, x, out, scale), returning dL/dx. g has y's shape.

What to derive: x[n, c, h, w] was copied into the s x s block of y that starts
at (h s, w s). How much does each copy change the loss? And so what is dL/dx
for the pixel all those copies came from?

Hint: split each axis of g in two with a reshape: g.reshape(N, C, H, s, W, s)
puts the s x s block of pixel (h, w) at [:, :, h, :, w, :]; .sum(axis=...) over
the right two axes then adds each block up. (That sum over s x s blocks is
called sum pooling: it and the upsampling are each other's backward.)

(README.md says how forward and backward are plugged into the engine.)
"""


def forward(x, scale=2):
    """Given. Every pixel of x (N, C, H, W) repeated scale x scale times."""
    return x.repeat(scale, axis=2).repeat(scale, axis=3)


def backward(g, x, out, scale=2):
    """Your turn. g, out: minigan Tensors (N, C, H*scale, W*scale); x: the input Tensor.

    Return dL/dx, a Tensor of x's shape.
    """
    raise NotImplementedError("your turn: each pixel's gradient from its scale x scale copies")

"""Exercise 8: one step of Adam (lecture 2, medium).

The lecture's Keras GAN trains both networks with Adam(0.0002, 0.5), that is
lr = 2e-4, beta1 = 0.5 (beta2 stays 0.999). Adam (Kingma and Ba, 2015) keeps
two running averages for every parameter:

    m: an exponential moving average of the gradient, with decay beta1
       (each step keeps beta1 of the old average and mixes in 1 - beta1 of the
       new gradient);
    v: the same for the squared gradient (elementwise), with decay beta2.

Both start at 0, so for the first steps they are too small: after t steps the
weights of all the gradients mixed into m add up to 1 - beta1^t, not 1 (and
1 - beta2^t for v). Adam divides that factor out (the bias correction), and
then moves every parameter against the corrected m, divided by the square root
of the corrected v plus eps (eps after the square root, as in PyTorch and
minigan):

    p <- p - lr * m_hat / (sqrt(v_hat) + eps)

Your task: write step(p, grad, m, v, t, ...), which takes one such step and
returns the new p, m and v.

What to work out: the two averages' updates and the corrections, from the
words above; t counts the steps, 1 for the first.

Hint: whatever the size of the gradient, the first step moves every parameter
by almost exactly lr (why?). The grader takes five steps beside
minigan.optim.Adam, with the default settings and with the lecture's, and
with gradients as large as 1e4 and as small as 1e-9 (where eps matters).

This exercise works on NumPy arrays: an optimizer's update is not something
the engine differentiates.
"""


def step(p, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Your turn. One Adam step. NumPy arrays in, NumPy arrays out.

    p: the parameter; grad: its gradient dL/dp; m, v: the two averages after
    step t - 1 (arrays of zeros before the first step); t: this step's number
    (1, 2, 3, ...).

    Return (p, m, v) after the step: three arrays of p's shape.
    """
    raise NotImplementedError("your turn: update m and v, correct their bias, move p")

"""Differentiable primitives. Each op computes its forward with array code and
gives ``make_op`` a backward written in Tensor operations (so it can be
differentiated again). Read ``math.py`` first: it is the simplest.

Two modules here are not ops but what makes the ops fast: ``layout.py`` (im2col,
col2im and the memory order the convolutions keep their images in) and
``threads.py`` (big copies split over the CPU's threads)."""

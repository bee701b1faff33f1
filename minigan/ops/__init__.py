"""Differentiable primitives. Each op computes its forward with array code and
gives ``make_op`` a backward written in Tensor operations (so it can be
differentiated again). Read ``math.py`` first: it is the simplest."""

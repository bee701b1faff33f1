"""Reverse-mode automatic differentiation: the graph, ``make_op`` and the reverse sweep.

A ``Tensor`` (tensor.py) wraps one array (``.data``: numpy or cupy). Every
differentiable operation in ``minigan/ops`` computes its result with array code
and then calls ``make_op(result, parents, backward, name)``, which returns a new
Tensor that remembers

* ``_parents``: the input tensors, and
* ``_backward(g, out)``: the chain rule for this operation. Given the gradient
  ``g = dL/d(out)`` it returns ``dL/d(parent)`` for each parent (or ``None``).

Backward functions are written with Tensor operations, not raw arrays. That one
decision buys higher-order gradients: when the graph of the backward pass is
itself recorded (``create_graph=True``), the gradients are ordinary tensors
that can be differentiated again, which is what WGAN-GP and R1 need.

``backprop`` (behind ``Tensor.backward`` and ``grad``) visits the graph in reverse
topological order (found with an explicit stack, so a 20,000-node chain never
meets Python's recursion limit), adds up the gradients that reach each node, and
undoes broadcasting in one place (``unbroadcast``): an op never has to think
about it. The sweep itself, ``_reverse_sweep``, is the chain rule in a dozen
lines; read it first. Beside it, what the chain rule does not need: the modes
(``no_grad``, ``detect_anomaly``) in grad_mode.py, and adding gradients into
arrays in place, where nothing else holds them, in inplace_sums.py.
"""
from . import grad_mode
from . import inplace_sums

# The graph's nodes are Tensors. tensor.py imports this module, so it hands its
# array wrapper (tensor.wrap) over once the class exists, rather than this module
# importing tensor.py back.
wrap = None


def connect(wrap_array):
    global wrap
    wrap = wrap_array


# ------------------------------------------------------------------ the graph
def make_op(data, parents, backward, name):
    """Wrap the array `data` computed from `parents` into a graph node.

    ``backward(g, out)`` must return one gradient (Tensor or None) per parent,
    written with Tensor operations so that it can be differentiated again.
    No graph is recorded when grad mode is off or no parent requires grad.
    """
    out = wrap(data)
    if grad_mode.enabled:
        for p in parents:
            if p._requires_grad:
                out._requires_grad = True
                out._parents = parents
                out._backward = backward
                out._op = name
                break
    return out


# ------------------------------------------------------------------ the sweep
# The reverse sweep is the chain rule, node by node:
#
#     dL/d(parent) += dL/d(node) * d(node)/d(parent)      for every edge, outputs first

def _reverse_sweep(order, pending, keep):
    """Push gradients from the outputs back through `order` (parents before children).

    ``pending`` holds dL/d(node) for the roots. Returns dL/d(node) for every node
    in `keep` (ids) that the gradient reached.
    """
    visit = {id(node) for node in order}
    kept = {}
    for node in reversed(order):                       # a node after every node that uses it
        g = pending.pop(id(node), None)                # dL/d(node), summed over its users
        if g is None:
            continue
        if id(node) in keep:
            kept[id(node)] = g
        if node._backward is None:                     # a leaf: nothing behind it
            continue
        for parent, g_parent in _local_gradients(node, g):   # the chain rule
            if id(parent) in visit:
                pending.add(id(parent), g_parent)
    return kept


def _local_gradients(node, g):
    """(parent, dL/d(parent)) for each parent that requires grad: the op's own
    backward, summed back to the parent's shape where the op broadcast it."""
    for i, (parent, g_parent) in enumerate(zip(node._parents, node._backward(g, node))):
        if g_parent is None or not parent._requires_grad:
            continue
        if g_parent.shape != parent.shape:
            g_parent = unbroadcast(g_parent, parent.shape)
        if grad_mode.anomaly_enabled:
            grad_mode.check_finite_gradient(node, i, parent, g_parent)
        yield parent, g_parent


def _topological_order(roots):
    """Nodes that require grad, each after all of its parents (iterative DFS)."""
    order, seen = [], set()
    stack = [(r, False) for r in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for p in node._parents:
            if p._requires_grad and id(p) not in seen:
                stack.append((p, False))
    return order


def unbroadcast(g, shape):
    """Sum a gradient over the axes that broadcasting stretched, back to `shape`.

    If y = x + b with b of shape (3,) broadcast to (N, 3), every row used b, so
    dL/db = sum over rows of dL/dy. This is the one place that rule lives.
    """
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and g.shape[lead + i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def _accumulate_into_leaves(leaves, grads, create_graph, sums):
    """leaf.grad += dL/d(leaf), in the leaf's own dtype (as PyTorch does: a float32
    weight used with float64 data still gets a float32 gradient). Where the sum
    may go into the existing .grad array in place is ``inplace_sums``'s to say."""
    for leaf in leaves:
        g = grads.get(id(leaf))
        if g is None:
            continue
        if g.dtype != leaf.dtype:
            g = g.to(dtype=leaf.dtype) if create_graph else wrap(g.data.astype(leaf.dtype))
        if leaf.grad is not None and not create_graph and inplace_sums.owns_grad(leaf, g):
            leaf.grad.data += g.data          # in place, into our own array
            continue
        if leaf.grad is not None:
            leaf.grad = leaf.grad + g
        elif create_graph or sums.made_here(id(leaf)):
            leaf.grad = g                     # in the graph, or a sum made for this leaf
        else:                                 # its own memory: g may be shared with
            leaf.grad = wrap(g.data.copy())   # other leaves, or be a read-only view
        if not create_graph:
            inplace_sums.remember_grad(leaf)


def _only_paths_to(order, wanted_ids):
    """The nodes of `order` that lie on a path to a wanted tensor: ``grad()`` runs the
    backward of these alone."""
    needed = set()
    for node in order:                     # parents come first
        if id(node) in wanted_ids or any(id(p) in needed for p in node._parents):
            needed.add(id(node))
    return [node for node in order if id(node) in needed]


def backprop(roots, grads, create_graph, wanted=None):
    """Run the sweep from `roots`, whose gradients are `grads`. With `wanted` (tensors)
    it returns their gradients and touches no ``.grad``; without, it accumulates
    into the leaves' ``.grad``."""
    order = _topological_order(roots)
    pending = inplace_sums.GradientSums(in_place=not create_graph)
    for r, g in zip(roots, grads):
        pending.start(id(r), g)
    with grad_mode.set_grad_enabled(create_graph):
        if wanted is not None:
            wanted_ids = {id(w) for w in wanted}
            return _reverse_sweep(_only_paths_to(order, wanted_ids), pending, wanted_ids)
        leaves = [node for node in order if node._backward is None]
        found = _reverse_sweep(order, pending, {id(leaf) for leaf in leaves})
        _accumulate_into_leaves(leaves, found, create_graph, pending)
    return found

"""In-place sums of gradients: adding into an array the engine made, instead of
allocating a new array for every sum.

Gradients add up in two places: in the sweep, where a node used by several
others gets the sum of their gradients (``GradientSums``), and in a leaf's
``.grad``, which accumulates over backward calls (``owns_grad``). Without a
graph being recorded a sum is plain arithmetic on arrays, and ``a += b`` gives
the same numbers as ``a + b`` without a new array. It is safe only in memory
that nobody else holds:

* an op's backward may hand one gradient array to two parents (``add`` returns
  ``(g, g)``), so a gradient as an op returned it is never added into: only a
  sum that the sweep made is its own;
* a ``.grad`` that a user or an optimizer set may be shared with another tensor,
  or be part of a graph: only a ``.grad`` the engine made is added into;
* under ``create_graph`` every sum is a Tensor operation, so that it can be
  differentiated again.
"""
import weakref


class GradientSums(dict):
    """The sweep's pending gradients: id(node) -> dL/d(node), summed over the node's
    users so far. ``in_place``: no graph is being recorded, so a sum made here may
    take later terms in place."""

    def __init__(self, in_place):
        super().__init__()
        self.in_place = in_place
        self._made = set()           # ids whose entry is a sum made here: its own memory

    def start(self, key, g):
        """The gradient of a root (a root given twice gets both)."""
        self[key] = self[key] + g if key in self else g

    def add(self, key, g):
        """self[key] += g: in place into a sum made here, else a new sum."""
        prev = self.get(key)
        if prev is None:
            self[key] = g
        elif key in self._made and prev.dtype == g.dtype:
            prev.data += g.data
        else:
            self[key] = prev + g
            if self.in_place:
                self._made.add(key)

    def made_here(self, key):
        """Is the gradient of `key` a sum made here, shared with nothing (a leaf can
        keep it as its .grad without a copy)?"""
        return key in self._made


# id(leaf) -> the .grad Tensor that the engine made for it (weakly held)
_made_for_leaf = weakref.WeakValueDictionary()


def remember_grad(leaf):
    """Note that leaf.grad is a Tensor the engine made, outside any graph."""
    _made_for_leaf[id(leaf)] = leaf.grad


def owns_grad(leaf, g):
    """Is leaf.grad the array this engine made for it (and still the same shape
    and dtype as g, and writable)? Only then may g be added into it in place."""
    d = leaf.grad.data
    return (_made_for_leaf.get(id(leaf)) is leaf.grad and d.shape == g.shape
            and d.dtype == g.dtype and getattr(d, "flags", None) is not None
            and d.flags.writeable)

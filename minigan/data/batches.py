"""A data set held in arrays, fed to a training loop: ``Batches`` (one pass per
epoch, for loops that count epochs) and ``sampler`` (an endless stream of shuffled
batches, the Trainer's ``sample_real``, its position kept in checkpoints)."""
import numpy

from .. import backend
from ..tensor import Tensor


def _dataset(arrays, who):
    """(list of arrays, one array given?, N) for one array or a tuple/list of arrays
    that hold the same number of examples (their first dimension). One array, alone
    or in a 1-tuple, is served as a Tensor; two or more as a tuple of Tensors."""
    arrays = list(arrays) if isinstance(arrays, (tuple, list)) else [arrays]
    single = len(arrays) == 1
    if not arrays:
        raise ValueError(f"{who}: give an array of examples, or a tuple of arrays "
                         f"(e.g. (images, labels)); got an empty {type(arrays).__name__}")
    arrays = [a.data if isinstance(a, Tensor) else a for a in arrays]
    for i, a in enumerate(arrays):
        if not hasattr(a, "shape") or len(a.shape) == 0:
            raise TypeError(f"{who}: array {i} must be an array (NumPy, CuPy or a Tensor) with "
                            f"one example per row, got {type(a).__name__}"
                            f"{' of shape ()' if hasattr(a, 'shape') else ''}")
    lengths = [a.shape[0] for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"{who}: the arrays must hold the same number of examples (their "
                         f"first dimension), got {lengths}")
    if lengths[0] == 0:
        raise ValueError(f"{who}: the dataset is empty (0 examples)")
    return arrays, single, lengths[0]


def _epoch_order(n, shuffle, generator):
    """The order of one epoch: a random permutation of 0..n-1 from the seeded CPU
    generator (``minigan.manual_seed``), or 0..n-1 itself without shuffling."""
    if not shuffle:
        return numpy.arange(n, dtype=numpy.int64)
    rng = backend.generator("cpu") if generator is None else generator
    return backend.to_numpy(rng.permutation(n)).astype(numpy.int64)


def _take(arrays, idx, device):
    """The examples at positions idx of every array, as Tensors on device (a copy)."""
    out = []
    for a in arrays:
        xp = backend.array_module(a)
        out.append(Tensor(a[xp.asarray(idx)], device=device))
    return out


class Batches:
    """Minibatches of a dataset, one pass over it per epoch, reshuffled every epoch::

        for x, y in Batches((images, labels), batch_size=64, epochs=5):
            ...                       # x: (64, 1, 28, 28) Tensor, y: (64,) int64 Tensor

    ``arrays``: one array, alone or in a 1-tuple (each iteration then gives a Tensor),
    or a tuple of arrays with the same number of examples N (a tuple of Tensors, rows
    kept together).
    Every epoch takes a new random order of the N examples (from minigan's seeded
    CPU generator, so the same ``minigan.manual_seed`` gives the same batches, or
    from ``generator``) and cuts it into consecutive batches of ``batch_size``:
    every example is seen exactly once per epoch. The last batch of an epoch holds
    the N mod batch_size left over, or is dropped with ``drop_last=True`` (every
    batch then has the same size, which batch norm likes). ``shuffle=False`` keeps
    the stored order. ``epochs=None`` runs forever. Batches are copied to ``device``
    (default: minigan's default device) one at a time, so a dataset bigger than
    the GPU's memory is fine. ``len()`` is the number of batches it yields.
    """

    def __init__(self, arrays, batch_size, shuffle=True, drop_last=False, device=None,
                 epochs=1, generator=None):
        self.arrays, self.single, self.n = _dataset(arrays, "Batches")
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"Batches: batch_size must be a positive integer, got {batch_size}")
        if epochs is not None and (int(epochs) != epochs or epochs < 0):
            raise ValueError(f"Batches: epochs must be a whole number >= 0, or None for "
                             f"forever; got {epochs}")
        self.batch_size = int(batch_size)
        if drop_last and self.batch_size > self.n:
            raise ValueError(f"Batches: with drop_last=True a batch_size of {self.batch_size} "
                             f"gives no batch at all from {self.n} examples; use a smaller "
                             f"batch_size or drop_last=False")
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.device = backend.normalize_device(device)
        self.epochs = None if epochs is None else int(epochs)
        self.generator = generator

    @property
    def batches_per_epoch(self):
        """floor(N / batch_size) with drop_last, else ceil(N / batch_size)."""
        full, rest = divmod(self.n, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __len__(self):
        if self.epochs is None:
            raise TypeError("len(Batches): epochs=None runs forever, so it has no length; "
                            "use .batches_per_epoch")
        return self.batches_per_epoch * self.epochs

    def __iter__(self):
        epoch = 0
        while self.epochs is None or epoch < self.epochs:
            order = _epoch_order(self.n, self.shuffle, self.generator)
            stop = self.n - self.n % self.batch_size if self.drop_last else self.n
            for start in range(0, stop, self.batch_size):
                batch = _take(self.arrays, order[start:start + self.batch_size], self.device)
                yield batch[0] if self.single else tuple(batch)
            epoch += 1

    def __repr__(self):
        return (f"Batches({self.n} examples, batch_size={self.batch_size}, shuffle="
                f"{self.shuffle}, drop_last={self.drop_last}, epochs={self.epochs}, "
                f"device='{self.device}')")


class Sampler:
    """An endless shuffled stream over a dataset: ``sample(m)`` gives the next m examples.

    This is what a ``Trainer`` wants as ``sample_real``: every call returns exactly m
    examples (a Tensor on ``device`` for one array, alone or in a 1-tuple; a tuple of
    Tensors for two or more, such as (images, labels)). It walks through a random order of the N examples,
    drawn from minigan's seeded CPU generator (or ``generator``); when the order is
    used up, a new one is drawn and a call that crosses the boundary takes the end
    of one epoch and the start of the next. So every example is seen exactly once
    per epoch, as in ``Batches``, without the short last batch.

    ``state_dict()`` (the epoch, the position in it and its order) and
    ``load_state_dict()`` resume the stream exactly, given the generator's state
    too (a Trainer's checkpoint holds the CPU generator's). The new order of an
    epoch is drawn when the first example of it is asked for, not before, so
    creating a sampler draws nothing.
    """

    def __init__(self, arrays, device=None, shuffle=True, generator=None):
        self.arrays, self.single, self.n = _dataset(arrays, "sampler")
        self.device = backend.normalize_device(device)
        self.shuffle = bool(shuffle)
        self.generator = generator
        self.epoch = 0            # epochs begun (1 while in the first)
        self.position = 0         # examples of this epoch already given
        self.permutation = None   # this epoch's order (None: no epoch begun yet)

    def __call__(self, m):
        if int(m) != m or m < 0:
            raise ValueError(f"sampler: the number of examples must be a whole number "
                             f">= 0, got {m}")
        need, parts = int(m), []
        while need > 0:
            if self.permutation is None or self.position == self.n:   # a new epoch
                self.permutation = _epoch_order(self.n, self.shuffle, self.generator)
                self.position = 0
                self.epoch += 1
            take = min(need, self.n - self.position)
            parts.append(self.permutation[self.position:self.position + take])
            self.position += take
            need -= take
        idx = numpy.concatenate(parts) if parts else numpy.zeros(0, dtype=numpy.int64)
        batch = _take(self.arrays, idx, self.device)
        return batch[0] if self.single else tuple(batch)

    sample = __call__

    def state_dict(self):
        """Where the stream is: {"size": N, "epoch", "position", "permutation"} (ints and
        an int64 array, or None before the first call), for ``minigan.save``."""
        return {"size": self.n, "epoch": self.epoch, "position": self.position,
                "permutation": None if self.permutation is None else self.permutation.copy()}

    def load_state_dict(self, state):
        """Continue from ``state`` (what ``state_dict`` returned), over the same dataset."""
        missing = [k for k in ("size", "epoch", "position", "permutation") if k not in state]
        if missing:
            raise ValueError(f"sampler.load_state_dict: this is not a sampler's state; it "
                             f"lacks {', '.join(missing)}")
        size, epoch, position = int(state["size"]), int(state["epoch"]), int(state["position"])
        if size != self.n:
            raise ValueError(f"sampler.load_state_dict: the state is of a dataset of {size} "
                             f"examples, but this sampler has {self.n}; load it into a "
                             f"sampler over the same data")
        perm = state["permutation"]
        if perm is None:
            if position != 0 or epoch != 0:
                raise ValueError(f"sampler.load_state_dict: a state with no order yet must be "
                                 f"at epoch 0, position 0; got epoch {epoch}, position "
                                 f"{position}")
        else:
            perm = numpy.asarray(backend.to_numpy(perm)).astype(numpy.int64)
            if perm.shape != (self.n,) or not numpy.array_equal(numpy.sort(perm),
                                                                numpy.arange(self.n)):
                raise ValueError(f"sampler.load_state_dict: 'permutation' must hold each of "
                                 f"0..{self.n - 1} once; got an array of shape {perm.shape} "
                                 f"that does not")
            if not 0 <= position <= self.n or epoch < 1:
                raise ValueError(f"sampler.load_state_dict: position must be in 0..{self.n} "
                                 f"and epoch >= 1; got position {position}, epoch {epoch}")
        self.epoch, self.position, self.permutation = epoch, position, perm

    def __repr__(self):
        return (f"Sampler({self.n} examples, epoch {self.epoch}, position {self.position}, "
                f"device='{self.device}')")


def sampler(arrays, device=None, shuffle=True, generator=None):
    """A ``sample(m)`` for a Trainer's ``sample_real``: the next m examples of an endless,
    reshuffled-every-epoch stream over ``arrays`` (see ``Sampler``)::

        images, _ = data.mnist("train")
        trainer = Trainer(G, D, opt_g, opt_d, data.sampler(images, device="cuda"), ...)
    """
    return Sampler(arrays, device=device, shuffle=shuffle, generator=generator)

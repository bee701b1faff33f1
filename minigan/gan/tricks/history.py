"""SimGAN's history of refined images (Shrivastava et al. 2017, "Learning from simulated
and unsupervised images through adversarial training", section 3.3).

A discriminator trained on the generator's latest images only forgets what earlier
generators made, and the generator can bring back an old artifact that D no longer
punishes; the two then chase each other around. SimGAN keeps a buffer of images
the refiner (its generator) made earlier and shows D, in each of its batches, a
mix: a fraction (half, in the paper) from the buffer, the rest from the current
batch. After each step some of the current images replace random ones in the
buffer, so it holds a random sample of the refiner's history.

``ImageHistory`` is that buffer, used in D's step only::

    history = ImageHistory(capacity=64 * 100, seed=0)
    fake = G(z).detach()
    d_loss = loss(D(real), D(history.push_and_mix(fake)))

Its state (the stored images, how many, and its own random generator's state when
it has one) goes in ``state_dict()``, so a checkpoint resumes it exactly.
"""
import json

import numpy

from ... import backend
from ...checks import given, whole_number
from ...tensor import Tensor

STATE_KEYS = ("capacity", "fraction", "size", "images", "rng")


class ImageHistory:
    """A buffer of up to ``capacity`` earlier images, mixed into D's batches.

    ``push_and_mix(batch)`` takes the current batch of N generated images and returns
    a batch of N for D: k = fraction N (rounded to the nearest whole number) of them
    come from the history, drawn at random without repeats, and the other N - k are
    the current batch's, in its order. The k current images at those random
    positions, the ones the history displaced, are stored afterwards: into empty
    slots while there are some, then each over a random earlier image. So an image
    the generator makes is shown to D now, or kept for later.
    While the buffer holds fewer than k images, all of them are used and the rest of
    the batch is current (the k stored then include some D saw now); an empty
    buffer gives the current batch unchanged.

    The result is a constant (no gradient flows through it): the history is for D's
    step, where G's images are detached anyway. It stays on the batch's device.

    Randomness: ``seed`` gives the buffer its own NumPy generator, whose state is in
    ``state_dict()``; without one it draws from minigan's seeded CPU generator
    (``minigan.manual_seed``), whose state a Trainer's checkpoint saves already;
    ``generator`` uses a NumPy ``Generator`` of your own (its state is yours to save).
    """

    def __init__(self, capacity, fraction=0.5, seed=None, generator=None):
        self.capacity = whole_number(capacity, "capacity", "ImageHistory", minimum=1)
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"ImageHistory: fraction is the share of D's batch taken from the "
                             f"history, in [0, 1]; got {fraction!r}")
        if seed is not None and generator is not None:
            raise ValueError("ImageHistory: give a seed (the buffer's own generator) or a "
                             "generator, not both")
        self.fraction = float(fraction)
        self._own_rng = numpy.random.default_rng(
            whole_number(seed, "seed", "ImageHistory")) if seed is not None else None
        self._generator = generator
        self.size = 0              # images stored so far (at most capacity)
        self._images = None        # (capacity, ...) array, made at the first push

    def __len__(self):
        return self.size

    def _rng(self):
        if self._own_rng is not None:
            return self._own_rng
        return self._generator if self._generator is not None else backend.generator("cpu")

    def push_and_mix(self, batch):
        """D's batch: about ``fraction`` of it from the history, the rest from ``batch``
        (a Tensor or array (N, ...)); then store the current images it displaced."""
        data = self._checked(batch)
        xp = backend.array_module(data)
        n = data.shape[0]
        k = int(self.fraction * n + 0.5)                  # the history's share, rounded
        rng = self._rng()
        positions = rng.permutation(n)[:k]                # where history images go
        mixed = data.copy()
        m = min(k, self.size)                             # what the history can give now
        if m:
            picks = rng.choice(self.size, m, replace=False)
            mixed[xp.asarray(positions[:m])] = self._images[xp.asarray(picks)]
        self._store(data[xp.asarray(positions)], rng)
        return Tensor(mixed)

    def _store(self, new, rng):
        """Put the images `new` in empty slots first, then over random earlier ones."""
        new = new[:self.capacity]
        count = new.shape[0]
        free = min(self.capacity - self.size, count)
        slots = numpy.arange(self.size, self.size + free)
        if count > free:                   # the rest replace distinct earlier images
            slots = numpy.concatenate([slots, rng.choice(self.size, count - free, replace=False)])
        if count:
            self._images[backend.array_module(new).asarray(slots)] = new
        self.size += free

    def _checked(self, batch):
        """The batch's array (detached), after checking it fits what is stored."""
        if isinstance(batch, Tensor):
            data = batch.data
        elif hasattr(batch, "shape") and hasattr(batch, "dtype"):
            data = batch
        else:
            raise TypeError(f"ImageHistory.push_and_mix: batch must be a minigan Tensor of "
                            f"images (N, C, H, W), got {given(batch)}")
        if data.ndim < 1 or data.shape[0] < 1:
            raise ValueError(f"ImageHistory.push_and_mix: batch must hold at least one image "
                             f"(N, ...), got shape {tuple(data.shape)}")
        if self._images is None:
            xp = backend.array_module(data)
            self._images = xp.zeros((self.capacity,) + tuple(data.shape[1:]), dtype=data.dtype)
        elif self._images.shape[1:] != data.shape[1:] or self._images.dtype != data.dtype:
            raise ValueError(f"ImageHistory.push_and_mix: the history holds images of shape "
                             f"{tuple(self._images.shape[1:])} and dtype {self._images.dtype}, "
                             f"but this batch's are {tuple(data.shape[1:])} and {data.dtype}; "
                             f"one buffer serves one kind of image")
        device = backend.device_of(data)
        if backend.device_of(self._images) != device:      # once, after load_state_dict
            self._images = backend.to_device(self._images, device)
        return data

    # ------------------------------------------------------------ checkpoints
    def state_dict(self):
        """{"capacity", "fraction", "size", "images" (the stored (size, ...) array, or
        None), "rng" (the own generator's state as JSON text, or None)}, for
        ``minigan.save`` and a Runner's checkpoint."""
        images = None if self._images is None else self._images[:self.size].copy()
        rng = None if self._own_rng is None else json.dumps(self._own_rng.bit_generator.state)
        return {"capacity": self.capacity, "fraction": self.fraction, "size": self.size,
                "images": images, "rng": rng}

    def load_state_dict(self, state):
        """Continue from ``state`` (what ``state_dict`` returned), into a buffer made with
        the same capacity and fraction, and a seed if the saved one had its own."""
        who = "ImageHistory.load_state_dict"
        missing = [k for k in STATE_KEYS if k not in state]
        if missing:
            raise ValueError(f"{who}: this is not an ImageHistory's state; it lacks "
                             f"{', '.join(missing)}")
        capacity, size = int(state["capacity"]), int(state["size"])
        if capacity != self.capacity or float(state["fraction"]) != self.fraction:
            raise ValueError(f"{who}: the state is of a buffer with capacity {capacity} and "
                             f"fraction {float(state['fraction'])}, this one has "
                             f"{self.capacity} and {self.fraction}")
        if (state["rng"] is None) != (self._own_rng is None):
            raise ValueError(f"{who}: the state was saved by a buffer "
                             f"{'without' if state['rng'] is None else 'with'} a seed of its "
                             f"own; make this one the same way to resume it exactly")
        images = state["images"]
        if not 0 <= size <= capacity or (size and (images is None or images.shape[0] != size)):
            raise ValueError(f"{who}: the state says it holds {size} images but its 'images' "
                             f"entry has {0 if images is None else images.shape[0]}")
        if images is None:
            self._images = None
        else:
            self._images = numpy.zeros((capacity,) + tuple(images.shape[1:]), dtype=images.dtype)
            self._images[:size] = backend.to_numpy(images)   # to the batches' device at the next push
        self.size = size
        if state["rng"] is not None:
            self._own_rng.bit_generator.state = json.loads(str(state["rng"]))

    def __repr__(self):
        return (f"ImageHistory({self.size} of {self.capacity} images stored, fraction="
                f"{self.fraction})")

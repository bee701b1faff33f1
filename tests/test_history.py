"""SimGAN's history buffer (gan/tricks/history.py: ImageHistory): D's batch mixes
earlier generated images with the current ones, in the proportion set, from images
it was given only; deterministic for a seed; its state resumes it exactly.

Each test image is a constant image whose value is its id (its step and place), so
the images of a mixed batch can be traced back to where they came from.
"""
import numpy as np
import pytest

import minigan
from minigan.gan.tricks.history import ImageHistory


def _batch(step, n=8, shape=(1, 2, 2), device="cpu"):
    """n images, image i of step s filled with the id 1000 s + i."""
    ids = 1000.0 * step + np.arange(n)
    return minigan.tensor(ids[:, None, None, None] * np.ones((n,) + shape, np.float32),
                          device=device)


def _ids(images):
    a = images.numpy() if hasattr(images, "numpy") else images
    assert (a == a[:, :1, :1, :1]).all()          # still constant images: never mixed inside
    return a[:, 0, 0, 0].astype(int)


def test_an_empty_buffer_gives_the_current_batch():
    h = ImageHistory(100, seed=0)
    b = _batch(0)
    out = h.push_and_mix(b)
    np.testing.assert_array_equal(out.numpy(), b.numpy())
    assert out.data is not b.data and not out.requires_grad
    assert len(h) == 4                                       # half of 8 kept for later


@pytest.mark.parametrize("fraction, n", [(0.5, 8), (0.25, 8), (1.0, 6), (0.5, 5)])
def test_only_given_images_in_the_proportion_set(fraction, n):
    h = ImageHistory(20, fraction=fraction, seed=1)
    k = int(fraction * n + 0.5)
    given = set()
    for step in range(12):
        before = len(h)
        b = _batch(step, n)
        current = set(_ids(b))
        ids = _ids(h.push_and_mix(b))
        assert set(ids) <= given | current                   # nothing made up
        old = [i for i in ids if i not in current]
        assert len(old) == min(k, before)                    # the share from the history
        assert len(set(old)) == len(old)                     # drawn without repeats
        rest = [i for i in ids if i in current]
        assert len(set(rest)) == len(rest) == n - len(old)   # the current ones, once each
        # the current images keep their places in the batch
        assert all(i == 1000 * step + pos for pos, i in enumerate(ids) if i in current)
        given |= current
        assert len(h) == min(20, before + k)
    stored = set(_ids(h._images[:len(h)]))
    assert stored <= given and len(stored) == len(h)         # distinct images, all given


def test_fraction_zero_is_the_plain_batch_and_stores_nothing():
    h = ImageHistory(10, fraction=0.0, seed=0)
    for step in range(3):
        b = _batch(step)
        np.testing.assert_array_equal(h.push_and_mix(b).numpy(), b.numpy())
    assert len(h) == 0


def test_the_same_seed_gives_the_same_batches():
    def run(**kw):
        h = ImageHistory(12, **kw)
        return [_ids(h.push_and_mix(_batch(s))) for s in range(8)]
    a, b, c = run(seed=3), run(seed=3), run(seed=4)
    assert all((x == y).all() for x, y in zip(a, b))
    assert any((x != y).any() for x, y in zip(a, c))
    # without a seed: minigan's CPU generator, so minigan.manual_seed decides
    minigan.manual_seed(5)
    d = run()
    minigan.manual_seed(5)
    e = run()
    assert all((x == y).all() for x, y in zip(d, e))
    rng = np.random.default_rng(9)                           # or a generator of one's own
    f = run(generator=rng)
    assert all((x == y).all() for x, y in zip(f, run(generator=np.random.default_rng(9))))


@pytest.mark.parametrize("seed", [7, None])
@pytest.mark.parametrize("steps_before", [0, 3, 9])
def test_the_state_round_trips_through_a_checkpoint_file(seed, steps_before, tmp_path):
    """Saved after some steps (none, filling, full), loaded into a new buffer: the
    same batches follow as from the buffer that went on (given minigan's generator's
    state too, as a Trainer's checkpoint holds it, when there is no seed)."""
    minigan.manual_seed(1)
    a = ImageHistory(16, seed=seed)
    for s in range(steps_before):
        a.push_and_mix(_batch(s))
    path = tmp_path / "history.npz"
    minigan.save(a.state_dict(), str(path))
    cpu_state = minigan.backend.generator("cpu").bit_generator.state
    went_on = [_ids(a.push_and_mix(_batch(s))) for s in range(steps_before, steps_before + 6)]
    minigan.manual_seed(2)                                   # elsewhere, later
    b = ImageHistory(16, seed=None if seed is None else 123)
    minigan.backend.generator("cpu").bit_generator.state = cpu_state
    b.load_state_dict(minigan.load(str(path)))
    assert len(b) == min(16, 4 * steps_before)
    resumed = [_ids(b.push_and_mix(_batch(s))) for s in range(steps_before, steps_before + 6)]
    assert all((x == y).all() for x, y in zip(went_on, resumed))
    assert b.state_dict()["size"] == a.state_dict()["size"]


@pytest.mark.parametrize("call, error, words", [
    (lambda: ImageHistory(0), ValueError, ["ImageHistory: capacity must be a whole number >= 1"]),
    (lambda: ImageHistory(10, fraction=1.5), ValueError, ["fraction", "[0, 1]", "1.5"]),
    (lambda: ImageHistory(10, seed=1, generator=np.random.default_rng()), ValueError,
     ["a seed", "or a generator, not both"]),
    (lambda: ImageHistory(10).push_and_mix([[0.0]]), TypeError,
     ["push_and_mix: batch must be a minigan Tensor", "(type list)"]),
    (lambda: ImageHistory(10).push_and_mix(minigan.tensor(np.zeros((0, 3)))), ValueError,
     ["at least one image", "(0, 3)"]),
    (lambda: _pushed_twice((2, 2), (3, 3)), ValueError,
     ["the history holds images of shape (1, 2, 2)", "this batch's are (1, 3, 3)"]),
    (lambda: ImageHistory(10).load_state_dict({"size": 0}), ValueError,
     ["not an ImageHistory's state", "capacity"]),
    (lambda: ImageHistory(10).load_state_dict(ImageHistory(12).state_dict()), ValueError,
     ["capacity 12", "this one has 10"]),
    (lambda: ImageHistory(10).load_state_dict(ImageHistory(10, seed=0).state_dict()), ValueError,
     ["saved by a buffer with a seed of its own"]),
], ids=["capacity", "fraction", "seed-and-generator", "list", "empty", "other-shape",
        "not-a-state", "other-capacity", "seeded-state"])
def test_errors_speak_to_a_student(call, error, words):
    with pytest.raises(error) as e:
        call()
    for word in words:
        assert word in str(e.value), f"{word!r} missing from: {e.value}"


def _pushed_twice(first, second):
    h = ImageHistory(10)
    h.push_and_mix(_batch(0, shape=(1,) + first))
    h.push_and_mix(_batch(1, shape=(1,) + second))

"""Sentences about MNIST digits, StackGAN's text condition at MNIST's size.

Every training digit is described by a five-word sentence built from what is
measured on the image itself (``minigan.data.attributes``), not from any label
but the class::

    "a thick seven leaning right" = "a" + thickness + digit + slant (two words)

* the digit: the MNIST label, "zero" .. "nine";
* the thickness: the digit's ink, sum of (pixel + 1) / 2, bucketed "thin", "medium",
  "thick" at the tertiles of the ink of the training digits *of the same class* (a
  one has less ink than an eight however it is written: "a thick one" is thick for
  a one);
* the slant: the lean, -slant = -mu_11 / mu_02 (positive for a digit whose top is
  to the right of its bottom), bucketed "leaning left", "standing upright",
  "leaning right" at the tertiles of the class's lean.

So each word is a third of its class's training digits by construction, and the
cut points (``CutPoints``: two per class and measure, from the training set only)
are what the generated digits are bucketed with, to say whether they took the
thickness and slant asked for.

Some whole sentences are kept out of training on purpose (``HELD_OUT``: one
(digit, thickness, slant) triple per digit, covering every (thickness, slant)
pair): each of their words is seen in training, in other sentences, but never
these combinations; a text-to-image model that draws them has put the words
together.

``tokenize`` turns sentences into word ids of ``VOCABULARY``; a word it does not
know is refused with the vocabulary in the message.
"""
from typing import NamedTuple

import numpy

from . import attributes

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
THICKNESS = ("thin", "medium", "thick")
SLANT = ("leaning left", "standing upright", "leaning right")
VOCABULARY = ("a",) + DIGITS + THICKNESS + ("leaning", "standing", "left", "upright", "right")
WORDS_PER_SENTENCE = 5
WORD_ID = {w: i for i, w in enumerate(VOCABULARY)}

# (digit, thickness index, slant index) never shown in training: digit d gets
# thickness d % 3 and slant (d // 3) % 3, so the ten cover all nine pairs
HELD_OUT = tuple((d, d % 3, (d // 3) % 3) for d in range(10))


def sentence(digit, thickness, slant):
    """The sentence for class `digit` (0-9), thickness index (0 thin, 1 medium,
    2 thick) and slant index (0 leaning left, 1 standing upright, 2 leaning right)."""
    for name, value, n in (("digit", digit, 10), ("thickness", thickness, 3),
                           ("slant", slant, 3)):
        if isinstance(value, bool) or int(value) != value or not 0 <= value < n:
            raise ValueError(f"sentence: {name} must be an integer in 0..{n - 1}, got {value!r}")
    return f"a {THICKNESS[int(thickness)]} {DIGITS[int(digit)]} {SLANT[int(slant)]}"


def all_triples():
    """Every (digit, thickness, slant): 10 x 3 x 3 = 90, in that order."""
    return [(d, t, s) for d in range(10) for t in range(3) for s in range(3)]


def tokenize(sentences):
    """Sentences (a string or a list of them) -> word ids, int64 of shape (N, 5).

    Words are split on white space and lower-cased; each must be in ``VOCABULARY``,
    and every sentence must have ``WORDS_PER_SENTENCE`` words (the shape of
    "a thick seven leaning right"), so a batch of them is one array."""
    if isinstance(sentences, str):
        sentences = [sentences]
    ids = numpy.zeros((len(sentences), WORDS_PER_SENTENCE), numpy.int64)
    for i, text in enumerate(sentences):
        if not isinstance(text, str):
            raise ValueError(f"tokenize: sentences must be strings, got {text!r}")
        words = text.lower().split()
        unknown = [w for w in words if w not in WORD_ID]
        if unknown:
            raise ValueError(f"tokenize: unknown word {unknown[0]!r} in {text!r}; the "
                             f"vocabulary is: {', '.join(VOCABULARY)}")
        if len(words) != WORDS_PER_SENTENCE:
            raise ValueError(f"tokenize: a sentence has {WORDS_PER_SENTENCE} words, like "
                             f"{sentence(7, 2, 2)!r}; {text!r} has {len(words)}")
        ids[i] = [WORD_ID[w] for w in words]
    return ids


def lean(images):
    """-slant: how far right the top of each digit is of its bottom, columns per row."""
    return -attributes.slant(images)


class CutPoints(NamedTuple):
    """The tertiles of each class's training digits: ``ink[c]`` and ``lean[c]`` hold the
    two cut points of class c (arrays of shape (10, 2))."""
    ink: numpy.ndarray
    lean: numpy.ndarray

    def as_dict(self):
        """The cut points for a report: {"ink": [[lo, hi] per class], "lean": [...]}."""
        return {"ink": self.ink.tolist(), "lean": self.lean.tolist()}


def cut_points(images, labels):
    """The cut points of ink and lean at the 1/3 and 2/3 quantiles of each class."""
    labels = numpy.asarray(labels)
    ink, tilt = attributes.ink(images), lean(images)
    missing = [c for c in range(10) if not (labels == c).any()]
    if missing:
        raise ValueError(f"cut_points: no image of class {missing[0]} (every digit needs "
                         f"examples to set its cut points)")
    q = (1 / 3, 2 / 3)
    return CutPoints(numpy.array([numpy.quantile(ink[labels == c], q) for c in range(10)]),
                     numpy.array([numpy.quantile(tilt[labels == c], q) for c in range(10)]))


def buckets(images, classes, cuts):
    """(thickness, slant) indices of `images` measured with the cut points of
    `classes` (their labels, or the classes a generator was asked for): 0 below the
    first cut, 1 between, 2 above the second."""
    classes = numpy.asarray(classes, numpy.int64)
    if len(classes) != len(images):
        raise ValueError(f"buckets: {len(images)} images but {len(classes)} classes")
    ink, tilt = attributes.ink(images), lean(images)
    thickness = (ink > cuts.ink[classes, 0]).astype(numpy.int64) + (ink > cuts.ink[classes, 1])
    slant = (tilt > cuts.lean[classes, 0]).astype(numpy.int64) + (tilt > cuts.lean[classes, 1])
    return thickness, slant


class Captioned(NamedTuple):
    """Digits with their sentences: images (N, 1, 28, 28) in [-1, 1], labels,
    thickness and slant indices, the sentences' word ids (N, 5), and whether each
    image's triple is one of ``HELD_OUT``."""
    images: numpy.ndarray
    labels: numpy.ndarray
    thickness: numpy.ndarray
    slant: numpy.ndarray
    tokens: numpy.ndarray
    held_out: numpy.ndarray

    def sentences(self):
        return [sentence(*t) for t in zip(self.labels, self.thickness, self.slant)]

    def subset(self, keep):
        return Captioned(*(a[keep] for a in self))


def triple_ids(labels, thickness, slant):
    """One id per (digit, thickness, slant): 9 digit + 3 thickness + slant (0..89),
    the index into ``all_triples()``."""
    return 9 * numpy.asarray(labels) + 3 * numpy.asarray(thickness) + numpy.asarray(slant)


def tokens_of_triples(triples):
    """The word ids (N, 5) of the sentences of (digit, thickness, slant) triples
    (an (N, 3) array or a list), without building the strings one by one for a batch."""
    table = tokenize([sentence(*t) for t in all_triples()])
    triples = numpy.asarray(triples, numpy.int64).reshape(-1, 3)
    return table[triple_ids(triples[:, 0], triples[:, 1], triples[:, 2])]


def describe(images, labels, cuts):
    """The ``Captioned`` set of `images` with their `labels`, bucketed with `cuts`."""
    labels = numpy.asarray(labels, numpy.int64)
    thickness, slant = buckets(images, labels, cuts)
    held = numpy.isin(triple_ids(labels, thickness, slant),
                      [triple_ids(*t) for t in HELD_OUT])
    tokens = tokens_of_triples(numpy.stack([labels, thickness, slant], axis=1))
    return Captioned(numpy.asarray(images), labels, thickness, slant, tokens, held)

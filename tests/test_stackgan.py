"""StackGAN's pieces (minigan.data.sentences, minigan.gan.apps.stacked): the sentences
agree with what is measured on the training digits, bad words and sizes get clear
errors, the KL term is its formula, and short seeded runs of each stage must
measurably learn to follow their sentence."""
import numpy as np
import pytest

import minigan
from minigan import optim, data
from minigan.data import attributes, domains
from minigan.data import sentences as S
from minigan.gan.apps import stacked as st


def adam(*modules, lr=2e-3):
    return optim.Adam([p for m in modules for p in m.parameters()], lr=lr, betas=(0.5, 0.999))


@pytest.fixture
def digits(mnist_dir):
    x, y = data.mnist("train", mnist_dir)
    return x[:3000], y[:3000]


# ------------------------------------------------------------------ sentences
def test_the_sentences_agree_with_the_attributes_measured_on_the_training_digits(digits):
    """Each sentence's digit word is the label, and its thickness and slant words are
    the digit's own ink and lean (data.attributes) bucketed at its class's tertiles,
    computed here independently of the builder; each word holds a third of a class."""
    x, y = digits
    cuts = S.cut_points(x, y)
    described = S.describe(x, y, cuts)
    ink, lean = attributes.ink(x), -attributes.slant(x)
    for c in range(10):
        mine = y == c
        lo, hi = np.quantile(ink[mine], [1 / 3, 2 / 3])
        expect = np.where(ink[mine] <= lo, 0, np.where(ink[mine] <= hi, 1, 2))
        assert (described.thickness[mine] == expect).all()
        lo, hi = np.quantile(lean[mine], [1 / 3, 2 / 3])
        expect = np.where(lean[mine] <= lo, 0, np.where(lean[mine] <= hi, 1, 2))
        assert (described.slant[mine] == expect).all()
        for counts in (np.bincount(described.thickness[mine], minlength=3),
                       np.bincount(described.slant[mine], minlength=3)):
            assert np.abs(counts / mine.sum() - 1 / 3).max() < 0.02
    words = [s.split() for s in described.sentences()]
    assert all(w[2] == S.DIGITS[label] for w, label in zip(words, y))
    assert (described.tokens == S.tokenize(described.sentences())).all()


def test_a_thickened_or_sheared_digit_gets_the_words_for_it(digits):
    """The words follow the image: the same digits thickened (grey dilation) are
    called thicker, and sheared so their tops go right, called more right-leaning."""
    x, y = digits
    x, y = x[:400], y[:400]
    cuts = S.cut_points(*digits)
    thick, slant = S.buckets(x, y, cuts)
    thick2, _ = S.buckets(domains.style(x, "thick"), y, cuts)
    assert (thick2 >= thick).mean() > 0.97 and (thick2 == 2).mean() > 0.9
    _, slant2 = S.buckets(domains.style(x, "slanted"), y, cuts)
    leaning_right = (slant2 == 2).mean() - (slant == 2).mean()
    leaning_left = (slant2 == 0).mean() - (slant == 0).mean()
    assert abs(leaning_right - leaning_left) > 0.3, (leaning_right, leaning_left)


def test_the_held_out_sentences_never_reach_training_and_each_word_still_does(digits):
    x, y = digits
    described = S.describe(x, y, S.cut_points(x, y))
    train = described.subset(~described.held_out)
    held = {S.sentence(*t) for t in S.HELD_OUT}
    assert len(held) == 10 and not held & set(train.sentences())
    assert {(t, s) for _, t, s in S.HELD_OUT} == {(t, s) for t in range(3) for s in range(3)}
    seen_words = {w for s in train.sentences() for w in s.split()}
    assert {w for s in held for w in s.split()} <= seen_words


def test_an_unknown_word_or_a_bad_sentence_gets_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown word 'bold' in 'a bold seven leaning "
                                         r"right'; the vocabulary is: a, zero, one"):
        S.tokenize("a bold seven leaning right")
    with pytest.raises(ValueError, match="a sentence has 5 words"):
        S.tokenize("a thick seven")
    assert S.tokenize("A thick seven leaning right").shape == (1, 5)
    with pytest.raises(ValueError, match=r"thickness must be an integer in 0..2, got 3"):
        S.sentence(7, 3, 0)
    with pytest.raises(ValueError, match="no image of class 3"):
        S.cut_points(np.zeros((3, 1, 28, 28), np.float32), np.array([0, 1, 2]))


def test_bad_network_inputs_get_clear_errors():
    with pytest.raises(ValueError, match=r"size must be one of 14, 28 \(a stage's resolution\), "
                                         r"got 21"):
        st.TextImageDiscriminator(21)
    enc = st.TextEncoder(len(S.VOCABULARY), 4, 4)
    with pytest.raises(ValueError, match=r"word ids must be in 0..18, got values from 0 to 19"):
        enc(minigan.tensor(np.array([[0, 19, 1, 2, 3]])))
    G = st.StageTwoGenerator(c_dim=2, width=4, blocks=1)
    with pytest.raises(ValueError, match=r"expected Stage I images of shape \(N, 1, 14, 14\), "
                                         r"got \(2, 1, 28, 28\)"):
        G(minigan.tensor(np.zeros((2, 1, 28, 28), np.float32)),
          minigan.tensor(np.zeros((2, 2), np.float32)))
    D = st.TextImageDiscriminator(14, text_dim=4, width=4)
    with pytest.raises(ValueError, match=r"\(N, 1, 14, 14\), got \(2, 1, 28, 28\)"):
        D(minigan.tensor(np.zeros((2, 1, 28, 28), np.float32)),
          minigan.tensor(np.zeros((2, 4), np.float32)))


# ------------------------------------------------------- conditioning augmentation
def test_the_kl_term_is_its_formula_and_zero_at_the_standard_normal():
    rng = np.random.default_rng(0)
    mu, ls = rng.standard_normal((5, 3)), 0.3 * rng.standard_normal((5, 3))
    want = 0.5 * (mu ** 2 + np.exp(2 * ls) - 1 - 2 * ls).sum(axis=1).mean()
    got = st.kl_to_standard_normal(minigan.tensor(mu), minigan.tensor(ls)).item()
    assert got == pytest.approx(want, rel=1e-10)
    zero = minigan.tensor(np.zeros((4, 3)))
    assert st.kl_to_standard_normal(zero, zero).item() == 0.0
    assert minigan.gradcheck(st.kl_to_standard_normal,
                             [minigan.tensor(mu, requires_grad=True),
                              minigan.tensor(ls, requires_grad=True)])


def test_conditioning_augmentation_samples_around_mu_with_sigma():
    minigan.manual_seed(0)
    ca = st.ConditioningAugmentation(text_dim=4, c_dim=2)
    code = minigan.tensor(np.tile(np.random.default_rng(1).standard_normal((1, 4)),
                                  (20000, 1)).astype(np.float32))
    c, mu, ls = ca(code)
    c, mu, sigma = c.numpy(), mu.numpy()[0], np.exp(ls.numpy()[0])
    np.testing.assert_allclose(c.mean(axis=0), mu, atol=4 * sigma.max() / np.sqrt(len(c)) + 1e-3)
    np.testing.assert_allclose(c.std(axis=0), sigma, rtol=0.03)
    c0, mu0, _ = ca(code[:3], eps=minigan.tensor(np.zeros((3, 2), np.float32)))
    np.testing.assert_array_equal(c0.numpy(), mu0.numpy())


def test_down_and_up_sampling():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    small = st.downsample(x)
    np.testing.assert_array_equal(small[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_array_equal(st.upsample(small)[0, 0, :2, :2], [[2.5, 2.5], [2.5, 2.5]])


# ------------------------------------------------------------------ short runs
def two_sentence_set(n=256, seed=0, width=4):
    """Two sentences, "zero" and "one" (the other words fixed), with 28 x 28 images: a
    bright bar `width` pixels wide in the left half for "zero", in the right half for
    "one"."""
    rng = np.random.default_rng(seed)
    which = rng.integers(0, 2, n)
    x = np.full((n, 1, 28, 28), -1.0, np.float32)
    for i, w in enumerate(which):
        col = rng.integers(3, 9) + 14 * w
        top = rng.integers(2, 10)
        x[i, 0, top:top + 16, col:col + width] = 1.0
    tokens = S.tokens_of_triples(np.stack([which, np.ones(n, int), np.ones(n, int)], 1))
    return x, tokens, which


def follows(images, which):
    """How often the ink is on the side the sentence names (left for "zero")."""
    ink = (images + 1) / 2
    half = images.shape[-1] // 2
    left, right = ink[..., :half].sum(axis=(1, 2, 3)), ink[..., half:].sum(axis=(1, 2, 3))
    return float(((left > right) == (which == 0)).mean())


KL = 0.1       # lambda: at 1 the KL term holds the condition back for longer than these runs


def stage_one(seed=0):
    minigan.manual_seed(seed)
    enc = st.TextEncoder(len(S.VOCABULARY), 8, 8)
    ca0 = st.ConditioningAugmentation(8, 4)
    g0 = st.StageOneGenerator(noise_dim=4, c_dim=4, width=8)
    d0 = st.TextImageDiscriminator(14, text_dim=8, width=8)
    return enc, ca0, g0, d0


@pytest.fixture(scope="module")
def trained_stage_one():
    """Stage I trained 300 seeded steps on the two sentences, and how often its
    drawings follow the sentence before and after."""
    x, tokens, which = two_sentence_set()
    enc, ca0, g0, d0 = stage_one()
    z = np.random.default_rng(9).standard_normal((len(which), 4)).astype(np.float32)
    before = follows(st.draw(enc, ca0, g0, tokens, z, at_mean=True), which)
    trainer = st.StageOneTrainer(enc, ca0, g0, d0, adam(ca0, g0), adam(enc, d0),
                                 data.sampler((st.downsample(x), tokens)), noise_dim=4,
                                 kl_weight=KL, batch_size=32, progress=False, verbose=False,
                                 seed=0)
    trainer.fit(300)
    after = follows(st.draw(enc, ca0, g0, tokens, z), which)
    return (enc, ca0, g0), before, after


def test_a_short_stage_one_run_learns_to_follow_the_sentence(trained_stage_one):
    """Stage I on the two sentences: at initialization about half its drawings put the
    bar on the named side; after 300 seeded steps nearly all do."""
    _, before, after = trained_stage_one
    assert after >= 0.9 and after > before + 0.25, (before, after)


def matches(D, encoder, x, tokens):
    """How often D scores a real image with its own sentence above the same image with
    the next image's sentence (where the two sentences differ)."""
    with minigan.no_grad():
        code = encoder(minigan.tensor(tokens))
        wrong = encoder(st.wrong_sentences(minigan.tensor(tokens)))
        D.eval()
        right, swapped = D(minigan.tensor(x), code).numpy(), D(minigan.tensor(x), wrong).numpy()
        D.train()
    differ = (tokens != np.roll(tokens, 1, axis=0)).any(axis=1)
    return float((right > swapped)[differ].mean())


def test_a_short_stage_two_run_learns_with_stage_one_frozen(trained_stage_one):
    """Stage II on the trained, frozen Stage I: after 150 seeded steps its matching-aware
    D tells a real 28 x 28 image with its own sentence from the same image with another
    (at initialization: a coin toss), its drawings still follow the sentence, and Stage
    I is left as it was."""
    x, tokens, which = two_sentence_set()
    enc, ca0, g0 = trained_stage_one[0]
    frozen = [{k: np.array(v) for k, v in m.state_dict().items()} for m in (enc, ca0, g0)]
    minigan.manual_seed(1)
    ca, G = st.ConditioningAugmentation(8, 4), st.StageTwoGenerator(c_dim=4, width=8, blocks=1)
    D = st.TextImageDiscriminator(28, text_dim=8, width=8)
    z = np.random.default_rng(9).standard_normal((len(which), 4)).astype(np.float32)
    before = matches(D, enc, x, tokens)
    trainer = st.StageTwoTrainer(enc, ca0, g0, ca, G, D, adam(ca, G), adam(D),
                                 data.sampler((x, tokens)), noise_dim=4, kl_weight=KL,
                                 batch_size=32, progress=False, verbose=False, seed=0)
    trainer.fit(150)
    after = matches(D, enc, x, tokens)
    assert after >= 0.9 and after > before + 0.25, (before, after)
    assert follows(st.draw(enc, ca0, g0, tokens, z, ca, G)[1], which) >= 0.9
    for m, was in zip((enc, ca0, g0), frozen):
        for k, v in m.state_dict().items():
            np.testing.assert_array_equal(np.array(v), was[k], err_msg=k)


def test_a_stage_one_run_resumes_to_the_same_run(tmp_path):
    x, tokens, _ = two_sentence_set(64)

    def build(out):
        enc, ca0, g0, d0 = stage_one()
        return st.StageOneTrainer(enc, ca0, g0, d0, adam(ca0, g0), adam(enc, d0),
                                  data.sampler((st.downsample(x), tokens)), noise_dim=4,
                                  batch_size=16, progress=False, verbose=False, seed=3,
                                  out_dir=out)
    straight = build(tmp_path / "straight")
    straight.fit(6)
    half = build(tmp_path / "half")
    half.fit(3)
    resumed = build(tmp_path / "half")
    resumed.fit(6, resume=True)
    assert resumed.history.records == straight.history.records
    for p, q in zip(resumed.G.parameters(), straight.G.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_the_matching_aware_term_changes_only_d_loss():
    """matching=False drops the real-image-with-the-wrong-sentence term: D's first loss
    differs, the KL term of G's does not."""
    x, tokens, _ = two_sentence_set(32)

    def first(matching):
        enc, ca0, g0, d0 = stage_one()
        step = st.StageOneStep(enc, ca0, g0, d0, adam(ca0, g0), adam(enc, d0),
                               data.sampler((st.downsample(x), tokens), shuffle=False),
                               noise_dim=4, batch_size=32, matching=matching)
        return step.step()
    on, off = first(True), first(False)
    assert abs(on["loss_d"] - off["loss_d"]) > 1e-4
    assert on["kl"] == pytest.approx(off["kl"], rel=1e-6)
    with pytest.raises(ValueError, match="kl_weight"):
        enc, ca0, g0, d0 = stage_one()
        st.StageOneStep(enc, ca0, g0, d0, adam(g0), adam(d0), data.sampler(x), kl_weight=-1)

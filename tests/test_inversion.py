"""GAN inversion: descent through G to its input, an encoder, both; the editing
objective; and clear errors for images of the wrong shape or range."""
import json

import numpy as np
import pytest

import minigan
from minigan.lessons import inversion
from minigan.gan import models


@pytest.fixture(scope="module")
def setup():
    """A small random DCGAN generator with weights large enough to draw varied images,
    16 targets it can draw exactly (x = G(z_true)), and an encoder trained briefly."""
    minigan.manual_seed(0)
    G = models.dcgan_generator(width=8)
    for p in G.parameters():
        if p.ndim > 1:
            p.data *= 6.0
    G.eval()
    rng = np.random.default_rng(0)
    with minigan.no_grad():
        x = G(minigan.tensor(rng.standard_normal((16, 100)).astype(np.float32))).numpy()
    E, history = inversion.train_encoder(G, 150, batch_size=32, seed=0)
    return G, x, E, history


def test_the_encoders_answer_is_a_better_start_than_a_random_code(setup):
    G, x, E, history = setup
    assert history[-1] < 0.5 * history[0]                      # the encoder learned
    z_random = minigan.tensor(np.random.default_rng(7).standard_normal((16, 100)).astype(
        np.float32))
    z1, h1 = inversion.invert_by_descent(G, x, z_random, steps=30)
    z3, h3 = inversion.invert_by_descent(G, x, inversion.encode(E, x), steps=30)
    e1 = inversion.reconstruction_error(G, z1, x).mean()
    e2 = inversion.reconstruction_error(G, inversion.encode(E, x), x).mean()
    e3 = inversion.reconstruction_error(G, z3, x).mean()
    assert h1[-1] < h1[0] and h3[-1] < h3[0]                   # descent descends
    assert e3 < 0.2 * e1, (e1, e3)                             # (3) beats (1) by far
    assert e3 < 0.2 * e2, (e2, e3)                             # and improves on (2)


def test_descent_leaves_gs_weights_untouched_and_their_gradient_flags_restored(setup):
    G, x, _, _ = setup
    before = [p.numpy().copy() for p in G.parameters()]
    inversion.invert_by_descent(G, x[:2], minigan.tensor(np.zeros((2, 100), np.float32)), 3)
    assert all(np.array_equal(a, p.numpy()) for a, p in zip(before, G.parameters()))
    assert all(p.requires_grad for p in G.parameters())


def test_the_editing_objective_moves_toward_what_u_asks_and_stays_near_z0(setup):
    G, x, E, _ = setup
    D = models.dcgan_discriminator(width=8)
    z0 = inversion.encode(E, x[:1])

    def U(images):                     # "more ink": the mean pixel, negated
        return -images.mean()
    near, _ = inversion.edit(G, D, z0, U, lambda1=10.0, lambda2=0.0, steps=30)
    far, terms = inversion.edit(G, D, z0, U, lambda1=0.0, lambda2=0.0, steps=30)
    assert terms[-1]["U"] < terms[0]["U"]
    moved = lambda z: float(np.linalg.norm(z.numpy() - z0.numpy()))      # noqa: E731
    assert moved(near) < moved(far)
    with pytest.raises(ValueError, match="lambda1 and lambda2 must be >= 0"):
        inversion.edit(G, D, z0, U, lambda1=-1.0)


@pytest.mark.parametrize("images, match", [
    (np.zeros((3, 1, 32, 32)), r"expected MNIST-sized images of shape \(N, 1, 28, 28\).*got "
                               r"shape \(3, 1, 32, 32\)"),
    (np.zeros((28, 28)), r"got shape \(28, 28\)"),
    (np.full((2, 28, 28), 255.0), r"pixels must be in \[-1, 1\].*0\.\.255 pixels: use x / 127.5 - 1"),
    (np.full((2, 28, 28), 0.5), r"all in \[0, 1\].*use 2 x - 1"),
    (np.full((2, 784), np.nan), "NaN"),
])
def test_images_of_the_wrong_shape_or_range_are_refused(images, match):
    with pytest.raises(ValueError, match=match):
        inversion.check_images(images)


def test_accepted_layouts_and_a_wrong_number_of_codes(setup):
    G = setup[0]
    assert inversion.check_images(np.zeros((2, 784)) - 1).shape == (2, 1, 28, 28)
    assert inversion.check_images(np.zeros((2, 28, 28))).shape == (2, 1, 28, 28)
    with pytest.raises(ValueError, match=r"starting codes must have shape \(2, 100\)"):
        inversion.invert_by_descent(G, np.zeros((2, 28, 28)),
                                    minigan.tensor(np.zeros((3, 100), np.float32)), 1)


def test_the_command_line_refuses_bad_images_and_unknown_options(tmp_path, capsys):
    from minigan.__main__ import main
    np.save(tmp_path / "bad.npy", np.full((2, 28, 28), 200.0))
    assert main(["run", "invert", "--quick", "--no-progress", "--out", str(tmp_path / "o"),
                 "--set", f"images={tmp_path / 'bad.npy'}"]) == 2
    assert "0..255 pixels" in capsys.readouterr().err
    assert main(["run", "invert", "--quick", "--out", str(tmp_path / "o"),
                 "--set", "lamda1=3"]) == 2
    assert ("invert has no option lamda1; its options: images=str, "
            "lambda1=float, lambda2=float, target=int") in \
        capsys.readouterr().err
    assert main(["run", "invert", "--quick", "--out", str(tmp_path / "o"),
                 "--set", "lambda1"]) == 2
    assert "expected NAME=VALUE" in capsys.readouterr().err


@pytest.mark.slow
def test_the_experiment_end_to_end_on_a_model_of_ones_own(tmp_path, monkeypatch, mnist_dir):
    """--model: another G gets an encoder trained for it (and cached), not the shipped one."""
    from minigan.__main__ import main
    from minigan.experiments import invert as lab
    monkeypatch.setattr(lab, "ENCODER_QUICK", 20)         # the path, not the quality
    monkeypatch.setattr(lab, "EDIT_STEPS", 5)
    monkeypatch.setattr(lab, "N_QUICK", 6)
    monkeypatch.setenv("MINIGAN_MODELS", str(tmp_path / "models"))
    minigan.manual_seed(0)
    G, D = models.dcgan_generator(), models.dcgan_discriminator(depth=3)   # dcgan-plus's
    run = tmp_path / "run" / "checkpoints" / "dcgan-plus"
    run.mkdir(parents=True)
    minigan.save({"generator": G.state_dict(), "discriminator": D.state_dict()},
                 run / "checkpoint.npz")
    assert main(["run", "invert", "--quick", "--steps", "5", "--no-progress", "--model",
                 str(tmp_path / "run"), "--out", str(tmp_path / "o"), "--set", "lambda2=0.5"]) == 0
    m = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert m["encoder"].startswith("trained now (20 steps")
    assert len(list((tmp_path / "models").glob("encoder-*-20.npz"))) == 1
    assert set(m["methods"]) == {"descent from random z", "encoder", "encoder, then descent"}
    assert m["edit"]["lambda2"] == 0.5 and m["n_images"] == 6
    for name in ("invert_reconstructions.png", "invert_curves.png", "invert_edit.png"):
        assert (tmp_path / "o" / name).exists()


def test_with_the_shipped_dcgan_the_lesson_takes_seconds_and_states_its_claims(
        tmp_path, monkeypatch, mnist_dir, capsys):
    """No --model: the shipped G and its shipped encoder (nothing trained), and three
    claims decided and printed."""
    from minigan.__main__ import main
    from minigan.experiments import invert as lab
    monkeypatch.setattr(lab, "N_QUICK", 6)
    monkeypatch.setenv("MINIGAN_MODELS", str(tmp_path / "models"))
    assert main(["run", "invert", "--quick", "--steps", "30", "--no-progress",
                 "--out", str(tmp_path / "o")]) == 0
    m = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert m["encoder"].startswith("the encoder that ships with the trained DCGAN")
    assert m["encoder_train_seconds"] == 0.0 and not (tmp_path / "models").exists()
    assert [c["claim"].split(" ")[0] for c in m["claims"]] == ["starting", "the", "minimizing"]
    assert capsys.readouterr().out.count("claim ") == 3


def test_an_inversion_claim_that_did_not_hold_is_reported_failed():
    from minigan.experiments import invert as lab
    methods = {"descent from random z": {"mse_mean": 0.02, "seconds_per_image": 0.5},
               "encoder": {"mse_mean": 0.05, "seconds_per_image": 0.001},
               "encoder, then descent": {"mse_mean": 0.03, "seconds_per_image": 0.5}}
    edit = {"lambda2 = 0.02": {"classifier_says": [7, 7, 4]}}
    held = [c.held for c in lab.invert_claims(methods, edit, 9)]
    assert held == [False, True, False]
    methods["encoder, then descent"]["mse_mean"] = 0.01
    edit["lambda2 = 0.02"]["classifier_says"][2] = 9
    assert [c.held for c in lab.invert_claims(methods, edit, 9)] == [True, True, True]


def test_the_encoder_resumes_exactly_after_a_stop(tmp_path):
    minigan.manual_seed(0)
    G = models.dcgan_generator(width=8)

    def stop_at_3(trainer, step):
        if step == 3:
            trainer.request_stop()
    E1, h1 = inversion.train_encoder(G, steps=6, batch_size=8, seed=4)
    inversion.train_encoder(G, steps=6, batch_size=8, seed=4,
                            runner={"out_dir": str(tmp_path), "callbacks": [stop_at_3]})
    E2, h2 = inversion.train_encoder(G, steps=6, batch_size=8, seed=4,
                                     runner={"out_dir": str(tmp_path)}, resume=True)
    assert h1 == h2 and len(h2) == 6
    for p, q in zip(E1.parameters(), E2.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())

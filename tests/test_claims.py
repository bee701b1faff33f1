"""Every demo states its claim and its verdict: the rules decide from the numbers,
a claim that did not hold is reported as failed (printed, recorded, and marked in
the figure's title), and one that held as held."""
import json

from minigan.experiments import claims as C
from minigan.experiments import games, toy1d, vanishing, mog, mog_table, latent_walk
from minigan.experiments import image_gans


def test_a_claim_prints_its_verdict_and_marks_a_title():
    held = C.claim("A", "a > 1", "a = 2", True)
    failed = C.claim("B", "b > 1", "b = 0", False)
    assert held.line().startswith("claim held: A (expected a > 1; measured a = 2)")
    assert failed.line().startswith("claim FAILED: B")
    assert "run it in full" in failed.line(quick=True) and "run it" not in held.line(quick=True)
    assert C.titled("T", [held]) == "T"
    assert C.titled("T", [held, failed]) == "CLAIM FAILED (1 of 2): T"
    rec = C.as_records([failed])
    assert json.loads(json.dumps(rec)) == [{"claim": "B", "expected": "b > 1",
                                            "measured": "b = 0", "held": False}]


def test_numpy_booleans_become_plain_ones():
    import numpy as np
    assert C.claim("x", "", "", np.bool_(True)).held is True


def test_the_bilinear_rules():
    m = {"start": [1.0, 0.5], "simultaneous_rate_measured": 1.004988,
         "simultaneous_rate_theory": 1.004988, "simultaneous_final_distance": 2.0,
         "optimistic_final_distance": 0.6, "extragradient_final_distance": 0.6,
         "consensus_final_distance": 1e-5, "sga_final_distance": 1e-5}
    assert [c.held for c in games.bilinear_claims(m)] == [True, True]
    m["sga_final_distance"] = 3.0              # one "fix" that diverged
    m["simultaneous_rate_measured"] = 1.01     # a rate off the theory
    assert [c.held for c in games.bilinear_claims(m)] == [False, False]


def test_the_dirac_gan_rules():
    m = {"start_distance": 1.41, "gda_standard_final_distance": 2.6, "gda_R1_final_distance": 1e-9}
    assert [c.held for c in games.dirac_claims(m)] == [True, True]
    m.update(gda_standard_final_distance=0.1, gda_R1_final_distance=0.5)
    assert [c.held for c in games.dirac_claims(m)] == [False, False]


def test_the_optimal_discriminator_and_gan_1d_rules():
    m = {"max_abs_D_minus_Dstar": 0.2, "minus_log4_plus_2jsd": -0.587, "value_V": -0.5,
         "abs_V_minus_theory": 0.087, "label_smoothing_max_abs_D_minus_alpha_Dstar": 0.01}
    assert [c.held for c in toy1d.optimal_discriminator_claims(m)] == [False, False, True]
    g = {"jsd_start": 0.68, "jsd_end": 0.3, "mean_abs_D_minus_half_on_data": 0.2}
    assert [c.held for c in toy1d.gan_1d_claims(g)] == [False, False]


def test_the_vanishing_gradient_rules():
    m = {"grad_saturating_at_D_0.01": 0.01, "grad_non_saturating_at_D_0.01": 0.99,
         "ratio_non_saturating_over_saturating_at_D_0.01": 99.0, "g_start_mean": -3.0,
         "data_mean": 2.0, "saturating_g_mean_end": 1.9, "non_saturating_g_mean_end": 2.0}
    assert [c.held for c in vanishing.vanishing_claims(m)] == [True, False]   # G did not stall


def test_the_mode_collapse_rules():
    over = lambda modes: [{"modes": k} for k in modes]   # noqa: E731
    result = {"gan": {"over_training": over([1, 2, 2])},
              "pacgan2-drs": {"over_training": over([3, 8, 8]), "modes": 8}}
    assert [c.held for c in mog.mog_claims(result)] == [True, True]
    result["pacgan2-drs"]["modes"] = 7
    result["gan"]["over_training"] = over([5, 8, 8])
    assert [c.held for c in mog.mog_claims(result)] == [False, False]
    assert [c.held for c in mog.collapse_claims(
        {"dominant_mode_changes": 5, "modes_covered": [1, 1, 2]})] == [True]
    assert [c.held for c in mog.collapse_claims(
        {"dominant_mode_changes": 5, "modes_covered": [1, 8, 2]})] == [False]
    rows = [{"dataset": "ring", "method": "pacgan2-drs", "modes_min": 8, "n_modes": 8},
            {"dataset": "grid", "method": "pacgan2-drs", "modes_min": 24, "n_modes": 25}]
    assert [c.held for c in mog_table.table_claims(rows)] == [False]


def test_the_latent_rules():
    walks = {"lerp": {"midpoint_norm_over_end_norm": 0.70},
             "slerp": {"midpoint_norm_over_end_norm": 1.0}}
    assert [c.held for c in latent_walk.walk_claims(walks)] == [True]
    walks["slerp"]["midpoint_norm_over_end_norm"] = 0.7
    assert [c.held for c in latent_walk.walk_claims(walks)] == [False]
    a = {"concept": "thick 0 - thin 0 + thin 7", "classifier_says": [7, 1, 7, 1],
         "ink_result": 0.063, "ink_thin_target": 0.060}
    assert [c.held for c in latent_walk.arithmetic_claims(a)] == [False]    # 2 of 4 only
    a["classifier_says"] = [7, 7, 7, 1]
    assert [c.held for c in latent_walk.arithmetic_claims(a)] == [True]
    a["ink_result"] = 0.05                                                  # a thin 7
    assert [c.held for c in latent_walk.arithmetic_claims(a)] == [False]


def test_the_image_gan_rules():
    scores = {"nearest_train": {"gen_median": 9.0, "test_median": 8.8, "median_ratio": 1.02,
                                "gen_exact_copies": 0.0}, "class_accuracy": 0.95}
    assert [c.held for c in image_gans.image_gan_claims(scores, True)] == [True, True]
    scores["nearest_train"].update(median_ratio=0.5, gen_exact_copies=0.1)
    scores["class_accuracy"] = 0.6
    assert [c.held for c in image_gans.image_gan_claims(scores, True)] == [False, False]
    assert len(image_gans.image_gan_claims(scores, False)) == 1


def test_an_experiment_whose_claim_holds_records_it(tmp_path, capsys):
    from minigan.__main__ import main
    assert main(["run", "convt-matrix", "--no-progress", "--out", str(tmp_path)]) == 0
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert [c["held"] for c in m["claims"]] == [True]
    assert "claim held: the transposed convolution is multiplication by C^T" in \
        capsys.readouterr().out


def test_a_failed_claim_is_marked_in_the_figures_title(tmp_path, monkeypatch):
    """20 steps are too few for the race to the data: the figure's title says the claim
    failed (the title is read where the figure is drawn)."""
    from minigan.__main__ import main
    titles = []
    real = vanishing.suptitle
    monkeypatch.setattr(vanishing, "suptitle",
                        lambda fig, title, *a, **k: (titles.append(title), real(fig, title, *a,
                                                                                  **k)))
    assert main(["run", "vanishing-gradients", "--quick", "--steps", "20", "--no-progress",
                 "--out", str(tmp_path)]) == 0
    assert titles and titles[0].startswith("CLAIM FAILED (1 of 2): Vanishing gradients")

"""The command line: list, run, and every mistake refused before training starts."""
import json
import os
import subprocess
import sys
import pathlib

import numpy as np
import pytest

import minigan
from minigan.__main__ import main, MAX_STEPS
from minigan import experiments
from minigan.experiments.mog_recipes import BEST

ROOT = pathlib.Path(__file__).resolve().parents[1]
OURS = ("bilinear", "dirac-gan", "optimal-discriminator", "gan-1d", "vanishing-gradients")


def test_list_groups_every_experiment_under_its_lecture():
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-m", "minigan", "list"], capture_output=True, text=True,
                       cwd=ROOT, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    lecture, seen = None, {}
    for line in r.stdout.splitlines():
        if line.startswith("Lecture "):
            lecture = int(line.split()[1].rstrip(":"))
            assert experiments.LECTURES[lecture].page in line
        elif line.strip():
            name, summary = line.split(None, 1)                 # a name and a summary
            seen[name] = lecture
    exps = experiments.load_all()
    assert set(OURS) <= set(seen)
    assert seen == {name: e.lecture for name, e in exps.items()}
    assert [e.lecture for e in exps.values()].count(None) == 0


def test_every_lecture_has_its_text_and_its_page():
    for number, lecture in experiments.LECTURES.items():
        assert (ROOT.parent / "shared" / "lectures" / lecture.text).exists() or \
            not (ROOT.parent / "shared" / "lectures").exists(), lecture.text
        assert (ROOT / lecture.page).exists(), lecture.page
    with pytest.raises(ValueError, match="lecture must be one of"):
        experiments.experiment("test-probe", "a probe", lecture=6)


def test_unknown_experiment_lists_the_known_ones(capsys, tmp_path):
    assert main(["run", "no-such-thing", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "unknown experiment 'no-such-thing'" in err
    for name in OURS:
        assert name in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("steps", ["0", "-5", str(MAX_STEPS + 1)])
def test_bad_step_count_is_refused_with_the_valid_range(capsys, tmp_path, steps):
    assert main(["run", "bilinear", "--steps", steps, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"--steps must be between 1 and {MAX_STEPS}, got {steps}" in err
    assert not (tmp_path / "o").exists()


def test_jobs_below_one_is_refused(capsys, tmp_path):
    assert main(["run", "mog-table", "--jobs", "0", "--out", str(tmp_path / "o")]) == 2
    assert "--jobs must be at least 1, got 0" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_unwritable_output_folder_is_reported_before_training(capsys, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert main(["run", "vanishing-gradients", "--out", str(blocker / "sub")]) == 2
    captured = capsys.readouterr()
    assert "cannot write to the output folder" in captured.err
    assert "--out" in captured.err
    assert "running" not in captured.out            # nothing was trained


def test_quick_run_writes_metrics_and_a_png(capsys, tmp_path):
    out = tmp_path / "vg"
    assert main(["run", "vanishing-gradients", "--quick", "--steps", "20", "--seed", "3",
                 "--no-progress", "--out", str(out)]) == 0
    record = json.loads((out / "metrics.json").read_text())
    assert record["config"] == {"name": "vanishing-gradients", "steps": 20, "seed": 3,
                                "device": "cpu", "out": str(out), "quick": True,
                                "progress": False, "jobs": None, "resume": False,
                                "data_dir": None, "options": {}, "model": None}
    assert record["wall_time_s"] > 0
    # 20 steps are too few for the race to the data: the claim fails, and says so
    verdicts = {c["claim"].split(",")[0]: c["held"] for c in record["claims"]}
    assert verdicts == {"where D rejects the fakes (D(G(z)) = 0.01)": True,
                        "against a strong D": False}
    printed = capsys.readouterr().out
    assert "claim FAILED: against a strong D" in printed
    assert record["ratio_non_saturating_over_saturating_at_D_0.01"] == pytest.approx(99.0)
    png = out / "vanishing_gradients.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "done in" in printed


def test_registry_refuses_a_name_registered_twice():
    @experiments.experiment("test-dup-probe", "a probe", lecture=1)
    def one(cfg):
        return {}
    try:
        with pytest.raises(ValueError, match="registered twice"):
            @experiments.experiment("test-dup-probe", "another", lecture=1)
            def two(cfg):
                return {}
    finally:
        experiments.EXPERIMENTS.pop("test-dup-probe", None)


def test_run_config_step_defaults():
    cfg = experiments.RunConfig(name="x")
    assert cfg.steps_or(500, quick_default=50) == 500
    cfg.quick = True
    assert cfg.steps_or(500, quick_default=50) == 50
    cfg.steps = 7
    assert cfg.steps_or(500, quick_default=50) == 7


def test_mog_trains_its_two_runs_in_workers_and_draws_both_figures(tmp_path):
    out = tmp_path / "mog"
    assert main(["run", "mog", "--steps", "20", "--jobs", "2", "--no-progress",
                 "--out", str(out)]) == 0
    record = json.loads((out / "metrics.json").read_text())
    for method in ("gan", BEST):
        steps = [r["step"] for r in record[method]["over_training"]]
        assert steps == [1, 2, 6, 20]             # 1%, 3%, 10%, 30%, 100% of 20 steps
        assert 0 <= record[method]["modes"] <= 8
    assert (out / "mog_side_by_side.png").exists() and (out / "mog_over_training.png").exists()


def test_metrics_json_writes_an_undefined_value_as_null(tmp_path):
    from minigan.__main__ import write_metrics
    from minigan.experiments import RunConfig
    path = write_metrics(tmp_path, {"reverse_kl": float("nan"), "ok": np.float32(0.5),
                                    "rows": [{"x": float("inf")}]}, RunConfig("x"), 1.0)
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text and '"nan"' not in text
    record = json.loads(text)
    assert record["reverse_kl"] is None and record["rows"][0]["x"] is None
    assert record["ok"] == 0.5


def test_experiments_sharing_an_out_keep_each_others_metrics(tmp_path, capsys):
    from minigan.__main__ import write_metrics, check_resume, UsageError
    from minigan.experiments import RunConfig
    write_metrics(tmp_path, {"score": 1.0}, RunConfig("first"), 1.0)
    write_metrics(tmp_path, {"score": 2.0}, RunConfig("second"), 1.0)
    assert "kept first's metrics.json as metrics-first.json" in capsys.readouterr().out
    kept = json.loads((tmp_path / "metrics-first.json").read_text())
    assert kept["score"] == 1.0 and kept["config"]["name"] == "first"
    assert json.loads((tmp_path / "metrics.json").read_text())["score"] == 2.0
    write_metrics(tmp_path, {"score": 3.0}, RunConfig("second"), 1.0)   # its own: replaced
    assert json.loads((tmp_path / "metrics.json").read_text())["score"] == 3.0
    assert "wall_time_note" not in json.loads((tmp_path / "metrics.json").read_text())
    write_metrics(tmp_path, {"score": 3.0}, RunConfig("second", resume=True), 1.0)
    note = json.loads((tmp_path / "metrics.json").read_text())["wall_time_note"]
    assert "this process alone" in note          # the time before the interruption is not in it
    # --resume of the first checks the settings it kept, not the second's
    (tmp_path / "checkpoints").mkdir()
    check_resume(tmp_path, RunConfig("first"))
    with pytest.raises(UsageError, match="seed 0 -> 5"):
        check_resume(tmp_path, RunConfig("first", seed=5))


# ------------------------------------------------------------------- Ctrl-C
def _run_and_ctrl_c(args, out, n_runs, after=1.0):
    """Start `python -m minigan run ...` in its own process group, wait until its
    training runs have started, press Ctrl-C (SIGINT to the whole group, as a
    terminal does), and return (exit code, output)."""
    import signal
    import time
    p = subprocess.Popen([sys.executable, "-m", "minigan", "run", *args, "--out", str(out),
                          "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    ck, t0 = out / "checkpoints", time.time()
    while time.time() - t0 < 120 and p.poll() is None and not (
            ck.exists() and len(list(ck.iterdir())) >= n_runs):
        time.sleep(0.1)
    time.sleep(after)
    os.killpg(p.pid, signal.SIGINT)
    text, _ = p.communicate(timeout=300)
    return p.returncode, text


def _without(record, *keys):
    return {k: v for k, v in record.items() if k not in keys}


@pytest.mark.slow
def test_ctrl_c_stops_every_worker_and_resume_gives_the_uninterrupted_result(tmp_path):
    args = ["mog", "--steps", "3000", "--jobs", "2"]
    out = tmp_path / "stopped"
    rc, text = _run_and_ctrl_c(args, out, n_runs=2)
    assert rc == 130, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    last = text.strip().splitlines()[-1]
    assert last.startswith("interrupted:") and "--resume" in last and "--steps 3000" in last
    record = json.loads((out / "metrics.json").read_text())
    assert record["interrupted"] is True
    reached = record["steps_reached"]
    assert set(reached) == {"gan", BEST}
    assert all(0 < s < 3000 for s in reached.values()), reached    # stopped mid-run
    for name, step in reached.items():                           # each saved where it stopped
        assert minigan.load(out / "checkpoints" / name / "checkpoint.npz")["step"] == step
    assert main(["run", *args, "--out", str(out), "--no-progress", "--resume"]) == 0
    assert main(["run", *args, "--out", str(tmp_path / "straight"), "--no-progress"]) == 0
    resumed = json.loads((out / "metrics.json").read_text())
    straight = json.loads((tmp_path / "straight" / "metrics.json").read_text())
    assert "interrupted" not in resumed
    for method in ("gan", BEST):
        assert _without(resumed[method], "seconds") == _without(straight[method], "seconds")
    assert (np.load(out / "samples_gan.npy") == np.load(tmp_path / "straight" /
                                                       "samples_gan.npy")).all()


def test_resume_refuses_other_settings_and_an_empty_folder(capsys, tmp_path):
    assert main(["run", "gan-1d", "--steps", "3", "--no-progress", "--out",
                 str(tmp_path / "a")]) == 0
    capsys.readouterr()
    assert main(["run", "gan-1d", "--steps", "4", "--no-progress", "--resume", "--out",
                 str(tmp_path / "a")]) == 2
    assert "other settings (steps 3 -> 4)" in capsys.readouterr().err
    assert main(["run", "gan-1d", "--no-progress", "--resume", "--out",
                 str(tmp_path / "empty")]) == 2
    assert "nothing to resume" in capsys.readouterr().err


def test_negative_seed_is_refused_up_front(capsys, tmp_path):
    assert main(["run", "gan-1d", "--seed", "-1", "--out", str(tmp_path)]) == 2
    assert "--seed must be between 0 and" in capsys.readouterr().err


def test_every_experiment_refuses_an_option_it_does_not_take_before_anything_runs(
        tmp_path, capsys):
    """--set is checked in one place (Experiment.run) for every experiment: an unknown
    name is refused with exit code 2, naming the options the experiment takes, and
    nothing is written."""
    for name, exp in experiments.load_all().items():
        out = tmp_path / name
        assert main(["run", name, "--quick", "--no-progress", "--out", str(out),
                     "--set", "foo=1"]) == 2, name
        err = capsys.readouterr().err
        assert f"{name} has no option foo; " in err, err
        for option in exp.options:
            assert f"{option}=" in err
        if not exp.options:
            assert "it takes no --set options" in err
        assert not (out / "metrics.json").exists()


def test_an_option_of_the_wrong_kind_is_refused_naming_what_it_takes(tmp_path, capsys):
    for item, message in (("lambda1=abc", "--set lambda1=abc: expected float"),
                          ("target=1.5", "--set target=1.5: expected int"),
                          ("judge=vit", "--set judge=vit: expected one of cnn, mlp")):
        name = "mnist-classifier" if item.startswith("judge") else "invert"
        assert main(["run", name, "--quick", "--no-progress", "--out", str(tmp_path),
                     "--set", item]) == 2
        assert message in capsys.readouterr().err


def test_only_the_lessons_on_a_trained_dcgan_take_a_model(tmp_path, capsys):
    assert main(["run", "bilinear", "--quick", "--no-progress", "--out", str(tmp_path / "b"),
                 "--model", "runs/dcgan"]) == 2
    err = capsys.readouterr().err
    assert "bilinear trains its own models and takes no --model" in err
    assert "latent-walk" in err and "invert" in err and "bn-correlation" in err
    assert main(["run", "latent-walk", "--quick", "--no-progress", "--out", str(tmp_path / "l"),
                 "--model", str(tmp_path / "nothing-here")]) == 2
    assert "--model" in capsys.readouterr().err and not (tmp_path / "l" / "metrics.json").exists()


def test_an_experiment_reading_an_option_it_did_not_declare_is_a_bug_caught_at_once():
    cfg = experiments.RunConfig("x", options={"a": "1"})
    with pytest.raises(KeyError, match="does not declare"):
        cfg.option("a", 0)


def test_the_continue_line_repeats_every_option_the_run_was_started_with():
    from minigan.__main__ import _parser, _same_settings
    args = _parser().parse_args(["run", "invert", "--steps", "5", "--seed", "2", "--quick",
                                 "--no-progress", "--data-dir", "/my data", "--model",
                                 "runs/dcgan", "--jobs", "2", "--set", "lambda1=0.5",
                                 "--set", "target=4"])
    line = _same_settings(args)
    for part in ("--steps 5", "--seed 2", "--quick", "--no-progress", "--data-dir '/my data'",
                 "--model runs/dcgan", "--jobs 2", "--set lambda1=0.5", "--set target=4"):
        assert part in line, (part, line)
    again = _parser().parse_args(["run", "invert"] + __import__("shlex").split(line))
    assert _same_settings(again) == line                      # it parses back to itself


def test_steps_reached_are_the_checkpoints_steps(tmp_path):
    """After a second Ctrl-C the process may have gone past the last save: what is
    reported as reached is what the checkpoints hold, what --resume continues from."""
    from minigan.__main__ import saved_steps
    for name, step in (("gan", 337), ("best", 395)):
        (tmp_path / "checkpoints" / name).mkdir(parents=True)
        minigan.save({"step": step}, tmp_path / "checkpoints" / name / "checkpoint.npz")
    (tmp_path / "checkpoints" / "broken").mkdir()
    (tmp_path / "checkpoints" / "broken" / "checkpoint.npz").write_bytes(b"not a zip")
    assert saved_steps(tmp_path) == {"gan": 337, "best": 395}


@pytest.mark.slow
def test_resume_refuses_other_options_even_after_a_run_killed_outright(capsys, tmp_path, mnist_dir,
                                                                       monkeypatch):
    from minigan.experiments import invert
    monkeypatch.setattr(invert, "N_QUICK", 4)
    out = tmp_path / "inv"
    assert main(["run", "invert", "--quick", "--steps", "3", "--no-progress", "--out",
                 str(out), "--set", "lambda1=0.05"]) == 0
    assert json.loads((out / "run-invert.json").read_text())["options"] == {"lambda1": "0.05"}
    (out / "metrics.json").unlink()                    # as if killed before it was written
    capsys.readouterr()
    assert main(["run", "invert", "--quick", "--steps", "3", "--no-progress", "--out",
                 str(out), "--set", "lambda1=0.5", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "other settings (options {'lambda1': '0.05'} -> {'lambda1': '0.5'})" in err
    assert main(["run", "invert", "--quick", "--steps", "3", "--no-progress", "--out",
                 str(out), "--model", "runs/dcgan", "--set", "lambda1=0.05",
                 "--resume"]) == 2
    assert "model None -> 'runs/dcgan'" in capsys.readouterr().err

"""The command line: list, run, and every mistake refused before training starts."""
import json
import os
import subprocess
import sys
import pathlib

import numpy as np
import pytest

from minigan.__main__ import main, MAX_STEPS
from minigan import experiments

ROOT = pathlib.Path(__file__).resolve().parents[1]
OURS = ("bilinear", "dirac-gan", "optimal-discriminator", "gan-1d", "vanishing-gradients")


def test_list_names_every_experiment_one_line_each():
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-m", "minigan", "list"], capture_output=True, text=True,
                       cwd=ROOT, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    names = [ln.split()[0] for ln in lines]
    for name in OURS:
        assert name in names
    assert len(lines) == len(experiments.load_all())
    assert all(len(ln.split(None, 1)) == 2 for ln in lines)     # a name and a summary


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
                                "progress": False, "jobs": None}
    assert record["wall_time_s"] > 0
    assert record["ratio_non_saturating_over_saturating_at_D_0.01"] == pytest.approx(99.0)
    png = out / "vanishing_gradients.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "done in" in capsys.readouterr().out


def test_registry_refuses_a_name_registered_twice():
    @experiments.experiment("test-dup-probe", "a probe")
    def one(cfg):
        return {}
    try:
        with pytest.raises(ValueError, match="registered twice"):
            @experiments.experiment("test-dup-probe", "another")
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
    for method in ("gan", "pacgan2-rescaled"):
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

"""The generated tables of docs/: each agrees with the metrics files kept beside it.

A table between ``<!-- table: NAME -->`` and ``<!-- end table -->`` is written by
``python -m minigan.experiments.tables`` from ``docs/metrics/``; these tests
check the real pages, and the generator itself on a made-up metrics folder.
"""
import json
import re
import pathlib

import pytest

from minigan import experiments
from minigan.experiments import tables

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_the_docs_tables_agree_with_their_metrics_files():
    assert tables.check(ROOT / "docs") == []


def test_the_docs_have_the_quick_runs_table():
    text = (ROOT / "docs" / "quick-runs.md").read_text(encoding="utf-8")
    assert "<!-- table: quick-runs -->" in text
    assert len(list((ROOT / "docs" / "metrics" / "quick").glob("*.json"))) > 0


def test_every_experiment_has_a_row_in_the_quick_runs_table():
    assert set(tables.QUICK_RUNS) == set(experiments.load_all())


# --- the generator on a made-up folder -------------------------------------

PAGE = """# Made up

Some prose that stays as it is: 1.234.

<!-- table: quick-runs -->
<!-- end table -->

More prose after the table.
"""


def _config(name):
    return {"name": name, "quick": True, "seed": 0}


def made_up(tmp_path, **extra):
    """A docs folder with one page and a metrics folder of two quick runs."""
    docs = tmp_path / "docs"
    quick = docs / "metrics" / "quick"
    quick.mkdir(parents=True)
    (docs / "page.md").write_text(PAGE, encoding="utf-8")
    runs = {
        "vanishing-gradients": {
            "steps": 300, "grad_saturating_at_D_0.01": 0.0123,
            "grad_non_saturating_at_D_0.01": 0.99,
            "saturating_g_mean_end": -2.5, "non_saturating_g_mean_end": 1.75, "data_mean": 2.0,
            "config": _config("vanishing-gradients"), "wall_time_s": 3.25},
        "mog": {
            "steps": 500,
            "gan": {"modes": 3, "high_quality": 0.25, "reverse_kl": 1.5},
            "pacgan2-drs": {"modes": 8, "high_quality": 0.875, "reverse_kl": 0.0421},
            "config": _config("mog"), "wall_time_s": 612.0},
    }
    runs.update(extra)
    for name, m in runs.items():
        (quick / f"{name}.json").write_text(json.dumps(m), encoding="utf-8")
    return docs


def test_a_table_regenerates_from_its_files(tmp_path):
    docs = made_up(tmp_path)
    assert tables.check(docs) != []                # the empty table differs from its files
    assert tables.write(docs) == [docs / "page.md"]
    text = (docs / "page.md").read_text(encoding="utf-8")
    assert text.startswith("# Made up\n\nSome prose that stays as it is: 1.234.\n")
    assert text.endswith("<!-- end table -->\n\nMore prose after the table.\n")
    rows = [ln for ln in text.splitlines() if ln.startswith("| `")]
    # in the order of `python -m minigan list`, not of the files' names
    assert [r.split(" | ")[0] for r in rows] == ["| `vanishing-gradients`", "| `mog`"]
    assert "saturating 0.012, non-saturating 0.99" in rows[0]
    assert rows[0].endswith("| 3.2 s |")
    assert "vanilla GAN: modes 3, high quality 25.0%, reverse KL 1.500" in rows[1]
    assert "best recipe: modes 8, high quality 87.5%, reverse KL 0.042" in rows[1]
    assert rows[1].endswith("| 10.2 min |")
    assert "No metrics file yet for `bilinear`" in text      # what is missing is said
    assert tables.check(docs) == []
    assert tables.write(docs) == []                 # a second run changes nothing


def test_an_edited_number_is_caught(tmp_path):
    docs = made_up(tmp_path)
    tables.write(docs)
    page = docs / "page.md"
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("87.5%", "88.5%"), encoding="utf-8")
    problems = tables.check(docs)
    assert len(problems) == 1
    assert "page.md" in problems[0] and "quick-runs" in problems[0]
    # and an edited metrics file is caught the same way
    tables.write(docs)
    m = json.loads((docs / "metrics" / "quick" / "mog.json").read_text())
    m["gan"]["modes"] = 4
    (docs / "metrics" / "quick" / "mog.json").write_text(json.dumps(m))
    assert len(tables.check(docs)) == 1


def test_the_command_line_check_names_the_table(tmp_path, capsys):
    docs = made_up(tmp_path)
    assert tables.main(["--check", "--docs", str(docs)]) == 1
    assert "page.md: table quick-runs differs" in capsys.readouterr().out
    assert tables.main(["--docs", str(docs)]) == 0
    assert tables.main(["--check", "--docs", str(docs)]) == 0


def test_a_missing_field_names_the_file_and_the_field(tmp_path):
    docs = made_up(tmp_path)
    m = json.loads((docs / "metrics" / "quick" / "mog.json").read_text())
    del m["pacgan2-drs"]["reverse_kl"]
    (docs / "metrics" / "quick" / "mog.json").write_text(json.dumps(m))
    [problem] = tables.check(docs)
    assert "quick-runs" in problem and "mog.json" in problem and "reverse_kl" in problem
    with pytest.raises(tables.TableError, match="reverse_kl"):
        tables.write(docs)


def test_a_run_without_a_row_or_not_quick_is_refused(tmp_path):
    docs = made_up(tmp_path, **{"no-such-experiment": {"config": _config("x"), "wall_time_s": 1}})
    assert "no row written for no-such-experiment" in tables.check(docs)[0]
    docs = made_up(tmp_path / "b")
    m = json.loads((docs / "metrics" / "quick" / "mog.json").read_text())
    m["config"]["quick"] = False
    (docs / "metrics" / "quick" / "mog.json").write_text(json.dumps(m))
    assert "not a --quick run" in tables.check(docs)[0]


def test_broken_markers_are_reported(tmp_path):
    docs = made_up(tmp_path)
    (docs / "other.md").write_text("<!-- table: no-such-table -->\n<!-- end table -->\n")
    (docs / "open.md").write_text("<!-- table: quick-runs -->\nno end\n")
    problems = "\n".join(tables.check(docs))
    assert "other.md: no table called 'no-such-table'" in problems
    assert "open.md: the table 'quick-runs' has no <!-- end table -->" in problems


def test_lookup_paths():
    m = {"a": {"b c": [10, 20]}, "x_0.01": 1.5,
         "rows": [{"d": "ring", "m": "gan", "v": 1}, {"d": "grid", "m": "gan", "v": 2}]}
    assert tables.lookup(m, "a/b c/1") == 20
    assert tables.lookup(m, "x_0.01") == 1.5
    assert tables.lookup(m, "rows[d=grid,m=gan]/v") == 2
    with pytest.raises(tables.TableError, match="0 elements match"):
        tables.lookup(m, "rows[d=moon]/v")
    assert tables.fill("{a/b c:.1f} and {rows[d=ring,m=gan]/v}", m) == "10.0, 20.0 and 1"


def test_collect_copies_as_they_are_and_drops_only_large_arrays(tmp_path):
    runs = tmp_path / "runs"
    (runs / "mog").mkdir(parents=True)
    (runs / "dcgan").mkdir()
    (runs / "unfinished").mkdir()
    text = '{\n  "steps": 500,\n  "x": 0.30000000000000004\n}'
    (runs / "mog" / "metrics.json").write_text(text)
    (runs / "dcgan" / "metrics.json").write_text(json.dumps(
        {"is": 5.5, "curve": list(range(tables.LARGE + 1)), "stages": [1, 2]}))
    into = tmp_path / "quick"
    assert tables.collect(runs, into) == ["dcgan", "mog"]
    assert (into / "mog.json").read_text() == text                     # byte for byte
    assert json.loads((into / "dcgan.json").read_text()) == {"is": 5.5, "stages": [1, 2]}


def test_the_dcgan_seeds_table_gives_each_seed_and_the_spread_over_them(tmp_path):
    full = tmp_path / "metrics" / "full"
    full.mkdir(parents=True)
    for seed, (is1, fd1) in enumerate([(6.0, 30.0), (7.0, 20.0), (8.0, 25.0)]):
        (full / f"dcgan-seed{seed}.json").write_text(json.dumps(
            {"steps": 3750, "inception_score": is1, "inception_score_std": 0.1,
             "frechet_distance": fd1, "judge2_inception_score": is1 - 1,
             "judge2_frechet_distance": fd1 / 2, "train_seconds": 1500.0}))
    table = tables.dcgan_seeds(tmp_path / "metrics")
    assert "| 1 | 3,750 | 7.00 ± 0.10 | 20.0 | 6.00 | 10.0 | 25.0 min |" in table
    assert "| mean (range), 3 seeds |  | 7.00 (6.00-8.00) | 25.0 (20.0-30.0) | " \
           "6.00 (5.00-7.00) | 12.5 (10.0-15.0) |  |" in table
    (full / "dcgan-seed1.json").write_text(json.dumps({"steps": 3750}))
    with pytest.raises(tables.TableError, match="no 'inception_score'"):
        tables.dcgan_seeds(tmp_path / "metrics")


def test_the_dcgan_plus_table_gives_every_stage_and_both_judges(tmp_path):
    full = tmp_path / "metrics" / "full"
    full.mkdir(parents=True)
    stages = [{"stage": "R1 penalty (G's own weights)", "samples": "all",
               "inception_score": 8.3, "frechet_distance": 18.0,
               "judge2_inception_score": 8.0, "judge2_frechet_distance": 12.0},
              {"stage": "+ Jacobian-based truncation", "samples": "kept 40%",
               "inception_score": 9.2, "frechet_distance": 11.0,
               "judge2_inception_score": 9.1, "judge2_frechet_distance": 17.0}]
    (full / "dcgan-plus-seed0.json").write_text(json.dumps({"improvements": stages}))
    table = tables.dcgan_plus_stages(tmp_path / "metrics")
    assert "| 0 | + Jacobian-based truncation | kept 40% | 9.20 | 11.0 | 9.10 | 17.0 |" in table
    assert table.count("\n") == 4                         # header, rule, two stages


def test_the_prdc_table_gives_every_run_with_the_four_and_real_data_once(tmp_path):
    full = tmp_path / "metrics" / "full"
    full.mkdir(parents=True)
    real = {"precision_real_train_vs_test": 0.924, "recall_real_train_vs_test": 0.928,
            "density_real_train_vs_test": 0.94, "coverage_real_train_vs_test": 0.939}
    for name, p, extra in (("dcgan-seed0", 0.488, {"manifold_rescored": True}),
                           ("cgan-seed1", 0.7, {})):
        (full / f"{name}.json").write_text(json.dumps(
            dict(real, n_samples=10000, precision=p, recall=0.821, density=0.195,
                 coverage=0.24, **extra)))
    (full / "dcgan-seed1.json").write_text(json.dumps({"inception_score": 7.0}))  # not rescored
    (full / "pix2pix.json").write_text(json.dumps({"precision": 1.0}))             # not a GAN run
    table = tables.prdc_table(tmp_path / "metrics")
    assert "| `dcgan` | 0 | 10,000 | 0.488 | 0.821 | 0.195 | 0.240 | rescored |" in table
    assert "| `cgan` | 1 | 10,000 | 0.700 | 0.821 | 0.195 | 0.240 | the run |" in table
    assert "| *real: 10,000 training images* |  | 10,000 | *0.924* | *0.928* | *0.940* | " \
           "*0.939* |  |" in table
    assert table.count("\n") == 5                          # header, rule, two runs, real
    for path in full.glob("*-seed*.json"):
        path.unlink()
    with pytest.raises(tables.TableError, match="no RUN-seedS.json with precision"):
        tables.prdc_table(tmp_path / "metrics")


MEASURED = re.compile(r"\d\.\d|\d\s?%|\d\s?(ms|s|min|MiB)\b")


def hand_tables(page):
    """The Markdown tables of `page` outside table markers that hold a measured-looking
    number (a decimal, a percentage, a time or a size): (first line, its text). A
    table of settings or pointers, not results, says so on the line above it:
    ``<!-- no measurements -->``."""
    found, inside, table, exempt, previous = [], False, [], False, ""
    for number, line in enumerate(page.read_text(encoding="utf-8").split("\n") + [""], 1):
        if line.startswith("<!-- table:"):
            inside = True
        elif line.startswith("<!-- end table"):
            inside = False
        if line.startswith("|") and not inside:
            if not table:
                exempt = previous.strip() == "<!-- no measurements -->"
            table.append((number, line))
        elif table:
            if not exempt and any(MEASURED.search(text) for _, text in table[2:]):
                found.append(table[0])
            table = []
        previous = line
    return found


def test_no_results_table_is_typed_by_hand():
    typed = [(page.relative_to(ROOT), line) for page in tables.pages(ROOT / "docs")
             for line, _ in hand_tables(page)]
    assert typed == [], f"tables typed by hand (make them generated): {typed}"


def test_a_typed_table_is_noticed(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("| a | b |\n|---|---|\n| x | 12.5 ms |\n\n| c |\n|---|\n| `mog` |\n\n"
                    "<!-- no measurements -->\n| lr |\n|---|\n| 0.0002 |\n\n| d |\n|---|\n| 9.5 |")
    assert [line for line, _ in hand_tables(page)] == [1, 14]


def test_a_recorded_table_says_it_is_a_record(tmp_path):
    rec = {"measured": "Measured on a made-up machine.", "source": "Typed then.",
           "header": ["run", "IS"], "rows": [["`dcgan`", "6.5"]]}
    (tmp_path / "metrics" / "recorded").mkdir(parents=True)
    (tmp_path / "metrics" / "recorded" / "old.json").write_text(json.dumps(rec))
    page = tmp_path / "page.md"
    page.write_text("<!-- table: recorded/old -->\n<!-- end table -->\n")
    tables.write(tmp_path, tmp_path / "metrics")
    text = page.read_text()
    assert "*Measured on a made-up machine. Typed then." in text and "| `dcgan` | 6.5 |" in text
    rec["rows"][0][1] = "6.6"
    (tmp_path / "metrics" / "recorded" / "old.json").write_text(json.dumps(rec))
    assert any("table recorded/old differs" in p for p in tables.check(tmp_path, tmp_path / "metrics"))
    rec["rows"][0].append("extra")
    (tmp_path / "metrics" / "recorded" / "old.json").write_text(json.dumps(rec))
    assert any("row 0 has not 2 cells" in p for p in tables.check(tmp_path, tmp_path / "metrics"))


def test_every_recorded_quick_run_kept_within_what_quick_promises():
    from minigan.experiments import QUICK_TAKES
    limit = 60 * int(QUICK_TAKES.split()[2])               # "at most 5 minutes ..."
    runs = tables.read_metrics(ROOT / "docs" / "metrics" / "quick")
    slow = {name: m["wall_time_s"] for name, m in runs.items() if m["wall_time_s"] > limit}
    assert slow == {}, f"--quick runs over {QUICK_TAKES!r}: {slow}"


def test_the_claims_column_names_what_failed():
    assert tables.verdicts(None) == ""
    claims = [{"claim": "A holds", "held": True}, {"claim": "B holds", "held": False}]
    assert tables.verdicts(claims) == "1 of 2 held; FAILED: B holds"
    assert tables.verdicts(claims[:1]) == "1 of 1 held"

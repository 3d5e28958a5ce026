"""The rough edges a new user hits in the first hour (issue 17), each pinned by a test."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dysts_bench import __version__
from dysts_bench.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _python_m(*args, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "dysts_bench", *args], capture_output=True, text=True,
                          env=env, timeout=300, **kw)


def test_version_and_python_m():
    done = _python_m("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"dysts-bench {__version__}"


def test_top_level_help_has_no_rst_markup(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "``" not in out and "leaderboard" in out and "export-tasks" in out and "verify-results" in out


@pytest.mark.parametrize("item, valid", [("dim=four", "expected a number"), ("delay=yes", "true, false"),
                                         ("kind=flows", "flow, map")])
def test_bad_filter_values_are_rejected_naming_the_valid_ones(item, valid):
    with pytest.raises(SystemExit) as info:
        main(["systems", "--filter", item])
    assert valid in str(info.value) and item in str(info.value)


def test_systems_shows_dimension_and_stored_columns(capsys):
    assert main(["systems", "--filter", "delay=true"]) == 0
    out = capsys.readouterr().out
    assert "stored" in out  # the header may wrap: "stored columns"
    row = next(line for line in out.splitlines() if "MackeyGlass" in line)
    assert row.replace("│", " ").split()[1:3] == ["1", "10"]


def test_show_rounds_the_invariants(capsys):
    assert main(["show", "Lorenz"]) == 0
    lines = capsys.readouterr().out.splitlines()
    value = next(line for line in lines if "maximum_lyapunov" in line).split(":")[1].strip()
    assert len(value.replace(".", "").lstrip("0")) <= 4, value


def test_a_misspelt_parameter_or_class_is_one_line_with_a_suggestion(tmp_path, capsys):
    pytest.importorskip("dysts_bench.dataset")
    from dysts_bench.forecaster import builtin_forecasters, load_target
    cls = load_target(builtin_forecasters()["linear_ar"])
    with pytest.raises(TypeError, match=r"has no parameter 'lagz' \(did you mean 'lags'\?\)"):
        cls(lagz=3)
    assert main(["run", "linear_ar", "--param", "lagz=3", "--systems", "Lorenz", "--out", str(tmp_path),
                 "--quiet", "--no-tune"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'lags'" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    naive = ROOT / "forecasters" / "naive.py"
    assert main(["run", f"{naive}:NaiveForecastr", "--systems", "Lorenz", "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'NaiveForecaster'" in err and "Traceback" not in err


def test_run_writes_to_the_user_results_directory_by_default(tmp_path, monkeypatch):
    pytest.importorskip("dysts_bench.dataset")
    from dysts_bench.paths import user_results_dir
    monkeypatch.setenv("DYSTS_BENCH_RESULTS_DIR", str(tmp_path / "mine"))
    assert user_results_dir() == tmp_path / "mine"
    monkeypatch.delenv("DYSTS_BENCH_RESULTS_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert user_results_dir() == tmp_path / "xdg" / "dysts-bench" / "results"
    monkeypatch.setenv("DYSTS_BENCH_RESULTS_DIR", str(tmp_path / "mine"))
    assert main(["run", "naive", "--systems", "Lorenz", "--quiet"]) == 0
    assert list((tmp_path / "mine").glob("naive-*.canonical.jsonl"))
    # --results is still understood on run (hidden alias of --out)
    assert main(["run", "naive", "--systems", "Lorenz", "--quiet", "--results", str(tmp_path / "old")]) == 0
    assert list((tmp_path / "old").glob("naive-*.canonical.jsonl"))

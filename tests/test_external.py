"""Forecasts made elsewhere (export-tasks -> a separate process -> score), verify-results,
the leaderboard's reference + local sources, and the one-file / notebook patterns."""

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from dysts_bench.cli import main

ROOT = Path(__file__).resolve().parent.parent
SCORES = ("status", "task_hash", "metrics", "vpt", "long_term", "horizon_metrics")

#: A forecaster outside the runner: reads only the exported contexts, writes persistence forecasts.
OUTSIDE = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import numpy as np
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    dst.mkdir(parents=True, exist_ok=True)
    for system, entry in json.loads((src / "tasks.json").read_text())["systems"].items():
        ctx = np.load(src / entry["file"])
        np.save(dst / f"{system}.npy", np.repeat(ctx[:, -1:, :], entry["horizon"], axis=1))
""")


def _env(tmp_path):
    import os
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
            "DYSTS_BENCH_RESULTS_DIR": str(tmp_path / "user")}


@pytest.fixture(scope="module")
def naive_run(tmp_path_factory):
    """``dysts-bench run naive`` on Lorenz: the records an outside score must reproduce."""
    dataset = pytest.importorskip("dysts_bench.dataset")
    if "Lorenz" not in dataset.available_systems():
        pytest.skip("the shipped dataset has no Lorenz")
    out = tmp_path_factory.mktemp("run")
    assert main(["run", "naive", "--systems", "Lorenz", "--out", str(out), "--quiet", "--timeout", "120"]) == 0
    (file,) = out.glob("naive-*.canonical.jsonl")
    return file


def _by_task(path):
    return {(r["system"], r["series"]): r for r in map(json.loads, Path(path).read_text().splitlines())}


def test_export_score_gives_the_records_of_run(naive_run, tmp_path, capsys):
    tasks = tmp_path / "tasks"
    assert main(["export-tasks", str(tasks), "--systems", "Lorenz"]) == 0
    manifest = json.loads((tasks / "tasks.json").read_text())
    entry = manifest["systems"]["Lorenz"]
    assert np.load(tasks / entry["file"]).shape == (3, 1000, 3)
    # never the futures: the export holds 3 contexts and nothing as long as a horizon
    assert sorted(p.name for p in tasks.rglob("*") if p.is_file()) == ["Lorenz.npy", "tasks.json"]
    script = tmp_path / "outside.py"
    script.write_text(OUTSIDE)
    subprocess.run([sys.executable, str(script), str(tasks), str(tmp_path / "fc")], check=True, env=_env(tmp_path))
    out = tmp_path / "scored"
    assert main(["score", str(tmp_path / "fc"), "--name", "outside", "--tasks", str(tasks), "--out", str(out)]) == 0
    assert "leakage: self-declared" in capsys.readouterr().out
    ran, scored = _by_task(naive_run), _by_task(next(out.glob("outside-*.canonical.jsonl")))
    assert set(ran) == set(scored) == {("Lorenz", k) for k in range(3)}
    for key in ran:
        assert {f: scored[key][f] for f in SCORES} == {f: ran[key][f] for f in SCORES}, key
        assert scored[key]["leakage"] == "self-declared" and ran[key]["leakage"] == "isolated"
    from dysts_bench.leaderboard.load import load_sources
    frame, _ = load_sources(None, out)
    assert set(frame["forecaster"]) == {"outside (local) (self-declared)"}
    # the API says the same, from an .npz and from Parquet
    import dysts_bench
    arr = np.load(tmp_path / "fc" / "Lorenz.npy")
    np.savez(tmp_path / "fc.npz", Lorenz=arr)
    recs = dysts_bench.score(tmp_path / "fc.npz", "outside", systems=["Lorenz"], results_dir=tmp_path / "api")
    assert [r["metrics"] for r in recs] == [ran[("Lorenz", k)]["metrics"] for k in range(3)]
    import pandas as pd
    rows = [{"system": "Lorenz", "series": k, "step": i, **{f"x{d}": arr[k, i, d] for d in range(3)}}
            for k in range(3) for i in range(arr.shape[1])]
    pd.DataFrame(rows).to_parquet(tmp_path / "fc.parquet")
    recs = dysts_bench.score(tmp_path / "fc.parquet", "outside", systems=["Lorenz"], results_dir=tmp_path / "pq")
    assert [r["vpt"] for r in recs] == [ran[("Lorenz", k)]["vpt"] for k in range(3)]


def test_score_rejects_bad_files_naming_the_tasks(tmp_path):
    pytest.importorskip("dysts_bench.dataset")
    from dysts_bench.runner.external import ForecastFileError, export_tasks, score_forecasts
    export_tasks(tmp_path / "t", systems=["Lorenz"])
    good = np.zeros((3, 3700, 3))
    cases = {
        "missing": ({"Lorenz": good[:2]}, "1 task(s) have no forecast: Lorenz/2"),
        "shape": ({"Lorenz": good[:, :100]}, "Lorenz/0: forecast has shape (100, 3)"),
        "nan": ({"Lorenz": np.where(np.arange(3)[:, None, None] == 1, np.nan, good)},
                "1 forecast(s) contain NaN/inf: Lorenz/1"),
        "unknown": ({"Lorenz": good, "Lorentz": good}, "unknown system 'Lorentz' (did you mean 'Lorenz'?)"),
    }
    for what, (forecasts, message) in cases.items():
        with pytest.raises(ForecastFileError, match=re.escape(message)):
            score_forecasts(forecasts, "bad", systems=["Lorenz"], results_dir=tmp_path / what)
        assert not (tmp_path / what).exists(), "a refused file writes nothing"
    recs = score_forecasts(cases["nan"][0], "bad", systems=["Lorenz"], results_dir=tmp_path / "ok",
                           allow_nonfinite=True)
    assert [r["status"] for r in recs] == ["ok", "nonfinite", "ok"]


def test_verify_results_passes_honest_and_names_edited_tasks(naive_run, tmp_path, capsys):
    from dysts_bench.leaderboard.load import is_verified
    honest = tmp_path / naive_run.name
    honest.write_text(naive_run.read_text())
    assert main(["verify-results", str(honest), "--sample", "2", "--seed", "3"]) == 0
    mark = json.loads(honest.with_name(honest.name.replace(".jsonl", ".verified.json")).read_text())
    assert mark["passed"] and mark["sample_size"] == 2 and mark["seed"] == 3 and mark["rtol"] == 1e-3
    assert is_verified(honest)
    # an edited score: the re-run disagrees, and the task is named
    edited = tmp_path / "edited" / naive_run.name
    edited.parent.mkdir()
    lines = [json.loads(x) for x in naive_run.read_text().splitlines()]
    lines[1]["metrics"]["smape"] *= 0.5
    lines[1]["vpt"]["smape_running"]["steps"] += 100
    edited.write_text("".join(json.dumps(x) + "\n" for x in lines))
    capsys.readouterr()
    assert main(["verify-results", str(edited), "--sample", "3"]) == 1
    out = capsys.readouterr().out
    assert "FAILED Lorenz/1" in out and "metrics.smape" in out and "did NOT reproduce (1 task(s): Lorenz/1)" in out
    assert not is_verified(edited)
    # a mark holds only for the bytes it checked
    honest.write_text(honest.read_text().replace('"status": "ok"', '"status": "ok" ', 1))
    assert not is_verified(honest)


def test_leaderboard_shows_local_and_verified_runs(naive_run, tmp_path, monkeypatch, capsys):
    from dysts_bench.leaderboard.load import load_sources, resolve_label
    ref, local = tmp_path / "ref", tmp_path / "local"
    ref.mkdir()
    local.mkdir()
    (ref / naive_run.name).write_text(naive_run.read_text())
    (local / naive_run.name).write_text(naive_run.read_text())
    assert main(["verify-results", str(ref / naive_run.name), "--sample", "1"]) == 0
    frame, _ = load_sources(ref, local)
    assert set(frame["forecaster"]) == {"naive \u2713", "naive (local)"}
    assert resolve_label(frame, "naive") == "naive \u2713"
    # the CLI: reference + local by default; --format prints, --out writes
    monkeypatch.setattr("dysts_bench.paths.reference_results_dir", lambda: ref)
    monkeypatch.setenv("DYSTS_BENCH_RESULTS_DIR", str(local))
    capsys.readouterr()
    assert main(["leaderboard", "--format", "csv", "--n-boot", "50"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("forecaster,") and "naive (local)" in text
    assert not (tmp_path / "board").exists()
    assert main(["leaderboard", "--out", str(tmp_path / "board"), "--format", "markdown", "--n-boot", "50"]) == 0
    # the leaderboard of each track with results, and TRACKS.md (their protocols)
    assert sorted(p.name for p in (tmp_path / "board").iterdir()) == ["README.md", "TRACKS.md"]


def test_a_one_file_script_that_imports_the_dataset_runs(tmp_path):
    """The natural pattern: one script defines a forecaster, imports the dataset at the top
    for its own use, and runs the benchmark under ``if __name__ == "__main__":``."""
    pytest.importorskip("dysts_bench.dataset")
    script = tmp_path / "mine.py"
    script.write_text(textwrap.dedent(f"""
        import numpy as np
        from dysts_bench.dataset import iter_tasks
        from dysts_bench.forecaster import Forecaster
        from dysts_bench.runner import run

        class Last(Forecaster):
            version = "1"
            multivariate = False
            def _fit(self, context, *, dt, info):
                self.last_ = context[-1].copy()
            def _predict(self, horizon):
                return np.tile(self.last_, (horizon, 1))

        class Cheat(Last):
            def _predict(self, horizon):
                iter_tasks(systems=["Lorenz"])  # reading the data: still refused
                return super()._predict(horizon)

        if __name__ == "__main__":
            for cls in (Last, Cheat):
                res = run(cls, iter_tasks(systems=["Lorenz"]), {str(tmp_path / 'out')!r}, progress=False,
                          tune=False, timeout=60)
                print(cls.__name__, sorted({{r["status"] for r in res.records}}))
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=_env(tmp_path),
                          cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Last ['ok']" in done.stdout and "Cheat ['leak']" in done.stdout


def test_the_notebook_pattern(tmp_path):
    """In a notebook (no file behind ``__main__``): the forecaster goes into a module (a
    ``%%writefile`` cell), the notebook imports it and calls ``run``."""
    pytest.importorskip("dysts_bench.dataset")
    cells = textwrap.dedent(f"""
        from pathlib import Path
        Path("my_forecaster.py").write_text('''
        import numpy as np
        from dysts_bench.forecaster import Forecaster

        class Last(Forecaster):
            version = "1"
            multivariate = False
            def _fit(self, context, *, dt, info):
                self.last_ = context[-1].copy()
            def _predict(self, horizon):
                return np.tile(self.last_, (horizon, 1))
        ''')
        import sys; sys.path.insert(0, "")
        from my_forecaster import Last
        from dysts_bench.dataset import iter_tasks
        from dysts_bench.runner import run
        res = run(Last, iter_tasks(systems=["Lorenz"]), {str(tmp_path / 'out')!r}, progress=False, tune=False)
        print(sorted({{r["status"] for r in res.records}}))
    """)
    done = subprocess.run([sys.executable, "-c", cells], capture_output=True, text=True, env=_env(tmp_path),
                          cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "['ok']" in done.stdout


def test_reference_results_of_a_cheap_builtin_verify():
    """CI's verification step: a sample of the shipped naive results reproduces."""
    pytest.importorskip("dysts_bench.dataset")
    from dysts_bench.paths import reference_results_dir
    from dysts_bench.runner.verify import verify_results
    from dysts_bench.schema import PROTOCOL_VERSION
    ref = reference_results_dir()
    files = sorted(ref.glob("naive-*.canonical.jsonl")) if ref else []
    if not files:
        pytest.skip("no reference results of the naive forecaster")
    first = json.loads(files[0].read_text().splitlines()[0])
    if str(first.get("protocol_version")) != PROTOCOL_VERSION:
        pytest.skip(f"the reference results are protocol {first.get('protocol_version')}, scoring is "
                    f"{PROTOCOL_VERSION}: rescore or re-run them (the lead does) to verify them")
    mark = verify_results(files[0], sample=2, seed=0, write=False, timeout=120)
    assert mark["passed"], mark["failures"]

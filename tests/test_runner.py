"""The benchmark runner: isolation, limits, leak prevention, results store, executors."""

import argparse
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import numpy as np
import pytest

from dysts_bench import runner as R
from dysts_bench.runner import AdhocTask, adhoc_tasks, run

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "forecasters_bad.py"
sys.path.insert(0, str(ROOT / "tests"))
from forecasters_bad import MODES  # noqa: E402

LYAP = {"Lorenz": 0.9056, "Rossler": 0.0714}
COMPARED = ("status", "metrics", "vpt", "horizon_metrics", "long_term", "task_hash")


def synthetic(n_tasks, *, horizon=20, evaluation="adhoc", seed=0, marks=None):
    """Tiny random tasks; ``marks[i]`` goes into context[0, 0] (Misbehave's mode)."""
    rng = np.random.default_rng(seed)
    tasks = []
    for i in range(n_tasks):
        ctx = rng.standard_normal((50, 2))
        if marks is not None:
            ctx[0, 0] = marks[i]
        tasks.append(AdhocTask(f"sys{i:02d}" if marks is None else MODES[marks[i]], 0, ctx,
                               rng.standard_normal((horizon, 2)),
                               {"dt": 0.1, "pts_per_period": 10.0, "dim": 2, "evaluation": evaluation}))
    return tasks


def sine_tasks(n=2, period=37.0, context=600, horizon=150):
    t = np.arange(context + horizon)
    tasks = []
    for k in range(n):
        # offset from zero: sMAPE (and its VPT) is ill-conditioned at zero crossings
        y = np.stack([np.sin(2 * np.pi * t / period + k) + 3.0, np.cos(2 * np.pi * t / period + k) + 2.0], axis=1)
        tasks.append(AdhocTask("Sine", k, y[:context], y[context:],
                               {"dt": 0.01, "pts_per_period": period, "dim": 2, "evaluation": "adhoc"}))
    return tasks


def processes_mentioning(marker: str) -> list[int]:
    """Pids (as this process sees them) whose command line contains ``marker``."""
    found = []
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                if marker.encode() in fh.read() and int(name) != os.getpid():
                    found.append(int(name))
        except (OSError, ValueError):
            pass
    return found


def by_system(result):
    return {r["system"]: r for r in result.records}


# --------------------------------------------------------------------------- failures


def test_every_misbehaviour_becomes_a_recorded_status(tmp_path):
    secret = tmp_path / "secret_future.npy"
    np.save(secret, np.zeros(3))
    pidfile = tmp_path / "grandchild.pid"
    tasks = synthetic(len(MODES), marks=list(range(len(MODES))))
    # (Other tests may have loaded the bad forecasters in this process: only new ones count.)
    loaded_before = {m for m in sys.modules if m.startswith("_dysts_bench_file_forecasters_bad")}
    res = run(f"{BAD}:Misbehave", tasks, tmp_path / "results", params={"path": str(secret), "pidfile": str(pidfile)},
              workers=2, timeout=8, memory="300MB", progress=False, protect=[secret])
    got = {name: rec["status"] for name, rec in by_system(res).items()}
    assert got == {
        "ok": "ok", "raise": "error", "hang": "timeout", "alloc": "memory", "nan": "nonfinite",
        "shape": "bad_shape", "import_dataset": "leak", "read_file": "leak", "crash": "crashed",
        "segfault": "crashed", "registry": "leak", "probe": "error", "grandchild": "timeout"}
    recs = by_system(res)
    assert "deliberate failure in fit" in recs["raise"]["error"] and recs["raise"]["phase"] == "fit"
    assert "time limit of 8 s" in recs["hang"]["error"]
    assert "MemoryError" in recs["alloc"]["error"]
    # the address-space limit held: peak RSS stays below the worker baseline + 300 MB
    assert recs["alloc"]["peak_rss_mb"] < recs["ok"]["peak_rss_mb"] + 300 + 20
    assert recs["alloc"]["memory_limit_mb"] is not None
    assert "(21, 2), expected" in recs["shape"]["error"]
    assert "dysts_bench.dataset.load_dataset" in recs["import_dataset"]["error"]
    assert f"open of {secret}" in recs["read_file"]["error"]
    # Reaching the integrator is blocked whether the name is a tripwire or imported lazily.
    assert ("make_trajectory" in recs["registry"]["error"]
            or "import of dysts_bench.trajectory" in recs["registry"]["error"])
    assert "exited with code 3" in recs["crash"]["error"]
    assert "SIGSEGV" in recs["segfault"]["error"]
    # a NaN forecast is still scored: VPT counts the valid steps before the NaNs
    assert recs["nan"]["vpt"]["smape_running"]["steps"] <= 10 and recs["nan"]["metrics"]["mse"] is None
    for name in ("raise", "hang", "alloc", "shape", "import_dataset", "crash"):
        assert recs[name]["metrics"] is None
    # what a forecaster sees: public info only, an empty working directory, no other task
    probe = json.loads(recs["probe"]["error"].rsplit("RuntimeError: PROBE", 1)[1].splitlines()[0])
    assert probe["info_keys"] == ["dim", "dt", "pts_per_period"]
    assert probe["seen"] == ["probe"], "module state leaked from an earlier task"
    assert probe["cwd_files"] == [".output.log"] and not probe["dataset_loaded"]
    # the grandchild of the timed-out task was killed with the task
    assert not processes_mentioning(str(pidfile)), "grandchild survived the timeout"
    # the parent never imported the forecaster's code
    assert not [m for m in sys.modules
                if m.startswith("_dysts_bench_file_forecasters_bad") and m not in loaded_before]
    lines = res.files[0].read_text().splitlines()
    assert len(lines) == len(MODES) and all(json.loads(line)["run_uuid"] for line in lines)


def test_spawn_isolation_runs_and_guards(tmp_path):
    tasks = synthetic(2, marks=[MODES.index("ok"), MODES.index("import_dataset")])
    res = run(f"{BAD}:Misbehave", tasks, tmp_path, isolation="spawn", timeout=60, progress=False)
    assert {r["system"]: r["status"] for r in res.records} == {"ok": "ok", "import_dataset": "leak"}


# --------------------------------------------------------------------------- leaks


def test_lookup_of_stored_futures_is_detected_and_fresh_evaluation_defeats_it(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    canonical = adhoc_tasks("Lorenz", n_series=2, context_length=200, horizon=120, seed=1,
                            evaluation="canonical", lyapunov=LYAP)
    fresh = adhoc_tasks("Lorenz", n_series=2, context_length=200, horizon=120, seed=99,
                        evaluation="fresh:99", lyapunov=LYAP)
    # "shipped" test files somewhere the guard does not know about (e.g. a copy):
    # float32 values, read by pyarrow's C++ reader, which no Python audit hook sees
    table = pa.table({"context": [t.context.astype(np.float32).ravel() for t in canonical],
                      "future": [t.future.astype(np.float32).ravel() for t in canonical],
                      "dim": [3, 3]})
    leaked = tmp_path / "copy_of_test.parquet"
    pq.write_table(table, leaked)
    res = run(f"{BAD}:LookupCheater", canonical + fresh, tmp_path / "results", params={"path": str(leaked)},
              progress=False, timeout=60)
    recs = res.by_key()
    for k in range(2):
        rec = recs[("canonical", "Lorenz", k)]
        assert rec["status"] == "leak" and "bit for bit" in rec["error"]
        # with fresh initial conditions the stored futures are useless: the cheater falls back
        # to persistence and gets its (poor) score
        rec = recs[("fresh:99", "Lorenz", k)]
        assert rec["status"] == "ok" and rec["vpt"]["smape_running"]["lyapunov_times"] < 1
    assert {p.name.split(".")[1] for p in res.files} == {"canonical", "fresh-99"}


def test_system_name_only_for_declared_entries(tmp_path):
    tasks = adhoc_tasks("Lorenz", context_length=100, horizon=10, lyapunov=LYAP)
    res = run(f"{BAD}:SystemNameUser", tasks, tmp_path, progress=False, timeout=60)
    rec = res.records[0]
    assert rec["status"] == "ok", rec["error"]
    assert rec["forecaster"]["uses_system_name"] is True


def test_guard_unit(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    g = R.Guard(["pkg.secret"], [str(d), str(tmp_path / "pre") + "*"])
    assert g.is_protected(d / "x.parquet") and g.is_protected(d)
    assert g.is_protected(tmp_path / "prefix.py") and not g.is_protected(tmp_path / "other")
    assert not g.is_protected(str(d) + "2")
    link = tmp_path / "innocent"
    link.symlink_to(d / "x.parquet")
    assert g.is_protected(link)  # symlinks are resolved
    assert g.blocked("pkg.secret.sub") and not g.blocked("pkg.secretive")
    assert g.mentions_protected(f"cat {d}/x.parquet")


# --------------------------------------------------------------------------- results store


def test_kill_mid_run_then_resume_loses_and_duplicates_nothing(tmp_path):
    results = tmp_path / "results"
    script = tmp_path / "bench_run.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT / 'tests')!r})
        from test_runner import synthetic
        from dysts_bench.runner import run
        run({f'{BAD}:SlowNaive'!r}, synthetic(10), {str(results)!r}, params={{"delay": 0.2}},
            progress=False, timeout=30)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        import psutil
    except ImportError:  # the orphan check needs psutil (test extra); the rest does not
        psutil = None
    task_files = lambda: list((results / ".tasks").glob("*/*/*.json"))  # noqa: E731
    deadline = time.monotonic() + 60
    while len(task_files()) < 3:
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    children = psutil.Process(proc.pid).children(recursive=True) if psutil else []
    assert children or psutil is None  # the worker host (and maybe a task process) are running
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = {json.loads(p.read_text())["system"]: json.loads(p.read_text())["run_uuid"] for p in task_files()}
    assert 3 <= len(done_before) < 10
    # nothing is left behind: worker hosts and task processes die with the run
    if psutil is not None:
        gone, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, alive
    res = run(f"{BAD}:SlowNaive", synthetic(10), results, params={"delay": 0.2}, progress=False)
    assert res.skipped == len(done_before)
    lines = [json.loads(x) for x in res.files[0].read_text().splitlines()]
    keys = [(r["system"], r["series"]) for r in lines]
    assert len(keys) == 10 and len(set(keys)) == 10 and all(r["status"] == "ok" for r in lines)
    for r in lines:  # finished tasks were not recomputed
        if r["system"] in done_before:
            assert r["run_uuid"] == done_before[r["system"]]
        else:
            assert r["run_uuid"] != next(iter(done_before.values()))
    # a changed task (different context) is not mistaken for a finished one
    changed = synthetic(10)
    changed[0] = AdhocTask(changed[0].system, 0, changed[0].context + 1.0, changed[0].future, changed[0].info)
    again = run(f"{BAD}:SlowNaive", changed, results, params={"delay": 0.2}, progress=False)
    assert again.skipped == 9


def test_concurrent_runs_share_a_results_directory(tmp_path):
    import threading
    results = tmp_path / "results"
    errors = []

    def one_run():
        try:
            run(f"{BAD}:SlowNaive", synthetic(6), results, params={"delay": 0.05}, progress=False, timeout=30,
                resume=False)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    files = list(results.glob("*.jsonl"))
    assert len(files) == 1
    lines = [json.loads(x) for x in files[0].read_text().splitlines()]
    assert sorted(r["system"] for r in lines) == [f"sys{i:02d}" for i in range(6)]
    assert len({r["run_uuid"] for r in lines}) >= 1
    for path in (results / ".tasks").rglob("*.json"):
        assert json.loads(path.read_text())["status"] == "ok"
    assert not list(results.rglob("*.tmp"))


def test_records_carry_the_schema(tmp_path):
    tasks = adhoc_tasks("Lorenz", context_length=120, horizon=200, lyapunov=LYAP)
    tasks_dt = tasks[0].info["dt"]
    res = run("naive", tasks, tmp_path, progress=False, timeout=60)
    rec = json.loads(res.files[0].read_text().splitlines()[0])
    for key in ("schema", "protocol_version", "run_uuid", "forecaster", "versions", "hardware", "limits",
                "evaluation", "system", "series", "task_hash", "status", "error", "metrics", "horizons",
                "horizon_metrics", "vpt", "long_term", "fit_seconds", "predict_seconds", "peak_rss_mb",
                "task_seconds", "wall_seconds", "finished_at"):
        assert key in rec, key
    from dysts_bench.metrics import METRIC_NAMES
    assert set(rec["metrics"]) == set(METRIC_NAMES)
    # all-null lists are left out (a constant forecast has no correlation at any horizon)
    assert set(rec["horizon_metrics"]) == set(METRIC_NAMES) - {"rmsle", "spearman", "pearson", "kendall"}
    # trailing nulls (horizons beyond the forecast) are trimmed
    assert all(0 < len(v) <= len(rec["horizons"]) and v[-1] is not None for v in rec["horizon_metrics"].values())
    assert rec["forecaster"]["name"] == "naive" and rec["forecaster"]["target"] == "builtin:naive:NaiveForecaster"
    assert rec["forecaster"]["family"] == "baseline"  # the leaderboard's family column reads it
    assert rec["versions"]["numpy"] == np.__version__ and rec["hardware"]["cores"] >= 1
    for rule in ("smape_running", "nrmse_pointwise"):
        assert rec["vpt"][rule]["lyapunov_times"] == pytest.approx(
            rec["vpt"][rule]["steps"] * rec["dt"] * LYAP["Lorenz"], rel=1e-5)
    assert set(rec["long_term"]) == {"d_stsp", "d_h", "corr_dim_error"}
    assert all(isinstance(v, float) and v >= 0 for v in rec["long_term"].values())
    # floats are stored with 6 significant digits
    assert all(v == float(f"{v:.6g}") for v in rec["metrics"].values() if isinstance(v, float))
    assert rec["dt"] == tasks_dt and rec["maximum_lyapunov"] == LYAP["Lorenz"]  # task facts stay exact


# --------------------------------------------------------------------------- executors


def test_one_worker_two_workers_and_dask_agree(tmp_path):
    tasks = adhoc_tasks(["Lorenz", "Rossler"], n_series=2, context_length=300, horizon=100, lyapunov=LYAP)
    one = run("linear_ar", tasks, tmp_path / "w1", workers=1, progress=False, timeout=60, tune=False)
    two = run("linear_ar", tasks, tmp_path / "w2", workers=2, progress=False, timeout=60, tune=False)
    assert one.counts == {"ok": 4}
    a, b = one.by_key(), two.by_key()
    assert a.keys() == b.keys()
    for key in a:
        assert {k: a[key][k] for k in COMPARED} == {k: b[key][k] for k in COMPARED}
    pytest.importorskip("distributed")
    dask = run("linear_ar", tasks, tmp_path / "dask", scheduler="local", workers=2, progress=False, timeout=60,
               tune=False)
    c = dask.by_key()
    assert c.keys() == a.keys()
    for key in a:
        assert {k: a[key][k] for k in COMPARED} == {k: c[key][k] for k in COMPARED}
    assert c[key]["limits"]["executor"] == "dask"


def test_baselines_through_the_runner(tmp_path):
    tasks = sine_tasks()
    ar = run("linear_ar", tasks, tmp_path, progress=False, timeout=60, tune=False)
    for rec in ar.records:
        assert rec["status"] == "ok"
        assert rec["metrics"]["rmse"] < 1e-4 and rec["vpt"]["smape_running"]["steps"] == 150
    naive = run("naive", tasks, tmp_path, progress=False, timeout=60)
    for rec, task in zip(naive.records, tasks):
        expected = R.score(task.future, np.repeat(task.context[-1:], len(task.future), axis=0), task.info)
        assert rec["metrics"] == pytest.approx(expected["metrics"], nan_ok=True)
        assert rec["metrics"]["rmse"] > 0.5


def test_tuning_uses_only_the_validation_tail(tmp_path):
    calls = []

    def train_source(system):
        calls.append(system)
        y = sine_tasks(1, context=900, horizon=0)[0].context
        return y[:600], y[600:900], {"dt": 0.01, "pts_per_period": 37.0, "dim": 2}
    res = run("linear_ar", sine_tasks(), tmp_path, tune=True, train_source=train_source, progress=False,
              timeout=60)
    assert calls == ["Sine"]  # once per system
    from dysts_bench.forecaster import builtin_forecasters, load_target
    LinearAR = load_target(builtin_forecasters()["linear_ar"])
    for rec in res.records:
        tuned = rec["tuning"]["params"]
        assert rec["tuning"]["status"] == "ok"
        assert tuned["lags"] in LinearAR.param_grid["lags"] and tuned["alpha"] in LinearAR.param_grid["alpha"]
        assert {k: rec["forecaster"]["task_params"][k] for k in tuned} == tuned
    assert list((tmp_path / ".tasks").glob("*/_tune/Sine.json"))
    again = run("linear_ar", sine_tasks(), tmp_path, tune=True, train_source=train_source, progress=False)
    assert calls == ["Sine"] and again.skipped == 2


def test_a_fixed_parameter_stays_fixed_and_tuning_is_the_api_default(tmp_path):
    def train_source(system):
        y = sine_tasks(1, context=900, horizon=0)[0].context
        return y[:600], y[600:900], {"dt": 0.01, "pts_per_period": 37.0, "dim": 2}
    res = run("linear_ar", sine_tasks(), tmp_path, params={"lags": 7}, train_source=train_source,
              progress=False, timeout=60)
    for rec in res.records:
        assert rec["tuning"]["status"] == "ok" and set(rec["tuning"]["params"]) == {"alpha"}
        assert rec["forecaster"]["task_params"]["lags"] == 7
    with pytest.raises(ValueError, match="train_source"):
        run("linear_ar", sine_tasks(), tmp_path / "adhoc", progress=False, timeout=60)


def test_cli_run(tmp_path, monkeypatch, capsys):
    parser = argparse.ArgumentParser(prog="dysts-bench")
    sub = parser.add_subparsers(dest="command", required=True)
    R.add_cli(sub)
    args = parser.parse_args(["run", "naive", "--systems", "Lorenz", "Rossler", "--workers", "2", "--timeout", "30",
                              "--memory", "300MB", "--fresh", "7", "--no-resume", "--results", str(tmp_path),
                              "--no-tune", "--quiet"])
    assert (args.forecaster, args.systems, args.workers, args.fresh, args.resume, args.split) == \
        ("naive", ["Lorenz", "Rossler"], 2, 7, False, "test")
    seen = {}

    def iter_tasks(split="test", systems=None, root=None, fresh_seed=None, context_length=1000):
        seen.update(split=split, systems=systems, fresh_seed=fresh_seed, context_length=context_length)
        return iter(adhoc_tasks(systems, context_length=100, horizon=20, evaluation=f"fresh:{fresh_seed}"))
    fake = types.ModuleType("dysts_bench.dataset")
    fake.iter_tasks = iter_tasks
    monkeypatch.setitem(sys.modules, "dysts_bench.dataset", fake)
    assert args.func(args) == 0
    assert seen == {"split": "test", "systems": ["Lorenz", "Rossler"], "fresh_seed": 7, "context_length": 1000}
    out = capsys.readouterr()
    assert "results:" in out.out and "naive" in out.err  # summary table
    lines = next(tmp_path.glob("naive-*.fresh-7.jsonl")).read_text().splitlines()
    assert len(lines) == 2
    args = parser.parse_args(["forecasters"])
    assert args.func(args) == 0
    assert "linear_ar" in capsys.readouterr().out


def test_cli_on_the_shipped_dataset(tmp_path, capsys):
    dataset = pytest.importorskip("dysts_bench.dataset")
    try:
        if "Lorenz" not in dataset.available_systems():
            pytest.skip("the shipped dataset has no Lorenz")
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no shipped dataset: {exc}")
    parser = argparse.ArgumentParser(prog="dysts-bench")
    R.add_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["run", "mean", "--systems", "Lorenz", "--results", str(tmp_path), "--quiet",
                              "--timeout", "60"])
    assert args.tune and args.resume
    assert args.func(args) == 0
    lines = [json.loads(x) for x in next(tmp_path.glob("mean-*.canonical.jsonl")).read_text().splitlines()]
    assert [r["series"] for r in lines] == [0, 1, 2]
    for rec in lines:
        assert rec["status"] == "ok" and rec["evaluation"] == "canonical"
        assert rec["horizon"] > 0 and rec["context_length"] == 1000
        assert rec["tuning"]["status"] == "ok" and "window" in rec["tuning"]["params"]
        assert rec["dataset_protocol_version"] == dataset.PROTOCOL_VERSION
    # the shipped files are off limits to workers
    protect, _ = R._default_protect(tmp_path)
    guard = R.Guard(R.DATA_MODULES, protect)
    assert guard.is_protected(next(Path(dataset.default_root()).rglob("*.parquet")))
    assert guard.is_protected(Path(dataset.__file__).parent / "load.py")


# --------------------------------------------------------------------------- units


def test_parse_size_and_reply_format():
    assert R.parse_size("4GB") == 4 << 30 and R.parse_size("300MB") == 300 << 20
    assert R.parse_size("512MiB") == 512 << 20 and R.parse_size("1.5G") == int(1.5 * (1 << 30))
    assert R.parse_size(None) is None and R.parse_size("none") is None and R.parse_size(0) is None
    with pytest.raises(ValueError):
        R.parse_size("lots")
    data = R.pack({"status": "ok", "x": [1, 2]}, {"forecast": np.arange(6.0).reshape(3, 2)})
    meta, arrays = R.unpack(data)
    assert meta == {"status": "ok", "x": [1, 2]}
    np.testing.assert_array_equal(arrays["forecast"], np.arange(6.0).reshape(3, 2))
    forged = bytearray(data)
    forged[-1:] = b""  # truncated body
    with pytest.raises(ValueError):
        R.unpack(bytes(forged))


def test_lookup_detector():
    rng = np.random.default_rng(0)
    future = rng.standard_normal((200, 3)).astype(np.float32).astype(np.float64)
    assert R.lookup_suspect(future.copy(), future)
    honest = future.copy()
    honest[20:] += 1e-5 * rng.standard_normal((180, 3))  # diverges after 20 steps
    assert not R.lookup_suspect(honest, future)
    assert not R.lookup_suspect(future[:10], future[:10])  # too short to tell
    # an orbit settled on a cycle repeats exact context values: predicting them is no lookup
    cycle = np.tile(future[:4], (60, 1))
    assert R.lookup_suspect(cycle[40:].copy(), cycle[40:])
    assert not R.lookup_suspect(cycle[40:].copy(), cycle[40:], context=cycle[:40])


# --------------------------------------------------------------------------- stored forecasts, rescoring


def test_forecasts_are_stored_and_rescore_reproduces_the_records(tmp_path):
    from dysts_bench.dataset import iter_tasks
    from dysts_bench.runner.forecasts import forecast_path, load_forecast
    from dysts_bench.runner.rescore import rescore_file
    from dysts_bench.runner.store import ResultStore
    tasks = list(iter_tasks(systems=["Lorenz"], context_length=200))[:2]
    res = run("naive", tasks, tmp_path, progress=False, timeout=60)
    assert res.counts == {"ok": 2}
    file = res.files[0]
    store = ResultStore(tmp_path, res.run_id)
    for rec, task in zip(res.records, tasks):
        path = forecast_path(store, rec["evaluation"], rec["system"], rec["series"])
        assert path.parent.parent.parent.name == ".forecasts"
        stored = np.load(path)
        assert stored.dtype == np.float32 and stored.shape == np.shape(task.future)
        np.testing.assert_array_equal(load_forecast(path), np.repeat(task.context[-1:], len(task.future), 0)
                                      .astype(np.float32))
    original = [json.loads(line) for line in file.read_text().splitlines()]
    # spoil the scores (and drop a forecast): rescoring must restore the first, report the second
    spoiled = [dict(r, metrics={"smape": 0.0}, vpt=None, long_term=None) for r in original]
    file.write_text("".join(json.dumps(r) + "\n" for r in spoiled))
    forecast_path(store, "canonical", "Lorenz", original[1]["series"]).unlink()
    counts = rescore_file(file)
    assert counts == {"rescored": 1, "no stored forecast (re-run it)": 1}
    again = [json.loads(line) for line in file.read_text().splitlines()]
    for key in ("metrics", "vpt", "horizon_metrics", "long_term", "status", "task_hash"):
        assert again[0][key] == original[0][key], key
    assert again[1]["metrics"] == {"smape": 0.0}  # left as it was
    # the per-task record was rewritten too, so resuming keeps the rescored record
    resumed = run("naive", tasks, tmp_path, progress=False, timeout=60)
    assert resumed.skipped == 2
    assert resumed.by_key()[("canonical", "Lorenz", original[0]["series"])]["metrics"] == original[0]["metrics"]

"""The OS sandbox against hostile forecasters (issue 16): every route to the future or to
damage, tried for real by ``forecasters_hostile.py``. Tasks are tiny random series."""

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from dysts_bench.runner import AdhocTask, adhoc_tasks, run
from dysts_bench.runner import sandbox as S

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "forecasters_hostile.py"
sys.path.insert(0, str(ROOT / "tests"))
from forecasters_hostile import ROUTES  # noqa: E402
from test_runner import processes_mentioning  # noqa: E402

needs_bwrap = pytest.mark.skipif(not S._bwrap_works(),
                                 reason="bubblewrap (bwrap) is not installed or cannot create namespaces here: "
                                        "the OS sandbox is unavailable, runs are marked unverified")


def route_tasks(routes, horizon=10):
    rng = np.random.default_rng(0)
    tasks = []
    for route in routes:
        ctx = rng.standard_normal((30, 2))
        ctx[0, 0] = ROUTES.index(route)
        tasks.append(AdhocTask(route, 0, ctx, rng.standard_normal((horizon, 2)),
                               {"dt": 0.1, "pts_per_period": 10.0, "dim": 2, "evaluation": "adhoc"}))
    return tasks


@pytest.fixture
def listener():
    """A TCP server on this machine's loopback (what a sandboxed task must not reach)."""
    import socket
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        yield srv.getsockname()[1]


def hostile_params(tmp_path, results, port=0):
    return {"port": port, "data_dir": str(ROOT / "dysts_bench" / "data"), "results_dir": str(results),
            "project_root": str(ROOT), "cache_dir": str(S.cache_dir()), "runner_pid": os.getpid(),
            "marker": f"dysts-bench-test-grandchild-{tmp_path.name}", "canary": str(tmp_path / "canary.py")}


@needs_bwrap
def test_no_hostile_route_obtains_the_future_or_corrupts_anything(tmp_path, listener):
    results = tmp_path / "results"
    first = run("naive", route_tasks(["honest"]), results, progress=False, sandbox="bwrap")
    before = {p: p.read_bytes() for p in results.rglob("*") if p.is_file()}
    canary = tmp_path / "canary.py"
    canary.write_text("original")
    source = ROOT / "dysts_bench" / "runner" / "records.py"
    source_stat = source.stat()
    planted = S.cache_dir() / "planted.py"
    params = hostile_params(tmp_path, results, listener)
    res = run(f"{HOSTILE}:Hostile", route_tasks(ROUTES), results, params=params, progress=False,
              timeout=30, memory="250MB", sandbox="bwrap")
    recs = {r["system"]: r for r in res.records}
    assert set(recs) == set(ROUTES)  # the run survived killing the runner and every other route
    for route, rec in recs.items():
        assert rec["sandbox"] == "bwrap" and rec["verified"] is True
        assert "RuntimeError: GOT" not in (rec["error"] or ""), f"{route}: {rec['error']}"
    # guard switched off: the import goes through, but the data files are not there
    assert recs["guard_off"]["status"] == "error"
    for route in ("parquet_in_c", "dir_fd", "subprocess_cwd", "git_show", "runner_mem", "host_fd",
                  "write_results", "modify_source", "plant_cache", "setsid_grandchild", "kill_runner",
                  "network", "honest", "honest_after"):
        # the guard is switched off first: the sandbox alone stops the route
        assert recs[route]["status"] in ("ok", "error"), (route, recs[route]["error"])
    # a patched clock cannot make the cost negative; the cost comes from the parent
    timing = recs["perf_counter"]
    assert timing["timing_suspect"] is True and timing["fit_seconds"] >= 0
    assert timing["wall_seconds"] > 0 and timing["cpu_seconds"] is not None
    # memory split over four subprocesses counts in full
    assert recs["memory_split"]["status"] == "memory", recs["memory_split"]["error"]
    # nothing outside the sandbox changed; the detached grandchild died with its task
    assert all(p.read_bytes() == data for p, data in before.items())
    assert not (results / "planted.jsonl").exists()
    assert canary.read_text() == "original"
    assert source.stat().st_mtime_ns == source_stat.st_mtime_ns
    assert not planted.exists()
    assert not processes_mentioning(params["marker"])
    assert first.records[0]["status"] == "ok"


def test_without_the_sandbox_runs_are_marked_unverified(tmp_path, monkeypatch, listener):
    """The fallback: a warning, records marked ``sandbox: none``, ``verified: false``;
    and a route the sandbox stops (listing the data directory) does get through."""
    monkeypatch.setenv("DYSTS_BENCH_SANDBOX", "none")
    results = tmp_path / "results"
    res = run(f"{HOSTILE}:Hostile", route_tasks(["honest", "dir_fd", "parquet_in_c", "guard_off", "network"]),
              results, params=hostile_params(tmp_path, results, listener), progress=False, timeout=30)
    recs = {r["system"]: r for r in res.records}
    assert all(r["sandbox"] == "none" and r["verified"] is False for r in recs.values())
    assert "GOT a listing of the data directory" in recs["dir_fd"]["error"]
    assert "RuntimeError: GOT" in recs["parquet_in_c"]["error"]
    assert "GOT the future of Lorenz" in recs["guard_off"]["error"]
    assert "GOT a connection" in recs["network"]["error"]


def test_sandbox_choice_is_validated(monkeypatch):
    with pytest.raises(ValueError, match="sandbox must be"):
        S.choose("docker")
    monkeypatch.setattr(S, "_bwrap_works", lambda: None)
    with pytest.raises(RuntimeError, match="bubblewrap"):
        S.choose("bwrap")
    with pytest.warns(RuntimeWarning, match="WITHOUT the OS sandbox"):
        assert S.choose("auto") == "none"


def test_a_foreign_naive_cannot_merge_into_the_builtin_results(tmp_path):
    results = tmp_path / "results"
    tasks = route_tasks(["honest", "honest_after"])
    builtin = run("naive", tasks, results, progress=False)
    files = {p: p.read_bytes() for p in results.glob("*.jsonl")}
    foreign = run(f"{HOSTILE}:ForeignNaive", tasks, results, progress=False)
    assert builtin.run_id == run("naive", tasks, tmp_path / "again", progress=False).run_id
    assert foreign.run_id != builtin.run_id and foreign.skipped == 0
    assert foreign.forecaster["origin"].endswith("forecasters_hostile.py")
    assert builtin.forecaster["origin"] == "builtin"
    assert all(p.read_bytes() == data for p, data in files.items())


def test_uses_system_name_is_read_from_the_class_only(tmp_path):
    res = run(f"{HOSTILE}:InstanceDenies", route_tasks(["honest"]), tmp_path, progress=False)
    assert res.forecaster["uses_system_name"] is True
    assert res.records[0]["forecaster"]["uses_system_name"] is True


def test_train_split_is_not_labelled_canonical(tmp_path):
    tasks = route_tasks(["honest"])
    train = [AdhocTask(t.system, t.series, t.context, t.future, {**t.info, "evaluation": "canonical",
                                                                "split": "train"}) for t in tasks]
    test = [AdhocTask(t.system, t.series, t.context, t.future, {**t.info, "evaluation": "canonical",
                                                               "split": "test"}) for t in tasks]
    run("naive", test, tmp_path, progress=False)
    canonical = next(tmp_path.glob("*.canonical.jsonl")).read_bytes()
    res = run("naive", train, tmp_path, progress=False)
    assert res.records[0]["evaluation"] == "canonical+split=train"
    assert next(tmp_path.glob("*.canonical.jsonl")).read_bytes() == canonical


def test_physics_oracle_cannot_identify_the_system(tmp_path):
    """Issue 16's oracle (guard off, system from ``dt * pts_per_period``, integrate the
    published equations) scores many Lyapunov times when it gets the model time step, and
    no better than persistence now that undeclared forecasters get time in periods."""
    from dysts_bench.forecaster import public_info
    from dysts_bench.runner.tasks import forecaster_info
    tasks = adhoc_tasks(["Lorenz"], context_length=200, horizon=300, pts_per_period=100)
    info = tasks[0].info
    assert forecaster_info(info, False)["dt"] == pytest.approx(0.01)
    assert forecaster_info(info, True)["dt"] == public_info(info)["dt"]
    oracle = run(f"{HOSTILE}:PhysicsOracle", tasks, tmp_path / "a", progress=False, timeout=120)
    naive = run("naive", tasks, tmp_path / "b", progress=False)
    rec, base = oracle.records[0], naive.records[0]
    assert rec["status"] == "ok" and rec["info_time_unit"] == "period"
    assert rec["vpt"]["smape_running"]["lyapunov_times"] <= base["vpt"]["smape_running"]["lyapunov_times"] + 0.5
    # the same oracle given the model time step (as before the rule) identifies Lorenz
    from forecasters_hostile import PhysicsOracle
    model = PhysicsOracle().fit(tasks[0].context, dt=info["dt"], info=public_info(info))
    assert model.system == "Lorenz"
    forecast = model.predict(50)
    assert np.abs(forecast - tasks[0].future[:50]).max() < 1e-2 * np.abs(tasks[0].future[:50]).max()


def test_ctrl_c_ends_a_run_cleanly_and_keeps_finished_records(tmp_path):
    import signal
    import subprocess
    import time
    results = tmp_path / "results"
    bad = ROOT / "tests" / "forecasters_bad.py"
    code = ("import sys; from dysts_bench.cli import main; sys.exit(main(['run', sys.argv[1], '--systems', "
            "'Lorenz', 'Rossler', '--param', 'delay=0.4', '--results', sys.argv[2], '--quiet', '--no-tune', "
            "'--context-length', '100']))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", code, f"{bad}:SlowNaive", str(results)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    for _ in range(1200):  # wait for the first finished task (no wall-clock assertion)
        if any((results / ".tasks").rglob("*.json")) if (results / ".tasks").exists() else False:
            break
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err and b"interrupted" in err
    lines = [json.loads(line) for f in results.glob("*.jsonl") for line in f.read_text().splitlines()]
    assert lines and all(rec["status"] == "ok" for rec in lines)


@needs_bwrap
def test_a_forecaster_file_in_a_hidden_directory_is_a_clear_error(tmp_path):
    from dysts_bench.forecaster import ForecasterSpecError
    results = tmp_path / "results"
    results.mkdir()
    (results / "mine.py").write_text((ROOT / "tests" / "forecasters_hostile.py").read_text())
    with pytest.raises(ForecasterSpecError, match="which the sandbox hides"):
        run(f"{results / 'mine.py'}:ForeignNaive", route_tasks(["honest"]), results, progress=False,
            sandbox="bwrap")

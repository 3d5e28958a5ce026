"""Benchmark runner: overhead per task beyond fit + predict, and the speed-up from workers.

The overhead is the slope of the task phase's wall time against the number of tasks for
a forecaster that does (almost) nothing (``naive``), minus its fit + predict time: what
isolation (fork of a clean worker host, pipes, limits, log capture), scoring (17 metrics
at 7 Lyapunov-time horizons, VPT, attractor statistics) and the atomic, fsynced result
write cost per task. The same is shown for ``isolation="spawn"`` (a fresh interpreter per
task), the alternative to the reusable worker hosts.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from .harness import Section, fmt

LYAP = {"Lorenz": 0.9056, "Rossler": 0.0714}


def _tasks(n, context=1000, horizon=2400, seed=0):
    from dysts_bench.runner import adhoc_tasks
    per = -(-n // 2)
    tasks = adhoc_tasks(["Lorenz", "Rossler"], n_series=per, context_length=context, horizon=horizon,
                        seed=seed, lyapunov=LYAP)
    return tasks[:n]


def _run(spec, tasks, workers=1, isolation="fork", **kw):
    from dysts_bench.runner import run
    with tempfile.TemporaryDirectory() as tmp:
        # tune=False: this measures the runner (ad-hoc tasks have no training series to tune on)
        res = run(spec, tasks, Path(tmp), workers=workers, isolation=isolation, progress=False, timeout=600,
                  memory="2GB", resume=False, tune=False, **kw)
    assert all(r["status"] == "ok" for r in res.records), res.counts
    return res


def _overhead(n, isolation, horizon, repeats):
    """Per-task cost of the task phase, and its parts, for the naive forecaster."""
    from dysts_bench.atomic import atomic_write as _atomic_write
    from dysts_bench.runner import score
    per_task, work, walls, hosts = [], [], [], []
    tasks = _tasks(n, horizon=horizon)
    for _ in range(repeats):
        res = _run("naive", tasks, isolation=isolation)
        w = [r["fit_seconds"] + r["predict_seconds"] for r in res.records]
        work += w
        per_task.append(res.timings["tasks"] / n - statistics.median(w))
        walls += [r["wall_seconds"] - r["fit_seconds"] - r["predict_seconds"] for r in res.records]
        hosts += [r["task_seconds"] - r["fit_seconds"] - r["predict_seconds"] for r in res.records]
    # the parts done in the parent
    t = tasks[0]
    pred = np.repeat(t.context[-1:], len(t.future), axis=0)
    t0 = time.perf_counter()
    for _ in range(5):
        score(t.future, pred, t.info)
    scoring = (time.perf_counter() - t0) / 5
    with tempfile.TemporaryDirectory() as tmp:
        text = '{"x": ' + "1" * 6000 + "}"
        t0 = time.perf_counter()
        for i in range(20):
            _atomic_write(Path(tmp) / f"{i}.json", text)
        writing = (time.perf_counter() - t0) / 20
    return {"per_task": per_task, "work": statistics.median(work), "round_trip": statistics.median(walls),
            "process": statistics.median(hosts), "scoring": scoring, "writing": writing,
            "startup": res.timings["startup"]}


def run(quick: bool) -> list[Section]:
    n = 12 if quick else 60
    repeats = 1 if quick else 3
    sections = []
    rows = []
    for isolation, horizon, count in (("fork", 2400, n), ("fork", 100, n), ("spawn", 100, 3 if quick else 8)):
        o = _overhead(count, isolation, horizon, repeats)
        rows.append([f"{isolation}, horizon {horizon}", count, fmt(o["startup"]),
                     f"{fmt(statistics.median(o['per_task']))} ({fmt(min(o['per_task']))}–{fmt(max(o['per_task']))})",
                     fmt(o["round_trip"]), fmt(o["process"]), fmt(o["scoring"]), fmt(o["writing"]),
                     fmt(o["work"])])
    sections.append(Section(
        "Runner overhead per task (naive forecaster, 1 worker)",
        ["isolation", "tasks", "worker start-up (once)", "overhead per task", "worker round trip",
         "of which task process", "scoring (parent)", "result write (fsync)", "fit + predict"],
        rows,
        notes=("Overhead per task = wall time of the task phase / tasks − fit + predict (median, min–max "
               f"over {repeats} run(s)); everything the runner adds. Worker round trip = the parent's "
               "send-to-reply time − fit + predict; 'task process' = fork to reaped in the worker host "
               "(process creation, limits, unpickling, log capture, exit). Scoring (17 metrics at 7 "
               "Lyapunov-time horizons, VPT, attractor statistics) and the atomic result write run in the "
               "parent while the worker already runs the next task, so per task the runner costs about "
               "max(round trip, scoring + write). Target: < 50 ms with the default fork isolation; "
               "`spawn` (a fresh interpreter per task, maximal isolation) pays the interpreter start and "
               "imports on every task.")))

    # A forecaster heavy enough (~0.3 s fit + predict) that the parent's scoring and
    # result writes (a few ms per task) do not compete with the workers for the cores.
    n = 4 if quick else 16
    tasks = _tasks(n, horizon=2400, seed=1)
    spec, params = "linear_ar", {"lags": 60 if quick else 450}
    rows = []
    base = None
    variants = [("local, 1 worker", {"workers": 1}), ("local, 2 workers", {"workers": 2}),
                ("Dask LocalCluster, 2 workers", {"workers": 2, "scheduler": "local"})]
    for label, kw in variants:
        try:
            res = _run(spec, tasks, params=params, **kw)
        except ImportError:
            continue  # dask not installed
        if base is None:
            base = res.timings["tasks"]
        rows.append([label, len(tasks), fmt(res.timings["startup"]), fmt(res.timings["tasks"]),
                     fmt(res.timings["tasks"] / len(tasks)), f"{base / res.timings['tasks']:.2f}x",
                     fmt(statistics.median(r["fit_seconds"] + r["predict_seconds"] for r in res.records))])
    sections.append(Section(
        f"Runner speed-up from workers (linear_ar, lags={params['lags']}, context 1000, horizon 2400)",
        ["executor", "tasks", "start-up", "task phase", "per task", "speed-up", "fit + predict (median)"],
        rows,
        notes=("Task phase = wall time from the first job to the last record (worker or cluster "
               "start-up excluded). The machine has 2 cores, so 2x is the ceiling; the parent's "
               "scoring and writes share those cores with the workers.")))
    return sections

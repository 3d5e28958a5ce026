"""``dysts-bench rescore``: recompute every score of stored results from the stored
forecasts (:mod:`.forecasts`) and the dataset's futures, and rewrite the records
atomically. Nothing is re-run; a record whose forecast is not stored, or whose task
changed since the run (another task hash: new data or Lyapunov exponent), is left as it
is and reported."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from .forecasts import forecast_path, load_forecast
from .records import PROTOCOL_VERSION, SCORED, _scoring_versions
from .scoring import compact_record, score
from ..atomic import atomic_write
from .store import ResultStore, read_results
from .tasks import task_hash


def _task_source(evaluation: str):
    """``iter_tasks`` keyword arguments that regenerate the tasks of ``evaluation``: a
    track (:mod:`dysts_bench.tracks`), ``fresh:SEED``, ``<track>+fresh:SEED`` or an older
    ``canonical+noise=KIND`` label."""
    from ..tracks import TRACKS
    base, _, noise = evaluation.partition("+noise=")
    if noise:
        kwargs = {"noise": noise}
    else:
        head, _, fresh = base.partition("+")
        if head.startswith("fresh:"):
            head, fresh = "canonical", head
        if head not in TRACKS or (fresh and not fresh.startswith("fresh:")):
            raise ValueError(f"cannot regenerate the tasks of evaluation {evaluation!r} (not a track, "
                             "fresh:SEED or TRACK+fresh:SEED)")
        kwargs, base = {"track": head}, fresh or "canonical"
    if base == "canonical":
        return kwargs
    if base.startswith("fresh:"):
        return {**kwargs, "fresh_seed": int(base.split(":", 1)[1])}
    raise ValueError(f"cannot regenerate the tasks of evaluation {evaluation!r} (not a track or fresh:SEED)")


def _futures(evaluation: str, systems, context_length: int, root=None) -> dict:
    """``{(system, series): (future, info, task hash)}`` of the dataset's tasks."""
    from ..dataset import iter_tasks
    from .tasks import _check_task
    out = {}
    for task in iter_tasks(systems=sorted(systems), root=root, context_length=context_length,
                           **_task_source(evaluation)):
        system, series, context, future, info = _check_task(task)
        out[(system, series)] = (future, info, task_hash(context, future, info))
    return out


def rescore_file(path, root=None, fsync: bool = True) -> Counter:
    """Rescore one run file in place (and its per-task records, so a resumed run keeps
    the new scores). Returns counts of ``rescored`` and of every reason a record was not."""
    path = Path(path)
    records = read_results(path)
    counts = Counter()
    todo = {}  # record index -> (store, stored forecast)
    for i, rec in enumerate(records):
        if rec.get("status") not in SCORED:
            counts["not scored (failed task)"] += 1
            continue
        store = ResultStore(path.parent, (rec.get("forecaster") or {}).get("run_id"), fsync=fsync)
        forecast = load_forecast(forecast_path(store, rec["evaluation"], rec["system"], rec["series"]))
        if forecast is None:
            counts["no stored forecast (re-run it)"] += 1
        else:
            todo[i] = (store, forecast)
    groups = {}
    for i in todo:
        rec = records[i]
        groups.setdefault((rec.get("evaluation"), rec.get("context_length")), set()).add(rec.get("system"))
    futures = {}
    for (evaluation, context_length), systems in groups.items():
        try:
            futures[evaluation, context_length] = _futures(evaluation, systems, int(context_length), root)
        except Exception as exc:  # noqa: BLE001 - report and leave these records alone
            counts[f"no tasks for {evaluation}: {type(exc).__name__}: {exc}"] += 1
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for i, (store, forecast) in todo.items():
        rec = records[i]
        task = futures.get((rec.get("evaluation"), rec.get("context_length")), {}).get((rec["system"], rec["series"]))
        if task is None or task[2] != rec.get("task_hash"):
            counts["task changed since the run (re-run it)"] += 1
        elif forecast.shape != task[0].shape:
            counts["stored forecast has the wrong shape"] += 1
        else:
            rec.update(score(task[0], forecast, task[1]))
            rec.update(protocol_version=PROTOCOL_VERSION, scoring_versions=_scoring_versions(), rescored_at=now)
            records[i] = rec = compact_record(rec)
            if store.task_path(rec["evaluation"], rec["system"], rec["series"]).exists():
                store.write(rec)
            counts["rescored"] += 1
    if counts["rescored"]:
        atomic_write(path, "".join(json.dumps(r, allow_nan=False) + "\n" for r in records), fsync=fsync)
    return counts


def cmd_rescore(args):
    files = []
    for item in args.results or ["leaderboard/results"]:
        p = Path(item)
        files.extend(sorted(p.glob("*.jsonl")) if p.is_dir() else [p])
    if not files:
        print("no result files found")
        return 1
    for file in files:
        counts = rescore_file(file, root=args.root)
        print(f"{file}: " + ", ".join(f"{n} {why}" for why, n in sorted(counts.items())))
    return 0


def add_rescore_cli(subparsers):
    p = subparsers.add_parser("rescore", help="recompute all scores of stored results from the stored forecasts",
                              description="Recompute every score of the given run files (or of the .jsonl "
                                          "files of the given directories; default leaderboard/results) from "
                                          "the forecasts stored under <results>/.forecasts and the dataset's "
                                          "futures, and rewrite the records atomically.")
    p.add_argument("results", nargs="*", help="run files (.jsonl) or results directories")
    p.add_argument("--root", default=None, help="dataset directory (default: the shipped dataset)")
    p.set_defaults(func=cmd_rescore)

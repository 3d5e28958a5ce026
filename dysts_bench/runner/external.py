"""Scoring forecasts made elsewhere: a GPU cluster, another framework, another language.

1. ``dysts-bench export-tasks DIR`` (:func:`export_tasks`) writes the tasks' contexts and
   public facts, never their futures::

       DIR/tasks.json              format, evaluation, noise, context length, and per system:
                                   file, n_series, context_length, horizon, dim, dt, pts_per_period
       DIR/contexts/<system>.npy   float64, shape (n_series, context_length, dim)

2. The forecaster writes, per system, a forecast of ``horizon`` steps for every series, in
   one of these layouts (:func:`read_forecasts`):

   * a directory of ``<system>.npy`` files, each ``(n_series, horizon, dim)``;
   * one ``.npz`` file with one array ``(n_series, horizon, dim)`` per system name;
   * one ``.parquet`` file with columns ``system``, ``series``, ``step`` (0 .. horizon-1)
     and ``x0`` .. ``x{dim-1}`` (one row per forecast step; extra ``x`` columns of a
     smaller system must be null).

3. ``dysts-bench score FILE --name NAME`` (:func:`score_forecasts`) checks the file
   (missing tasks, unknown systems, wrong shapes, NaN: each a :class:`ForecastFileError`
   naming the tasks) and writes the same records as ``dysts-bench run`` (the runner's
   record code and scoring), with ``leakage: "self-declared"``: nobody isolated the model
   from the test data, so the rows are only as good as the submitter's word.
"""

from __future__ import annotations

import difflib
import json
import sys
import time
import uuid
from pathlib import Path

import numpy as np

from ..jsonutil import params_hash
from ..schema import PROTOCOL_VERSION, RECORD_SCHEMA
from .executors import _Job
from .forecasts import forecast_path, save_forecast
from .records import _dataset_protocol, _finish_record, _make_record, _scoring_versions
from .store import ResultStore, _slug, check_forecaster_name
from .tasks import _check_task, evaluation_of, task_hash
from .wire import pack

TASKS_FORMAT = "dysts-bench-tasks"
TASKS_VERSION = 1
#: Task facts written next to the contexts (never the future, the seed or the series' time).
PUBLIC_FACTS = ("dt", "pts_per_period")


class ForecastFileError(ValueError):
    """A forecasts file that cannot be scored: the message names the tasks at fault."""


def _tasks(systems=None, split="test", noise=None, context_length=1000, fresh_seed=None, root=None):
    from ..dataset import iter_tasks
    return [_check_task(t) for t in iter_tasks(split=split, systems=systems, root=root, fresh_seed=fresh_seed,
                                               context_length=context_length, noise=noise)]


def export_tasks(out_dir, *, systems=None, split="test", noise=None, context_length=1000, fresh_seed=None,
                 root=None) -> Path:
    """Write the tasks' contexts and public facts to ``out_dir`` (layout in the module
    docstring); returns the path of ``tasks.json``."""
    out_dir = Path(out_dir)
    (out_dir / "contexts").mkdir(parents=True, exist_ok=True)
    by_system = {}
    for system, series, context, future, info in _tasks(systems, split, noise, context_length, fresh_seed, root):
        by_system.setdefault(system, []).append((series, context, future, info))
    entries, evaluation = {}, None
    for system, items in by_system.items():
        items.sort(key=lambda item: item[0])
        contexts = np.stack([item[1] for item in items])
        rel = f"contexts/{_slug(system)}.npy"
        np.save(out_dir / rel, contexts, allow_pickle=False)
        info = items[0][3]
        evaluation = evaluation_of(info)
        entries[system] = {"file": rel, "n_series": len(items), "series": [item[0] for item in items],
                           "context_length": int(contexts.shape[1]), "horizon": int(len(items[0][2])),
                           "dim": int(contexts.shape[2]), **{k: info.get(k) for k in PUBLIC_FACTS}}
    manifest = {"format": TASKS_FORMAT, "version": TASKS_VERSION, "evaluation": evaluation, "split": split,
                "noise": noise, "context_length": context_length, "fresh_seed": fresh_seed,
                "dataset_protocol_version": _dataset_protocol(), "systems": entries}
    path = out_dir / "tasks.json"
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    return path


def _from_parquet(path: Path) -> dict:
    import pandas as pd
    frame = pd.read_parquet(path)
    missing = {"system", "series", "step"} - set(frame.columns)
    if missing:
        raise ForecastFileError(f"{path}: Parquet forecasts need columns system, series, step, x0.. "
                                f"(missing {sorted(missing)})")
    cols = sorted((c for c in frame.columns if str(c).startswith("x") and str(c)[1:].isdigit()),
                  key=lambda c: int(str(c)[1:]))
    out = {}
    for (system, series), part in frame.groupby(["system", "series"], sort=True):
        part = part.sort_values("step")
        if not np.array_equal(part["step"].to_numpy(), np.arange(len(part))):
            raise ForecastFileError(f"{path}: {system} series {series}: steps must be 0 .. horizon-1, once each")
        values = part[cols].to_numpy(dtype=np.float64, na_value=np.nan)
        dim = len(cols)
        while dim > 1 and np.isnan(values[:, dim - 1]).all():  # padding columns of a smaller system
            dim -= 1
        out.setdefault(str(system), {})[int(series)] = values[:, :dim]
    return {s: np.stack([v[k] for k in sorted(v)]) if sorted(v) == list(range(len(v))) else v
            for s, v in out.items()}


def read_forecasts(path) -> dict:
    """``{system: array (n_series, horizon, dim)}`` from a forecasts directory, ``.npz``
    or ``.parquet`` file (see the module docstring)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.npy"))
        if not files:
            raise ForecastFileError(f"{path}: no <system>.npy forecast files")
        return {f.stem: np.load(f, allow_pickle=False) for f in files}
    if not path.exists():
        raise ForecastFileError(f"forecasts file not found: {path}")
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    if path.suffix == ".parquet":
        return _from_parquet(path)
    raise ForecastFileError(f"{path}: forecasts must be a directory of .npy files, a .npz or a .parquet file")


def _series_forecast(forecasts: dict, system: str, series):
    """The forecast of one task, or None if the file has none (a wrong shape is returned
    as it is, for the caller to report)."""
    arr = forecasts.get(system)
    if arr is None or isinstance(arr, dict):  # a dict: Parquet with a gap in the series numbers
        return None if arr is None else arr.get(int(series))
    arr = np.asarray(arr)
    if arr.ndim != 3:
        return arr
    return arr[int(series)] if 0 <= int(series) < arr.shape[0] else None


def _validate(forecasts: dict, tasks: list, allow_nonfinite: bool) -> dict:
    """``{(system, series): forecast}`` for every task, or a ForecastFileError naming all faults."""
    known = {t[0] for t in tasks}
    faults = []
    for name in sorted(set(forecasts) - known):
        close = difflib.get_close_matches(name, sorted(known), n=1)
        faults.append(f"unknown system {name!r}" + (f" (did you mean {close[0]!r}?)" if close else
                                                      " (not among the tasks scored)"))
    out, missing, nonfinite = {}, [], []
    for system, series, _, future, _ in tasks:
        fc = _series_forecast(forecasts, system, series)
        if fc is None:
            missing.append(f"{system}/{series}")
            continue
        fc = np.asarray(fc)
        if fc.shape != future.shape or not np.issubdtype(fc.dtype, np.number) or np.iscomplexobj(fc):
            faults.append(f"{system}/{series}: forecast has shape {fc.shape} ({fc.dtype}), expected a real "
                          f"{future.shape} (horizon, dim) array, from {system}'s (n_series, horizon, dim) array")
            continue
        if not np.isfinite(fc).all():
            nonfinite.append(f"{system}/{series}")
        out[(system, series)] = fc.astype(np.float64)
    if missing:
        faults.append(f"{len(missing)} task(s) have no forecast: {', '.join(missing[:10])}"
                      + (" ..." if len(missing) > 10 else "") + " (score a subset with systems=/--systems)")
    if nonfinite and not allow_nonfinite:
        faults.append(f"{len(nonfinite)} forecast(s) contain NaN/inf: {', '.join(nonfinite[:10])}"
                      + (" ..." if len(nonfinite) > 10 else "")
                      + " (allow_nonfinite=True / --allow-nonfinite scores them as the runner does)")
    if faults:
        raise ForecastFileError("cannot score the forecasts:\n  " + "\n  ".join(faults))
    return out


def score_forecasts(forecasts, name: str, *, version: str = "1", params=None, results_dir=None, systems=None,
                    split: str = "test", noise=None, context_length: int = 1000, fresh_seed=None, root=None,
                    allow_nonfinite: bool = False, fsync: bool = True) -> list[dict]:
    """Score forecasts made outside the runner; write and return the records.

    Parameters
    ----------
    forecasts : path or dict
        A forecasts directory / ``.npz`` / ``.parquet`` (:func:`read_forecasts`), or
        ``{system: array (n_series, horizon, dim)}``.
    name, version, params
        The forecaster's identity in the records (and its ``run_id``).
    results_dir : path
        Where the run file goes (default: the user results directory).
    systems, split, noise, context_length, fresh_seed, root
        The tasks, as for :func:`dysts_bench.dataset.iter_tasks` (and ``export-tasks``):
        every task of these systems needs a forecast.
    allow_nonfinite : bool
        Score forecasts with NaN/inf as the runner does (status ``nonfinite``) instead of
        refusing the file.
    """
    check_forecaster_name(name)
    if not isinstance(forecasts, dict):
        forecasts = read_forecasts(forecasts)
    if systems is None:
        from ..dataset import available_systems
        systems = available_systems(root, noise)
    tasks = _tasks(systems, split, noise, context_length, fresh_seed, root)
    checked = _validate(forecasts, tasks, allow_nonfinite)
    params = dict(params or {})
    identity = {"name": name, "version": str(version), "params": params, "tune": None,
                "protocol": PROTOCOL_VERSION, "external": True}
    run_id = f"{_slug(name)}-{params_hash(identity)}"
    if results_dir is None:
        from ..paths import user_results_dir
        results_dir = user_results_dir()
    store = ResultStore(results_dir, run_id, fsync=fsync)
    common = {"schema": RECORD_SCHEMA, "protocol_version": PROTOCOL_VERSION,
              "dataset_protocol_version": _dataset_protocol(), "run_uuid": uuid.uuid4().hex[:12],
              "forecaster": {"name": name, "version": str(version), "params": params, "target": "external",
                             "uses_system_name": False, "run_id": run_id},
              "versions": {}, "scoring_versions": _scoring_versions(), "hardware": {}, "limits": None,
              "leakage": "self-declared"}
    records, evaluations = [], set()
    for system, series, context, future, info in tasks:
        evaluation = evaluation_of(info)
        evaluations.add(evaluation)
        job = _Job((evaluation, system, series), {}, b"",
                   task=(system, series, context, future, info, task_hash(context, future, info), params, None))
        reply = pack({"status": "ok"}, {"forecast": checked[(system, series)]})

        def keep(ev, sy, se, fc):
            save_forecast(forecast_path(store, ev, sy, se), fc, fsync)
        record = _finish_record(*_make_record(job, reply, common, False, keep_forecast=keep))
        record["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        store.write(record)
        records.append(record)
    for evaluation in sorted(evaluations):
        store.consolidate(evaluation)
    return records


def cmd_export_tasks(args):
    path = export_tasks(args.dir, systems=args.systems, split=args.split, noise=args.noise,
                        context_length=args.context_length, fresh_seed=args.fresh, root=args.root)
    n = sum(e["n_series"] for e in json.loads(path.read_text())["systems"].values())
    print(f"wrote {n} task contexts to {path.parent} (layout: {path})")
    return 0


def cmd_score(args):
    from .cli import _parse_params
    options = {"systems": args.systems, "split": "test", "noise": args.noise,
               "context_length": args.context_length, "fresh_seed": args.fresh}
    if args.tasks:  # the export's own options, so both sides see the same tasks
        manifest = json.loads((Path(args.tasks) / "tasks.json").read_text())
        options.update(systems=args.systems or sorted(manifest["systems"]), split=manifest["split"],
                       noise=manifest["noise"], context_length=manifest["context_length"],
                       fresh_seed=manifest["fresh_seed"])
    from ..paths import user_results_dir
    out = args.out or user_results_dir()
    try:
        records = score_forecasts(args.file, args.name, version=args.version, params=_parse_params(args.param),
                                  results_dir=out, root=args.root, allow_nonfinite=args.allow_nonfinite, **options)
    except ForecastFileError as exc:
        print(f"dysts-bench: error: {exc}", file=sys.stderr)
        return 2
    counts = {}
    for rec in records:
        counts[rec["status"]] = counts.get(rec["status"], 0) + 1
    print(f"scored {len(records)} tasks ({', '.join(f'{n} {s}' for s, n in sorted(counts.items()))}); "
          f"results: {out}/{records[0]['forecaster']['run_id']}.*.jsonl (leakage: self-declared)")
    return 0


def add_external_cli(subparsers):
    """Register ``dysts-bench export-tasks`` and ``dysts-bench score``."""
    p = subparsers.add_parser("export-tasks", help="write the tasks' contexts (never the futures) for "
                                                   "forecasting elsewhere",
                              description=__doc__.split("\n\n")[1] if __doc__ else None)
    p.add_argument("dir", help="output directory (tasks.json + contexts/<system>.npy)")
    _task_options(p)
    p.add_argument("--split", default="test")
    p.set_defaults(func=cmd_export_tasks)

    p = subparsers.add_parser("score", help="score forecasts made elsewhere (records marked leakage: self-declared)")
    p.add_argument("file", help="forecasts: a directory of <system>.npy, a .npz or a .parquet file")
    p.add_argument("--name", required=True, help="forecaster name in the records")
    p.add_argument("--version", default="1", help="forecaster version (default 1)")
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="parameters to record (JSON value)")
    p.add_argument("--tasks", default=None, metavar="DIR", help="the export-tasks directory: score its tasks")
    _task_options(p)
    p.add_argument("--allow-nonfinite", action="store_true", help="score NaN/inf forecasts (status nonfinite)")
    p.add_argument("--out", default=None, metavar="DIR", help="results directory (default: the user results directory)")
    p.set_defaults(func=cmd_score)


def _task_options(p):
    p.add_argument("--systems", nargs="+", help="systems (default: all in the dataset)")
    p.add_argument("--noise", default=None, help="dataset noise variant (none, measurement, dynamical)")
    p.add_argument("--context-length", type=int, default=1000)
    p.add_argument("--fresh", type=int, metavar="SEED", default=None, help="fresh initial conditions from SEED")
    p.add_argument("--root", default=None, help="dataset directory (default: the shipped dataset)")

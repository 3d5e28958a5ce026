"""Reading stored results into one flat table of tasks.

:func:`read_records` reads the run files (``<name>-<hash>.<evaluation>.jsonl``) of a results
directory and never fails on a bad line: a truncated or otherwise unreadable line, a record
without a task, an unknown status or a duplicate task is skipped or kept with a
:class:`LeaderboardWarning` that names the file and line. :func:`records_frame` turns the
records into a :class:`pandas.DataFrame` with one row per task and one column per score the
leaderboard uses; everything downstream (:mod:`.aggregate`) works on that frame only.
"""

from __future__ import annotations

import functools
import json
import math
import warnings
from pathlib import Path

import pandas as pd

from ..paths import file_digest, verification_path
from ..schema import STATUSES

#: Metrics kept at every Lyapunov-time horizon (the whole-horizon value of all metrics is kept).
HORIZON_METRICS = ("smape", "nrmse")
#: Task-frame VPT columns -> key of the record's ``vpt`` (running sMAPE, pointwise nRMSE).
VPT_COLUMNS = {"vpt_smape": "smape_running", "vpt_nrmse": "nrmse_pointwise"}
#: Columns of :func:`records_frame` that describe the task and the run, in order.
TASK_COLUMNS = ["forecaster", "name", "run_id", "evaluation", "system", "series", "status",
                "uses_system_name", "family", "pretrained", "pretraining", "corpus_id", "dt", "maximum_lyapunov",
                "horizon_steps", "vpt_smape", "vpt_nrmse",
                "protocol_version", "fit_seconds", "predict_seconds", "wall_seconds", "cpu_seconds", "peak_rss_mb",
                "verified", "finished_at", "file", "line"]


#: Columns that describe the forecaster run (the same on all its rows).
RUN_COLUMNS = ["name", "run_id", "uses_system_name", "family", "pretrained", "pretraining", "corpus_id"]


def pretraining_text(spec: dict) -> str:
    """What a run's pretraining data are, for the zero-shot flag: whether they could
    include the held-out systems, and who says so (the runner's check of our corpus, or
    the model's own declaration, ``pretraining_data_disjoint``)."""
    disjoint, source = spec.get("pretraining_data_disjoint"), spec.get("disjoint_source")
    if spec.get("pretrained"):
        corpus = spec.get("corpus") if isinstance(spec.get("corpus"), dict) else {}
        where = f"corpus {corpus.get('id', '?')} (seed {corpus.get('seed', '?')})"
        return f"{where}: disjoint (checked)" if disjoint is True else f"{where}: includes held-out systems"
    if source == "declared" and disjoint is True:
        return "disjoint (self-declared)"
    if source == "declared" and disjoint is False:
        return "may include held-out systems (self-declared)"
    if source == "undeclared":
        return "unknown (not declared)"
    return "none (fits each context only)"


class LeaderboardWarning(UserWarning):
    """A results line or record that was skipped or could only be read in part."""


def _warn(messages: list, text: str):
    messages.append(text)
    warnings.warn(text, LeaderboardWarning, stacklevel=3)


def _number(value) -> float:
    """A finite float, or NaN for anything else (null, NaN, inf, strings, booleans)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    value = float(value)
    return value if math.isfinite(value) else math.nan


def result_files(results) -> list[Path]:
    """The run files of a results directory (``*.jsonl``, sorted), or the given file(s)."""
    if isinstance(results, (str, Path)):
        path = Path(results)
        if path.is_dir():
            return sorted(p for p in path.glob("*.jsonl") if p.is_file())
        return [path]
    return [Path(p) for p in results]


def _pretraining_of(record: dict) -> dict:
    spec = record.get("forecaster") if isinstance(record.get("forecaster"), dict) else {}
    corpus = spec.get("corpus") if isinstance(spec.get("corpus"), dict) else {}
    return {"pretrained": spec.get("pretrained") is True, "pretraining": pretraining_text(spec),
            "corpus_id": str(corpus["id"]) if corpus.get("id") else None}


@functools.lru_cache(maxsize=None)
def class_family(target: str) -> str | None:
    """The ``family`` of the class a record's ``target`` names, for records written before
    the family was stored: a built-in (``builtin:stem:Class``) or a class of this package
    (``dysts_bench....:Class``).  None for anything else (a foreign file or module is never
    imported by the leaderboard) or a class that cannot be loaded."""
    from ..forecaster import FAMILIES, builtin_dirs, forecaster_class, load_target
    where, _, qualname = str(target).rpartition(":")
    if where.startswith("builtin:"):
        files = [d / f"{where[len('builtin:'):]}.py" for d in builtin_dirs()]
        files = [f for f in files if f.is_file()]
        if not files:
            return None
        target = f"{files[0]}:{qualname}"
    elif not where.startswith("dysts_bench."):
        return None
    try:
        family = getattr(forecaster_class(load_target(target)), "family", None)
    except Exception:  # a renamed or broken class: the family is unknown, not an error
        return None
    return family if family in FAMILIES else None


def _family_of(spec) -> str | None:
    """The record's own ``family``, else that of the class its target names."""
    if not isinstance(spec, dict):
        return None
    from ..forecaster import FAMILIES
    if spec.get("family") in FAMILIES:
        return spec["family"]
    return class_family(spec["target"]) if isinstance(spec.get("target"), str) else None


def _forecaster_of(record: dict, file: Path, lineno: int, messages: list) -> tuple[str, str, bool]:
    spec = record.get("forecaster")
    name = spec.get("name") if isinstance(spec, dict) else None
    run_id = spec.get("run_id") if isinstance(spec, dict) else None
    run_id = run_id if isinstance(run_id, str) and run_id else file.name.split(".")[0]
    if not isinstance(name, str) or not name:
        name = run_id.rsplit("-", 1)[0] if "-" in run_id else run_id
        _warn(messages, f"{file}:{lineno}: record names no forecaster; using {name!r} from the file name")
    uses_name = bool(spec.get("uses_system_name")) if isinstance(spec, dict) else False
    return name, run_id, uses_name


def read_records(results) -> tuple[list[dict], list[str]]:
    """Records of all run files, each with ``_file`` and ``_line``, and the warnings raised.

    Parameters
    ----------
    results : str, Path or list of paths
        A results directory (its ``*.jsonl`` files; the ``.tasks`` staging area is not read)
        or run files.

    Returns
    -------
    records : list of dict
        Readable records, in file and line order. A record whose status is not one of the
        runner's statuses is kept (it counts as a failure) with a warning.
    messages : list of str
        The text of every :class:`LeaderboardWarning` emitted, ``"FILE:LINE: what"``.
    """
    records, messages = [], []
    for file in result_files(results):
        try:
            text = file.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            _warn(messages, f"{file}: unreadable results file skipped ({exc})")
            continue
        lines = text.splitlines()
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                last = lineno == len(lines) and not text.endswith("\n")
                what = "truncated last line" if last else "corrupt line"
                _warn(messages, f"{file}:{lineno}: skipped a {what} (invalid JSON: {exc})")
                continue
            if not isinstance(record, dict) or not isinstance(record.get("system"), str) \
                    or record.get("series") is None:
                _warn(messages, f"{file}:{lineno}: skipped a line that is not a task record "
                                "(needs 'system' and 'series')")
                continue
            status = record.get("status")
            if status not in STATUSES:
                _warn(messages, f"{file}:{lineno}: unknown status {status!r} "
                                f"({record['system']} series {record['series']}); counted as a failure")
            records.append({**record, "_file": str(file), "_line": lineno})
    return records, messages


def _labels(rows: list[dict]) -> dict:
    """Display label per (evaluation, run): the forecaster's name, or its run id where one
    name has several runs in that evaluation (tracks run the same forecaster under other
    ids: untuned on zero-shot, pretrained, ...)."""
    runs = {}
    for row in rows:
        runs.setdefault((row["evaluation"], row["name"]), set()).add(row["run_id"])
    return {(ev, run): (name if len(ids) == 1 else run) for (ev, name), ids in runs.items() for run in ids}


def records_frame(records, messages: list | None = None,
                  horizon_metrics=HORIZON_METRICS) -> pd.DataFrame:
    """One row per (forecaster run, evaluation, system, series) task.

    Columns are :data:`TASK_COLUMNS` (``vpt_*`` in Lyapunov times; ``horizon_steps`` is the
    forecast length in samples), one column per whole-horizon metric (``smape``, ``nrmse``,
    ...) and ``"{metric}@{h:g}"`` for each of ``horizon_metrics`` at each stored horizon
    ``h`` (Lyapunov times). Null and non-finite numbers become NaN; what a NaN means (not
    defined, or a failed score) is decided by :mod:`.aggregate` from the status.
    ``forecaster`` is the display label: the name, or the run id where a name has several
    runs in one evaluation. A task recorded twice for one run keeps its last record (with a warning).
    """
    messages = [] if messages is None else messages
    rows, seen = {}, {}
    for rec in records:
        file, lineno = Path(rec.get("_file", "?")), rec.get("_line", 0)
        name, run_id, uses_name = _forecaster_of(rec, file, lineno, messages)
        metrics = rec.get("metrics") if isinstance(rec.get("metrics"), dict) else {}
        vpt = rec.get("vpt") if isinstance(rec.get("vpt"), dict) else {}
        row = {
            "name": name, "run_id": run_id, "evaluation": str(rec.get("evaluation") or "unknown"),
            "system": rec["system"], "series": str(rec["series"]), "status": str(rec.get("status")),
            "uses_system_name": uses_name, "family": _family_of(rec.get("forecaster")), **_pretraining_of(rec),
            "dt": _number(rec.get("dt")), "maximum_lyapunov": _number(rec.get("maximum_lyapunov")),
            "horizon_steps": _number(rec.get("horizon")),
            # protocol 2 keys; older records' pointwise VPTs are another rule: not read
            **{col: _number(vpt[key].get("lyapunov_times") if isinstance(vpt.get(key), dict) else None)
               for col, key in VPT_COLUMNS.items()},
            "protocol_version": str(rec.get("protocol_version")),
            **{k: _number(rec.get(k)) for k in ("fit_seconds", "predict_seconds", "wall_seconds", "cpu_seconds",
                                                "peak_rss_mb")},
            "verified": rec.get("verified") is True,  # run inside the OS sandbox (runner/sandbox.py)
            "finished_at": rec.get("finished_at") if isinstance(rec.get("finished_at"), str) else None,
            "file": str(file), "line": lineno,
        }
        row.update({str(k): _number(v) for k, v in metrics.items()})
        long_term = rec.get("long_term") if isinstance(rec.get("long_term"), dict) else {}
        row.update({str(k): _number(v) for k, v in long_term.items()})
        horizons = rec.get("horizons") if isinstance(rec.get("horizons"), list) else []
        by_metric = rec.get("horizon_metrics") if isinstance(rec.get("horizon_metrics"), dict) else {}
        for metric in horizon_metrics:
            values = by_metric.get(metric) if isinstance(by_metric.get(metric), list) else []
            for i, h in enumerate(horizons):
                if not math.isnan(_number(h)):
                    row[f"{metric}@{float(h):g}"] = _number(values[i]) if i < len(values) else math.nan
        key = (run_id, row["evaluation"], row["system"], row["series"])
        if key in rows:
            _warn(messages, f"{file}:{lineno}: {row['system']} series {row['series']} of {run_id} is "
                            f"also at {seen[key]}; the later record is used")
        rows[key], seen[key] = row, f"{file}:{lineno}"
    labels = _labels(list(rows.values()))
    frame = pd.DataFrame([{"forecaster": labels[(r["evaluation"], r["run_id"])], **r} for r in rows.values()])
    if frame.empty:
        return pd.DataFrame(columns=TASK_COLUMNS)
    score_columns = sorted(c for c in frame.columns if c not in TASK_COLUMNS)
    frame = frame[TASK_COLUMNS + score_columns]
    for col in score_columns:
        frame[col] = frame[col].astype(float)
    return frame.sort_values(["forecaster", "evaluation", "system", "series"], kind="stable",
                             ignore_index=True)


def horizon_columns(frame: pd.DataFrame, metric: str) -> dict[float, str]:
    """``{horizon: column}`` of a metric's per-horizon columns, sorted by horizon."""
    prefix = f"{metric}@"
    found = {float(c[len(prefix):]): c for c in frame.columns if isinstance(c, str) and c.startswith(prefix)}
    return dict(sorted(found.items()))


def known_systems() -> set[str]:
    """Names a record's system may take: the registry's (flows and maps) and the shipped
    dataset's."""
    from ..registry import list_systems
    names = set(list_systems()) | set(list_systems(kind="map"))
    try:
        from ..dataset.load import manifest
        names |= set(manifest()["systems"])
    except Exception:  # noqa: BLE001 - no shipped dataset: the registry alone decides
        pass
    return names


def _known_only(records: list[dict], systems, messages: list) -> list[dict]:
    """Records of known systems; any other one is reported and left out, so that a stray
    system does not become a task that every other forecaster is charged as missing."""
    systems = set(systems)
    kept = []
    for rec in records:
        if rec["system"] in systems:
            kept.append(rec)
        else:
            _warn(messages, f"{rec['_file']}:{rec['_line']}: system {rec['system'][:80]!r} is not in "
                            "the registry or the dataset; record left out")
    return kept


def load_results(results, horizon_metrics=HORIZON_METRICS, systems=None) -> tuple[pd.DataFrame, list[str]]:
    """:func:`read_records` then :func:`records_frame`: the task frame and all warnings.

    ``systems``: the system names a record may have (e.g. :func:`known_systems`); records of
    other systems are left out with a warning. None: every system is kept.
    """
    records, messages = read_records(results)
    if systems is not None:
        records = _known_only(records, systems, messages)
    frame = records_frame(records, messages, horizon_metrics=horizon_metrics)
    return frame, messages


__all__ = ["HORIZON_METRICS", "RUN_COLUMNS", "TASK_COLUMNS", "pretraining_text", "LeaderboardWarning", "horizon_columns", "known_systems", "load_results",
           "read_records", "records_frame", "result_files"]


# -- sources: reference results, the user's own runs, verification marks ---------------------

#: Suffix of the label of a run from the user's own results directory.
LOCAL_MARK = " (local)"
#: Suffix of the label of a run scored from forecasts made elsewhere (``dysts-bench score``).
SELF_DECLARED_MARK = " (self-declared)"
#: Suffix of the label of a run whose results file passed ``dysts-bench verify-results``.
VERIFIED_MARK = " \u2713"


def is_verified(run_file) -> bool:
    """True if the run file has a passing verification mark for its current content."""
    try:
        mark = json.loads(verification_path(run_file).read_text())
        return bool(mark.get("passed")) and mark.get("file_sha256") == file_digest(run_file)
    except (OSError, ValueError, AttributeError):
        return False


def _mark(records: list[dict], suffix: str) -> None:
    """Append ``suffix`` to the forecaster name and run id of each record (in place), so a
    marked run is its own row and never merges with a reference run of the same id."""
    for rec in records:
        spec = rec.get("forecaster") if isinstance(rec.get("forecaster"), dict) else {}
        name = spec.get("name") if isinstance(spec.get("name"), str) else Path(rec["_file"]).name.split("-")[0]
        run_id = spec.get("run_id") if isinstance(spec.get("run_id"), str) else Path(rec["_file"]).name.split(".")[0]
        rec["forecaster"] = {**spec, "name": name + suffix, "run_id": run_id + suffix}


def load_sources(reference=None, local=None, horizon_metrics=HORIZON_METRICS,
                 systems=None) -> tuple[pd.DataFrame, list[str]]:
    """The task frame of the reference results and the user's own (``local``) results.

    Runs from ``local`` are labelled ``"<name> (local)"``, runs scored from outside the
    runner ``" (self-declared)"``; runs whose file carries a passing
    verification mark (:func:`is_verified`) get ``" \u2713"``. Either source may be None
    or a directory that does not exist.
    """
    records, messages = [], []
    for source, suffix in ((reference, ""), (local, LOCAL_MARK)):
        if source is None or not Path(source).exists():
            continue
        for file in result_files(source):
            found, notes = read_records([file])
            messages += notes
            declared = any(rec.get("leakage") == "self-declared" for rec in found)
            mark = suffix + (SELF_DECLARED_MARK if declared else "") + (VERIFIED_MARK if is_verified(file) else "")
            if mark:
                _mark(found, mark)
            records += found
    if systems is not None:
        records = _known_only(records, systems, messages)
    return records_frame(records, messages, horizon_metrics=horizon_metrics), messages


def resolve_label(frame: pd.DataFrame, name: str | None) -> str | None:
    """The display label of forecaster ``name`` (a verified reference run carries a mark)."""
    if name is None or frame.empty or name in set(frame["forecaster"]):
        return name
    name = name.removesuffix(VERIFIED_MARK)
    marked = name + VERIFIED_MARK
    return marked if marked in set(frame["forecaster"]) else name


__all__ += ["LOCAL_MARK", "SELF_DECLARED_MARK", "VERIFIED_MARK", "is_verified", "load_sources", "resolve_label"]

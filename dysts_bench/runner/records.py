"""Records: the statuses and versions a record carries, and how the parent turns a
worker's reply (validated, checked for lookups, scored) into a record."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from ..jsonutil import jsonable
from ..schema import PROTOCOL_VERSION, RECORD_SCHEMA, SCORED, STATUSES  # noqa: F401 - re-exported
from .executors import _Job
from .forecasts import as_stored
from .scoring import ScoringPool, _clean, compact_record, lookup_suspect
from .wire import unpack
from .worker import _ERROR_CHARS, _tb


def _num(value, default=None):
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) else default


def _safe_unpack(reply: bytes):
    try:
        return unpack(reply)
    except Exception as exc:  # noqa: BLE001 - a forged or truncated reply
        return {"status": "crashed", "error": f"unreadable reply from the worker: {exc}"}, {}


def _display_target(target: str) -> str:
    from ..forecaster import builtin_dirs
    where, _, name = target.rpartition(":")
    for d in builtin_dirs():
        try:
            rel = Path(where).resolve().relative_to(d.resolve())
            return f"builtin:{rel.with_suffix('')}:{name}"
        except ValueError:
            continue
    return target


def _dataset_protocol():
    try:
        from ..dataset.protocol import PROTOCOL_VERSION as v
        return v
    except Exception:  # noqa: BLE001
        return None


def _scoring_versions() -> dict:
    import scipy
    from .. import __version__
    return {"dysts_bench": __version__, "numpy": np.__version__, "scipy": scipy.__version__}


def _make_record(job: _Job, reply: bytes, common: dict, tuned_run: bool, scoring=None, keep_forecast=None):
    """The record of one job (and the scoring future, if it is to be scored).

    A scored forecast is rounded to float32 (:func:`.forecasts.as_stored`) before it is
    scored, and handed to ``keep_forecast(evaluation, system, series, forecast)`` if given,
    so that stored forecasts reproduce the record's scores exactly."""
    system, series, context, future, info, thash, params, trec = job.task
    meta, arrays = _safe_unpack(reply)
    status = meta.get("status")
    if status not in STATUSES:
        status, meta = "crashed", {"error": f"worker replied with an unknown status {status!r}", **meta}
    error = meta.get("error")
    host = meta.get("host") if isinstance(meta.get("host"), dict) else {}
    forecast = arrays.get("forecast")
    if status == "ok" and forecast is not None and forecast.shape == future.shape:
        forecast = as_stored(forecast)
    if status == "ok":
        if forecast is None or forecast.shape != future.shape:
            shape = None if forecast is None else forecast.shape
            status, error = "bad_shape", f"forecast has shape {shape}, expected {future.shape}"
        elif lookup_suspect(forecast, future, context=context):
            status = "leak"
            error = ("the forecast reproduces the stored future bit for bit on most steps "
                     "(a lookup of the test data, not a forecast)")
        elif not np.isfinite(forecast).all():
            bad = ~np.isfinite(forecast).all(axis=1)
            status = "nonfinite"
            error = f"{int(bad.sum())} of {len(bad)} forecast steps contain NaN/inf (first at step {int(bad.argmax())})"
    pending = None
    if status in SCORED:
        if keep_forecast is not None:
            keep_forecast(job.key[0], system, series, forecast)
        pending = (scoring or ScoringPool(0)).submit(future, forecast, info)
    record = {
        **{k: v for k, v in common.items() if k != "forecaster"},
        "forecaster": {**common["forecaster"], "task_params": _clean(jsonable(params))},
        "evaluation": job.key[0], "system": system, "series": series, "task_hash": thash,
        "status": status, "error": None if error is None else str(error)[-_ERROR_CHARS:],
        "phase": meta.get("phase"), "output_tail": meta.get("output_tail"),
        "context_length": int(len(context)), "horizon": int(len(future)), "dim": int(context.shape[1]),
        "dt": _num(info.get("dt")), "pts_per_period": _num(info.get("pts_per_period")),
        "maximum_lyapunov": _num(info.get("maximum_lyapunov")),
        "lyapunov_time_samples": _num(info.get("lyapunov_time_samples")),
        "lyapunov_source": info.get("lyapunov_source"),
        "tuning": None if not tuned_run else (None if trec is None else
                                              {k: trec.get(k) for k in ("status", "params", "seconds", "error")}),
        **_timings(meta, host, job),
        "peak_rss_mb": _peak_mb(host, job),
        "memory_limit_mb": None if _num(meta.get("memory_limit_bytes")) is None
        else meta["memory_limit_bytes"] / 2**20,
        "metrics": None, "horizons": None, "horizon_metrics": None, "vpt": None, "long_term": None,
        "scoring_errors": None,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return record, pending


def _peak_mb(host, job):
    """Peak memory of the task tree (MB): the host's measure, or the parent's own samples
    of the tree when higher (module code of the forecaster runs in the host)."""
    values = [v for v in (_num(host.get("peak_rss_bytes")), _num(getattr(job, "peak_memory", None) or None))
              if v is not None]
    return max(values) / 2**20 if values else None


def _timings(meta, host, job) -> dict:
    """Cost of a task. ``wall_seconds`` and ``cpu_seconds`` (the whole task tree) are
    measured by the parent; ``task_seconds`` by the worker host. ``fit_seconds`` and
    ``predict_seconds`` are reported by the task itself (a patched clock could fake them),
    so they are clamped to [0, wall] and ``timing_suspect`` says when that was needed."""
    wall = _num(job.wall)
    bound = wall if wall is not None else _num(host.get("task_seconds"))
    out, suspect = {}, False
    for key in ("fit_seconds", "predict_seconds"):
        value = _num(meta.get(key))
        if value is not None and (value < 0 or (bound is not None and value > bound)):
            suspect = True
            value = min(max(value, 0.0), bound if bound is not None else max(value, 0.0))
        out[key] = value
    cpu = _num(job.cpu) if getattr(job, "cpu", None) is not None else _num(host.get("cpu_seconds"))
    return {**out, "task_seconds": _num(host.get("task_seconds")), "wall_seconds": wall,
            "cpu_seconds": cpu, "timing_suspect": suspect}


def _finish_record(record, pending) -> dict:
    if pending is not None:
        try:
            record.update(pending.result())
        except Exception as exc:  # noqa: BLE001 - the scorer itself failed: keep the record, say why
            record["scoring_errors"] = {"scoring": _tb(exc)}
    return compact_record(record)

"""Stored forecasts: every scored forecast is kept as float32 ``.npy`` beside the results,
in a git-ignored folder, so that scores can be recomputed (``dysts-bench rescore``)
without re-running a forecaster.

Layout: ``<results_dir>/.forecasts/<run_id>.<evaluation>/<system>/<series>.npy`` (the
stem of the run file, like the per-task records under ``.tasks``). Scores are computed
on the float32 forecast, at run time and at rescoring alike, so both give the same
numbers; a finite value beyond float32's range (about 3.4e38) becomes inf.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..atomic import atomic_write
from .store import ResultStore, _slug

FOLDER = ".forecasts"


def as_stored(forecast: np.ndarray) -> np.ndarray:
    """The forecast as it is stored and scored: rounded to float32, returned as float64."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(forecast, dtype=np.float64).astype(np.float32).astype(np.float64)


def forecast_path(store: ResultStore, evaluation: str, system: str, series) -> Path:
    return store.root / FOLDER / store.stem(evaluation) / _slug(system) / f"{_slug(str(series))}.npy"


def save_forecast(path: Path, forecast: np.ndarray, fsync: bool = True):
    """Write ``forecast`` as float32 ``.npy`` atomically (temp file, ``os.replace``)."""
    buf = io.BytesIO()
    with np.errstate(over="ignore", invalid="ignore"):
        np.save(buf, np.ascontiguousarray(forecast, dtype=np.float32), allow_pickle=False)
    atomic_write(path, buf.getvalue(), fsync=fsync)


def load_forecast(path: Path) -> np.ndarray | None:
    """The stored forecast as float64, or None if there is none (or it is unreadable)."""
    try:
        return np.load(path, allow_pickle=False).astype(np.float64)
    except (OSError, ValueError):
        return None

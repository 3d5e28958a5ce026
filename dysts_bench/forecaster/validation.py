"""Validation of what goes into and comes out of a forecaster, with clear errors.

Called explicitly by :class:`~dysts_bench.forecaster.contract.Forecaster` (``fit``,
``predict``, ``tune``) and by the benchmark's worker on every forecast.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np

#: Task facts a forecaster may see (plus ``system`` for ``uses_system_name = True``).
ALLOWED_INFO = ("dt", "pts_per_period", "dim")


class ForecastShapeError(ValueError):
    """``predict`` returned something that is not a real ``(horizon, dim)`` array."""


class NotFittedError(RuntimeError):
    """``predict`` was called before ``fit``."""


class ForecasterSpecError(ValueError):
    """A forecaster specification cannot be resolved or loaded."""


def public_info(info: Mapping, *, uses_system_name: bool = False) -> dict:
    """The part of a task's ``info`` a forecaster may see (plain Python scalars)."""
    out = {}
    for key in ALLOWED_INFO:
        value = info.get(key)
        if value is None:
            continue
        out[key] = int(value) if key == "dim" else float(value)
    if uses_system_name and info.get("system") is not None:
        out["system"] = str(info["system"])
    return out


def check_context(context, name="context") -> np.ndarray:
    """``context`` as a finite float64 ``(n_samples >= 2, dim >= 1)`` array."""
    try:
        arr = np.asarray(context, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array of shape (n_samples, dim): {exc}") from None
    if arr.ndim != 2:
        hint = " (use context[:, None] for a univariate series)" if arr.ndim == 1 else ""
        raise ValueError(f"{name} must be a 2-D array of shape (n_samples, dim), got shape {arr.shape}{hint}")
    if arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ValueError(f"{name} needs at least 2 samples and 1 dimension, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))
        raise ValueError(f"{name} contains {len(bad)} NaN/inf values (first at row {bad[0, 0]}, "
                         f"column {bad[0, 1]})")
    return arr


def check_valid(valid, dim: int) -> np.ndarray:
    """The validation tail of :meth:`Forecaster.tune`: finite float64 ``(n >= 1, dim)``."""
    arr = np.asarray(valid, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != dim or len(arr) < 1:
        raise ValueError(f"valid must have shape (n, {dim}), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("valid contains NaN/inf values")
    return arr


def check_dt(dt) -> float:
    if isinstance(dt, bool) or not isinstance(dt, numbers.Real) or not math.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be a positive finite number (the sampling interval), got {dt!r}")
    return float(dt)


def check_info(info, dt: float, dim: int) -> dict:
    """``info`` as a new dict (``{"dt", "dim"}`` when None); its ``dim`` must match."""
    if info is None:
        return {"dt": dt, "dim": dim}
    if not isinstance(info, Mapping):
        raise TypeError(f"info must be a mapping, got {type(info).__name__}")
    info = dict(info)
    if info.get("dim") not in (None, dim):
        raise ValueError(f"info['dim'] = {info['dim']} but context has {dim} columns")
    return info


def check_horizon(horizon) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, numbers.Integral) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    return int(horizon)


def check_forecast(forecast, horizon: int, dim: int) -> np.ndarray:
    """``forecast`` as a float64 ``(horizon, dim)`` array, or :class:`ForecastShapeError`.

    Non-finite values pass (the benchmark scores them as ``nonfinite``); complex values
    do not: casting would silently drop the imaginary part."""
    try:
        raw = np.asarray(forecast)
        if np.iscomplexobj(raw):
            raise ForecastShapeError("forecast is complex-valued; return a real array (e.g. take "
                                     ".real explicitly if the imaginary part is round-off)")
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ForecastShapeError):
            raise
        raise ForecastShapeError(f"forecast is not a numeric array ({type(forecast).__name__}): {exc}") from None
    if arr.shape != (horizon, dim):
        raise ForecastShapeError(f"forecast has shape {arr.shape}, expected (horizon, dim) = ({horizon}, {dim})")
    return arr

"""Tasks as the runner sees them: validation (:func:`_check_task`), the evaluation a task
belongs to, its hash (what a record depends on besides the forecaster), and ad-hoc tasks
for tests, benchmarks and quick experiments (:func:`adhoc_tasks`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


def _get(task, name):
    value = getattr(task, name, None)
    if value is None and isinstance(task, dict):
        value = task.get(name)
    return value


def _check_task(task):
    system, series, context, future, info = (_get(task, k) for k in ("system", "series", "context", "future", "info"))
    if system is None or series is None or context is None or future is None or info is None:
        raise TypeError(f"a task needs system, series, context, future and info; got {type(task).__name__}")
    context = np.ascontiguousarray(context, dtype=np.float64)
    future = np.ascontiguousarray(future, dtype=np.float64)
    if context.ndim != 2 or future.ndim != 2 or context.shape[1] != future.shape[1] or len(future) < 1:
        raise ValueError(f"task {system}/{series}: context {context.shape} and future {future.shape} "
                         "must be (n, dim) and (horizon, dim)")
    info = dict(info)
    if not info.get("dt"):
        raise ValueError(f"task {system}/{series}: info has no sampling interval 'dt'")
    info.setdefault("dim", context.shape[1])
    info.setdefault("system", system)
    return str(system), series if isinstance(series, (int, str)) else int(series), context, future, info


def task_hash(context: np.ndarray, future: np.ndarray, info: dict) -> str:
    """Digest of everything a record depends on besides the forecaster: context, future,
    sampling interval and Lyapunov exponent (a resumed run re-scores a task whose data or
    exponent changed). One-way, and workers cannot read the results anyway."""
    h = hashlib.sha256(np.ascontiguousarray(context, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(future, dtype=np.float64).tobytes())
    h.update(f"|{context.shape}|{future.shape}|{info.get('dt')!r}|{info.get('maximum_lyapunov')!r}".encode())
    return h.hexdigest()[:16]


def forecaster_info(info: dict, uses_system_name: bool) -> dict:
    """What a forecaster sees of a task (:func:`~dysts_bench.forecaster.public_info`).

    Unless it declares ``uses_system_name``, time is in units of the dominant period:
    ``dt = 1 / pts_per_period`` (one sample if that is unknown). The model time step
    ``dt`` times ``pts_per_period`` is the registry period and so identifies the system;
    in period units it is the same for every system (the physics-oracle rule, README
    "Threat model")."""
    from ..forecaster import public_info
    out = public_info(info, uses_system_name=uses_system_name)
    if not uses_system_name:
        ppp = out.get("pts_per_period")
        out["dt"] = 1.0 / ppp if ppp else 1.0
    return out


def evaluation_of(info: dict) -> str:
    """The evaluation a task belongs to: its track ("canonical", "maps", "measurement",
    "dynamical", "zero-shot", see :mod:`dysts_bench.tracks`), "fresh:<seed>" (or
    "<track>+fresh:<seed>") or "adhoc"; with the split when it is not the test split
    ("canonical+split=train": never mixed with test records) and a noise variant the label
    does not already name ("adhoc+noise=measurement"), so noisy tasks are never filed
    under a clean label."""
    from ..tracks import TRACK_NOISE, base_track
    evaluation = str(info.get("evaluation") or "adhoc")
    split = info.get("split")
    if split not in (None, "test"):
        evaluation += f"+split={split}"
    noise = info.get("noise")
    if noise not in (None, "none") and TRACK_NOISE.get(base_track(evaluation)) != noise:
        evaluation += f"+noise={noise}"
    return evaluation


# ---------------------------------------------------------------------------
# Ad-hoc tasks (tests, benchmarks, quick experiments)
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class AdhocTask:
    """Same shape as ``dysts_bench.dataset.Task``."""

    system: str
    series: int
    context: np.ndarray
    future: np.ndarray
    info: dict


def adhoc_tasks(systems, *, n_series=1, context_length=300, horizon=100, pts_per_period=100, seed=0,
                evaluation="adhoc", lyapunov=None, float32=True) -> list[AdhocTask]:
    """Tasks built with :func:`dysts_bench.make_trajectory` from random points of each
    system's attractor (for tests and experiments; the benchmark uses the dataset).

    ``lyapunov`` maps system names to maximum Lyapunov exponents (default: the
    registry's). Values are rounded to float32 like the shipped dataset.
    """
    from ..registry import get_system
    from ..trajectory import make_trajectory, sampling_interval
    rng = np.random.default_rng(seed)
    tasks = []
    for name in ([systems] if isinstance(systems, str) else systems):
        spec = get_system(name)
        burn = 4 * (context_length + horizon)
        _, orbit = make_trajectory(name, burn, pts_per_period=pts_per_period)
        starts = rng.integers(burn // 2, burn, size=n_series)
        _, ys = make_trajectory(name, context_length + horizon, pts_per_period=pts_per_period, ic=orbit[starts])
        dt = sampling_interval(spec, pts_per_period)
        lam = (lyapunov or {}).get(name, spec.maximum_lyapunov)
        info = {"system": name, "dt": dt, "pts_per_period": float(pts_per_period), "dim": ys.shape[-1],
                "maximum_lyapunov": lam, "lyapunov_time_samples": None if not lam else 1.0 / (lam * dt),
                "evaluation": evaluation}
        for k in range(n_series):
            y = ys[k].astype(np.float32).astype(np.float64) if float32 else ys[k]
            tasks.append(AdhocTask(name, k, y[:context_length].copy(), y[context_length:].copy(), dict(info)))
    return tasks

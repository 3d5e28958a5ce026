"""Scoring forecasts (in the parent, which alone holds the futures): :func:`score`, the
lookup detector :func:`lookup_suspect`, and :class:`ScoringPool`, which scores in
separate processes (our code only) so that the parent keeps up with many workers."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time

import numpy as np

from ..schema import DEFAULT_HORIZONS
from ..jsonutil import jsonable as _clean  # noqa: F401 - the one JSON sanitiser, under its old name
from .isolation import _bind_to_parent
from .wire import _recv_frame, _send_frame
from .worker import _tb



def lookup_suspect(forecast: np.ndarray, future: np.ndarray, min_steps: int = 16,
                   context: np.ndarray | None = None) -> bool:
    """True if ``forecast`` reproduces the stored float32 future bit for bit on most steps,
    including the second half: a table lookup, not a forecast of a chaotic system.

    Future states that already occur, bit for bit, in the ``context`` do not count: an
    orbit that has settled on a fixed point or a cycle (a map that is not chaotic at its
    published parameters) repeats exact values, and an honest model may predict them."""
    n = len(future)
    if n < min_steps:
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        truth = future.astype(np.float32)
        same = np.all(forecast.astype(np.float32) == truth, axis=1)
    if context is not None:
        seen = {row.tobytes() for row in np.asarray(context, dtype=np.float32)}
        same &= np.array([row.tobytes() not in seen for row in truth])
    return bool(same.mean() > 0.5 and same[n // 2:].mean() > 0.5)


def _short_error(exc) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


#: Record keys of the two valid prediction times -> the metrics function computing each.
VPT_RULES = {"smape_running": "vpt_smape", "nrmse_pointwise": "vpt_nrmse"}


def _trim(values: list):
    """A horizon list without its trailing nulls (horizons beyond the forecast); None if
    nothing is left. Readers treat a missing entry as null."""
    values = list(values)
    while values and values[-1] is None:
        values.pop()
    return values or None


def compact(value, digits: int = 6):
    """JSON-safe (see :func:`_clean`) with every float rounded to ``digits`` significant
    digits: records stay small, and 6 digits are far below any difference a ranking sees."""
    value = _clean(value)
    if isinstance(value, dict):
        return {k: compact(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [compact(v, digits) for v in value]
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    return value


#: Record fields kept at full precision: the task's facts, from which the leaderboard
#: recomputes which horizons fit in the forecast.
EXACT_FIELDS = ("dt", "pts_per_period", "maximum_lyapunov", "lyapunov_time_samples")


def compact_record(record: dict) -> dict:
    """:func:`compact` on every field of a record but :data:`EXACT_FIELDS`."""
    return {k: (_clean(v) if k in EXACT_FIELDS else compact(v)) for k, v in record.items()}


def score(future: np.ndarray, forecast: np.ndarray, info: dict, horizons=DEFAULT_HORIZONS) -> dict:
    """All scores of one forecast: the 17 metrics over the whole forecast and at
    Lyapunov-time horizons, both valid prediction times (samples and Lyapunov times) and
    the long-term statistics (:func:`dysts_bench.metrics.long_term_scores`).

    A metric that fails is recorded as null (with the reason in ``scoring_errors``); the
    others are kept. Floats are rounded to 6 significant digits (:func:`compact`);
    per-horizon lists lose their trailing nulls and all-null lists are left out.
    """
    from .. import metrics as M
    out, errors = {}, {}

    def each(compute, names, fill):
        """``compute(names)`` for all names at once, else one by one (isolating failures)."""
        try:
            return _clean(compute(names))
        except Exception:  # noqa: BLE001
            result = {}
            for name in names:
                try:
                    result[name] = _clean(compute([name])[name])
                except Exception as exc:  # noqa: BLE001
                    result[name], errors[f"{compute.__name__}:{name}"] = fill, _short_error(exc)
            return result

    def score_all(names):
        return M.score_all(future, forecast, metrics=names)
    out["metrics"] = each(score_all, list(M.METRIC_NAMES), None)
    dt = float(info["dt"])
    lam = info.get("maximum_lyapunov")
    lam = float(lam) if lam is not None and np.isfinite(lam) and lam > 0 else None
    out["vpt"] = {key: _vpt(getattr(M, fn), future, forecast, dt, lam, errors, key) for key, fn in VPT_RULES.items()}
    out["horizons"] = list(horizons)
    out["horizon_metrics"] = None
    if lam is not None:
        def horizon_scores(names):
            return M.horizon_scores(future, forecast, dt=dt, lyapunov_exponent=lam, horizons=horizons,
                                    metrics=names)
        lists = each(horizon_scores, list(M.METRIC_NAMES), [None] * len(horizons))
        lists = {name: _trim(v) for name, v in lists.items()}
        out["horizon_metrics"] = {name: v for name, v in lists.items() if v is not None} or None
    out["long_term"] = _long_term(M, future, forecast, errors)
    out["scoring_errors"] = errors or None
    return compact(out)


def _vpt(fn, future, forecast, dt, lam, errors, key) -> dict:
    try:
        steps = float(fn(future, forecast))
        steps = steps if np.isfinite(steps) else None
    except Exception as exc:  # noqa: BLE001
        steps, errors[f"vpt:{key}"] = None, _short_error(exc)
    return {"steps": steps, "lyapunov_times": None if steps is None or lam is None else steps * dt * lam}


def _long_term(M, future, forecast, errors) -> dict:
    """Each long-term statistic on its own, so that one that is not defined (a series too
    short for a spectrum) leaves the others."""
    out = {}
    for name, fn in M.LONG_TERM.items():
        try:
            out[name] = _clean(float(fn(future, forecast)))
        except Exception as exc:  # noqa: BLE001 - too short, degenerate: not defined
            out[name], errors[f"long_term:{name}"] = None, _short_error(exc)
    return out


_SCORER_BOOT = ("import sys; from dysts_bench.runner.scoring import _scorer_main; "
                "_scorer_main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))")


def _scorer_main(rfd, wfd, parent_pid):
    """A scoring process: our own code only (it never runs a forecaster), so pickle is fine."""
    _bind_to_parent(parent_pid)
    from .. import metrics  # noqa: F401
    _send_frame(wfd, pickle.dumps("ready"))
    while True:
        try:
            future, forecast, info = pickle.loads(_recv_frame(rfd))
        except EOFError:
            return
        try:
            out = ("ok", score(future, forecast, info))
        except BaseException as exc:  # noqa: BLE001
            out = ("error", _tb(exc))
        _send_frame(wfd, pickle.dumps(out, protocol=5))


class _Scorer:
    """Parent-side handle of a scoring process (started by the thread that uses it)."""

    def __init__(self):
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        self.proc = subprocess.Popen([sys.executable, "-c", _SCORER_BOOT, str(r1), str(w2), str(os.getpid())],
                                     pass_fds=(r1, w2), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     start_new_session=True)
        os.close(r1)
        os.close(w2)
        self.w, self.r = w1, r2
        pickle.loads(_recv_frame(self.r, deadline=time.monotonic() + 300))

    def score(self, future, forecast, info):
        _send_frame(self.w, pickle.dumps((future, forecast, info), protocol=5))
        status, out = pickle.loads(_recv_frame(self.r))
        if status != "ok":
            raise RuntimeError(f"scoring failed:\n{out}")
        return out

    def close(self):
        for fd in (self.w, self.r):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class ScoringPool:
    """Scores forecasts in ``n`` processes so the parent is not the bottleneck of many workers
    (``n = 0``: score inline). Results are identical to inline scoring (same code)."""

    def __init__(self, n: int):
        self.n = int(n)
        self.local = threading.local()
        self.scorers = []
        self.lock = threading.Lock()
        self.pool = None
        if self.n > 0:
            from concurrent.futures import ThreadPoolExecutor
            self.pool = ThreadPoolExecutor(self.n, thread_name_prefix="dysts-bench-scorer")
            # start the processes now, in parallel with the workers
            self.starting = [self.pool.submit(self._scorer) for _ in range(self.n)]

    def wait_ready(self):
        for fut in getattr(self, "starting", []):
            try:
                fut.result()
            except Exception:  # noqa: BLE001 - scoring falls back to inline
                pass

    def _scorer(self):
        scorer = getattr(self.local, "scorer", None)
        if scorer is None or scorer.proc.poll() is not None:
            scorer = self.local.scorer = _Scorer()
            with self.lock:
                self.scorers.append(scorer)
        return scorer

    def _score(self, future, forecast, info):
        try:
            return self._scorer().score(future, forecast, info)
        except (OSError, EOFError, ValueError, pickle.UnpicklingError):
            self.local.scorer = None  # a dead scoring process: score here instead
            return score(future, forecast, info)

    def submit(self, future, forecast, info):
        from concurrent.futures import Future
        if self.pool is None:
            fut = Future()
            try:
                fut.set_result(score(future, forecast, info))
            except BaseException as exc:  # noqa: BLE001
                fut.set_exception(exc)
            return fut
        return self.pool.submit(self._score, future, forecast, info)

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        for scorer in self.scorers:
            scorer.close()

"""Stochastic delay differential equations.

Stochastic delay equations (:func:`integrate_sdde`)
    ``dy = f(t, y(t), y(t - tau)) dt + diag(sigma) dW`` with additive noise, by
    Euler–Maruyama on a fixed step aligned with the output grid (``substeps`` equal steps
    per output interval). Every step's state is kept, and the lagged state of a step is
    read from that path (history first) by linear interpolation, so the step need not
    divide the delay; with ``sigma = 0`` the scheme is Euler's method of steps (order 1).
    The history is a constant or a sampled past (linearly interpolated). Memory: one state
    per step. Compiled once for all delay systems, like the deterministic loop.
"""

from __future__ import annotations

import math

import numpy as np
from numba import types

from ..compile import CompiledSystem, compile_system
from ..jit import njit_on_first_use
from .dde import _F, _M, _V, delay_of
from .inputs import check_t_eval
from .sde import standard_normals

__all__ = ["integrate_sdde", "integrate_sdde_loop", "sdde_noise_rows"]


@njit_on_first_use(
    types.int64(_F, _V, types.float64, _V, _M, _V, _V, types.int64, types.int64, _M, _M),
    what="the stochastic delay integrator", seconds=2, cache=True, nogil=True)
def integrate_sdde_loop(f, p, tau, hist_t, hist_y, t_eval, sigma, first_substeps, substeps,
                        xi, out):
    """Euler–Maruyama for ``dy = f(t, y(t), y(t - tau)) dt + diag(sigma) dW``.

    The integration starts at ``t0 = hist_t[-1]`` from ``y0 = hist_y[-1]``. The past
    ``y(s)`` for ``s <= t0`` is the piecewise linear interpolant of ``(hist_t, hist_y)``
    (``hist_y[0]`` before ``hist_t[0]``: one point is a constant history). Each step's
    state is appended to that path, and the lagged state ``y(t_n - tau)`` of every step is
    read from the path by the same linear interpolation (exact when ``tau`` is a multiple
    of the step).

    Steps: the interval ``[t0, t_eval[0]]`` (when ``t_eval[0] > t0``) is cut into
    ``first_substeps`` equal steps, every later output interval into ``substeps``; ``xi``
    holds one standard normal vector per step, shape (n_steps, dim). Output ``y(t_eval)``
    goes to ``out`` (n_out, dim). Returns 0 (success) or 3 (non-finite state).
    """
    n = hist_y.shape[1]
    n_hist = hist_t.size
    total = n_hist + xi.shape[0]
    bt = np.empty(total)        # the path: history points, then every step's state
    by = np.empty((total, n))
    for i in range(n_hist):
        bt[i] = hist_t[i]
        for m in range(n):
            by[i, m] = hist_y[i, m]
    count = n_hist
    y = hist_y[n_hist - 1].copy()
    k = np.empty(n)
    ylag = np.empty(n)
    t = hist_t[n_hist - 1]
    j_lag = 0                   # bt[j_lag] <= s for the (increasing) lagged times s
    row = 0
    for j in range(t_eval.size):
        t_end = t_eval[j]
        if t_end > t:
            steps = first_substeps if (j == 0) else substeps
            h = (t_end - t) / steps
            sq = math.sqrt(h)
            for s_i in range(steps):
                ts = t + s_i * h
                s = ts - tau
                if s <= bt[0]:
                    for m in range(n):
                        ylag[m] = by[0, m]
                else:
                    while j_lag + 1 < count and bt[j_lag + 1] <= s:
                        j_lag += 1
                    if j_lag + 1 >= count:  # s at the newest point (tau of zero width)
                        for m in range(n):
                            ylag[m] = by[j_lag, m]
                    else:
                        w = (s - bt[j_lag]) / (bt[j_lag + 1] - bt[j_lag])
                        for m in range(n):
                            ylag[m] = by[j_lag, m] + w * (by[j_lag + 1, m] - by[j_lag, m])
                f(ts, y, ylag, p, k)
                for m in range(n):
                    y[m] = y[m] + h * k[m] + sigma[m] * sq * xi[row, m]
                    if not math.isfinite(y[m]):
                        return 3
                row += 1
                bt[count] = t + (s_i + 1) * h if s_i + 1 < steps else t_end
                for m in range(n):
                    by[count, m] = y[m]
                count += 1
            t = t_end
        for m in range(n):
            out[j, m] = y[m]
    return 0


def sdde_noise_rows(t_eval, t0, first_substeps, substeps) -> int:
    """How many standard normal vectors :func:`integrate_sdde_loop` consumes."""
    t_eval = np.asarray(t_eval, dtype=np.float64)
    first = int(first_substeps) if t_eval[0] > t0 else 0
    return first + (t_eval.size - 1) * int(substeps)


def _history_arrays(history, dim, name):
    """(hist_t, hist_y) from a constant value (dim,) plus start time, or a sampled past."""
    hist_t, hist_y = history
    # Copies: the compiled loop needs writable arrays; callers may pass read-only ones.
    hist_t = np.array(np.atleast_1d(hist_t), dtype=np.float64, order="C")
    hist_y = np.array(hist_y, dtype=np.float64, order="C").reshape(hist_t.size, dim)
    if hist_t.size > 1 and np.any(np.diff(hist_t) <= 0):
        raise ValueError(f"{name}: history times must be strictly increasing")
    if not (np.all(np.isfinite(hist_t)) and np.all(np.isfinite(hist_y))):
        raise ValueError(f"{name}: the history must be finite")
    return hist_t, hist_y


def integrate_sdde(compiled, history, t_eval, sigma, *, t0=0.0, substeps=None, max_step=None,
                   rng=None, seed=None, xi=None, check=True):
    """Integrate the stochastic delay equation ``dy = f(t, y(t), y(t - tau)) dt +
    diag(sigma) dW`` (additive noise) by Euler–Maruyama on a fixed step, and sample it at
    ``t_eval``.

    The lagged state is read from the stored path (history, then every step) by linear
    interpolation; with ``sigma = 0`` the scheme converges to the deterministic solution
    at order 1 in the step.

    Parameters
    ----------
    compiled : CompiledSystem of a delay system
    history : (dim,) array, or a pair ``(hist_t (m,), hist_y (m, dim))``
        A constant past ``y(s) = history`` for ``s <= t0``, or a sampled past whose last
        point ``(hist_t[-1], hist_y[-1])`` is the start (``t0`` is then ``hist_t[-1]``),
        linearly interpolated in between and constant before ``hist_t[0]``.
    t_eval : (n,) strictly increasing output times, ``t_eval[0] >= t0``
    sigma : float or (dim,) diffusion amplitudes (state units per sqrt(time unit))
    t0 : float
        Start time for a constant history.
    substeps : int, optional
        Steps per output interval (default: enough that ``h <= max_step``; the first
        interval ``[t0, t_eval[0]]`` gets its own count with the same bound).
    max_step : float, optional
        Largest step (default :func:`dysts_bench.solvers.sde.default_max_step`).
    rng, seed, xi :
        Source of the Brownian increments, as in
        :func:`dysts_bench.solvers.sde.integrate_sde`; ``xi`` has shape
        (:func:`sdde_noise_rows`, dim).
    check : bool
        Raise :class:`~dysts_bench.solvers.IntegrationError` when the state blows up.

    Returns
    -------
    y : (n, dim) array
    """
    from . import IntegrationError
    from .sde import default_max_step
    if not isinstance(compiled, CompiledSystem):
        compiled = compile_system(compiled)
    system = compiled.system
    name = system.name
    if not system.delay:
        raise IntegrationError(f"{name} is not a delay system; use solvers.sde.integrate_sde")
    dim = compiled.dim
    tau = delay_of(compiled)
    if isinstance(history, tuple):
        hist_t, hist_y = _history_arrays(history, dim, name)
        t0 = float(hist_t[-1])
    else:
        t0 = float(t0)
        hist_t, hist_y = _history_arrays((np.array([t0]), np.asarray(history)), dim, name)
    t_eval, t0 = check_t_eval(t_eval, t0, name)
    sigma = np.array(np.broadcast_to(np.asarray(sigma, dtype=np.float64), (dim,)), order="C")
    if np.any(sigma < 0) or not np.all(np.isfinite(sigma)):
        raise ValueError(f"{name}: sigma must be finite and non-negative")
    max_step = float(default_max_step(system) if max_step is None else max_step)
    if not max_step > 0:
        raise ValueError(f"{name}: max_step must be positive")
    widths = np.diff(t_eval)
    if substeps is None:
        widest = float(widths.max()) if widths.size else 0.0
        substeps = max(1, math.ceil(widest / max_step * (1 - 1e-12)))
    substeps = int(substeps)
    if substeps < 1:
        raise ValueError(f"{name}: substeps must be a positive integer")
    first_substeps = max(1, math.ceil((t_eval[0] - t0) / max_step * (1 - 1e-12)))
    rows = sdde_noise_rows(t_eval, t0, first_substeps, substeps)
    xi = standard_normals(rows, dim, xi=xi, rng=rng, seed=seed)
    out = np.full((t_eval.size, dim), np.nan)
    status = integrate_sdde_loop(compiled.rhs, compiled.params, tau, hist_t, hist_y, t_eval,
                                 sigma, first_substeps, substeps, xi, out)
    if status != 0 and check:
        raise IntegrationError(f"{name}: state became NaN or infinite in the stochastic delay "
                               f"integration (sigma={sigma.tolist()}, substeps={substeps})")
    return out

"""Invariants of a flow, computed by the project: Lyapunov spectrum (Benettin QR on the
variational equations), Kaplan–Yorke and correlation dimensions, dominant period and
integration step. Each function documents its method and settings.
"""

from __future__ import annotations

import math

import numpy as np
from numba import types

from ..compile import RHS_SIG, compile_system, compile_tangent
from ..fractal import gp_dimension, kaplan_yorke_dimension  # noqa: F401 - re-exported
from ..jit import njit_on_first_use
from ..registry import get_system
from ..solvers import DOP853, IntegrationError, integrate
from ..solvers.erk import METHOD_TYPES, STATUS_TEXT, integrate_erk
from ..solvers.specialise import compile_tableau

_V = types.float64[::1]


# ---------------------------------------------------------------- Lyapunov spectrum
@njit_on_first_use(
    types.int64(types.FunctionType(RHS_SIG), _V, _V, types.int64, types.int64,
        types.float64, types.int64, types.float64, types.float64, *METHOD_TYPES,
        types.float64[:, ::1]),
    what="the Lyapunov-spectrum loop", seconds=3, cache=True, nogil=True)
def _benettin(f_tangent, p, Y0, n, k, interval, n_intervals, rtol, atol,
              step, error, dense, interpolate, n_stages, n_main, n_coef, error_order, block_sums):
    """Integrate state + k tangent vectors, re-orthonormalising them by QR every
    ``interval``; accumulate log |R_ii| into ``block_sums`` (n_blocks, k). Returns an
    integrator status code (0 = success)."""
    Y = Y0.copy()
    t_eval = np.empty(1)
    out = np.empty((1, Y.size))
    n_blocks = block_sums.shape[0]
    per_block = n_intervals // n_blocks
    t = 0.0
    for it in range(per_block * n_blocks):
        t_eval[0] = t + interval
        status = integrate_erk(f_tangent, p, t, Y, t_eval, rtol, atol, 0.0, 100_000_000,
                               step, error, dense, interpolate, n_stages, n_main, n_coef,
                               error_order, out)
        if status[0] != 0:
            return status[0]
        t += interval
        Y[:] = out[0]
        Q = Y[n:].copy().reshape((n, k))
        q, r = np.linalg.qr(Q)
        block = it // per_block
        for col in range(k):
            d = r[col, col]
            block_sums[block, col] += math.log(abs(d))
            if d < 0.0:
                q[:, col] = -q[:, col]
        Y[n:] = q.copy().reshape(n * k)
    return 0


def lyapunov_spectrum(system, *, n_periods=1000, transient_periods=20, qr_per_period=10,
                      k=None, n_blocks=10, rtol=1e-9, atol=1e-9, max_intervals=200_000):
    """Lyapunov spectrum by the Benettin / Shimada–Nagashima method.

    The variational equations dQ/dt = J(t, y) Q are integrated together with the state
    by the compiled DOP853 loop (the tangent right-hand side is generated from the same
    equations as the Jacobian), and the tangent vectors are re-orthonormalised by QR
    ``qr_per_period`` times per dominant period (more often if the phase-space volume
    contracts faster, see below). The exponents are the time averages of log |R_ii|.

    Parameters
    ----------
    system : str or System
    n_periods : float
        Averaging time in dominant periods (after ``transient_periods`` of transient,
        during which the tangent vectors align).
    k : int, optional
        Number of leading exponents (default: all ``dim``).
    n_blocks : int
        The averaging window is split into blocks; the standard error of the block means
        is returned as the uncertainty.

    Returns
    -------
    dict with ``spectrum`` (k,) sorted descending (1 / time unit), ``stderr`` (k,),
    ``blocks`` (n_blocks, k) the per-block averages (same order) over ``block_time``,
    ``start_state`` (the state after the transient, where averaging starts) and
    ``settings`` (the method and everything needed to reproduce it).

    References
    ----------
    G. Benettin, L. Galgani, A. Giorgilli and J.-M. Strelcyn, Meccanica 15 (1980) 9-30;
    I. Shimada and T. Nagashima, Prog. Theor. Phys. 61 (1979) 1605-1616.
    """
    system = get_system(system)
    n = system.dim
    k = n if k is None else int(k)
    compiled = compile_system(system)
    tangent = compile_tangent(system, k)
    # Start on the attractor, after a transient.
    _, y_start = make_trajectory_raw(compiled, transient_periods * system.period)
    # Within one interval the tangent vectors separate like exp((λ1 - λk) τ); if that
    # ratio nears 1/machine-epsilon the QR loses the contracting directions. The local
    # rate is bounded by the largest |tr J| seen on a short run (intermittent systems
    # spike far above their mean), so keep |tr J|_max * τ <= 5.
    _, trace_max = jacobian_trace_stats(system, n_periods=min(20.0, n_periods))
    interval = system.period / qr_per_period
    if trace_max * interval > 5.0:
        interval = 5.0 / trace_max
    n_intervals = max(n_blocks, int(round(n_periods * system.period / interval)))
    if n_intervals > max_intervals:
        # Very stiff contraction: average over fewer periods rather than for hours.
        n_intervals = max_intervals
    n_intervals -= n_intervals % n_blocks
    Y0 = np.concatenate([y_start, np.eye(n)[:, :k].reshape(-1)])
    sums = np.zeros((n_blocks, k))
    status = _benettin(tangent, compiled.params, Y0, n, k, interval, n_intervals,
                       rtol, atol, *compile_tableau(DOP853).loop_args, sums)
    if status != 0:
        raise IntegrationError(f"{system.name}: tangent integration failed ({STATUS_TEXT[status]})")
    block_time = interval * (n_intervals // n_blocks)
    blocks = sums / block_time
    spectrum = blocks.mean(axis=0)
    stderr = blocks.std(axis=0, ddof=1) / math.sqrt(n_blocks)
    order = np.argsort(-spectrum)
    return {
        "spectrum": spectrum[order], "stderr": stderr[order], "start_state": y_start,
        "blocks": blocks[:, order], "block_time": block_time,
        "settings": {"method": "Benettin QR (tangent dynamics, symbolic Jacobian, DOP853)",
                     "averaging_time": interval * n_intervals,
                     "n_periods": interval * n_intervals / system.period,
                     "transient_periods": transient_periods, "qr_interval": interval,
                     "rtol": rtol, "atol": atol, "n_blocks": n_blocks},
    }


def make_trajectory_raw(compiled, t_end):
    """The state (not the observed output) at time ``t_end`` from the registry's initial
    condition: returns (t_end, y)."""
    y, _ = integrate(compiled, compiled.system.initial_condition, np.array([0.0, t_end]),
                     rtol=1e-10, atol=1e-10)
    return t_end, y[-1].copy()


def jacobian_trace_stats(system, n_periods=50.0, pts_per_period=50):
    """(time average of tr J, max |tr J|) along a trajectory from the registry's
    initial condition."""
    system = get_system(system)
    compiled = compile_system(system)
    step = system.period / pts_per_period
    t = np.arange(int(n_periods * pts_per_period) + 1) * step
    y, _ = integrate(compiled, system.initial_condition, t, rtol=1e-10, atol=1e-10)
    J = np.empty((system.dim, system.dim))
    ft = np.empty(system.dim)
    traces = np.empty(len(t))
    for i, (ti, yi) in enumerate(zip(t, y)):
        compiled.jac(ti, yi, compiled.params, J, ft)
        traces[i] = np.trace(J)
    # Trapezoidal average over the window.
    return float(np.trapezoid(traces, t) / t[-1]), float(np.max(np.abs(traces)))


def trace_average(system, y_start, duration, pts_per_period=400):
    """Time averages of tr J and of |tr J| over ``duration`` from ``y_start``, evaluated
    with the numpy expression evaluator on a fine grid (trapezoid rule): an independent
    check of the sum of a Lyapunov spectrum computed from the same starting state. The
    second value sets the scale of quadrature errors where the mean nearly cancels."""
    from .. import expressions as ex
    from ..registry import evaluate_on_states
    system = get_system(system)
    compiled = compile_system(system)
    n = max(2, int(duration / system.period * pts_per_period) + 1)
    t = np.linspace(0.0, duration, n)
    y, _ = integrate(compiled, y_start, t, rtol=1e-11, atol=1e-11)
    defs, eqs = system.trees
    aux = dict(zip([a for a, _ in system.definitions], defs))

    def inline(node):  # substitute definitions so the trace is a function of the state
        if node[0] == "sym" and node[1] == "aux":
            return inline(aux[node[2]])
        if node[0] in ("num", "sym", "idx"):
            return node
        if node[0] in ("call", "bool"):
            return (node[0], node[1], tuple(inline(a) for a in node[2]))
        if node[0] in ("bin", "cmp"):
            return (node[0], node[1], inline(node[2]), inline(node[3]))
        return (node[0], *(inline(a) for a in node[1:]))

    trace = np.zeros(n)
    for var, tree in zip(system.variables, eqs):
        d = ex.diff(inline(tree), var, lambda name: ex.ZERO)
        trace = trace + np.broadcast_to(evaluate_on_states(system, d, y, t), (n,))
    return (float(np.trapezoid(trace, t) / duration),
            float(np.trapezoid(np.abs(trace), t) / duration))


# -------------------------------------------------------------------- other invariants
def correlation_dimension(y, *, n_points=2000, fit_range=(0.005, 0.05)):
    """Correlation dimension of a long trajectory ``y`` (n, dim) for the registry.

    Grassberger–Procaccia (:func:`dysts_bench.fractal.gp_dimension`) on standardised
    coordinates, ``n_points`` samples evenly spaced in time (with a long trajectory their
    temporal neighbours are far apart, so no Theiler window is needed), C(r) fitted on 20
    log-spaced radii between its ``fit_range`` levels.
    """
    return gp_dimension(y, max_points=n_points, quantiles=fit_range, n_radii=20, theiler=0,
                        standardize=True)


#: How :func:`dominant_period` works, as recorded in ``systems.json`` (keep the two in step).
PERIOD_METHOD = ("shortest of the observed coordinates' own periodogram-peak periods (each linearly "
                 "detrended and Hann-windowed, peak refined by parabolic interpolation of log power)")


def dominant_period(y, dt) -> float:
    """Dominant period of a multivariate signal: the shortest of the coordinates' own
    spectral-peak periods.

    Each coordinate is linearly detrended (constant ones are skipped), Hann-windowed, and
    the highest peak of its periodogram (ignoring the two lowest frequencies) is refined
    by parabolic interpolation of log power. Taking the shortest of these periods means
    that ``pts_per_period`` samples per period resolve the fastest coordinate's main
    oscillation (e.g. z of Lorenz, not the slow switching between its wings).
    """
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    n = len(y)
    s = np.arange(n)
    window = np.hanning(n)
    df = 1.0 / (n * dt)
    periods = []
    for col in y.T:
        col = col - np.polyval(np.polyfit(s, col, 1), s)
        if col.std() <= 1e-12 * (1 + np.abs(col).max()):
            continue
        power = np.abs(np.fft.rfft(window * col)) ** 2
        i = 2 + int(np.argmax(power[2:]))
        shift = 0.0
        if i + 1 < len(power):
            a, b_, c = np.log(power[i - 1: i + 2] + 1e-300)
            denom = a - 2 * b_ + c
            shift = 0.5 * (a - c) / denom if denom != 0 else 0.0
        periods.append(1.0 / ((i + shift) * df))
    if not periods:
        raise ValueError("every coordinate is constant: no period")
    return float(min(periods))


def estimate_period(system, *, n_periods=200, pts_per_period=100, iterations=3):
    """Dominant period of a system's observed trajectory, iterated from the registry's
    value: sample at the current estimate / ``pts_per_period`` for ``n_periods`` estimates,
    take :func:`dominant_period`, repeat until it changes by less than 1%. A new estimate
    more than 10x away from the current one, or from a trajectory that has settled onto a
    fixed point (transient chaos), stops the iteration."""
    system = get_system(system)
    period = system.period
    for _ in range(iterations):
        dt = period / pts_per_period
        t = np.arange(int(n_periods * pts_per_period)) * dt
        _, y = _sample(system, t)
        tail = y[-len(y) // 10:]
        if np.all(tail.std(axis=0) < 1e-6 * (1 + y.std(axis=0))):
            break
        new = dominant_period(y, dt)
        if not 0.1 < new / period < 10.0:
            break
        done = abs(new - period) < 0.01 * period
        period = new
        if done:
            break
    return period


def _sample(system, t):
    from ..trajectory import observe
    compiled = compile_system(system)
    y, _ = integrate(compiled, system.initial_condition, t, t0=0.0, rtol=1e-10, atol=1e-10)
    return t, observe(system, y, t)


def integration_step(system, *, n_periods=50, rtol=1e-10, atol=1e-10) -> float:
    """The integration-time-step annotation ``dt``: the mean accepted step of the adaptive
    DOP853 integrator at rtol = atol = 1e-10 over ``n_periods`` periods (time units)."""
    system = get_system(system)
    compiled = compile_system(system)
    T = n_periods * system.period
    _, stats = integrate(compiled, system.initial_condition, np.array([0.0, T]), rtol=rtol, atol=atol)
    return T / max(1, stats.n_steps)

"""Delay differential equations dy/dt = f(t, y(t), y(t - tau)) with one constant delay.

The integrator is the method of steps with an embedded explicit Runge–Kutta pair (the
project's DOP853 or DOPRI5 tableaus, with their error control and dense output): every
accepted step's dense-output coefficients are kept in a history buffer, and a stage at
time ``s`` reads its lagged state ``y(s - tau)`` from the stored step that covers
``s - tau``, through the same interpolant (7th order for DOP853, 4th for DOPRI5).

History
    Constant: ``y(t) = y0`` for every ``t <= t0`` (as in the published database, which
    integrates from a constant past equal to the initial value).
Lag
    Steps are limited to ``h <= tau``, so every lagged time ``t + c_i h - tau`` lies at or
    before the start ``t`` of the current step: the lagged state always comes from
    completed steps (or the history), never from the step being taken. The buffer keeps
    the steps that end after ``t - tau`` and drops older ones; it grows when needed.
Breakpoints
    The constant history makes ``y'`` jump at ``t0``; that jump reappears in ``y''`` at
    ``t0 + tau``, in ``y'''`` at ``t0 + 2 tau``, and so on. Steps are made to end exactly at
    ``t0 + k tau`` for ``k = 1 .. N_BREAKS`` so that no step straddles a low-order
    discontinuity (beyond that the jumps are in derivatives higher than the method's order).

The time loop, the stages, the history look-ups and error control all run in compiled
code; the right-hand side is a first-class function of signature
:data:`dysts_bench.compile.DDE_SIG`, so this module is compiled once for every delay system
and cached on disk.

Difference from the reference package's integration
    dysts 0.96 integrates delay systems with ``ddeint`` (scipy's ``vode`` at its default
    rtol 1e-6), reading the lagged state by linear interpolation between its *output*
    times, so its trajectories carry errors of the order of the output spacing (and depend
    on the number of samples requested). They agree with this integrator over the first
    delays and converge to it, to first order, as that spacing is refined; on chaotic
    systems the two part ways after a few Lyapunov times.

Efficiency note
    With DOP853, about a third of the attempted steps are rejected on these systems (with
    DOPRI5 about a tenth): the error estimate also sees the small kinks that the
    interpolated history has at past step boundaries. Accuracy is unaffected.
"""


from __future__ import annotations

import math

import numpy as np
from numba import njit, types

from ..compile import DDE_SIG, CompiledSystem, compile_system
from ..jit import njit_on_first_use
from .control import (budget_status, error_scale, samples_at_start, starting_step, step_factor,
                      trial_step)
from .dop853 import DOP853
from .dopri5 import DOPRI5
from .erk import (STATUS_TEXT, dense_coefficients, dense_eval, embedded_error,
                  has_second_estimator)
from .inputs import check_inputs

__all__ = ["integrate_delay", "delay_series", "delay_of", "integrate_dde", "N_BREAKS", "STATUS_TEXT"]

METHODS = {"dop853": DOP853, "dopri5": DOPRI5}
#: Steps end exactly at t0 + k tau for k = 1 .. N_BREAKS (propagated history discontinuities).
N_BREAKS = 10

_F = types.FunctionType(DDE_SIG)
_V = types.float64[::1]
_M = types.float64[:, ::1]
_STATS = types.UniTuple(types.int64, 4)
_INITIAL_CAPACITY = 256



# ------------------------------------------------------------------ history look-up
@njit(cache=True, nogil=True)
def _find_step(s, T, lo, hi):
    """Largest index k in [lo, hi) with T[k] <= s (lo if none): T is increasing."""
    a = lo
    b = hi - 1
    while a < b:
        mid = (a + b + 1) // 2
        if T[mid] <= s:
            a = mid
        else:
            b = mid - 1
    return a


@njit(cache=True, nogil=True)
def history_value(s, t0, y0, T, H, Y, FF, lo, hi, out):
    """y(s) from the constant history (s <= t0) or the stored dense output of the step
    ``k`` (``T[k] <= s <= T[k] + H[k]``, ``k`` in ``[lo, hi)``); written into ``out``."""
    if s <= t0 or hi == lo:
        for m in range(y0.size):
            out[m] = y0[m]
        return
    k = _find_step(s, T, lo, hi)
    dense_eval(Y[k], FF[k], (s - T[k]) / H[k], out)


@njit(cache=True, nogil=True)
def _dde_stages(f, t, y, h, p, tau, A, c, first, last, K, ytmp, ylag,
                t0, y0, T, H, Y, FF, lo, hi):
    """Stages ``first..last-1``: k_i = f(t_i, y + h sum_j A_ij k_j, y(t_i - tau)),
    t_i = t + c_i h, with the lagged state from the history (h <= tau keeps t_i - tau <= t)."""
    n = y.size
    for i in range(first, last):
        for m in range(n):
            acc = 0.0
            for j in range(i):
                a = A[i, j]
                if a != 0.0:
                    acc += a * K[j, m]
            ytmp[m] = y[m] + h * acc
        ti = t + c[i] * h
        history_value(ti - tau, t0, y0, T, H, Y, FF, lo, hi, ylag)
        f(ti, ytmp, ylag, p, K[i])


@njit(cache=True, nogil=True)
def _initial_step_dde(f, t0, y0, f0, p, tau, rtol, atol, exponent, ytmp, ftmp):
    """Hairer–Nørsett–Wanner starting step (as :func:`control.initial_step`), for a delay
    right-hand side: the trial point stays within ``tau`` of t0, where the lag is the
    constant history ``y0``. Capped at ``tau``."""
    h0, d1 = trial_step(y0, f0, rtol, atol)
    h0 = min(h0, tau)
    for i in range(y0.size):
        ytmp[i] = y0[i] + h0 * f0[i]
    f(t0 + h0, ytmp, y0, p, ftmp)
    return min(starting_step(y0, f0, ftmp, h0, d1, rtol, atol, exponent), tau)


# ----------------------------------------------------------------------- time loop
# long-function: one compiled time loop (breakpoints, stages, error control, history buffer,
# output); its state is a dozen work arrays and counters that helpers would all have to take.
@njit_on_first_use(
    _STATS(_F, _V, types.float64, types.float64, _V, _V, types.float64, types.float64,
        types.float64, types.int64, types.int64, _M, _V, _V, _V, _V, _M, types.int64, _M),
    what="the delay-equation integrator", seconds=10, cache=True, nogil=True)
def integrate_dde(f, p, tau, t0, y0, t_eval, rtol, atol, first_step, max_steps, n_breaks,
                  A, c, b, e5, e3, dense, error_order, out):
    """Integrate dy/dt = f(t, y(t), y(t - tau), p) from the constant history y = y0 on
    t <= t0, and write y(t_eval) into ``out`` (n_out, dim).

    Returns (status, n_steps, n_rejected, n_fev); status as in :mod:`.erk`
    (0 success, 1 step budget exhausted, 2 step size underflow, 3 non-finite state).
    """
    n = y0.size
    S = c.size
    s = b.size
    nF = 3 + dense.shape[0]
    n_out = t_eval.size
    K = np.empty((S, n))
    y = y0.copy()
    y_new = np.empty(n)
    ytmp = np.empty(n)
    ylag = np.empty(n)
    scale = np.empty(n)
    err_vec = np.empty(n)
    err3_vec = np.empty(n)
    use_e3 = has_second_estimator(e3)
    exponent = 1.0 / (error_order + 1)

    # History buffer: step k starts at T[k] with state Y[k], length H[k], coefficients FF[k].
    cap = _INITIAL_CAPACITY
    T = np.empty(cap)
    H = np.empty(cap)
    Y = np.empty((cap, n))
    FF = np.empty((cap, nF, n))
    lo = 0
    hi = 0

    i_out = samples_at_start(t_eval, t0, y0, out)
    if i_out == n_out:
        return (0, 0, 0, 0)
    t = t0
    t_end = t_eval[n_out - 1]
    f(t, y, y0, p, K[0])  # y(t0 - tau) = y0: the constant history
    n_fev = 1
    h = first_step
    if h <= 0.0:
        h = _initial_step_dde(f, t, y, K[0], p, tau, rtol, atol, exponent, ytmp, y_new)
        n_fev += 1
    k_break = 1
    n_steps = 0
    n_rejected = 0
    rejected = False
    while i_out < n_out:
        status = budget_status(n_steps, max_steps, h, t)  # a NaN step ends it too (status 3)
        if status != 0:
            return (status, n_steps, n_rejected, n_fev)
        h = min(h, tau)
        t_stop = t_end
        if k_break <= n_breaks:
            tb = t0 + k_break * tau
            if tb < t_stop:
                t_stop = tb
        final = h >= t_stop - t
        if final:
            h = t_stop - t
        elif 2.0 * h > t_stop - t:
            h = 0.5 * (t_stop - t)  # two equal steps rather than a long one and a sliver
        _dde_stages(f, t, y, h, p, tau, A, c, 1, s, K, ytmp, ylag, t0, y0, T, H, Y, FF, lo, hi)
        for m in range(n):
            acc = 0.0
            for j in range(s):
                acc += b[j] * K[j, m]
            y_new[m] = y[m] + h * acc
        history_value(t + h - tau, t0, y0, T, H, Y, FF, lo, hi, ylag)
        f(t + h, y_new, ylag, p, K[s])
        n_fev += s
        error_scale(y, y_new, rtol, atol, scale)
        err = embedded_error(K, s, e5, e3, use_e3, h, scale, err_vec, err3_vec)
        if not math.isfinite(err):
            err = 1e10
        if err <= 1.0:
            n_steps += 1
            for m in range(n):
                if not math.isfinite(y_new[m]):
                    return (3, n_steps, n_rejected, n_fev)
            t_new = t_stop if final else t + h
            if S > s + 1:
                _dde_stages(f, t, y, h, p, tau, A, c, s + 1, S, K, ytmp, ylag,
                            t0, y0, T, H, Y, FF, lo, hi)
                n_fev += S - s - 1
            # Store this step in the history (compacting / growing the buffer when full).
            if hi == cap:
                live = hi - lo
                new_cap = max(cap, 2 * live)
                T2 = np.empty(new_cap)
                H2 = np.empty(new_cap)
                Y2 = np.empty((new_cap, n))
                FF2 = np.empty((new_cap, nF, n))
                T2[:live] = T[lo:hi]
                H2[:live] = H[lo:hi]
                Y2[:live] = Y[lo:hi]
                FF2[:live] = FF[lo:hi]
                T, H, Y, FF = T2, H2, Y2, FF2
                cap = new_cap
                lo = 0
                hi = live
            dense_coefficients(y, y_new, h, K, s, dense, FF[hi])
            T[hi] = t
            H[hi] = h
            Y[hi] = y
            hi += 1
            while i_out < n_out and t_eval[i_out] <= t_new:
                dense_eval(Y[hi - 1], FF[hi - 1], (t_eval[i_out] - t) / h, out[i_out])
                i_out += 1
            if final and t_stop < t_end:
                k_break += 1
            t = t_new
            for m in range(n):
                y[m] = y_new[m]
                K[0, m] = K[s, m]
            # Drop steps that end before the earliest lag any later stage can ask for.
            while hi - lo > 1 and T[lo] + H[lo] < t - tau:
                lo += 1
            h *= step_factor(err, exponent, rejected)
            rejected = False
        else:
            n_rejected += 1
            rejected = True
            h *= step_factor(err, exponent, True)
    return (0, n_steps, n_rejected, n_fev)


# ------------------------------------------------------------------ Python wrappers
def delay_of(compiled) -> float:
    """The delay ``tau`` of a compiled delay system, honouring parameter overrides.

    The registry names the parameter that holds the delay (``System.tau_parameter``);
    with overrides the value in ``compiled.params`` wins. A delay given as a plain number
    is used as is.
    """
    system = compiled.system
    if not system.delay:
        raise ValueError(f"{system.name} is not a delay system")
    if system.tau_parameter is None:
        return float(system.tau)
    return float(compiled.params[system.parameter_layout[system.tau_parameter]])


def integrate_delay(compiled, y0, t_eval, *, t0=None, method="dop853", rtol=1e-10,
                    atol=1e-10, first_step=0.0, max_steps=50_000_000, tau=None, check=True):
    """Integrate a compiled delay system from a constant history and sample it at ``t_eval``.

    The history is ``y(t) = y0`` for all ``t <= t0``.

    Parameters
    ----------
    compiled : CompiledSystem of a delay system (right-hand side of signature ``DDE_SIG``)
    y0 : (dim,) or (m, dim) array
        The constant history value(s); a 2-D array integrates each row in turn.
    t_eval : (n,) strictly increasing array of output times, all >= t0
    t0 : float, optional
        Start time (default ``t_eval[0]``).
    method : {"dop853", "dopri5"}
    rtol, atol : float
        Relative and absolute tolerances of the local error.
    tau : float, optional
        The delay (default: the system's, see :func:`delay_of`).
    check : bool
        Raise :class:`~dysts_bench.solvers.IntegrationError` when a trajectory fails.

    Returns
    -------
    y : (n, dim) or (m, n, dim) array
    stats : IntegrationStats or list of them
    """
    from . import IntegrationError, IntegrationStats  # the package imports this module lazily

    name = compiled.system.name
    if not compiled.system.delay:
        raise IntegrationError(f"{name} is not a delay system; use integrate")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {tuple(METHODS)}")
    y0, t_eval, t0 = check_inputs(compiled, y0, t_eval, t0, rtol, atol)
    tau = delay_of(compiled) if tau is None else float(tau)
    if not (math.isfinite(tau) and tau > 0):
        raise ValueError(f"{name}: the delay must be positive and finite, got {tau}")
    dim = compiled.dim
    A, c, b, e5, e3, dense = METHODS[method].arrays
    order = METHODS[method].error_order
    rows = y0 if y0.ndim == 2 else y0[None]
    out = np.empty((rows.shape[0], t_eval.size, dim))
    stats = [IntegrationStats(*integrate_dde(
        compiled.rhs, compiled.params, tau, t0, np.ascontiguousarray(row), t_eval,
        float(rtol), float(atol), float(first_step), int(max_steps), N_BREAKS,
        A, c, b, e5, e3, dense, order, out[i])) for i, row in enumerate(rows)]
    if check:
        for i, st in enumerate(stats):
            if st.status != 0:
                which = f" (initial condition {i})" if y0.ndim == 2 else ""
                raise IntegrationError(f"{name}{which}: {st.message} after {st.n_steps} "
                                       f"steps with method {method!r} (delay solver)")
    if y0.ndim == 1:
        return out[0], stats[0]
    return out, stats


def delay_series(compiled, t_eval, *, ic=None, t0=0.0, method="dop853", rtol=1e-10,
                 atol=1e-10, check=True):
    """The state of a delay system (not embedded) at ``t_eval``: ``(n, dim)``.

    Integrated from the constant history ``ic`` on ``t <= t0`` (default the registry's
    ``initial_condition``); sample times at or before ``t0`` read that history.
    """
    if not isinstance(compiled, CompiledSystem):
        compiled = compile_system(compiled)
    t_eval = np.ascontiguousarray(t_eval, dtype=np.float64)
    y0 = np.asarray(compiled.system.initial_condition if ic is None else ic, dtype=np.float64)
    out = np.empty((t_eval.size, compiled.dim))
    past = t_eval <= t0
    out[past] = y0
    if (~past).any():
        out[~past], _ = integrate_delay(compiled, y0, t_eval[~past], t0=t0, method=method,
                                        rtol=rtol, atol=atol, check=check)
    return out

"""One generic embedded Runge–Kutta integrator for every :class:`ExplicitRK` tableau.

The time loop, the stages, error control and dense output all run in compiled code.
The right-hand side arrives as a first-class function value (``RHS_SIG``), and so do the
method's step functions (generated from its tableau by :mod:`.specialise`), so the loop is
compiled once for all systems and all methods and cached on disk.

The array-driven functions below (``rk_stages``, ``embedded_error``,
``dense_coefficients``, ``dense_eval``) state each piece of arithmetic once, readably, for
any tableau; the delay integrator uses them directly, and the specialised step functions
are tested against them bit for bit.

Status codes returned by :func:`integrate_erk`: 0 success, 1 step budget exhausted,
2 step size underflow, 3 non-finite state.
"""

import math

import numpy as np
from numba import njit, prange, types

from ..compile import RHS_SIG
from ..jit import njit_on_first_use
from .control import (MAX_STEPS, NON_FINITE, STEP_UNDERFLOW, SUCCESS, budget_status, initial_step, rms_norm,
                      samples_at_start, step_factor)
STATUS_TEXT = {SUCCESS: "success", MAX_STEPS: "step budget exhausted",
               STEP_UNDERFLOW: "step size underflow (stiff or singular?)",
               NON_FINITE: "state or right-hand side became NaN or infinite"}

_F = types.FunctionType(RHS_SIG)
_V = types.float64[::1]
_M = types.float64[:, ::1]
_M3 = types.float64[:, :, ::1]
_STATS = types.UniTuple(types.int64, 4)

#: Rough cold-compile times (seconds, one core of a 2020s laptop) for the compile notices.
LOOP_SECONDS = 2
BATCH_SECONDS = 6

#: Signatures of the step functions :mod:`.specialise` generates for each tableau.
STEP_SIG = types.void(_F, types.float64, _V, types.float64, _V, _M, _V, _V, _V)
ERROR_SIG = types.float64(_M, types.float64, _V, _V, types.float64, types.float64)
DENSE_SIG = types.void(_F, types.float64, _V, _V, types.float64, _V, _M, _V, _V, _M)
INTERPOLATE_SIG = types.void(_V, _M, types.float64, _M, types.int64)
#: Argument types of a method in the loops (see specialise.CompiledTableau.loop_args).
METHOD_TYPES = (types.FunctionType(STEP_SIG), types.FunctionType(ERROR_SIG),
           types.FunctionType(DENSE_SIG), types.FunctionType(INTERPOLATE_SIG),
           types.int64, types.int64, types.int64, types.int64)


@njit(cache=True, nogil=True)
def rk_stages(f, t, y, h, p, A, c, first, last, K, ytmp, kbuf):
    """Fill stages ``first..last-1`` of ``K``: k_i = f(t + c_i h, y + h sum_j A_ij k_j).

    ``ytmp`` and ``kbuf`` are work vectors of the state's size.
    """
    n = y.size
    for i in range(first, last):
        for m in range(n):
            acc = 0.0
            for j in range(i):
                acc += A[i, j] * K[j, m]
            ytmp[m] = y[m] + h * acc
        # Write through a persistent row buffer: taking the view K[i] for the call would
        # cost a reference-count round trip per stage, more than a small RHS itself.
        f(t + c[i] * h, ytmp, p, kbuf)
        for m in range(n):
            K[i, m] = kbuf[m]


@njit(cache=True, nogil=True)
def has_second_estimator(e3):
    """Whether a tableau carries the lower-order error estimate of DOP853-style pairs."""
    for j in range(e3.size):
        if e3[j] != 0.0:
            return True
    return False


@njit(cache=True, nogil=True)
def embedded_error(K, s, e5, e3, use_e3, h, scale, err_vec, err3_vec):
    """Scaled norm of the local error estimate h * sum_j e_j k_j over stages 0..s.

    With a second estimator (``use_e3``) this is Hairer's DOP853 norm: the 5th-order
    estimate, damped where the 3rd-order one shows it is pessimistic. NaN when a trial
    stage left the domain (e.g. a negative base of a fractional power), so that the
    caller rejects the step.
    """
    n = err_vec.size
    for m in range(n):
        acc = 0.0
        acc3 = 0.0
        for j in range(s + 1):
            acc += e5[j] * K[j, m]
            acc3 += e3[j] * K[j, m]
        err_vec[m] = acc
        err3_vec[m] = acc3
    if not use_e3:
        return abs(h) * rms_norm(err_vec, scale)
    e5n = rms_norm(err_vec, scale) ** 2
    e3n = rms_norm(err3_vec, scale) ** 2
    denom = e5n + 0.01 * e3n
    if denom > 0.0:
        return abs(h) * e5n / math.sqrt(denom)
    if denom == 0.0:
        return 0.0
    return math.nan


@njit(cache=True, nogil=True)
def dense_coefficients(y, y_new, h, K, s, dense, F):
    """Coefficients F of the interpolant over one step (Hairer's nested form).

    F0 = y_new - y, F1 = h k0 - F0, F2 = 2 F0 - h (k_s + k0), F[3+r] = h dense[r] @ K.
    """
    n = y.size
    for m in range(n):
        delta = y_new[m] - y[m]
        F[0, m] = delta
        F[1, m] = h * K[0, m] - delta
        F[2, m] = 2.0 * delta - h * (K[s, m] + K[0, m])
    for r in range(dense.shape[0]):
        for m in range(n):
            acc = 0.0
            for j in range(dense.shape[1]):
                acc += dense[r, j] * K[j, m]
            F[3 + r, m] = h * acc


@njit(cache=True, nogil=True)
def dense_eval(y, F, theta, out):
    """y(t + theta h) = y + theta (F0 + (1-theta)(F1 + theta (F2 + (1-theta)(F3 + ...))))."""
    last = F.shape[0] - 1
    for m in range(y.size):
        g = F[last, m]
        for r in range(last - 1, -1, -1):
            g = F[r, m] + ((1.0 - theta) if (r + 1) % 2 == 1 else theta) * g
        out[m] = y[m] + theta * g


@njit_on_first_use(
    _STATS(_F, _V, types.float64, _V, _V, types.float64, types.float64, types.float64,
           types.int64, *METHOD_TYPES, _M),
    what="the explicit Runge-Kutta loop", seconds=LOOP_SECONDS, cache=True, nogil=True)
def integrate_erk(f, p, t0, y0, t_eval, rtol, atol, first_step, max_steps,
                  step, error, dense, interpolate, n_stages, n_main, n_coef, error_order, out):
    """Integrate dy/dt = f(t, y, p) from (t0, y0) and write y(t_eval) into ``out``.

    Parameters
    ----------
    t_eval : (n_out,) increasing times, all >= t0
    first_step : initial step (0 = choose automatically)
    step, error, dense, interpolate, n_stages, n_main, n_coef, error_order :
        the method, as :attr:`.specialise.CompiledTableau.loop_args`
    out : (n_out, dim) output array

    Returns
    -------
    (status, n_steps, n_rejected, n_fev)
    """
    n = y0.size
    n_out = t_eval.size
    K = np.empty((n_stages, n))
    F = np.empty((n_coef, n))
    y = y0.copy()
    y_new = np.empty(n)
    ytmp = np.empty(n)
    kbuf = np.empty(n)
    exponent = 1.0 / (error_order + 1)

    i_out = samples_at_start(t_eval, t0, y0, out)
    if i_out == n_out:
        return (SUCCESS, 0, 0, 0)
    t = t0
    t_end = t_eval[n_out - 1]
    f(t, y, p, kbuf)
    for m in range(n):
        K[0, m] = kbuf[m]
    n_fev = 1
    h = first_step
    if h <= 0.0:
        h = initial_step(f, t, y, kbuf, p, rtol, atol, exponent, ytmp, y_new)
        n_fev += 1
    n_steps = 0
    n_rejected = 0
    rejected = False
    while i_out < n_out:
        status = budget_status(n_steps, max_steps, h, t)  # a NaN step ends it too (NON_FINITE)
        if status != SUCCESS:
            return (status, n_steps, n_rejected, n_fev)
        final = h >= t_end - t
        if final:
            h = t_end - t
        step(f, t, y, h, p, K, ytmp, y_new, kbuf)
        n_fev += n_main
        err = error(K, h, y, y_new, rtol, atol)
        if not math.isfinite(err):
            err = 1e10  # a blown-up trial step: shrink and retry
        if err <= 1.0:
            n_steps += 1
            t_new = t_end if final else t + h
            if i_out < n_out and t_eval[i_out] <= t_new:
                dense(f, t, y, y_new, h, p, K, ytmp, kbuf, F)
                n_fev += n_stages - n_main - 1
                while i_out < n_out and t_eval[i_out] <= t_new:
                    interpolate(y, F, (t_eval[i_out] - t) / h, out, i_out)
                    i_out += 1
            t = t_new
            for m in range(n):
                y[m] = y_new[m]
                K[0, m] = K[n_main, m]
                if not math.isfinite(y[m]):
                    return (NON_FINITE, n_steps, n_rejected, n_fev)
            h *= step_factor(err, exponent, rejected)
            rejected = False
        else:
            n_rejected += 1
            rejected = True
            h *= step_factor(err, exponent, True)
    return (SUCCESS, n_steps, n_rejected, n_fev)


@njit_on_first_use(
    types.void(_F, _V, types.float64, _M, _V, types.float64, types.float64, types.float64,
               types.int64, *METHOD_TYPES, _M3, types.int64[:, ::1]),
    what="the parallel batch integrator", seconds=BATCH_SECONDS, cache=True, parallel=True)
def integrate_erk_batch(f, p, t0, Y0, t_eval, rtol, atol, first_step, max_steps,
                        step, error, dense, interpolate, n_stages, n_main, n_coef, error_order,
                        out, stats):
    """:func:`integrate_erk` for each row of ``Y0`` in parallel; ``out`` is (m, n_out, dim)
    and ``stats`` (m, 4) receives each trajectory's (status, steps, rejected, fev)."""
    for i in prange(Y0.shape[0]):
        r = integrate_erk(f, p, t0, Y0[i], t_eval, rtol, atol, first_step, max_steps,
                          step, error, dense, interpolate, n_stages, n_main, n_coef,
                          error_order, out[i])
        stats[i, 0] = r[0]
        stats[i, 1] = r[1]
        stats[i, 2] = r[2]
        stats[i, 3] = r[3]

"""Rosenbrock 2(3) for stiff systems (the method of MATLAB's ode23s).

A linearly implicit, L-stable method of order 2 with an embedded order-3 error estimate
and a continuous extension. Each step solves three linear systems with the same matrix
``W = I - h d J``; it needs the Jacobian ``J`` and, for forced systems, ``df/dt``, which the
compiler derives symbolically (``JAC_SIG``).

Reference
---------
L. F. Shampine and M. W. Reichelt, "The MATLAB ODE Suite", SIAM J. Sci. Comput. 18 (1997)
1-22, section 3.
"""

import math

import numpy as np
from numba import njit, types

from ..compile import JAC_SIG, RHS_SIG
from ..jit import njit_on_first_use
from .control import (NON_FINITE, SUCCESS, budget_status, error_scale, initial_step, rms_norm, samples_at_start,
                      step_factor)

D = 1.0 / (2.0 + math.sqrt(2.0))
E32 = 6.0 + math.sqrt(2.0)
ERROR_ORDER = 2

_V = types.float64[::1]
_M = types.float64[:, ::1]


#: Rough cold-compile time in seconds (for the compile notice).
ROSENBROCK_SECONDS = 4


@njit(cache=True, nogil=True)
def lu_factor(W, piv):
    """In-place LU factorisation with partial pivoting; returns False if singular."""
    n = W.shape[0]
    for k in range(n):
        best = k
        for i in range(k + 1, n):
            if abs(W[i, k]) > abs(W[best, k]):
                best = i
        piv[k] = best
        if W[best, k] == 0.0:
            return False
        if best != k:
            for j in range(n):
                W[k, j], W[best, j] = W[best, j], W[k, j]
        for i in range(k + 1, n):
            W[i, k] /= W[k, k]
            factor = W[i, k]
            if factor != 0.0:
                for j in range(k + 1, n):
                    W[i, j] -= factor * W[k, j]
    return True


@njit(cache=True, nogil=True)
def lu_solve(W, piv, x):
    """Solve W x = b in place (x holds b on entry) with the factors of :func:`lu_factor`."""
    n = W.shape[0]
    for k in range(n):
        if piv[k] != k:
            x[k], x[piv[k]] = x[piv[k]], x[k]
    for i in range(n):
        for j in range(i):
            x[i] -= W[i, j] * x[j]
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, n):
            x[i] -= W[i, j] * x[j]
        x[i] /= W[i, i]


# long-function: one compiled time loop (Jacobian, LU solve of the stages, error control,
# dense output); its state is the work arrays and counters that helpers would all have to take.
@njit_on_first_use(
    types.UniTuple(types.int64, 4)(types.FunctionType(RHS_SIG), types.FunctionType(JAC_SIG),
        _V, types.float64, _V, _V, types.float64, types.float64, types.float64, types.int64,
        _M),
    what="the Rosenbrock integrator", seconds=ROSENBROCK_SECONDS, cache=True, nogil=True)
def integrate_rosenbrock23(f, jac, p, t0, y0, t_eval, rtol, atol, first_step, max_steps, out):
    """Integrate a (possibly stiff) system; same contract as ``integrate_erk``."""
    n = y0.size
    n_out = t_eval.size
    y = y0.copy()
    y_new = np.empty(n)
    F0 = np.empty(n)
    F1 = np.empty(n)
    F2 = np.empty(n)
    k1 = np.empty(n)
    k2 = np.empty(n)
    k3 = np.empty(n)
    T = np.empty(n)
    J = np.empty((n, n))
    W = np.empty((n, n))
    piv = np.empty(n, dtype=np.int64)
    scale = np.empty(n)
    ytmp = np.empty(n)
    exponent = 1.0 / (ERROR_ORDER + 1)

    i_out = samples_at_start(t_eval, t0, y0, out)
    if i_out == n_out:
        return (SUCCESS, 0, 0, 0)
    t = t0
    t_end = t_eval[n_out - 1]
    f(t, y, p, F0)
    n_fev = 1
    h = first_step
    if h <= 0.0:
        h = initial_step(f, t, y, F0, p, rtol, atol, exponent, ytmp, F1)
        n_fev += 1
    n_steps = 0
    n_rejected = 0
    rejected = False
    need_jac = True
    while i_out < n_out:
        status = budget_status(n_steps, max_steps, h, t)  # a NaN step ends it too (NON_FINITE)
        if status != SUCCESS:
            return (status, n_steps, n_rejected, n_fev)
        final = h >= t_end - t
        if final:
            h = t_end - t
        if need_jac:
            jac(t, y, p, J, T)
            need_jac = False
        hd = h * D
        for i in range(n):
            for j in range(n):
                W[i, j] = -hd * J[i, j]
            W[i, i] += 1.0
        if not lu_factor(W, piv):
            h *= 0.5
            n_rejected += 1
            continue
        for i in range(n):
            k1[i] = F0[i] + hd * T[i]
        lu_solve(W, piv, k1)
        for i in range(n):
            ytmp[i] = y[i] + 0.5 * h * k1[i]
        f(t + 0.5 * h, ytmp, p, F1)
        for i in range(n):
            k2[i] = F1[i] - k1[i]
        lu_solve(W, piv, k2)
        for i in range(n):
            k2[i] += k1[i]
            y_new[i] = y[i] + h * k2[i]
        t_new = t_end if final else t + h
        f(t_new, y_new, p, F2)
        for i in range(n):
            k3[i] = F2[i] - E32 * (k2[i] - F1[i]) - 2.0 * (k1[i] - F0[i]) + hd * T[i]
        lu_solve(W, piv, k3)
        n_fev += 2
        error_scale(y, y_new, rtol, atol, scale)
        for i in range(n):
            ytmp[i] = h / 6.0 * (k1[i] - 2.0 * k2[i] + k3[i])
        err = rms_norm(ytmp, scale)
        if not math.isfinite(err):
            err = 1e10
        if err <= 1.0:
            n_steps += 1
            # Continuous extension: y(t + s h) = y + h (s(1-s) k1 + s(s-2d) k2) / (1-2d).
            while i_out < n_out and t_eval[i_out] <= t_new:
                s = (t_eval[i_out] - t) / h
                w1 = s * (1.0 - s) / (1.0 - 2.0 * D)
                w2 = s * (s - 2.0 * D) / (1.0 - 2.0 * D)
                for i in range(n):
                    out[i_out, i] = y[i] + h * (w1 * k1[i] + w2 * k2[i])
                i_out += 1
            t = t_new
            for i in range(n):
                y[i] = y_new[i]
                F0[i] = F2[i]
                if not math.isfinite(y[i]):
                    return (NON_FINITE, n_steps, n_rejected, n_fev)
            need_jac = True
            h *= step_factor(err, exponent, rejected)
            rejected = False
        else:
            n_rejected += 1
            rejected = True
            h *= step_factor(err, exponent, True)
    return (SUCCESS, n_steps, n_rejected, n_fev)

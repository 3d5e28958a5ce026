"""Stochastic differential equations with additive (dynamical) noise, in compiled code.

Solves ``dy = f(t, y) dt + diag(sigma) dW`` (Itô = Stratonovich for additive noise) on a
fixed grid: every interval between consecutive output times is cut into ``substeps``
equal steps ``h``, so the output needs no interpolation.

Scheme (one step of length ``h`` with Brownian increment ``dW ~ N(0, h)``)::

    u      = y_n + sigma * dW / 2             # half Brownian kick
    u      = RK4_h(u)                         # classical Runge-Kutta drift step
    y_n+1  = u + sigma * dW / 2               # the other half of the same increment

a Strang splitting of the drift flow and the (exactly solvable) noise flow. For additive
noise it converges with strong order 1 and weak order 2: on the Ornstein–Uhlenbeck process
``dy = -theta y dt + s dW`` its stationary variance is ``s^2/(2 theta) (1 + (theta h)^2/12 +
O(h^4))`` (Euler–Maruyama's is off by ``theta h / 2``). With ``sigma = 0`` it is exactly
the classical RK4 method.

The right-hand side arrives as a first-class function value (:data:`RHS_SIG`), so the loop
is compiled once for all systems and cached on disk. The standard normal variates come from
the caller (a seeded :class:`numpy.random.Generator`), which keeps the randomness
reproducible and independent of numba's global random state.

Status codes: 0 success, 3 non-finite state (as in :mod:`dysts_bench.solvers.erk`).

Delay equations have their own stochastic integrator,
:func:`dysts_bench.solvers.sdde.integrate_sdde` (Euler–Maruyama with the lagged state read
from the stored path).
"""

from __future__ import annotations

import math

import numpy as np
from numba import types

from ..compile import RHS_SIG
from ..jit import njit_on_first_use
from .control import NON_FINITE, SUCCESS  # the status codes of every integration loop
from .inputs import check_inputs

_F = types.FunctionType(RHS_SIG)
_V = types.float64[::1]
_M = types.float64[:, ::1]


@njit_on_first_use(
    types.int64(_F, _V, types.float64, _V, _V, _V, types.int64, _M, _M),
    what="the stochastic integrator", seconds=2, cache=True, nogil=True)
def integrate_sde_loop(f, p, t0, y0, t_eval, sigma, substeps, xi, out):
    """Integrate from ``(t0, y0)`` and write ``y(t_eval)`` into ``out`` (n_out, dim).

    ``xi`` holds one standard normal vector per step: shape (n_intervals * substeps, dim),
    where the intervals are ``[t0, t_eval[0]]`` (only when ``t_eval[0] > t0``) followed by
    the consecutive output intervals. Returns the status code.
    """
    n = y0.size
    y = y0.copy()
    u = np.empty(n)
    k1 = np.empty(n)
    k2 = np.empty(n)
    k3 = np.empty(n)
    k4 = np.empty(n)
    tmp = np.empty(n)
    t = t0
    row = 0
    for j in range(t_eval.size):
        t_end = t_eval[j]
        if t_end > t:
            h = (t_end - t) / substeps
            sq = math.sqrt(h)
            for s in range(substeps):
                ts = t + s * h
                for m in range(n):
                    u[m] = y[m] + 0.5 * sigma[m] * sq * xi[row, m]
                f(ts, u, p, k1)
                for m in range(n):
                    tmp[m] = u[m] + 0.5 * h * k1[m]
                f(ts + 0.5 * h, tmp, p, k2)
                for m in range(n):
                    tmp[m] = u[m] + 0.5 * h * k2[m]
                f(ts + 0.5 * h, tmp, p, k3)
                for m in range(n):
                    tmp[m] = u[m] + h * k3[m]
                f(ts + h, tmp, p, k4)
                for m in range(n):
                    y[m] = (u[m] + h / 6.0 * (k1[m] + 2.0 * k2[m] + 2.0 * k3[m] + k4[m])
                            + 0.5 * sigma[m] * sq * xi[row, m])
                    if not math.isfinite(y[m]):
                        return NON_FINITE
                row += 1
            t = t_end
        for m in range(n):
            out[j, m] = y[m]
    return SUCCESS


def default_max_step(system, steps_per_period=5000, dt_fraction=0.25) -> float:
    """Fixed step used by default: at most ``period / steps_per_period`` and at most
    ``dt_fraction`` of the registry's ``dt`` (its mean adaptive DOP853 step)."""
    return min(system.period / steps_per_period, dt_fraction * system.dt)


def standard_normals(rows: int, dim: int, *, xi=None, rng=None, seed=None) -> np.ndarray:
    """The (rows, dim) standard normal increments of a fixed-step integration: ``xi`` if
    given (reshaped), else drawn from ``rng`` or a generator seeded with ``seed``."""
    if xi is None:
        if rng is None:
            rng = np.random.default_rng(seed)
        xi = rng.standard_normal((rows, dim))
    return np.ascontiguousarray(xi, dtype=np.float64).reshape(rows, dim) if rows else np.zeros((0, dim))


def n_noise_rows(t_eval, t0, substeps) -> int:
    """How many standard normal vectors :func:`integrate_sde_loop` consumes."""
    t_eval = np.asarray(t_eval, dtype=np.float64)
    intervals = t_eval.size - 1 + (1 if t_eval[0] > t0 else 0)
    return intervals * int(substeps)


def integrate_sde(compiled, y0, t_eval, sigma, *, t0=None, substeps=None, max_step=None,
                  rng=None, seed=None, xi=None, check=True):
    """Integrate ``dy = f(t, y) dt + diag(sigma) dW`` and sample it at ``t_eval``.

    Parameters
    ----------
    compiled : CompiledSystem (not a delay system)
    y0 : (dim,) initial state
    t_eval : (n,) strictly increasing output times, ``t_eval[0] >= t0``
    sigma : float or (dim,) diffusion amplitudes (state units per sqrt(time unit))
    t0 : float, optional
        Start time (default ``t_eval[0]``).
    substeps : int, optional
        Steps per output interval. Default: enough that ``h <= max_step``.
    max_step : float, optional
        Largest step (default :func:`default_max_step`: ``min(period / 5000, dt / 4)``).
    rng : numpy.random.Generator, optional
        Source of the Brownian increments (default ``numpy.random.default_rng(seed)``).
    xi : (n_noise_rows, dim) array, optional
        The standard normal variates themselves (overrides ``rng``/``seed``).
    check : bool
        Raise :class:`~dysts_bench.solvers.IntegrationError` when the state blows up
        (else return NaNs from that point on).

    Returns
    -------
    y : (n, dim) array
    """
    from . import IntegrationError
    system = compiled.system
    if system.delay:
        raise IntegrationError(f"{system.name} is a delay system: use "
                               "dysts_bench.solvers.sdde.integrate_sdde")
    y0, t_eval, t0 = check_inputs(compiled, y0, t_eval, t0, batch=False)
    dim = compiled.dim
    sigma = np.array(np.broadcast_to(np.asarray(sigma, dtype=np.float64), (dim,)), order="C")
    if np.any(sigma < 0) or not np.all(np.isfinite(sigma)):
        raise ValueError("sigma must be finite and non-negative")
    if substeps is None:
        max_step = float(default_max_step(system) if max_step is None else max_step)
        if not max_step > 0:
            raise ValueError("max_step must be positive")
        widths = np.diff(np.concatenate([[t0], t_eval]))
        widest = float(widths.max()) if widths.size else 0.0
        substeps = max(1, math.ceil(widest / max_step * (1 - 1e-12)))
    substeps = int(substeps)
    if substeps < 1:
        raise ValueError("substeps must be a positive integer")
    rows = n_noise_rows(t_eval, t0, substeps)
    xi = standard_normals(rows, dim, xi=xi, rng=rng, seed=seed)
    out = np.full((t_eval.size, dim), np.nan)
    status = integrate_sde_loop(compiled.rhs, compiled.params, t0, y0, t_eval, sigma,
                                substeps, xi, out)
    if status != SUCCESS and check:
        raise IntegrationError(f"{system.name}: state became NaN or infinite in the SDE "
                               f"integration (sigma={sigma.tolist()}, substeps={substeps})")
    return out

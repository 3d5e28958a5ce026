"""Step-size control shared by every adaptive method: error norms, the step factor and
the starting step. Pure compiled functions on small vectors, inlined into the loops at
numba's IR level (``inline="always"``): compiled as functions of their own they added about
a third to the first compile of a loop, for no speed."""

import math

from numba import njit

#: Status codes of every integration loop (``Stats.status``): why it stopped.
SUCCESS, MAX_STEPS, STEP_UNDERFLOW, NON_FINITE = 0, 1, 2, 3

SAFETY = 0.9
MIN_FACTOR = 0.2
MAX_FACTOR = 10.0


@njit(cache=True, nogil=True, inline="always")
def error_scale(y, y_new, rtol, atol, scale):
    """Per-component tolerance ``atol + rtol * max(|y|, |y_new|)`` written into ``scale``."""
    for i in range(y.size):
        scale[i] = atol + rtol * max(abs(y[i]), abs(y_new[i]))


@njit(cache=True, nogil=True, inline="always")
def rms_norm(v, scale):
    acc = 0.0
    for i in range(v.size):
        r = v[i] / scale[i]
        acc += r * r
    return math.sqrt(acc / v.size)


@njit(cache=True, nogil=True, inline="always")
def samples_at_start(t_eval, t0, y0, out):
    """Copy ``y0`` into the output rows whose time is at or before ``t0``; returns the
    index of the first row the time loop has to fill."""
    i = 0
    while i < t_eval.size and t_eval[i] <= t0:
        # element by element: a row assignment pulls numba's shape-mismatch error
        # formatting (string code) into every loop that calls this, seconds of compile
        for m in range(y0.size):
            out[i, m] = y0[m]
        i += 1
    return i


@njit(cache=True, nogil=True, inline="always")
def budget_status(n_steps, max_steps, h, t):
    """Whether an adaptive loop may take another step: SUCCESS yes, MAX_STEPS the step
    budget is spent, STEP_UNDERFLOW the step has shrunk below what ``t`` can resolve
    (stiff or singular), NON_FINITE the step is NaN (the right-hand side was not finite
    where the step was chosen); without this a NaN step fails every comparison and the
    loop never ends."""
    if n_steps >= max_steps:
        return MAX_STEPS
    if not math.isfinite(h):
        return NON_FINITE
    if h < 1e-14 * max(1.0, abs(t)):
        return STEP_UNDERFLOW
    return SUCCESS


@njit(cache=True, nogil=True, inline="always")
def step_factor(err, exponent, rejected):
    """Multiplier for the next step from the scaled error (1 = exactly at tolerance).

    The classical controller ``safety * err**(-exponent)``, clipped; after a rejection
    the step may only shrink.
    """
    if err == 0.0:
        factor = MAX_FACTOR
    else:
        factor = min(MAX_FACTOR, max(MIN_FACTOR, SAFETY * err ** (-exponent)))
    if rejected:
        factor = min(1.0, factor)
    return factor


@njit(cache=True, nogil=True, inline="always")
def trial_step(y0, f0, rtol, atol):
    """First half of the starting-step rule (Hairer, Nørsett & Wanner, Solving ODEs I,
    section II.4): returns (h0, d1), h0 a trial step from the solution's scale and slope."""
    n = y0.size
    d0 = 0.0
    d1 = 0.0
    for i in range(n):
        sc = atol + rtol * abs(y0[i])
        d0 += (y0[i] / sc) ** 2
        d1 += (f0[i] / sc) ** 2
    d0 = math.sqrt(d0 / n)
    d1 = math.sqrt(d1 / n)
    if not math.isfinite(d1):
        return math.nan, d1  # f(y0) is not finite: no step exists (the loop ends, status 3)
    h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
    return h0, d1


@njit(cache=True, nogil=True, inline="always")
def starting_step(y0, f0, f1, h0, d1, rtol, atol, exponent):
    """Second half: given f1 = f at (t0 + h0, y0 + h0 f0), the step from the curvature."""
    if not math.isfinite(h0):
        return h0
    n = y0.size
    d2 = 0.0
    for i in range(n):
        sc = atol + rtol * abs(y0[i])
        d2 += ((f1[i] - f0[i]) / sc) ** 2
    d2 = math.sqrt(d2 / n) / h0
    if max(d1, d2) <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** exponent
    return min(100.0 * h0, h1)


@njit(cache=True, nogil=True, inline="always")
def initial_step(f, t0, y0, f0, p, rtol, atol, exponent, ytmp, ftmp):
    """Starting step for an ODE right-hand side ``f``; costs one evaluation."""
    h0, d1 = trial_step(y0, f0, rtol, atol)
    for i in range(y0.size):
        ytmp[i] = y0[i] + h0 * f0[i]
    f(t0 + h0, ytmp, p, ftmp)
    return starting_step(y0, f0, ftmp, h0, d1, rtol, atol, exponent)

"""Integrator speed: our compiled loop vs scipy.solve_ivp (same RHS, same tolerance),
vs the bare right-hand-side floor, and vs the reference package dysts."""

from __future__ import annotations

import numpy as np
from numba import njit, types
from scipy.integrate import solve_ivp

from dysts_bench import compile_system, get_system, make_trajectory
from dysts_bench.compile import RHS_SIG
from dysts_bench.solvers import integrate
from dysts_bench.trajectory import sampling_interval

from .harness import Section, fmt, ratio, summary, timeit


@njit(types.float64(types.FunctionType(RHS_SIG), types.float64[::1], types.float64[::1],
                    types.int64), cache=True)
def _rhs_floor(f, y, p, n):
    """n right-hand-side calls through the same first-class function pointer the
    integrator uses, each on a slightly different state (so nothing is hoisted)."""
    out = np.empty(y.size)
    x = y.copy()
    acc = 0.0
    for i in range(n):
        x[0] = y[0] + 1e-12 * i
        f(0.0, x, p, out)
        acc += out[0]
    return acc


def _tight_reference(system, t):
    y, _ = integrate(compile_system(system), system.initial_condition, t, rtol=1e-13, atol=1e-13)
    return y


def run(quick: bool):
    repeats = 3 if quick else 7
    n_points = 2000 if quick else 10_000
    system = get_system("Lorenz")
    compiled = compile_system(system)
    t = np.arange(n_points) * sampling_interval(system, 100)
    y0 = np.asarray(system.initial_condition)
    tol = 1e-10

    section = Section(
        f"Integrator: Lorenz, {n_points} points at 100 per period (t = 0..{t[-1]:.0f})",
        ["what", "time (median, min–max)", "vs ours", "max error vs rtol=1e-13 run"],
        notes=f"Same compiled right-hand side and tolerance (rtol = atol = {tol:g}) for both "
              "integrators; scipy calls it through a Python wrapper, as a user of scipy would.")
    reference = _tight_reference(system, t)

    ours_t = timeit(lambda: integrate(compiled, y0, t, rtol=tol, atol=tol), repeats)
    ours_y, stats = integrate(compiled, y0, t, rtol=tol, atol=tol)

    p = compiled.params
    rhs = compiled.rhs

    def wrapped(tt, u):
        out = np.empty(3)
        rhs(tt, u, p, out)
        return out

    def scipy_run():
        return solve_ivp(wrapped, (0, t[-1]), y0, method="DOP853", t_eval=t, rtol=tol, atol=tol).y.T

    scipy_t = timeit(scipy_run, max(1, repeats // 2), warmup=0)
    scipy_y = scipy_run()

    floor_t = timeit(lambda: _rhs_floor(rhs, y0, p, stats.n_fev), repeats)
    err = lambda y: f"{np.max(np.abs(y - reference)[: n_points // 10]):.1e} (first 10%)"  # noqa: E731
    section.rows += [
        ["dysts-bench DOP853 (compiled loop)", summary(ours_t), "1x", err(ours_y)],
        ["scipy solve_ivp DOP853, same RHS", summary(scipy_t), ratio(scipy_t, ours_t), err(scipy_y)],
        [f"RHS floor: {stats.n_fev} bare RHS calls", summary(floor_t),
         f"loop = {np.median(ours_t) / np.median(floor_t):.2f}x floor", "-"],
        ["steps / second (ours)", f"{stats.n_steps / np.median(ours_t):,.0f}", "-",
         f"{stats.n_steps} steps, {stats.n_rejected} rejected"],
    ]

    # The floor ratio depends on how costly the right-hand side is against the loop's own
    # arithmetic (~600 flops per DOP853 step for 3 variables, plus dense output).
    for name in ("DoublePendulum", "MacArthur"):
        other = get_system(name)
        comp = compile_system(other)
        tt = np.arange(n_points) * sampling_interval(other, 100)
        ic = np.asarray(other.initial_condition)
        run_t = timeit(lambda: integrate(comp, ic, tt, rtol=tol, atol=tol), repeats)
        _, st = integrate(comp, ic, tt, rtol=tol, atol=tol)
        fl_t = timeit(lambda: _rhs_floor(comp.rhs, ic, comp.params, st.n_fev), repeats)
        section.rows.append([f"{name} (dim {other.dim}): loop vs its RHS floor", summary(run_t),
                             f"loop = {np.median(run_t) / np.median(fl_t):.2f}x floor",
                             f"{st.n_steps} steps"])

    try:
        import dysts.flows
    except ImportError:
        section.rows.append(["dysts 0.96", "not installed", "-", "-"])
        return [section]
    n_ref = 1000
    ref_model = dysts.flows.Lorenz()
    for label, kwargs in [("dysts make_trajectory default (Radau, 1e-12)", {}),
                          ("dysts make_trajectory method=DOP853", {"method": "DOP853"})]:
        if quick and not kwargs:
            continue  # ~18 s a call: only in the full run
        ref_t = timeit(lambda: ref_model.make_trajectory(n_ref, pts_per_period=100, **kwargs),
                       1 if quick else 3, warmup=0)
        our_ref_t = timeit(lambda: make_trajectory("Lorenz", n_ref), repeats)
        section.rows.append([f"{label}, {n_ref} points", summary(ref_t),
                             ratio(ref_t, our_ref_t) + f" (ours {fmt(np.median(our_ref_t))})", "-"])
    return [section]

"""Integrator speed: our compiled loop vs scipy.solve_ivp (same RHS, same tolerance),
vs the bare right-hand-side floor, and vs the reference package dysts."""

from __future__ import annotations

import numpy as np
from numba import njit, types
from scipy.integrate import solve_ivp

from dysts_bench import compile_system, get_system, make_trajectory
from dysts_bench.compile import RHS_SIG
from dysts_bench.solvers import EXPLICIT, integrate
from dysts_bench.solvers.erk import METHOD_TYPES
from dysts_bench.solvers.specialise import compile_tableau
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


@njit(RHS_SIG, cache=True)
def _no_op_rhs(t, y, p, out):
    """Computes nothing: with it the loop pieces measure their own arithmetic."""


@njit(types.float64(types.FunctionType(RHS_SIG), types.float64[::1], types.float64[::1],
                    *METHOD_TYPES, types.int64, types.int64, types.int64),
      cache=True)
def _arithmetic_floor(f, y0, p, step, error, dense, interpolate, n_stages, n_main, n_coef,
                      error_order, n_trials, n_dense, n_samples):
    """The Runge–Kutta arithmetic of a run (stage sums, error norms, dense coefficients,
    interpolation), called as often as the run called it, around a no-op RHS."""
    n = y0.size
    K = np.ones((n_stages, n))
    F = np.ones((n_coef, n))
    y = y0.copy()
    y_new = np.empty(n)
    ytmp = np.empty(n)
    kbuf = np.zeros(n)
    out = np.empty((1, n))
    acc = 0.0
    for i in range(n_trials):
        step(f, 0.0, y, 1e-3, p, K, ytmp, y_new, kbuf)
        acc += error(K, 1e-3, y, y_new, 1e-10, 1e-10)
    for i in range(n_dense):
        dense(f, 0.0, y, y_new, 1e-3, p, K, ytmp, kbuf, F)
    for i in range(n_samples):
        interpolate(y, F, 0.5, out, 0)
    return acc + out[0, 0]


def floors(compiled, y0, t, tol, repeats, method="dop853"):
    """(loop, RHS floor, arithmetic floor) timings of one integration, and its stats."""
    run_t = timeit(lambda: integrate(compiled, y0, t, rtol=tol, atol=tol, method=method), repeats)
    _, st = integrate(compiled, y0, t, rtol=tol, atol=tol, method=method)
    fl_t = timeit(lambda: _rhs_floor(compiled.rhs, y0, compiled.params, st.n_fev), repeats)
    tab = compile_tableau(EXPLICIT[method])
    n_trials = st.n_steps + st.n_rejected
    extra = tab.n_stages - tab.n_main - 1  # dense-output stages per sampled step
    n_dense = (st.n_fev - 2 - tab.n_main * n_trials) // extra if extra else st.n_steps
    ar_t = timeit(lambda: _arithmetic_floor(_no_op_rhs, y0, compiled.params, *tab.loop_args,
                                            n_trials, n_dense, t.size), repeats)
    return run_t, fl_t, ar_t, st


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

    err = lambda y: f"{np.max(np.abs(y - reference)[: n_points // 10]):.1e} (first 10%)"  # noqa: E731
    section.rows += [
        ["dysts-bench DOP853 (compiled loop)", summary(ours_t), "1x", err(ours_y)],
        ["scipy solve_ivp DOP853, same RHS", summary(scipy_t), ratio(scipy_t, ours_t), err(scipy_y)],
        ["steps / second (ours)", f"{stats.n_steps / np.median(ours_t):,.0f}", "-",
         f"{stats.n_steps} steps, {stats.n_rejected} rejected"],
    ]
    sections = [section, _floor_section(n_points, tol, repeats)]

    try:
        import dysts.flows
    except ImportError:
        section.rows.append(["dysts 0.96", "not installed", "-", "-"])
        return sections
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
    return sections


def _floor_section(n_points, tol, repeats):
    section = Section(
        f"Integrator loop against its floors ({n_points} points at 100 per period, "
        f"rtol = atol = {tol:g})",
        ["system (dim), method", "loop", "RHS floor", "RK arithmetic floor", "loop / RHS floor",
         "loop / (RHS + arithmetic)"],
        notes="RHS floor: the run's right-hand-side evaluations alone, as bare calls through "
              "the same function pointer. RK arithmetic floor: the run's stage sums, error "
              "norms, dense-output coefficients and interpolations alone, as many as the run "
              "made, around a no-op right-hand side. The loop's own overhead is what exceeds "
              "their sum. For Lorenz (5 flops per RHS call) the DOP853 arithmetic, ~150 "
              "multiply-adds per variable per step, outweighs the model itself; the tableau "
              "sets that cost, and the stage sums are already specialised to it "
              "(`dysts_bench/solvers/specialise.py`: literal coefficients, zeros skipped).")
    for name, method in [("Lorenz", "dop853"), ("Lorenz", "dopri5"), ("DoublePendulum", "dop853"),
                         ("MacArthur", "dop853"), ("Lorenz96", "dop853")]:
        system = get_system(name)
        compiled = compile_system(system)
        t = np.arange(n_points) * sampling_interval(system, 100)
        y0 = np.asarray(system.initial_condition, dtype=float)
        run_t, fl_t, ar_t, st = floors(compiled, y0, t, tol, repeats, method)
        loop, rhs, arith = (float(np.median(x)) for x in (run_t, fl_t, ar_t))
        section.rows.append([f"{name} ({system.dim}), {method}", summary(run_t), fmt(rhs),
                             fmt(arith), f"{loop / rhs:.2f}x", f"{loop / (rhs + arith):.2f}x"])
    return section

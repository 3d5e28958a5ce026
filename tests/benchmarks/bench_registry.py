"""Trajectory generation for every system: dysts-bench vs the reference package dysts
0.96 (default Radau and DOP853, rtol = atol = 1e-12), cold and warm compile cache."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

from dysts_bench import get_system, list_systems, make_trajectory

from .harness import Section, fmt

_GENERATE_ALL = """
import json, sys, time
t0 = time.perf_counter()
from dysts_bench import list_systems, make_trajectory
t1 = time.perf_counter()
names = json.loads(sys.argv[1])
for name in names:
    make_trajectory(name, 1000)
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "generate": t2 - t1}))
"""


def _subprocess_run(names, cache):
    env = {**os.environ, "DYSTS_BENCH_CACHE_DIR": cache, "NUMBA_CACHE_DIR": cache}
    out = subprocess.run([sys.executable, "-c", _GENERATE_ALL, json.dumps(names)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _dysts_run(name, **kwargs):
    """(seconds, times, states) of dysts' default 1000-point trajectory (no post-processing)."""
    import dysts.flows
    model = getattr(dysts.flows, name)()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        t, y = model.make_trajectory(1000, pts_per_period=100, return_times=True,
                                     postprocess=False, **kwargs)
        return time.perf_counter() - t0, t, y


def _dysts_time(name, **kwargs):
    return _dysts_run(name, **kwargs)[0]


def _error_vs_tight(t, y, rhs, y0, first=100):
    """Max error over the first ``first`` samples (before chaos amplifies differences)
    against scipy DOP853 at rtol = atol = 1e-13 on the same right-hand side and times,
    relative to the trajectory's standard deviation."""
    from scipy.integrate import solve_ivp
    ref = solve_ivp(rhs, (t[0], t[first - 1]), y0, method="DOP853", t_eval=t[:first],
                    rtol=1e-13, atol=1e-13).y.T
    return float(np.max(np.abs(y[:first] - ref)) / (np.std(y, axis=0).max() + 1e-300))


def _accuracy(name, dysts_runs):
    """(ours, ours at 1e-13, dysts Radau, dysts DOP853) errors of the default trajectory;
    ``dysts_runs`` maps method to an already computed (seconds, t, y) of dysts."""
    import dysts.flows
    from dysts_bench import compile_system
    from dysts_bench.solvers import integrate
    system = get_system(name)
    compiled = compile_system(system)
    t, _ = make_trajectory(system, 1000)
    y, _ = integrate(compiled, system.initial_condition, t, t0=0.0)  # before output maps

    def ours_rhs(tt, u):
        out = np.empty(system.dim)
        compiled.rhs(tt, u, compiled.params, out)
        return out

    errors = [_error_vs_tight(t, y, ours_rhs, np.asarray(system.initial_condition))]
    tight, _ = integrate(compiled, system.initial_condition, t, t0=0.0, rtol=1e-13, atol=1e-13)
    errors.append(_error_vs_tight(t, tight, ours_rhs, np.asarray(system.initial_condition)))
    model = getattr(dysts.flows, name)()
    for method in ("Radau", "DOP853"):
        _, tt, yy = dysts_runs[method]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            errors.append(_error_vs_tight(tt, yy, lambda a, u: np.asarray(model.rhs(u, a), float),
                                          np.asarray(model.ic, dtype=float)))
    return errors


def run(quick: bool):
    names = [n for n in list_systems() if not get_system(n).delay]
    if quick:
        names = names[:5]
    section = Section(
        f"Default trajectory (1000 points, 100 per period) for {len(names)} systems",
        ["what", "total wall time", "vs ours (warm)"],
        notes="Cold: a fresh process with empty compile caches (numba compiles the integrator "
              "once and every right-hand side). Warm: a fresh process whose caches are filled. "
              "In-process: compiled functions already loaded.")
    with tempfile.TemporaryDirectory() as cache:
        cold = _subprocess_run(names, cache)
        warm = _subprocess_run(names, cache)
    for name in names:
        make_trajectory(name, 1000)
    t0 = time.perf_counter()
    for name in names:
        make_trajectory(name, 1000)
    in_process = time.perf_counter() - t0
    t0 = time.perf_counter()
    for name in names:
        make_trajectory(name, 1000, rtol=1e-13, atol=1e-13)
    in_process_tight = time.perf_counter() - t0
    warm_total = warm["import"] + warm["generate"]
    section.rows += [
        ["dysts-bench, cold cache (import + compile + integrate)",
         fmt(cold["import"] + cold["generate"]), "-"],
        ["dysts-bench, warm cache (import + load + integrate)", fmt(warm_total), "1x"],
        ["dysts-bench, in-process (integrate only)", fmt(in_process), "-"],
        ["dysts-bench, in-process, rtol = atol = 1e-13", fmt(in_process_tight), "-"],
    ]
    try:
        import dysts  # noqa: F401
    except ImportError:
        section.rows.append(["dysts 0.96", "not installed", "-"])
        return [section]
    common = [n for n in names if _has_reference(n)]
    dop = [_dysts_time(n, method="DOP853") for n in common]
    section.rows.append([f"dysts make_trajectory(1000, method='DOP853'), {len(common)} systems",
                         fmt(sum(dop)), f"{sum(dop) / warm_total:.0f}x slower"])
    # The default (Radau) takes ~10 s per system: time a spread-out subset.
    subset = common[:: (1 if quick else 5)][: (2 if quick else None)]
    runs = {n: {"Radau": _dysts_run(n), "DOP853": _dysts_run(n, method="DOP853")} for n in subset}
    radau = [runs[n]["Radau"][0] for n in subset]
    ours_subset = []
    for n in subset:
        t0 = time.perf_counter()
        make_trajectory(n, 1000)
        ours_subset.append(time.perf_counter() - t0)
    per_system = [r / max(o, 1e-9) for r, o in zip(radau, ours_subset)]
    section.rows.append([f"dysts make_trajectory(1000) default Radau, {len(subset)} systems "
                         f"(every {'' if quick else '5th'} system)", fmt(sum(radau)),
                         f"median {statistics.median(per_system):.0f}x slower per system "
                         f"(in-process), extrapolated to all {len(common)}: "
                         f"{fmt(sum(radau) * len(common) / len(subset))}"])
    accuracy = Section(
        f"Accuracy of the default trajectories ({len(subset)} systems)",
        ["system", "dysts-bench (DOP853, 1e-12)", "dysts-bench (DOP853, 1e-13)",
         "dysts Radau (1e-12)", "dysts DOP853 (1e-12)"],
        notes="Max error over the first 100 samples against scipy DOP853 at rtol = atol = 1e-13 "
              "on the same right-hand side and sample times, relative to the trajectory's "
              "largest standard deviation (each package on its own equations and period).")
    for name in subset:
        try:
            accuracy.rows.append([name, *(f"{e:.1e}" for e in _accuracy(name, runs[name]))])
        except Exception as exc:  # a reference failure is reported, not fatal
            accuracy.rows.append([name, f"failed: {type(exc).__name__}", "-", "-", "-"])
    return [section, accuracy]


def _has_reference(name):
    import dysts.flows
    return hasattr(dysts.flows, name)

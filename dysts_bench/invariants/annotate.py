"""The annotate orchestration: compute every invariant of each system and write them,
with their methods and settings, into ``systems.json`` (``dysts-bench annotate``).
"""

from __future__ import annotations

import numpy as np

from ..compile import compile_system
from ..registry import get_system
from ..solvers import IntegrationError
from ..trajectory import make_trajectory
from .delay import delay_as_ode, delay_max_lyapunov_direct
from .numerics import (PERIOD_METHOD, correlation_dimension, estimate_period, integration_step,
                       kaplan_yorke_dimension, lyapunov_spectrum)

#: Settings of the stored annotation (change them and re-run ``dysts-bench annotate``).
ANNOTATE_SETTINGS = {"lyapunov_periods": 1000, "period_estimate_periods": 200,
                     "correlation_points": 2000, "correlation_periods": 500}


def annotate_system(name: str, settings=None) -> dict:
    """Compute every invariant of one system. Returns the new ``period``, ``dt`` and the
    ``invariants`` object for ``systems.json`` (values, uncertainties, methods, settings).

    Deterministic: no random numbers are drawn; the same inputs give the same output.
    """
    from dataclasses import replace as _replace  # a System with another period
    cfg = {**ANNOTATE_SETTINGS, **(settings or {})}
    system = get_system(name)
    if cfg.get("chaos_only"):
        return {"chaos": chaos_label(system)}
    if system.delay:
        result = annotate_delay_system(system, cfg)
        result["invariants"]["chaos"] = chaos_label(system)
        return result
    period = estimate_period(system, n_periods=cfg["period_estimate_periods"])
    system = _replace(system, period=period)
    dt = integration_step(system)
    lyap = lyapunov_spectrum(system, n_periods=cfg["lyapunov_periods"])
    spectrum = [float(v) for v in lyap["spectrum"]]
    _, y = make_trajectory(system, int(cfg["correlation_periods"] * 25), pts_per_period=25,
                           rtol=1e-10, atol=1e-10)
    return {
        "period": period,
        "dt": dt,
        "invariants": {
            "maximum_lyapunov": spectrum[0],
            "lyapunov_spectrum": spectrum,
            "lyapunov_stderr": [float(v) for v in lyap["stderr"]],
            "kaplan_yorke_dimension": kaplan_yorke_dimension(spectrum),
            "correlation_dimension": correlation_dimension(y, n_points=cfg["correlation_points"]),
            "pesin_entropy": float(sum(v for v in spectrum if v > 0)),
            "chaos": chaos_label(system),
            "methods": {
                "lyapunov": lyap["settings"],
                "period": {"method": PERIOD_METHOD,
                           "n_periods": cfg["period_estimate_periods"], "pts_per_period": 100},
                "dt": "mean accepted DOP853 step at rtol = atol = 1e-10 over 50 periods",
                "correlation_dimension": {
                    "method": "Grassberger-Procaccia, C(r) fitted between its 0.5% and 5% "
                              "levels, standardised coordinates",
                    "n_points": cfg["correlation_points"],
                    "trajectory_periods": cfg["correlation_periods"]},
                "pesin_entropy": "sum of the positive Lyapunov exponents (an upper bound of "
                                 "the Kolmogorov-Sinai entropy)",
            },
        },
    }


def annotate_delay_system(system, cfg, n_nodes=24, k=6) -> dict:
    """Invariants of a scalar delay system: the published period (see below), dt from
    the DDE integrator, the leading ``k`` Lyapunov exponents of the pseudospectral ODE
    approximation (:func:`delay_as_ode`); the Kaplan-Yorke dimension is a lower bound
    when the ``k`` exponents still sum to a positive number."""
    from dataclasses import replace as _replace  # a System with another period
    from ..solvers.dde import integrate_delay
    compiled = compile_system(system)
    # The published period is kept: delay systems have broadband spectra whose highest
    # peak lies at 10-50x the delay (Ikeda: ~60-160 time units against a delay of 2), and
    # 100 samples per such a "period" would not resolve their fast dynamics.
    period = system.period
    system = _replace(system, period=period)
    T = 50 * period
    _, stats = integrate_delay(compiled, system.initial_condition, np.array([0.0, T]))
    ode = _replace(delay_as_ode(system, n_nodes), period=period)
    try:
        lyap = lyapunov_spectrum(ode, k=k, n_periods=cfg["lyapunov_periods"] // 2)
        lyap_method = (f"leading {k} exponents of the pseudospectral ODE approximation "
                       f"({n_nodes + 1} Chebyshev nodes on the history, Breda-Maset-"
                       "Vermiglio 2005), Benettin QR")
    except IntegrationError as exc:
        # Some approximations cannot be integrated (VossDelay): fall back to the direct
        # method, which gives the maximum exponent only.
        direct = delay_max_lyapunov_direct(system)
        lyap = {"spectrum": np.array([direct["maximum_lyapunov"]]),
                "stderr": np.array([direct["stderr"]]), "settings": direct["settings"]}
        lyap_method = direct["settings"]["method"] + f" (pseudospectral approximation failed: {exc})"
    spectrum = [float(v) for v in lyap["spectrum"]]
    _, y = make_trajectory(system, int(cfg["correlation_periods"] * 25), pts_per_period=25)
    return {
        "period": period, "dt": T / max(1, stats.n_steps),
        "invariants": {
            "maximum_lyapunov": spectrum[0],
            "lyapunov_spectrum": spectrum,
            "lyapunov_stderr": [float(v) for v in lyap["stderr"]],
            "kaplan_yorke_dimension": kaplan_yorke_dimension(spectrum) if len(spectrum) > 1 else None,
            "correlation_dimension": correlation_dimension(y, n_points=cfg["correlation_points"]),
            "pesin_entropy": float(sum(v for v in spectrum if v > 0)) if len(spectrum) > 1 else None,
            "methods": {
                "lyapunov": {**lyap["settings"], "method": lyap_method},
                "period": "kept from the published database (broadband spectrum: the "
                          "spectral peak would undersample the fast dynamics)",
                "dt": "mean accepted step of the DDE integrator (DOP853, rtol = atol = 1e-10) "
                      "over 50 periods",
                "correlation_dimension": "Grassberger-Procaccia on the 10-lag embedded trajectory",
                "kaplan_yorke_dimension": f"from the leading {k} exponents (a lower bound if "
                                          "their sum is positive)",
            },
        },
    }


def chaos_label(system) -> dict:
    """``invariants.chaos`` of a system (:func:`dysts_bench.chaos.classify`); delay
    systems are classified through their pseudospectral ODE approximation."""
    from ..chaos import classify
    system = get_system(system)
    if system.delay:
        # The 25-dimensional approximation costs ~20x an ODE system: shorter runs.
        result = classify(delay_as_ode(system), {"lyapunov_periods": 200, "end_periods": 500})
        result["method"] += "; on the pseudospectral ODE approximation (25 nodes)"
        return result
    return classify(system)


def _annotate_worker(args):
    name, settings = args
    import os
    import sys
    import time
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    t0 = time.perf_counter()
    try:
        result, error = annotate_system(name, settings), None
    except Exception as exc:  # recorded and reported; the other systems go on
        result, error = None, f"{type(exc).__name__}: {exc}"
    if os.environ.get("DYSTS_BENCH_VERBOSE"):
        print(f"{name}: {time.perf_counter() - t0:.1f} s {error or ''}", file=sys.stderr, flush=True)
    return name, result, error


def annotate(names=None, *, workers=1, settings=None, path=None, progress=True):
    """Recompute the invariants of ``names`` (default: all systems) in parallel
    and write them into the registry file atomically. Returns {name: error} for failures.
    ``settings={"chaos_only": True}`` recomputes only the chaos label (``invariants.chaos``)
    and leaves every other stored number as it is."""
    import json
    from concurrent.futures import ProcessPoolExecutor

    from ..registry import default_path, list_systems, write_registry
    path = default_path() if path is None else path
    raw = json.loads(open(path).read())
    names = list(names or list_systems())
    unknown = [n for n in names if n not in raw["systems"]]
    if unknown:
        get_system(unknown[0])  # raises with suggestions
    jobs = [(n, settings) for n in names]
    errors = {}
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(_progress(pool.map(_annotate_worker, jobs), len(jobs), progress))
    else:
        results = list(_progress(map(_annotate_worker, jobs), len(jobs), progress))
    for name, result, error in results:
        if error:
            errors[name] = error
            continue
        entry = raw["systems"][name]
        if "chaos" in result and "invariants" not in result:  # classification only
            entry.setdefault("invariants", {})["chaos"] = result["chaos"]
            continue
        entry["period"] = result["period"]
        entry["dt"] = result["dt"]
        entry["invariants"] = result["invariants"]
    write_registry(raw, path)
    return errors


def _progress(iterable, total, enabled):
    if not enabled:
        return iterable
    from rich.progress import track
    return track(iterable, total=total, description="annotating")

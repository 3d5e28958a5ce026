"""Invariants computed by the project: Lyapunov spectrum, Kaplan–Yorke and correlation
dimensions, dominant period, integration step, Pesin entropy.

Every function documents its method and settings, and :func:`annotate_system` returns
them together with the values so that ``systems.json`` records how each number was made.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types

from .compile import RHS_SIG, compile_system, compile_tangent
from .fractal import gp_dimension
from .registry import get_system
from .solvers import DOP853, IntegrationError, integrate
from .solvers.erk import METHOD_TYPES, STATUS_TEXT, integrate_erk
from .solvers.specialise import compile_tableau
from .trajectory import make_trajectory

_V = types.float64[::1]


# ---------------------------------------------------------------- Lyapunov spectrum
@njit(types.int64(types.FunctionType(RHS_SIG), _V, _V, types.int64, types.int64, types.float64,
                  types.int64, types.float64, types.float64, *METHOD_TYPES, types.float64[:, ::1]),
      cache=True, nogil=True)
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
    from . import expressions as ex
    from .registry import evaluate_on_states
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


def kaplan_yorke_dimension(spectrum) -> float:
    """D_KY = j + (λ_1 + ... + λ_j) / |λ_{j+1}|, with j the largest index whose partial
    sum is non-negative (Kaplan & Yorke 1979). 0 if λ_1 < 0; the dimension of phase
    space if all partial sums are non-negative."""
    lam = np.sort(np.asarray(spectrum, dtype=float))[::-1]
    partial = np.cumsum(lam)
    if lam[0] < 0:
        return 0.0
    j = int(np.max(np.nonzero(partial >= 0)[0])) + 1
    if j == len(lam):
        return float(len(lam))
    return float(j + partial[j - 1] / abs(lam[j]))


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
    from .trajectory import observe
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


# ---------------------------------------------------------------------------- annotate
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
    from .solvers.dde import integrate_delay
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
    from .chaos import classify
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

    from .registry import default_path, list_systems, write_registry
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


def reference_exponents() -> dict:
    """Maximum exponents stored by the reference package dysts 0.96 (if installed)."""
    import json
    import os
    try:
        import dysts
    except ImportError:
        return {}
    path = os.path.join(os.path.dirname(dysts.__file__), "data", "chaotic_attractors.json")
    with open(path) as fh:
        data = json.load(fh)
    return {k: v.get("maximum_lyapunov_estimated") for k, v in data.items()}


def lyapunov_report(explanations=None) -> str:
    """Markdown table: for every annotated system, its chaos label, our maximum exponent
    (± standard error), the reference package's stored value and their relative difference,
    with the reason for every difference above 20%; then the count of each label."""
    from .registry import CHAOS_LABELS, list_systems
    ref = reference_exponents()
    explanations = explanations or {}
    lines = ["| system | label | ours λ_max ± s.e. | dysts 0.96 | rel. diff. | note |",
             "|---|---|---|---|---|---|"]
    by_label = {label: [] for label in CHAOS_LABELS}
    for name in list_systems():
        s = get_system(name)
        by_label[s.chaos_label].append(name)
        inv = s.invariants
        if "maximum_lyapunov" not in inv:
            lines.append(f"| {name} | {s.chaos_label} | not annotated | {ref.get(name, '–')} | – | "
                         f"{explanations.get(name, 'see the entry notes')} |")
            continue
        ours = inv["maximum_lyapunov"]
        se = inv.get("lyapunov_stderr", [float("nan")])[0]
        theirs = ref.get(name)
        if theirs is None:
            lines.append(f"| {name} | {s.chaos_label} | {ours:.4g} ± {se:.2g} | – | – | "
                         "not in the reference |")
            continue
        diff = (theirs - ours) / abs(ours) if ours else float("inf")
        note = explanations.get(name, "")
        if not note and (abs(diff) > 0.2 or s.chaos_label != "chaotic"):
            note = _explain(s, ours, se, theirs)
        lines.append(f"| {name} | {s.chaos_label} | {ours:.4g} ± {se:.2g} | {theirs:.4g} | "
                     f"{diff:+.0%} | {note} |")
    lines += ["", "Chaos labels (`dysts_bench.chaos`, evidence in each entry's "
              "`invariants.chaos`, shown by `dysts-bench show NAME`): "
              + ", ".join(f"{label} {len(names)}" for label, names in by_label.items()) + "."]
    lines += [f"- {label}: {', '.join(names)}" for label, names in by_label.items()
              if names and label != "chaotic"]
    return "\n".join(lines) + "\n"


def _explain(system, ours, se, theirs) -> str:
    if system.delay and ours > 3 * se:
        return ("delay system: ours from the pseudospectral ODE approximation of the history "
                "(25 Chebyshev nodes), the reference's from its own finite-difference estimator "
                "on the 10-lag embedding")
    label = system.chaos_label
    if label == "transient":
        e = system.invariants["chaos"]["evidence"]
        note = (f"transient chaos: λ_max {e['early']:.2g} in the first half of the averaging "
                f"window, {e['late']:.2g} in the second; the orbit ends in an {e['end_state']} "
                "(the stored average mixes both regimes; skipped by the dataset protocol)")
    elif label == "not_chaotic":
        note = ("not chaotic at these parameters and this initial condition by our estimate "
                "(λ_max zero within its error, or the orbit settles on an equilibrium or a "
                "cycle); the reference's short average does not resolve it")
    elif label == "undetermined":
        note = "undetermined by the chaos rule: see its evidence (`dysts-bench show`)"
    elif system.invariants.get("chaos", {}).get("evidence", {}).get("stationary") is False:
        e = system.invariants["chaos"]["evidence"]
        note = (f"chaotic, but the exponent is not stationary: {e['early']:.2g} in the first "
                f"half of the window, {e['late']:.2g} in the second (a long first regime)")
    elif ours <= 3 * se or ours < 1e-4:
        note = "λ_max zero within its error over 1000 periods"
    elif se > 0.1 * abs(ours):
        note = "slowly converging average (intermittent dynamics): see the standard error"
    else:
        note = ("the reference steps a first-order (backward Euler) tangent map at the "
                "sampling interval and stops averaging as soon as an exponent estimate first "
                "nears zero, which biases and truncates its average; ours integrates the "
                "variational equations to tolerance and averages over 1000 periods")
    if system.discontinuous:
        note += (". The vector field jumps (sign/heaviside/where), so tangent dynamics from its "
                 "almost-everywhere Jacobian omit the saltation at the switching surfaces")
    if system.deviates_from_reference:
        note += ". The right-hand sides also differ: " + system.deviates_from_reference
    return note


# ------------------------------------------------------------------- delay systems
def chebyshev_differentiation(n: int):
    """Chebyshev points x_j = cos(pi j / n), j = 0..n, and the differentiation matrix D
    with (D u)(x_j) = u'(x_j) for polynomials of degree <= n (Trefethen, Spectral Methods
    in MATLAB, SIAM 2000, ch. 6)."""
    x = np.cos(np.pi * np.arange(n + 1) / n)
    c = np.ones(n + 1)
    c[0] = c[-1] = 2.0
    c *= (-1.0) ** np.arange(n + 1)
    dx = x[:, None] - x[None, :]
    D = np.outer(c, 1.0 / c) / (dx + np.eye(n + 1))
    D -= np.diag(D.sum(axis=1))
    return x, D


def delay_as_ode(system, n_nodes=24, history=None):
    """A finite-dimensional ODE approximating a scalar delay system, for its invariants.

    Pseudospectral discretisation of the history segment u(θ) = x(t + θ), θ in [-τ, 0]
    (Breda, Maset and Vermiglio, SIAM J. Sci. Comput. 27 (2005) 482-495): u is
    represented at the ``n_nodes + 1`` Chebyshev points θ_j = τ (x_j - 1) / 2, the
    transport ∂u/∂t = ∂u/∂θ becomes u_j' = Σ_k D_jk u_k for j >= 1, and the node θ_0 = 0
    carries the original equation with x(t - τ) = u_n. The spectrum converges
    exponentially in ``n_nodes`` for smooth solutions.

    Parameters
    ----------
    system : str or System (a delay system with one state variable)
    history : (n_nodes + 1,) array, optional
        Initial values at the nodes (θ_0 = 0 first); default: the delay system's own
        trajectory after a transient of 20 delays.
    """
    from . import expressions as ex
    from .registry import parse_entry
    system = get_system(system)
    if not system.delay or system.dim != 1:
        raise ValueError(f"{system.name}: delay_as_ode handles scalar delay systems")
    n = int(n_nodes)
    tau = system.tau
    xcheb, Dx = chebyshev_differentiation(n)
    theta = tau * (xcheb - 1.0) / 2.0          # 0 = θ_0 > θ_1 > ... > θ_n = -τ
    Dtheta = (2.0 / tau) * Dx
    var = system.variables[0]

    def names(node):
        if node[0] == "idx":
            return f"{node[1]}[{node[2]}]"
        if node[1] == "state":
            return "u0"
        if node[1] == "lag":
            return f"u{n}"
        return node[2]

    defs, eqs = system.trees
    if history is None:
        from .solvers.dde import integrate_delay
        compiled = compile_system(system)
        t_end = 20 * tau
        y, _ = integrate_delay(compiled, system.initial_condition, np.sort(t_end + theta))
        history = y[::-1, 0]  # back to θ_0 = 0 first
    entry = {
        "description": f"Pseudospectral ODE approximation of {system.name} ({n + 1} nodes)",
        "citation": system.citation,
        "variables": [f"u{j}" for j in range(n + 1)],
        "parameters": {**{k: (list(v) if isinstance(v, tuple) else v)
                          for k, v in system.parameters.items()},
                       "Dcheb": [float(v) for v in Dtheta[1:].reshape(-1)]},
        "definitions": [[aux, ex.to_source(tree, names, plain=True)]
                        for (aux, _), tree in zip(system.definitions, defs)],
        "equations": {"u0": ex.to_source(eqs[0], names, plain=True),
                      **{f"u{j}": " + ".join(f"Dcheb[{(j - 1) * (n + 1) + k}]*u{k}"
                                             for k in range(n + 1)) for j in range(1, n + 1)}},
        "initial_condition": [float(v) for v in history],
        "flags": {"nonautonomous": False, "delay": False, "hamiltonian": False},
        "dt": system.dt, "period": system.period,
    }
    if var != "u0" and var in entry["parameters"]:
        raise ValueError(f"{system.name}: parameter name clashes with the node names")
    return parse_entry(f"{system.name}_pseudospectral{n}", entry)


def delay_max_lyapunov_direct(system, *, n_pairs=12, separation=1e-9, horizon_periods=40,
                              transient_periods=50, seed_offset=7):
    """Maximum Lyapunov exponent of a delay system by the direct (two-trajectory) method.

    ``n_pairs`` starting points are taken along a trajectory on the attractor; from each,
    a reference and a copy whose constant history is displaced by ``separation`` are
    integrated for ``horizon_periods`` periods, and the slope of the mean log distance
    (over the 10-lag embedded state) is fitted where it lies between 100x the initial
    distance and 1e-3 of the attractor's size (the exponential-growth range). A fallback
    for systems whose pseudospectral approximation cannot be integrated.

    Returns dict with ``maximum_lyapunov``, ``stderr`` (spread of the per-pair slopes over
    sqrt(n_pairs)) and ``settings``.
    """
    from .solvers.embedding import delay_trajectory
    system = get_system(system)
    compiled = compile_system(system)
    period = system.period
    step = period / 20
    t_attr = transient_periods * period + np.arange(n_pairs) * (seed_offset * period)
    starts = delay_trajectory(compiled, system.tau + t_attr)[:, :system.dim]
    size = float(np.std(delay_trajectory(compiled, system.tau + transient_periods * period
                                         + step * np.arange(2000))))
    t = system.tau + step * np.arange(int(horizon_periods * 20))
    logs = []
    for x0 in starts:
        a = delay_trajectory(compiled, t, ic=x0)
        b = delay_trajectory(compiled, t, ic=x0 + separation)
        logs.append(np.log(np.linalg.norm(a - b, axis=1) + 1e-300))
    logs = np.array(logs)
    mean = logs.mean(axis=0)
    window = (mean > np.log(100 * separation)) & (mean < np.log(1e-3 * size))
    idx = np.nonzero(window)[0]
    if idx.size < 5:
        raise ValueError(f"{system.name}: no exponential-growth range found")
    idx = np.arange(idx[0], idx[-1] + 1)
    slope = np.polyfit(t[idx], mean[idx], 1)[0]
    per_pair = [np.polyfit(t[idx], row[idx], 1)[0] for row in logs]
    return {"maximum_lyapunov": float(slope),
            "stderr": float(np.std(per_pair, ddof=1) / np.sqrt(n_pairs)),
            "settings": {"method": "direct two-trajectory divergence on the 10-lag embedded "
                                   "state, slope of the mean log distance in the growth range",
                         "n_pairs": n_pairs, "separation": separation,
                         "horizon_periods": horizon_periods,
                         "fit_window_time": [float(t[idx[0]]), float(t[idx[-1]])]}}

"""Chaos labels: is a system's orbit chaotic, transiently chaotic, or not chaotic?

A positive time-averaged Lyapunov exponent is not enough: an orbit that is chaotic for a
while and then settles onto an equilibrium or a cycle (transient chaos) gives a positive
average that only reflects the length of the averaging window. :func:`classify` therefore
looks at *how* the estimate behaves in time and where the orbit ends up:

1. **Block means of λ_max.** The leading exponent is averaged by the Benettin QR method
   (:func:`dysts_bench.invariants.lyapunov_spectrum`, k = 1) in ``n_blocks`` consecutive
   blocks. The estimate is *stationary* when the means of the first and second halves
   agree within their spread: |m_1 - m_2| <= 3 sqrt(s_1^2 / n_1 + s_2^2 / n_2) (the
   two-sample z statistic; block means of a stationary chaotic orbit are nearly
   independent once a block spans many Lyapunov times, cf. Flyvbjerg and Petersen,
   J. Chem. Phys. 91 (1989) 461, on block averaging).
2. **End state.** A long plain trajectory (``end_periods`` dominant periods, longer than
   the Lyapunov run) is inspected over its last ``window_periods`` periods. *Equilibrium*:
   the speed |f(y)| there has fallen below ``1e-6`` of its RMS over the whole orbit.
   *Cycle*: every point of the last period (sampled 400 times per period) lies within
   ``1e-4`` attractor standard deviations of the polyline through the earlier window (a
   periodic orbit retraces itself, up to the chord error ~ (2 pi / 400)^2 / 8 ~ 3e-5 of
   its size; a chaotic one leaves gaps between strands). *Escape*: the integration fails
   (the orbit grows 1000-fold, as HyperLu's do); *unresolved*: the integration gets stuck
   without growing (not an end state; the exponent decides).
3. **Label.**

   - ``transient``: the end state is an equilibrium, a cycle or an escape, but the early exponent
     (first half of the blocks) is significantly positive (> 3 standard errors), or the
     block means are not stationary and the late ones are not positive: chaos that dies.
   - ``not_chaotic``: the end state is an equilibrium or a cycle and the early exponent is
     not significantly positive, or the late exponent is zero within 3 standard errors
     (a torus or a slowly converging periodic orbit).
   - ``chaotic``: no equilibrium or cycle at the end and the late exponent (second half of
     the blocks) exceeds 3 standard errors and ``1e-3`` per dominant period. A
     non-stationary estimate whose late blocks stay positive (a long first regime with a
     different exponent, e.g. Coullet) is still chaotic; the evidence keeps both.
   - ``undetermined``: anything else (the evidence says why).

The evidence stored with the label has every number the rule used, rounded.
"""

from __future__ import annotations

import math

import numpy as np

from .compile import compile_system
from .registry import get_system
from .solvers import integrate

#: Settings of the classification (stored with the evidence).
CHAOS_SETTINGS = {"lyapunov_periods": 1000, "n_blocks": 20, "end_periods": 2000,
                  "window_periods": 20, "pts_per_period": 400,
                  "equilibrium_speed": 1e-6, "cycle_distance": 1e-4, "z": 3.0,
                  "min_lambda_per_period": 1e-3}


def block_statistics(blocks, z=3.0) -> dict:
    """Early (first half) and late (second half) means of block averages, their standard
    errors, and whether the halves agree within ``z`` combined standard errors."""
    blocks = np.asarray(blocks, dtype=float)
    half = len(blocks) // 2
    early, late = blocks[:half], blocks[half:]

    def mean_se(x):
        return float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x)))

    (m1, s1), (m2, s2) = mean_se(early), mean_se(late)
    spread = math.hypot(s1, s2)
    return {"early": m1, "early_se": s1, "late": m2, "late_se": s2,
            "z_halves": abs(m1 - m2) / spread if spread > 0 else (0.0 if m1 == m2 else math.inf),
            "stationary": abs(m1 - m2) <= z * spread}


def polyline_distance(points, path) -> np.ndarray:
    """Distance of each of ``points`` (m, d) to the polyline through ``path`` (n, d)."""
    a, b = path[:-1], path[1:]
    ab = b - a
    length2 = np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-300)
    out = np.empty(len(points))
    for i, p in enumerate(points):
        s = np.clip(np.einsum("ij,ij->i", p - a, ab) / length2, 0.0, 1.0)
        out[i] = np.sqrt(np.min(np.sum((a + s[:, None] * ab - p) ** 2, axis=1)))
    return out


def end_state(system, *, end_periods=2000, window_periods=20, pts_per_period=400,
              equilibrium_speed=1e-6, cycle_distance=1e-4) -> dict:
    """Where the orbit from the registry's initial condition ends up after ``end_periods``
    dominant periods: ``equilibrium``, ``cycle``, ``escape`` or ``irregular``, with the
    measurements."""
    system = get_system(system)
    compiled = compile_system(system)
    T = system.period
    coarse = np.linspace(0.0, end_periods * T, int(end_periods * 10) + 1)
    y, escaped_after = _orbit_or_escape(compiled, system, coarse)
    if y is None:  # left to infinity (HyperLu), or could not be integrated to the end
        return {"end_state": "escape" if escaped_after is not None else "unresolved",
                "relative_speed": None, "recurrence_distance": None,
                "end_time": float(coarse[-1]), "escaped_after": escaped_after}
    speed = _speeds(compiled, coarse, y)
    rms_speed = float(np.sqrt(np.mean(speed ** 2)))
    back = int(window_periods * 10)  # the coarse grid has 10 samples per period
    fine = coarse[-1 - back] + np.arange(int(window_periods * pts_per_period) + 1) * (T / pts_per_period)
    w, _ = integrate(compiled, y[-1 - back], fine, t0=fine[0], rtol=1e-10, atol=1e-10)
    final_speed = float(np.max(_speeds(compiled, fine, w)))
    scale = float(np.linalg.norm(y[len(y) // 10:].std(axis=0))) or 1.0
    last = w[-pts_per_period:]
    earlier = w[:-pts_per_period // 2 - pts_per_period]
    recurrence = float(np.max(polyline_distance(last, earlier)) / scale)
    relative_speed = final_speed / rms_speed if rms_speed > 0 else 0.0
    if relative_speed < equilibrium_speed:
        kind = "equilibrium"
    elif recurrence < cycle_distance:
        kind = "cycle"
    else:
        kind = "irregular"
    return {"end_state": kind, "relative_speed": relative_speed,
            "recurrence_distance": recurrence, "end_time": float(coarse[-1])}


def _orbit_or_escape(compiled, system, t, chunks=10, growth=1e3):
    """(orbit sampled at ``t``, None), integrated chunk by chunk; (None, time bounded
    before the escape) when the state grows ``growth`` times beyond the first chunk's size;
    (None, None) when the integration gets stuck without growing."""
    parts, y0, size = [], np.asarray(system.initial_condition, float), None
    for idx in np.array_split(np.arange(len(t)), chunks):
        grid = t[idx[0] - 1 if parts else 0: idx[-1] + 1]
        max_steps = int(50 * (grid[-1] - grid[0]) / system.dt) + 10_000
        y, stats = integrate(compiled, y0, grid, rtol=1e-10, atol=1e-10, max_steps=max_steps,
                             check=False)
        finite = y[np.all(np.isfinite(y), axis=1)]
        size = size or float(np.max(np.abs(finite))) + 1.0
        if finite.size and np.max(np.abs(finite)) > growth * size:
            return None, float(grid[0])
        if stats.status != 0:  # stuck without growing (e.g. chattering at a switch)
            return None, None
        parts.append(y[1:] if parts else y)
        y0 = y[-1]
    return np.concatenate(parts), None


def _speeds(compiled, t, y):
    f = np.empty(y.shape[1])
    out = np.empty(len(t))
    for i in range(len(t)):
        compiled.rhs(t[i], y[i], compiled.params, f)
        out[i] = np.linalg.norm(f)
    return out


def label_from(stats: dict, end: str, period: float, z=3.0, min_lambda_per_period=1e-3) -> str:
    """The chaos label from block statistics of λ_max and the end state (module doc)."""
    settled = end in ("equilibrium", "cycle", "escape")
    early_positive = stats["early"] > z * stats["early_se"] and \
        stats["early"] * period > min_lambda_per_period
    late_positive = stats["late"] > z * stats["late_se"] and \
        stats["late"] * period > min_lambda_per_period
    if settled:
        return "transient" if early_positive else "not_chaotic"
    if late_positive:
        return "chaotic"
    if not stats["stationary"] and early_positive:
        return "transient"
    if abs(stats["late"]) <= z * stats["late_se"] or stats["late"] * period <= min_lambda_per_period:
        return "not_chaotic"
    return "undetermined"


def classify(system, settings=None) -> dict:
    """Label one (non-delay) system and return ``{"label": ..., "evidence": {...},
    "method": ...}`` for ``invariants.chaos``."""
    from .invariants import lyapunov_spectrum
    cfg = {**CHAOS_SETTINGS, **(settings or {})}
    system = get_system(system)
    end = end_state(system, end_periods=cfg["end_periods"], window_periods=cfg["window_periods"],
                    pts_per_period=cfg["pts_per_period"],
                    equilibrium_speed=cfg["equilibrium_speed"],
                    cycle_distance=cfg["cycle_distance"])
    periods = cfg["lyapunov_periods"]
    if end["end_state"] == "escape":  # average well inside the time the orbit stays bounded
        periods = min(periods, max(20.0, 0.25 * end["escaped_after"] / system.period))
    lyap = lyapunov_spectrum(system, n_periods=periods, k=1, n_blocks=cfg["n_blocks"])
    blocks = lyap["blocks"][:, 0]
    stats = block_statistics(blocks, cfg["z"])
    label = label_from(stats, end["end_state"], system.period, cfg["z"],
                       cfg["min_lambda_per_period"])
    evidence = {**{k: _round(v) for k, v in stats.items()}, **{k: _round(v) for k, v in end.items()},
                "block_time": _round(lyap["block_time"]),
                "block_means": [_round(v) for v in blocks]}
    return {"label": label, "evidence": evidence,
            "method": "λ_max block means (Benettin QR, k = 1) after "
                      f"{lyap['settings']['transient_periods']} periods: halves compared "
                      "(stationarity); end state of a plain orbit (equilibrium: speed; "
                      "cycle: recurrence to the earlier window); rule and settings "
                      "(CHAOS_SETTINGS) in dysts_bench.chaos",
            **({"settings": changed} if (changed := {k: v for k, v in cfg.items()
                                                      if CHAOS_SETTINGS.get(k) != v}) else {})}


def _round(v, digits=3):
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)) or isinstance(v, str):
        return bool(v) if isinstance(v, np.bool_) else v
    v = float(v)
    if v == 0 or not math.isfinite(v):
        return v
    return float(f"{v:.{digits}g}")


def describe(chaos: dict | None) -> str:
    """One compact line for ``dysts-bench show``: the label and the evidence behind it."""
    if not chaos:
        return "undetermined (not classified: run `dysts-bench annotate --chaos-only NAME`)"
    e = chaos.get("evidence", {})

    def g(key):
        v = e.get(key)
        return "?" if v is None else f"{v:.2g}"

    parts = [f"λ_max early {g('early')} ± {g('early_se')}, late {g('late')} ± {g('late_se')}"
             f" /time unit ({'stationary' if e.get('stationary') else 'not stationary'}: "
             f"halves differ by {g('z_halves')} s.e.)"]
    if "end_state" in e:
        parts.append(f"end state after {g('end_time')} time units: {e['end_state']} (speed {g('relative_speed')} "
                     f"of its RMS, recurrence {g('recurrence_distance')} of the size)")
    return f"{chaos['label']}: " + "; ".join(parts)

"""Lyapunov spectrum cost and accuracy: ours (compiled tangent dynamics + QR) vs the
reference package's estimator dysts.analysis.find_lyapunov_exponents."""

from __future__ import annotations

import time
import warnings

from dysts_bench.invariants import lyapunov_spectrum

from .harness import Section, fmt

LITERATURE = {"Lorenz": 0.9056, "Rossler": 0.0714}


def run(quick: bool):
    names = ["Lorenz", "Rossler"] if quick else ["Lorenz", "Rossler", "Chua", "HyperRossler", "Thomas"]
    section = Section(
        "Lyapunov spectrum per system",
        ["system", "ours: time (λ_max)", "dysts find_lyapunov_exponents: time (λ_max)", "speed-up",
         "literature λ_max"],
        notes="Ours: 1000 dominant periods of averaging (the annotation setting), QR every "
              "1/10 period. dysts: `find_lyapunov_exponents(model, traj_length=N, "
              "pts_per_period=100, method='DOP853')` with N covering 100 of its periods (its "
              "default Radau integration of the trajectory alone would take ~15 min per "
              "system at that length).")
    periods = 100
    for name in names:
        lyapunov_spectrum(name, n_periods=5)  # compile outside the timing
        t0 = time.perf_counter()
        ours = lyapunov_spectrum(name, n_periods=1000)["spectrum"][0]
        ours_t = time.perf_counter() - t0
        try:
            import dysts.flows
            from dysts.analysis import find_lyapunov_exponents
            model = getattr(dysts.flows, name)()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                theirs = max(find_lyapunov_exponents(model, periods * 100, pts_per_period=100,
                                                     method="DOP853"))
                ref_t = time.perf_counter() - t0
            ref_cell = f"{fmt(ref_t)} ({theirs:.4g}, {periods} periods)"
            speed = f"{ref_t / ours_t:.0f}x"
        except ImportError:
            ref_cell, speed = "dysts not installed", "-"
        except NotImplementedError:  # its estimator needs an analytic Jacobian
            ref_cell, speed = "dysts has no Jacobian for this system", "-"
        section.rows.append([name, f"{fmt(ours_t)} ({ours:.4g})", ref_cell, speed,
                             LITERATURE.get(name, "-")])
    return [section]

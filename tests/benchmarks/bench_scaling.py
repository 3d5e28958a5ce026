"""Scaling curves: cost of trajectory generation against trajectory length and against
the number of initial conditions integrated in one batch (both should be linear), plotted
to PNG files that BENCHMARKS.md shows."""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np

from dysts_bench import get_system, make_trajectory

from .harness import Section, fmt, timeit

PLOTS = Path(__file__).resolve().parent.parent.parent / "leaderboard" / "benchmarks"


def _fit_exponent(x, y):
    """Slope of log(cost) against log(size): 1 means linear scaling."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def run(quick: bool):
    repeats = 3 if quick else 5
    lengths = [1000, 4000, 16000] if quick else [1000, 2000, 4000, 8000, 16000, 32000, 64000]
    batches = [1, 4, 16] if quick else [1, 2, 4, 8, 16, 32, 64]
    system = get_system("Lorenz")
    make_trajectory(system, 10)
    length_cost = [statistics.median(timeit(lambda n=n: make_trajectory(system, n), repeats))
                   for n in lengths]
    rng = np.random.default_rng(0)
    base = np.asarray(system.initial_condition)
    batch_cost = []
    for m in batches:
        ics = base + rng.normal(scale=1.0, size=(m, 3))
        batch_cost.append(statistics.median(timeit(lambda ics=ics: make_trajectory(system, 2000, ic=ics), repeats)))
    section = Section(
        "Scaling (Lorenz): cost against trajectory length and batch size",
        ["size", "cost", "per unit"],
        notes=f"Fitted exponent of cost ∝ size^k: length k = {_fit_exponent(lengths, length_cost):.2f}, "
              f"batch of initial conditions (2000 points each, parallel over ICs) "
              f"k = {_fit_exponent(batches, batch_cost):.2f}; 1 is linear."
              + ("" if quick else "\n\n![length](leaderboard/benchmarks/scaling_length.png) "
                                  "![batch](leaderboard/benchmarks/scaling_batch.png)"))
    section.rows += [[f"{n} points", fmt(c), f"{fmt(c / n)} / point"] for n, c in zip(lengths, length_cost)]
    section.rows += [[f"{m} initial conditions", fmt(c), f"{fmt(c / m)} / trajectory"]
                     for m, c in zip(batches, batch_cost)]
    if not quick:
        _plot(lengths, length_cost, "trajectory length (points)", "scaling_length.png")
        _plot(batches, batch_cost, "initial conditions in one batch (2000 points each)", "scaling_batch.png")
    return [section]


def _plot(x, y, xlabel, name):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    PLOTS.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(4.5, 3.2), dpi=100)
    ax.loglog(x, y, "o-", label="measured")
    ax.loglog(x, y[0] * np.asarray(x) / x[0], "--", color="grey", label="linear")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("wall time (s)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(PLOTS / name)
    plt.close(fig)

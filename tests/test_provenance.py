"""Recorded provenance matches the code that produced it."""

import json
import sys
from pathlib import Path

import numpy as np

from dysts_bench import invariants

ROOT = Path(__file__).resolve().parents[1]


def test_period_method_in_systems_json_is_the_one_that_ran():
    raw = json.loads((ROOT / "systems.json").read_text())
    recorded = {entry["invariants"]["methods"]["period"]["method"]
                for entry in raw["systems"].values()
                if isinstance(entry.get("invariants", {}).get("methods", {}).get("period"), dict)}
    assert recorded == {invariants.PERIOD_METHOD}


def test_dominant_period_takes_the_shortest_coordinate_peak_not_the_summed_periodogram():
    # x: period 10; y: period 4 plus a weaker period-10 part.  The summed periodogram of
    # the standardised coordinates peaks at 10; the shortest per-coordinate peak is 4.
    dt, t = 0.01, np.arange(20000) * 0.01
    x = np.sin(2 * np.pi * t / 10)
    y = np.sin(2 * np.pi * t / 4) + 0.9 * np.sin(2 * np.pi * t / 10 + 1.0)
    assert abs(invariants.dominant_period(np.stack([x, y], axis=1), dt) - 4.0) < 0.05
    assert "shortest" in invariants.PERIOD_METHOD


def test_estimate_period_uses_dominant_period(monkeypatch):
    calls = []

    def spy(y, dt):
        calls.append(dt)
        return 0.7
    home = sys.modules[invariants.estimate_period.__module__]  # where estimate_period looks it up
    monkeypatch.setattr(home, "dominant_period", spy)
    invariants.estimate_period("Lorenz", n_periods=20, pts_per_period=20, iterations=1)
    assert calls, "estimate_period did not call dominant_period (the method recorded in systems.json)"

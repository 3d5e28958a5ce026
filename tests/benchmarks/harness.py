"""Small timing harness: repeats, min/median/max, side-by-side ratios."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field


def timeit(fn, repeats=5, warmup=1):
    """Wall-clock seconds of ``fn()`` over ``repeats`` runs (after ``warmup`` runs)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def summary(times) -> str:
    """'median (min–max)' in adaptive units."""
    return f"{fmt(statistics.median(times))} ({fmt(min(times))}–{fmt(max(times))})"


def fmt(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


@dataclass
class Section:
    """One table of BENCHMARKS.md."""

    title: str
    columns: list
    rows: list = field(default_factory=list)
    notes: str = ""

    def markdown(self) -> str:
        lines = [f"## {self.title}", ""]
        if self.notes:
            lines += [self.notes, ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "---|" * len(self.columns))
        for row in self.rows:
            lines.append("| " + " | ".join(str(x) for x in row) + " |")
        return "\n".join(lines) + "\n"


def ratio(reference_times, our_times) -> str:
    """How many times faster we are, from medians (min–max of the per-pair ratios)."""
    med = statistics.median(reference_times) / statistics.median(our_times)
    lo = min(reference_times) / max(our_times)
    hi = max(reference_times) / min(our_times)
    return f"{med:.1f}x ({lo:.1f}–{hi:.1f})"

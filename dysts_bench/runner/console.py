"""What a run shows on the terminal: the progress bar and the end-of-run summary table."""

from __future__ import annotations

import collections
import sys

import numpy as np

from .records import SCORED


class _Progress:
    """The run's progress bar, with the count of each status so far."""

    def __init__(self, enabled: bool, total: int, label: str):
        from ..console import ProgressBar
        self.counts = collections.Counter()
        self.bar = ProgressBar(total, label, enabled)

    def advance(self, status):
        self.counts[status] += 1
        self.bar.set_postfix_str(" ".join(f"{k}:{v}" for k, v in sorted(self.counts.items())))
        self.bar.update(1)

    def close(self):
        self.bar.close()


def summary_rows(records) -> list[tuple]:
    """One row per (forecaster, evaluation): counts and medians (for the end-of-run table)."""
    groups = collections.defaultdict(list)
    for r in records:
        groups[(r["forecaster"]["name"], r["evaluation"])].append(r)
    rows = []
    for (name, evaluation), recs in sorted(groups.items()):
        counts = collections.Counter(r["status"] for r in recs)
        scored = [r for r in recs if r["status"] in SCORED]

        def med(values):
            values = [v for v in values if v is not None]
            return f"{np.median(values):.4g}" if values else "-"
        def vpt_of(r, unit):
            return ((r.get("vpt") or {}).get("smape_running") or {}).get(unit)
        vpt = [vpt_of(r, "lyapunov_times") for r in scored]
        vpt_unit = "λ"
        if all(v is None for v in vpt):
            vpt, vpt_unit = [vpt_of(r, "steps") for r in scored], "steps"
        rows.append((name, evaluation, len(recs), counts.get("ok", 0),
                     ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "ok") or "-",
                     med((r.get("metrics") or {}).get("smape") for r in scored),
                     f"{med(vpt)} {vpt_unit}",
                     med(r["fit_seconds"] for r in recs),
                     med(r["predict_seconds"] for r in recs),
                     med(r["peak_rss_mb"] for r in recs)))
    return rows


SUMMARY_COLUMNS = ["forecaster", "evaluation", "tasks", "ok", "other statuses", "median sMAPE",
                   "median VPT", "fit s", "predict s", "peak MB"]


def print_summary(records, console=None):
    from ..console import print_table
    # headline first: forecaster, ok, median VPT, median sMAPE, other statuses, ...
    print_table("dysts-bench run", SUMMARY_COLUMNS, summary_rows(records), console=console, stderr=True,
                priority=(0, 3, 6, 5, 4, 2, 1, 7, 8, 9), right=(2, 3, 5, 6, 7, 8, 9), fold=(4,),
                hint="a wider terminal shows them")


def _error_line(record) -> str:
    """The one line that names a failure: the exception line of the traceback, else the status."""
    text = str(record.get("error") or "").strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else record["status"]


def failure_messages(records) -> list[tuple[int, str, str]]:
    """``(count, status, message)`` of each distinct failure among unscored records, most
    frequent first."""
    counts = collections.Counter((r["status"], _error_line(r)) for r in records if r["status"] not in SCORED)
    return [(n, status, message) for (status, message), n in counts.most_common()]


def print_failures(records, file=None) -> bool:
    """Print the distinct failure messages (to stderr); True when every task failed."""
    file = file or sys.stderr
    failures = failure_messages(records)
    if failures:
        total = sum(n for n, _, _ in failures)
        print(f"dysts-bench: {total} of {len(records)} task(s) failed:", file=file)
        for n, status, message in failures:
            print(f"  {n} x {status}: {message[:500]}", file=file)
    return bool(records) and all(r["status"] not in SCORED for r in records)

"""What a run shows on the terminal: the progress bar and the end-of-run summary table."""

from __future__ import annotations

import collections
import sys

import numpy as np

from .records import SCORED


class _Progress:
    def __init__(self, enabled: bool, total: int, label: str):
        self.p = None
        self.counts = collections.Counter()
        if not enabled or total == 0:
            return
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)
        self.p = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                          TextColumn("{task.fields[status]}"), console=Console(stderr=True))
        self.p.start()
        self.tid = self.p.add_task(label, total=total, status="")

    def advance(self, status):
        self.counts[status] += 1
        if self.p is not None:
            text = " ".join(f"{k}:{v}" for k, v in sorted(self.counts.items()))
            self.p.update(self.tid, advance=1, status=text)

    def close(self):
        if self.p is not None:
            self.p.stop()


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
            return ((r.get("vpt") or {}).get("smape") or {}).get(unit)
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
    from rich.console import Console
    from rich.table import Table
    table = Table(title="dysts-bench run")
    for col in SUMMARY_COLUMNS:
        table.add_column(col, overflow="fold")
    for row in summary_rows(records):
        table.add_row(*[str(x) for x in row])
    (console or Console(stderr=True, width=None if sys.stderr.isatty() else 160)).print(table)


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

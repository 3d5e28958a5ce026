"""Rendering a :class:`.aggregate.Leaderboard`: Markdown, CSV, terminal tables that fit the
terminal, and (through :mod:`.page`) a static HTML page with sortable tables and charts.

All renderers show the same tables (:func:`tables`), so the formats cannot disagree. The
output depends on the stored results only (no clock, no randomness beyond the seeded
bootstrap), so rendering twice gives identical files. Markdown, CSV and terminal output
need no optional package; the HTML page needs the ``plot`` extra (jinja2, matplotlib).
"""

from __future__ import annotations

import dataclasses
import html
import math
from pathlib import Path

import numpy as np

from .aggregate import Leaderboard

METRIC_TITLES = {"smape": "sMAPE", "nrmse": "nRMSE"}
FLAG = "†"


# ---------------------------------------------------------------------------
# Tables shared by every format
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Column:
    """One column of a rendered table: header, display text and a numeric sort key per row."""

    header: str
    text: list
    sort: list | None = None
    note: str = ""
    #: Which columns a narrow terminal keeps: lower first.
    priority: int = 5


@dataclasses.dataclass
class Table:
    key: str
    title: str
    columns: list

    @property
    def rows(self) -> list[list[str]]:
        return [list(r) for r in zip(*(c.text for c in self.columns))]


def fmt(value, spec: str = ".3g") -> str:
    """A number for display: ``-`` for NaN/None, ``∞`` for infinity."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, (float, np.floating)) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return format(value, spec)


def _ci_text(est, low, high) -> str:
    if est is None or math.isnan(est):
        return "-"
    return f"{fmt(est, '+.3f')} [{fmt(low, '+.3f')}, {fmt(high, '+.3f')}]"


def _labels(lb: Leaderboard) -> list[str]:
    t = lb.table
    return [f"{name} {FLAG}" if flag else str(name) for name, flag in zip(t.index, t["uses_system_name"])]


def _family_column(lb: Leaderboard) -> Column:
    return Column("family", [str(f) if isinstance(f, str) and f else "-" for f in lb.table["family"]],
                  note="kind of method (Forecaster.family): baseline, statistical, ml, physics, deep, "
                       "foundation", priority=3)


def _num_column(header, values, spec=".3g", note="", priority=5) -> Column:
    values = [float(v) for v in values]
    return Column(header, [fmt(v, spec) for v in values], values, note, priority)


def _skill_header(lb: Leaderboard, target: str) -> str:
    where = "1st λ" if target.endswith("@1") else ("whole forecast" if "@" not in target
                                                   else f"{target.split('@')[1]} λ")
    metric = METRIC_TITLES.get(target.split("@")[0], target.split("@")[0])
    return f"skill vs {lb.baseline or 'baseline'} ({metric}, {where})"


def summary_table(lb: Leaderboard) -> Table:
    """Headline table: ranks, VPT, skill, task counts and statuses."""
    t = lb.table
    cols = [Column("#", [str(i) for i in range(1, len(t) + 1)], list(range(1, len(t) + 1)), priority=3),
            Column("forecaster", _labels(lb), priority=0),
            _family_column(lb),
            _num_column("mean rank (VPT, sMAPE)", t["mean_rank_vpt_smape"], ".2f",
                        "headline: mean over tasks of the rank by the running-sMAPE VPT (1 = best)", priority=1),
            _num_column("median VPT, λ (sMAPE)", t["median_vpt_smape"], ".3g",
                        "median valid prediction time in Lyapunov times, running sMAPE <= 30 (Gilpin 2023)",
                        priority=1),
            _num_column("median VPT, λ (nRMSE)", t["median_vpt_nrmse"], ".3g",
                        "median valid prediction time in Lyapunov times, pointwise nRMSE <= 0.5 "
                        "(Vlachas et al. 2020)", priority=4),
            _num_column("mean rank (sMAPE)", t["mean_rank_smape"], ".2f",
                        "mean over tasks of the rank by whole-forecast sMAPE (1 = best); not the order", priority=5),
            _num_column("median D_stsp", t["median_d_stsp"], ".3g",
                        "long term: state-space divergence (binned KL, nats), whole forecast", priority=5),
            _num_column("median D_H", t["median_d_h"], ".3g",
                        "long term: Hellinger distance of the power spectra, whole forecast", priority=6),
            _num_column("median |ΔD2|", t["median_corr_dim_error"], ".3g",
                        "long term: correlation-dimension error, whole forecast", priority=6),
            _num_column("mean rank (long term)", t["mean_rank_long_term"], ".2f",
                        "average of the mean ranks by D_stsp, D_H and |ΔD2| (1 = best)", priority=2)]
    for target in lb.skill_targets:
        est, low, high = (t[f"skill_{target}{s}"].astype(float) for s in ("", "_low", "_high"))
        cols.append(Column(_skill_header(lb, target), [_ci_text(*v) for v in zip(est, low, high)],
                           list(est), f"median over tasks of 1 - error / {lb.baseline} error, "
                                      f"{lb.level:.0%} bootstrap CI over systems",
                           priority=2 if target == next(iter(lb.skill_targets)) else 4))
    cols += [Column("tasks", [str(int(v)) for v in t["tasks"]], [int(v) for v in t["tasks"]], priority=6),
             Column("ok", [str(int(v)) for v in t["ok"]], [int(v) for v in t["ok"]], priority=6),
             Column("failed", [str(int(v)) for v in t["failed"]], [int(v) for v in t["failed"]],
                    "tasks with a status other than ok/nonfinite, missing included", priority=2),
             Column("statuses", [str(s) for s in t["statuses"]], note="count of every status but ok", priority=7)]
    return Table("summary", "Summary", cols)


def horizon_table(lb: Leaderboard, metric: str) -> Table:
    """Median error at each Lyapunov-time horizon (columns), one row per forecaster."""
    medians = lb.horizons[metric][0.5]
    counts = lb.horizon_counts[metric]
    cols = [Column("forecaster", _labels(lb), priority=0)]
    for h in medians.columns:
        cols.append(_num_column(f"{h:g} λ (n={int(counts.get(h, 0))})", medians[h], ".3g",
                                f"median {METRIC_TITLES.get(metric, metric)} over the first {h:g} "
                                f"Lyapunov times of {int(counts.get(h, 0))} tasks"))
    return Table(f"horizon-{metric}", f"Median {METRIC_TITLES.get(metric, metric)} by forecast horizon", cols)


def cost_table(lb: Leaderboard) -> Table:
    """Fit/predict time, memory and total CPU time."""
    t = lb.table
    return Table("cost", "Cost", [
        Column("forecaster", _labels(lb), priority=0),
        _family_column(lb),
        _num_column("median task s", t["median_task_seconds"], ".3g",
                    "wall time per task measured by the runner (fit + predict + process start)", priority=1),
        _num_column("median fit s", t["median_fit_seconds"], ".3g"),
        _num_column("median predict s", t["median_predict_seconds"], ".3g"),
        _num_column("median peak MB", t["median_peak_rss_mb"], ".0f",
                    "peak resident memory of the task process, ~90 MB of it the worker's baseline"),
        _num_column("total CPU s", t["total_cpu_seconds"], ".3g")])


def tables(lb: Leaderboard) -> list[Table]:
    """All tables of the leaderboard, in display order."""
    return [summary_table(lb), *(horizon_table(lb, m) for m in lb.horizons), cost_table(lb)]


# ---------------------------------------------------------------------------
# Text: how each aggregate is computed
# ---------------------------------------------------------------------------


def methods(lb: Leaderboard) -> list[str]:
    """Paragraphs (Markdown) saying exactly how each aggregate is computed."""
    from .aggregate import methods as aggregate_methods
    base = lb.baseline or "the baseline"
    return [
        f"**Tasks.** A task is one (system, initial condition) series of the `{lb.evaluation}` "
        f"evaluation: {lb.n_tasks} tasks on {lb.n_systems} systems, the union of the tasks any "
        "forecaster has a record for. A forecaster without a record for a task gets the status "
        "`missing` there.",
        "**Failures.** A task is scored if its status is `ok` or `nonfinite` (NaN/inf in the "
        "forecast; those steps count as errors). Every other status (`error`, `timeout`, "
        "`memory`, `crashed`, `bad_shape`, `leak`, `missing`, or a status this version does not "
        "know) is a failure and is counted in the *failed* column. A failed task, or a score "
        "that is missing or non-finite in a scored record, counts as the worst possible "
        "result: an error of +∞ and a valid prediction time of 0 (for ranks: below every real "
        "forecast).",
        "**Not defined.** Scores in Lyapunov times need a positive maximum Lyapunov exponent; "
        "a horizon of h Lyapunov times needs ceil(h / (λ dt)) forecast samples. Where these "
        "are missing the score is not defined for *every* forecaster and the task is left out "
        "of that aggregate (the horizon tables give the number of tasks, n).",
        *aggregate_methods(lb),
        f"**Skill vs {base}.** On each task, skill = 1 - e / e_{base}, with e the sMAPE over "
        "the whole forecast or over its first Lyapunov time; 1 is perfect, 0 is as good as "
        f"{base}, negative is worse. A failed forecast has skill -∞; where {base} itself "
        "failed or is exactly 0 the skill is not defined and the task is left out. The "
        f"table gives the median over tasks and a {lb.level:.0%} confidence interval from a "
        f"percentile bootstrap that resamples *systems* with replacement (all series of a "
        f"drawn system come along; {lb.n_boot} replicates, numpy `default_rng({lb.seed})`, "
        "the same draws for every forecaster; the bounds are the "
        f"{(1 - lb.level) / 2:.3g} and {(1 + lb.level) / 2:.3g} quantiles of the replicate "
        f"medians, without interpolation). By construction the skill of {base} against "
        "itself is exactly 0.",
        "**Errors by horizon.** The sMAPE and nRMSE of the first h Lyapunov times of each "
        "forecast (stored in the results), median over the tasks whose forecast is at least "
        "that long; failures count as +∞, so a median of ∞ means that at least half of the "
        "tasks failed.",
        "**Cost.** Median over tasks of the fit and predict times measured in the task "
        "process, median peak resident memory of the task process, and the sum of its CPU "
        "time over all tasks, from every record that has them (failed tasks included).",
    ]


def _header_lines(lb: Leaderboard) -> list[str]:
    lines = [f"Evaluation `{lb.evaluation}`: {lb.n_tasks} tasks on {lb.n_systems} systems, "
             f"{len(lb.table)} forecaster{'s' if len(lb.table) != 1 else ''}, sorted by mean rank (VPT, sMAPE)."]
    if lb.other_labels:
        others = ", ".join(f"{label} ({int(t['tasks'].max())} tasks)" for label, t in lb.other_labels.items())
        lines.append(f"Only systems labelled chaotic are aggregated; left out: {others}.")
    if lb.baseline is None:
        lines.append("The baseline forecaster has no results here, so no skill is shown.")
    if lb.as_of:
        lines.append(f"Latest result: {lb.as_of}.")
    if lb.table["uses_system_name"].any():
        lines.append(f"{FLAG}: the forecaster is given the system's name (it may use prior "
                     "knowledge of the equations).")
    if lb.other_evaluations:
        lines.append("Other evaluations in the results (not shown): "
                     + ", ".join(f"`{e}`" for e in lb.other_evaluations) + ".")
    return lines


# ---------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    """A table cell: raw HTML escaped (a forecaster name is user input), pipes and newlines
    neutralised."""
    return html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ")


def markdown_table(table: Table) -> str:
    """A GitHub-flavoured Markdown table (numbers right-aligned)."""
    head = "| " + " | ".join(_md_cell(c.header) for c in table.columns) + " |"
    align = "|" + "|".join("---:" if c.sort is not None and c.header not in ("#",) else "---"
                           for c in table.columns) + "|"
    body = ["| " + " | ".join(_md_cell(x) for x in row) + " |" for row in table.rows]
    return "\n".join([head, align, *body])


def render_markdown(lb: Leaderboard, *, results_link: str = "results/") -> str:
    """The leaderboard as a Markdown document (``leaderboard/README.md``)."""
    out = ["# Leaderboard", "",
           "Generated by `dysts-bench leaderboard --format all` (`make leaderboard`) from the stored "
           f"results in [`{results_link}`]({results_link}) alone; no forecast is re-run. "
           "[`index.html`](index.html) has the same tables (sortable) and plots of the error "
           "against the forecast horizon; [`results.csv`](results.csv) has the numbers.", "",
           " ".join(_header_lines(lb)), ""]
    for table in tables(lb):
        out += [f"## {table.title}", "", markdown_table(table), ""]
    out += ["## How the aggregates are computed", ""]
    for paragraph in methods(lb):
        out += [paragraph, ""]
    out += ["## Source files", ""]
    out += [f"- `{Path(f).name}`" for f in lb.files]
    if lb.warnings:
        out += ["", "## Warnings", "", "Lines of the results that could not be used as they are:", ""]
        out += [f"- {_md_cell(w)}" for w in lb.warnings]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------


#: A text cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe (OWASP,
    "CSV Injection"); numbers are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def render_csv(lb: Leaderboard) -> str:
    """The per-forecaster aggregate table (one row per forecaster, tidy column names);
    text cells that a spreadsheet would read as a formula are neutralised."""
    frame = lb.table.reset_index()
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].map(_csv_safe)
    return frame.to_csv(index=False, float_format="%.6g", lineterminator="\n")


def render_html(lb: Leaderboard, system_links=()) -> str:
    """The self-contained HTML page (see :mod:`.page`; needs the ``plot`` extra)."""
    from .page import render_html as render
    return render(lb, system_links)


# ---------------------------------------------------------------------------
# Terminal
# ---------------------------------------------------------------------------


def _split_intervals(table: Table) -> Table:
    """Skill columns as an estimate column and a lower-priority interval column (a narrow
    terminal keeps the estimates)."""
    columns = []
    for c in table.columns:
        if not c.header.startswith("skill"):
            columns.append(c)
            continue
        parts = [(t.split(" ", 1) + [""])[:2] for t in c.text]
        columns.append(dataclasses.replace(c, text=[p[0] for p in parts]))
        what = c.header.split(" (", 1)[1].rstrip(")") if " (" in c.header else c.header
        columns.append(Column(f"CI ({what})", [p[1] for p in parts],
                              note=c.note, priority=c.priority + 3))
    return dataclasses.replace(table, columns=columns)


def print_terminal(lb: Leaderboard, console=None, *, wide=False, width=None):
    """The tables for a terminal: as many columns as fit its width (most important first),
    every column with ``wide``."""
    from ..console import print_table, terminal_width
    width = width or (console.width if console is not None else terminal_width())
    if console is None:
        from rich.console import Console
        console = Console(width=width, highlight=False)
    console.print(" ".join(_header_lines(lb)).replace("`", ""), markup=False)
    for table in map(_split_intervals, tables(lb)):
        order = sorted(range(len(table.columns)), key=lambda i: (table.columns[i].priority, i))
        print_table(table.title, [c.header for c in table.columns], table.rows, console=console, width=width,
                    wide=wide, priority=order, right=[i for i, c in enumerate(table.columns) if c.sort is not None],
                    fold=[i for i, c in enumerate(table.columns) if c.header == "statuses"])
    for w in lb.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}", markup=True, highlight=False)


def write(lb: Leaderboard, out_dir, formats=("markdown", "csv", "html"), results_dir=None,
          system_pages_from=None) -> list[Path]:
    """Write ``README.md``, ``results.csv`` and/or ``index.html`` into ``out_dir``
    (``results_dir``, if given, is linked from the Markdown relative to ``out_dir``).

    ``system_pages_from``: the task frame (:func:`.load.load_results`) to also write one
    page per system under ``out_dir/systems/`` (large: not for committing), linked from
    ``index.html``."""
    import functools
    import os
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    link = "results/" if results_dir is None else \
        Path(os.path.relpath(Path(results_dir).resolve(), out_dir.resolve())).as_posix() + "/"
    renderers = {"markdown": ("README.md", functools.partial(render_markdown, results_link=link)),
                 "csv": ("results.csv", render_csv), "html": ("index.html", render_html)}
    written = []
    if system_pages_from is not None:
        from .page import write_system_pages
        pages = write_system_pages(lb, system_pages_from, out_dir, results_dir)
        written += pages
        links = [(p.stem, f"systems/{p.name}") for p in pages]
        renderers["html"] = ("index.html", functools.partial(render_html, system_links=links))
    for fmt_name in formats:
        name, render = renderers[fmt_name]
        path = out_dir / name
        path.write_text(render(lb))
        written.append(path)
    return written


__all__ = ["Column", "Table", "cost_table", "fmt", "horizon_table", "markdown_table", "methods", "print_terminal",
           "render_csv", "render_html", "render_markdown", "summary_table", "tables", "write"]

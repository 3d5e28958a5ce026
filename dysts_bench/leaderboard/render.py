"""Rendering a :class:`.aggregate.Leaderboard`: Markdown, CSV, a static HTML page with
sortable tables and inline SVG plots, and rich terminal tables.

All renderers show the same tables (:func:`tables`), so the formats cannot disagree. The
output depends on the stored results only (no clock, no randomness beyond the seeded
bootstrap), so rendering twice gives identical files. Nothing here needs matplotlib or
any file outside the page: the plots are SVG written by :func:`svg_chart`.
"""

from __future__ import annotations

import dataclasses
import html
import math
from pathlib import Path

import numpy as np

from .aggregate import Leaderboard

#: Colours of the plotted forecasters (Okabe-Ito, then Tableau), cycled; the second cycle
#: is drawn dashed so that no two forecasters look alike.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
           "#8c564b", "#7f7f7f")
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


def _num_column(header, values, spec=".3g", note="") -> Column:
    values = [float(v) for v in values]
    return Column(header, [fmt(v, spec) for v in values], values, note)


def _skill_header(lb: Leaderboard, target: str) -> str:
    where = "1st λ" if target.endswith("@1") else ("whole forecast" if "@" not in target
                                                   else f"{target.split('@')[1]} λ")
    metric = METRIC_TITLES.get(target.split("@")[0], target.split("@")[0])
    return f"skill vs {lb.baseline or 'baseline'} ({metric}, {where})"


def summary_table(lb: Leaderboard) -> Table:
    """Headline table: ranks, VPT, skill, task counts and statuses."""
    t = lb.table
    cols = [Column("#", [str(i) for i in range(1, len(t) + 1)], list(range(1, len(t) + 1))),
            Column("forecaster", _labels(lb)),
            _num_column("mean rank (sMAPE)", t["mean_rank_smape"], ".2f",
                        "mean over tasks of the rank by whole-forecast sMAPE (1 = best)"),
            _num_column("mean rank (VPT)", t["mean_rank_vpt"], ".2f",
                        "mean over tasks of the rank by valid prediction time (sMAPE < 30)"),
            _num_column("median VPT, λ (sMAPE)", t["median_vpt_smape"], ".3g",
                        "median valid prediction time in Lyapunov times, sMAPE threshold 30"),
            _num_column("median VPT, λ (nRMSE)", t["median_vpt_nrmse"], ".3g",
                        "median valid prediction time in Lyapunov times, nRMSE threshold 0.3")]
    for target in lb.skill_targets:
        est, low, high = (t[f"skill_{target}{s}"].astype(float) for s in ("", "_low", "_high"))
        cols.append(Column(_skill_header(lb, target), [_ci_text(*v) for v in zip(est, low, high)],
                           list(est), f"median over tasks of 1 - error / {lb.baseline} error, "
                                      f"{lb.level:.0%} bootstrap CI over systems"))
    cols += [Column("tasks", [str(int(v)) for v in t["tasks"]], [int(v) for v in t["tasks"]]),
             Column("ok", [str(int(v)) for v in t["ok"]], [int(v) for v in t["ok"]]),
             Column("failed", [str(int(v)) for v in t["failed"]], [int(v) for v in t["failed"]],
                    "tasks with a status other than ok/nonfinite, missing included"),
             Column("statuses", [str(s) for s in t["statuses"]], note="count of every status but ok")]
    return Table("summary", "Summary", cols)


def horizon_table(lb: Leaderboard, metric: str) -> Table:
    """Median error at each Lyapunov-time horizon (columns), one row per forecaster."""
    medians = lb.horizons[metric][0.5]
    counts = lb.horizon_counts[metric]
    cols = [Column("forecaster", _labels(lb))]
    for h in medians.columns:
        cols.append(_num_column(f"{h:g} λ (n={int(counts.get(h, 0))})", medians[h], ".3g",
                                f"median {METRIC_TITLES.get(metric, metric)} over the first {h:g} "
                                f"Lyapunov times of {int(counts.get(h, 0))} tasks"))
    return Table(f"horizon-{metric}", f"Median {METRIC_TITLES.get(metric, metric)} by forecast horizon", cols)


def cost_table(lb: Leaderboard) -> Table:
    """Fit/predict time, memory and total CPU time."""
    t = lb.table
    return Table("cost", "Cost", [
        Column("forecaster", _labels(lb)),
        _num_column("median task s", t["median_task_seconds"], ".3g",
                    "wall time per task measured by the runner (fit + predict + process start)"),
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
        "**Median VPT.** Valid prediction time, in Lyapunov times: the number of leading "
        "forecast steps whose pointwise sMAPE stays at or below 30 (or nRMSE at or below "
        "0.3), times dt λ. Median over the tasks with a positive Lyapunov exponent "
        "(numpy.median: the mean of the two middle values for an even count).",
        "**Mean rank.** On each task the forecasters are ranked by their whole-forecast sMAPE "
        "(lower is better) or by their VPT (sMAPE threshold; higher is better); 1 is best, "
        "ties share the average of the ranks they span (so failures, all +∞, tie for the "
        "last places), as `scipy.stats.rankdata(method='average')`. The mean rank is the "
        "average of a forecaster's ranks over all tasks where the score is defined; the "
        "tables are sorted by the mean sMAPE rank. Ranks compare the forecasters shown here "
        "and change when one is added.",
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
             f"{len(lb.table)} forecaster{'s' if len(lb.table) != 1 else ''}, sorted by mean rank (sMAPE)."]
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
    return str(text).replace("|", "\\|").replace("\n", " ")


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


def render_csv(lb: Leaderboard) -> str:
    """The per-forecaster aggregate table (one row per forecaster, tidy column names)."""
    return lb.table.reset_index().to_csv(index=False, float_format="%.6g", lineterminator="\n")


# ---------------------------------------------------------------------------
# SVG plots
# ---------------------------------------------------------------------------


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / max(target, 1)
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def _y_range(series, cap_factor: float = 2.0) -> tuple[float, float]:
    """0 to a round number above the finite medians (bands are clipped at ``cap_factor``
    times the largest median so that one wide band does not flatten the others)."""
    medians = [y for s in series for y in s["y"] if np.isfinite(y)]
    bands = [y for s in series for y in (s.get("high") or []) if np.isfinite(y)]
    top = max(medians, default=1.0)
    top = max([top, *[b for b in bands if b <= cap_factor * top]])
    top = top if top > 0 else 1.0
    step = _nice_step(top)
    return 0.0, step * math.ceil(top / step * (1 + 1e-9))


def svg_chart(series, *, title: str, xlabel: str = "forecast horizon (Lyapunov times)", ylabel: str = "",
              width: int = 720, height: int = 360, y_range=None, legend: bool = True) -> str:
    """A line chart as inline SVG, x on a log scale.

    ``series`` is a list of dicts with ``label``, ``x``, ``y`` (NaN or inf: a gap),
    optional ``low``/``high`` (a shaded band), ``color`` and ``dash`` (bool). Values above
    the y range are drawn at its top.
    """
    left, right, top, bottom = 58, (230 if legend else 14), 28, 44
    pw, ph = width - left - right, height - top - bottom
    xs = sorted({float(x) for s in series for x in s["x"]}) or [1.0]
    lx0, lx1 = math.log(xs[0]), math.log(xs[-1])
    lx1 = lx1 if lx1 > lx0 else lx0 + 1
    y0, y1 = y_range or _y_range(series)

    def px(x):
        return left + (math.log(x) - lx0) / (lx1 - lx0) * pw

    def py(y):
        return top + ph - (min(max(y, y0), y1) - y0) / (y1 - y0) * ph

    e = html.escape
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{e(title)}" class="chart">',
             f'<title>{e(title)}</title>',
             f'<text x="{left + pw / 2:.1f}" y="16" text-anchor="middle" class="chart-title">{e(title)}</text>',
             f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#bbb"/>']
    step = _nice_step(y1 - y0)
    tick = y0
    while tick <= y1 + 1e-9 * step:
        y = py(tick)
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>')
        tick += step
    for x in xs:
        parts.append(f'<line x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{top}" y2="{top + ph}" stroke="#eee"/>'
                     f'<text x="{px(x):.1f}" y="{top + ph + 16}" text-anchor="middle">{x:g}</text>')
    parts.append(f'<text x="{left + pw / 2:.1f}" y="{height - 6}" text-anchor="middle">{e(xlabel)}</text>')
    parts.append(f'<text transform="translate(14 {top + ph / 2:.1f}) rotate(-90)" '
                 f'text-anchor="middle">{e(ylabel)}</text>')
    for s in series:
        color = e(s.get("color", "#333"))
        if s.get("low") is not None and s.get("high") is not None:
            pts = [(x, lo, hi) for x, lo, hi in zip(s["x"], s["low"], s["high"]) if not (np.isnan(lo) or np.isnan(hi))]
            if len(pts) > 1:
                ring = [(px(x), py(hi)) for x, _, hi in pts] + [(px(x), py(lo)) for x, lo, _ in reversed(pts)]
                parts.append(f'<polygon points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in ring)}" '
                             f'fill="{color}" fill-opacity="0.15" stroke="none"/>')
        segments, current = [], []
        for x, y in zip(s["x"], s["y"]):
            if np.isfinite(y):
                current.append((px(x), py(y)))
            elif current:
                segments.append(current)
                current = []
        if current:
            segments.append(current)
        dash = ' stroke-dasharray="5 4"' if s.get("dash") else ""
        for seg in segments:
            parts.append(f'<polyline points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in seg)}" fill="none" '
                         f'stroke="{color}" stroke-width="2"{dash}><title>{e(s["label"])}</title></polyline>')
            parts += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.5" fill="{color}"/>' for a, b in seg]
    if legend:
        for i, s in enumerate(series):
            y = top + 10 + 18 * i
            dash = ' stroke-dasharray="5 4"' if s.get("dash") else ""
            parts.append(f'<line x1="{left + pw + 10}" x2="{left + pw + 34}" y1="{y}" y2="{y}" '
                         f'stroke="{e(s.get("color", "#333"))}" stroke-width="2"{dash}/>'
                         f'<text x="{left + pw + 40}" y="{y + 4}">{e(s["label"])}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _series(lb: Leaderboard, metric: str, name: str, color: str, band: bool, dash: bool = False) -> dict:
    by_q = lb.horizons[metric]
    med = by_q[0.5]
    out = {"label": name, "x": [float(h) for h in med.columns], "y": list(med.loc[name].astype(float)),
           "color": color, "dash": dash}
    lows, highs = [q for q in by_q if q < 0.5], [q for q in by_q if q > 0.5]
    if band and lows and highs:
        out["low"] = list(by_q[min(lows)].loc[name].astype(float))
        out["high"] = list(by_q[max(highs)].loc[name].astype(float))
    return out


def charts(lb: Leaderboard) -> list[tuple[str, str]]:
    """(heading, SVG) pairs: all forecasters' median error per metric, then one panel per
    forecaster with its interquartile band and the baseline's median (dashed)."""
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(lb.table.index)}
    dashed = {name: (i // len(PALETTE)) % 2 == 1 for i, name in enumerate(lb.table.index)}
    out = []
    for metric in lb.horizons:
        title = METRIC_TITLES.get(metric, metric)
        series = [_series(lb, metric, n, colors[n], band=False, dash=dashed[n])
                  for n in lb.table.index]
        out.append((f"Median {title} vs forecast horizon",
                    svg_chart(series, title=f"median {title} over tasks", ylabel=title)))
    metric = "smape" if "smape" in lb.horizons else next(iter(lb.horizons), None)
    if metric is not None:
        title = METRIC_TITLES.get(metric, metric)
        panels = []
        for n in lb.table.index:
            s = [_series(lb, metric, n, colors[n], band=True)]
            if lb.baseline and n != lb.baseline:
                s.append(_series(lb, metric, lb.baseline, "#777", band=False, dash=True))
            panels.append(s)
        y_range = _y_range([s for p in panels for s in p])
        for n, s in zip(lb.table.index, panels):
            out.append((f"{n}: {title} by horizon (median, 25-75% band)",
                        svg_chart(s, title=str(n), ylabel=title, width=330, height=230, y_range=y_range,
                                  legend=False)))
    return out


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1200px;
       padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: right; white-space: nowrap; }
th:nth-child(-n+2), td:nth-child(-n+2) { text-align: left; }
table.sortable th { cursor: pointer; background: #f4f4f4; position: sticky; top: 0; }
table.sortable th[aria-sort="ascending"]::after { content: " \\25B2"; }
table.sortable th[aria-sort="descending"]::after { content: " \\25BC"; }
tbody tr:hover { background: #f8f8ff; }
.panels { display: flex; flex-wrap: wrap; gap: 8px; }
svg.chart text { font-size: 11px; fill: #333; }
svg.chart .chart-title { font-size: 13px; font-weight: 600; }
.note { color: #555; }
"""

_JS = """
(function () {
  function key(cell) {
    var v = cell.getAttribute("data-sort");
    if (v === null) { return cell.textContent.trim().toLowerCase(); }
    return v === "" ? NaN : parseFloat(v);
  }
  function compare(a, b, asc) {
    var an = typeof a === "number", bn = typeof b === "number";
    if (an && isNaN(a)) { return 1; }
    if (bn && isNaN(b)) { return -1; }
    var r = (an && bn) ? (a === b ? 0 : (a < b ? -1 : 1)) : String(a).localeCompare(String(b));
    return asc ? r : -r;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) { return compare(key(a.cells[col]), key(b.cells[col]), asc); });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
"""


def _sort_attr(value) -> str:
    if value is None:
        return ""
    value = float(value)
    if math.isnan(value):
        return ' data-sort=""'
    return f' data-sort="{"Infinity" if value == math.inf else "-Infinity" if value == -math.inf else repr(value)}"'


def html_table(table: Table) -> str:
    """A sortable HTML table: clicking a header sorts by it (numeric columns by value)."""
    e = html.escape
    head = "".join(f'<th title="{e(c.note)}">{e(c.header)}</th>' if c.note else f"<th>{e(c.header)}</th>"
                   for c in table.columns)
    rows = []
    for i in range(len(table.columns[0].text)):
        cells = "".join(f"<td{_sort_attr(None if c.sort is None else c.sort[i])}>{e(c.text[i])}</td>"
                        for c in table.columns)
        rows.append(f"<tr>{cells}</tr>")
    return (f'<table class="sortable" id="{e(table.key)}">\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
            + "\n".join(rows) + "\n</tbody>\n</table>")


def _md_inline(text: str) -> str:
    """Escape, then the little Markdown used in :func:`methods` (**bold**, *em*, `code`)."""
    import re
    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"\*(.+?)\*", r"<em>\1</em>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


def render_html(lb: Leaderboard) -> str:
    """A single self-contained page: inline CSS, a small inline script for sorting, inline SVG."""
    e = html.escape
    body = ["<h1>dysts-bench leaderboard</h1>",
            f'<p class="note">{_md_inline(" ".join(_header_lines(lb)))} Click a column header to sort.</p>']
    all_tables = tables(lb)
    body += [f"<h2>{e(all_tables[0].title)}</h2>", html_table(all_tables[0])]
    figures = charts(lb)
    n_overview = len(lb.horizons)
    body.append("<h2>Error vs forecast horizon</h2>")
    body += [f"<figure>{svg}<figcaption>{e(caption)}</figcaption></figure>"
             for caption, svg in figures[:n_overview]]
    if figures[n_overview:]:
        body.append(f"<h3>Per forecaster (median and 25–75% range over tasks; dashed: {e(str(lb.baseline))})</h3>")
        body.append('<div class="panels">' + "".join(f"<div>{svg}</div>" for _, svg in figures[n_overview:])
                    + "</div>")
    for table in all_tables[1:]:
        body += [f"<h2>{e(table.title)}</h2>", html_table(table)]
    body.append("<h2>How the aggregates are computed</h2>")
    body += [f"<p>{_md_inline(p)}</p>" for p in methods(lb)]
    body.append("<h2>Source files</h2><ul>" + "".join(f"<li><code>{e(Path(f).name)}</code></li>" for f in lb.files)
                + "</ul>")
    if lb.warnings:
        body.append("<h2>Warnings</h2><ul>" + "".join(f"<li>{e(w)}</li>" for w in lb.warnings) + "</ul>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>dysts-bench leaderboard ({e(lb.evaluation)})</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + f"\n<script>{_JS}</script>\n</body>\n</html>\n")


# ---------------------------------------------------------------------------
# Terminal
# ---------------------------------------------------------------------------


def print_terminal(lb: Leaderboard, console=None):
    """The summary and horizon tables as rich tables."""
    from rich.console import Console
    from rich.table import Table as RichTable
    console = console or Console(width=200)
    console.print(" ".join(_header_lines(lb)))
    for table in tables(lb):
        rich_table = RichTable(title=table.title)
        for c in table.columns:
            rich_table.add_column(c.header, justify="right" if c.sort is not None else "left", overflow="fold")
        for row in table.rows:
            rich_table.add_row(*row)
        console.print(rich_table)
    for w in lb.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}", markup=True, highlight=False)


def write(lb: Leaderboard, out_dir, formats=("markdown", "csv", "html"), results_dir=None) -> list[Path]:
    """Write ``README.md``, ``results.csv`` and/or ``index.html`` into ``out_dir``
    (``results_dir``, if given, is linked from the Markdown relative to ``out_dir``)."""
    import functools
    import os
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    link = "results/" if results_dir is None else \
        Path(os.path.relpath(Path(results_dir).resolve(), out_dir.resolve())).as_posix() + "/"
    renderers = {"markdown": ("README.md", functools.partial(render_markdown, results_link=link)),
                 "csv": ("results.csv", render_csv), "html": ("index.html", render_html)}
    written = []
    for fmt_name in formats:
        name, render = renderers[fmt_name]
        path = out_dir / name
        path.write_text(render(lb))
        written.append(path)
    return written


__all__ = ["Column", "Table", "charts", "cost_table", "fmt", "horizon_table", "html_table", "markdown_table",
           "methods", "print_terminal", "render_csv", "render_html", "render_markdown", "summary_table",
           "svg_chart", "tables", "write"]

"""The leaderboard as a static HTML page (jinja2 templates in ``templates/``, matplotlib SVG
charts inline): one self-contained file that opens offline, with sortable tables; and, on
request, one page per system (attractor picture, invariants, citation, every forecaster's
errors on it) under ``systems/`` next to it.

jinja2 and matplotlib are the ``plot`` extra: ``pip install 'dysts-bench[plot]'``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from .aggregate import Leaderboard


def _environment():
    try:
        import jinja2
    except ImportError as exc:
        raise ImportError("the HTML leaderboard needs jinja2 and matplotlib: "
                          "pip install 'dysts-bench[plot]'") from exc
    return jinja2.Environment(loader=jinja2.PackageLoader("dysts_bench.leaderboard", "templates"),
                              autoescape=jinja2.select_autoescape(["html", "j2"]), keep_trailing_newline=True,
                              trim_blocks=False, lstrip_blocks=False)


def markdown_inline(text: str):
    """One paragraph of Markdown as HTML (markdown-it-py, which rich already depends on;
    raw HTML in the text is escaped, not passed through)."""
    import markupsafe
    from markdown_it import MarkdownIt
    return markupsafe.Markup(MarkdownIt("commonmark", {"html": False}).renderInline(text))


def _sort_key(value) -> str | None:
    if value is None:
        return None
    value = float(value)
    if math.isnan(value):
        return ""
    return "Infinity" if value == math.inf else "-Infinity" if value == -math.inf else repr(value)


def _split_ci(text: str) -> tuple[str, str]:
    """``"+0.12 [+0.1, +0.2]"`` -> (estimate, interval) so the interval goes on its own line."""
    m = re.fullmatch(r"(\S+) (\[.*\])", text)
    return (m.group(1), m.group(2)) if m else (text, "")


def html_view(table, colors: dict | None = None) -> dict:
    """A :class:`.render.Table` as the templates' ``{key, title, columns, rows}`` with cell
    dicts (text, numeric sort key, alignment class, colour swatch, confidence interval)."""
    columns = []
    for c in table.columns:
        kind = "num" if c.sort is not None else ("wrap" if c.header == "statuses" else "text")
        columns.append({"header": c.header, "note": c.note, "kind": kind})
    rows = []
    for i in range(len(table.columns[0].text)):
        row = []
        for c, col in zip(table.columns, columns):
            text, ci = _split_ci(c.text[i]) if c.header.startswith("skill") else (c.text[i], "")
            color = (colors or {}).get(c.text[i].rstrip(" †")) if c.header == "forecaster" else None
            row.append({"text": text, "ci": ci, "kind": col["kind"], "color": color,
                        "sort": None if c.sort is None else _sort_key(c.sort[i])})
        rows.append(row)
    return {"key": table.key, "title": table.title, "columns": columns, "rows": rows}


def split_summary(table, keep: int = 4):
    """The summary as two tables that each fit a 1400 px page: the headline columns
    (priority <= ``keep``, the ones a narrow terminal keeps too) and the details (rank
    and forecaster name repeated, then the rest)."""
    from .render import Table
    head = [c for c in table.columns if c.priority <= keep]
    names = [c for c in table.columns if c.priority == 0 or c.header == "#"]
    rest = [c for c in table.columns if c.priority > keep and c not in names]
    if not rest:
        return [table]
    return [Table(table.key, table.title, head),
            Table(f"{table.key}-details", f"{table.title}: details", names + rest)]


def render_html(lb: Leaderboard, system_links=()) -> str:
    """A single self-contained page: inline CSS, a small inline script for sorting, inline
    SVG charts. ``system_links``: (name, relative href) of per-system pages to link."""
    from . import figures
    from .render import _header_lines, methods, tables
    style = figures.styles(lb.table.index)
    colors = {str(k): v["color"] for k, v in style.items()}
    all_tables = tables(lb)
    horizon_figures = [{"svg": figures.horizon_chart(lb, m, style),
                        "caption": f"Median {figures.METRIC_TITLES.get(m, m)} over tasks by forecast horizon; "
                                   "a log axis where the values span more than "
                                   f"{figures.LOG_SPAN:g}x."} for m in lb.horizons]
    metric = "smape" if "smape" in lb.horizons else next(iter(lb.horizons), None)
    scatter, note = figures.scatter_chart(lb, style)
    qs = sorted(lb.horizons[metric]) if metric else []
    context = {
        "evaluation": lb.evaluation, "header": markdown_inline(" ".join(_header_lines(lb))),
        "summary": html_view(split_summary(all_tables[0])[0], colors),
        "other_tables": [html_view(t, colors) for t in split_summary(all_tables[0])[1:] + all_tables[1:]],
        "horizon_figures": horizon_figures,
        "panels": figures.panels_chart(lb, metric, style) if metric else "",
        "band": f"{qs[0]:.0%}–{qs[-1]:.0%}" if qs else "", "baseline": lb.baseline,
        "scatter": scatter, "scatter_note": note,
        "methods": [markdown_inline(p) for p in methods(lb)],
        "files": [Path(f).name for f in lb.files], "warnings": lb.warnings,
        "system_links": list(system_links),
    }
    return _environment().get_template("index.html.j2").render(**context)


# ---------------------------------------------------------------------------
# Per-system pages (written on request; never committed: they are large)
# ---------------------------------------------------------------------------


def _invariants_view(system) -> dict:
    from .render import Column, Table
    items = [(k, v) for k, v in (system.invariants or {}).items() if not isinstance(v, (dict, list))]
    items = [("dimension", system.dim), ("dt", system.dt), ("dominant period", system.period), *items]
    text = [f"{v:.6g}" if isinstance(v, float) else str(v) for _, v in items]
    return html_view(Table(f"invariants-{system.name}", "Invariants",
                           [Column("quantity", [k.replace("_", " ") for k, _ in items]), Column("value", text)]))


def _errors_view(frame, system_name: str) -> dict:
    """One row per (forecaster, series) on this system: status, sMAPE, VPT."""
    from .render import Column, Table, fmt
    part = frame[frame["system"] == system_name].sort_values(["forecaster", "series"], kind="stable")

    def col(name):
        return [float(v) if v is not None and not (isinstance(v, float) and math.isnan(v)) else math.nan
                for v in (part[name] if name in part else [math.nan] * len(part))]
    smape, vpt = col("smape"), col("vpt_smape")  # vpt_* are in Lyapunov times
    return html_view(Table(f"errors-{system_name}", "Forecasters", [
        Column("forecaster", [str(v) for v in part["forecaster"]]),
        Column("series", [str(int(v)) for v in part["series"]], [int(v) for v in part["series"]]),
        Column("status", [str(v) for v in part["status"]]),
        Column("sMAPE", [fmt(v) for v in smape], smape),
        Column("VPT (λ, sMAPE)", [fmt(v) for v in vpt], vpt)]))


def write_system_pages(lb: Leaderboard, frame, out_dir, results_dir=None, top: int = 3) -> list[Path]:
    """``out_dir/systems/<name>.html`` (+ PNG pictures) for every system of the leaderboard;
    forecast-against-truth plots of the ``top`` forecasters where their forecasts are stored
    under ``results_dir/.forecasts``. Returns the pages written."""
    import matplotlib.pyplot as plt

    from ..plot import plot_forecast, plot_system, stored_forecast
    from ..registry import get_system
    out = Path(out_dir) / "systems"
    out.mkdir(parents=True, exist_ok=True)
    part = frame[frame["evaluation"] == lb.evaluation]
    env = _environment()
    pages = []
    for name in sorted(part["system"].unique()):
        system = get_system(name)
        fig = plot_system(name)
        fig.savefig(out / f"{name}.png", dpi=80)
        plt.close(fig)
        forecasts = []
        for forecaster in list(lb.table.index)[:top]:
            run_id = lb.table.loc[forecaster, "run_id"]
            path = stored_forecast(results_dir, run_id, lb.evaluation, name, 0) if results_dir else None
            if path is not None:
                f = plot_forecast(name, 0, np.load(path), label=str(forecaster))
                f.savefig(out / f"{name}.{forecaster}.png", dpi=80)
                plt.close(f)
                forecasts.append({"src": f"{name}.{forecaster}.png",
                                  "caption": f"{forecaster} against the truth (series 0)"})
        html_text = env.get_template("system.html.j2").render(
            name=name, description=system.description, citation=system.citation, picture=f"{name}.png",
            invariants=_invariants_view(system), errors=_errors_view(part, name), forecasts=forecasts)
        page = out / f"{name}.html"
        page.write_text(html_text)
        pages.append(page)
    return pages


__all__ = ["html_view", "render_html", "write_system_pages"]

"""The leaderboard's charts as inline SVG, drawn with matplotlib (imported lazily).

Every chart is deterministic (fixed SVG hash salt, no date), keeps its text as text (small
files, selectable labels) and scales with the page (no fixed size in the markup). Each
forecaster has the same colour and marker in every chart (:func:`styles`).
"""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pandas as pd

from .aggregate import Leaderboard

METRIC_TITLES = {"smape": "sMAPE", "nrmse": "nRMSE"}
#: A chart whose finite positive values span more than this factor gets a log axis.
LOG_SPAN = 20.0
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
#: Candidate long-term (attractor) statistics in the aggregate table, most wanted first;
#: matched case-insensitively as substrings of the column names.
LONG_TERM_KEYS = ("stsp", "hellinger", "d_h", "attractor", "power_spectrum", "correlation_dimension")


#: After tab10: dark and light shades chosen to differ from tab10 and from each other
#: (from matplotlib's tab20b/tab20c/Dark2), then tab20's light shades: 40 in all.
EXTRA_COLORS = ("#000000", "#393b79", "#b8860b", "#7b4173", "#637939", "#843c39", "#6b6ecf", "#e7ba52",
                "#ce6dbd", "#3182bd", "#31a354", "#e6550d", "#756bb1", "#636363", "#b5cf6b", "#e7969c",
                "#8c6d31", "#d6616b", "#a1d99b", "#9e9ac8")


def colors(n: int) -> list[str]:
    """``n`` colours (hex), distinct for up to 40 forecasters (cycled beyond): tab10, then
    :data:`EXTRA_COLORS`, then the light half of tab20."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex
    base = [to_hex(c) for c in colormaps["tab10"].colors] + list(EXTRA_COLORS)
    base += [to_hex(c) for c in colormaps["tab20"].colors[1::2]]
    unique = list(dict.fromkeys(base))
    return [unique[i % len(unique)] for i in range(n)]


def styles(names) -> dict:
    """Forecaster -> ``{"color", "marker"}``, fixed by its position in ``names``."""
    names = list(names)
    return {n: {"color": c, "marker": MARKERS[i % len(MARKERS)]}
            for i, (n, c) in enumerate(zip(names, colors(len(names))))}


def wants_log(values) -> bool:
    """True when the finite positive values span more than :data:`LOG_SPAN` (max / min)."""
    v = np.asarray([x for x in np.ravel(values) if np.isfinite(x) and x > 0], dtype=float)
    return v.size > 1 and v.max() / v.min() > LOG_SPAN


def to_svg(fig) -> str:
    """The figure as an SVG element (no XML prolog, no fixed size: it scales with CSS)."""
    import matplotlib.pyplot as plt
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)  # RDF boilerplate
    # drop the pt size so that the viewBox and CSS decide (keeps the aspect ratio)
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 class="chart"', text, count=1)


def _figure(width=7.2, height=3.6):
    import matplotlib
    matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "dysts-bench",
                                "font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    import matplotlib.pyplot as plt
    return plt.subplots(figsize=(width, height))


def horizon_chart(lb: Leaderboard, metric: str, style: dict) -> str:
    """Median error against the forecast horizon, one line per forecaster."""
    med = lb.horizons[metric][0.5]
    fig, ax = _figure()
    for name in med.index:
        y = med.loc[name].astype(float).to_numpy()
        ax.plot(med.columns.astype(float), np.where(np.isfinite(y), y, np.nan), label=str(name),
                color=style[name]["color"], marker=style[name]["marker"], markersize=3.5, linewidth=1.4)
    ax.set_xscale("log")
    ticks = [float(h) for h in med.columns]
    ax.set_xticks(ticks, [f"{h:g}" for h in ticks])
    ax.minorticks_off()
    title = METRIC_TITLES.get(metric, metric)
    if wants_log(med.to_numpy(dtype=float)):
        ax.set_yscale("log")
        title += " (log scale)"
    ax.set_xlabel("forecast horizon (Lyapunov times)")
    ax.set_ylabel(title)
    ax.grid(True, color="#eee", linewidth=0.6)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False,
              ncol=1 if len(med.index) <= 16 else 2)
    return to_svg(fig)


def panels_chart(lb: Leaderboard, metric: str, style: dict) -> str:
    """Small multiples: each forecaster's median and interquartile band by horizon, with
    the baseline's median dashed; one shared y axis."""
    import matplotlib.pyplot as plt
    by_q = lb.horizons[metric]
    names = list(by_q[0.5].index)
    cols = 4
    rows = math.ceil(len(names) / cols)
    _figure()
    fig, axes = plt.subplots(rows, cols, figsize=(7.2, 1.7 * rows), sharex=True, sharey=True, squeeze=False)
    x = by_q[0.5].columns.astype(float)
    lo, hi = min(by_q), max(by_q)
    log = wants_log(by_q[0.5].to_numpy(dtype=float))
    for ax, name in zip(axes.flat, names):
        c = style[name]["color"]
        ax.fill_between(x, _finite(by_q[lo].loc[name]), _finite(by_q[hi].loc[name]), color=c, alpha=0.18, lw=0)
        ax.plot(x, _finite(by_q[0.5].loc[name]), color=c, lw=1.4)
        if lb.baseline and name != lb.baseline:
            ax.plot(x, _finite(by_q[0.5].loc[lb.baseline]), color="#777", lw=1, ls="--")
        ax.set_title(str(name), fontsize=8)
        ax.set_xscale("log")
        ax.grid(True, color="#eee", linewidth=0.5)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    if log:
        axes.flat[0].set_yscale("log")
    else:
        top = np.nanmax(_finite(by_q[0.5].to_numpy(dtype=float)))
        if np.isfinite(top):  # bands clipped at twice the largest median: one wide band cannot flatten the rest
            axes.flat[0].set_ylim(0, 2 * top)
    shown = list(x)[::2] if len(x) > 4 else list(x)  # every other horizon: small panels
    if list(x) and x[-1] not in shown:
        shown[-1] = x[-1]
    axes.flat[0].set_xticks(shown, [f"{h:g}" for h in shown])
    axes.flat[0].minorticks_off()
    fig.supxlabel("forecast horizon (Lyapunov times)", fontsize=8)
    fig.supylabel(METRIC_TITLES.get(metric, metric) + (" (log scale)" if log else ""), fontsize=8)
    fig.tight_layout()
    return to_svg(fig)


def _finite(values):
    v = np.asarray(values, dtype=float)
    return np.where(np.isfinite(v), v, np.nan)


def long_term_column(table) -> str | None:
    """The aggregate column of a long-term (attractor) statistic, if the table has one with
    values: by :data:`LONG_TERM_KEYS` order, a median before other columns. Ranks and skills
    are never used: a rank exists even when no forecaster has the statistic."""
    candidates = []
    for col in table.columns:
        name = str(col).lower()
        keys = [i for i, key in enumerate(LONG_TERM_KEYS) if key in name]
        if not keys or name.endswith(("_low", "_high", "_tasks")) or "rank" in name or "skill" in name:
            continue
        values = pd.to_numeric(table[col], errors="coerce")
        if np.isfinite(values.to_numpy(dtype=float)).any():
            candidates.append((min(keys), not name.startswith("median"), col))
    return min(candidates)[2] if candidates else None


def scatter_axes(lb: Leaderboard) -> tuple[str, str, str]:
    """(x column, y column, note) of the short- vs long-term scatter. Without an attractor
    statistic in the aggregates, y falls back to the median sMAPE at the longest horizon."""
    x = "median_vpt_smape"
    y = long_term_column(lb.table)
    if y is not None:
        return x, y, ""
    horizon = [c for c in lb.table.columns if c.startswith("median_smape@")]
    y = max(horizon, key=lambda c: float(c.split("@")[1])) if horizon else "mean_rank_smape"
    return x, y, (f"No long-term attractor statistic in these results; the vertical axis is "
                  f"{y} instead.")


def _pretty(column: str) -> str:
    """``median_smape@24`` -> ``median sMAPE, first 24 Lyapunov times``."""
    base, _, horizon = column.partition("@")
    for key, title in METRIC_TITLES.items():
        base = base.replace(key, title)
    base = base.replace("_", " ")
    return f"{base}, first {horizon} Lyapunov times" if horizon else base


def scatter_chart(lb: Leaderboard, style: dict) -> tuple[str, str]:
    """Short-term skill (median VPT, right is better) against a long-term statistic (lower
    is better), one labelled point per forecaster. Returns (SVG, note)."""
    xcol, ycol, note = scatter_axes(lb)
    fig, ax = _figure(7.2, 3.6)
    xs, ys = lb.table[xcol].astype(float), lb.table[ycol].astype(float)
    log = wants_log(ys.to_numpy())
    for name in lb.table.index:  # named in the legend: labels next to the points collide
        x, y = xs[name], ys[name]
        if np.isfinite(x) and np.isfinite(y):
            ax.scatter([x], [y], color=style[name]["color"], marker=style[name]["marker"], s=40, zorder=3,
                       label=str(name), edgecolors="white", linewidths=0.5)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False,
              ncol=1 if len(lb.table) <= 16 else 2)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("short term: median VPT (Lyapunov times, sMAPE < 30) →  better")
    ax.set_ylabel(f"long term: {_pretty(ycol)}\n(lower is better)")
    ax.grid(True, color="#eee", linewidth=0.6)
    return to_svg(fig), note


__all__ = ["colors", "horizon_chart", "long_term_column", "panels_chart", "scatter_axes", "scatter_chart",
           "styles", "to_svg", "wants_log"]

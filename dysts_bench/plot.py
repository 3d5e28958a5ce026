"""Pictures of the systems and of forecasts against the truth (matplotlib, imported lazily;
``pip install 'dysts-bench[plot]'``).

* :func:`plot_system`: the attractor (a 3-D projection for three or more variables, the
  phase plane for two, a delay embedding for one) with the time series beneath, from the
  shipped dataset (first test series), or integrated now when the dataset lacks the system.
* :func:`gallery`: small multiples of every system and a static ``index.html``.
* :func:`plot_forecast`: a forecast against the truth in time (Lyapunov-time axis, valid
  prediction time marked) and in state space.

Delay systems are stored in the dataset as delay embeddings already (columns ``x(t)``,
``x(t - L)``, ...), so their first three columns are the embedding that is drawn.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

#: Delay-embedding lag, in samples, for a scalar series: a quarter of the dominant period
#: at the dataset's 100 samples per period (a common rule of thumb for the lag of a
#: delay reconstruction, e.g. Kantz & Schreiber, *Nonlinear Time Series Analysis*, 2004).
SCALAR_LAG = 25
TRUTH_COLOR, FORECAST_COLOR = "#222222", "#D55E00"


def _pyplot():
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError("plots need matplotlib: pip install 'dysts-bench[plot]'") from exc
    if matplotlib.get_backend().lower() not in ("agg", "svg", "pdf") and not _interactive():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _interactive() -> bool:
    import sys
    return hasattr(sys, "ps1") or "ipykernel" in sys.modules


def system_series(name: str, n: int | None = None, series: int = 0):
    """``(t, values, labels, meta)`` of a system: the shipped first test series (context and
    future, ``n`` samples at most), else ``n`` (default 4000) samples integrated now."""
    from .dataset import DatasetError, available_systems, load_block
    if name in available_systems():
        try:
            block = load_block(name, "test")
        except DatasetError:
            block = None
        if block is not None:
            if not 0 <= series < block.values.shape[0]:
                raise ValueError(f"{name}: no test series {series} (have {block.values.shape[0]})")
            values = np.asarray(block.values[series], dtype=float)[:n]
            t = np.asarray(block.t[series], dtype=float)[:n]
            labels = _labels(block.meta, values.shape[1])
            return t, values, labels, dict(block.meta)
    from .registry import get_system
    from .trajectory import make_trajectory
    system = get_system(name)
    t, values = make_trajectory(system, n or 4000)
    values = values if values.ndim == 2 else values[:, None]
    meta = {"system": system.name, "dt": float(t[1] - t[0]), "maximum_lyapunov": system.maximum_lyapunov,
            "delay": system.delay, "variables": list(system.variables)}
    return t, values, _labels(meta, values.shape[1]), meta


def _labels(meta, columns: int) -> list[str]:
    variables = list(meta.get("variables") or [])
    if len(variables) == columns:
        return variables
    embedding = int(meta.get("embedding") or 1)
    if variables and embedding > 1 and len(variables) * embedding == columns:
        return [f"{v}(t-{j}L)" if j else f"{v}(t)" for v in variables for j in range(embedding)]
    return [f"x{i}" for i in range(columns)]


def _embedding(values: np.ndarray, labels: list[str]):
    """Columns to draw (up to three) and their labels; a scalar series is delay-embedded."""
    if values.shape[1] >= 2:
        k = min(3, values.shape[1])
        return values[:, :k], labels[:k]
    x = values[:, 0]
    lag = min(SCALAR_LAG, max(1, len(x) // 10))
    emb = np.column_stack([x[2 * lag:], x[lag:-lag], x[:-2 * lag]])
    name = labels[0]
    return emb, [f"{name}(t)", f"{name}(t-{lag}Δt)", f"{name}(t-{2 * lag}Δt)"]


def draw_attractor(ax, values, labels, color="#0072B2", lw=0.5, **kwargs):
    """Draw ``values`` (n, 2 or 3) on ``ax`` (a 3-D axes for three columns)."""
    if values.shape[1] >= 3:
        ax.plot(values[:, 0], values[:, 1], values[:, 2], color=color, lw=lw, **kwargs)
        ax.set_zlabel(labels[2], labelpad=-2)
    else:
        ax.plot(values[:, 0], values[:, 1], color=color, lw=lw, **kwargs)
    ax.set_xlabel(labels[0], labelpad=-2)
    ax.set_ylabel(labels[1], labelpad=-2)


def _attractor_axes(fig, spec, dims: int):
    ax = fig.add_subplot(spec, projection="3d" if dims >= 3 else None)
    if dims >= 3:
        ax.tick_params(labelsize=6, pad=-2)
        ax.view_init(elev=22, azim=-60)
    return ax


def plot_system(name: str, n: int | None = None, *, series: int = 0, figsize=(6.0, 6.4)):
    """A figure of a system: the attractor above, its first variables against time beneath.

    Parameters
    ----------
    name : str
        A registry name (see ``dysts-bench systems``).
    n : int, optional
        Samples to draw (default: the whole shipped test series, 4700 samples).
    series : int
        Which test series of the dataset.
    """
    plt = _pyplot()
    t, values, labels, meta = system_series(name, n, series)
    emb, emb_labels = _embedding(values, labels)
    fig = plt.figure(figsize=figsize)
    grid = fig.add_gridspec(2, 1, height_ratios=[3.2, 1], hspace=0.12, top=1.0, bottom=0.08,
                            left=0.1, right=0.95)
    ax = _attractor_axes(fig, grid[0], emb.shape[1])
    draw_attractor(ax, emb, emb_labels)
    kind = "delay embedding" if meta.get("delay") or values.shape[1] == 1 else "attractor"
    ax.set_title(f"{name} ({kind})", fontsize=11, y=0.98)
    ts = fig.add_subplot(grid[1])
    # an embedding's other columns are lagged copies of the first: draw the observed one
    shown = 1 if meta.get("delay") else min(3, values.shape[1])
    for i in range(shown):
        ts.plot(t, values[:, i], lw=0.7, label=labels[i])
    ts.set_xlabel("time")
    ts.legend(loc="upper right", fontsize=7, ncol=3, frameon=False)
    ts.tick_params(labelsize=7)
    return fig


# ---------------------------------------------------------------------------
# Gallery
# ---------------------------------------------------------------------------


def gallery(out_dir, systems=None, n: int | None = 3000, dpi: int = 60) -> Path:
    """One small picture per system (``out_dir/<name>.png``) and ``out_dir/index.html``
    showing them all. Returns the index path."""
    from .dataset import available_systems
    plt = _pyplot()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = list(systems) if systems else available_systems()
    cards = []
    for name in names:
        t, values, labels, meta = system_series(name, n)
        emb, emb_labels = _embedding(values, labels)
        fig = plt.figure(figsize=(3, 3))
        ax = _attractor_axes(fig, 111, emb.shape[1])
        draw_attractor(ax, emb, emb_labels, lw=0.4)
        ax.set_axis_off()  # small multiples: the shape only; the name is the caption
        fig.subplots_adjust(0, 0, 1, 1)
        fig.savefig(out / f"{name}.png", dpi=dpi)
        plt.close(fig)
        cards.append(f'<figure><img src="{html.escape(name)}.png" alt="{html.escape(name)}" loading="lazy">'
                     f"<figcaption>{html.escape(name)}</figcaption></figure>")
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>dysts-bench gallery</title><style>body{font:14px system-ui,sans-serif;margin:1em}"
            ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:8px}"
            "figure{margin:0}img{width:100%;height:auto}figcaption{text-align:center;font-size:12px}"
            f"</style></head><body><h1>dysts-bench: {len(cards)} systems</h1><div class=\"grid\">"
            + "".join(cards) + "</div></body></html>\n")
    index = out / "index.html"
    index.write_text(page)
    return index


# ---------------------------------------------------------------------------
# Forecast against truth
# ---------------------------------------------------------------------------


def stored_forecast(results_dir, run_id: str, evaluation: str, system: str, series: int) -> Path | None:
    """The stored forecast ``<results_dir>/.forecasts/<run_id>.<evaluation>/<system>/<series>.npy``
    if the runner kept it, else None."""
    path = Path(results_dir) / ".forecasts" / f"{run_id}.{evaluation}" / system / f"{int(series)}.npy"
    return path if path.is_file() else None


def truth_of(system: str, series: int):
    """``(context, future, info)`` of a canonical test task."""
    from .dataset import iter_tasks
    for task in iter_tasks("test", systems=[system]):
        if task.series == series:
            return np.asarray(task.context), np.asarray(task.future), dict(task.info)
    raise ValueError(f"{system}: no canonical test series {series}")


def plot_forecast(system: str, series: int, forecast, *, label: str = "forecast", context_shown: int = 300,
                  figsize=(9.0, 6.0)):
    """The forecast against the truth: each variable in time (x: Lyapunov times from the
    forecast origin, when the exponent is known; the valid prediction time, sMAPE < 30,
    marked) and the two trajectories in state space."""
    from .metrics import valid_prediction_time
    plt = _pyplot()
    context, future, info = truth_of(system, series)
    forecast = np.asarray(forecast, dtype=float)
    forecast = forecast[:, None] if forecast.ndim == 1 else forecast
    if forecast.shape != future.shape:
        raise ValueError(f"forecast of shape {forecast.shape} does not match the {system} series {series} "
                         f"future of shape {future.shape}")
    lam, dt = info.get("maximum_lyapunov"), float(info["dt"])
    scale, unit = (dt * lam, "Lyapunov times") if lam and lam > 0 else (dt, "time")
    steps = np.arange(-min(context_shown, len(context)), len(future))
    vpt = float(valid_prediction_time(future, forecast, dt=None))
    dims = min(3, future.shape[1])
    fig = plt.figure(figsize=figsize)
    grid = fig.add_gridspec(dims, 2, width_ratios=[1.7, 1], hspace=0.15, wspace=0.15)
    labels = _labels(info, future.shape[1])
    for i in range(dims):
        ax = fig.add_subplot(grid[i, 0])
        truth = np.concatenate([context[-min(context_shown, len(context)):, i], future[:, i]])
        ax.plot(steps * scale, truth, color=TRUTH_COLOR, lw=0.8, label="truth")
        ax.plot(np.arange(len(future)) * scale, forecast[:, i], color=FORECAST_COLOR, lw=0.9, label=label)
        ax.axvline(0, color="#999", lw=0.6)
        ax.axvline(vpt * scale, color="#009E73", lw=1.0, ls="--", label=f"VPT = {vpt * scale:.3g} {unit}")
        ax.set_ylim(*_padded(truth))  # a diverging forecast must not flatten the truth
        ax.set_ylabel(labels[i], fontsize=8)
        ax.tick_params(labelsize=7, labelbottom=i == dims - 1)
        if i == 0:
            ax.legend(fontsize=7, loc="upper left", ncol=3, frameon=False)
            ax.set_title(f"{system}, series {series}: {label} against the truth", fontsize=10)
    ax.set_xlabel(f"{unit} from the forecast origin")
    emb_t, emb_labels = _embedding(future, labels)
    emb_f, _ = _embedding(forecast, labels)
    ax = _attractor_axes(fig, grid[:, 1], emb_t.shape[1])
    draw_attractor(ax, emb_t, emb_labels, color=TRUTH_COLOR, lw=0.4, alpha=0.6)
    finite = np.isfinite(emb_f).all(axis=1)
    draw_attractor(ax, np.where(finite[:, None], emb_f, np.nan), emb_labels, color=FORECAST_COLOR, lw=0.5)
    for j, setter in enumerate((ax.set_xlim, ax.set_ylim, getattr(ax, "set_zlim", None))[:emb_t.shape[1]]):
        setter(*_padded(emb_t[:, j]))
    ax.set_title("state space", fontsize=9)
    return fig


def _padded(values, margin: float = 0.3) -> tuple[float, float]:
    """The range of the finite ``values``, widened by ``margin`` of its span on each side."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    lo, hi = (float(v.min()), float(v.max())) if v.size else (-1.0, 1.0)
    pad = margin * (hi - lo) or 1.0
    return lo - pad, hi + pad


def forecast_for(results, system: str, series: int, *, forecaster: str | None = None,
                 evaluation: str = "canonical", rerun_dir=None):
    """``(forecast, label)`` of one task: the forecast stored beside the results, else a
    re-run of that one task through :func:`dysts_bench.runner.run` into ``rerun_dir``
    (a temporary directory by default).

    ``results`` is a results directory or one run file (``<run_id>.<evaluation>.jsonl``);
    a directory with several runs needs ``forecaster``.
    """
    record = _record_of(results, system, series, forecaster, evaluation)
    fc = record["forecaster"]
    results_dir = Path(results) if Path(results).is_dir() else Path(results).parent
    path = stored_forecast(results_dir, fc["run_id"], record["evaluation"], system, series)
    if path is not None:
        return np.load(path), fc["name"]
    return _rerun(record, system, series, rerun_dir), fc["name"]


def _record_of(results, system, series, forecaster, evaluation) -> dict:
    from .runner import read_results
    results = Path(results)
    files = [results] if results.is_file() else sorted(results.glob(f"*.{evaluation}.jsonl"))
    matches = []
    for f in files:
        for r in read_results(f):
            if r.get("system") == system and int(r.get("series", -1)) == series and \
                    (forecaster is None or r["forecaster"]["name"] == forecaster or
                     r["forecaster"].get("run_id") == forecaster):
                matches.append(r)
    if not matches:
        raise ValueError(f"no record of {system} series {series} in {results}"
                         + (f" for {forecaster}" if forecaster else ""))
    names = sorted({r["forecaster"]["run_id"] for r in matches})
    if len(names) > 1:
        raise ValueError(f"{len(names)} forecaster runs have {system} series {series} in {results}: "
                         f"choose one with --forecaster ({', '.join(names)})")
    return matches[0]


def _rerun(record, system, series, rerun_dir):
    """Run that one task again (same target and per-task parameters) and read the forecast
    the runner stores."""
    import tempfile

    from .dataset import iter_tasks
    from .runner import run
    fc = record["forecaster"]
    tasks = [t for t in iter_tasks("test", systems=[system]) if t.series == series]
    params = fc.get("task_params") or fc.get("params") or {}
    with tempfile.TemporaryDirectory(prefix="dysts-bench-plot-") as tmp:
        out = Path(rerun_dir or tmp)
        # a built-in is resolved by its name; other targets (file:Class, module:Class) as stored
        spec = fc["name"] if str(fc.get("target", "")).startswith("builtin:") else fc["target"]
        result = run(spec, tasks, out, params=params, progress=False, summary=False)
        run_id = result.run_id
        path = stored_forecast(out, run_id, record["evaluation"], system, series)
        if path is None:
            status = result.records[0]["status"] if result.records else "no record"
            raise ValueError(f"re-running {fc['name']} on {system} series {series} gave no stored forecast "
                             f"(status {status}; this runner may not store forecasts): pass --forecast FILE.npy")
        return np.load(path)


__all__ = ["draw_attractor", "forecast_for", "gallery", "plot_forecast", "plot_system", "stored_forecast",
           "system_series", "truth_of"]

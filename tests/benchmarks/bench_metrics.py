"""Benchmark: dysts_bench.metrics against darts.metrics and SciPy/scikit-learn loops.

Scores 135 systems x 3 synthetic forecasts (3 dims x 2000 steps each; 10
systems with ``--quick``) at the 7 default Lyapunov-time horizons, once with
``dysts_bench.metrics`` (vectorised, one call) and once the way a user of the
reference libraries would: a Python loop over series and horizons calling
``darts.metrics`` on ``TimeSeries`` for the 10 metrics darts has, and SciPy /
scikit-learn / NumPy per series and dim for the other 7.  Both sides run on the
same arrays in the same process, interleaved repeat by repeat, and their
results are checked to agree before timing.

Usage::

    python tests/benchmarks/bench_metrics.py [--quick]

Without darts the darts-based rows report ours only (reference ``None``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

try:
    from dysts_bench import metrics as M
except ImportError:  # run as a script from a source checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from dysts_bench import metrics as M

DARTS_NAMES = {
    "mse": "mse",
    "mae": "mae",
    "rmse": "rmse",
    "marre": "marre",
    "r2_score": "r2_score",
    "rmsle": "rmsle",
    "smape": "smape",
    "mape": "mape",
    "wape": "wmape",
    "coefficient_of_variation": "coefficient_of_variation",
}
OTHER_NAMES = [name for name in M.METRIC_NAMES if name not in DARTS_NAMES]


def make_data(n_systems: int, n_series: int = 3, steps: int = 2000, dim: int = 3, seed: int = 0):
    """Synthetic forecasts whose error grows like exp(lambda t), one (lambda, dt) per system.

    Values stay positive so that every metric (mape, rmsle) is defined for
    both implementations.
    """
    rng = np.random.default_rng(seed)
    lam = np.repeat(rng.uniform(0.3, 2.5, n_systems), n_series)
    # 24 Lyapunov times span 0.8-1.3 forecasts, so the longest horizon is sometimes missing.
    dt = 24.0 / (lam * steps * np.repeat(rng.uniform(0.8, 1.3, n_systems), n_series))
    batch = n_systems * n_series
    t = np.arange(steps)[None, :, None] * dt[:, None, None]
    freqs = rng.uniform(0.5, 3.0, size=(batch, 1, dim, 3))
    phases = rng.uniform(0, 2 * np.pi, size=(batch, 1, dim, 3))
    y_true = 20.0 + 3.0 * np.sin(freqs * t[..., None] + phases).sum(axis=-1)
    y_true += 0.1 * np.cumsum(rng.normal(size=y_true.shape), axis=1) / np.sqrt(steps)
    growth = np.minimum(1e-3 * np.exp(lam[:, None, None] * t), 5.0)
    y_pred = y_true + growth * np.sin(7.0 * t + rng.uniform(0, 6, size=(batch, 1, dim)))
    return y_true, y_pred, dt, lam


def darts_available() -> bool:
    try:
        import darts  # noqa: F401
    except ImportError:
        return False
    return True


def _per_dim(func, a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean([func(a[:, d], b[:, d]) for d in range(a.shape[1])]))


def _labels(x: np.ndarray, bins: int) -> np.ndarray:
    edges = np.linspace(x.min(), x.max(), bins + 1)[1:-1]
    return np.digitize(x, edges)


def _histograms(a: np.ndarray, b: np.ndarray, bins: int):
    lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
    return np.histogram(a, bins, (lo, hi))[0] / a.size, np.histogram(b, bins, (lo, hi))[0] / b.size


def _kl(a, b, bins=M.DEFAULT_BINS, eps=M.DEFAULT_KL_EPS):
    p, q = _histograms(a, b, bins)
    p, q = (p + eps) / (1 + bins * eps), (q + eps) / (1 + bins * eps)
    return np.sum(p * np.log(p / q))


def _hellinger(a, b, bins=M.DEFAULT_BINS):
    p, q = _histograms(a, b, bins)
    return np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2))


def reference_functions() -> dict:
    """name -> f(y_true (n, dim), y_pred (n, dim)) -> float, as a user of SciPy/sklearn would write them."""
    from scipy import stats
    from sklearn.metrics import mutual_info_score

    return {
        "nrmse": lambda a, b: _per_dim(lambda x, y: np.sqrt(np.mean((y - x) ** 2)) / np.std(x), a, b),
        "spearman": lambda a, b: _per_dim(lambda x, y: stats.spearmanr(x, y).statistic, a, b),
        "pearson": lambda a, b: _per_dim(lambda x, y: stats.pearsonr(x, y).statistic, a, b),
        "kendall": lambda a, b: _per_dim(lambda x, y: stats.kendalltau(x, y).statistic, a, b),
        "mutual_information": lambda a, b: _per_dim(
            lambda x, y: mutual_info_score(_labels(x, M.DEFAULT_BINS), _labels(y, M.DEFAULT_BINS)), a, b
        ),
        "kl_divergence": lambda a, b: _per_dim(_kl, a, b),
        "hellinger_distance": lambda a, b: _per_dim(_hellinger, a, b),
    }


def reference_scores(y_true, y_pred, lengths, names) -> dict[str, np.ndarray]:
    """Loop over series and horizons; darts for its metrics, SciPy/sklearn/NumPy for the rest."""
    darts_names = [n for n in names if n in DARTS_NAMES]
    if darts_names:
        from darts import TimeSeries
        from darts import metrics as dm

        darts_funcs = {n: getattr(dm, DARTS_NAMES[n]) for n in darts_names}
    others = reference_functions()
    batch, time_steps, _ = y_true.shape
    out = {n: np.full(lengths.shape, np.nan) for n in names}
    for b in range(batch):
        for j, n in enumerate(lengths[b]):
            if n > time_steps:
                continue
            a, p = y_true[b, :n], y_pred[b, :n]
            if darts_names:
                ts_a, ts_p = TimeSeries.from_values(a), TimeSeries.from_values(p)
                for name in darts_names:
                    out[name][b, j] = darts_funcs[name](ts_a, ts_p)
            for name in names:
                if name in others:
                    out[name][b, j] = others[name](a, p)
    return out


def max_rel_diff(ours: dict, ref: dict) -> float:
    worst = 0.0
    for name, values in ref.items():
        a, b = np.asarray(ours[name], float).reshape(values.shape), values
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            return float("inf")
        ok = ~np.isnan(b)
        worst = max(worst, float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-12), initial=0.0)))
    return worst


def _timed(func):
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def _summary(times):
    if not times:
        return None, None, None
    return min(times), statistics.median(times), max(times)


def main(quick: bool = False) -> list[dict]:
    """Run the benchmark and return one row per workload.

    Each row has ``name``, ``ours_s`` / ``reference_s`` (median seconds over
    the repeats, ``reference_s`` None when the reference is unavailable),
    ``ratio`` (reference / ours, medians), the min and max of both timings,
    ``repeats``, ``reference`` (what was compared against) and
    ``max_rel_diff`` (largest relative disagreement of the scores).
    """
    n_systems, repeats = (10, 3) if quick else (135, 3)
    y_true, y_pred, dt, lam = make_data(n_systems)
    lengths = M.horizon_lengths(M.DEFAULT_HORIZONS, dt=dt, lyapunov_exponent=lam)
    full = np.full((y_true.shape[0], 1), y_true.shape[1])
    have_darts = darts_available()
    darts_list, all_list = list(DARTS_NAMES), list(M.METRIC_NAMES)

    def ours_horizons(names):
        return lambda: M.horizon_scores(y_true, y_pred, dt=dt, lyapunov_exponent=lam, metrics=names)

    def ours_full():
        return {k: v[:, None] for k, v in M.score_all(y_true, y_pred).items()}

    workloads = [
        # name, ours, reference (None if unavailable), reference description
        ("horizon_scores, 10 darts metrics x 7 horizons", ours_horizons(darts_list),
         (lambda: reference_scores(y_true, y_pred, lengths, darts_list)) if have_darts else None,
         "darts.metrics loop"),
        ("horizon_scores, 7 other metrics x 7 horizons", ours_horizons(OTHER_NAMES),
         lambda: reference_scores(y_true, y_pred, lengths, OTHER_NAMES),
         "SciPy / scikit-learn / NumPy loop"),
        ("horizon_scores, all 17 metrics x 7 horizons", ours_horizons(all_list),
         (lambda: reference_scores(y_true, y_pred, lengths, all_list)) if have_darts else None,
         "darts + SciPy / scikit-learn loop"),
        ("score_all, all 17 metrics, full length", ours_full,
         (lambda: reference_scores(y_true, y_pred, full, all_list)) if have_darts else None,
         "darts + SciPy / scikit-learn loop"),
        ("valid_prediction_time (sMAPE 30), Lyapunov units",
         lambda: M.valid_prediction_time(y_true, y_pred, dt=dt, lyapunov_exponent=lam), None, "-"),
    ]

    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # darts/SciPy chatter is irrelevant to timing
        for name, ours, reference, description in workloads:
            ours_times, ref_times, diff = [], [], None
            for _ in range(repeats):  # interleaved so both sides see the same machine load
                elapsed, ours_result = _timed(ours)
                ours_times.append(elapsed)
                if reference is not None:
                    elapsed, ref_result = _timed(reference)
                    ref_times.append(elapsed)
                    diff = max_rel_diff(ours_result, ref_result)
            o_min, o_med, o_max = _summary(ours_times)
            r_min, r_med, r_max = _summary(ref_times)
            rows.append(
                {
                    "name": name,
                    "ours_s": o_med,
                    "reference_s": r_med,
                    "ratio": (r_med / o_med) if r_med is not None else None,
                    "ours_min_s": o_min,
                    "ours_max_s": o_max,
                    "reference_min_s": r_min,
                    "reference_max_s": r_max,
                    "repeats": repeats,
                    "reference": description if reference is not None else "unavailable",
                    "max_rel_diff": diff,
                    "series": y_true.shape[0],
                }
            )
    return rows


def to_markdown(rows: list[dict]) -> str:
    def span(med, lo, hi):
        return "-" if med is None else f"{med:.3f} ({lo:.3f}-{hi:.3f})"

    lines = [
        "| workload | ours s, median (min-max) | reference s, median (min-max) | ratio | reference | max rel diff |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.1f}x"
        diff = "-" if r["max_rel_diff"] is None else f"{r['max_rel_diff']:.1e}"
        lines.append(
            f"| {r['name']} | {span(r['ours_s'], r['ours_min_s'], r['ours_max_s'])} | "
            f"{span(r['reference_s'], r['reference_min_s'], r['reference_max_s'])} | {ratio} | "
            f"{r['reference']} | {diff} |"
        )
    return "\n".join(lines)


def run(quick: bool):
    """Entry point for ``python -m tests.benchmarks``: the rows of :func:`main` as one harness section."""
    from .harness import Section, fmt

    rows = main(quick=quick)

    def cell(med, lo, hi):
        return "-" if med is None else f"{fmt(med)} ({fmt(lo)}–{fmt(hi)})"

    section = Section(
        "Scoring: 17 metrics, Lyapunov-time horizons",
        ["workload", "ours", "reference", "speed-up", "reference is", "max rel. diff"],
        notes=(
            f"{rows[0]['series']} synthetic forecasts (3 dims x 2000 steps, one Lyapunov exponent and dt "
            "per system) scored at horizons (0.5, 1, 2, 4, 8, 16, 24) Lyapunov times. Reference: a loop "
            "over series and horizons calling darts.metrics on TimeSeries (10 metrics) and SciPy / "
            "scikit-learn / NumPy per dim (the other 7). Kendall's tau uses scipy.stats.kendalltau on "
            "both sides and bounds the 17-metric speed-up."
        ),
    )
    for r in rows:
        section.rows.append(
            [
                r["name"],
                cell(r["ours_s"], r["ours_min_s"], r["ours_max_s"]),
                cell(r["reference_s"], r["reference_min_s"], r["reference_max_s"]),
                "-" if r["ratio"] is None else f"{r['ratio']:.1f}x",
                r["reference"],
                "-" if r["max_rel_diff"] is None else f"{r['max_rel_diff']:.1e}",
            ]
        )
    return [section]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 systems instead of 135")
    args = parser.parse_args()
    results = main(quick=args.quick)
    print(f"{results[0]['series']} series x 3 dims x 2000 steps, {results[0]['repeats']} repeats, "
          f"darts {'available' if darts_available() else 'not installed'}\n")
    print(to_markdown(results))

"""Leaderboard aggregates: pure functions of the task frame of :func:`.load.records_frame`.

Conventions shared by every aggregate
-------------------------------------
* A **task** is one (system, series) pair of one evaluation. The tasks of a leaderboard are
  all the tasks any forecaster has a record for; a forecaster without a record for one of
  them gets a row with status ``missing`` (:func:`complete_tasks`).
* A task **fails** unless its status is ``ok`` or ``nonfinite`` (the scored statuses of
  the runner). A score that is missing or non-finite in a scored record (a forecast that
  diverged within the window, a scorer failure) counts as a failure of that score.
* Failures are **worst**: an error becomes ``+inf`` (it sorts last, and takes part in
  medians as the largest value), a valid prediction time becomes 0 for its median (valid
  for no time) and ``-inf`` for ranking (below any real forecast).
* **Not defined** is different from failed: a horizon longer than the forecast, or any
  score in Lyapunov times on a system without a positive Lyapunov exponent, is NaN for
  every forecaster and is left out.

* **Not scored** is different again: a forecaster whose scored records carry no value at
  all for a score (records written before the score existed) is left out of that score's
  ranks and medians (shown as missing) instead of counting as failed everywhere.

The task matrices (rows: ``(system, series)``, columns: forecasters) built by
:func:`error_matrix` and :func:`vpt_matrix` are what ranks, medians and skills are taken of.

Two axes (:func:`summarize`)
----------------------------
* **Short term** (does the forecast track the trajectory?): the running-sMAPE VPT
  (``vpt_smape``, Gilpin 2023's rule) and the pointwise nRMSE VPT (``vpt_nrmse``, threshold
  0.5, Vlachas et al. 2020), and the sMAPE / nRMSE of the first 0.5, 1, 2 and 4 Lyapunov
  times. The **headline order** is the mean over tasks of the rank by ``vpt_smape``
  (higher VPT = better rank, ties averaged), so a forecaster that never tracks the
  trajectory (VPT 0 everywhere) ranks below every forecaster with a positive VPT on any
  task, however low its whole-forecast sMAPE (a climatological forecast such as the mean
  has a low whole-forecast sMAPE over 20 Lyapunov times but no skill at tracking).
* **Long term** (is the forecast's attractor right?), over the whole forecast: the
  state-space divergence ``d_stsp``, the power-spectrum Hellinger distance ``d_h`` and the
  correlation-dimension error ``corr_dim_error`` (:func:`dysts_bench.metrics.long_term_scores`);
  their medians, their mean ranks and the average of the three mean ranks.

Scope: by default only systems labelled ``chaotic`` in the registry
(:attr:`dysts_bench.registry.System.chaos_label`) enter the aggregates; while no system of
the registry has a label yet (all ``undetermined``) every system does. Systems with other
labels are summarised separately (:attr:`Leaderboard.other_labels`).
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pandas as pd

from ..metrics import horizon_lengths
from ..schema import SCORED
from .load import RUN_COLUMNS, horizon_columns, resolve_label

#: The forecaster that skill is measured against unless another is named.
DEFAULT_BASELINE = "naive"

TASK = ["system", "series"]
#: Per-task facts copied to the rows of missing records from another forecaster's record.
TASK_INFO = ["evaluation", "dt", "maximum_lyapunov", "horizon_steps"]
#: Skill targets: task-matrix column -> description.
SKILL_TARGETS = {"smape": "sMAPE over the whole forecast", "smape@1": "sMAPE over the first Lyapunov time"}


# ---------------------------------------------------------------------------
# Task matrices
# ---------------------------------------------------------------------------


def failed(frame: pd.DataFrame) -> pd.Series:
    """True for rows whose status is not a scored one (error, timeout, ..., missing)."""
    return ~frame["status"].isin(SCORED)


def complete_tasks(frame: pd.DataFrame) -> pd.DataFrame:
    """Every forecaster on every task: absent (forecaster, task) pairs get status ``missing``.

    The frame must hold one evaluation. Missing rows carry the task's ``dt``, Lyapunov
    exponent and forecast length from another forecaster's record, so that what is
    defined for the task (its horizons) does not depend on who failed it.
    """
    if frame.empty:
        return frame.copy()
    if frame["evaluation"].nunique() > 1:
        raise ValueError(f"one evaluation at a time, got {sorted(frame['evaluation'].unique())}")
    run_columns = [c for c in RUN_COLUMNS if c in frame]
    runs = frame[["forecaster", *run_columns]].drop_duplicates("forecaster")
    tasks = frame[TASK].drop_duplicates()
    grid = runs.merge(tasks, how="cross")
    out = grid.merge(frame.drop(columns=run_columns),
                     on=["forecaster", *TASK], how="left", indicator=True)
    absent = out["_merge"] == "left_only"
    out = out.drop(columns="_merge")
    if absent.any():
        info = frame.groupby(TASK, sort=False)[TASK_INFO].first()
        filled = out.loc[absent, TASK].join(info, on=TASK)
        for col in TASK_INFO:
            out.loc[absent, col] = filled[col].to_numpy()
        out.loc[absent, "status"] = "missing"
    return out.sort_values(["forecaster", *TASK], kind="stable", ignore_index=True)


def _applicable(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Where ``column`` is defined for the task: always for whole-forecast scores; for
    ``metric@h`` if the task has a positive Lyapunov exponent and ``h`` Lyapunov times fit
    in the forecast (the rule of :func:`dysts_bench.metrics.horizon_lengths`)."""
    if "@" not in column:
        return np.ones(len(frame), dtype=bool)
    h = float(column.split("@", 1)[1])
    dt = frame["dt"].to_numpy(float)
    lam = frame["maximum_lyapunov"].to_numpy(float)
    steps = frame["horizon_steps"].to_numpy(float)
    ok = np.isfinite(dt) & (dt > 0) & np.isfinite(lam) & (lam > 0) & np.isfinite(steps)
    out = np.zeros(len(frame), dtype=bool)
    if ok.any():
        need = horizon_lengths([h], dt=dt[ok], lyapunov_exponent=lam[ok])[:, 0]
        out[ok] = need <= steps[ok]
    return out


def _task_matrix(frame: pd.DataFrame, values: np.ndarray, applicable: np.ndarray, failure: float) -> pd.DataFrame:
    values = np.where(failed(frame).to_numpy() | ~np.isfinite(values), failure, values)
    values = np.where(applicable, values, np.nan)
    long = frame[["forecaster", *TASK]].assign(value=values)
    matrix = long.pivot(index=TASK, columns="forecaster", values="value")
    matrix.columns.name = None
    return matrix.sort_index()


def error_matrix(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Task-by-forecaster matrix of an error (lower is better), e.g. ``"smape"`` for the
    whole forecast or ``"smape@1"`` for its first Lyapunov time.

    Entries: the score of a scored task; ``+inf`` for a failed task or a missing/non-finite
    score; NaN where the score is not defined for the task (see :func:`_applicable`).
    """
    values = frame[column].to_numpy(float) if column in frame else np.full(len(frame), np.nan)
    matrix = _task_matrix(frame, values, _applicable(frame, column), math.inf)
    return matrix.drop(columns=sorted(not_scored(frame, column)))


def vpt_matrix(frame: pd.DataFrame, metric: str = "smape", failure: float = 0.0) -> pd.DataFrame:
    """Task-by-forecaster matrix of a valid prediction time in Lyapunov times (higher is
    better): ``"smape"`` the running-sMAPE VPT, ``"nrmse"`` the pointwise nRMSE VPT
    (:func:`dysts_bench.metrics.vpt_smape`, :func:`~dysts_bench.metrics.vpt_nrmse`).

    Failed tasks and missing VPTs get ``failure`` (0 for medians, ``-inf`` for ranks);
    tasks without a positive Lyapunov exponent are NaN (not defined); forecasters whose
    records do not carry this VPT at all are left out (:func:`not_scored`).
    """
    lam = frame["maximum_lyapunov"].to_numpy(float)
    applicable = np.isfinite(lam) & (lam > 0)
    column = f"vpt_{metric}"
    values = frame[column].to_numpy(float) if column in frame else np.full(len(frame), np.nan)
    matrix = _task_matrix(frame, values, applicable, failure)
    return matrix.drop(columns=sorted(not_scored(frame, column)))


#: Task-frame columns first recorded by scoring protocol 2 -> that protocol.
NEW_SCORES = {"vpt_smape": 2, "vpt_nrmse": 2, "d_stsp": 2, "d_h": 2, "corr_dim_error": 2}


def _protocol(value) -> int:
    try:
        return int(str(value).split(".")[0])
    except ValueError:
        return 0


def not_scored(frame: pd.DataFrame, column: str) -> set:
    """Forecasters whose scored records all predate ``column`` (an older scoring protocol,
    see :data:`NEW_SCORES`): the score is missing for them rather than failed. Re-run or
    ``dysts-bench rescore`` them."""
    since = NEW_SCORES.get(column)
    if since is None or "protocol_version" not in frame:
        return set()
    scored = ~failed(frame)
    new = scored & (frame["protocol_version"].map(_protocol) >= since)
    per = pd.DataFrame({"scored": scored, "new": new, "forecaster": frame["forecaster"]})
    g = per.groupby("forecaster")[["scored", "new"]].any()
    return set(g.index[g["scored"] & ~g["new"]])


# ---------------------------------------------------------------------------
# Ranks, medians, skill
# ---------------------------------------------------------------------------


def rank_matrix(matrix: pd.DataFrame, higher_is_better: bool = False) -> pd.DataFrame:
    """Rank of each forecaster on each task (1 = best); ties share the average of the ranks
    they span (failures, all ``inf``, tie for the last places). Tasks with a NaN entry (not
    defined) are dropped."""
    complete = matrix.dropna(axis=0, how="any")
    return complete.rank(axis=1, method="average", ascending=not higher_is_better)


def mean_rank(matrix: pd.DataFrame, higher_is_better: bool = False) -> pd.Series:
    """Mean over tasks of each forecaster's per-task rank (:func:`rank_matrix`)."""
    ranks = rank_matrix(matrix, higher_is_better)
    if ranks.empty:
        return pd.Series(np.nan, index=matrix.columns)
    return ranks.mean(axis=0)


def median_over_tasks(matrix: pd.DataFrame, q: float = 0.5) -> pd.Series:
    """Per forecaster, the median (or the ``q``-quantile) over the tasks where the score is
    defined; failures take part as ``+inf`` errors or zero VPTs.

    The median is :func:`numpy.median` (the mean of the two middle values for an even
    count; infinite if one of them is). Other quantiles take an order statistic without
    interpolation (``method="inverted_cdf"``), which stays meaningful next to ``inf``.
    """
    out = {}
    for name in matrix.columns:
        values = matrix[name].to_numpy(float)
        values = values[~np.isnan(values)]
        if not values.size:
            out[name] = math.nan
        elif q == 0.5:
            out[name] = float(np.median(values))
        else:
            out[name] = float(np.quantile(values, q, method="inverted_cdf"))
    return pd.Series(out, dtype=float)


def skill_matrix(errors: pd.DataFrame, baseline: str = DEFAULT_BASELINE) -> pd.DataFrame:
    """Per task, the skill of every forecaster relative to ``baseline``: ``1 - e / e_baseline``.

    1 is a perfect forecast, 0 is as good as the baseline, negative is worse. A failed
    forecast (``e = inf``) has skill ``-inf``. Where the baseline itself failed or is
    perfect (``e_baseline`` infinite or 0) the skill is not defined (NaN).
    """
    if baseline not in errors.columns:
        raise ValueError(f"baseline {baseline!r} has no results (forecasters: {list(errors.columns)})")
    base = errors[baseline].to_numpy(float)[:, None]
    err = errors.to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        skill = 1.0 - err / base
    undefined = ~np.isfinite(base) | (base == 0) | np.isnan(err)
    skill = np.where(undefined, np.nan, skill)  # where err is inf, 1 - inf / e_baseline = -inf
    return pd.DataFrame(skill, index=errors.index, columns=errors.columns)


def bootstrap_ci(values, groups, *, statistic=None, n_boot: int = 2000, level: float = 0.95,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate and percentile-bootstrap confidence interval, resampling whole groups.

    The data are ``values`` (shape ``(n,)`` or ``(n, k)``: ``k`` quantities measured on the
    same ``n`` tasks) and the group of each task (its system). One replicate draws as many
    groups as there are, with replacement, and evaluates ``statistic`` on all tasks of the
    drawn groups; the same draws are used for all ``k`` columns (paired). NaN values are
    left out. The interval is given by the ``(1 - level) / 2`` and ``(1 + level) / 2``
    quantiles of the replicates, taken without interpolation.

    Parameters
    ----------
    values : array_like of shape (n,) or (n, k)
    groups : array_like of shape (n,)
        Resampling unit of each task, e.g. the system name.
    statistic : callable ``f(array, axis) -> array``, optional
        NaN-aware reduction; :func:`numpy.nanmedian` by default.
    n_boot : int, default=2000
    level : float, default=0.95
    seed : int, default=0
        Seed of :func:`numpy.random.default_rng`: the same inputs give the same interval.

    Returns
    -------
    estimate, low, high : ndarray of shape (k,) (floats for 1-D ``values``)
    """
    statistic = statistic or np.nanmedian
    values = np.asarray(values, dtype=float)
    single = values.ndim == 1
    values = values[:, None] if single else values
    groups = np.asarray(groups)
    if len(groups) != len(values):
        raise ValueError(f"{len(values)} values but {len(groups)} groups")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    codes, counts = np.unique(groups, return_inverse=True, return_counts=True)[1:]
    n_groups, k = len(counts), values.shape[1]
    estimate = np.full(k, np.nan)
    low, high = estimate.copy(), estimate.copy()
    if n_groups:
        # tasks laid out per group, padded with NaN (left out by the statistic)
        order = np.argsort(codes, kind="stable")
        slot = np.arange(len(codes)) - np.repeat(np.cumsum(counts) - counts, counts)
        padded = np.full((n_groups, counts.max(), k), np.nan)
        padded[codes[order], slot] = values[order]
        draws = np.random.default_rng(seed).integers(0, n_groups, size=(int(n_boot), n_groups))
        alpha = (1 - level) / 2
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a replicate may draw no defined task
            estimate = statistic(values, axis=0)
            for j in range(k):
                if np.isnan(values[:, j]).all():
                    continue
                replicates = statistic(padded[draws, :, j].reshape(int(n_boot), -1), axis=1)
                replicates = replicates[~np.isnan(replicates)]
                if replicates.size:
                    low[j], high[j] = np.quantile(replicates, [alpha, 1 - alpha], method="inverted_cdf")
    estimate = np.asarray(estimate, dtype=float)
    if single:
        return float(estimate[0]), float(low[0]), float(high[0])
    return estimate, low, high


def skill_table(errors: pd.DataFrame, baseline: str = DEFAULT_BASELINE, *, n_boot: int = 2000, level: float = 0.95,
                seed: int = 0) -> pd.DataFrame:
    """Median skill over tasks (:func:`skill_matrix`) with a bootstrap CI resampling systems.

    Returns a frame indexed by forecaster with ``skill``, ``low``, ``high`` and ``tasks``
    (the number of tasks where the skill is defined).
    """
    skill = skill_matrix(errors, baseline)
    systems = skill.index.get_level_values("system")
    est, low, high = bootstrap_ci(skill.to_numpy(float), systems, n_boot=n_boot, level=level, seed=seed)
    return pd.DataFrame({"skill": est, "low": low, "high": high, "tasks": skill.notna().sum().to_numpy()},
                        index=skill.columns)


# ---------------------------------------------------------------------------
# Horizons, statuses, cost
# ---------------------------------------------------------------------------


def horizon_table(frame: pd.DataFrame, metric: str = "smape", q: float = 0.5) -> pd.DataFrame:
    """Forecaster-by-horizon table of the ``q``-quantile (default: median) over tasks of an
    error at each Lyapunov-time horizon; failures count as ``+inf``, tasks whose forecast
    is shorter than the horizon are left out."""
    columns = horizon_columns(frame, metric)
    return pd.DataFrame({h: median_over_tasks(error_matrix(frame, col), q) for h, col in columns.items()})


def horizon_counts(frame: pd.DataFrame, metric: str = "smape") -> pd.Series:
    """Number of tasks on which each horizon is defined (the same for every forecaster)."""
    out = {}
    for h, col in horizon_columns(frame, metric).items():
        matrix = error_matrix(frame, col)
        out[h] = int(matrix.notna().all(axis=1).sum()) if not matrix.empty else 0
    return pd.Series(out, dtype=int)


def status_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per forecaster: ``tasks``, ``ok``, ``nonfinite`` (scored, but NaN/inf in the forecast),
    ``failed`` (every other status, ``missing`` included) and ``statuses``, a text listing
    the count of every status but ``ok``."""
    counts = frame.groupby(["forecaster", "status"]).size().unstack(fill_value=0)
    out = pd.DataFrame(index=counts.index)
    out["tasks"] = counts.sum(axis=1)
    out["ok"] = counts.get("ok", 0)
    out["nonfinite"] = counts.get("nonfinite", 0)
    out["failed"] = counts[[c for c in counts.columns if c not in SCORED]].sum(axis=1).astype(int)
    out["statuses"] = [", ".join(f"{s} {n}" for s, n in row.items() if s != "ok" and n) or "-"
                       for _, row in counts.iterrows()]
    out.index.name = None
    return out


def cost_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per forecaster: median wall seconds per task as measured by the runner (the basis of
    the cost: a task cannot fake it), median self-reported ``fit_seconds`` and
    ``predict_seconds``, median peak memory of the task tree (MB) and the total CPU seconds
    of all its task trees, over the tasks that recorded them (failed tasks included)."""
    g = frame.groupby("forecaster")
    wall = g["wall_seconds"].median() if "wall_seconds" in frame else g["fit_seconds"].median() * float("nan")
    out = pd.DataFrame({"median_task_seconds": wall,
                        "median_fit_seconds": g["fit_seconds"].median(),
                        "median_predict_seconds": g["predict_seconds"].median(),
                        "median_peak_rss_mb": g["peak_rss_mb"].median(),
                        "total_cpu_seconds": g["cpu_seconds"].sum(min_count=1)})
    out.index.name = None
    return out


# ---------------------------------------------------------------------------
# The leaderboard
# ---------------------------------------------------------------------------


#: Lyapunov-time horizons of the short-term axis.
SHORT_TERM_HORIZONS = (0.5, 1, 2, 4)
#: Long-term statistics (task-frame columns), lower is better for all.
LONG_TERM = ("d_stsp", "d_h", "corr_dim_error")


def chaos_scope(systems) -> tuple[dict, set]:
    """``({system: chaos label}, systems in scope)``. In scope: the ``chaotic`` systems,
    or every system while no system of the registry *of the same kind* (flows, maps) has a
    label other than ``undetermined`` yet (the maps are labelled before the flows). A name
    the registry does not know (ad-hoc tasks, tests) is labelled ``unknown`` and kept in
    scope: there is no label to leave it out by."""
    from ..registry import get_system, list_systems
    labels, kinds = {}, {}
    for name in systems:
        try:
            system = get_system(name)
            labels[name], kinds[name] = system.chaos_label, getattr(system, "kind", "flow")
        except Exception:  # noqa: BLE001 - results of a system removed since
            labels[name], kinds[name] = "unknown", None
    labelled = {kind: any(get_system(n).chaos_label != "undetermined" for n in list_systems(kind=kind))
                for kind in set(kinds.values()) - {None}}
    scope = {n for n, label in labels.items()
             if label in ("chaotic", "unknown") or not labelled.get(kinds[n], False)}
    return labels, scope


def _short_term(part: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    for metric in ("smape", "nrmse"):
        table[f"median_vpt_{metric}"] = median_over_tasks(vpt_matrix(part, metric, failure=0.0))
        table[f"mean_rank_vpt_{metric}"] = mean_rank(vpt_matrix(part, metric, failure=-math.inf),
                                                     higher_is_better=True)
    return table


def _long_term(part: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    ranks = []
    for col in LONG_TERM:
        matrix = error_matrix(part, col)
        table[f"median_{col}"] = median_over_tasks(matrix)
        table[f"mean_rank_{col}"] = mean_rank(matrix)
        ranks.append(table[f"mean_rank_{col}"])
    table["mean_rank_long_term"] = pd.concat(ranks, axis=1).mean(axis=1, skipna=False)
    return table


def _label_table(part: pd.DataFrame) -> pd.DataFrame:
    """Short summary of the tasks of systems outside the scope."""
    table = status_table(part)[["tasks", "ok", "failed"]]
    return _short_term(part, table).join(
        pd.DataFrame({"median_smape": median_over_tasks(error_matrix(part, "smape"))}))


@dataclasses.dataclass
class Leaderboard:
    """Everything the renderers show, computed by :func:`summarize`.

    ``table`` has one row per forecaster (sorted by the headline, the mean rank of the
    running-sMAPE VPT, then name) and is what ``results.csv`` holds; ``horizons[metric][q]`` is a forecaster-by-horizon table of the
    ``q``-quantile of the error; ``horizon_counts[metric]`` counts the tasks per horizon.
    """

    evaluation: str
    table: pd.DataFrame
    horizons: dict
    horizon_counts: dict
    n_tasks: int
    n_systems: int
    baseline: str | None
    n_boot: int
    level: float
    seed: int
    skill_targets: dict
    files: list = dataclasses.field(default_factory=list)
    warnings: list = dataclasses.field(default_factory=list)
    as_of: str | None = None
    other_evaluations: list = dataclasses.field(default_factory=list)
    #: Chaos label of every system with results; the labels in scope; per other label a
    #: short table (tasks, failures, VPTs, whole-forecast sMAPE).
    labels: dict = dataclasses.field(default_factory=dict)
    scope: list = dataclasses.field(default_factory=list)
    other_labels: dict = dataclasses.field(default_factory=dict)


def summarize(frame: pd.DataFrame, *, evaluation: str = "canonical", baseline: str | None = DEFAULT_BASELINE,
              n_boot: int = 2000, level: float = 0.95, seed: int = 0, quantiles=(0.25, 0.5, 0.75),
              messages=None, scope: str = "chaotic") -> Leaderboard:
    """All aggregates of one evaluation of the task frame (see the module docstring).

    Parameters
    ----------
    frame : DataFrame
        From :func:`.load.records_frame` (any number of evaluations).
    evaluation : str, default="canonical"
    baseline : str or None, default="naive"
        Forecaster that skill is relative to; without results for it, skill is NaN.
    n_boot, level, seed :
        Bootstrap replicates, confidence level and seed of :func:`bootstrap_ci`.
    quantiles : tuple of float
        Quantiles of the per-horizon errors (the median is always included).
    messages : list of str, optional
        Warnings raised while loading, carried to the rendered output.
    scope : {"chaotic", "all"}, default="chaotic"
        Which systems enter the aggregates (see :func:`chaos_scope`); ``"all"``: every one.
    """
    if frame.empty:
        raise ValueError("no readable results")
    available = sorted(frame["evaluation"].unique())
    if evaluation not in available:
        raise ValueError(f"no results for evaluation {evaluation!r} (have: {', '.join(available)})")
    if scope not in ("chaotic", "all"):
        raise ValueError(f"scope must be 'chaotic' or 'all', got {scope!r}")
    whole = complete_tasks(frame[frame["evaluation"] == evaluation].reset_index(drop=True))
    labels, in_scope = chaos_scope(sorted(whole["system"].unique()))
    if scope == "all":
        in_scope = set(labels)
    if not in_scope:
        raise ValueError(f"no system of evaluation {evaluation!r} is in scope {scope!r}")
    part = whole[whole["system"].isin(in_scope)].reset_index(drop=True)
    others = {}
    for label in sorted({lab for name, lab in labels.items() if name not in in_scope}):
        rest = whole[whole["system"].map(labels) == label].reset_index(drop=True)
        others[label] = _label_table(rest)
    statuses = status_table(part)
    table = pd.DataFrame(index=statuses.index)
    first = part.drop_duplicates("forecaster").set_index("forecaster")
    for col in (c for c in RUN_COLUMNS if c in first):
        table[col] = first[col]
    table["evaluation"] = evaluation
    table = table.join(statuses)
    table = _short_term(part, table)
    table["mean_rank_smape"] = mean_rank(error_matrix(part, "smape"))
    targets = {col: text for col, text in SKILL_TARGETS.items()
               if "@" not in col or col in horizon_columns(part, col.split("@")[0]).values()}
    have_baseline = baseline is not None and baseline in table.index
    for col in targets:
        if have_baseline:
            skill = skill_table(error_matrix(part, col), baseline, n_boot=n_boot, level=level, seed=seed)
            for key in ("skill", "low", "high", "tasks"):
                table[f"skill_{col}" + ("" if key == "skill" else f"_{key}")] = skill[key]
        else:
            for key in ("", "_low", "_high", "_tasks"):
                table[f"skill_{col}{key}"] = np.nan
    horizons, counts = {}, {}
    qs = sorted(set(quantiles) | {0.5})
    for metric in ("smape", "nrmse"):
        horizons[metric] = {q: horizon_table(part, metric, q) for q in qs}
        counts[metric] = horizon_counts(part, metric)
        for h, value in horizons[metric][0.5].items():
            table[f"median_{metric}@{h:g}"] = value
    table = _long_term(part, table)
    table = table.join(cost_table(part))
    table = table.assign(_label=table.index).sort_values(["mean_rank_vpt_smape", "_label"], kind="stable",
                                                         na_position="last")
    table = table.drop(columns="_label")
    table.index.name = "forecaster"
    finished = part["finished_at"].dropna()
    return Leaderboard(
        evaluation=evaluation, table=table,
        horizons={m: {q: t.reindex(table.index) for q, t in by_q.items()} for m, by_q in horizons.items()},
        horizon_counts=counts, n_tasks=int(part[TASK].drop_duplicates().shape[0]),
        n_systems=int(part["system"].nunique()), baseline=baseline if have_baseline else None,
        n_boot=int(n_boot), level=float(level), seed=int(seed), skill_targets=targets,
        files=sorted(frame.loc[frame["evaluation"] == evaluation, "file"].unique()),
        warnings=list(messages or []), as_of=max(finished) if len(finished) else None,
        other_evaluations=[e for e in available if e != evaluation],
        labels=labels, scope=sorted(in_scope), other_labels=others)


def select_families(lb: Leaderboard, families) -> Leaderboard:
    """The leaderboard's rows of the forecasters in ``families`` (names from
    :data:`~dysts_bench.forecaster.FAMILIES`), everything else unchanged: ranks and skill
    stay those computed among all forecasters, so a row reads the same filtered or not."""
    from ..forecaster import FAMILIES
    families = [f.strip() for f in families if f.strip()]
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        raise ValueError(f"unknown family {', '.join(map(repr, unknown))}; known: {', '.join(FAMILIES)}")
    keep = lb.table.index[lb.table["family"].isin(families)]
    if not len(keep):
        raise ValueError(f"no forecaster of family {', '.join(families)} in the results")
    return dataclasses.replace(
        lb, table=lb.table.loc[keep],
        horizons={m: {q: t.reindex(keep) for q, t in by_q.items()} for m, by_q in lb.horizons.items()})


def methods(lb: Leaderboard) -> list[str]:
    """Paragraphs (Markdown) on the two axes, the headline order and the scope, for the
    leaderboard's "How the aggregates are computed"."""
    n_other = len(lb.labels) - len(lb.scope)
    return [
        "**Scope.** The aggregates run over the systems labelled `chaotic` in the registry "
        "(`dysts_bench.registry`, `chaos_label`); while no system has a label yet (all "
        "`undetermined`) they run over all systems; systems the registry does not know stay in. "
        f"Here: {len(lb.scope)} systems in scope, "
        f"{n_other} reported separately by label.",
        "**Short-term axis: valid prediction times.** In Lyapunov times (samples × dt × λ). "
        "*VPT (sMAPE)* is the rule of the code of Gilpin (2023): the number of leading "
        "prefixes of the forecast whose running sMAPE (0–200, pooled over time and "
        "dimensions) stays at or below 30. *VPT (nRMSE)* is the pointwise rule of the "
        "reservoir-computing literature: the number of leading steps whose normalised error "
        "sqrt(mean_d (ŷ_d − y_d)² / σ_d²) stays at or below 0.5 (Vlachas et al. 2020; Pathak "
        "et al. 2018 use 0.4 on a differently normalised error). Medians over the tasks with "
        "a positive Lyapunov exponent; failures count as 0.",
        "**Headline order.** The tables are sorted by the mean rank of VPT (sMAPE): on each "
        "task the forecasters are ranked by that VPT (higher is better, 1 = best, ties share "
        "the average of the ranks they span, as `scipy.stats.rankdata(method='average')`; "
        "failures rank below every real forecast), and the ranks are averaged over the tasks "
        "where the VPT is defined. Ranks compare the forecasters shown and change when one "
        "is added. A forecaster that never tracks the trajectory "
        "(VPT 0 on every task) therefore ranks below every forecaster with a positive VPT on "
        "any task, however low its whole-forecast sMAPE: over 20 Lyapunov times a "
        "climatological forecast (the mean) has a lower sMAPE than a forecast that tracks the "
        "trajectory for a while and then wanders off, which is why the whole-forecast sMAPE "
        "rank is shown but does not order the table.",
        "**Short-term errors.** The sMAPE and nRMSE of the first 0.5, 1, 2 and 4 Lyapunov "
        "times (see *Errors by horizon*).",
        "**Long-term axis.** Over the whole forecast: D_stsp, the KL divergence between the "
        "state-space occupation of truth and forecast (16 equal-width bins per dimension over "
        "the true range, joint grid up to 3 dimensions, per-dimension marginals averaged "
        "above; Hess et al. 2023, Brenner et al. 2024); D_H, the Hellinger distance of the "
        "normalised (Welch-smoothed) power spectra averaged over dimensions (Mikhaeil et al. "
        "2022); and the absolute error of the Grassberger–Procaccia correlation dimension "
        "(Zhang & Gilpin 2025). Lower is better for all three; medians and mean ranks as "
        "above (the mean rank by whole-forecast sMAPE, shown for reference, is computed the "
        "same way), failures count as +∞, and *mean rank (long term)* averages the three "
        "mean ranks.",
        "**Older records.** Records scored before these scores existed (scoring protocol 1) "
        "show them as missing, not failed; `dysts-bench rescore` recomputes them from stored "
        "forecasts, and runs without stored forecasts must be re-run.",
    ]


# ---------------------------------------------------------------------------
# Tracks: one leaderboard per track
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Section:
    """One track's part of the leaderboard: its protocol and its :class:`Leaderboard`
    (None: no results yet, ``note`` says why)."""

    track: str
    protocol: str
    board: Leaderboard | None
    note: str = ""


def summarize_tracks(frame: pd.DataFrame, tracks=None, **kwargs) -> list[Section]:
    """:func:`summarize` of each track (:data:`dysts_bench.tracks.TRACKS`, or those given)
    over the rows whose ``evaluation`` is that track; a track without results, or without
    a system in scope, gets a section with no board. ``kwargs`` go to :func:`summarize`
    (baseline, n_boot, level, seed, messages, scope)."""
    from ..tracks import PROTOCOLS, TRACKS, check_track
    sections = []
    have = set(frame["evaluation"].unique()) if not frame.empty else set()
    for track in TRACKS if tracks is None else [check_track(t) for t in tracks]:
        if track not in have:
            sections.append(Section(track, PROTOCOLS[track], None, "no results yet"))
            continue
        rows = frame[frame["evaluation"] == track]
        # the baseline's label may differ by track: a verified run carries a mark
        args = {**kwargs, "baseline": resolve_label(rows, kwargs.get("baseline", DEFAULT_BASELINE))}
        try:
            board = summarize(frame, evaluation=track, **args)
        except ValueError as exc:  # e.g. no system of the track in scope
            sections.append(Section(track, PROTOCOLS[track], None, str(exc)))
            continue
        sections.append(Section(track, PROTOCOLS[track], board))
    return sections

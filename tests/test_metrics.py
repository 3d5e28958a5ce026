"""Tests for dysts_bench.metrics.

Every metric is checked against an independent implementation (SciPy,
scikit-learn, plain per-series NumPy loops written here, and darts.metrics when
it is installed) and against values computed by hand for tiny series.
"""

import math

import numpy as np
import pytest
from scipy import stats
from scipy.integrate import solve_ivp
from sklearn import metrics as skm

from dysts_bench import metrics as M

ALL = list(M.METRIC_NAMES)


def random_pair(seed=0, shape=(4, 80, 3), offset=0.0, noise=0.5):
    rng = np.random.default_rng(seed)
    y_true = rng.normal(size=shape) + offset
    y_pred = y_true + noise * rng.normal(size=shape)
    return y_true, y_pred


def per_dim_mean(func, y_true, y_pred):
    """Reference reduction: func on each (time,) column, averaged over dims, for a (time, dim) series."""
    return float(np.mean([func(y_true[:, d], y_pred[:, d]) for d in range(y_true.shape[1])]))


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------


def test_registry_lists_the_17_metrics():
    assert len(M.METRIC_NAMES) == 17
    assert len(set(M.METRIC_NAMES)) == 17
    assert list(M.METRICS) == M.METRIC_NAMES
    assert set(M.HIGHER_IS_BETTER) == {"r2_score", "spearman", "pearson", "kendall", "mutual_information"}
    for name, func in M.METRICS.items():
        assert callable(func)
        assert "range" in func.__doc__.lower() and "y_true" in func.__doc__, name


# ---------------------------------------------------------------------------
# Hand-computed tiny cases
# ---------------------------------------------------------------------------

T3 = np.array([1.0, 2.0, 3.0])
P3 = np.array([1.0, 3.0, 5.0])  # errors 0, 1, 2


HAND = {
    "mse": 5 / 3,
    "mae": 1.0,
    "rmse": math.sqrt(5 / 3),
    "nrmse": math.sqrt(5 / 3) / math.sqrt(2 / 3),  # std of (1, 2, 3) is sqrt(2/3)
    "marre": 100 * 1 / 2,  # mean |e| = 1, range = 2
    "r2_score": 1 - 5 / 2,  # SSres = 5, SStot = 2
    "rmsle": math.sqrt(((math.log(4) - math.log(3)) ** 2 + (math.log(6) - math.log(4)) ** 2) / 3),
    "smape": 200 / 3 * (0 + 1 / 5 + 2 / 8),
    "mape": 100 / 3 * (0 + 1 / 2 + 2 / 3),
    "wape": 100 * 3 / 6,
    "coefficient_of_variation": 100 * math.sqrt(5 / 3) / 2,
    "pearson": 1.0,  # P3 = 2 * T3 - 1
    "spearman": 1.0,
    "kendall": 1.0,
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_hand_computed_three_points(name):
    assert M.METRICS[name](T3, P3) == pytest.approx(HAND[name], rel=1e-12)


def test_hand_computed_histogram_metrics():
    # bins=2 on each series' own range: T3 -> labels (0, 1, 1); P3 -> (0, 1, 1).
    entropy = -(1 / 3 * math.log(1 / 3) + 2 / 3 * math.log(2 / 3))
    assert M.mutual_information(T3, P3, bins=2) == pytest.approx(entropy, rel=1e-12)
    # Common range [1, 5], bins=2 (edge at 3): T3 -> (0, 0, 1), P3 -> (0, 1, 1).
    p, q = np.array([2 / 3, 1 / 3]), np.array([1 / 3, 2 / 3])
    assert M.kl_divergence(T3, P3, bins=2, eps=0.0) == pytest.approx(math.log(2) / 3, rel=1e-12)
    hell = math.sqrt(1 - np.sqrt(p * q).sum())
    assert M.hellinger_distance(T3, P3, bins=2) == pytest.approx(hell, rel=1e-12)
    # Smoothing: p_k -> (p_k + eps) / (1 + 2 eps).
    eps = 0.01
    ps, qs = (p + eps) / (1 + 2 * eps), (q + eps) / (1 + 2 * eps)
    assert M.kl_divergence(T3, P3, bins=2, eps=eps) == pytest.approx(np.sum(ps * np.log(ps / qs)), rel=1e-12)


def test_hand_computed_discordant_pair():
    y_true, y_pred = np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0])
    assert M.kendall(y_true, y_pred) == pytest.approx(1 / 3)  # 2 concordant, 1 discordant pair
    assert M.spearman(y_true, y_pred) == pytest.approx(0.5)  # 1 - 6 * 2 / (3 * 8)
    assert M.pearson(y_true, y_pred) == pytest.approx(0.5)


def test_smape_scale_and_zero_over_zero():
    assert M.smape(T3, P3, scale=100) == pytest.approx(HAND["smape"] / 2)
    # A step where both are zero contributes 0: (0 + 200 * 1/3) / 2.
    assert M.smape([0.0, 1.0], [0.0, 2.0]) == pytest.approx(100 / 3)
    assert M.smape([1.0, -1.0], [-1.0, 1.0]) == pytest.approx(200.0)  # the maximum


def test_multivariate_reduction_is_mean_over_dims():
    y_true = np.column_stack([T3, 10 * T3])
    y_pred = np.column_stack([P3, 10 * T3 + np.array([0.0, 0.0, 3.0])])
    # Per dim RMSE: sqrt(5/3) and sqrt(9/3); rmse is their mean, not the pooled RMSE.
    assert M.rmse(y_true, y_pred) == pytest.approx((math.sqrt(5 / 3) + math.sqrt(3)) / 2)
    assert M.mse(y_true, y_pred) == pytest.approx((5 / 3 + 3) / 2)


# ---------------------------------------------------------------------------
# Independent implementations: SciPy and scikit-learn
# ---------------------------------------------------------------------------


def adversarial_pairs():
    """Random, tied, offset, anti-correlated and near-zero inputs, all of shape (time, dim)."""
    rng = np.random.default_rng(42)
    yt, yp = random_pair(1, (1, 120, 3))
    yield "random", yt[0], yp[0]
    ties_t = rng.integers(0, 4, size=(60, 2)).astype(float)
    ties_p = rng.integers(0, 3, size=(60, 2)).astype(float)
    yield "ties", ties_t, ties_p
    yield "offset", yt[0] + 1e4, yp[0] + 1e4
    yield "anti", yt[0], -yt[0] + 0.1 * yp[0]
    yield "near_zero", 1e-9 * yt[0], 1e-9 * yp[0]


@pytest.mark.parametrize(
    "name, ref",
    [
        ("pearson", lambda a, b: stats.pearsonr(a, b).statistic),
        ("spearman", lambda a, b: stats.spearmanr(a, b).statistic),
        ("kendall", lambda a, b: stats.kendalltau(a, b).statistic),
    ],
)
def test_correlations_match_scipy(name, ref):
    for case, y_true, y_pred in adversarial_pairs():
        expected = per_dim_mean(ref, y_true, y_pred)
        assert M.METRICS[name](y_true, y_pred) == pytest.approx(expected, rel=1e-9, abs=1e-12), case


def test_r2_matches_sklearn():
    for case, y_true, y_pred in adversarial_pairs():
        expected = skm.r2_score(y_true, y_pred, force_finite=False)
        assert M.r2_score(y_true, y_pred) == pytest.approx(expected, rel=1e-9), case


@pytest.mark.parametrize(
    "name, ref",
    [
        ("mse", lambda a, b: skm.mean_squared_error(a, b)),
        ("mae", lambda a, b: skm.mean_absolute_error(a, b)),
        ("rmse", lambda a, b: skm.root_mean_squared_error(a, b)),
        ("mape", lambda a, b: 100 * skm.mean_absolute_percentage_error(a, b)),
    ],
)
def test_errors_match_sklearn(name, ref):
    for case, y_true, y_pred in adversarial_pairs():
        if name == "mape" and np.any(y_true == 0):
            continue  # undefined, tested separately
        assert M.METRICS[name](y_true, y_pred) == pytest.approx(ref(y_true, y_pred), rel=1e-9), case


def test_rmsle_matches_sklearn_on_positive_data():
    rng = np.random.default_rng(3)
    y_true = rng.exponential(size=(90, 3))
    y_pred = rng.exponential(size=(90, 3))
    expected = skm.root_mean_squared_log_error(y_true, y_pred)
    assert M.rmsle(y_true, y_pred) == pytest.approx(expected, rel=1e-9)
    # Values in (-1, 0) are inside the domain of log1p.
    expected = per_dim_mean(lambda a, b: np.sqrt(np.mean((np.log1p(b) - np.log1p(a)) ** 2)), y_true - 0.9, y_pred - 0.9)
    assert M.rmsle(y_true - 0.9, y_pred - 0.9) == pytest.approx(expected, rel=1e-9)


def contingency(a, b, bins):
    counts, _, _ = np.histogram2d(a, b, bins=bins, range=[[a.min(), a.max()], [b.min(), b.max()]])
    return counts


@pytest.mark.parametrize("bins", [2, 8, 16])
def test_mutual_information_matches_sklearn_on_same_binning(bins):
    for case, y_true, y_pred in adversarial_pairs():
        if case == "ties":
            continue  # integer data sits on bin edges, where histogram2d rounds differently
        expected = per_dim_mean(
            lambda a, b: skm.mutual_info_score(None, None, contingency=contingency(a, b, bins)), y_true, y_pred
        )
        assert M.mutual_information(y_true, y_pred, bins=bins) == pytest.approx(expected, rel=1e-9, abs=1e-12), case


def reference_densities(a, b, bins):
    lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
    p = np.histogram(a, bins=bins, range=(lo, hi))[0] / a.size
    q = np.histogram(b, bins=bins, range=(lo, hi))[0] / b.size
    return p, q


def reference_kl(a, b, bins=16, eps=1e-6):
    p, q = reference_densities(a, b, bins)
    p, q = (p + eps) / (1 + bins * eps), (q + eps) / (1 + bins * eps)
    return float(np.sum(p * np.log(p / q)))


def reference_hellinger(a, b, bins=16):
    p, q = reference_densities(a, b, bins)
    return float(np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)))


def test_density_distances_match_numpy_histograms():
    for case, y_true, y_pred in adversarial_pairs():
        if case == "ties":
            continue
        assert M.kl_divergence(y_true, y_pred) == pytest.approx(
            per_dim_mean(reference_kl, y_true, y_pred), rel=1e-9
        ), case
        assert M.hellinger_distance(y_true, y_pred, bins=10) == pytest.approx(
            per_dim_mean(lambda a, b: reference_hellinger(a, b, 10), y_true, y_pred), rel=1e-9
        ), case


def test_joint_density_distances_match_histogramdd():
    y_true, y_pred = random_pair(5, (1, 400, 2))
    y_true, y_pred = y_true[0], y_pred[0]
    both = np.concatenate([y_true, y_pred])
    rng_ = [(both[:, d].min(), both[:, d].max()) for d in range(2)]
    p = np.histogramdd(y_true, bins=6, range=rng_)[0].ravel() / 400
    q = np.histogramdd(y_pred, bins=6, range=rng_)[0].ravel() / 400
    assert M.hellinger_distance(y_true, y_pred, bins=6, joint=True) == pytest.approx(
        math.sqrt(1 - np.sqrt(p * q).sum()), rel=1e-9
    )
    eps, k = 1e-6, 36
    ps, qs = (p + eps) / (1 + k * eps), (q + eps) / (1 + k * eps)
    assert M.kl_divergence(y_true, y_pred, bins=6, joint=True) == pytest.approx(np.sum(ps * np.log(ps / qs)), rel=1e-9)
    with pytest.raises(ValueError, match="too large"):
        M.kl_divergence(np.zeros((10, 8)), np.zeros((10, 8)), bins=16, joint=True)


def test_other_metrics_match_plain_numpy():
    refs = {
        "nrmse": lambda a, b: np.sqrt(np.mean((b - a) ** 2)) / np.std(a),
        "marre": lambda a, b: 100 * np.mean(np.abs(b - a)) / (a.max() - a.min()),
        "smape": lambda a, b: 200 * np.mean(np.abs(b - a) / (np.abs(a) + np.abs(b))),
        "wape": lambda a, b: 100 * np.sum(np.abs(b - a)) / np.sum(np.abs(a)),
        "coefficient_of_variation": lambda a, b: 100 * np.sqrt(np.mean((b - a) ** 2)) / np.mean(a),
    }
    for case, y_true, y_pred in adversarial_pairs():
        if case == "ties":
            y_true = y_true + 1.0  # avoid 0/0 in smape, which plain numpy would not handle
        for name, ref in refs.items():
            expected = per_dim_mean(ref, y_true, y_pred)
            assert M.METRICS[name](y_true, y_pred) == pytest.approx(expected, rel=1e-9), (name, case)


# ---------------------------------------------------------------------------
# darts.metrics (only when darts is installed)
# ---------------------------------------------------------------------------

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


@pytest.mark.parametrize("name", sorted(DARTS_NAMES))
def test_matches_darts(name):
    pytest.importorskip("darts")
    from darts import TimeSeries
    from darts import metrics as dm

    darts_metric = getattr(dm, DARTS_NAMES[name])
    rng = np.random.default_rng(7)
    cases = [
        ("positive", rng.uniform(0.5, 3.0, size=(70, 3)), rng.uniform(0.5, 3.0, size=(70, 3))),
        ("univariate", rng.uniform(0.1, 1.0, size=(50, 1)), rng.uniform(0.1, 1.0, size=(50, 1))),
        ("small", rng.uniform(1e-6, 1e-3, size=(40, 2)), rng.uniform(1e-6, 1e-3, size=(40, 2))),
    ]
    if name != "rmsle":  # darts' rmsle silently skips values <= -1; ours returns NaN
        signed = random_pair(8, (1, 90, 3))
        cases.append(("signed", signed[0][0], signed[1][0]))
        cases.append(("offset", signed[0][0] + 30.0, signed[1][0] - 5.0))
    if name == "smape":
        y = rng.normal(size=(30, 2))
        y[::3] = 0.0
        cases.append(("zeros", y, np.where(y == 0, 0.0, y + 0.1)))
    for case, y_true, y_pred in cases:
        expected = darts_metric(TimeSeries.from_values(y_true), TimeSeries.from_values(y_pred))
        assert M.METRICS[name](y_true, y_pred) == pytest.approx(float(expected), rel=1e-9), case


# ---------------------------------------------------------------------------
# Edge cases
# ---------------------------------------------------------------------------


def test_constant_series():
    const = np.full(50, 3.0)
    varying = np.linspace(0.0, 1.0, 50) ** 2
    for name in ("pearson", "spearman", "kendall"):
        assert np.isnan(M.METRICS[name](const, varying)), name
        assert np.isnan(M.METRICS[name](varying, const)), name
    # r2 and nrmse follow IEEE division by the zero variance of y_true.
    assert M.r2_score(const, varying) == -np.inf
    assert np.isnan(M.r2_score(const, const))
    assert M.r2_score(varying, const) == pytest.approx(skm.r2_score(varying, const))
    assert M.nrmse(const, varying) == np.inf
    assert np.isnan(M.nrmse(const, const))
    # marre is undefined for a zero range (darts raises).
    assert np.isnan(M.marre(const, varying))
    # A constant carries no information; identical constant histograms are at distance 0.
    assert M.mutual_information(const, varying) == 0.0
    assert M.kl_divergence(const, const) == 0.0
    assert M.hellinger_distance(const, const) == 0.0
    assert M.mse(const, const) == 0.0


def test_constant_detection_is_exact_despite_rounding():
    # mean(0.1, 0.1, 0.1) != 0.1 in floating point; the variance must still be exactly 0.
    const = np.full(3, 0.1)
    assert M.r2_score(const, const + 1.0) == -np.inf
    assert np.isnan(M.pearson(const, np.array([1.0, 2.0, 4.0])))


def test_mape_with_zero_in_y_true_is_nan():
    y_true = np.array([1.0, 0.0, 2.0])
    assert np.isnan(M.mape(y_true, y_true + 1.0))
    assert np.isnan(M.mape(y_true, y_true))  # even a perfect forecast: relative error undefined
    # Only the affected series of a batch is undefined.
    batch_true = np.stack([y_true, y_true + 1.0])[:, :, None]
    out = M.mape(batch_true, batch_true + 0.5)
    assert np.isnan(out[0]) and np.isfinite(out[1])
    # A negative y_true is fine.
    assert M.mape([-2.0, 4.0], [-1.0, 4.0]) == pytest.approx(25.0)


def test_rmsle_outside_log_domain_is_nan():
    ok = np.array([0.5, 1.0, 2.0])
    assert np.isfinite(M.rmsle(ok, ok - 1.2))  # values in (-1, 0)
    assert np.isnan(M.rmsle(ok, np.array([0.5, -1.0, 2.0])))
    assert np.isnan(M.rmsle(np.array([0.5, -3.0, 2.0]), ok))


def test_zero_denominators_of_wape_and_cv():
    zeros = np.zeros(4)
    assert M.wape(zeros, np.ones(4)) == np.inf
    assert np.isnan(M.wape(zeros, zeros))
    symmetric = np.array([-1.0, 1.0, -1.0, 1.0])
    assert M.coefficient_of_variation(symmetric, symmetric + 1) == np.inf
    assert M.coefficient_of_variation(-np.ones(4), np.zeros(4)) == pytest.approx(-100.0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["pred", "true"])
def test_non_finite_values_make_the_score_nan(bad, where):
    y_true, y_pred = random_pair(11, (3, 40, 2), offset=3.0)
    clean = M.score_all(y_true, y_pred)
    target = y_pred if where == "pred" else y_true
    target[1, 17, 1] = bad
    scores = M.score_all(y_true, y_pred)
    for name in ALL:
        assert np.isnan(scores[name][1]), name
        np.testing.assert_array_equal(scores[name][[0, 2]], clean[name][[0, 2]], err_msg=name)
        assert np.isnan(M.METRICS[name](y_true[1], y_pred[1])), name


def test_huge_forecast_is_not_silently_small():
    y_true, y_pred = random_pair(12, (1, 30, 2))
    y_pred[0, 5, 0] = 1e200
    assert M.mse(y_true, y_pred) == np.inf
    assert M.rmse(y_true, y_pred) > 1e100


CALLS = {name: (lambda a, b, f=func: f(a, b)) for name, func in M.METRICS.items()}
CALLS.update(
    score_all=M.score_all,
    horizon_scores=lambda a, b: M.horizon_scores(a, b, dt=0.1, lyapunov_exponent=1.0),
    valid_prediction_time=lambda a, b: M.valid_prediction_time(a, b, dt=0.1),
    correlation_dimension_error=M.correlation_dimension_error,
    power_spectrum_error=M.power_spectrum_error,
)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_mismatched_shapes_raise_naming_both(name):
    with pytest.raises(ValueError) as info:
        CALLS[name](np.zeros((20, 3)), np.zeros((20, 2)))
    assert "(20, 3)" in str(info.value) and "(20, 2)" in str(info.value)


def test_bad_dimensionality_raises():
    with pytest.raises(ValueError, match="batch, time, dim"):
        M.mse(np.zeros((2, 3, 4, 5)), np.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="at least one time step"):
        M.mse(np.zeros((0, 3)), np.zeros((0, 3)))
    with pytest.raises(ValueError, match="unknown metric"):
        M.score_all(T3, P3, metrics=["mse", "accuracy"])
    with pytest.raises(ValueError, match="bins"):
        M.mutual_information(T3, P3, bins=0)


# ---------------------------------------------------------------------------
# Batching and score_all
# ---------------------------------------------------------------------------


def test_batched_equals_looped_and_score_all_equals_individual_calls():
    y_true, y_pred = random_pair(13, (3, 64, 3), offset=2.0)
    batched = M.score_all(y_true, y_pred)
    for name in ALL:
        assert batched[name].shape == (3,)
        looped = [M.METRICS[name](y_true[i], y_pred[i]) for i in range(3)]
        assert all(isinstance(v, float) for v in looped)
        np.testing.assert_allclose(batched[name], looped, rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(M.METRICS[name](y_true, y_pred), looped, rtol=1e-12, err_msg=name)


def test_univariate_equals_single_dim():
    y_true, y_pred = random_pair(14, (1, 50, 1), offset=2.0)
    for name in ALL:
        a = M.METRICS[name](y_true[0, :, 0], y_pred[0, :, 0])
        b = M.METRICS[name](y_true[0], y_pred[0])
        assert a == pytest.approx(b, rel=1e-12), name


def test_score_all_subset_and_lists():
    out = M.score_all(T3.tolist(), P3.tolist(), metrics=["mse", "kendall"])
    assert set(out) == {"mse", "kendall"}
    assert out["mse"] == pytest.approx(5 / 3)


# ---------------------------------------------------------------------------
# Valid prediction time
# ---------------------------------------------------------------------------


def exponential_error_case(delta=1e-3, lam=0.9, dt=0.01, steps=1000, dims=2):
    t = np.arange(steps) * dt
    y_true = np.ones((steps, dims))
    y_pred = y_true + delta * np.exp(lam * t)[:, None]
    return y_true, y_pred


def test_vpt_smape_exponential_growth_analytic():
    delta, lam, dt = 1e-3, 0.9, 0.01
    y_true, y_pred = exponential_error_case(delta, lam, dt)
    # sMAPE(t) = 200 x / (2 + x) with x = delta exp(lam t) exceeds 30 once x > 6/17.
    crossing = math.log(6 / 17 / delta) / (lam * dt)
    k = math.floor(crossing) + 1
    assert 0 < k < 1000
    assert M.valid_prediction_time(y_true, y_pred, dt=None) == k
    assert M.valid_prediction_time(y_true, y_pred, dt=dt) == pytest.approx(k * dt)
    assert M.valid_prediction_time(y_true, y_pred, dt=dt, lyapunov_exponent=lam) == pytest.approx(k * dt * lam)
    # A custom threshold: exceeds 10 once x > 20/190.
    k10 = math.floor(math.log(20 / 190 / delta) / (lam * dt)) + 1
    assert M.valid_prediction_time(y_true, y_pred, dt=None, threshold=10.0) == k10


def test_vpt_nrmse_exponential_growth_analytic():
    delta, lam, dt, steps = 1e-4, 1.3, 0.02, 800
    t = np.arange(steps) * dt
    phase = 2 * np.pi * np.arange(steps) / 100
    y_true = np.column_stack([np.sin(phase), 3 * np.cos(phase)])
    y_pred = y_true + delta * np.exp(lam * t)[:, None]
    sigma = y_true.std(axis=0)
    # e(t) = x sqrt(mean_d 1 / sigma_d^2) exceeds 0.5 once x > 0.5 / sqrt(mean_d sigma_d^-2).
    x_crit = 0.5 / np.sqrt(np.mean(1 / sigma**2))
    k = math.floor(math.log(x_crit / delta) / (lam * dt)) + 1
    assert M.valid_prediction_time(y_true, y_pred, dt=None, metric="nrmse") == k
    assert M.valid_prediction_time(y_true, y_pred, dt=dt, lyapunov_exponent=lam, metric="nrmse") == pytest.approx(
        k * dt * lam
    )


def test_vpt_nrmse_is_the_pointwise_rule_with_threshold_one_half():
    delta, lam, dt, steps = 1e-4, 1.3, 0.02, 800
    phase = 2 * np.pi * np.arange(steps) / 100
    y_true = np.column_stack([np.sin(phase), 3 * np.cos(phase)])
    y_pred = y_true + delta * np.exp(lam * np.arange(steps) * dt)[:, None]
    x_crit = 0.5 / np.sqrt(np.mean(1 / y_true.std(axis=0) ** 2))
    k = math.floor(math.log(x_crit / delta) / (lam * dt)) + 1
    assert M.vpt_nrmse(y_true, y_pred) == k
    assert M.vpt_nrmse(y_true, y_pred, dt=dt, lyapunov_exponent=lam) == pytest.approx(k * dt * lam)
    k04 = math.floor(math.log(0.8 * x_crit / delta) / (lam * dt)) + 1  # Pathak et al.'s 0.4
    assert M.vpt_nrmse(y_true, y_pred, threshold=0.4) == k04 < k


def _running_smape_vpt_reference(y_true, y_pred, threshold=30.0):
    """Independent plain-Python running-sMAPE VPT: the prefix sMAPE recomputed from scratch
    for every prefix length, pooled over all entries (Gilpin 2023's helper, with 0/0 = 0)."""
    rows_t = [list(map(float, np.atleast_1d(r))) for r in y_true]
    rows_p = [list(map(float, np.atleast_1d(r))) for r in y_pred]
    for i in range(len(rows_t)):
        total, count = 0.0, 0
        for t in range(i + 1):
            for a, b in zip(rows_t[t], rows_p[t]):
                den = abs(a) + abs(b)
                total += 0.0 if den == 0 else abs(a - b) / den
                count += 1
        if 200.0 * total / count > threshold:
            return i
    return len(rows_t)


def test_vpt_smape_hand_computed():
    # Per-step sMAPE: 0, 0, 100, 100, 133.3; running means: 0, 0, 33.3, 50, 66.7.
    y_true, y_pred = np.ones(5), np.array([1.0, 1.0, 3.0, 3.0, 5.0])
    assert M.vpt_smape(y_true, y_pred) == 2  # the running mean first exceeds 30 at index 2
    assert M.vpt_smape(y_true, y_pred, threshold=40.0) == 3
    assert M.valid_prediction_time(y_true, y_pred, dt=None, threshold=40.0) == 2  # pointwise differs
    # One bad step is averaged away by the running mean: 200, then 0 x 9 -> 200/n.
    y_pred = np.ones(10)
    y_pred[0] = -1.0
    assert M.vpt_smape(np.ones(10), y_pred) == 0
    y_pred = np.ones(10)
    y_pred[3] = -1.0  # running: 0, 0, 0, 50 -> stops at 3
    assert M.vpt_smape(np.ones(10), y_pred) == 3
    y_pred = np.ones(10)
    y_pred[7] = -1.0  # running at index 7: 200 / 8 = 25 <= 30, then 200/9, 200/10: never
    assert M.vpt_smape(np.ones(10), y_pred) == 10
    assert M.valid_prediction_time(np.ones(10), y_pred, dt=None) == 7
    # Pooled over dims: dim 0 perfect, dim 1 sMAPE 100 -> pooled 50 > 30 at step 0.
    assert M.vpt_smape(np.ones((4, 2)), np.array([[1.0, 3.0]] * 4)) == 0
    assert M.vpt_smape(np.ones((4, 2)), np.array([[1.0, 3.0]] * 4), threshold=50.0) == 4
    # Units: samples * dt * lambda.
    assert M.vpt_smape(np.ones(10), y_pred, dt=0.1, lyapunov_exponent=2.0) == pytest.approx(2.0)


def test_vpt_smape_matches_independent_reference():
    rng = np.random.default_rng(5)
    for trial in range(25):
        steps, dims = rng.integers(1, 60), rng.integers(1, 4)
        y_true = rng.normal(size=(steps, dims)) + rng.choice([0.0, 3.0])
        growth = np.exp(np.linspace(-6, rng.uniform(-2, 3), steps))[:, None]
        y_pred = y_true + growth * rng.normal(size=(steps, dims))
        if trial % 5 == 0:
            y_true[rng.integers(steps)] = 0.0
            y_pred[rng.integers(steps)] = 0.0
        threshold = rng.choice([10.0, 30.0, 60.0])
        expected = _running_smape_vpt_reference(y_true, y_pred, threshold)
        assert M.vpt_smape(y_true, y_pred, threshold=threshold) == expected
    batch_t = rng.normal(size=(3, 40, 2)) + 2
    batch_p = batch_t + np.exp(np.linspace(-5, 2, 40))[None, :, None] * rng.normal(size=(3, 40, 2))
    np.testing.assert_array_equal(M.vpt_smape(batch_t, batch_p),
                                  [_running_smape_vpt_reference(t, p) for t, p in zip(batch_t, batch_p)])


def test_vpt_smape_non_finite():
    y_true, y_pred = np.ones((20, 2)), np.ones((20, 2))
    y_pred[6, 1] = np.nan  # diverged: not valid from there on
    assert M.vpt_smape(y_true, y_pred) == 6
    y_true[2, 0] = np.inf
    assert np.isnan(M.vpt_smape(y_true, y_pred))


def test_vpt_never_crossed_returns_full_length():
    y_true, _ = exponential_error_case()
    assert M.valid_prediction_time(y_true, y_true, dt=None) == 1000
    assert M.valid_prediction_time(y_true, y_true * 1.01, dt=0.01, lyapunov_exponent=2.0) == pytest.approx(1000 * 0.02)


def test_vpt_error_equal_to_threshold_is_still_valid():
    # Pointwise sMAPE: 0, 0, 200*2/4 = 100, 100, 200*4/6 = 133.3 -> only "> 100" is a crossing.
    y_true, y_pred = np.ones(5), np.array([1.0, 1.0, 3.0, 3.0, 5.0])
    assert M.valid_prediction_time(y_true, y_pred, dt=None, threshold=100.0) == 4
    assert M.valid_prediction_time(y_true, y_pred, dt=None, threshold=99.0) == 2


def test_vpt_crossing_at_the_first_step_is_zero():
    assert M.valid_prediction_time(np.ones(10), -np.ones(10), dt=None) == 0


def test_vpt_non_finite_values():
    y_true, y_pred = exponential_error_case()
    y_pred[100, 1] = np.nan
    assert M.valid_prediction_time(y_true, y_pred, dt=None) == 100  # the forecast diverged there
    y_pred[50, 0] = np.inf
    assert np.isnan(M.valid_prediction_time(y_true, y_pred, dt=None, metric="nrmse"))  # sigma = 0: undefined
    assert M.valid_prediction_time(y_true, y_pred, dt=None) == 50
    y_true[3, 0] = np.nan
    assert np.isnan(M.valid_prediction_time(y_true, y_pred, dt=None))


def test_vpt_batched_equals_looped_with_per_series_parameters():
    rng = np.random.default_rng(21)
    y_true = 2 + rng.normal(size=(4, 300, 3))
    growth = np.exp(np.linspace(0, 8, 300))[None, :, None] * rng.uniform(1e-4, 1e-2, size=(4, 1, 1))
    y_pred = y_true + growth
    dt, lam = np.array([0.01, 0.02, 0.05, 0.1]), np.array([0.5, 0.9, 1.5, 2.0])
    for metric in ("smape", "nrmse"):
        batched = M.valid_prediction_time(y_true, y_pred, dt=dt, lyapunov_exponent=lam, metric=metric)
        looped = [
            M.valid_prediction_time(y_true[i], y_pred[i], dt=dt[i], lyapunov_exponent=lam[i], metric=metric)
            for i in range(4)
        ]
        np.testing.assert_allclose(batched, looped)
        assert len(set(np.round(batched / (dt * lam)).tolist())) > 1  # distinct crossing steps


def test_vpt_rejects_bad_arguments():
    with pytest.raises(ValueError, match="requires dt"):
        M.valid_prediction_time(T3, P3, dt=None, lyapunov_exponent=1.0)
    with pytest.raises(ValueError, match="positive"):
        M.valid_prediction_time(T3, P3, dt=0.1, lyapunov_exponent=-1.0)
    with pytest.raises(ValueError, match="metric"):
        M.valid_prediction_time(T3, P3, dt=0.1, metric="mae")


# ---------------------------------------------------------------------------
# Horizon-wise scoring
# ---------------------------------------------------------------------------


def test_horizon_lengths():
    np.testing.assert_array_equal(M.horizon_lengths((0.5, 1, 2), dt=0.02, lyapunov_exponent=0.5), [50, 100, 200])
    np.testing.assert_array_equal(M.horizon_lengths((1,), dt=0.01, lyapunov_exponent=0.9), [112])  # 111.1 -> 112
    np.testing.assert_array_equal(M.horizon_lengths((0.001,), dt=1.0, lyapunov_exponent=1.0), [1])
    # 1 / (0.03 * (1 / 3)) evaluates to 100.00000000000001; that is still 100 samples.
    assert 1 / (0.03 * (1 / (0.03 * 100))) > 100
    np.testing.assert_array_equal(M.horizon_lengths((1, 2), dt=1 / (0.03 * 100), lyapunov_exponent=0.03), [100, 200])
    per_series = M.horizon_lengths((1, 2), dt=np.array([0.1, 0.2]), lyapunov_exponent=1.0)
    np.testing.assert_array_equal(per_series, [[10, 20], [5, 10]])
    with pytest.raises(ValueError):
        M.horizon_lengths((0, 1), dt=0.1, lyapunov_exponent=1.0)
    with pytest.raises(ValueError):
        M.horizon_lengths((1,), dt=0.1, lyapunov_exponent=0.0)


def test_horizon_prefix_equals_direct_metric():
    y_true, y_pred = random_pair(31, (3, 300, 3), offset=20.0, noise=0.8)
    y_true[:, :, 0] = np.abs(y_true[:, :, 0])  # a dim where rmsle is defined
    y_pred[:, :, 0] = np.abs(y_pred[:, :, 0])
    horizons = (0.25, 0.5, 1, 2.99, 4)
    scores = M.horizon_scores(y_true, y_pred, dt=0.01, lyapunov_exponent=1.0, horizons=horizons)
    assert set(scores) == set(ALL)
    lengths = [25, 50, 100, 299, 400]
    for name in ALL:
        assert scores[name].shape == (3, 5)
        for j, n in enumerate(lengths):
            if n > 300:
                assert np.all(np.isnan(scores[name][:, j])), name
                continue
            direct = M.METRICS[name](y_true[:, :n], y_pred[:, :n])
            np.testing.assert_allclose(scores[name][:, j], direct, rtol=1e-9, atol=1e-12, err_msg=f"{name} n={n}")


def test_horizon_scores_with_per_series_lyapunov_exponents():
    y_true, y_pred = random_pair(32, (3, 200, 2), offset=1.0)
    lam = np.array([1.0, 2.0, 0.5])
    scores = M.horizon_scores(y_true, y_pred, dt=0.01, lyapunov_exponent=lam, horizons=(0.5, 1), metrics=ALL)
    for i in range(3):
        single = M.horizon_scores(y_true[i], y_pred[i], dt=0.01, lyapunov_exponent=lam[i], horizons=(0.5, 1))
        for name in ALL:
            np.testing.assert_allclose(scores[name][i], single[name], rtol=1e-12, err_msg=name)
            n = math.ceil(1 / (lam[i] * 0.01))
            if n <= 200:
                direct = M.METRICS[name](y_true[i, :n], y_pred[i, :n])
                assert single[name][1] == pytest.approx(direct, rel=1e-9, nan_ok=True)
            else:
                assert np.isnan(single[name][1])


def test_horizon_prefix_that_is_constant():
    # Constant for 40 steps, then varying: the 40-step prefix has exactly zero variance.
    rng = np.random.default_rng(35)
    y_true = np.concatenate([np.full(40, 0.1), 0.1 + rng.normal(size=60)])
    y_pred = y_true + 0.01 * rng.normal(size=100)
    scores = M.horizon_scores(y_true, y_pred, dt=0.1, lyapunov_exponent=1.0, horizons=(4, 10))
    assert scores["r2_score"][0] == -np.inf
    assert scores["nrmse"][0] == np.inf
    assert np.isnan(scores["pearson"][0]) and np.isnan(scores["spearman"][0]) and np.isnan(scores["marre"][0])
    assert np.isfinite(scores["r2_score"][1]) and np.isfinite(scores["pearson"][1])


def test_horizons_beyond_the_forecast_are_nan():
    y_true, y_pred = random_pair(36, (2, 30, 2), offset=3.0)
    scores = M.horizon_scores(y_true, y_pred, dt=0.1, lyapunov_exponent=1.0, horizons=(4, 8))
    for name in ALL:
        assert scores[name].shape == (2, 2) and np.all(np.isnan(scores[name])), name
    single = M.horizon_scores(y_true[0], y_pred[0], dt=0.1, lyapunov_exponent=1.0, horizons=(1, 3, 3.5))
    for name in ALL:
        assert single[name].shape == (3,) and np.isnan(single[name][2]), name
        assert single[name][1] == pytest.approx(M.METRICS[name](y_true[0], y_pred[0]), rel=1e-9), name


def test_horizon_nan_only_invalidates_later_horizons():
    y_true, y_pred = random_pair(33, (1, 100, 2), offset=3.0)
    y_pred[0, 60, 0] = np.nan
    scores = M.horizon_scores(y_true[0], y_pred[0], dt=0.1, lyapunov_exponent=1.0, horizons=(1, 5, 8))
    for name in ALL:
        assert np.isfinite(scores[name][0]) and np.isfinite(scores[name][1]), name  # 10 and 50 steps
        assert np.isnan(scores[name][2]), name  # 80 steps include the NaN


def test_horizon_scores_frame():
    pd = pytest.importorskip("pandas")
    y_true, y_pred = random_pair(34, (2, 100, 2))
    scores = M.horizon_scores(y_true, y_pred, dt=0.1, lyapunov_exponent=1.0, horizons=(1, 2), metrics=["mse", "mae"])
    frame = M.horizon_scores_frame(scores, (1, 2))
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["series", "horizon", "metric", "value"]
    assert len(frame) == 2 * 2 * 2
    row = frame[(frame.series == 1) & (frame.horizon == 2) & (frame.metric == "mae")]
    assert row.value.item() == pytest.approx(scores["mae"][1, 1])


# ---------------------------------------------------------------------------
# Attractor-level scores
# ---------------------------------------------------------------------------


def lorenz_trajectory(steps=2000, dt=0.01):
    def rhs(_, s):
        x, y, z = s
        return [10 * (y - x), x * (28 - z) - y, x * y - 8 / 3 * z]

    t = 20 + np.arange(steps) * dt  # discard the transient
    return solve_ivp(rhs, (0, t[-1]), [1.0, 1.0, 1.0], t_eval=t, rtol=1e-8, atol=1e-8).y.T


def test_correlation_dimension_of_known_sets():
    rng = np.random.default_rng(41)
    angle = np.linspace(0, 40, 2000)
    circle = np.column_stack([np.cos(angle), np.sin(angle)])
    assert M.correlation_dimension(circle) == pytest.approx(1.0, abs=0.1)
    square = rng.uniform(size=(2000, 2))
    assert 1.75 < M.correlation_dimension(square) < 2.1
    assert 1.85 < M.correlation_dimension(lorenz_trajectory()) < 2.2  # literature: 2.05
    assert M.correlation_dimension(np.ones((100, 3))) == 0.0


def test_correlation_dimension_error():
    rng = np.random.default_rng(42)
    angle = np.linspace(0, 40, 1500)
    circle = np.column_stack([np.cos(angle), np.sin(angle)])
    square = rng.uniform(-1, 1, size=(1500, 2))
    assert M.correlation_dimension_error(circle, circle) == 0.0
    expected = abs(M.correlation_dimension(square) - M.correlation_dimension(circle))
    assert M.correlation_dimension_error(circle, square) == pytest.approx(expected)
    assert 0.6 < expected < 1.2
    batched = M.correlation_dimension_error(np.stack([circle, square]), np.stack([square, square]))
    np.testing.assert_allclose(batched, [expected, 0.0])
    bad = square.copy()
    bad[3, 0] = np.nan
    assert np.isnan(M.correlation_dimension_error(circle, bad))


def test_power_spectrum_error():
    t = np.arange(2048)
    slow = np.sin(2 * np.pi * t / 64)
    assert M.power_spectrum_error(slow, slow) == 0.0
    shifted = np.sin(2 * np.pi * t / 64 + 1.0)
    assert M.power_spectrum_error(slow, shifted) < 0.02  # phase does not matter
    assert M.power_spectrum_error(slow, 5 * slow) < 1e-12  # total power does not matter
    fast = np.sin(2 * np.pi * t / 5)
    assert M.power_spectrum_error(slow, fast) > 0.9
    const = np.full(2048, 2.0)
    assert M.power_spectrum_error(const, const) == 0.0
    assert M.power_spectrum_error(const, slow) == 1.0
    y_true, y_pred = random_pair(43, (3, 500, 2))
    batched = M.power_spectrum_error(y_true, y_pred)
    looped = [M.power_spectrum_error(y_true[i], y_pred[i]) for i in range(3)]
    np.testing.assert_allclose(batched, looped)
    assert np.all((batched >= 0) & (batched <= 1))
    y_pred[1, 7, 0] = np.inf
    assert np.isnan(M.power_spectrum_error(y_true, y_pred)[1])
    with pytest.raises(ValueError, match="at least 4"):
        M.power_spectrum_error(T3, P3)


def test_kendall_on_very_short_series():
    """Two or three samples (the shortest horizon prefixes): counted by hand."""
    from dysts_bench.metrics import kendall
    assert kendall(np.array([1.0, 2.0]), np.array([3.0, 5.0])) == pytest.approx(1.0)
    assert kendall(np.array([1.0, 2.0]), np.array([5.0, 3.0])) == pytest.approx(-1.0)
    # pairs (1,2): +,+ ; (1,3): +,- ; (2,3): +,- -> (1 - 2) / 3
    assert kendall(np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 0.5])) == pytest.approx(-1 / 3)
    assert np.isnan(kendall(np.array([1.0, 1.0]), np.array([1.0, 2.0])))


# ---------------------------------------------------------------------------
# Long-term statistics
# ---------------------------------------------------------------------------


def test_state_space_divergence_known_distributions():
    # 1-D, 4 bins on [0, 4): truth uniform over the 4 bins, forecast all in bin 0.
    y_true = np.array([0.5, 1.5, 2.5, 3.5] * 25)
    assert M.state_space_divergence(y_true, y_true, bins=4) == 0.0
    eps = 1e-6
    p = (0.25 + eps) / (1 + 4 * eps)
    q0, q_empty = (1 + eps) / (1 + 4 * eps), eps / (1 + 4 * eps)
    expected = p * math.log(p / q0) + 3 * p * math.log(p / q_empty)
    assert M.state_space_divergence(y_true, np.full(100, 0.2), bins=4) == pytest.approx(expected, rel=1e-12)
    # Values beyond the truth's range are clipped into the edge bins: far away = bin 0.
    assert M.state_space_divergence(y_true, np.full(100, -1e6), bins=4) == pytest.approx(expected, rel=1e-12)
    # p = (1/4,)*4, q = (1/2, 0, 1/2, 0): KL = 2 (1/4) log(1/2) + 2 (1/4) log(1/4 / eps), to O(eps).
    y_pred = np.array([0.5, 0.5, 2.5, 2.5] * 25)
    expected = 0.5 * math.log(0.5) + 0.5 * math.log(0.25 / eps)
    assert M.state_space_divergence(y_true, y_pred, bins=4) == pytest.approx(expected, rel=1e-5)


def test_state_space_divergence_joint_and_marginal():
    rng = np.random.default_rng(2)
    x = rng.uniform(size=(4000, 2))
    swapped = x[:, ::-1].copy()  # same marginals, same (uniform) joint
    assert M.state_space_divergence(x, swapped, bins=4) < 0.01
    # Perfectly correlated forecast: same marginals, joint on the diagonal only.
    diag = np.column_stack([x[:, 0], x[:, 0]])
    assert M.state_space_divergence(x, diag, bins=4) > 1.0
    assert M.state_space_divergence(x, diag, bins=4, max_joint_dim=1) < 0.01  # marginals agree
    batched = M.state_space_divergence(np.stack([x, x]), np.stack([swapped, diag]), bins=4)
    np.testing.assert_allclose(batched, [M.state_space_divergence(x, swapped, bins=4),
                                         M.state_space_divergence(x, diag, bins=4)])
    bad = diag.copy()
    bad[3, 1] = np.nan
    assert np.isnan(M.state_space_divergence(x, bad))


def test_long_term_scores_identical_series_are_zero():
    t = np.linspace(0, 40 * np.pi, 3000)
    y = np.column_stack([np.sin(t), np.cos(1.3 * t), np.sin(0.7 * t) ** 2])
    out = M.long_term_scores(y, y)
    assert set(out) == {"d_stsp", "d_h", "corr_dim_error"}
    assert out == {"d_stsp": 0.0, "d_h": 0.0, "corr_dim_error": 0.0}
    worse = M.long_term_scores(y, np.full_like(y, 0.3))
    assert worse["d_stsp"] > 5 and worse["d_h"] == 1.0

"""The library baselines of issue 14 (statistical, ML on lags, reference physics-aware).

The optional libraries are extras (``stats``, ``ml``, ``physics``); a test whose library
is missing is skipped with the extra to install, never failed.  Small parameters keep
every test to about a second.
"""

import argparse
import re
import sys
import tomllib
import types
from pathlib import Path

import numpy as np
import pytest

from dysts_bench import forecaster as F
from dysts_bench.forecaster import (FAMILIES, MissingRequirementError, hold_mean_after_divergence,
                                    missing_requirements, standardise)
from dysts_bench.metrics import smape
from dysts_bench.runner import adhoc_tasks

ROOT = Path(__file__).resolve().parents[1]

#: name -> (file, class, small parameters for the tests)
ENTRIES = {
    "darts_naive_drift": ("darts_naive_drift", "DartsNaiveDrift", {}),
    "darts_four_theta": ("darts_four_theta", "DartsFourTheta", {}),
    "darts_kalman": ("darts_kalman", "DartsKalman", {"dim_x": 4}),
    "statsforecast_auto_arima": ("statsforecast_auto_arima", "StatsforecastAutoARIMA", {"max_p": 2}),
    "statsforecast_auto_ets": ("statsforecast_auto_ets", "StatsforecastAutoETS", {}),
    "statsforecast_auto_theta": ("statsforecast_auto_theta", "StatsforecastAutoTheta", {}),
    "statsforecast_auto_ces": ("statsforecast_auto_ces", "StatsforecastAutoCES", {}),
    "statsforecast_tbats": ("statsforecast_tbats", "StatsforecastTBATS", {}),
    "darts_linear_regression": ("darts_linear_regression", "DartsLinearRegression", {"lags": 10}),
    "lightgbm": ("lightgbm", "LightGBM", {"n_estimators": 30}),
    "xgboost": ("xgboost", "XGBoost", {"n_estimators": 30}),
    "random_forest": ("random_forest", "RandomForest", {"n_estimators": 10}),
    "catboost": ("catboost", "CatBoost", {"iterations": 50}),
    "pysindy_sindy": ("pysindy_sindy", "PysindySINDy", {"threshold": 0.02}),
    "reservoirpy_esn": ("reservoirpy_esn", "ReservoirpyESN", {"units": 200}),
    "pydmd_hankel_dmd": ("pydmd_hankel", "PydmdHankelDMD", {}),
}

#: Entries expected to beat (or match) persistence over the first 100 steps (~1 period)
#: of Lorenz: the methods that model the multivariate dynamics (SINDy recovers the
#: equations; ESN, boosted trees and forests learn the one-step map).  Not expected: the
#: univariate statistical smoothers (drift, Theta, ETS, ARIMA, CES, TBATS forecast a
#: trend/level per variable and cannot follow an oscillation whose phase they do not
#: model), the linear models (Kalman, linear regression: a linear map of a chaotic flow
#: oscillates with the wrong growth), and pydmd (amplitudes fitted to the whole context,
#: see its docstring).
BEATS_NAIVE = ("pysindy_sindy", "reservoirpy_esn", "lightgbm", "xgboost", "random_forest", "catboost")


def entry_class(name):
    file, cls, _ = ENTRIES[name]
    target = F.builtin_forecasters()[name]
    assert target.endswith(f"{file}.py:{cls}")
    return F.forecaster_class(F.load_target(target))


def build(name, **overrides):
    cls = entry_class(name)
    absent = missing_requirements(cls)
    if absent:
        pytest.skip(f"{name} needs {absent}: pip install 'dysts-bench[{cls.extra}]'")
    return cls(**{**ENTRIES[name][2], **overrides})


def info_of(task):
    return {k: task.info[k] for k in ("dt", "pts_per_period", "dim")}


@pytest.fixture(scope="module")
def lorenz():
    return adhoc_tasks("Lorenz", n_series=3, context_length=600, horizon=100, seed=3)


# --------------------------------------------------------------------------- declarations

def test_listed_with_declarations_and_the_cli_shows_them(capsys):
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for name in ENTRIES:
        cls = entry_class(name)
        assert cls.name == name and cls.family in FAMILIES and isinstance(cls.multivariate, bool)
        assert cls.extra in extras and isinstance(cls.requires, tuple) and cls.requires
        assert re.search(r"\(?(19|20)\d\d\)?", cls.__doc__), f"{name} cites no paper"
        assert "cost" in cls.__doc__.lower() and "grid" in cls.__doc__.lower()
        assert set(cls.param_grid) <= set(cls._param_names())  # no instance: the library may be missing
    from dysts_bench.cli import main
    assert main(["forecasters", "--wide"]) == 0
    out = capsys.readouterr().out
    assert int(re.search(r"(\d+) forecasters", out).group(1)) >= 26
    for name in ENTRIES:
        assert name in out
    assert "statistical" in out and "multivariate" in out and "univariate" in out


def test_a_missing_dependency_names_the_extra(monkeypatch, capsys):
    cls = entry_class("lightgbm")
    monkeypatch.setattr(cls, "requires", ("no_such_module_dysts",))
    with pytest.raises(MissingRequirementError, match=r"no_such_module_dysts.*pip install 'dysts-bench\[ml\]'"):
        cls()
    from dysts_bench.runner.cli import _describe_class
    assert _describe_class(F.builtin_forecasters()["lightgbm"])[3] == "no: pip install 'dysts-bench[ml]'"


# --------------------------------------------------------------------------- shared pieces

def test_hold_mean_after_divergence():
    f = np.array([[0.0, 0.0], [0.5, 0.0], [3.0, 0.0], [0.1, 0.1]])
    box = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    out, step = hold_mean_after_divergence(f, *box)
    assert step == 2 and np.all(out[2:] == 0) and np.all(out[:2] == f[:2])
    assert f[2, 0] == 3.0  # the input is not modified
    out, step = hold_mean_after_divergence(f[:2], *box)
    assert step is None and np.array_equal(out, f[:2])
    nan = np.array([[0.0, 0.0], [np.nan, 0.0], [0.0, 0.0]])
    assert hold_mean_after_divergence(nan, *box)[1] == 1  # non-finite counts as diverged


def test_a_diverging_entry_holds_the_context_mean():
    from dysts_bench.forecaster.library import LibraryForecaster

    class Exploding(LibraryForecaster):  # a model whose forecast doubles each step
        family, multivariate = "baseline", True

        def _fit_z(self, z, *, dt, info):
            self.last_ = z[-1]

        def _predict_z(self, horizon):
            return self.last_ * 2.0 ** np.arange(1, horizon + 1)[:, None]

    context = np.column_stack([np.sin(np.arange(200) * 0.1), 3 + np.cos(np.arange(200) * 0.1)])
    pred = Exploding().fit(context, dt=0.1).predict(20)
    assert np.isfinite(pred).all()
    np.testing.assert_allclose(pred[-1], context.mean(axis=0))  # the mean once outside the box
    assert not np.allclose(pred[0], context.mean(axis=0))


# --------------------------------------------------------------------------- each entry

@pytest.mark.parametrize("name", list(ENTRIES))
def test_fit_predict_shape(name, lorenz):
    model = build(name)
    task = lorenz[0]
    pred = model.fit(task.context, dt=task.info["dt"], info=info_of(task)).predict(len(task.future))
    assert pred.shape == task.future.shape and np.isfinite(pred).all()
    # univariate entries forecast a single variable the same way
    one = build(name).fit(task.context[:, :1], dt=task.info["dt"], info={**info_of(task), "dim": 1}).predict(7)
    assert one.shape == (7, 1)


@pytest.mark.parametrize("name", BEATS_NAIVE)
def test_beats_or_matches_naive_on_a_short_lorenz_horizon(name, lorenz):
    ours, naive = [], []
    for task in lorenz:
        pred = build(name).fit(task.context, dt=task.info["dt"], info=info_of(task)).predict(len(task.future))
        ours.append(smape(task.future, pred))
        naive.append(smape(task.future, np.repeat(task.context[-1:], len(task.future), axis=0)))
    assert np.mean(ours) <= np.mean(naive), (name, ours, naive)


# --------------------------------------------------------------------------- Kalman, SINDy against the libraries

def test_kalman_mean_forecast_equals_darts_where_darts_works_and_runs_where_it_fails(lorenz):
    pytest.importorskip("darts", reason="pip install 'dysts-bench[stats]'")
    from darts import TimeSeries
    from darts.models import KalmanForecaster
    kalman = F._load_file_module(F.builtin_forecasters()["darts_kalman"].rpartition(":")[0])
    z = standardise(lorenz[0].context)[0]
    model = KalmanForecaster(dim_x=2).fit(TimeSeries.from_values(z))
    reference = model.predict(50).values()  # darts' own forecast (its covariance survives dim_x=2)
    np.testing.assert_allclose(kalman.kalman_mean_forecast(model.darts_kf.kf, z, 50), reference,
                               rtol=1e-6, atol=1e-8)
    task = lorenz[1]
    pred = build("darts_kalman", dim_x=8).fit(task.context, dt=task.info["dt"]).predict(3700)
    assert np.isfinite(pred).all()


def test_pysindy_rhs_equals_the_library_derivative(lorenz):
    ps = pytest.importorskip("pysindy", reason="pip install 'dysts-bench[physics]'")
    sindy = F._load_file_module(F.builtin_forecasters()["pysindy_sindy"].rpartition(":")[0])
    z = standardise(lorenz[0].context)[0]
    library = ps.PolynomialLibrary(degree=3)
    model = ps.SINDy(optimizer=ps.STLSQ(threshold=0.02), feature_library=library).fit(z, t=lorenz[0].info["dt"])
    rhs = sindy.polynomial_rhs(np.asarray(model.coefficients()), np.asarray(library.powers_))
    ours = np.array([rhs(0.0, x) for x in z[::50]])
    np.testing.assert_allclose(ours, model.predict(z[::50]), rtol=1e-9, atol=1e-9)


# --------------------------------------------------------------------------- loud failures

def test_a_run_where_every_task_fails_prints_the_error_and_exits_1(tmp_path, monkeypatch, capsys):
    from dysts_bench import runner as R
    parser = argparse.ArgumentParser(prog="dysts-bench")
    R.add_cli(parser.add_subparsers(dest="command", required=True))
    fake = types.ModuleType("dysts_bench.dataset")
    fake.iter_tasks = lambda **kw: iter(adhoc_tasks(["Lorenz"], n_series=2, context_length=100, horizon=10))
    monkeypatch.setitem(sys.modules, "dysts_bench.dataset", fake)
    boom = tmp_path / "boom.py"  # a forecaster that always fails (no optional library needed)
    boom.write_text("from dysts_bench.forecaster import Forecaster\n\n"
                    "class Boom(Forecaster):\n    family = 'baseline'\n\n"
                    "    def _fit(self, context, *, dt, info):\n        raise ValueError('boom')\n")
    args = parser.parse_args(["run", f"{boom}:Boom", "--systems", "Lorenz", "--results", str(tmp_path / "out"),
                              "--no-tune", "--quiet", "--timeout", "60"])
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert "2 of 2 task(s) failed" in err and "every task failed" in err
    assert re.search(r"2 x error: .*ValueError: boom", err)


def test_failure_messages_group_distinct_errors():
    from dysts_bench.runner.console import failure_messages, print_failures
    recs = [{"status": "ok"}, {"status": "error", "error": "Traceback...\nValueError: bad"},
            {"status": "error", "error": "Traceback...\nValueError: bad"}, {"status": "timeout", "error": None}]
    assert failure_messages(recs) == [(2, "error", "ValueError: bad"), (1, "timeout", "timeout")]
    import io
    assert print_failures(recs, file=io.StringIO()) is False
    assert print_failures(recs[1:], file=io.StringIO()) is True

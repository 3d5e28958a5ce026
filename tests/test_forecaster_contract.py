"""The explicit contract: check_forecaster on every built-in, declared constraints,
requirements, the tuning rule and the output checks."""

import pickle

import numpy as np
import pytest

from dysts_bench import forecaster as F
from dysts_bench.forecaster import (Check, Forecaster, ForecastShapeError, Interval, MissingRequirementError,
                                    check_forecaster, forecaster_class, load_target, missing_requirements)


def _builtin_classes():
    seen = {}
    for target in F.builtin_forecasters().values():
        seen.setdefault(target, forecaster_class(load_target(target)))
    return sorted(seen.values(), key=lambda c: c.name)


BUILTINS = _builtin_classes()
#: Built-ins whose full check takes 20-150 s on the 2-core machine (per-variable statistical
#: fits and boosting on the 10-variable context, and their tuning grids): marked slow, so
#: ``-m "not slow"`` leaves them out; they run by default.
SLOW_CHECKS = {"statsforecast_auto_arima", "catboost", "xgboost", "lightgbm", "statsforecast_tbats"}


@pytest.mark.parametrize("cls", [pytest.param(c, marks=pytest.mark.slow) if c.name in SLOW_CHECKS else c
                                 for c in BUILTINS], ids=[c.name for c in BUILTINS])
def test_every_builtin_passes_check_forecaster(cls):
    missing = missing_requirements(cls)
    if missing:
        pytest.skip(f"{cls.__name__} needs {missing} (extra {cls.extra!r}) which is not installed")
    if _checked_with_tiny_models(cls):
        pytest.skip("checked with tiny networks / a tiny random checkpoint in tests/test_forecasters_deep.py")
    check_forecaster(cls)


def _checked_with_tiny_models(cls) -> bool:
    """The deep and pretrained entries: their defaults train for seconds or need a checkpoint."""
    from dysts_bench.forecaster.deep import DartsTorchForecaster
    return issubclass(cls, DartsTorchForecaster) or cls.name in ("fracast", "chronos")


def test_darts_adapter_passes_check_forecaster():
    pytest.importorskip("darts", reason="the darts adapter needs the darts extra")
    check_forecaster(F.DartsForecaster, {"model": "NaiveDrift"})


class Ok(Forecaster):
    family = "baseline"
    multivariate = False
    param_grid = {"k": [1, 2]}
    _parameter_constraints = {"k": [Interval(int, 1, None)], "mode": ["a", "b"],
                              "w": [0, Check(lambda w: w % 2 == 1, "an odd integer")]}

    def __init__(self, k=1, mode="a", w=0):
        self.k, self.mode, self.w = k, mode, w

    def _fit(self, context, *, dt, info):
        self.last_ = context[-1] * self.k

    def _predict(self, horizon):
        return np.repeat(self.last_[None], horizon, axis=0)


def test_the_contract_class_itself_passes():
    check_forecaster(Ok)


@pytest.mark.parametrize("params, match", [
    ({"k": 0}, r"'k' must be an integer >= 1, got 0"),
    ({"k": 1.5}, r"'k' must be an integer"),
    ({"k": True}, r"'k' must be an integer"),
    ({"mode": "c"}, r"'mode' must be 'a' or 'b'"),
    ({"w": 4}, r"'w' must be 0 or an odd integer"),
])
def test_declared_constraints_are_checked_by_fit(params, match):
    with pytest.raises(ValueError, match=match):
        Ok(**params).fit(np.ones((5, 2)), dt=0.1)


def test_overriding_a_template_method_is_an_error():
    with pytest.raises(TypeError, match=r"overrides fit\(\); implement _fit\(\)"):
        class Old(Forecaster):  # noqa: F841
            def fit(self, context, *, dt, info=None):
                return self


def test_declarations_are_validated():
    with pytest.raises(TypeError, match="family must be one of"):
        class Bad(Forecaster):  # noqa: F841
            family = "magic"
    with pytest.raises(TypeError, match="_parameter_constraints"):
        class Bad2(Forecaster):  # noqa: F841
            _parameter_constraints = {"a": []}


def test_missing_requirement_names_the_extra():
    class NeedsIt(Ok):
        extra = "nonexistent"
        requires = ("no_such_package_dysts_bench_test",)
    assert missing_requirements(NeedsIt) == ["no_such_package_dysts_bench_test"]
    with pytest.raises(MissingRequirementError, match=r"pip install 'dysts-bench\[nonexistent\]'"):
        NeedsIt()


def test_complex_forecast_is_rejected_not_cast():
    class Complex(Ok):
        def _predict(self, horizon):
            return np.ones((horizon, len(self.last_))) * (1 + 1e-3j)
    with pytest.raises(ForecastShapeError, match="complex"):
        Complex().fit(np.ones((5, 2)), dt=0.1).predict(3)


def test_tune_leaves_fixed_parameters_alone():
    train, valid = np.full((50, 2), 1.0), np.full((10, 2), 2.0)
    assert Ok().tune(train, valid, dt=0.1) == {"k": 2}
    est = Ok(k=1)
    assert est.tune(train, valid, dt=0.1, fixed=["k"]) == {} and est.k == 1
    with pytest.raises(ValueError, match="unknown"):
        Ok().tune(train, valid, dt=0.1, fixed=["nope"])


def test_check_forecaster_catches_a_mutating_and_a_stateful_forecaster():
    class Mutates(Ok):
        def _fit(self, context, *, dt, info):
            context -= 1.0
            self.last_ = context[-1].copy()
    with pytest.raises(AssertionError, match="modified the context"):
        check_forecaster(Mutates)

    class Remembers(Ok):
        def _fit(self, context, *, dt, info):
            prev = getattr(self, "last_", 0.0)
            self.last_ = context[-1] + prev
    with pytest.raises(AssertionError, match="previous fit"):
        check_forecaster(Remembers)


def test_darts_unknown_params_go_to_the_model(monkeypatch):
    pytest.importorskip("darts", reason="the darts adapter needs the darts extra")
    f = F.DartsForecaster("LinearRegressionModel", lags=10)
    assert f.get_params()["lags"] == 10 and f.clone().get_params() == f.get_params()
    ctx = np.sin(np.arange(200.0) / 7)[:, None]
    f.fit(ctx, dt=0.1)
    assert f._models[0].lags["target"] == list(range(-10, 0))
    assert pickle.loads(pickle.dumps(f)).predict(3).shape == (3, 1)


def test_builtin_run_ids_match_the_stored_results():
    """The contract refactoring must not change a built-in's identity: the run id that
    ``runner.run`` computes (name, version, parameters, tuned, protocol) for each
    built-in's defaults, tuned as by default, names a stored results file."""
    from pathlib import Path

    from dysts_bench.jsonutil import params_hash
    from dysts_bench.runner.store import _slug
    from dysts_bench.schema import PROTOCOL_VERSION
    results = Path(__file__).resolve().parents[1] / "leaderboard" / "results"
    stored = {p.name.split(".")[0] for p in results.glob("*.jsonl")}
    scored = {"naive", "mean", "seasonal_naive", "fft", "linear_ar", "context_parroting", "nvar", "esn",
              "sindy", "dmd"}  # the built-ins with stored leaderboard results
    for cls in (c for c in BUILTINS if c.name in scored):
        meta = F.describe(cls())
        identity = {"name": meta["name"], "version": meta["version"], "params": meta["params"],
                    "tune": meta["tunable"], "protocol": PROTOCOL_VERSION}
        run_id = f"{_slug(meta['name'])}-{params_hash(identity)}"
        assert run_id in stored, f"{cls.name}: run id {run_id} has no stored results (identity changed?)"

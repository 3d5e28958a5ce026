"""The Forecaster contract, adapters, discovery and the built-in baselines."""

import sys
import types
from pathlib import Path

import numpy as np
import pytest

from dysts_bench import forecaster as F
from dysts_bench.forecaster import (Forecaster, ForecasterSpecError, ForecastShapeError, NotFittedError,
                                    from_callable, public_info, resolve_spec)

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "forecasters_bad.py"


class Persist(Forecaster):
    version = "2"

    def __init__(self, scale=1.0, bad_shape=False):
        self.scale = scale
        self.bad_shape = bad_shape

    def _fit(self, context, *, dt, info):
        self.last = context[-1] * self.scale
        self.seen_info = info
        return self

    def _predict(self, horizon):
        out = np.repeat(self.last[None], horizon, axis=0)
        return out[:-1] if self.bad_shape else out


def sinusoids(n, periods=(47.3,), dim=1):
    t = np.arange(n, dtype=float)
    cols = [sum(np.sin(2 * np.pi * t / p + d) for p in periods) for d in range(dim)]
    return np.stack(cols, axis=1)


# --------------------------------------------------------------------------- contract

def test_name_defaults_to_snake_case_and_params_roundtrip():
    f = Persist(scale=2.0)
    assert Persist.name == "persist" and Persist.version == "2"
    assert f.get_params() == {"scale": 2.0, "bad_shape": False}
    g = f.clone(scale=3.0)
    assert type(g) is Persist and g.scale == 3.0 and f.scale == 2.0
    assert f.set_params(scale=5.0) is f and f.scale == 5.0
    with pytest.raises(ValueError, match="no parameter 'nope'"):
        f.set_params(nope=1)
    assert repr(Persist()) == "Persist(scale=1.0, bad_shape=False)"


def test_unstored_parameter_is_a_clear_error():
    class Forgetful(Forecaster):
        def __init__(self, alpha=1):
            pass
    with pytest.raises(AttributeError, match="self.alpha"):
        Forgetful().get_params()


@pytest.mark.parametrize("context, dt, match", [
    (np.zeros(10), 0.1, "2-D array"),
    (np.zeros((1, 2)), 0.1, "at least 2 samples"),
    (np.array([[0.0], [np.nan], [1.0]]), 0.1, "NaN/inf"),
    (np.zeros((5, 2)), 0.0, "dt must be a positive"),
    (np.zeros((5, 2)), True, "dt must be a positive"),
    ([["a", "b"], ["c", "d"]], 0.1, "numeric array"),
])
def test_fit_validates_inputs(context, dt, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Persist().fit(context, dt=dt)


def test_predict_validates_and_checks_output():
    with pytest.raises(NotFittedError):
        Persist().predict(3)
    f = Persist().fit(np.ones((5, 2)), dt=0.1)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="horizon"):
            f.predict(bad)
    out = f.predict(4)
    assert out.shape == (4, 2) and out.dtype == np.float64
    with pytest.raises(ForecastShapeError, match=r"\(3, 2\), expected \(horizon, dim\) = \(4, 2\)"):
        Persist(bad_shape=True).fit(np.ones((5, 2)), dt=0.1).predict(4)
    with pytest.raises(ValueError, match="info\\['dim'\\]"):
        Persist().fit(np.ones((5, 2)), dt=0.1, info={"dim": 3})


def test_info_defaults_and_public_info_filters():
    f = Persist().fit(np.ones((5, 2)), dt=0.1)
    assert f.seen_info == {"dt": 0.1, "dim": 2}
    full = {"system": "Lorenz", "series": 3, "dt": 0.01, "pts_per_period": 100, "dim": 3,
            "maximum_lyapunov": 0.9, "evaluation": "canonical", "lyapunov_time_samples": 110.0}
    assert public_info(full) == {"dt": 0.01, "pts_per_period": 100.0, "dim": 3}
    assert public_info(full, uses_system_name=True)["system"] == "Lorenz"


def test_param_grid_must_be_lists():
    with pytest.raises(TypeError, match="param_grid"):
        class Bad(Forecaster):  # noqa: F841
            param_grid = {"a": 3}


def test_default_tune_picks_the_best_candidate_on_the_validation_tail():
    class Const(Forecaster):
        param_grid = {"c": [0.0, 1.0, 5.0, "boom"]}

        def __init__(self, c=0.0):
            self.c = c

        def _fit(self, context, *, dt, info):
            if self.c == "boom":
                raise RuntimeError("candidate fails")
            self.dim = context.shape[1]
            return self

        def _predict(self, horizon):
            return np.full((horizon, self.dim), self.c)

    train = np.full((50, 2), 7.0)
    valid = np.full((20, 2), 1.1)
    f = Const()
    assert f.tune(train, valid, dt=0.1) == {"c": 1.0}
    assert f.c == 1.0
    with pytest.raises(ValueError, match="valid must have shape"):
        f.tune(train, np.ones((5, 3)), dt=0.1)
    assert F.describe(Const())["tunable"] and not F.describe(Persist())["tunable"]


# --------------------------------------------------------------------------- adapters

def drift(context, horizon, *, dt, slope=0.0, **info):
    """A module-level function forecaster."""
    return context[-1] + slope * dt * np.arange(1, horizon + 1)[:, None]


drift.version = "3"


def test_callable_adapter():
    cls = from_callable(drift)
    assert issubclass(cls, Forecaster) and cls.name == "drift" and cls.version == "3"
    f = cls(slope=2.0)
    assert f.get_params() == {"slope": 2.0}
    out = f.fit(np.zeros((4, 2)), dt=0.5, info={"dt": 0.5, "dim": 2, "pts_per_period": 10}).predict(3)
    np.testing.assert_allclose(out[:, 0], [1.0, 2.0, 3.0])
    spec = resolve_spec(drift, {"slope": 1.0})
    assert spec.target == f"{__name__}:drift" or spec.target.endswith(":drift")
    assert isinstance(F.forecaster_class(drift)(), Forecaster)
    with pytest.raises(TypeError):
        from_callable(Persist)


def _fake_darts(monkeypatch):
    class TimeSeries:
        def __init__(self, values):
            self._v = np.asarray(values, dtype=float).reshape(len(values), -1)

        @classmethod
        def from_values(cls, values):
            return cls(values)

        def values(self):
            return self._v

    class Repeat:  # univariate only, like darts' ARIMA
        supports_multivariate = False

        def __init__(self, offset=0.0):
            self.offset = offset
            self.model_params = {"offset": offset}

        def fit(self, series):
            assert series.values().shape[1] == 1, "univariate model got a multivariate series"
            self.last = series.values()[-1]

        def predict(self, n):
            return TimeSeries(np.repeat(self.last[None], n, axis=0) + self.offset)

    class MultiRepeat(Repeat):
        supports_multivariate = True

        def fit(self, series):
            self.last = series.values()[-1]

    darts = types.ModuleType("darts")
    models = types.ModuleType("darts.models")
    darts.TimeSeries, darts.models = TimeSeries, models
    models.Repeat, models.MultiRepeat = Repeat, MultiRepeat
    Repeat.__module__ = MultiRepeat.__module__ = "darts.models.fake"
    monkeypatch.setitem(sys.modules, "darts", darts)
    monkeypatch.setitem(sys.modules, "darts.models", models)
    return models


def test_darts_adapter_multivariate_and_per_channel(monkeypatch):
    models = _fake_darts(monkeypatch)
    ctx = np.arange(12.0).reshape(4, 3)
    uni = F.DartsForecaster("Repeat", {"offset": 1.0})
    np.testing.assert_allclose(uni.fit(ctx, dt=0.1).predict(2), [[10, 11, 12]] * 2)
    assert len(uni._models) == 3  # one model per channel
    multi = F.DartsForecaster("MultiRepeat")
    np.testing.assert_allclose(multi.fit(ctx, dt=0.1).predict(2), [[9, 10, 11]] * 2)
    assert len(multi._models) == 1
    adapted = F.from_darts(models.Repeat(offset=2.0))
    assert adapted.get_params() == {"model": "Repeat", "model_kwargs": {"offset": 2.0}, "per_channel": "auto"}
    assert adapted.name == "darts_repeat"
    spec = resolve_spec("darts:Repeat", {"model_kwargs": {"offset": 1.0}})
    assert spec.target == "dysts_bench.forecaster:DartsForecaster" and spec.params["model"] == "Repeat"
    with pytest.raises(ForecasterSpecError, match="no model 'Nope'"):
        F.DartsForecaster("Nope").fit(ctx, dt=0.1)


def test_darts_adapter_with_real_darts():
    darts = pytest.importorskip("darts")
    from darts.models import FFT, NaiveSeasonal
    ctx = sinusoids(200, dim=2) + 5.0
    naive = F.from_darts(NaiveSeasonal(K=1)).fit(ctx, dt=0.1)
    np.testing.assert_allclose(naive.predict(5), np.repeat(ctx[-1:], 5, axis=0))
    fft = F.DartsForecaster("FFT").fit(ctx, dt=0.1)  # univariate only: per channel
    assert len(fft._models) == (1 if FFT().supports_multivariate else 2)
    assert fft.predict(7).shape == (7, 2)
    assert darts.__name__ == "darts"


# --------------------------------------------------------------------------- discovery

BUILTINS = ["naive", "mean", "seasonal_naive", "linear_ar", "fft", "context_parroting"]


def test_builtins_are_discovered_one_class_per_file():
    table = F.builtin_forecasters()
    for name in BUILTINS:
        assert name in table, name
        cls = F.forecaster_class(F.load_target(table[name]))
        assert cls.name == name and cls.__doc__
    files = sorted(p.stem for p in (ROOT / "forecasters").glob("*.py"))
    assert len(files) == len({table[s] for s in files})  # one class per file


def test_builtins_are_found_in_the_wheel_layout(tmp_path, monkeypatch):
    """In an installed wheel the built-ins live in dysts_bench/builtin_forecasters."""
    wheel_dir = tmp_path / "builtin_forecasters"
    wheel_dir.mkdir()
    (wheel_dir / "const.py").write_text(
        "import numpy as np\nfrom dysts_bench.forecaster import Forecaster\n"
        "class Const(Forecaster):\n    'Zeros.'\n    def __init__(self):\n        pass\n"
        "    def _fit(self, context, *, dt, info):\n        return self\n"
        "    def _predict(self, horizon):\n        return np.zeros((horizon, self.n_features_in_))\n")
    monkeypatch.setattr(F.discovery, "builtin_dirs", lambda: [wheel_dir])
    table = F.builtin_forecasters()
    assert set(table) == {"const"} and table["const"] == f"{wheel_dir / 'const.py'}:Const"
    assert resolve_spec("const").build().fit(np.ones((3, 2)), dt=1.0).predict(2).shape == (2, 2)


def test_resolve_file_module_and_errors(tmp_path):
    spec = resolve_spec(f"{BAD}:SlowNaive", {"delay": 0.0})
    assert spec.target == f"{BAD}:SlowNaive" and spec.params == {"delay": 0.0}
    assert spec.build().get_params() == {"delay": 0.0}
    spec = resolve_spec("dysts_bench.forecaster:DartsForecaster")
    assert F.load_target(spec.target) is F.DartsForecaster
    assert resolve_spec(Persist(scale=3.0)).params == {"scale": 3.0, "bad_shape": False}
    with pytest.raises(ForecasterSpecError, match="unknown forecaster 'nope'.*linear_ar"):
        resolve_spec("nope")
    with pytest.raises(ForecasterSpecError, match="not found"):
        resolve_spec(str(tmp_path / "missing.py:X"))
    with pytest.raises(ForecasterSpecError, match="give the class"):
        resolve_spec("thing.py")
    with pytest.raises(ForecasterSpecError, match="not a dysts_bench.Forecaster"):
        F.forecaster_class(F.load_target("dysts_bench.runner:RunResult"))
    with pytest.raises(ForecasterSpecError, match="importable"):
        def local():
            pass
        resolve_spec(local)


def test_entry_point_discovery(tmp_path, monkeypatch):
    pkg = tmp_path / "dbtest_plugin"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "import numpy as np\nfrom dysts_bench.forecaster import Forecaster\n"
        "class Plugged(Forecaster):\n    name = 'plugged'\n    def __init__(self):\n        pass\n"
        "    def _fit(self, context, *, dt, info):\n        self.d = context.shape[1]\n        return self\n"
        "    def _predict(self, horizon):\n        return np.zeros((horizon, self.d))\n")
    dist = tmp_path / "dbtest_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: dbtest-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[dysts_bench.forecasters]\nplugged = dbtest_plugin:Plugged\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert F.entry_point_forecasters()["plugged"] == "dbtest_plugin:Plugged"
    spec = resolve_spec("plugged")
    assert spec.target == "dbtest_plugin:Plugged"
    assert spec.build().fit(np.ones((3, 2)), dt=1.0).predict(2).shape == (2, 2)
    assert "plugged" in F.available_forecasters()


# --------------------------------------------------------------------------- baselines

def build(name, **params):
    return resolve_spec(name, params).build()


def test_naive_and_mean_have_the_expected_error():
    rng = np.random.default_rng(1)
    ctx, fut = rng.standard_normal((100, 3)), rng.standard_normal((30, 3))
    pred = build("naive").fit(ctx, dt=0.1).predict(30)
    np.testing.assert_array_equal(pred, np.repeat(ctx[-1:], 30, axis=0))
    from dysts_bench.metrics import mae
    assert mae(fut, pred) == pytest.approx(np.abs(fut - ctx[-1]).mean(axis=0).mean())
    np.testing.assert_allclose(build("mean").fit(ctx, dt=0.1).predict(2), np.repeat(ctx.mean(0)[None], 2, 0))
    np.testing.assert_allclose(build("mean", window=10).fit(ctx, dt=0.1).predict(1)[0], ctx[-10:].mean(0))


def test_linear_ar_and_fft_continue_sinusoids_almost_exactly():
    x = sinusoids(1300, periods=(47.3, 13.1), dim=2)
    ctx, fut = x[:1000], x[1000:]
    ar = build("linear_ar").fit(ctx, dt=0.01).predict(300)
    assert np.abs(ar - fut).max() < 1e-3
    fft = build("fft").fit(ctx, dt=0.01).predict(300)
    assert np.abs(fft - fut).max() < 1e-2
    # the naive forecast is far off on the same signal
    assert np.abs(build("naive").fit(ctx, dt=0.01).predict(300) - fut).max() > 1.0


def test_seasonal_and_parroting_repeat_a_periodic_signal_exactly():
    x = sinusoids(700, periods=(50.0, 25.0), dim=2)
    ctx, fut = x[:500], x[500:]
    info = {"dt": 0.01, "pts_per_period": 50.0, "dim": 2}
    for period in ("info", "auto", 50):
        pred = build("seasonal_naive", period=period).fit(ctx, dt=0.01, info=info).predict(200)
        np.testing.assert_allclose(pred, fut, atol=1e-9)
    pred = build("context_parroting").fit(ctx, dt=0.01, info=info).predict(200)
    np.testing.assert_allclose(pred, fut, atol=1e-9)


def test_baselines_forecast_chaos_sensibly():
    from dysts_bench.metrics import rmse, valid_prediction_time
    from dysts_bench.runner import adhoc_tasks
    tasks = adhoc_tasks("Lorenz", n_series=4, context_length=1000, horizon=200, seed=3)
    errors, vpt = {}, {}
    for name in BUILTINS:
        e, v = [], []
        for task in tasks:
            info = {k: task.info[k] for k in ("dt", "pts_per_period", "dim")}
            pred = build(name).fit(task.context, dt=info["dt"], info=info).predict(200)
            assert pred.shape == (200, 3) and np.isfinite(pred).all(), name
            e.append(rmse(task.future[:30], pred[:30]))
            v.append(valid_prediction_time(task.future, pred, dt=None, metric="nrmse"))
        errors[name], vpt[name] = np.mean(e), np.median(v)
    # short-term: the dynamical baselines beat persistence, which beats climatology
    assert errors["linear_ar"] < errors["naive"] < errors["mean"]
    assert errors["context_parroting"] < errors["naive"]
    assert vpt["context_parroting"] > vpt["naive"] and vpt["linear_ar"] > vpt["naive"]


def test_ridge_matches_scikit_learn_with_a_free_intercept():
    from sklearn.linear_model import Ridge

    from dysts_bench.regression import ridge
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 5))
    Y = X @ rng.normal(size=(5, 2)) + 0.7 + 0.1 * rng.normal(size=(200, 2))
    alpha = 0.05
    W = ridge(np.hstack([X, np.ones((200, 1))]), Y, alpha, free_column=-1)
    ref = Ridge(alpha=alpha * len(X), fit_intercept=True).fit(X, Y)
    np.testing.assert_allclose(W[:-1], ref.coef_.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(W[-1], ref.intercept_, rtol=1e-10)
    # Every column penalised: scikit-learn without an intercept.
    W_all = ridge(X, Y, alpha)
    np.testing.assert_allclose(W_all, Ridge(alpha=alpha * len(X), fit_intercept=False).fit(X, Y).coef_.T,
                               rtol=1e-10, atol=1e-12)


def test_darts_enum_arguments_from_plain_strings():
    pytest.importorskip("darts")
    from darts.utils.utils import SeasonalityMode

    from dysts_bench.forecaster import DartsForecaster, _enum_arguments
    from darts.models import Theta
    assert _enum_arguments(Theta, {"season_mode": "additive", "theta": 2}) == {
        "season_mode": SeasonalityMode.ADDITIVE, "theta": 2}
    with pytest.raises(ValueError, match="season_mode='bogus' is not one of"):
        _enum_arguments(Theta, {"season_mode": "bogus"})
    # Theta's default multiplicative seasonality rejects series with negative values;
    # the additive mode, given as JSON-friendly text, fits and forecasts them.
    t = np.arange(400) * 0.1
    context = np.stack([np.sin(t), np.cos(0.5 * t) - 0.2], axis=1)
    with pytest.raises(ValueError):
        DartsForecaster("Theta").fit(context, dt=0.1)
    forecast = DartsForecaster("Theta", {"season_mode": "additive"}).fit(context, dt=0.1).predict(20)
    assert forecast.shape == (20, 2) and np.isfinite(forecast).all()

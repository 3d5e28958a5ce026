"""``check_forecaster``: the conformance suite every forecaster passes (the idea of
scikit-learn's ``check_estimator``).

Run it on a new class before submitting it::

    from dysts_bench.forecaster import check_forecaster
    check_forecaster(MyForecaster)                    # default parameters
    check_forecaster(MyForecaster, params={"lags": 5})

Each check raises :class:`AssertionError` naming what failed.  The data are small
synthetic quasi-periodic series (a few hundred samples), so a run takes seconds.
"""

from __future__ import annotations

import inspect
import pickle

import numpy as np

from .constraints import check_params
from .contract import FAMILIES, Forecaster, missing_requirements, pretrains
from .validation import NotFittedError

#: A value no declared constraint should accept.
INVALID = "<an invalid value>"


def synthetic_context(n: int, dim: int, phase: float = 0.0) -> np.ndarray:
    """A deterministic quasi-periodic ``(n, dim)`` series (two incommensurate tones per
    variable, different per variable) with a little deterministic roughness."""
    t = np.arange(n)[:, None] * 0.05
    k = np.arange(1, dim + 1)[None, :]
    x = np.sin(t * (1.0 + 0.1 * k) + phase + k) + 0.5 * np.cos(t * np.sqrt(2.0) * (1 + 0.05 * k) + 2 * k)
    return x + 0.01 * np.sin(37.0 * t * k)


def _forecast(est, context, horizon, dt):
    return est.fit(context, dt=dt, info={"dt": dt, "dim": context.shape[1], "pts_per_period": 100.0}
                   ).predict(horizon)


def _same(a, b) -> bool:
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def check_declarations(cls) -> None:
    assert cls.family in FAMILIES, f"{cls.__name__}.family must be one of {FAMILIES}, got {cls.family!r}"
    assert isinstance(cls.multivariate, bool), f"{cls.__name__}.multivariate must be a bool"
    assert cls.extra is None or isinstance(cls.extra, str), f"{cls.__name__}.extra must be a str or None"
    assert isinstance(cls.version, str) and cls.version, f"{cls.__name__}.version must be a non-empty str"
    for key, values in dict(cls.param_grid).items():
        assert key in cls._param_names() or not cls._param_names(), \
            f"{cls.__name__}.param_grid names {key!r}, which is not a constructor parameter"
        for value in values:  # every grid value must satisfy the declared constraints
            check_params(cls.__name__, {key: value}, cls._parameter_constraints)


def check_params_round_trip(cls, params) -> None:
    est = cls(**params)
    got = est.get_params()
    names = cls._param_names()
    assert set(names) <= set(got), f"get_params() lacks {sorted(set(names) - set(got))}"
    undeclared = [n for n in names if n not in cls._parameter_constraints]
    assert not undeclared, f"{cls.__name__}: no _parameter_constraints for {undeclared}"
    twin = est.clone()
    assert twin is not est and type(twin) is cls, "clone() must return a new instance of the same class"
    assert repr(twin.get_params()) == repr(got), "clone() changed the parameters"
    assert repr(cls(**got).get_params()) == repr(got), "cls(**get_params()) changed the parameters"
    assert est.set_params(**got) is est, "set_params must return self"
    open_ended = any(p.kind is p.VAR_KEYWORD for p in inspect.signature(cls.__init__).parameters.values())
    if open_ended:  # **kwargs (an adapter passing them on): any name is a parameter
        return
    try:
        est.set_params(**{"no_such_parameter_": 1})
    except ValueError:
        pass
    else:
        raise AssertionError("set_params accepted an unknown parameter")


def check_bad_params(cls, params, context, dt) -> None:
    for name in cls._parameter_constraints:
        est = cls(**params).set_params(**{name: INVALID})
        try:
            est.fit(context, dt=dt)
        except (ValueError, TypeError) as exc:
            assert name in str(exc), f"the error for a bad {name!r} does not name it: {exc}"
        else:
            raise AssertionError(f"fit accepted {name}={INVALID!r}")


def check_fit_predict(cls, params, context, horizon, dt) -> np.ndarray:
    est = cls(**params)
    try:
        est.predict(horizon)
    except NotFittedError:
        pass
    else:
        raise AssertionError("predict before fit must raise NotFittedError")
    original = context.copy()
    assert est.fit(context, dt=dt) is est, "fit must return self"
    out = est.predict(horizon)
    assert _same(context, original), "fit/predict modified the context"
    assert out.shape == (horizon, context.shape[1]) and out.dtype == np.float64, \
        f"predict returned {out.shape} {out.dtype}, expected ({horizon}, {context.shape[1]}) float64"
    return out


def check_deterministic_and_refit(cls, params, context, other, horizon, dt) -> None:
    first = _forecast(cls(**params), context, horizon, dt)
    assert _same(first, _forecast(cls(**params), context, horizon, dt)), \
        "two fits on the same data gave different forecasts (seed the randomness)"
    est = cls(**params)
    _forecast(est, other, horizon, dt)
    assert _same(_forecast(est, context, horizon, dt), first), \
        "a refitted forecaster kept state from its previous fit"
    again = est.predict(horizon)
    assert _same(again, first), "predict changed the fitted state (a second call differs)"


def check_pickle(cls, params, context, horizon, dt) -> None:
    est = cls(**params).fit(context, dt=dt)
    expected = est.predict(horizon)
    copy = pickle.loads(pickle.dumps(est))
    assert _same(copy.predict(horizon), expected), "an unpickled forecaster predicts differently"


def check_tune_respects_fixed(cls, params, context, dt) -> None:
    grid = dict(cls.param_grid)
    if not grid:
        return
    free = next(iter(grid))
    fixed = [k for k in cls._param_names() if k != free]
    train, valid = context[:-50], context[-50:]
    est = cls(**params)
    best = est.tune(train, valid, dt=dt, fixed=fixed)
    assert set(best) <= {free}, f"tune changed fixed parameters: {best}"
    if best:
        assert best[free] in grid[free], f"tune chose {free}={best[free]!r}, not in param_grid"


class SyntheticCorpus:
    """A tiny in-memory stand-in for :class:`dysts_bench.corpus.Corpus` (``id``, ``seed``,
    ``systems``, ``series()``; no directory): what :func:`check_pretrain` pretrains on."""

    id, seed = "synthetic", 0

    def __init__(self, dims=(1, 3), n_series=2, length=400):
        self.dims, self.n_series, self.length = tuple(dims), int(n_series), int(length)
        self.systems = [f"synthetic{i}" for i in range(len(self.dims))]

    def series(self):
        for name, dim in zip(self.systems, self.dims):
            values = np.stack([synthetic_context(self.length, dim, phase=0.5 * k) for k in range(self.n_series)])
            yield name, values.astype(np.float32), {"dt": 0.05, "pts_per_period": 100.0, "system": name}


def check_pretrain(cls, params, context, horizon, dt, corpus=None) -> None:
    """A class with ``pretrain(corpus)``: it returns None, the pretrained model fits and
    predicts the right shape, pretraining twice gives the same forecast, and a pickled
    pretrained model predicts the same."""
    corpus = SyntheticCorpus() if corpus is None else corpus
    est = cls(**params)
    assert est.pretrain(corpus) is None, "pretrain(corpus) must return None (it sets the model's state)"
    first = _forecast(est, context, horizon, dt)
    assert first.shape == (horizon, context.shape[1]), f"pretrained predict returned {first.shape}"
    twin = cls(**params)
    twin.pretrain(corpus)
    assert _same(_forecast(twin, context, horizon, dt), first), "two pretrainings gave different forecasts"
    copy = pickle.loads(pickle.dumps(est))
    assert _same(_forecast(copy, context, horizon, dt), first), "an unpickled pretrained model predicts differently"


def check_forecaster(cls, params=None, *, n: int = 400, horizon: int = 30, dt: float = 0.05, corpus=None) -> None:
    """Run every conformance check on ``cls`` (a Forecaster subclass or instance).

    Checks: the class declarations (family, multivariate, extra, version, a constraint
    for every parameter, a grid inside its constraints); ``get_params`` / ``set_params``
    / ``clone`` round trip; a clear error naming each parameter given an invalid value;
    ``predict`` before ``fit`` raises; ``fit`` returns self; ``predict`` gives a float64
    ``(horizon, dim)`` array; the context is not modified; two fits give the same
    forecast (seeded randomness); a refit forgets the previous fit; a pickled fitted
    forecaster predicts the same; ``tune`` leaves fixed parameters alone; all on a
    univariate and a 10-dimensional context (a univariate-per-channel model too); for a
    class with ``pretrain(corpus)``, :func:`check_pretrain` on ``corpus`` (default: a
    :class:`SyntheticCorpus`).
    """
    if isinstance(cls, Forecaster):
        params = {**cls.get_params(), **(params or {})}
        cls = type(cls)
    params = dict(params or {})
    assert inspect.isclass(cls) and issubclass(cls, Forecaster), f"{cls!r} is not a Forecaster subclass"
    missing = missing_requirements(cls)
    assert not missing, f"{cls.__name__} needs {missing} (pip install 'dysts-bench[{cls.extra}]')"
    check_declarations(cls)
    check_params_round_trip(cls, params)
    for dim in (1, 3, 10):
        context, other = synthetic_context(n, dim), synthetic_context(n, dim, phase=1.0)
        check_fit_predict(cls, params, context, horizon, dt)
        check_deterministic_and_refit(cls, params, context, other, horizon, dt)
        if dim == 3:
            check_bad_params(cls, params, context, dt)
            check_pickle(cls, params, context, horizon, dt)
            check_tune_respects_fixed(cls, params, context, dt)
            if pretrains(cls):
                check_pretrain(cls, params, context, horizon, dt, corpus)

"""Adapters: plain functions (:func:`from_callable`) and darts models
(:class:`DartsForecaster`) as :class:`~dysts_bench.forecaster.contract.Forecaster`."""

from __future__ import annotations

import copy
import inspect

import numpy as np

from .contract import Forecaster, _snake
from .validation import ForecasterSpecError


class CallableForecaster(Forecaster):
    """Base of forecasters made from plain functions by :func:`from_callable`."""

    name = "callable"
    func = None  # set on the subclass made by from_callable

    def __init__(self, **kwargs):
        self._kwargs = dict(kwargs)

    def get_params(self) -> dict:
        return dict(self._kwargs)

    def set_params(self, **params):
        self._kwargs.update(params)
        return self

    def clone(self, **overrides):
        return type(self)(**{**copy.deepcopy(self._kwargs), **overrides})

    def _fit(self, context, *, dt, info):
        self._context = context
        self._info = {**info, "dt": dt}

    def _predict(self, horizon):
        return type(self).func(self._context, horizon, **self._info, **self._kwargs)


def from_callable(func, *, name=None, version=None, uses_system_name=None, family=None) -> type:
    """A :class:`Forecaster` class from ``func(context, horizon, **info) -> (horizon, dim)``.

    ``info`` holds ``dt``, ``pts_per_period``, ``dim`` (and ``system`` if
    ``uses_system_name``), so a function should accept ``**kwargs``.  Name, version and
    the flag default to the function's attributes of those names, then to its
    ``__name__``, ``"0"`` and False (``family``: the function's attribute, else None).  Keyword arguments given to the class become extra
    keyword arguments of ``func`` (and its parameters).
    """
    if not callable(func) or inspect.isclass(func):
        raise TypeError(f"from_callable expects a function, got {func!r}")
    fname = getattr(func, "__name__", "callable")
    attrs = {
        "func": staticmethod(func),
        "name": name or getattr(func, "name", None) or fname,
        "version": str(version or getattr(func, "version", "0")),
        "uses_system_name": bool(uses_system_name if uses_system_name is not None
                                 else getattr(func, "uses_system_name", False)),
        "family": family or getattr(func, "family", None),
        "__module__": getattr(func, "__module__", __name__),
        "__doc__": func.__doc__,
    }
    return type(f"Callable_{fname}", (CallableForecaster,), attrs)


class DartsForecaster(Forecaster):
    """Any darts forecasting model as a :class:`Forecaster`.

    Parameters
    ----------
    model : str
        A class in ``darts.models`` (``"NBEATSModel"``) or ``"module:Class"``.
    model_kwargs : dict, optional
        Constructor arguments of the darts model. A string given for an enum-typed
        argument is converted to that enum, so plain JSON reaches every option, e.g.
        ``{"season_mode": "additive"}`` for ``Theta``.
    **kwargs
        Further constructor arguments of the darts model, merged over ``model_kwargs``:
        ``--param lags=10`` on the command line reaches the model as ``lags=10``.
        They are parameters of the adapter (``get_params``), so they are part of the
        run's identity.
    per_channel : bool or "auto"
        Fit one model per state variable.  ``"auto"`` does so exactly when the model
        does not support multivariate series (``model.supports_multivariate``).
    """

    name = "darts"
    version = "1"
    family = "statistical"  # the default model; darts also wraps ml and deep models
    multivariate = True     # per_channel="auto" fits univariate darts models per variable
    extra = "darts"
    requires = ("darts",)
    _parameter_constraints = {"model": [str], "model_kwargs": [None, dict], "per_channel": [bool, "auto"]}

    def __init__(self, model="NaiveSeasonal", model_kwargs=None, per_channel="auto", **kwargs):
        self.model = model
        self.model_kwargs = model_kwargs
        self.per_channel = per_channel
        self._model_extra = dict(kwargs)
        self.name = f"darts_{_snake(str(model).rsplit(':', 1)[-1])}"
        try:
            from importlib.metadata import version as _v
            self.version = f"darts-{_v('darts')}"
        except Exception:
            pass

    def get_params(self) -> dict:
        """The adapter's parameters and the darts arguments given outside ``model_kwargs``."""
        return {**super().get_params(), **self._model_extra}

    def set_params(self, **params):
        named = set(self._param_names())
        super().set_params(**{k: v for k, v in params.items() if k in named})
        self._model_extra.update({k: v for k, v in params.items() if k not in named})
        return self

    def _model_class(self):
        if ":" in str(self.model):
            from .discovery import load_target
            return load_target(self.model)
        import darts.models
        try:
            return getattr(darts.models, self.model)
        except AttributeError:
            raise ForecasterSpecError(f"darts.models has no model {self.model!r}") from None

    def _darts_kwargs(self) -> dict:
        """Constructor arguments of the darts model (a subclass translates its own parameters)."""
        return {**(self.model_kwargs or {}), **self._model_extra}

    def _fit_model(self, model, values: np.ndarray) -> None:
        """Fit one darts model on ``values`` (n, k); a subclass may add a validation series."""
        from darts import TimeSeries
        model.fit(TimeSeries.from_values(values))

    def _fit(self, context, *, dt, info):
        cls = self._model_class()
        kwargs = _enum_arguments(cls, self._darts_kwargs())
        probe = cls(**kwargs)
        per_channel = self.per_channel
        if per_channel == "auto":
            per_channel = context.shape[1] > 1 and not getattr(probe, "supports_multivariate", True)
        if per_channel:
            self._models = [probe] + [cls(**copy.deepcopy(kwargs)) for _ in range(context.shape[1] - 1)]
            for i, m in enumerate(self._models):
                self._fit_model(m, context[:, i:i + 1])
        else:
            self._fit_model(probe, context)
            self._models = [probe]

    def _predict(self, horizon):
        parts = [np.asarray(m.predict(horizon).values(), dtype=float) for m in self._models]
        parts = [p.reshape(horizon, -1) for p in parts]
        return np.concatenate(parts, axis=1)


def _enum_arguments(cls, kwargs: dict) -> dict:
    """``kwargs`` with each string given for an enum-typed constructor argument of ``cls``
    replaced by the enum member of that value (``"additive"`` -> ``SeasonalityMode.ADDITIVE``)."""
    import enum
    import typing
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # unresolvable annotations: pass the arguments through
        return kwargs
    for name, value in kwargs.items():
        if not isinstance(value, str):
            continue
        hint = hints.get(name)
        for candidate in (hint, *typing.get_args(hint)):
            if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
                try:
                    kwargs[name] = candidate(value)
                except ValueError:
                    choices = ", ".join(repr(m.value) for m in candidate)
                    raise ValueError(f"{cls.__name__}: {name}={value!r} is not one of {choices}") from None
                break
    return kwargs


def from_darts(model) -> DartsForecaster:
    """A :class:`DartsForecaster` from a darts model instance (its constructor arguments
    are read from ``model.model_params``) or a darts model class."""
    cls = model if inspect.isclass(model) else type(model)
    params = {} if inspect.isclass(model) else dict(getattr(model, "model_params", {}) or {})
    module = cls.__module__
    target = cls.__name__ if module.startswith("darts.") else f"{module}:{cls.__qualname__}"
    return DartsForecaster(model=target, model_kwargs=params)



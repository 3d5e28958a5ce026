"""The forecaster contract, adapters (darts models, plain callables) and discovery.

A forecaster is a scikit-learn style estimator::

    class MyForecaster(Forecaster):
        name = "my_forecaster"          # leaderboard name (default: snake_case class name)
        version = "1.0"                 # bump when results would change
        param_grid = {"lags": [5, 10]}  # searched by tune() on the validation tail

        def __init__(self, lags=10):    # every parameter is a keyword with a default ...
            self.lags = lags            # ... stored unchanged under the same name

        def fit(self, context, *, dt, info=None):
            ...                         # context: (n, dim) float64, finite
            return self

        def predict(self, horizon):
            ...                         # -> (horizon, dim) array

``fit`` and ``predict`` of every subclass are wrapped (in ``__init_subclass__``) so that
their inputs and outputs are validated with clear errors, whoever calls them:
``context`` must be a finite 2-D float array with at least two rows, ``dt`` a positive
number, ``horizon`` a positive integer, ``predict`` needs a prior ``fit`` and must
return exactly ``(horizon, dim)`` (:class:`ForecastShapeError` otherwise).  Non-finite
forecasts are *not* rejected here: the benchmark scores them (status ``nonfinite``).

``info`` carries only what a forecaster may know about a task: ``dt`` (sampling
interval), ``pts_per_period`` (samples per dominant period) and ``dim``; the system
name (``info["system"]``) is added only for classes that declare
``uses_system_name = True``, and such entries are flagged on the leaderboard.

Where forecasters come from (:func:`resolve_spec`)
--------------------------------------------------
* a built-in: ``naive``, ``linear_ar``, ... (one file per class in ``forecasters/`` at
  the repository root, shipped inside the wheel as ``dysts_bench/builtin_forecasters``);
* a file: ``path/to/file.py:ClassName``;
* an importable object: ``package.module:ClassName``;
* an installed package's entry point in the group ``dysts_bench.forecasters``
  (``[project.entry-points."dysts_bench.forecasters"] mymodel = "mypkg.mod:MyModel"``);
* a darts model: ``darts:NBEATSModel`` (see :class:`DartsForecaster`);
* a plain function ``f(context, horizon, **info) -> array`` anywhere the above accepts
  a class (it is wrapped by :func:`from_callable`).

The benchmark runner never imports user code in its own process (which holds the test
futures): it passes the *target string* (``"path.py:Name"`` / ``"module:Name"``) and the
parameters to an isolated worker, which resolves them with :func:`load_target`.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib
import importlib.util
import inspect
import itertools
import json
import math
import numbers
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "Forecaster", "ForecastShapeError", "NotFittedError", "ForecasterSpecError",
    "ALLOWED_INFO", "public_info", "from_callable", "DartsForecaster", "from_darts",
    "ForecasterSpec", "resolve_spec", "load_target", "forecaster_class",
    "builtin_forecasters", "entry_point_forecasters", "available_forecasters",
    "ENTRY_POINT_GROUP",
]

ENTRY_POINT_GROUP = "dysts_bench.forecasters"

#: Task facts a forecaster may see (plus ``system`` for ``uses_system_name = True``).
ALLOWED_INFO = ("dt", "pts_per_period", "dim")


class ForecastShapeError(ValueError):
    """``predict`` returned something that is not a ``(horizon, dim)`` array."""


class NotFittedError(RuntimeError):
    """``predict`` was called before ``fit``."""


class ForecasterSpecError(ValueError):
    """A forecaster specification cannot be resolved or loaded."""


def public_info(info: Mapping, *, uses_system_name: bool = False) -> dict:
    """The part of a task's ``info`` a forecaster may see (plain Python scalars)."""
    out = {}
    for key in ALLOWED_INFO:
        value = info.get(key)
        if value is None:
            continue
        out[key] = int(value) if key == "dim" else float(value)
    if uses_system_name and info.get("system") is not None:
        out["system"] = str(info["system"])
    return out


# ---------------------------------------------------------------------------
# Input / output validation
# ---------------------------------------------------------------------------

def _check_context(context, name="context") -> np.ndarray:
    try:
        arr = np.asarray(context, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array of shape (n_samples, dim): {exc}") from None
    if arr.ndim != 2:
        hint = " (use context[:, None] for a univariate series)" if arr.ndim == 1 else ""
        raise ValueError(f"{name} must be a 2-D array of shape (n_samples, dim), got shape {arr.shape}{hint}")
    if arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ValueError(f"{name} needs at least 2 samples and 1 dimension, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))
        raise ValueError(f"{name} contains {len(bad)} NaN/inf values (first at row {bad[0, 0]}, "
                         f"column {bad[0, 1]})")
    return arr


def _check_dt(dt) -> float:
    if isinstance(dt, bool) or not isinstance(dt, numbers.Real) or not math.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be a positive finite number (the sampling interval), got {dt!r}")
    return float(dt)


def _check_horizon(horizon) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, numbers.Integral) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    return int(horizon)


def check_forecast(forecast, horizon: int, dim: int) -> np.ndarray:
    """``forecast`` as a float64 ``(horizon, dim)`` array, or :class:`ForecastShapeError`."""
    try:
        arr = np.asarray(forecast, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ForecastShapeError(f"forecast is not a numeric array ({type(forecast).__name__}): {exc}") from None
    if arr.shape != (horizon, dim):
        raise ForecastShapeError(f"forecast has shape {arr.shape}, expected (horizon, dim) = ({horizon}, {dim})")
    return arr


def _wrap_fit(fit):
    @functools.wraps(fit)
    def checked_fit(self, context, *, dt, info=None, **kwargs):
        context = _check_context(context)
        dt = _check_dt(dt)
        if info is None:
            info = {"dt": dt, "dim": context.shape[1]}
        elif not isinstance(info, Mapping):
            raise TypeError(f"info must be a mapping, got {type(info).__name__}")
        else:
            info = dict(info)
        if info.get("dim") not in (None, context.shape[1]):
            raise ValueError(f"info['dim'] = {info['dim']} but context has {context.shape[1]} columns")
        # set before (predict may be used inside fit) and after (a nested fit may change them)
        self.n_features_in_, self.dt_ = context.shape[1], dt
        out = fit(self, context, dt=dt, info=info, **kwargs)
        self.n_features_in_, self.dt_ = context.shape[1], dt
        return self if out is None else out
    checked_fit._dysts_checked = True
    return checked_fit


def _wrap_predict(predict):
    @functools.wraps(predict)
    def checked_predict(self, horizon, *args, **kwargs):
        horizon = _check_horizon(horizon)
        dim = getattr(self, "n_features_in_", None)
        if dim is None:
            raise NotFittedError(f"{type(self).__name__}.predict called before fit")
        return check_forecast(predict(self, horizon, *args, **kwargs), horizon, dim)
    checked_predict._dysts_checked = True
    return checked_predict


def _wrap_tune(tune):
    @functools.wraps(tune)
    def checked_tune(self, train, valid, *, dt, info=None, **kwargs):
        train = _check_context(train, "train")
        valid = np.asarray(valid, dtype=np.float64)
        if valid.ndim != 2 or valid.shape[1] != train.shape[1] or len(valid) < 1:
            raise ValueError(f"valid must have shape (n, {train.shape[1]}), got {valid.shape}")
        if not np.isfinite(valid).all():
            raise ValueError("valid contains NaN/inf values")
        best = tune(self, train, valid, dt=_check_dt(dt), info=info, **kwargs)
        best = {} if best is None else dict(best)
        unknown = set(best) - set(self.get_params())
        if unknown:
            raise ValueError(f"tune returned unknown parameter(s) {sorted(unknown)}")
        return best
    checked_tune._dysts_checked = True
    return checked_tune


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


# ---------------------------------------------------------------------------
# The contract
# ---------------------------------------------------------------------------

class Forecaster:
    """Base class of all forecasters (see the module docstring for the contract).

    Class attributes
    ----------------
    name : str
        Leaderboard name; default the class name in snake_case.
    version : str
        Version of the method's implementation; part of the result identity.
    uses_system_name : bool
        If True, ``info["system"]`` is given to ``fit`` (flagged on the leaderboard).
    param_grid : dict of str -> list
        Hyperparameter values searched by :meth:`tune` (all combinations).
    """

    name: str = "forecaster"
    version: str = "0"
    uses_system_name: bool = False
    param_grid: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = _snake(cls.__name__)
        for attr, wrap in (("fit", _wrap_fit), ("predict", _wrap_predict), ("tune", _wrap_tune)):
            method = cls.__dict__.get(attr)
            if callable(method) and not getattr(method, "_dysts_checked", False):
                setattr(cls, attr, wrap(method))
        grid = cls.__dict__.get("param_grid")
        if grid is not None:
            if not isinstance(grid, Mapping) or not all(
                    isinstance(v, (list, tuple)) and len(v) > 0 for v in grid.values()):
                raise TypeError(f"{cls.__name__}.param_grid must map parameter names to non-empty lists")

    # -- scikit-learn style parameters ------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        names = []
        for p in inspect.signature(init).parameters.values():
            if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            names.append(p.name)
        return names

    def get_params(self) -> dict:
        """The constructor parameters and their current values."""
        params = {}
        for key in self._param_names():
            if not hasattr(self, key):
                raise AttributeError(f"{type(self).__name__}.__init__ must store parameter {key!r} "
                                     f"as self.{key} (scikit-learn convention)")
            params[key] = getattr(self, key)
        return params

    def set_params(self, **params):
        valid = set(self.get_params())
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {key!r}; valid: {sorted(valid)}")
            setattr(self, key, value)
        return self

    def clone(self, **overrides) -> "Forecaster":
        """A fresh, unfitted copy with the same (or overridden) parameters."""
        params = copy.deepcopy(self.get_params())
        params.update(overrides)
        return type(self)(**params)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- the contract -----------------------------------------------------------------
    def fit(self, context, *, dt, info=None):
        raise NotImplementedError(f"{type(self).__name__} must implement fit(context, *, dt, info)")

    def predict(self, horizon):
        raise NotImplementedError(f"{type(self).__name__} must implement predict(horizon)")

    def tune(self, train, valid, *, dt, info=None) -> dict:
        """Choose hyperparameters on a validation tail; return them (and set them).

        The default searches :attr:`param_grid` exhaustively: each combination is fitted
        on ``train`` and scored by sMAPE of its ``len(valid)``-step forecast against
        ``valid``; failures and non-finite forecasts score worst.  The benchmark calls
        this once per system on the training trajectory, never on test data.
        """
        grid = dict(self.param_grid)
        if not grid:
            return {}
        from .metrics import smape
        keys = list(grid)
        best, best_score, errors = None, math.inf, []
        for values in itertools.product(*(grid[k] for k in keys)):
            candidate = dict(zip(keys, values))
            try:
                pred = self.clone(**candidate).fit(train, dt=dt, info=info).predict(len(valid))
                score = float(smape(valid, pred))
            except Exception as exc:  # a failing candidate is simply not chosen
                errors.append(f"{candidate}: {type(exc).__name__}: {exc}")
                continue
            if math.isfinite(score) and score < best_score:
                best, best_score = candidate, score
        if best is None:
            raise RuntimeError("tune: no parameter combination gave a finite validation score"
                               + (f"; errors: {errors[:3]}" if errors else ""))
        self.set_params(**best)
        return best


Forecaster.tune = _wrap_tune(Forecaster.tune)


def describe(forecaster: Forecaster) -> dict:
    """Name, version, parameters and flags of a forecaster instance (JSON-able)."""
    cls = type(forecaster)
    return {
        "name": str(getattr(forecaster, "name", cls.name)),
        "version": str(getattr(forecaster, "version", cls.version)),
        "class": f"{cls.__module__}:{cls.__qualname__}",
        "params": jsonable(forecaster.get_params()),
        "uses_system_name": bool(getattr(forecaster, "uses_system_name", False)),
        "param_grid": jsonable(dict(getattr(cls, "param_grid", {}) or {})),
        "tunable": bool(getattr(cls, "param_grid", None)) or "tune" in _overrides(cls),
    }


def _overrides(cls) -> set:
    names = set()
    for klass in cls.__mro__:
        if klass is Forecaster:
            break
        names.update(k for k in ("fit", "predict", "tune") if k in klass.__dict__)
    return names


def jsonable(value):
    """Parameters as JSON-compatible values (numpy scalars/arrays converted, others repr'd)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def params_hash(payload) -> str:
    """Short stable hash of a JSON-able object."""
    text = json.dumps(jsonable(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:8]


# ---------------------------------------------------------------------------
# Adapters
# ---------------------------------------------------------------------------

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

    def fit(self, context, *, dt, info=None):
        self._context = context
        self._info = {**(info or {}), "dt": dt}
        return self

    def predict(self, horizon):
        return type(self).func(self._context, horizon, **self._info, **self._kwargs)


def from_callable(func, *, name=None, version=None, uses_system_name=None) -> type:
    """A :class:`Forecaster` class from ``func(context, horizon, **info) -> (horizon, dim)``.

    ``info`` holds ``dt``, ``pts_per_period``, ``dim`` (and ``system`` if
    ``uses_system_name``), so a function should accept ``**kwargs``.  Name, version and
    the flag default to the function's attributes of those names, then to its
    ``__name__``, ``"0"`` and False.  Keyword arguments given to the class become extra
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
    per_channel : bool or "auto"
        Fit one model per state variable.  ``"auto"`` does so exactly when the model
        does not support multivariate series (``model.supports_multivariate``).
    """

    name = "darts"
    version = "1"

    def __init__(self, model="NaiveSeasonal", model_kwargs=None, per_channel="auto"):
        self.model = model
        self.model_kwargs = model_kwargs
        self.per_channel = per_channel
        self.name = f"darts_{_snake(str(model).rsplit(':', 1)[-1])}"
        try:
            from importlib.metadata import version as _v
            self.version = f"darts-{_v('darts')}"
        except Exception:
            pass

    def _model_class(self):
        if ":" in str(self.model):
            return load_target(self.model)
        import darts.models
        try:
            return getattr(darts.models, self.model)
        except AttributeError:
            raise ForecasterSpecError(f"darts.models has no model {self.model!r}") from None

    def fit(self, context, *, dt, info=None):
        from darts import TimeSeries
        cls = self._model_class()
        kwargs = _enum_arguments(cls, dict(self.model_kwargs or {}))
        probe = cls(**kwargs)
        per_channel = self.per_channel
        if per_channel == "auto":
            per_channel = context.shape[1] > 1 and not getattr(probe, "supports_multivariate", True)
        if per_channel:
            self._models = [probe] + [cls(**copy.deepcopy(kwargs)) for _ in range(context.shape[1] - 1)]
            for i, m in enumerate(self._models):
                m.fit(TimeSeries.from_values(context[:, i:i + 1]))
        else:
            probe.fit(TimeSeries.from_values(context))
            self._models = [probe]
        return self

    def predict(self, horizon):
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


# ---------------------------------------------------------------------------
# Discovery and loading
# ---------------------------------------------------------------------------

def builtin_dirs() -> list[Path]:
    """Where built-in forecasters live: inside the installed wheel, or ``forecasters/``
    at the root of a source checkout (editable install)."""
    here = Path(__file__).resolve().parent
    return [d for d in (here / "builtin_forecasters", here.parent / "forecasters") if d.is_dir()]


def _is_file_target(target: str) -> bool:
    path = target.rsplit(":", 1)[0]
    return path.endswith(".py") or "/" in path or "\\" in path


def _load_file_module(path: str):
    path = str(Path(path).expanduser().resolve())
    if not Path(path).is_file():
        raise ForecasterSpecError(f"forecaster file not found: {path}")
    digest = hashlib.sha1(path.encode()).hexdigest()[:8]
    modname = f"_dysts_bench_file_{re.sub(r'[^0-9A-Za-z_]', '_', Path(path).stem)}_{digest}"
    module = sys.modules.get(modname)
    if module is not None:
        return module
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(modname, None)
        raise
    return module


def load_target(target: str):
    """Import the object named by ``"path/to/file.py:Name"`` or ``"module:Name"``."""
    if not isinstance(target, str) or ":" not in target:
        raise ForecasterSpecError(f"expected 'path/to/file.py:Name' or 'module:Name', got {target!r}")
    where, _, qualname = target.rpartition(":")
    if _is_file_target(target):
        module = _load_file_module(where)
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as exc:
            raise ForecasterSpecError(f"cannot import {where!r} for forecaster {target!r}: {exc}") from exc
    obj = module
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ForecasterSpecError(f"{where} has no attribute {qualname!r}") from None
    return obj


def forecaster_class(obj) -> type:
    """A :class:`Forecaster` subclass from a loaded object (class or plain function)."""
    if inspect.isclass(obj):
        if issubclass(obj, Forecaster):
            return obj
        raise ForecasterSpecError(f"{obj.__qualname__} is not a dysts_bench.Forecaster subclass "
                                  "(wrap plain functions with from_callable, darts models with DartsForecaster)")
    if isinstance(obj, Forecaster):
        raise ForecasterSpecError("got a Forecaster instance; point the spec at its class "
                                  "(parameters are given separately)")
    if callable(obj):
        return from_callable(obj)
    raise ForecasterSpecError(f"{obj!r} is neither a Forecaster class nor a callable")


def _module_classes(module) -> list[type]:
    return [obj for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, Forecaster) and obj.__module__ == module.__name__
            and obj is not Forecaster]


@functools.lru_cache(maxsize=None)
def _builtin_table(dirs: tuple) -> dict:
    table = {}
    for d in dirs:
        for path in sorted(Path(d).glob("*.py")):
            if path.name.startswith("_"):
                continue
            module = _load_file_module(str(path))
            for cls in _module_classes(module):
                target = f"{path}:{cls.__qualname__}"
                table.setdefault(cls.name, target)
                table.setdefault(path.stem, target)
        if table:
            break  # the first directory that has forecasters wins (wheel before checkout)
    return table


def builtin_forecasters() -> dict[str, str]:
    """``{name: target}`` of the built-in forecasters (also keyed by file stem)."""
    return dict(_builtin_table(tuple(str(d) for d in builtin_dirs())))


def entry_point_forecasters() -> dict[str, str]:
    """``{name: "module:Object"}`` from installed packages' entry points (not imported)."""
    from importlib.metadata import entry_points
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_forecasters() -> dict[str, str]:
    """Built-ins and entry points, ``{name: target}`` (built-ins win on a name clash)."""
    table = entry_point_forecasters()
    table.update({k: v for k, v in builtin_forecasters().items()})
    return table


@dataclass(frozen=True)
class ForecasterSpec:
    """What a worker needs to build a forecaster: an import target and parameters."""

    target: str
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"target": self.target, "params": jsonable(self.params)}

    def build(self) -> Forecaster:
        return forecaster_class(load_target(self.target))(**self.params)


def _target_of(obj) -> str:
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname or "<locals>" in qualname or "<lambda>" in qualname:
        raise ForecasterSpecError(f"{obj!r} is not importable by name (defined inside a function "
                                  "or a lambda); define it at module level")
    if inspect.isclass(obj) and issubclass(obj, CallableForecaster) and obj.func is not None:
        return _target_of(obj.func)  # the worker wraps the function again
    mod = sys.modules.get(module)
    file = getattr(mod, "__file__", None)
    if module == "__main__" or module.startswith("_dysts_bench_file_"):
        if not file:
            raise ForecasterSpecError(f"{qualname} is defined in an interactive session; put it in a file")
        return f"{Path(file).resolve()}:{qualname}"
    return f"{module}:{qualname}"


def resolve_spec(spec, params: Mapping | None = None) -> ForecasterSpec:
    """Turn a user-facing forecaster specification into a :class:`ForecasterSpec`.

    ``spec`` is a name (built-in or entry point), ``"path.py:Name"``, ``"module:Name"``,
    ``"darts:ModelName"``, a :class:`ForecasterSpec`, a Forecaster class or instance (its
    parameters are used), or a module-level function.  ``params`` override parameters.
    Nothing is imported except the built-ins (trusted code of this package).
    """
    params = dict(params or {})
    if isinstance(spec, ForecasterSpec):
        return ForecasterSpec(spec.target, {**spec.params, **params})
    if isinstance(spec, Forecaster):
        return ForecasterSpec(_target_of(type(spec)), {**spec.get_params(), **params})
    if inspect.isclass(spec) or callable(spec):
        return ForecasterSpec(_target_of(spec), params)
    if not isinstance(spec, str) or not spec.strip():
        raise ForecasterSpecError(f"cannot interpret forecaster specification {spec!r}")
    spec = spec.strip()
    if spec.startswith("darts:"):
        return ForecasterSpec(f"{__name__}:DartsForecaster", {"model": spec[len("darts:"):], **params})
    if ":" in spec:
        if _is_file_target(spec):
            path, _, name = spec.rpartition(":")
            resolved = Path(path).expanduser().resolve()
            if not resolved.is_file():
                raise ForecasterSpecError(f"forecaster file not found: {path}")
            return ForecasterSpec(f"{resolved}:{name}", params)
        return ForecasterSpec(spec, params)
    if spec.endswith(".py"):
        raise ForecasterSpecError(f"give the class too: {spec}:ClassName")
    table = available_forecasters()
    if spec in table:
        return ForecasterSpec(table[spec], params)
    raise ForecasterSpecError(f"unknown forecaster {spec!r}; available: {', '.join(sorted(table)) or 'none'} "
                              "(or give path/to/file.py:ClassName, module:ClassName or darts:ModelName)")

"""The forecaster contract: the :class:`Forecaster` base class.

A forecaster is a scikit-learn style estimator.  A subclass declares what it is and
which parameters it accepts, and implements two private methods::

    class MyForecaster(Forecaster):
        name = "my_forecaster"          # leaderboard name (default: snake_case class name)
        version = "1.0"                 # bump when results would change
        family = "ml"                   # one of FAMILIES
        multivariate = True             # False: models each variable on its own
        extra = None                    # pyproject extra it needs ("torch", ...), if any
        requires = ()                   # import names it needs ("torch", ...)
        param_grid = {"lags": [5, 10]}  # searched by tune() on the validation tail
        _parameter_constraints = {"lags": [Interval(int, 1, None)]}

        def __init__(self, lags=10):    # every parameter is a keyword with a default ...
            self.lags = lags            # ... stored unchanged under the same name

        def _fit(self, context, *, dt, info):
            ...                         # context: (n, dim) float64, finite; do not modify it

        def _predict(self, horizon):
            ...                         # -> (horizon, dim) real array

Callers use the public template methods of the base class, which do all the checking
in plain sight (nothing is wrapped or patched behind a subclass's back):

* :meth:`Forecaster.fit` checks the requirements (:func:`missing_requirements`) and the
  parameters (``_parameter_constraints``, see :mod:`.constraints`), validates
  ``context`` (finite 2-D float array, at least two rows), ``dt`` (positive) and
  ``info``, sets ``n_features_in_`` and ``dt_``, calls ``_fit`` and returns ``self``;
* :meth:`Forecaster.predict` checks ``horizon``, raises :class:`NotFittedError` before a
  fit, calls ``_predict`` and returns its result as a float64 ``(horizon, dim)`` array
  (:class:`ForecastShapeError` otherwise, also for complex values).  Non-finite
  forecasts are *not* rejected: the benchmark scores them (status ``nonfinite``);
* :meth:`Forecaster.tune` validates its data and calls
  ``_tune(train, valid, *, dt, info, fixed)`` (default: a grid search over
  ``param_grid``, skipping the parameters named in ``fixed``, which the user set).

Import what ``requires`` names inside ``_fit`` (not at the top of the file), so that the
forecaster can be listed, and its missing requirement reported by name, without it.

Overriding ``fit``, ``predict`` or ``tune`` themselves is an error at class creation.
Run :func:`dysts_bench.forecaster.check_forecaster` on a new class before submitting it.

Pretraining (the ``zero-shot`` track, :mod:`dysts_bench.tracks`) is optional: a class
may define a public method ::

        def pretrain(self, corpus):
            ...                         # fit shared weights on the corpus; return None

The runner calls it **once per worker host, before any task**, on the instance built
from the run's parameters, with a :class:`dysts_bench.corpus.Corpus` (the directory
written by ``dysts-bench corpus``, ``os.fspath(corpus)``, with ``id``, ``seed``,
``systems`` and a ``series()`` reader); every task process then starts from a private
copy of that pretrained instance and calls ``fit``/``predict`` on the held-out
system's context as usual (no tuning on that track).  ``pretrain`` runs under the
same guard as the tasks (no dataset, no results).  Records of a pretrained run carry
``pretrained: true`` and the corpus id and seed, and the run id depends on the corpus.
A model pretrained elsewhere (a foundation model) declares instead whether its
pretraining data exclude the held-out systems: ``pretraining_data_disjoint = True``,
``False`` or ``None`` (unknown, the default), shown on the zero-shot leaderboard.

``info`` carries only what a forecaster may know about a task: ``dt`` (sampling
interval), ``pts_per_period`` (samples per dominant period) and ``dim``; the system
name (``info["system"]``) is added only for classes that declare
``uses_system_name = True``, and such entries are flagged on the leaderboard.
"""

from __future__ import annotations

import copy
import importlib.util
import inspect
import itertools
import math
import re
import sys
from collections.abc import Mapping

from ..jsonutil import jsonable
from .constraints import check_declaration, check_params
from .validation import (NotFittedError, check_context, check_dt, check_forecast, check_horizon, check_info,
                         check_valid)

#: The kinds of method on the leaderboard (``Forecaster.family``).
FAMILIES = ("baseline", "statistical", "ml", "physics", "deep", "foundation")


class MissingRequirementError(ImportError):
    """A forecaster needs a package that is not installed (names the extra to install)."""


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def missing_requirements(cls) -> list[str]:
    """The import names in ``cls.requires`` (a class or an instance) that cannot be found."""
    cls = cls if inspect.isclass(cls) else type(cls)
    missing = []
    for name in getattr(cls, "requires", ()) or ():
        if name in sys.modules:  # imported already (also a module made at run time)
            continue
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def _require(cls) -> None:
    missing = missing_requirements(cls)
    if missing:
        how = (f"pip install 'dysts-bench[{cls.extra}]'" if cls.extra
               else f"install {', '.join(missing)}")
        raise MissingRequirementError(f"{cls.__name__} needs {', '.join(missing)}, which is not installed: {how}")


def _check_keywords(cls, kwargs) -> None:
    """One clear line for a misspelt parameter (``--param lagz=3``), with a suggestion."""
    init = cls.__init__
    if init is object.__init__ or any(p.kind is p.VAR_KEYWORD for p in inspect.signature(init).parameters.values()):
        return
    import difflib
    names = cls._param_names()
    for key in kwargs:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TypeError(f"{cls.__name__} has no parameter {key!r}{hint}; its parameters: "
                            f"{', '.join(names) or 'none'}")


class Forecaster:
    """Base class of all forecasters (see the module docstring for the contract).

    Class attributes
    ----------------
    name : str
        Leaderboard name; default the class name in snake_case.
    version : str
        Version of the method's implementation; part of the result identity.
    family : str
        One of :data:`FAMILIES`.
    multivariate : bool
        True if the model uses all variables jointly, False if it models each on its own.
    extra : str or None
        The optional-dependency extra of ``dysts-bench`` that provides ``requires``.
    requires : tuple of str
        Import names needed; constructing or fitting without them raises
        :class:`MissingRequirementError` naming ``extra``.
    uses_system_name : bool
        If True, ``info["system"]`` is given to ``fit`` (flagged on the leaderboard).
    param_grid : dict of str -> list
        Hyperparameter values searched by :meth:`tune` (all combinations).
    _parameter_constraints : dict of str -> list
        Accepted values of each constructor parameter, checked by :meth:`fit`
        (see :mod:`dysts_bench.forecaster.constraints`).
    """

    name: str = "forecaster"
    version: str = "0"
    family: str | None = None
    multivariate: bool = True
    extra: str | None = None
    requires: tuple = ()
    uses_system_name: bool = False
    #: Self-declared for models pretrained outside the benchmark: True if their pretraining
    #: data exclude the held-out systems of the zero-shot track, False if not, None unknown.
    pretraining_data_disjoint: bool | None = None
    param_grid: dict = {}
    _parameter_constraints: dict = {}

    def __new__(cls, *args, **kwargs):
        _require(cls)  # a clear error before a constructor fails on a missing import
        _check_keywords(cls, kwargs)
        return super().__new__(cls)

    def __init_subclass__(cls, **kwargs):
        """Check the declarations of a subclass (nothing is wrapped or replaced)."""
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = _snake(cls.__name__)
        for public in ("fit", "predict", "tune"):
            if public in cls.__dict__:
                raise TypeError(f"{cls.__name__} overrides {public}(); implement _{public}() instead "
                                f"(Forecaster.{public} validates and then calls it)")
        grid = cls.__dict__.get("param_grid")
        if grid is not None and (not isinstance(grid, Mapping) or not all(
                isinstance(v, (list, tuple)) and len(v) > 0 for v in grid.values())):
            raise TypeError(f"{cls.__name__}.param_grid must map parameter names to non-empty lists")
        check_declaration(cls.__name__, cls._parameter_constraints)
        if cls.family is not None and cls.family not in FAMILIES:
            raise TypeError(f"{cls.__name__}.family must be one of {FAMILIES}, got {cls.family!r}")
        if "pretrain" in cls.__dict__ and not callable(cls.__dict__["pretrain"]):
            raise TypeError(f"{cls.__name__}.pretrain must be a method pretrain(self, corpus)")
        if cls.pretraining_data_disjoint not in (True, False, None):
            raise TypeError(f"{cls.__name__}.pretraining_data_disjoint must be True, False or None")
        if not isinstance(cls.requires, tuple) or not all(isinstance(r, str) for r in cls.requires):
            raise TypeError(f"{cls.__name__}.requires must be a tuple of import names")

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

    # -- the template methods ---------------------------------------------------------
    def fit(self, context, *, dt, info=None):
        """Check requirements, parameters and inputs, then ``self._fit(...)``; returns self."""
        _require(type(self))
        check_params(type(self).__name__, self.get_params(), self._parameter_constraints)
        context = check_context(context)
        dt = check_dt(dt)
        info = check_info(info, dt, context.shape[1])
        self.n_features_in_, self.dt_ = context.shape[1], dt
        self._fit(context, dt=dt, info=info)
        return self

    def predict(self, horizon):
        """``self._predict(horizon)`` checked to be a real float64 ``(horizon, dim)`` array."""
        horizon = check_horizon(horizon)
        dim = getattr(self, "n_features_in_", None)
        if dim is None:
            raise NotFittedError(f"{type(self).__name__}.predict called before fit")
        return check_forecast(self._predict(horizon), horizon, dim)

    def tune(self, train, valid, *, dt, info=None, fixed=()) -> dict:
        """Choose hyperparameters on a validation tail; return them (and set them).

        ``fixed`` names parameters the user set: they are never changed.  The benchmark
        calls this once per system on the training trajectory, never on test data.
        """
        train = check_context(train, "train")
        valid = check_valid(valid, train.shape[1])
        fixed = set(fixed)
        unknown = fixed - set(self.get_params())
        if unknown:
            raise ValueError(f"fixed names unknown parameter(s) {sorted(unknown)}")
        best = self._tune(train, valid, dt=check_dt(dt), info=info, fixed=fixed)
        best = {} if best is None else dict(best)
        unknown = set(best) - set(self.get_params())
        if unknown:
            raise ValueError(f"tune returned unknown parameter(s) {sorted(unknown)}")
        if set(best) & fixed:
            raise ValueError(f"tune changed fixed parameter(s) {sorted(set(best) & fixed)}")
        return best

    # -- what a subclass implements ------------------------------------------------
    def _fit(self, context, *, dt, info):
        raise NotImplementedError(f"{type(self).__name__} must implement _fit(context, *, dt, info)")

    def _predict(self, horizon):
        raise NotImplementedError(f"{type(self).__name__} must implement _predict(horizon)")

    def _tune(self, train, valid, *, dt, info, fixed) -> dict:
        """Exhaustive search of :attr:`param_grid` without the ``fixed`` parameters.

        Each combination is fitted on ``train`` and scored by sMAPE of its
        ``len(valid)``-step forecast against ``valid``; failures and non-finite
        forecasts are not chosen.
        """
        grid = {k: v for k, v in dict(self.param_grid).items() if k not in fixed}
        if not grid:
            return {}
        from ..metrics import smape
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


def tunable(cls) -> bool:
    """Whether tuning can change anything: a ``param_grid`` or an own ``_tune``."""
    own_tune = any("_tune" in k.__dict__ for k in cls.__mro__[:cls.__mro__.index(Forecaster)]) \
        if issubclass(cls, Forecaster) else False
    return bool(getattr(cls, "param_grid", None)) or own_tune


def pretrains(cls) -> bool:
    """Whether a forecaster class (or instance) has the optional ``pretrain(corpus)``."""
    cls = cls if inspect.isclass(cls) else type(cls)
    return callable(getattr(cls, "pretrain", None))


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
        "tunable": tunable(cls),
        "family": getattr(cls, "family", None),
        "multivariate": bool(getattr(cls, "multivariate", True)),
        "pretrains": pretrains(cls),
        "pretraining_data_disjoint": getattr(cls, "pretraining_data_disjoint", None),
    }

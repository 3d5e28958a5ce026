"""Forecasters: the contract, its conformance check, adapters and discovery.

One module per job:

* :mod:`.contract` -- the :class:`Forecaster` base class (template methods ``fit`` /
  ``predict`` / ``tune`` around a subclass's ``_fit`` / ``_predict`` / ``_tune``) and
  the declarative class attributes (``family``, ``multivariate``, ``extra``,
  ``requires``);
* :mod:`.constraints` -- declared parameter constraints (``_parameter_constraints``);
* :mod:`.validation` -- checks of inputs and forecasts, the errors they raise;
* :mod:`.checks` -- :func:`check_forecaster`, the conformance suite every entry passes;
* :mod:`.preprocessing` -- context standardisation and the divergence guard;
* :mod:`.adapters` -- darts models and plain callables as forecasters;
* :mod:`.library` -- base classes of the entries wrapping a third-party library
  (standardised context, divergence guard, darts models, regressors on lagged states);
* :mod:`.discovery` -- built-ins, files, entry points, :func:`resolve_spec`.
"""

from ..jsonutil import jsonable, params_hash
from .adapters import CallableForecaster, DartsForecaster, _enum_arguments, from_callable, from_darts  # noqa: F401
from .checks import check_forecaster
from .constraints import Check, Interval
from .contract import (FAMILIES, Forecaster, MissingRequirementError, describe, missing_requirements,
                       pretrains, tunable)
from .discovery import (DARTS_TARGET, ENTRY_POINT_GROUP, ForecasterSpec, _load_file_module,  # noqa: F401
                        available_forecasters,
                        builtin_dirs, builtin_forecasters, entry_point_forecasters, forecaster_class,
                        load_target, resolve_spec)
from .preprocessing import guard_box, hold_mean_after_divergence, inside, safe_std, standardise
from .validation import (ALLOWED_INFO, ForecasterSpecError, ForecastShapeError, NotFittedError, check_forecast,
                         public_info)

__all__ = [
    "Forecaster", "ForecastShapeError", "NotFittedError", "ForecasterSpecError", "MissingRequirementError",
    "ALLOWED_INFO", "public_info", "from_callable", "DartsForecaster", "from_darts", "CallableForecaster",
    "ForecasterSpec", "resolve_spec", "load_target", "forecaster_class",
    "builtin_forecasters", "entry_point_forecasters", "available_forecasters", "builtin_dirs",
    "ENTRY_POINT_GROUP", "DARTS_TARGET", "FAMILIES", "check_forecaster", "check_forecast", "describe",
    "missing_requirements", "pretrains", "tunable", "Interval", "Check", "jsonable", "params_hash",
    "standardise", "safe_std", "guard_box", "inside", "hold_mean_after_divergence",
]

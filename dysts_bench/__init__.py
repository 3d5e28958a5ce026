"""dysts-bench: a benchmark dataset of chaotic dynamical systems and a forecasting leaderboard.

The public names are imported lazily, so that ``import dysts_bench`` (e.g. in a forecaster
worker process) does not load numba until an integrator is needed.
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "System": ".registry", "get_system": ".registry", "list_systems": ".registry",
    "load_registry": ".registry", "compile_system": ".compile",
    "make_trajectory": ".trajectory", "Forecaster": ".forecaster", "check_forecaster": ".forecaster",
    "plot_system": ".plot", "plot_forecast": ".plot",
    "score": ".runner.external:score_forecasts", "export_tasks": ".runner.external",
}
__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'dysts_bench' has no attribute {name!r}")
    module, _, attr = _EXPORTS[name].partition(":")
    value = getattr(importlib.import_module(module, __name__), attr or name)
    globals()[name] = value
    return value

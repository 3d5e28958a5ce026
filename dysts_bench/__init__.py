"""dysts-bench: a benchmark dataset of chaotic dynamical systems and a forecasting leaderboard."""

__version__ = "0.1.0"

from .registry import System, get_system, list_systems, load_registry  # noqa: E402
from .compile import compile_system  # noqa: E402
from .trajectory import make_trajectory  # noqa: E402

__all__ = ["System", "get_system", "list_systems", "load_registry", "compile_system",
           "make_trajectory", "__version__"]

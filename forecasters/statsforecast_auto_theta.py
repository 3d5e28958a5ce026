"""AutoTheta (statsforecast, through darts): the best of the Theta family by in-sample fit."""

from dysts_bench.forecaster.library import DartsEntry, period_of


class StatsforecastAutoTheta(DartsEntry):
    """Automatic Theta model selection among the standard, optimised and dynamic Theta
    models (Assimakopoulos & Nikolopoulos 2000, Int. J. Forecast. 16, 521; Fiorucci et
    al. 2016, Int. J. Forecast. 32, 1151), by statsforecast (Garza et al. 2022) through
    darts ``AutoTheta``.  Univariate per channel.  With ``seasonal=True`` the season
    length is the task's samples per period (``info["pts_per_period"]``) and
    statsforecast tests for seasonality before decomposing (multiplicatively by
    default; on the signed standardised data it falls back to an additive
    decomposition itself).

    Grid: ``seasonal`` in {False, True}.  Measured cost (CLI run on Lorenz, Rossler, Aizawa; 2-core machine shared with other jobs): 1.8 CPU s per task for fit and predict, 7.7 s (wall) of tuning per system: about 4.5 s per task in all, within the 8 s budget.
    """

    name = "statsforecast_auto_theta"
    version = "1"
    family = "statistical"
    multivariate = False
    extra = "stats"
    requires = ("darts", "statsforecast")
    darts_model = "AutoTheta"
    margin = None
    param_grid = {"seasonal": [False, True]}
    _parameter_constraints = {"seasonal": [bool]}

    def __init__(self, seasonal=False):
        self.seasonal = seasonal

    def _darts_kwargs(self, info):
        return {"season_length": period_of(info) if self.seasonal else 1}

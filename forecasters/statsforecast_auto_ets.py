"""AutoETS (statsforecast, through darts): exponential smoothing state-space models."""

from dysts_bench.forecaster.library import DartsEntry


class StatsforecastAutoETS(DartsEntry):
    """Automatic exponential smoothing (ETS) selection by AICc among error / trend
    (none, additive, damped) combinations (Hyndman, Koehler, Snyder & Grose 2002,
    Int. J. Forecast. 18, 439), by statsforecast (Garza et al. 2022) through darts
    ``AutoETS``.  Univariate per channel, on the standardised context; the model string ``"AZN"`` fixes
    additive errors (multiplicative forms need positive data) and no season, and leaves
    the trend (none or additive, damped per ``damped``) to the AICc.  Non-seasonal: statsforecast's ETS refuses seasons longer than
    24 samples, and the series have ~100 samples per period.

    Grid: ``damped`` in {False, True}.  Measured cost (CLI run on Lorenz, Rossler, Aizawa; 2-core machine shared with other jobs): 1.7 CPU s per task for fit and predict, 6.1 s (wall) of tuning per system: about 4 s per task in all, within the 8 s budget.
    """

    name = "statsforecast_auto_ets"
    version = "1"
    family = "statistical"
    multivariate = False
    extra = "stats"
    requires = ("darts", "statsforecast")
    darts_model = "AutoETS"
    margin = None
    param_grid = {"damped": [False, True]}
    _parameter_constraints = {"damped": [bool]}

    def __init__(self, damped=True):
        self.damped = damped

    def _darts_kwargs(self, info):
        return {"season_length": 1, "model": "AZN", "damped": self.damped}

"""AutoCES (statsforecast, through darts): complex exponential smoothing."""

from dysts_bench.forecaster.library import DartsEntry


class StatsforecastAutoCES(DartsEntry):
    """Complex exponential smoothing (Svetunkov, Kourentzes & Ord 2022, *Complex
    exponential smoothing*, Naval Research Logistics 69, 1108), model chosen by AIC,
    by statsforecast (Garza et al. 2022) through darts ``AutoCES``.  Univariate per
    channel, non-seasonal (``season_length=1``), on the standardised context.

    Grid: none (AutoCES chooses among its non-seasonal forms by AIC itself).
    Measured cost (CLI run on Lorenz, Rossler, Aizawa; 2-core machine shared with other jobs): 2.3 CPU s per task for fit and predict, 0 s (wall) of tuning per system: about 2.5 s per task in all, within the 8 s budget.
    """

    name = "statsforecast_auto_ces"
    version = "1"
    family = "statistical"
    multivariate = False
    extra = "stats"
    requires = ("darts", "statsforecast")
    darts_model = "AutoCES"
    margin = None
    param_grid = {}

    def __init__(self):
        pass

    def _darts_kwargs(self, info):
        return {"season_length": 1}

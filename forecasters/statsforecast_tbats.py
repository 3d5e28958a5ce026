"""TBATS (statsforecast, through darts): trigonometric seasonality, Box-Cox, ARMA errors."""

from dysts_bench.forecaster.library import DartsEntry, period_of


class StatsforecastTBATS(DartsEntry):
    """TBATS (De Livera, Hyndman & Snyder 2011, *Forecasting time series with complex
    seasonal patterns using exponential smoothing*, JASA 106, 1513): exponential
    smoothing with a trigonometric (Fourier) season, optional trend/damping and ARMA
    errors, the variant chosen by AIC, by statsforecast's ``AutoTBATS`` (Garza et al.
    2022) through darts.  The season length is the task's samples per period.
    Univariate per channel, on the standardised context.

    Substitute for the ``tbats`` package (``tbats.TBATS(seasonal_periods=[100])``): on
    one variable of a 1000-sample Lorenz context its fit had not finished after 300 CPU
    seconds (single thread), against a budget of about 8 s per task for all variables
    and the tuning; statsforecast's implementation is compiled (numba).

    Grid: none (AutoTBATS selects its components itself).  Measured cost (CLI run on Lorenz, Rossler, Aizawa; 2-core machine shared with other jobs): 2.8 CPU s per task, no tuning.
    """

    name = "statsforecast_tbats"
    version = "1"
    family = "statistical"
    multivariate = False
    extra = "stats"
    requires = ("darts", "statsforecast")
    darts_model = "AutoTBATS"
    margin = None
    param_grid = {}

    def __init__(self):
        pass

    def _darts_kwargs(self, info):
        return {"season_length": period_of(info), "use_boxcox": False, "use_arma_errors": False}

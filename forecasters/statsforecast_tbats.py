"""TBATS (statsforecast, through darts): trigonometric seasonality, Box-Cox, ARMA errors."""

from dysts_bench.library_entries import DartsEntry, period_of


class StatsforecastTBATS(DartsEntry):
    """TBATS (De Livera, Hyndman & Snyder 2011, *Forecasting time series with complex
    seasonal patterns using exponential smoothing*, JASA 106, 1513): exponential
    smoothing with a trigonometric (Fourier) season, optional trend/damping and ARMA
    errors, the variant chosen by AIC, by statsforecast's ``AutoTBATS`` (Garza et al.
    2022) through darts.  The season length is the task's samples per period.
    Univariate per channel, on the standardised context.

    Substitute for the ``tbats`` package: that implementation (pure Python/NumPy)
    took minutes per series of 1000 samples with a 100-sample season, far over the
    8 s per task budget; statsforecast's is compiled.

    Grid: none (AutoTBATS selects its components itself).  Measured cost: see report.
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
        return {"season_length": period_of(info)}

"""Naive drift (darts ``NaiveDrift``): the line through the first and last context values."""

from dysts_bench.forecaster.library import DartsEntry


class DartsNaiveDrift(DartsEntry):
    """Random walk with drift: extends the straight line from the first to the last
    context value (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd
    ed., 2021, section 5.2), as implemented by darts ``NaiveDrift`` (Herzen et al. 2022,
    *Darts: user-friendly modern machine learning for time series*, JMLR 23(124)).

    Univariate per channel; grid: none (nothing to tune); no divergence guard (the drift line is the
    method).  Measured cost (CLI run on Lorenz, Rossler, Aizawa): 0.4 CPU s per task.
    """

    name = "darts_naive_drift"
    version = "1"
    family = "baseline"
    multivariate = False
    extra = "stats"
    requires = ("darts",)
    darts_model = "NaiveDrift"
    margin = None
    param_grid = {}

    def __init__(self):
        pass

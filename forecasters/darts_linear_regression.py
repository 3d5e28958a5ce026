"""Linear regression on lagged states (darts ``LinearRegressionModel``)."""

from dysts_bench.forecaster import Interval
from dysts_bench.forecaster.library import DartsEntry


class DartsLinearRegression(DartsEntry):
    """darts ``LinearRegressionModel`` (scikit-learn ordinary least squares on the last
    ``lags`` values of every variable, one output step, iterated): the study's "linear
    regression" row (Gilpin 2023, *Model scale versus domain knowledge in statistical
    forecasting of chaotic systems*, Phys. Rev. Research 5, 043252).  Multivariate,
    on the standardised context, with the divergence guard.  Compare ``linear_ar``
    (ours: the same model with a ridge penalty).

    Grid: ``lags`` in {5, 10, 25, 50, 100} (the study's input lengths).
    Measured cost (CLI run on Lorenz, Rossler, Aizawa; 2-core machine shared with other jobs): 1.2 CPU s per task for fit and predict, 2.4 s (wall) of tuning per system: about 2 s per task in all, within the 8 s budget.
    """

    name = "darts_linear_regression"
    version = "1"
    family = "ml"
    multivariate = True
    extra = "ml"
    requires = ("darts", "sklearn")
    darts_model = "LinearRegressionModel"
    param_grid = {"lags": [5, 10, 25, 50, 100]}
    _parameter_constraints = {"lags": [Interval(int, 1, None)]}

    def __init__(self, lags=25):
        self.lags = lags

    def _darts_kwargs(self, info):
        return {"lags": int(self.lags), "output_chunk_length": 1}

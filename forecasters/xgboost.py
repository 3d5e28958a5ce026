"""XGBoost gradient-boosted trees on lagged states, iterated one step at a time."""

from dysts_bench.forecaster import Interval
from dysts_bench.forecaster.library import LagRegressionEntry


class XGBoost(LagRegressionEntry):
    """Gradient-boosted regression trees by XGBoost (Chen & Guestrin 2016, *XGBoost: a
    scalable tree boosting system*, KDD), one multi-target booster (histogram trees, one
    output per tree) for all variables, on lagged standardised states (see
    :class:`~dysts_bench.forecaster.library.LagRegressionEntry`); installed as
    ``xgboost-cpu``.

    Parameters
    ----------
    lags, stride : int
        Number of lagged states and their spacing (input window (lags-1)*stride+1).
    n_estimators, max_depth, learning_rate : boosting settings (small, for the budget).

    Grid: ``lags`` in {5, 10} x ``stride`` in {1, 10}.  Measured cost (CLI run on Lorenz, Rossler, Aizawa; 2-core machine shared with other jobs): 1.5 CPU s per task for fit and predict, 6.3 s (wall) of tuning per system: about 3.5 s per task in all, within the 8 s budget.
    """

    name = "xgboost"
    version = "1"
    family = "ml"
    multivariate = True
    extra = "ml"
    requires = ("xgboost",)
    param_grid = {"lags": [5, 10], "stride": [1, 10]}
    _parameter_constraints = {"lags": [Interval(int, 1, None)], "stride": [Interval(int, 1, None)], "n_estimators": [Interval(int, 1, None)],
                              "max_depth": [Interval(int, 1, None)],
                              "learning_rate": [Interval(float, 0, None, closed="neither")]}

    def __init__(self, lags=5, stride=1, n_estimators=100, max_depth=4, learning_rate=0.1):
        self.lags = lags
        self.stride = stride
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate

    def _fit_regressor(self, X, Y):
        import xgboost
        model = xgboost.XGBRegressor(n_estimators=self.n_estimators, max_depth=self.max_depth,
                                     learning_rate=self.learning_rate, tree_method="hist", n_jobs=1)
        self.booster_ = model.fit(X, Y).get_booster()

    def _step(self, x):
        return self.booster_.inplace_predict(x).reshape(-1)

"""CatBoost gradient-boosted oblivious trees on lagged states, iterated one step at a time."""

from dysts_bench.forecaster import Interval
from dysts_bench.forecaster.library import LagRegressionEntry


class CatBoost(LagRegressionEntry):
    """Gradient boosting with ordered boosting and oblivious trees, by CatBoost
    (Prokhorenkova et al. 2018, *CatBoost: unbiased boosting with categorical features*,
    NeurIPS 31): one multi-target model (``MultiRMSE``) for all variables, on lagged
    standardised states (see :class:`~dysts_bench.forecaster.library.LagRegressionEntry`).

    Parameters
    ----------
    lags, stride : int
        Number of lagged states and their spacing (input window (lags-1)*stride+1).
    iterations, depth, learning_rate : boosting settings (far below CatBoost's default
        1000 iterations, for the 1 CPU-hour budget).

    Grid: ``lags`` in {5, 10} x ``stride`` in {1, 10}.  Measured cost (CLI run on Lorenz, Rossler, Aizawa; 2-core machine shared with other jobs): 1.1 CPU s per task for fit and predict, 9.8 s (wall) of tuning per system: about 4.5 s per task in all, within the 8 s budget.
    """

    name = "catboost"
    version = "1"
    family = "ml"
    multivariate = True
    extra = "ml"
    requires = ("catboost",)
    param_grid = {"lags": [5, 10], "stride": [1, 10]}
    _parameter_constraints = {"lags": [Interval(int, 1, None)], "stride": [Interval(int, 1, None)], "iterations": [Interval(int, 1, None)],
                              "depth": [Interval(int, 1, 16)],
                              "learning_rate": [Interval(float, 0, None, closed="neither")],
                              "seed": [Interval(int, 0, None)]}

    def __init__(self, lags=5, stride=1, iterations=200, depth=4, learning_rate=0.2, seed=0):
        self.lags = lags
        self.stride = stride
        self.iterations = iterations
        self.depth = depth
        self.learning_rate = learning_rate
        self.seed = seed

    def _fit_regressor(self, X, Y):
        import catboost
        model = catboost.CatBoostRegressor(iterations=self.iterations, depth=self.depth,
                                           learning_rate=self.learning_rate, loss_function="MultiRMSE",
                                           random_seed=self.seed, thread_count=1, verbose=0,
                                           allow_writing_files=False)
        self.model_ = model.fit(X, Y)

    def _step(self, x):
        return self.model_.predict(x).reshape(-1)

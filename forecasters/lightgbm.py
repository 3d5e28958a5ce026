"""LightGBM gradient-boosted trees on lagged states, iterated one step at a time."""

import numpy as np

from dysts_bench.forecaster import Interval
from dysts_bench.forecaster.library import LagRegressionEntry


class LightGBM(LagRegressionEntry):
    """Gradient-boosted regression trees (Friedman 2001, Ann. Stat. 29, 1189) as
    implemented by LightGBM (Ke et al. 2017, *LightGBM: a highly efficient gradient
    boosting decision tree*, NeurIPS 30), one booster per variable, on lagged
    standardised states (see :class:`~dysts_bench.forecaster.library.LagRegressionEntry`);
    the recursion calls the raw ``Booster`` (the scikit-learn wrapper costs ten times
    more per call, which a 3700-step recursion cannot afford).

    Parameters
    ----------
    lags, stride : int
        Number of lagged states and their spacing (input window (lags-1)*stride+1).
    n_estimators, num_leaves, learning_rate : boosting settings (kept small for the
        1 CPU-hour budget).

    Grid: ``lags`` in {5, 10} x ``stride`` in {1, 10} (windows 5-91 samples, the study's
    5-100).  Measured cost (CLI run on Lorenz, Rossler, Aizawa; 2-core machine shared with other jobs): 1.1 CPU s per task for fit and predict, 5.5 s (wall) of tuning per system: about 3 s per task in all, within the 8 s budget.
    """

    name = "lightgbm"
    version = "1"
    family = "ml"
    multivariate = True
    extra = "ml"
    requires = ("lightgbm",)
    param_grid = {"lags": [5, 10], "stride": [1, 10]}
    _parameter_constraints = {"lags": [Interval(int, 1, None)], "stride": [Interval(int, 1, None)], "n_estimators": [Interval(int, 1, None)],
                              "num_leaves": [Interval(int, 2, None)],
                              "learning_rate": [Interval(float, 0, None, closed="neither")]}

    def __init__(self, lags=5, stride=1, n_estimators=100, num_leaves=15, learning_rate=0.1):
        self.lags = lags
        self.stride = stride
        self.n_estimators = n_estimators
        self.num_leaves = num_leaves
        self.learning_rate = learning_rate

    def _fit_regressor(self, X, Y):
        import lightgbm
        self.boosters_ = []
        for j in range(Y.shape[1]):
            model = lightgbm.LGBMRegressor(n_estimators=self.n_estimators, num_leaves=self.num_leaves,
                                           learning_rate=self.learning_rate, n_jobs=1, verbose=-1)
            self.boosters_.append(model.fit(X, Y[:, j]).booster_)

    def _step(self, x):
        return np.array([b.predict(x, num_threads=1)[0] for b in self.boosters_])

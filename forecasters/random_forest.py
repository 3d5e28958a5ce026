"""Random forest (scikit-learn) on lagged states, iterated one step at a time."""

import numpy as np

from dysts_bench.forecaster import Interval
from dysts_bench.forecaster.library import LagRegressionEntry


class RandomForest(LagRegressionEntry):
    """Random forest regression (Breiman 2001, Machine Learning 45, 5) by scikit-learn
    (Pedregosa et al. 2011, JMLR 12, 2825): one multi-output forest for all variables,
    on lagged standardised states (see
    :class:`~dysts_bench.forecaster.library.LagRegressionEntry`).  The recursion averages
    the trees' ``tree_.predict`` directly: the estimator's ``predict`` spends ~10 ms per
    call in its parallel machinery, too much for a 3700-step recursion.

    Parameters
    ----------
    lags, stride : int
        Number of lagged states and their spacing (input window (lags-1)*stride+1).
    n_estimators, min_samples_leaf, max_features : forest settings.

    Grid: ``lags`` in {5, 10} x ``stride`` in {1, 10}.  Measured cost (CLI run on Lorenz, Rossler, Aizawa; 2-core machine shared with other jobs): 1.5 CPU s per task for fit and predict, 5.5 s (wall) of tuning per system: about 3.5 s per task in all, within the 8 s budget.
    """

    name = "random_forest"
    version = "1"
    family = "ml"
    multivariate = True
    extra = "ml"
    requires = ("sklearn",)
    param_grid = {"lags": [5, 10], "stride": [1, 10]}
    _parameter_constraints = {"lags": [Interval(int, 1, None)], "stride": [Interval(int, 1, None)], "n_estimators": [Interval(int, 1, None)],
                              "min_samples_leaf": [Interval(int, 1, None)],
                              "max_features": [Interval(float, 0, 1, closed="right")],
                              "seed": [Interval(int, 0, None)]}

    def __init__(self, lags=5, stride=1, n_estimators=50, min_samples_leaf=2, max_features=0.5, seed=0):
        self.lags = lags
        self.stride = stride
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.seed = seed

    def _fit_regressor(self, X, Y):
        from sklearn.ensemble import RandomForestRegressor
        forest = RandomForestRegressor(n_estimators=self.n_estimators, min_samples_leaf=self.min_samples_leaf,
                                       max_features=self.max_features, random_state=self.seed, n_jobs=1)
        forest.fit(X, Y[:, 0] if Y.shape[1] == 1 else Y)
        self.trees_ = [est.tree_ for est in forest.estimators_]

    def _step(self, x):
        x32 = np.asarray(x, dtype=np.float32)
        return np.mean([tree.predict(x32).reshape(-1) for tree in self.trees_], axis=0)

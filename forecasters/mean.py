"""Climatology forecast: the mean of the context."""

import numpy as np

from dysts_bench.forecaster import Forecaster, Interval


class MeanForecaster(Forecaster):
    """Predict the (per-variable) mean of the last ``window`` samples of the context.

    For a chaotic system beyond the predictability horizon this is the forecast that
    minimises the expected squared error, so long-horizon errors of any method should be
    compared with it.

    Parameters
    ----------
    window : int or None
        Number of trailing samples averaged; None uses the whole context.
    """

    name = "mean"
    version = "1"
    family = "baseline"
    multivariate = False
    param_grid = {"window": [None, 100, 20]}
    _parameter_constraints = {"window": [None, Interval(int, 1, None)]}

    def __init__(self, window=None):
        self.window = window

    def _fit(self, context, *, dt, info):
        tail = context if self.window is None else context[-int(self.window):]
        self.mean_ = tail.mean(axis=0)

    def _predict(self, horizon):
        return np.repeat(self.mean_[None, :], horizon, axis=0)

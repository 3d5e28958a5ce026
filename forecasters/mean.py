"""Climatology forecast: the mean of the context."""

import numpy as np

from dysts_bench.forecaster import Forecaster


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
    param_grid = {"window": [None, 100, 20]}

    def __init__(self, window=None):
        self.window = window

    def fit(self, context, *, dt, info=None):
        if self.window is not None and int(self.window) < 1:
            raise ValueError(f"window must be a positive integer or None, got {self.window!r}")
        tail = context if self.window is None else context[-int(self.window):]
        self.mean_ = tail.mean(axis=0)
        return self

    def predict(self, horizon):
        return np.repeat(self.mean_[None, :], horizon, axis=0)

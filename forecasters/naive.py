"""Naive (persistence) forecast: the last observed state, held constant."""

import numpy as np

from dysts_bench.forecaster import Forecaster


class NaiveForecaster(Forecaster):
    """Repeat the last value of the context for every future step.

    The reference point of the leaderboard's skill scores: any method that cannot beat
    persistence has learned nothing about the dynamics.
    """

    name = "naive"
    version = "1"
    family = "baseline"
    multivariate = False

    def __init__(self):
        pass

    def _fit(self, context, *, dt, info):
        self.last_ = context[-1].copy()

    def _predict(self, horizon):
        return np.repeat(self.last_[None, :], horizon, axis=0)

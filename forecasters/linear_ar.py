"""Linear autoregression: ridge regression on lagged windows, iterated forward."""

import numpy as np

from dysts_bench.forecaster import Forecaster, Interval, standardise
from dysts_bench.regression import ridge


class LinearAR(Forecaster):
    """Vector autoregression of order ``lags`` fitted by ridge regression.

    The next state is a linear function of the last ``lags`` states (all variables,
    standardised) plus a constant, fitted by least squares with an L2 penalty
    ``alpha`` (relative to the number of training rows); forecasts are produced
    recursively, feeding each prediction back as input.  A sum of ``k`` sinusoids is
    predicted exactly for ``lags >= 2k``; chaotic dynamics only locally.

    Parameters
    ----------
    lags : int
        Autoregressive order (capped at half the context length).
    alpha : float
        Ridge penalty per training row (the intercept is not penalised).
    """

    name = "linear_ar"
    version = "1"
    family = "statistical"
    multivariate = True
    param_grid = {"lags": [5, 10, 20, 50], "alpha": [1e-8, 1e-4, 1e-1]}
    _parameter_constraints = {"lags": [Interval(int, 1, None)], "alpha": [Interval(float, 0, None)]}

    def __init__(self, lags=20, alpha=1e-6):
        self.lags = lags
        self.alpha = alpha

    def _fit(self, context, *, dt, info):
        n, dim = context.shape
        p = min(int(self.lags), max(1, (n - 1) // 2))
        z, self.mu_, self.sd_ = standardise(context)
        windows = np.lib.stride_tricks.sliding_window_view(z, p, axis=0)  # (n-p+1, dim, p)
        X = windows[:-1].reshape(n - p, dim * p)
        y = z[p:]
        X1 = np.hstack([X, np.ones((len(X), 1))])
        coef = ridge(X1, y, self.alpha, free_column=-1)
        self.coef_, self.intercept_ = coef[:-1], coef[-1]
        self.lags_ = p
        self.state_ = z[-p:].copy()

    def _predict(self, horizon):
        p, dim = self.lags_, self.state_.shape[1]
        buf = np.empty((p + horizon, dim))
        buf[:p] = self.state_
        # features are ordered (dim, lag) as in sliding_window_view
        W = self.coef_.reshape(dim, p, dim)
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(horizon):
                buf[p + t] = np.einsum("dk,dkj->j", buf[t:t + p].T, W) + self.intercept_
                if not np.isfinite(buf[p + t]).all():
                    buf[p + t:] = np.nan
                    break
            return buf[p:] * self.sd_ + self.mu_

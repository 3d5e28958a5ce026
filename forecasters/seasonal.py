"""Seasonal naive forecast: repeat the last dominant period of the context."""

import numpy as np

from dysts_bench.forecaster import Forecaster, Interval


def estimate_period(x, min_lag=2, max_lag=None):
    """Dominant period (samples) of ``x`` (n, dim) from the mean autocorrelation.

    Among the local maxima of the dimension-averaged autocorrelation in ``[min_lag,
    max_lag]`` after it first drops below zero, the smallest lag whose value is at least
    80% of the highest one (so neither a subharmonic bump nor a multiple of the period is
    chosen); failing that, the lag of the highest value.
    """
    n = len(x)
    max_lag = n // 2 if max_lag is None else min(int(max_lag), n - 1)
    if max_lag <= min_lag:
        return max(1, n // 2)
    z = x - x.mean(axis=0)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spec = np.fft.rfft(z, size, axis=0)
    acf = np.fft.irfft(np.abs(spec) ** 2, size, axis=0)[:n]
    scale = acf[0]
    acf = (acf / np.where(scale > 0, scale, 1.0)).mean(axis=1)
    below = np.nonzero(acf[min_lag:max_lag + 1] < 0)[0]
    start = min_lag + (below[0] if below.size else 0)
    seg = acf[start:max_lag + 1]
    if seg.size >= 3:
        peaks = np.nonzero((seg[1:-1] >= seg[:-2]) & (seg[1:-1] >= seg[2:]))[0] + 1
        if peaks.size:
            best = seg[peaks].max()
            strong = peaks[seg[peaks] >= 0.8 * best] if best > 0 else peaks[seg[peaks] == best]
            return int(start + strong[0])
    return int(start + np.argmax(seg)) if seg.size else max(1, n // 2)


class SeasonalRepeat(Forecaster):
    """Tile the last ``period`` samples of the context into the future.

    Parameters
    ----------
    period : int, "info" or "auto"
        Samples per repetition.  ``"info"`` uses the task's points per dominant period
        (rounded; falls back to ``"auto"`` when unknown), ``"auto"`` estimates the
        period from the context's autocorrelation.
    """

    name = "seasonal_naive"
    version = "1"
    family = "baseline"
    multivariate = True  # one period for all variables (from their mean autocorrelation)
    param_grid = {"period": ["info", "auto"]}
    _parameter_constraints = {"period": [Interval(int, 1, None), "info", "auto"]}

    def __init__(self, period="info"):
        self.period = period

    def _fit(self, context, *, dt, info):
        n = len(context)
        period = self.period
        if period == "info":
            ppp = info.get("pts_per_period")
            period = int(round(ppp)) if ppp else "auto"
        if period == "auto":
            period = estimate_period(context)
        if int(period) < 1:  # pts_per_period below 0.5 rounds to 0
            raise ValueError(f"period {period} from info['pts_per_period'] is not a positive integer")
        self.period_ = min(int(period), n)
        self.last_ = context[-self.period_:].copy()

    def _predict(self, horizon):
        reps = -(-horizon // self.period_)
        return np.tile(self.last_, (reps, 1))[:horizon]

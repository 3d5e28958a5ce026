"""Context parroting: nearest-neighbour analog forecasting inside the context."""

import numpy as np

from dysts_bench.forecaster import Forecaster, Interval, standardise


class ContextParroting(Forecaster):
    """Find where the context last looked like its own end, and copy what came next.

    The last ``window`` samples (all variables, standardised) are compared with every
    earlier window of the context; the continuation that followed the ``k`` nearest
    windows (averaged for ``k > 1``) is copied into the forecast.  When the copied
    continuation reaches the end of the context, the search repeats from the forecast's
    own end.  This "parroting" of the context is a strong baseline for chaotic systems
    (Zhang & Gilpin, 2025, *Context parroting: a simple but tough-to-beat baseline for
    foundation models in scientific machine learning*) and the classical method of
    analogues (Lorenz, 1969).

    Parameters
    ----------
    window : int
        Length of the matched pattern (samples).
    k : int
        Number of nearest analogues averaged.
    align : bool
        Shift each copied segment so that it starts from the current last value.
    """

    name = "context_parroting"
    version = "1"
    family = "baseline"
    multivariate = True
    param_grid = {"window": [5, 10, 20, 50], "k": [1, 3]}
    _parameter_constraints = {"window": [Interval(int, 1, None)], "k": [Interval(int, 1, None)], "align": [bool]}

    def __init__(self, window=10, k=1, align=False):
        self.window = window
        self.k = k
        self.align = align

    def _fit(self, context, *, dt, info):
        n = len(context)
        self.m_ = min(int(self.window), n - 1)
        self.x_ = context.copy()
        z, self.mu_, self.sd_ = standardise(context)
        # candidate windows end at rows m-1 .. n-2, so at least one sample follows each
        win = np.lib.stride_tricks.sliding_window_view(z, self.m_, axis=0)[: n - self.m_]
        self.cand_ = np.ascontiguousarray(win.reshape(len(win), -1))

    def _predict(self, horizon):
        n, m = len(self.x_), self.m_
        k = min(int(self.k), len(self.cand_))
        out = np.empty((horizon, self.x_.shape[1]))
        filled = 0
        history = self.x_
        while filled < horizon:
            tail = history[-m:] if filled == 0 else np.vstack([self.x_, out[:filled]])[-m:]
            query = ((tail - self.mu_) / self.sd_).T.reshape(-1)  # (dim, m) order, as candidates
            dist = ((self.cand_ - query) ** 2).sum(axis=1)
            nearest = np.argpartition(dist, k - 1)[:k] if k < len(dist) else np.arange(len(dist))
            starts = nearest + m
            length = int(min(horizon - filled, (n - starts).min()))
            seg = np.mean([self.x_[s:s + length] for s in starts], axis=0)
            if self.align:
                last = out[filled - 1] if filled else self.x_[-1]
                seg = seg + (last - np.mean([self.x_[s - 1] for s in starts], axis=0))
            out[filled:filled + length] = seg
            filled += length
        return out

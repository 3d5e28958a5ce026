"""Next-generation reservoir computing: nonlinear vector autoregression (NVAR)."""

import numpy as np

from dysts_bench.forecaster import Forecaster, Interval, guard_box, inside, standardise
from dysts_bench.regression import ridge


class NVAR(Forecaster):
    """Next-generation reservoir computer (nonlinear vector autoregression).

    Gauthier, Bollt, Griffith & Barbosa (2021), *Next generation reservoir computing*,
    Nature Communications 12, 5564.  The feature vector at sample ``t`` is

    * linear: the ``k`` delayed states ``z_t, z_{t-s}, ..., z_{t-(k-1)s}`` (``d*k``
      numbers for ``d`` variables),
    * nonlinear: every unique quadratic monomial of the linear features
      (``C(d*k + 1, 2) = d*k*(d*k + 1)/2`` numbers),
    * a constant 1,

    and a ridge regression maps it to the one-step increment ``z_{t+1} - z_t``.  The
    forecast iterates ``z_{t+1} = z_t + W_out @ features(t)``, feeding each prediction
    back.  The variables are standardised (mean 0, standard deviation 1 over the
    context) before anything else; the forecast is transformed back.

    If an iterated state leaves the context's bounding box widened by ``margin`` times
    its range on each side (or becomes non-finite), the model is deemed to have
    diverged: from that step on the forecast is the context mean (the climatological
    forecast) and ``diverged_at_`` holds the step index (None otherwise).

    Parameters
    ----------
    k : int
        Number of delayed states in the linear features (``k = 1``: the current state
        only).
    s : int
        Skip between delayed states, in samples (the delays span ``(k-1)*s`` samples).
    alpha : float
        Ridge penalty per training row on the standardised features (the constant
        is not penalised; dimensionless).
    margin : float
        Width, in context ranges, added on each side of the context's bounding box
        before a forecast is declared diverged.
    """

    name = "nvar"
    version = "1"
    family = "physics"  # next-generation reservoir computing, beside esn
    multivariate = True
    param_grid = {"k": [2, 3], "s": [1, 5], "alpha": [1e-8, 1e-4]}
    _parameter_constraints = {"k": [Interval(int, 1, None)], "s": [Interval(int, 1, None)],
                              "alpha": [Interval(float, 0, None)],
                              "margin": [Interval(float, 0, None, closed="right")]}

    def __init__(self, k=2, s=1, alpha=1e-6, margin=1.0):
        self.k = k
        self.s = s
        self.alpha = alpha
        self.margin = margin

    # -- features ------------------------------------------------------------------
    def _linear(self, z, rows):
        """Linear features at sample indices ``rows`` of ``z``: (len(rows), d*k), ordered
        newest delay first."""
        return np.concatenate([z[rows - j * self.s_] for j in range(self.k_)], axis=1)

    def _features(self, lin):
        """Linear, unique quadratic and constant features of (m, d*k) linear features."""
        quad = lin[:, self.iu_[0]] * lin[:, self.iu_[1]]
        return np.concatenate([lin, quad, np.ones((len(lin), 1))], axis=1)

    def _fit(self, context, *, dt, info):
        n, dim = context.shape
        k, s = self.k, self.s
        span = (k - 1) * s
        if n - span - 1 < 2:
            raise ValueError(f"context of {n} samples is too short for k={k}, s={s} "
                             f"(needs more than {span + 2})")
        self.k_, self.s_ = int(k), int(s)
        z, self.mu_, self.sd_ = standardise(context)
        n_lin = dim * self.k_
        self.iu_ = np.triu_indices(n_lin)  # unique pairs i <= j
        self.n_linear_ = n_lin
        self.n_nonlinear_ = len(self.iu_[0])
        self.n_features_ = n_lin + self.n_nonlinear_ + 1

        rows = np.arange(span, n - 1)
        X = self._features(self._linear(z, rows))
        Y = z[rows + 1] - z[rows]
        W = ridge(X, Y, self.alpha, free_column=-1)
        if not np.isfinite(W).all():
            raise FloatingPointError("NVAR readout is not finite (ill-conditioned features); "
                                     "increase alpha")
        self.W_out_ = W
        self.history_ = z[n - 1 - span:].copy()  # the last span + 1 states
        self.lo_, self.hi_ = guard_box(z, self.margin)

    def _predict(self, horizon):
        span, dim = (self.k_ - 1) * self.s_, len(self.mu_)
        buf = np.empty((span + 1 + horizon, dim))
        buf[:span + 1] = self.history_
        lags = np.arange(self.k_) * self.s_
        iu0, iu1 = self.iu_
        Wl = self.W_out_[:self.n_linear_]
        Wq = self.W_out_[self.n_linear_:-1]
        c = self.W_out_[-1]
        self.diverged_at_ = None
        with np.errstate(all="ignore"):
            for t in range(horizon):
                cur = span + t
                lin = buf[cur - lags].reshape(-1)
                nxt = buf[cur] + lin @ Wl + (lin[iu0] * lin[iu1]) @ Wq + c
                if not inside(nxt, self.lo_, self.hi_):
                    self.diverged_at_ = t
                    buf[cur + 1:] = 0.0  # the context mean in standardised units
                    break
                buf[cur + 1] = nxt
        return buf[span + 1:] * self.sd_ + self.mu_

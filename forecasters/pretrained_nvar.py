"""A pretrained NVAR: one readout fitted on a whole corpus, applied to unseen systems."""

import numpy as np

from dysts_bench.forecaster import Forecaster, Interval, guard_box, inside, standardise
from dysts_bench.regression import ridge


class PretrainedNVAR(Forecaster):
    """Nonlinear vector autoregression (Gauthier et al. 2021, *Next generation reservoir
    computing*, Nat. Commun. 12, 5564) with a **univariate** feature map whose ridge
    readout is fitted once, on a pretraining corpus, and shared by every variable of
    every system: the zero-shot baseline of the benchmark.

    Features of a scalar series ``u`` at sample ``t`` (after standardisation): the ``k``
    delays ``u_t, u_{t-s}, ..., u_{t-(k-1)s}``, their unique quadratic monomials and a
    constant; the readout maps them to the increment ``u_{t+1} - u_t``.

    * :meth:`pretrain` standardises every variable of every corpus series on its own
      (mean 0, standard deviation 1 over the series), takes rows evenly spread over the
      corpus (at most ``max_rows`` of them) and fits the readout by ridge regression
      (penalty ``alpha`` per row; the constant is not penalised).
    * :meth:`fit` does **no refit**: it only standardises each variable of the context
      over the context (the same per-series scaling as in pretraining) and keeps the
      last delays. A variable is forecast from its own past only.
    * :meth:`predict` iterates the readout on each variable; a variable that leaves its
      context range widened by ``margin`` ranges on each side (or becomes non-finite)
      is held at its context mean from then on (the climatological forecast).

    The corpus and the tasks are both sampled at the dataset's 100 points per dominant
    period, so the delays ``s`` mean the same time span in both. Without pretraining
    (any other track, or no ``--corpus``) ``fit`` fits the same readout on the context's
    own variables: the model without the corpus, which shows what pretraining adds.
    """

    name = "pretrained_nvar"
    version = "1"
    family = "physics"
    multivariate = False
    _parameter_constraints = {"k": [Interval(int, 1, None)], "s": [Interval(int, 1, None)],
                              "alpha": [Interval(float, 0, None)], "max_rows": [Interval(int, 10, None)],
                              "margin": [Interval(float, 0, None, closed="right")]}

    def __init__(self, k=4, s=1, alpha=1e-8, max_rows=200_000, margin=1.0):
        self.k = k
        self.s = s
        self.alpha = alpha
        self.max_rows = max_rows
        self.margin = margin

    # -- features --------------------------------------------------------------------
    def _features(self, lin):
        """Linear, unique quadratic and constant features of (m, k) delay vectors."""
        iu = np.triu_indices(lin.shape[1])
        return np.concatenate([lin, lin[:, iu[0]] * lin[:, iu[1]], np.ones((len(lin), 1))], axis=1)

    def _delays(self, u, rows):
        """(len(rows), k) delay vectors of a scalar series, newest first."""
        return np.stack([u[rows - j * self.s] for j in range(self.k)], axis=1)

    # -- the readout ---------------------------------------------------------------------
    def _readout(self, scalars):
        """Ridge readout on scalar series, each standardised on its own, from rows evenly
        spread over all of them (at most ``max_rows``)."""
        span = (self.k - 1) * self.s
        usable = [np.asarray(u, dtype=np.float64) for u in scalars if len(u) - span - 1 >= 2]
        if not usable:
            raise ValueError(f"no series longer than the delays need ({span + 2} samples)")
        total = sum(len(u) - span - 1 for u in usable)
        stride = max(1, -(-total // int(self.max_rows)))  # ceil
        X, Y = [], []
        for u in usable:
            z = (u - u.mean()) / (u.std() or 1.0)
            rows = np.arange(span, len(z) - 1, stride)
            X.append(self._features(self._delays(z, rows)))
            Y.append((z[rows + 1] - z[rows])[:, None])
        W = ridge(np.concatenate(X), np.concatenate(Y), self.alpha, free_column=-1)
        if not np.isfinite(W).all():
            raise FloatingPointError("NVAR readout is not finite; increase alpha")
        return W[:, 0], sum(len(x) for x in X)

    def pretrain(self, corpus):
        """Fit the shared readout on every variable of every series of ``corpus`` (a
        :class:`dysts_bench.corpus.Corpus`, or anything with such a ``series()``)."""
        scalars = [v[i, :, j] for _, v, _ in corpus.series() for i in range(v.shape[0])
                   for j in range(v.shape[2])]
        self.W_pretrained_, self.pretrain_rows_ = self._readout(scalars)
        self.corpus_id_ = getattr(corpus, "id", None)

    # -- per task ------------------------------------------------------------------------
    def _fit(self, context, *, dt, info):
        span = (self.k - 1) * self.s
        if len(context) < span + 2:
            raise ValueError(f"context of {len(context)} samples is too short for k={self.k}, s={self.s} "
                             f"(needs more than {span + 1})")
        if hasattr(self, "W_pretrained_"):
            self.W_out_ = self.W_pretrained_  # no refit: the corpus readout as it is
        else:  # not pretrained: the same model with its readout fitted on this context
            self.W_out_ = self._readout(list(context.T))[0]
        z, self.mu_, self.sd_ = standardise(context)
        self.history_ = z[len(z) - 1 - span:].copy()
        self.lo_, self.hi_ = guard_box(z, self.margin)

    def _predict(self, horizon):
        span, dim = (self.k - 1) * self.s, len(self.mu_)
        buf = np.empty((span + 1 + horizon, dim))
        buf[:span + 1] = self.history_
        lags = np.arange(self.k) * self.s
        live = np.ones(dim, dtype=bool)
        with np.errstate(all="ignore"):
            for t in range(horizon):
                cur = span + t
                feats = self._features(buf[cur - lags].T)  # (dim, n_features): one row per variable
                nxt = np.where(live, buf[cur] + feats @ self.W_out_, 0.0)
                for j in np.flatnonzero(live):
                    if not inside(nxt[j:j + 1], self.lo_[j:j + 1], self.hi_[j:j + 1]):
                        live[j] = False
                        nxt[j] = 0.0  # the context mean in standardised units
                buf[cur + 1] = nxt
        return buf[span + 1:] * self.sd_ + self.mu_

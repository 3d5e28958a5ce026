"""Random feature map: ridge regression on random tanh features of the delay state."""

import numpy as np

from dysts_bench.forecaster import Forecaster, Interval, guard_box, inside, standardise
from dysts_bench.regression import ridge


class RandomFeatureMap(Forecaster):
    """Random feature map forecaster, trained in closed form.

    Rahimi & Recht (2008), *Random features for large-scale kernel machines*, NeurIPS 20;
    Gottwald & Reich (2021), *Supervised learning from noisy observations: combining
    machine-learning techniques with data assimilation*, Physica D 423, 132911;
    Mandal & Gottwald (2025), *Learning dynamical systems with hit-and-run random
    feature maps*, Nature Communications (skip connection: the map learns the increment).

    The delay state ``u_t = (z_t, z_{t-s}, ..., z_{t-(k-1)s})`` of the standardised
    context (z-scores per variable, ``d*k`` numbers) is lifted to ``features`` random
    features ``tanh(W_in u_t + b)``, with ``W_in`` uniform in ``[-w, w]`` per input and
    ``b`` uniform in ``[-b, b]``; these internal weights are drawn once and never
    trained.  A ridge regression (penalty ``alpha`` per row; a constant is added and
    not penalised) maps the features to the increment ``z_{t+1} - z_t``, and the
    forecast iterates ``z_{t+1} = z_t + W_out [tanh(W_in u_t + b), 1]``.  Unlike an
    echo-state network, the features carry no memory of their own: the delays are the
    only memory.  Everything random is drawn from ``seed``.  A forecast leaving the
    context's bounding box widened by ``margin`` ranges is replaced by the context mean
    from that step on (``diverged_at_``).

    No torch: the whole fit is one linear solve.  Cost (measured through ``dysts-bench
    run``, one thread): about 0.2 CPU-seconds per canonical task (context 1000, horizon
    3700), plus tuning of the 8-point grid once per system; a
    larger configuration changes only the solve (``features=5000`` costs seconds on a
    CPU and needs no GPU).

    Parameters
    ----------
    features : int
        Number of random features.
    k, s : int
        Delays in the input and the skip between them (samples); ``k = 1``: the
        current state only (enough for a fully observed flow).
    w, b : float
        Half-widths of the uniform internal weights and biases.
    alpha : float
        Ridge penalty per training row.
    margin : float
        Divergence guard, in context ranges beyond the context's bounding box.
    seed : int
        Seed of the internal weights.
    """

    name = "random_features"
    version = "1"
    family = "physics"
    multivariate = True
    param_grid = {"k": [1, 3], "w": [0.1, 0.4], "alpha": [1e-8, 1e-5]}
    _parameter_constraints = {
        "features": [Interval(int, 1, None)], "k": [Interval(int, 1, None)], "s": [Interval(int, 1, None)],
        "w": [Interval(float, 0, None, closed="neither")], "b": [Interval(float, 0, None)],
        "alpha": [Interval(float, 0, None)], "margin": [Interval(float, 0, None, closed="right")],
        "seed": [Interval(int, 0, None)],
    }

    def __init__(self, features=1000, k=1, s=5, w=0.4, b=1.0, alpha=1e-8, margin=1.0, seed=0):
        self.features = features
        self.k = k
        self.s = s
        self.w = w
        self.b = b
        self.alpha = alpha
        self.margin = margin
        self.seed = seed

    def _delays(self, z, rows):
        """Delay states at sample indices ``rows`` (len(rows), d*k), newest first."""
        return np.concatenate([z[rows - j * int(self.s)] for j in range(int(self.k))], axis=1)

    def _lift(self, u):
        """Random features and a constant of delay states ``u`` (m, d*k)."""
        return np.concatenate([np.tanh(u @ self.W_in_.T + self.b_), np.ones((len(u), 1))], axis=1)

    def _fit(self, context, *, dt, info):
        n, dim = context.shape
        span = (int(self.k) - 1) * int(self.s)
        if n - span - 1 < 2:
            raise ValueError(f"context of {n} samples is too short for k={self.k}, s={self.s}")
        rng = np.random.default_rng([int(self.seed), dim])
        D = int(self.features)
        self.W_in_ = rng.uniform(-1.0, 1.0, (D, dim * int(self.k))) * float(self.w)
        self.b_ = rng.uniform(-1.0, 1.0, D) * float(self.b)
        z, self.mu_, self.sd_ = standardise(context)
        rows = np.arange(span, n - 1)
        W = ridge(self._lift(self._delays(z, rows)), z[rows + 1] - z[rows], self.alpha, free_column=-1)
        if not np.isfinite(W).all():
            raise FloatingPointError("random feature readout is not finite; increase alpha")
        self.W_out_ = W
        self.history_ = z[n - 1 - span:].copy()  # the last span + 1 states
        self.lo_, self.hi_ = guard_box(z, self.margin)

    def _predict(self, horizon):
        span, dim = (int(self.k) - 1) * int(self.s), len(self.mu_)
        buf = np.zeros((span + 1 + horizon, dim))  # zeros: the context mean
        buf[:span + 1] = self.history_
        self.diverged_at_ = None
        with np.errstate(all="ignore"):
            for t in range(horizon):
                cur = span + t
                u = self._delays(buf, np.array([cur]))
                nxt = buf[cur] + (self._lift(u) @ self.W_out_)[0]
                if not inside(nxt, self.lo_, self.hi_):
                    self.diverged_at_ = t
                    break
                buf[cur + 1] = nxt
        return buf[span + 1:] * self.sd_ + self.mu_

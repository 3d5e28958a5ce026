"""Echo state network: a fixed random reservoir with a trained linear readout."""

import functools

import numpy as np

from dysts_bench.forecaster import Forecaster, Interval, guard_box, inside, standardise
from dysts_bench.regression import ridge


@functools.lru_cache(maxsize=8)
def _unit_reservoir(size: int, degree: float, seed: int) -> np.ndarray:
    """Dense (size, size) Erdos-Renyi adjacency matrix with mean degree ``degree`` and
    weights uniform in [-1, 1], scaled to spectral radius exactly 1 (read-only; cached,
    as it depends only on its arguments)."""
    rng = np.random.default_rng([seed, 0])
    p = min(1.0, degree / size)
    for _ in range(100):
        A = np.where(rng.random((size, size)) < p, rng.uniform(-1.0, 1.0, (size, size)), 0.0)
        radius = np.abs(np.linalg.eigvals(A)).max()
        if radius > 1e-8:  # a nilpotent draw (possible for tiny, very sparse reservoirs)
            break
    else:
        raise ValueError(f"could not draw a reservoir of size {size} and degree {degree} "
                         "with a non-zero spectral radius; increase size or degree")
    A /= radius
    A.setflags(write=False)
    return A


class EchoStateNetwork(Forecaster):
    """Echo state network (reservoir computer) with closed-loop prediction.

    Jaeger (2001), GMD Report 148, *The "echo state" approach to analysing and training
    recurrent neural networks*; Jaeger & Haas (2004), Science 304, 78; Pathak, Hunt,
    Girvan, Lu & Ott (2018), Phys. Rev. Lett. 120, 024102.

    The standardised input ``u_t`` (each variable z-scored over the context) drives a
    fixed random leaky reservoir

        ``r_{t+1} = (1 - leak) r_t + leak tanh(A r_t + W_in u_t + b)``,

    where ``A`` is a sparse random (Erdos-Renyi, mean degree ``degree``, weights uniform
    in [-1, 1]) ``size x size`` matrix rescaled to spectral radius ``rho``; each node
    receives exactly one input variable (as in Pathak et al.) with a weight uniform in
    ``[-input_scaling, input_scaling]``, and a bias ``b`` uniform in ``[-bias, bias]``.
    After discarding ``washout`` samples, a ridge regression (penalty ``alpha`` per
    row, the constant not penalised) maps the features ``[1, r, r**2]`` (``square=True``,
    Pathak et al.'s symmetry-breaking squares) or ``[1, r]`` to ``u_{t+1}``.  The
    forecast runs the network in closed loop, feeding each predicted ``u`` back as
    input.  Everything random is drawn from ``seed``, so a forecast is deterministic.

    If a predicted state leaves the context's bounding box widened by ``margin`` times
    its range on each side (or is non-finite), the forecast is the context mean from
    that step on (``diverged_at_`` holds the step index; None otherwise).

    Parameters
    ----------
    size : int
        Number of reservoir nodes.
    degree : float
        Mean number of non-zero connections per node.
    rho : float
        Spectral radius of ``A`` (dimensionless; values below 1 usually give the echo
        state property, i.e. a reservoir that forgets its initial state).
    input_scaling : float
        Half-width of the uniform input weights (per standard deviation of the input).
    bias : float
        Half-width of the uniform node biases.
    leak : float
        Leak rate in (0, 1]; 1 is a non-leaky network.  Small values slow the reservoir
        down (its time scale is about ``1/leak`` samples).
    washout : int
        Initial reservoir states (samples) discarded before the readout is fitted; the
        reservoir starts from zero.
    alpha : float
        Ridge penalty per training row (dimensionless).
    square : bool
        Add the squared node states to the readout features.
    margin : float
        Divergence guard, in context ranges beyond the context's bounding box.
    seed : int
        Seed of the reservoir, input weights and biases.
    """

    name = "esn"
    version = "1"
    family = "physics"  # reservoir computing, as the README and reservoirpy_esn
    multivariate = True
    param_grid = {"rho": [0.5, 0.9], "leak": [0.3, 1.0], "alpha": [1e-9, 1e-6]}
    _parameter_constraints = {
        "size": [Interval(int, 1, None)], "washout": [Interval(int, 0, None)], "seed": [Interval(int, 0, None)],
        "degree": [Interval(float, 0, None, closed="right")], "rho": [Interval(float, 0, None)],
        "input_scaling": [Interval(float, 0, None)], "bias": [Interval(float, 0, None)],
        "leak": [Interval(float, 0, 1, closed="right")], "alpha": [Interval(float, 0, None)],
        "margin": [Interval(float, 0, None, closed="right")], "square": [bool],
    }

    def __init__(self, size=300, degree=3.0, rho=0.5, input_scaling=0.5, bias=0.2, leak=0.5,
                 washout=100, alpha=1e-8, square=True, margin=1.0, seed=0):
        self.size = size
        self.degree = degree
        self.rho = rho
        self.input_scaling = input_scaling
        self.bias = bias
        self.leak = leak
        self.washout = washout
        self.alpha = alpha
        self.square = square
        self.margin = margin
        self.seed = seed

    def _features(self, R):
        parts = [np.ones((len(R), 1)), R] + ([R * R] if self.square else [])
        return np.concatenate(parts, axis=1)

    def _fit(self, context, *, dt, info):
        n, dim = context.shape
        if n - 1 - int(self.washout) < 2:
            raise ValueError(f"context of {n} samples is too short for washout={self.washout}")
        N, leak = int(self.size), float(self.leak)
        self.A_ = float(self.rho) * _unit_reservoir(N, float(self.degree), int(self.seed))
        rng = np.random.default_rng([int(self.seed), 1, dim])
        W_in = np.zeros((N, dim))
        which = rng.permutation(np.arange(N) % dim)  # one input per node, balanced
        W_in[np.arange(N), which] = rng.uniform(-1.0, 1.0, N) * float(self.input_scaling)
        self.W_in_ = W_in
        self.b_ = rng.uniform(-1.0, 1.0, N) * float(self.bias)

        z, self.mu_, self.sd_ = standardise(context)
        drive = z @ W_in.T + self.b_
        A = self.A_
        R = np.empty((n, N))  # R[t] = reservoir state after reading z[t]
        r = np.zeros(N)
        for t in range(n):
            r = (1.0 - leak) * r + leak * np.tanh(A @ r + drive[t])
            R[t] = r
        start = int(self.washout)
        X = self._features(R[start:n - 1])
        Y = z[start + 1:]
        W = ridge(X, Y, self.alpha, free_column=0)
        if not np.isfinite(W).all():
            raise FloatingPointError("ESN readout is not finite; increase alpha")
        self.W_out_ = W
        self.state_ = R[-1].copy()
        self.lo_, self.hi_ = guard_box(z, self.margin)

    def _predict(self, horizon):
        A, W_in, b, leak = self.A_, self.W_in_, self.b_, float(self.leak)
        N = len(b)
        c, W1 = self.W_out_[0], self.W_out_[1:N + 1]
        W2 = self.W_out_[N + 1:] if self.square else None
        out = np.zeros((horizon, len(self.mu_)))  # zeros: the context mean
        r = self.state_.copy()
        self.diverged_at_ = None
        with np.errstate(all="ignore"):
            for t in range(horizon):
                u = c + r @ W1 + ((r * r) @ W2 if W2 is not None else 0.0)
                if not inside(u, self.lo_, self.hi_):
                    self.diverged_at_ = t
                    break
                out[t] = u
                r = (1.0 - leak) * r + leak * np.tanh(A @ r + W_in @ u + b)
        return out * self.sd_ + self.mu_

"""Echo-state network built from reservoirpy's ``Reservoir`` and ``Ridge`` nodes."""

import copy

import numpy as np

from dysts_bench.forecaster import Interval, inside
from dysts_bench.forecaster.library import LibraryForecaster


class ReservoirpyESN(LibraryForecaster):
    """Echo-state network (Jaeger 2001, GMD Report 148; Jaeger & Haas 2004, Science 304,
    78) from reservoirpy (Trouvain, Pedrelli, Dinh & Hinaut 2020, *ReservoirPy: an
    efficient and user-friendly library to design echo state networks*, ICANN): a leaky
    ``Reservoir`` (``units`` nodes, leak ``lr``, spectral radius ``sr``, reservoirpy's
    default Bernoulli input and normal recurrent weights, ``rc_connectivity``) driven by
    the standardised context, a ``Ridge`` readout (penalty ``ridge``, with bias) fitted
    on the states after ``warmup`` samples to the next input, and a closed loop
    (``Reservoir.step`` / ``Ridge.step``) feeding each prediction back.  Multivariate.
    The divergence guard is that of :class:`~dysts_bench.forecaster.library.LibraryForecaster`.
    Compare ``esn`` (ours: one input per node, biases, squared-state readout features).

    Grid: ``sr`` in {0.5, 0.9} x ``lr`` in {0.3, 1.0} x ``ridge`` in {1e-6, 1e-3}.
    Measured cost (CLI run on Lorenz, Rossler, Aizawa; 2-core machine shared with other jobs): 0.2 CPU s per task for fit and predict, 0.9 s (wall) of tuning per system: about 0.5 s per task in all, within the 8 s budget.
    """

    name = "reservoirpy_esn"
    version = "1"
    family = "physics"
    multivariate = True
    extra = "physics"
    requires = ("reservoirpy",)
    param_grid = {"sr": [0.5, 0.9], "lr": [0.3, 1.0], "ridge": [1e-6, 1e-3]}
    _parameter_constraints = {"units": [Interval(int, 1, None)], "sr": [Interval(float, 0, None)],
                              "lr": [Interval(float, 0, 1, closed="right")],
                              "input_scaling": [Interval(float, 0, None)],
                              "rc_connectivity": [Interval(float, 0, 1, closed="right")],
                              "ridge": [Interval(float, 0, None)], "warmup": [Interval(int, 0, None)],
                              "seed": [Interval(int, 0, None)]}

    def __init__(self, units=300, sr=0.9, lr=0.5, input_scaling=0.5, rc_connectivity=0.01,
                 ridge=1e-6, warmup=100, seed=0):
        self.units = units
        self.sr = sr
        self.lr = lr
        self.input_scaling = input_scaling
        self.rc_connectivity = rc_connectivity
        self.ridge = ridge
        self.warmup = warmup
        self.seed = seed

    def _fit_z(self, z, *, dt, info):
        from reservoirpy.nodes import Reservoir, Ridge
        warmup = min(int(self.warmup), len(z) // 2)
        self.reservoir_ = Reservoir(units=int(self.units), lr=self.lr, sr=self.sr, input_scaling=self.input_scaling,
                                    rc_connectivity=self.rc_connectivity, seed=int(self.seed))
        self.readout_ = Ridge(ridge=self.ridge)
        states = self.reservoir_.run(z[:-1])  # the state after input t predicts z[t + 1]
        self.readout_.fit(states[warmup:], z[warmup + 1:])
        self.last_ = z[-1].copy()

    def _predict_z(self, horizon):
        out = np.full((horizon, len(self.last_)), np.nan)
        u = self.last_
        reservoir = copy.deepcopy(self.reservoir_)  # stepping changes a node's state: keep the fitted one
        with np.errstate(all="ignore"):
            for t in range(horizon):
                u = np.asarray(self.readout_.step(reservoir.step(u)), dtype=float).reshape(-1)
                out[t] = u
                if not inside(u, self.lo_, self.hi_):
                    break  # diverged: _predict holds the context mean from here
        return out

"""Shared pieces of the leaderboard entries that wrap third-party libraries.

* :func:`require` - import an entry's optional dependencies, or fail with a message
  naming the ``pip install dysts-bench[extra]`` that provides them;
* :class:`Standardizer` - z-scoring per variable over the context (and back);
* :func:`guard_divergence` - the divergence guard of the physics-aware entries
  (a forecast that leaves the context's bounding box widened by ``margin`` ranges is the
  context mean from then on);
* :class:`LibraryForecaster` - base of the entries: declares ``family``, ``multivariate``,
  ``extra``, ``requires``, standardises, guards, and delegates to ``_fit_z`` /
  ``_predict_z`` on standardised data;
* :class:`DartsEntry` - a :class:`LibraryForecaster` around the generic
  :class:`~dysts_bench.forecaster.DartsForecaster` adapter, with the darts model's
  arguments built from the entry's own (tunable) parameters.
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings

import numpy as np

from .forecaster import DartsForecaster, Forecaster

FAMILIES = ("baseline", "statistical", "ml", "physics", "deep", "foundation")


class MissingDependencyError(ImportError):
    """An entry's optional dependency is not installed (the message names the extra)."""


def missing(requires) -> list[str]:
    """The import names in ``requires`` that are not installed (nothing is imported)."""
    return [name for name in requires if importlib.util.find_spec(name) is None]


def require(cls) -> None:
    """Raise :class:`MissingDependencyError` unless every ``cls.requires`` is importable."""
    absent = missing(getattr(cls, "requires", ()))
    if absent:
        extra = getattr(cls, "extra", "") or "?"
        raise MissingDependencyError(
            f"forecaster {cls.name!r} needs {', '.join(absent)}: pip install 'dysts-bench[{extra}]'")


class Standardizer:
    """Per-variable z-scoring over a context (constant variables are only centred)."""

    def __init__(self, context: np.ndarray):
        self.mu = context.mean(axis=0)
        sd = context.std(axis=0)
        self.sd = np.where(sd > 0, sd, 1.0)

    def forward(self, x):
        return (x - self.mu) / self.sd

    def inverse(self, z):
        return np.asarray(z, dtype=float) * self.sd + self.mu


def guard_divergence(z: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """``(z, step)``: the standardised forecast with every row from the first one outside
    ``[lo, hi]`` (or non-finite) replaced by 0 (the context mean), and that step (None if
    the forecast stays inside)."""
    z = np.array(z, dtype=float)
    with np.errstate(invalid="ignore"):
        bad = ~np.all(np.isfinite(z) & (z >= lo) & (z <= hi), axis=1)
    if not bad.any():
        return z, None
    step = int(np.argmax(bad))
    z[step:] = 0.0
    return z, step


class LibraryForecaster(Forecaster):
    """Base of the entries wrapping a library: standardise, fit, predict, guard.

    Subclasses implement ``_fit_z(z, dt, info)`` and ``_predict_z(horizon)`` on the
    standardised context; ``margin`` (context ranges beyond its bounding box, None: no
    guard) is the divergence guard of :func:`guard_divergence`.
    """

    family: str = "statistical"
    multivariate: bool = False
    extra: str = ""
    requires: tuple = ()
    margin: float | None = 1.0

    def fit(self, context, *, dt, info=None):
        require(type(self))
        self.scaler_ = Standardizer(context)
        z = self.scaler_.forward(context)
        if self.margin is not None:
            lo, hi = z.min(axis=0), z.max(axis=0)
            width = float(self.margin) * (hi - lo)
            self.lo_, self.hi_ = lo - width, hi + width
        self._fit_z(z, dt, dict(info or {}))
        return self

    def predict(self, horizon):
        z = np.asarray(self._predict_z(horizon), dtype=float).reshape(horizon, -1)
        self.diverged_at_ = None
        if self.margin is not None:
            z, self.diverged_at_ = guard_divergence(z, self.lo_, self.hi_)
        return self.scaler_.inverse(z)

    def _fit_z(self, z, dt, info):
        raise NotImplementedError

    def _predict_z(self, horizon):
        raise NotImplementedError


def _quiet_darts():
    """darts logs every model construction; only its errors matter here."""
    import logging
    for name in ("darts", "statsforecast"):
        logging.getLogger(name).setLevel(logging.ERROR)


class DartsEntry(LibraryForecaster):
    """A darts model on the standardised context.

    Subclasses set ``darts_model`` (a name in ``darts.models``) and return its
    constructor arguments from ``_darts_kwargs(info)``; ``per_channel`` is "auto"
    (one model per variable exactly when the model is univariate).
    """

    darts_model: str = ""
    per_channel = "auto"
    requires = ("darts",)

    def _darts_kwargs(self, info) -> dict:
        return {}

    def _fit_z(self, z, dt, info):
        _quiet_darts()
        self.inner_ = DartsForecaster(model=self.darts_model, model_kwargs=self._darts_kwargs(info),
                                      per_channel=self.per_channel)
        with warnings.catch_warnings():  # convergence/deprecation chatter of the statistical fits
            warnings.simplefilter("ignore")
            self.inner_.fit(z, dt=dt)

    def _predict_z(self, horizon):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.inner_.predict(horizon)


def period_of(info, default: int = 100) -> int:
    """Samples per dominant period from a task's ``info`` (a season length)."""
    return max(2, int(round(float(info.get("pts_per_period") or default))))


def import_module(name: str):
    """Import an optional module (call after :func:`require`)."""
    return importlib.import_module(name)


def lag_features(z: np.ndarray, rows: np.ndarray, lags: int, stride: int) -> np.ndarray:
    """``(len(rows), dim * lags)``: the states ``z[t], z[t - stride], ...,
    z[t - (lags - 1) * stride]`` at each ``t`` in ``rows``, newest first."""
    return np.concatenate([z[rows - j * stride] for j in range(lags)], axis=1)


class LagRegressionEntry(LibraryForecaster):
    """A regressor on lagged states, iterated one step at a time.

    The features at sample ``t`` are ``lags`` standardised states spaced ``stride``
    samples apart (an input window of ``(lags - 1) * stride + 1`` samples, all
    variables: multivariate); the target is the one-step increment ``z[t+1] - z[t]``
    (trees cannot extrapolate a level, but an increment they can).  The forecast
    feeds each prediction back, and stops (context mean from then on) when the state
    leaves the context's box widened by ``margin`` ranges.  Subclasses implement
    ``_fit_regressor(X, Y) -> step``, where ``step(x)`` maps one ``(1, n_features)``
    row to the ``(dim,)`` increment.
    """

    family = "ml"
    multivariate = True
    extra = "ml"

    def _fit_regressor(self, X, Y):
        raise NotImplementedError

    def _fit_z(self, z, dt, info):
        lags, stride = int(self.lags), int(self.stride)
        if lags < 1 or stride < 1:
            raise ValueError(f"{self.name}: lags and stride must be >= 1, got {self.lags!r}, {self.stride!r}")
        span = (lags - 1) * stride
        if len(z) - span - 1 < 10:
            raise ValueError(f"{self.name}: context of {len(z)} samples is too short for lags={lags}, "
                             f"stride={stride}")
        rows = np.arange(span, len(z) - 1)
        self.step_ = self._fit_regressor(lag_features(z, rows, lags, stride), z[rows + 1] - z[rows])
        self.history_ = z[len(z) - 1 - span:].copy()

    def _predict_z(self, horizon):
        lags, stride = int(self.lags), int(self.stride)
        span = (lags - 1) * stride
        buf = np.full((span + 1 + horizon, self.history_.shape[1]), np.nan)
        buf[:span + 1] = self.history_
        back = np.arange(lags) * stride
        lo, hi = getattr(self, "lo_", -np.inf), getattr(self, "hi_", np.inf)
        for t in range(horizon):
            cur = span + t
            nxt = buf[cur] + self.step_(buf[cur - back].reshape(1, -1))
            buf[cur + 1] = nxt
            if not np.all(np.isfinite(nxt) & (nxt >= lo) & (nxt <= hi)):
                break  # diverged: the guard in predict() takes over from here
        return buf[span + 1:]

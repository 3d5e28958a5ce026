"""Base classes of the entries that wrap a third-party library (``forecasters/darts_*``,
``statsforecast_*``, the regressors on lagged states, ``pysindy_sindy``,
``reservoirpy_esn``, ``pydmd_hankel_dmd``).

* :class:`LibraryForecaster` -- standardise the context, fit and forecast in standardised
  units (``_fit_z`` / ``_predict_z``), hold the context mean once the forecast diverges;
* :class:`DartsEntry` -- a darts model, through the one darts adapter
  (:class:`~dysts_bench.forecaster.adapters.DartsForecaster`), with its arguments built
  from the entry's own (tunable, declared) parameters;
* :class:`LagRegressionEntry` -- a regressor of the one-step increment on lagged states,
  iterated.

Each entry declares its own ``family``, ``multivariate``, ``extra`` and ``requires`` (the
base :class:`~dysts_bench.forecaster.contract.Forecaster` checks them) and imports its
library inside ``_fit_z`` / ``_fit_regressor``.
"""

from __future__ import annotations

import warnings

import numpy as np

from .adapters import DartsForecaster
from .contract import Forecaster
from .preprocessing import guard_box, hold_mean_after_divergence, inside, standardise


def period_of(info, default: int = 100) -> int:
    """Samples per dominant period from a task's ``info`` (a season length), at least 2."""
    return max(2, int(round(float(info.get("pts_per_period") or default))))


class LibraryForecaster(Forecaster):
    """Base of the entries wrapping a library: standardise, fit, forecast, guard.

    Subclasses implement ``_fit_z(z, *, dt, info)`` and ``_predict_z(horizon)`` on the
    context standardised by :func:`~dysts_bench.forecaster.preprocessing.standardise`
    (``self.mu_``, ``self.sd_``).  ``margin`` (a class attribute: context ranges beyond
    its bounding box; None: no guard) sets the divergence guard: from the first
    forecast step outside ``[self.lo_, self.hi_]`` the forecast is the context mean.
    """

    margin: float | None = 1.0

    def _fit(self, context, *, dt, info):
        z, self.mu_, self.sd_ = standardise(context)
        if self.margin is not None:
            self.lo_, self.hi_ = guard_box(z, self.margin)
        else:
            self.lo_ = self.hi_ = None
        self._fit_z(z, dt=dt, info=info)

    def _predict(self, horizon):
        z = np.asarray(self._predict_z(horizon), dtype=float).reshape(horizon, -1)
        if self.margin is not None:
            z, _ = hold_mean_after_divergence(z, self.lo_, self.hi_)
        return z * self.sd_ + self.mu_

    def _fit_z(self, z, *, dt, info):
        raise NotImplementedError(f"{type(self).__name__} must implement _fit_z(z, *, dt, info)")

    def _predict_z(self, horizon):
        raise NotImplementedError(f"{type(self).__name__} must implement _predict_z(horizon)")


def _quiet_darts():
    """darts logs every model construction; only its errors matter here."""
    import logging
    for name in ("darts", "statsforecast"):
        logging.getLogger(name).setLevel(logging.ERROR)


class DartsEntry(LibraryForecaster):
    """A darts model on the standardised context.

    Subclasses set ``darts_model`` (a name in ``darts.models``) and return its
    constructor arguments from ``_darts_kwargs(info)``; ``per_channel`` is "auto" (one
    model per variable exactly when the model is univariate), as in the adapter.
    """

    darts_model: str = ""
    per_channel = "auto"

    def _darts_kwargs(self, info) -> dict:
        return {}

    def _fit_z(self, z, *, dt, info):
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


def lag_features(z: np.ndarray, rows: np.ndarray, lags: int, stride: int) -> np.ndarray:
    """``(len(rows), dim * lags)``: the states ``z[t], z[t - stride], ...,
    z[t - (lags - 1) * stride]`` at each ``t`` in ``rows``, newest first."""
    return np.concatenate([z[rows - j * stride] for j in range(lags)], axis=1)


class LagRegressionEntry(LibraryForecaster):
    """A regressor on lagged states, iterated one step at a time.

    The features at sample ``t`` are ``lags`` standardised states spaced ``stride``
    samples apart (an input window of ``(lags - 1) * stride + 1`` samples, all
    variables: multivariate); the target is the one-step increment ``z[t+1] - z[t]``
    (trees cannot extrapolate a level, but an increment they can).  The forecast feeds
    each prediction back and stops at the first state outside the guard box (the
    context mean from then on).  Subclasses have ``lags`` and ``stride`` parameters and
    implement ``_fit_regressor(X, Y)`` (store the fitted model on ``self``) and
    ``_step(x)``, which maps one ``(1, n_features)`` row to the ``(dim,)`` increment.
    """

    def _fit_regressor(self, X, Y):
        raise NotImplementedError(f"{type(self).__name__} must implement _fit_regressor(X, Y)")

    def _step(self, x) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement _step(x)")

    def _fit_z(self, z, *, dt, info):
        lags, stride = int(self.lags), int(self.stride)
        span = (lags - 1) * stride
        if len(z) - span - 1 < 10:
            raise ValueError(f"{self.name}: a context of {len(z)} samples is too short for lags={lags}, "
                             f"stride={stride} (needs at least {span + 11})")
        rows = np.arange(span, len(z) - 1)
        self._fit_regressor(lag_features(z, rows, lags, stride), z[rows + 1] - z[rows])
        self.history_ = z[len(z) - 1 - span:].copy()

    def _predict_z(self, horizon):
        lags, stride = int(self.lags), int(self.stride)
        span = (lags - 1) * stride
        buf = np.full((span + 1 + horizon, self.history_.shape[1]), np.nan)
        buf[:span + 1] = self.history_
        back = np.arange(lags) * stride
        for t in range(horizon):
            cur = span + t
            nxt = buf[cur] + np.asarray(self._step(buf[cur - back].reshape(1, -1)), dtype=float).reshape(-1)
            buf[cur + 1] = nxt
            if self.lo_ is not None and not inside(nxt, self.lo_, self.hi_):
                break  # diverged: _predict holds the context mean from here
        return buf[span + 1:]

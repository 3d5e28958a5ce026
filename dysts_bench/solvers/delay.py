"""Delay differential equations: one import path for the three modules that hold them.

* :mod:`.dde` - the deterministic integrator (method of steps with an embedded
  Runge–Kutta pair and dense history), :func:`integrate_delay`, :func:`delay_series`;
* :mod:`.sdde` - the stochastic delay integrator (Euler–Maruyama), :func:`integrate_sdde`;
* :mod:`.embedding` - delay embeddings: the published exact lags
  (:func:`delay_trajectory`) and the dataset's whole-sample lags.
"""

from __future__ import annotations

from .dde import N_BREAKS, STATUS_TEXT, delay_of, delay_series, integrate_dde, integrate_delay
from .embedding import delay_embedding, delay_lags, delay_trajectory, embedding_lag_samples
from .sdde import integrate_sdde, integrate_sdde_loop, sdde_noise_rows

__all__ = ["integrate_delay", "delay_trajectory", "delay_embedding", "delay_lags",
           "integrate_sdde", "delay_series", "embedding_lag_samples",
           "delay_of", "integrate_dde", "N_BREAKS", "STATUS_TEXT",
           "integrate_sdde_loop", "sdde_noise_rows"]

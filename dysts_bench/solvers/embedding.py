"""Delay embeddings of delay-system output: the published exact lags and the dataset's
sample lags.

Published output (delay embedding)
    The published database (dysts 0.96, ``DynSysDelay.make_trajectory``) turns a scalar
    delay system into 10 coordinates: at each sample time ``t`` it returns
    ``(x(t), x(t - tau/9), x(t - 2 tau/9), ..., x(t - tau))``, i.e. the state at the 10
    lags ``numpy.linspace(0, tau, 10)``. (For a ``d``-dimensional delay system it would
    give ``d * 10`` columns ordered variable-major: column ``m * E + j`` is variable ``m`` at
    lag ``j * tau / (E - 1)``.) The database takes these values by linear interpolation of
    a coarse output grid; :func:`delay_trajectory` evaluates them exactly from the dense
    output instead.

Sample-lag embedding (dataset protocol >= 1.1)
    The dataset embeds a delay series by whole-sample lags ``j L`` with ``L`` the sample
    count nearest ``tau / (E - 1)`` (:func:`embedding_lag_samples`), so that the embedding is
    a re-indexing of the scalar series (:func:`delay_series`, :func:`delay_embedding`) and
    only that series needs storing. :func:`delay_trajectory` keeps the published exact lags.
"""

from __future__ import annotations

import numpy as np

from ..compile import CompiledSystem, compile_system
from .dde import delay_of, integrate_delay
from .inputs import check_t_eval

__all__ = ["delay_lags", "delay_embedding", "delay_trajectory", "embedding_lag_samples"]


def delay_lags(tau: float, embedding: int) -> np.ndarray:
    """The lags of the published embedding: ``linspace(0, tau, embedding)``."""
    if embedding < 1:
        raise ValueError("embedding must be a positive integer")
    return np.linspace(0.0, float(tau), int(embedding)) if embedding > 1 else np.zeros(1)


def delay_embedding(y, lag_samples: int, embedding: int) -> np.ndarray:
    """Delay-embed a uniformly sampled series ``y`` (n, dim) the way the published database
    orders it: row ``k`` holds, for each variable ``m``, the ``embedding`` values
    ``y[k + (E-1) L - j L, m]`` for ``j = 0 .. E-1`` (newest first), at column ``m * E + j``.

    Returns an array of shape ``(n - (E-1) L, dim * E)``. With samples spaced ``tau/(E-1)``
    apart (``L = 1``) this is exactly the published output; :func:`delay_trajectory` does not
    need that spacing.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    L, E = int(lag_samples), int(embedding)
    if L < 0 or E < 1:
        raise ValueError("lag_samples must be >= 0 and embedding >= 1")
    n, dim = y.shape
    rows = n - (E - 1) * L
    if rows < 1:
        raise ValueError(f"series of {n} samples is too short for {E} lags of {L} samples")
    out = np.empty((rows, dim * E))
    for m in range(dim):
        for j in range(E):
            start = (E - 1 - j) * L
            out[:, m * E + j] = y[start:start + rows, m]
    return out


def delay_trajectory(compiled, t_eval, *, ic=None, t0=0.0, method="dop853", rtol=1e-10,
                     atol=1e-10, embedding=None, check=True):
    """Integrate a delay system and return it in the published dimension.

    Row ``k`` is, for each variable ``m`` and ``j = 0 .. E-1``, the state
    ``y_m(t_eval[k] - j tau / (E - 1))`` at column ``m * E + j`` (``E`` = the registry's
    ``delay.embedding``, 10 for the published systems), all evaluated exactly from the
    integrator's dense output. Lagged times before ``t0`` read the constant history
    ``ic``; the published database starts its samples at ``t0 + tau`` so that none does.

    Parameters
    ----------
    compiled : CompiledSystem, System or name
    t_eval : (n,) strictly increasing sample times (>= t0)
    ic : (dim,) or (m, dim) array, optional
        Constant history value(s) (default: the registry's ``initial_condition``).
    embedding : int, optional
        Number of lags (default ``compiled.system.embedding``).

    Returns
    -------
    (n, dim * E) array, or (m, n, dim * E) for a 2-D ``ic``
    """
    if not isinstance(compiled, CompiledSystem):
        compiled = compile_system(compiled)
    system = compiled.system
    E = int(system.embedding if embedding is None else embedding)
    tau = delay_of(compiled)
    t_eval, t0 = check_t_eval(t_eval, float(t0), system.name)
    y0 = np.asarray(system.initial_condition if ic is None else ic, dtype=np.float64)
    times = t_eval[:, None] - delay_lags(tau, E)[None, :]  # (n, E)
    past = times < t0
    needed, inverse = np.unique(times[~past], return_inverse=True)
    y, _ = integrate_delay(compiled, y0, needed, t0=t0, method=method, rtol=rtol, atol=atol,
                           check=check)
    dim = compiled.dim
    batch = y.shape[:-2]  # () or (m,)
    full = np.empty(batch + times.shape + (dim,))
    full[..., ~past, :] = y[..., inverse, :]
    if past.any():
        full[..., past, :] = y0[..., None, :]
    # (..., n, E, dim) -> columns m * E + j
    return np.ascontiguousarray(np.swapaxes(full, -1, -2).reshape(batch + (t_eval.size, dim * E)))


def embedding_lag_samples(tau: float, step: float, embedding: int) -> int:
    """Lag between embedding columns in whole samples (dataset protocol >= 1.1):
    ``max(1, round(tau / ((E - 1) step)))``, the sample count nearest the published lag
    ``tau / (E - 1)``; 0 when ``E == 1``."""
    E = int(embedding)
    if E <= 1:
        return 0
    return max(1, int(round(float(tau) / ((E - 1) * float(step)))))

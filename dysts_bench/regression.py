"""Ridge regression, the fitting step that linear readouts of forecasters share
(autoregression, NVAR, echo-state networks)."""

from __future__ import annotations

import numpy as np


def ridge(X, Y, alpha: float, *, free_column: int | None = None) -> np.ndarray:
    """Coefficients ``W`` minimising ``|X W - Y|^2 + alpha * n_rows * |W|^2``.

    The penalty is per training row, so ``alpha`` means the same for any context length;
    ``free_column`` (e.g. the column of ones of an intercept) is not penalised. Solved by
    the normal equations, or by least squares when they are singular.

    Parameters
    ----------
    X : (n_rows, n_features) array
    Y : (n_rows, n_targets) array
    alpha : float >= 0

    Returns
    -------
    W : (n_features, n_targets) array
    """
    gram = X.T @ X
    penalty = np.full(X.shape[1], float(alpha) * len(X))
    if free_column is not None:
        penalty[free_column] = 0.0
    gram[np.diag_indices_from(gram)] += penalty
    try:
        return np.linalg.solve(gram, X.T @ Y)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(X, Y, rcond=None)[0]

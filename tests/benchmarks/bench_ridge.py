"""Ridge readouts: our normal-equations solver (``dysts_bench.regression.ridge``) against
scikit-learn's ``Ridge``, for speed and exactness, at the shapes the forecasters use.

Exactness is measured against an independent solution of the same problem: least squares
(SVD) on the augmented system ``[X; sqrt(pen) I] W = [Y; 0]``.  scikit-learn has no
per-column penalty, so its unpenalised intercept is ``fit_intercept=True`` on ``X``
without the column of ones (the same minimiser); its ``alpha`` is ours times the rows.
"""

from __future__ import annotations

import numpy as np

from dysts_bench.regression import ridge

from .harness import Section, ratio, summary, timeit

#: (forecaster, rows, features including the ones column, targets, alpha per row)
SHAPES = [("linear_ar (lags 20, dim 3)", 980, 61, 3, 1e-6),
          ("nvar (k 2, dim 3)", 998, 28, 3, 1e-6),
          ("esn (300 nodes + squares, dim 3)", 899, 601, 3, 1e-8)]


def _problem(rows, cols, targets, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((rows, cols - 1))
    Z[:, cols // 2:] = np.tanh(Z[:, cols // 2:] + 0.5 * Z[:, :cols - 1 - cols // 2])  # correlated, as in a reservoir
    X = np.hstack([Z, np.ones((rows, 1))])
    Y = X @ rng.standard_normal((cols, targets)) + 0.01 * rng.standard_normal((rows, targets))
    return X, Y


def _reference(X, Y, alpha):
    pen = np.full(X.shape[1], alpha * len(X))
    pen[-1] = 0.0
    A = np.vstack([X, np.diag(np.sqrt(pen))])
    B = np.vstack([Y, np.zeros((X.shape[1], Y.shape[1]))])
    return np.linalg.lstsq(A, B, rcond=None)[0]


def run(quick: bool):
    from sklearn.linear_model import Ridge
    section = Section(
        "Ridge readouts: ours vs scikit-learn",
        ["readout shape", "ours", "sklearn Ridge", "speed-up", "rel. error ours", "rel. error sklearn"],
        notes="`dysts_bench.regression.ridge` (normal equations, per-row penalty, unpenalised "
              "intercept column) against `sklearn.linear_model.Ridge(alpha=alpha*rows, "
              "fit_intercept=True)` on the same problem; errors are max |W - W_ref| / max |W_ref| "
              "against an SVD least-squares solution of the augmented system.")
    repeats = 3 if quick else 15
    for label, rows, cols, targets, alpha in SHAPES:
        X, Y = _problem(rows, cols, targets)
        ref = _reference(X, Y, alpha)
        ours = ridge(X, Y, alpha, free_column=-1)

        def theirs():
            m = Ridge(alpha=alpha * rows, fit_intercept=True).fit(X[:, :-1], Y)
            return np.vstack([m.coef_.T, m.intercept_[None]])
        sk = theirs()
        t_ours = timeit(lambda: ridge(X, Y, alpha, free_column=-1), repeats=repeats)
        t_sk = timeit(theirs, repeats=repeats)
        scale = np.abs(ref).max()
        section.rows.append([f"{label}: {rows}x{cols}", summary(t_ours), summary(t_sk), ratio(t_sk, t_ours),
                             f"{np.abs(ours - ref).max() / scale:.1e}", f"{np.abs(sk - ref).max() / scale:.1e}"])
    return [section]

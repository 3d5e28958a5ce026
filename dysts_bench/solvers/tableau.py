"""The data that defines an explicit embedded Runge–Kutta method with dense output."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _rows(n: int, rows: list[dict]) -> np.ndarray:
    """A dense (len(rows), n) matrix from sparse rows {column: value}."""
    out = np.zeros((len(rows), n))
    for i, row in enumerate(rows):
        for j, v in row.items():
            out[i, j] = v
    return out


@dataclass(frozen=True, eq=False)
class ExplicitRK:
    """Butcher tableau of an embedded pair with Hairer-style dense output.

    Stage layout (``S = len(c)`` stages in all, ``s = len(b)`` main stages):
    stages ``0..s-1`` make the step ``y_new = y + h * b @ k[:s]``; stage ``s`` is
    ``f(t + h, y_new)`` (first same as last, reused as stage 0 of the next step);
    stages ``s+1..S-1`` are extra stages needed only for dense output.

    Attributes
    ----------
    A : (S, S) array   stage coefficients (row i uses stages < i)
    c : (S,) array     stage times as fractions of the step
    b : (s,) array     weights of the propagated solution
    e5 : (s+1,) array  weights of the error estimate (b - b_hat)
    e3 : (s+1,) array  weights of a second, lower-order estimate (zeros if unused);
                       when present the error norm is Hairer's DOP853 combination
    dense : (m, S) array  coefficients of the dense-output terms beyond the cubic Hermite part
    error_order : int  order q of the error estimate; steps scale with err**(-1/(q+1))
    """

    name: str
    A: np.ndarray
    c: np.ndarray
    b: np.ndarray
    e5: np.ndarray
    e3: np.ndarray
    dense: np.ndarray
    error_order: int

    def __post_init__(self):
        S, s = len(self.c), len(self.b)
        assert self.A.shape == (S, S) and self.e5.shape == (s + 1,) == self.e3.shape
        assert self.dense.shape[1] == S
        # Consistency: each stage's time is the row sum of its coefficients.
        np.testing.assert_allclose(self.A.sum(axis=1)[1:], self.c[1:], atol=1e-12)
        np.testing.assert_allclose(self.b.sum(), 1.0, atol=1e-12)

    @property
    def arrays(self):
        """The arrays in the order the compiled loop takes them."""
        return (np.ascontiguousarray(self.A), self.c.copy(), self.b.copy(), self.e5.copy(),
                self.e3.copy(), np.ascontiguousarray(self.dense))

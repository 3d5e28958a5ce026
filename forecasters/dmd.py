"""Hankel (time-delay) dynamic mode decomposition: a linear Koopman model, iterated."""

import numpy as np

from dysts_bench.forecaster import Forecaster, Interval, safe_std

#: Singular values below this fraction of the largest are always dropped (numerical rank).
RCOND = 1e-10


class HankelDMD(Forecaster):
    """Dynamic mode decomposition on a time-delay (Hankel) embedding of the context.

    Schmid (2010), *Dynamic mode decomposition of numerical and experimental data*,
    J. Fluid Mech. 656, 5; Arbabi & Mezic (2017), *Ergodic theory, dynamic mode
    decomposition, and computation of spectral properties of the Koopman operator*,
    SIAM J. Appl. Dyn. Syst. 16, 2096; Brunton, Brunton, Proctor, Kaiser & Kutz (2017),
    *Chaos as an intermittently forced linear system*, Nat. Commun. 8, 19 (HAVOK).

    The context is scaled (each variable divided by its standard deviation; **not**
    centred: subtracting the mean reduces DMD to a discrete Fourier transform, Chen, Tu
    & Rowley 2012, J. Nonlinear Sci. 22, 887, and turns a linear system into an affine
    one; the mean is carried by a mode with eigenvalue 1) and stacked into delay vectors
    ``h_t = [z_t, z_{t-1}, ..., z_{t-delays+1}]`` (``delays * dim`` numbers).  With the
    snapshot matrices ``X = [h_{q-1} ... h_{n-2}]`` and ``Y = [h_q ... h_{n-1}]`` and
    the truncated SVD ``X ~ U_r S_r V_r^T``, the reduced linear operator is
    ``A_r = U_r^T Y V_r S_r^{-1}`` (``r x r``), the exact-DMD estimate of the Koopman
    operator restricted to the leading ``r`` delay coordinates.  The forecast projects
    the last delay vector onto ``U_r``, iterates ``A_r`` and reads the current state
    (the first ``dim`` rows of ``U_r a``).

    **Rank.**  ``rank_ = min(rank, delays * dim, n - delays, numerical rank)``, where the
    numerical rank counts singular values above ``1e-10`` times the largest.  A sum of
    ``k`` real sinusoids (plus a constant: one more) is reproduced exactly when
    ``rank_ >= 2k`` (``+1``) and ``delays * dim`` is large enough to hold it; a smaller
    rank keeps only the ``rank`` most energetic delay coordinates (singular vectors),
    so weaker components are not forecast.

    **Stability.**  A linear model with an eigenvalue ``|lambda| > 1`` grows without
    bound.  Eigenvalues of ``A_r`` with modulus above 1 are projected onto the unit
    circle (``lambda / |lambda|``: same frequency, no growth) and ``A_r`` is rebuilt from
    its eigenvectors (if these are singular, ``A_r`` is divided by its spectral radius
    instead); ``n_stabilised_`` counts them.  Forecasts therefore stay bounded
    (modes with ``|lambda| < 1`` decay).

    Parameters
    ----------
    delays : int
        Number of delayed copies of the state in the embedding (samples; 1 = plain DMD).
        Capped at half the context length.
    rank : int
        Highest number of singular values (delay coordinates) kept.
    """

    name = "dmd"
    version = "1"
    family = "physics"
    multivariate = True
    param_grid = {"delays": [16, 64], "rank": [16, 64, 256]}
    _parameter_constraints = {"delays": [Interval(int, 1, None)], "rank": [Interval(int, 1, None)]}

    def __init__(self, delays=32, rank=32):
        self.delays = delays
        self.rank = rank

    def _fit(self, context, *, dt, info):
        n, dim = context.shape
        if n < 3:
            raise ValueError(f"context of {n} samples is too short for DMD (needs 3)")
        q = int(min(self.delays, max(1, n // 2)))
        self.delays_ = q
        self.sd_ = safe_std(context)
        z = context / self.sd_  # scaled, not centred (see the class docstring)
        # H[:, c] = delay vector at time t = q - 1 + c, newest first: rows (lag, variable)
        win = np.lib.stride_tricks.sliding_window_view(z, q, axis=0)  # (n-q+1, dim, q)
        H = np.ascontiguousarray(win[:, :, ::-1].transpose(0, 2, 1).reshape(n - q + 1, q * dim).T)
        X, Y = H[:, :-1], H[:, 1:]
        U, S, Vt = np.linalg.svd(X, full_matrices=False)
        numerical = int(np.count_nonzero(S > RCOND * S[0])) if S[0] > 0 else 0
        r = max(1, min(int(self.rank), numerical))
        self.singular_values_ = S
        self.rank_ = r
        U, S, Vt = U[:, :r], S[:r], Vt[:r]
        A = (U.T @ Y @ Vt.T) / S[None, :]
        lam, W = np.linalg.eig(A)
        grow = np.abs(lam) > 1.0 + 1e-12
        self.n_stabilised_ = int(grow.sum())
        if self.n_stabilised_:
            lam = np.where(grow, lam / np.abs(lam), lam)
            try:
                A = np.real(W @ np.diag(lam) @ np.linalg.inv(W))
            except np.linalg.LinAlgError:  # defective operator: shrink it as a whole instead
                A = A / np.abs(np.linalg.eigvals(A)).max()
        self.eigenvalues_ = lam
        if not np.isfinite(A).all():
            raise FloatingPointError("DMD operator is not finite; lower the rank")
        self.A_ = A
        self.readout_ = U[:dim].copy()  # current state from reduced coordinates
        self.a0_ = U.T @ H[:, -1]

    def _predict(self, horizon):
        A = self.A_
        a = self.a0_.copy()
        coords = np.empty((horizon, len(a)))
        for t in range(horizon):
            a = A @ a
            coords[t] = a
        out = coords @ self.readout_.T
        return out * self.sd_

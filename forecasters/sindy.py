"""Sparse identification of nonlinear dynamics (SINDy), integrated forward."""

import itertools
import math

import numpy as np

from dysts_bench.forecaster import Check, Forecaster, Interval, guard_box, inside

MAX_ITER = 25  # STLSQ iterations (it usually settles in a handful)
MAX_SUBSTEPS = 8  # automatic RK4 substeps per sample; stiffer models go to LSODA


def _monomials(dim: int, degree: int) -> np.ndarray:
    """Index array (n_terms, degree) of all monomials of total degree <= ``degree`` in
    ``dim`` variables: row ``(i, j, k)`` is ``xa[i] * xa[j] * xa[k]`` with ``xa = [x, 1]``
    (index ``dim`` is the constant).  Ordered by degree, then lexicographically."""
    rows = list(itertools.combinations_with_replacement(range(dim + 1), degree))
    rows.sort(key=lambda r: (sum(i < dim for i in r), [i for i in r if i < dim]))
    return np.array(rows, dtype=np.intp)


def _term_name(row, dim: int) -> str:
    factors = [f"x{i}" for i in row if i < dim]
    out = []
    for name, group in itertools.groupby(factors):
        power = len(list(group))
        out.append(name if power == 1 else f"{name}^{power}")
    return "*".join(out) or "1"


def _finite_difference(x: np.ndarray, dt: float):
    """Fourth-order centred differences: derivative at rows 2 .. n-3 and those rows."""
    d = (x[:-4] - 8.0 * x[1:-3] + 8.0 * x[3:-1] - x[4:]) / (12.0 * dt)
    return d, np.arange(2, len(x) - 2)


class SINDy(Forecaster):
    """SINDy: a sparse polynomial vector field fitted to the context, then integrated.

    Brunton, Proctor & Kutz (2016), *Discovering governing equations from data by sparse
    identification of nonlinear dynamical systems*, PNAS 113, 3932.

    1. **Derivatives.**  ``smoothing = 0``: fourth-order centred finite differences of
       the context (the two samples at each end are not used).  ``smoothing = w`` (odd,
       >= 5): a Savitzky-Golay filter (window ``w`` samples, cubic) smooths the states
       and gives their derivative, for noisy contexts.
    2. **Library.**  All monomials of the variables up to total degree ``degree``
       (constant included): ``C(d + degree, degree)`` terms for ``d`` variables.
    3. **Sparse regression** (sequentially thresholded least squares, STLSQ): ridge
       regression of each derivative on the library; coefficients below the threshold
       are set to zero and the rest refitted, until the support stops changing.  The
       regression works in the **original coordinates** (not centred: a polynomial
       that is sparse in the physical variables stays sparse) with every library
       column and every derivative scaled to unit root mean square.  The threshold is
       therefore dimensionless and independent of units: term ``m`` is kept in the
       equation of ``x_j`` only if ``|xi_mj| * rms(theta_m) >= threshold * rms(dx_j/dt)``,
       i.e. if its typical contribution is at least that fraction of the derivative's.
       The identified coefficients (``coef_``, shape ``(n_terms, dim)``, rows named by
       ``feature_names_``) are in original units (per unit time).
    4. **Forecast.**  The identified ODE is integrated from the last context state
       (its smoothed value if ``smoothing > 0``) with the classical fourth-order
       Runge-Kutta method, ``substeps`` steps per sample interval, in NumPy.  (A fixed
       step keeps the cost predictable: SciPy's ``solve_ivp`` (RK45/DOP853) took about
       twice as long on an identified Lorenz model at 100 samples per period, and the
       project's compiled integrators would need a numba compilation per identified
       model inside each isolated worker.)  With ``substeps="auto"`` the number of
       substeps is ``ceil(dt * L / 1.5)``, where ``L``
       is the largest eigenvalue modulus of the identified model's Jacobian over 32
       context states, which keeps ``h * L`` inside RK4's stability region; if that
       would need more than 8 substeps the model is stiff and is integrated with
       SciPy's LSODA instead (``rtol=1e-7``).  ``integrator_`` says which was used.

    **Blow-up guard.**  An identified model need not be stable.  If the integrated state
    leaves the context's bounding box widened by ``margin`` times its range on each
    side, or becomes non-finite, the integration stops and the forecast is the context
    mean (climatology) from that sample on; ``diverged_at_`` holds that step (None if
    the model stayed bounded).  The forecast is always finite.

    Parameters
    ----------
    degree : int
        Highest total degree of the polynomial library (1 to 5).
    threshold : float
        STLSQ threshold, as a fraction of each derivative's RMS (dimensionless).
    alpha : float
        Ridge penalty on the unit-RMS library columns (dimensionless).
    smoothing : int
        0 for finite differences, else the Savitzky-Golay window (odd, >= 5 samples).
    substeps : int or "auto"
        Runge-Kutta steps per sample interval; an integer always uses RK4 (no LSODA).
    margin : float
        Divergence guard, in context ranges beyond the context's bounding box.
    """

    name = "sindy"
    version = "1"
    family = "physics"
    multivariate = True
    param_grid = {"degree": [2, 3], "threshold": [0.02, 0.1], "smoothing": [0, 15]}
    _parameter_constraints = {
        "degree": [Interval(int, 1, 5)], "threshold": [Interval(float, 0, None)],
        "alpha": [Interval(float, 0, None)],
        "smoothing": [0, Check(lambda w: Interval(int, 5, None).accepts(w) and w % 2 == 1,
                               "an odd integer >= 5")],
        "substeps": [Interval(int, 1, None), "auto"],
        "margin": [Interval(float, 0, None, closed="right")],
    }

    def __init__(self, degree=2, threshold=0.05, alpha=1e-9, smoothing=0, substeps="auto",
                 margin=1.0):
        self.degree = degree
        self.threshold = threshold
        self.alpha = alpha
        self.smoothing = smoothing
        self.substeps = substeps
        self.margin = margin

    # -- library -------------------------------------------------------------------
    def _library(self, x, terms):
        xa = np.concatenate([x, np.ones(x.shape[:-1] + (1,))], axis=-1)
        out = xa[..., terms[:, 0]]
        for q in range(1, terms.shape[1]):
            out = out * xa[..., terms[:, q]]
        return out

    def _stlsq(self, theta, dxdt):
        n_rows = len(theta)
        col = np.sqrt((theta ** 2).mean(axis=0))
        col = np.where(col > 0, col, 1.0)
        tgt = np.sqrt((dxdt ** 2).mean(axis=0))
        tgt = np.where(tgt > 0, tgt, 1.0)
        T = theta / col
        G = T.T @ T / n_rows
        B = T.T @ (dxdt / tgt) / n_rows
        n_terms, dim = B.shape
        ridge = float(self.alpha) * np.eye(n_terms)

        def solve(active, j):
            idx = np.flatnonzero(active)
            coef = np.zeros(n_terms)
            if idx.size:
                Gs = G[np.ix_(idx, idx)] + ridge[np.ix_(idx, idx)]
                try:
                    coef[idx] = np.linalg.solve(Gs, B[idx, j])
                except np.linalg.LinAlgError:
                    coef[idx] = np.linalg.lstsq(Gs, B[idx, j], rcond=None)[0]
            return coef

        xi = np.zeros((n_terms, dim))
        self.n_iter_ = 0
        for j in range(dim):
            active = np.ones(n_terms, dtype=bool)
            coef = solve(active, j)
            for it in range(MAX_ITER):
                keep = active & (np.abs(coef) >= float(self.threshold))
                if it > 0 and (keep == active).all():
                    break
                active = keep
                coef = solve(active, j)
                coef[~active] = 0.0
                self.n_iter_ = max(self.n_iter_, it + 1)
            xi[:, j] = coef
        return xi * tgt[None, :] / col[:, None]

    def _fit(self, context, *, dt, info):
        n, dim = context.shape
        if n < max(5, int(self.smoothing)):
            raise ValueError(f"context of {n} samples is too short (needs at least {max(5, int(self.smoothing))})")
        terms = _monomials(dim, int(self.degree))
        w = int(self.smoothing)
        if w:
            from scipy.signal import savgol_filter
            x = savgol_filter(context, w, 3, axis=0, mode="interp")
            dxdt = savgol_filter(context, w, 3, deriv=1, delta=dt, axis=0, mode="interp")
        else:
            dxdt, rows = _finite_difference(context, dt)
            x = context[rows]
        theta = self._library(x, terms)
        coef = self._stlsq(theta, dxdt)
        if not np.isfinite(coef).all():
            raise FloatingPointError("SINDy regression gave non-finite coefficients; increase alpha")
        self.coef_ = coef
        self.feature_names_ = [_term_name(r, dim) for r in terms]
        active = np.flatnonzero(np.any(coef != 0.0, axis=1))
        self.active_terms_ = terms[active]
        self.active_coef_ = coef[active]
        self.x0_ = (x[-1] if w else context[-1]).copy()
        self.mean_ = context.mean(axis=0)
        self.lo_, self.hi_ = guard_box(context, self.margin)

        if self.substeps == "auto":
            probe = x[np.linspace(0, len(x) - 1, min(32, len(x))).astype(int)]
            L = self._max_jacobian_modulus(probe)
            need = math.ceil(dt * L / 1.5) if math.isfinite(L) else math.inf
            self.substeps_ = int(max(1, need)) if need <= MAX_SUBSTEPS else None
        else:
            self.substeps_ = int(self.substeps)
        self.integrator_ = "rk4" if self.substeps_ else "lsoda"
        self.sample_dt_ = dt  # the forecast's sampling interval

    def rhs(self, x):
        """The identified vector field at state(s) ``x`` (..., dim), in original units."""
        if len(self.active_terms_) == 0:
            return np.zeros_like(np.asarray(x, dtype=float))
        return self._library(np.asarray(x, dtype=float), self.active_terms_) @ self.active_coef_

    def _max_jacobian_modulus(self, states):
        """Largest |eigenvalue| of the identified Jacobian (centred differences) over ``states``."""
        p, dim = states.shape
        scale = np.maximum(np.abs(states).max(axis=0), 1.0)
        h = 1e-5 * scale
        eye = np.eye(dim) * h
        plus = self.rhs(states[:, None, :] + eye[None])   # (p, dim_perturbed, dim_out)
        minus = self.rhs(states[:, None, :] - eye[None])
        jac = np.swapaxes((plus - minus) / (2.0 * h[None, :, None]), 1, 2)
        with np.errstate(all="ignore"):
            return float(np.abs(np.linalg.eigvals(jac)).max())

    def _predict(self, horizon):
        dim = len(self.x0_)
        out = np.repeat(self.mean_[None, :], horizon, axis=0)  # climatology after a blow-up
        self.diverged_at_ = None
        if len(self.active_terms_) == 0:
            out[:] = self.x0_
            return out
        if self.integrator_ == "lsoda":
            return self._predict_lsoda(horizon, out)
        terms, C = self.active_terms_, self.active_coef_
        cols = [terms[:, q] for q in range(terms.shape[1])]
        xa = np.ones(dim + 1)

        def f(x):
            xa[:dim] = x
            m = xa[cols[0]]
            for c in cols[1:]:
                m = m * xa[c]
            return m @ C

        h = self.sample_dt_ / self.substeps_
        x = self.x0_.copy()
        with np.errstate(all="ignore"):
            for t in range(horizon):
                for _ in range(self.substeps_):
                    k1 = f(x)
                    k2 = f(x + 0.5 * h * k1)
                    k3 = f(x + 0.5 * h * k2)
                    k4 = f(x + h * k3)
                    x = x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
                if not inside(x, self.lo_, self.hi_):
                    self.diverged_at_ = t
                    break
                out[t] = x
        return out

    def _predict_lsoda(self, horizon, out):
        from scipy.integrate import solve_ivp
        lo, hi = self.lo_, self.hi_

        def leave(t, x):  # crosses zero when the state leaves the guard box
            return min(np.min(x - lo), np.min(hi - x))
        leave.terminal = True

        t_eval = self.sample_dt_ * np.arange(1, horizon + 1)
        scale = np.maximum(hi - lo, 1e-300)
        with np.errstate(all="ignore"):
            sol = solve_ivp(lambda t, x: self.rhs(x), (0.0, t_eval[-1]), self.x0_, method="LSODA",
                            t_eval=t_eval, rtol=1e-7, atol=1e-9 * scale, events=leave)
        y = sol.y.T
        ok = np.all(np.isfinite(y) & (y >= lo) & (y <= hi), axis=1)
        k = int(np.argmin(ok)) if not ok.all() else len(y)
        out[:k] = y[:k]
        if k < horizon:
            self.diverged_at_ = k
        return out

"""Fractal dimension estimates shared by the invariants (flows and maps) and the
attractor-level scores."""

import numpy as np
from scipy.spatial.distance import pdist


def gp_dimension(x, *, max_points=1000, quantiles=(0.005, 0.05), n_radii=12, theiler=10,
                 standardize=False) -> float:
    """Grassberger-Procaccia correlation dimension of one trajectory ``x`` (time, dim).

    ``max_points`` evenly spaced samples are kept (deterministic); the correlation sum
    C(r), the fraction of pairs closer than r (pairs fewer than ``theiler`` original
    samples apart excluded), is evaluated at ``n_radii`` log-spaced radii between the
    ``quantiles`` of the pairwise distances, and the dimension is the least-squares slope
    of log C(r) against log r. ``standardize`` z-scores each coordinate first, so that
    no coordinate's units dominate the distances. A fixed point gives 0, NaN input NaN.

    Reference: P. Grassberger and I. Procaccia, Physica D 9 (1983) 189-208.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if not np.all(np.isfinite(x)):
        return np.nan
    if standardize:
        sd = x.std(axis=0)
        x = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    idx = np.unique(np.linspace(0, len(x) - 1, min(max_points, len(x))).round().astype(np.intp))
    dist = pdist(x[idx])
    if theiler > 0:
        # Pairs close in time are close in space only because the flow is
        # continuous; they would bias the estimate towards 1.
        i, j = np.triu_indices(idx.size, k=1)
        dist = dist[idx[j] - idx[i] > theiler]
    if dist.size < 2:
        raise ValueError("too few points for a correlation dimension estimate")
    dist.sort()
    lo, hi = np.quantile(dist, quantiles)
    if lo <= 0 or hi <= lo:
        return 0.0  # a fixed point (or a few repeated points) is 0-dimensional
    radii = np.geomspace(lo, hi, n_radii)
    corr_sum = np.searchsorted(dist, radii, side="right") / dist.size
    slope = np.polyfit(np.log(radii), np.log(corr_sum), 1)[0]
    return float(slope)


def kaplan_yorke_dimension(spectrum) -> float:
    """D_KY = j + (λ_1 + ... + λ_j) / |λ_{j+1}|, with j the largest index whose partial
    sum is non-negative (Kaplan & Yorke 1979). 0 if λ_1 < 0; the dimension of phase
    space if all partial sums are non-negative."""
    lam = np.sort(np.asarray(spectrum, dtype=float))[::-1]
    partial = np.cumsum(lam)
    if lam[0] < 0:
        return 0.0
    j = int(np.max(np.nonzero(partial >= 0)[0])) + 1
    if j == len(lam):
        return float(len(lam))
    return float(j + partial[j - 1] / abs(lam[j]))

"""Shared preprocessing of forecasters: context scaling and the divergence guard."""

from __future__ import annotations

import numpy as np


def safe_std(context: np.ndarray) -> np.ndarray:
    """Per-variable standard deviation, with 1 for constant variables (no division by 0)."""
    sd = context.std(axis=0)
    return np.where(sd > 0, sd, 1.0)


def standardise(context: np.ndarray):
    """``(z, mean, sd)`` with ``z = (context - mean) / sd`` per variable (z-scores over
    the context; ``sd`` from :func:`safe_std`).  Invert with ``z * sd + mean``."""
    mu = context.mean(axis=0)
    sd = safe_std(context)
    return (context - mu) / sd, mu, sd


def guard_box(x: np.ndarray, margin: float):
    """``(lo, hi)``: the bounding box of ``x`` (n, dim) widened by ``margin`` times its
    range on each side.  An iterated model whose state leaves it is deemed diverged."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    width = float(margin) * (hi - lo)
    return lo - width, hi + width


def inside(state: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> bool:
    """True if ``state`` is finite and inside the guard box (NaN compares False)."""
    return bool(np.all(state >= lo) and np.all(state <= hi))


def hold_mean_after_divergence(z: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """``(z, step)``: a standardised forecast ``z`` (horizon, dim) with every row from the
    first one outside the guard box ``[lo, hi]`` (or non-finite) replaced by 0, the context
    mean; ``step`` is that row (None if the forecast stays inside).  The vectorised form of
    the per-step :func:`inside` test, for forecasts made all at once."""
    z = np.array(z, dtype=float)
    with np.errstate(invalid="ignore"):
        bad = ~np.all(np.isfinite(z) & (z >= lo) & (z <= hi), axis=1)
    if not bad.any():
        return z, None
    step = int(np.argmax(bad))
    z[step:] = 0.0
    return z, step

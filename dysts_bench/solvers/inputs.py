"""Validation shared by every integrator's Python entry point."""

from __future__ import annotations

import numpy as np


def check_t_eval(t_eval, t0=None, name=None):
    """``(t_eval, t0)``: ``t_eval`` as a non-empty, strictly increasing float64 array
    starting at or after ``t0`` (default ``t_eval[0]``); errors name the system."""
    where = f"{name}: " if name else ""
    # A copy: the compiled loops take writable arrays, and callers pass read-only ones
    # (a task's context slice); numba would reject those with a TypeError.
    t_eval = np.array(t_eval, dtype=np.float64, order="C")
    if t_eval.ndim != 1 or t_eval.size == 0:
        raise ValueError(f"{where}t_eval must be a non-empty 1-D array")
    if t_eval.size > 1 and np.any(np.diff(t_eval) <= 0):
        raise ValueError(f"{where}t_eval must be strictly increasing")
    t0 = float(t_eval[0] if t0 is None else t0)
    if t_eval[0] < t0:
        raise ValueError(f"{where}t_eval must start at or after the start time t0 = {t0}")
    return t_eval, t0


def check_inputs(compiled, y0, t_eval, t0, rtol=None, atol=None, batch=True):
    """Validated (y0, t_eval, t0) for an integration; errors name the system.

    ``y0`` may be (dim,) or, with ``batch``, (m, dim); ``t_eval`` must be strictly
    increasing and start at or after ``t0`` (default ``t_eval[0]``).
    """
    name, dim = compiled.system.name, compiled.dim
    t_eval, t0 = check_t_eval(t_eval, t0, name)
    if rtol is not None and not (rtol > 0 and atol > 0):
        raise ValueError("rtol and atol must be positive")
    y0 = np.array(y0, dtype=np.float64, order="C")
    shapes = f"({dim},) or (m, {dim})" if batch else f"({dim},)"
    if y0.shape[-1:] != (dim,) or y0.ndim > (2 if batch else 1):
        raise ValueError(f"{name}: initial condition must have shape {shapes}, got {y0.shape}")
    if not np.all(np.isfinite(y0)):
        raise ValueError(f"{name}: initial condition is not finite")
    return y0, t_eval, t0

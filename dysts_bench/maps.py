"""Iterate discrete maps and compute their Lyapunov spectra.

A map's equations are next values, so the code generator of :mod:`dysts_bench.compile`
serves unchanged: the generated "right-hand side" ``rhs(t, y, p, out)`` writes
``x_{n+1}`` into ``out`` and the generated Jacobian is ``d x_{n+1} / d x_n``, both from the
same expression trees. This module supplies the two loops a map needs in place of an
integrator: iteration, and the Jacobian products with QR re-orthonormalisation for the
Lyapunov spectrum (Benettin et al. 1980; Eckmann & Ruelle 1985, section IV.B).
"""

from __future__ import annotations

import math

import numpy as np
from numba import types

from .compile import JAC_SIG, RHS_SIG, CompiledSystem, compile_system
from .jit import njit_on_first_use
from .registry import get_system

_V = types.float64[::1]
_M = types.float64[:, ::1]


@njit_on_first_use(
    types.int64(types.FunctionType(RHS_SIG), _V, _V, types.int64, types.int64, _M),
    what="the map iteration loop", seconds=1, cache=True, nogil=True)
def _iterate(step, p, y0, skip, stride, out):
    """Iterate ``skip`` times, then record every ``stride``-th state into ``out`` (n, dim).
    Returns the number of rows written before the orbit left the finite numbers."""
    y = y0.copy()
    nxt = np.empty_like(y)
    for i in range(skip):
        step(float(i), y, p, nxt)
        y[:] = nxt
    count = skip
    for row in range(out.shape[0]):
        out[row] = y
        if not np.all(np.isfinite(y)):
            return row
        for _ in range(stride):
            step(float(count), y, p, nxt)
            y[:] = nxt
            count += 1
    return out.shape[0]


@njit_on_first_use(
    types.int64(types.FunctionType(RHS_SIG), types.FunctionType(JAC_SIG), _V, _V,
        types.int64, _M),
    what="the map Lyapunov loop", seconds=2, cache=True, nogil=True)
def _qr_exponents(step, jac, p, y0, n_steps, block_sums):
    """Carry an orthonormal frame with the Jacobian along the orbit, QR-factorising after
    every step; accumulate log |R_ii| into ``block_sums`` (n_blocks, dim). Returns the
    number of steps done (fewer than ``n_steps`` if the orbit or the frame degenerates)."""
    n = y0.size
    y = y0.copy()
    nxt = np.empty(n)
    J = np.empty((n, n))
    ft = np.empty(n)
    Q = np.eye(n)
    per_block = n_steps // block_sums.shape[0]
    for i in range(per_block * block_sums.shape[0]):
        jac(float(i), y, p, J, ft)
        step(float(i), y, p, nxt)
        q, r = np.linalg.qr(J @ Q)
        for col in range(n):
            d = abs(r[col, col])
            if not (d > 0.0 and math.isfinite(d)) or not np.all(np.isfinite(nxt)):
                return i
            block_sums[i // per_block, col] += math.log(d)
            if r[col, col] < 0.0:
                q[:, col] = -q[:, col]
        Q = np.ascontiguousarray(q)
        y[:] = nxt
    return per_block * block_sums.shape[0]


def _compiled(system, params=None) -> CompiledSystem:
    if isinstance(system, CompiledSystem) and not params:
        compiled = system
    else:
        name = system.system if isinstance(system, CompiledSystem) else system
        compiled = compile_system(name, **(params or {}))
    if compiled.system.kind != "map":
        raise ValueError(f"{compiled.system.name} is a {compiled.system.kind}, not a map")
    return compiled


def iterate_map(system, n, *, transient=0, ic=None, params=None, stride=1) -> np.ndarray:
    """``n`` states of a map's orbit, shape (n, dim), after ``transient`` iterations.

    Raises ``FloatingPointError`` if the orbit leaves the finite numbers (escapes).
    """
    compiled = _compiled(system, params)
    if int(n) < 1 or int(transient) < 0 or int(stride) < 1:
        raise ValueError("n and stride must be positive and transient non-negative")
    spec = compiled.system
    y0 = np.ascontiguousarray(spec.initial_condition if ic is None else ic, dtype=np.float64)
    if y0.shape != (spec.dim,):
        raise ValueError(f"{spec.name}: initial condition needs shape ({spec.dim},), got {y0.shape}")
    out = np.empty((int(n), spec.dim))
    done = _iterate(compiled.rhs, compiled.params, y0, int(transient), int(stride), out)
    if done < n:
        raise FloatingPointError(f"{spec.name}: the orbit is not finite after "
                                 f"{int(transient) + done * int(stride)} iterations")
    return out


def map_trajectory(system, n, *, transient=0, ic=None, standardize=False, noise=0.0,
                   seed=None, params=None):
    """The map counterpart of :func:`dysts_bench.trajectory.make_trajectory`: ``n``
    iterates (the time is the iteration index, starting at ``transient``), optionally
    z-scored per variable and with measurement noise (a fraction of each variable's
    standard deviation), as for flows. Returns ``(t, y)``."""
    y = iterate_map(system, n, transient=transient, ic=ic, params=params)
    if standardize:
        sd = y.std(axis=0, keepdims=True)
        y = (y - y.mean(axis=0, keepdims=True)) / np.where(sd > 0, sd, 1.0)
    if noise < 0:
        raise ValueError("noise must be non-negative")
    if noise > 0:
        rng = np.random.default_rng(seed)
        y = y + noise * y.std(axis=0, keepdims=True) * rng.standard_normal(y.shape)
    return float(transient) + np.arange(int(n), dtype=float), y


def map_lyapunov_spectrum(system, *, n_steps=100_000, transient=1_000, n_blocks=10,
                          ic=None, params=None) -> dict:
    """Lyapunov spectrum of a map from products of its Jacobians along one orbit.

    The frame is re-orthonormalised by QR after every step and the exponents are the
    averages of log |R_ii| (per iteration); their standard error comes from ``n_blocks``
    block means. Returns ``{"spectrum", "stderr", "n_steps", "method", ...}``.
    """
    compiled = _compiled(system, params)
    spec = compiled.system
    start = iterate_map(compiled, 1, transient=transient, ic=ic)[0]
    sums = np.zeros((n_blocks, spec.dim))
    done = _qr_exponents(compiled.rhs, compiled.jac, compiled.params, start, int(n_steps), sums)
    per_block = int(n_steps) // n_blocks
    if done < per_block * n_blocks:
        raise FloatingPointError(f"{spec.name}: the orbit or its tangent frame degenerated "
                                 f"after {done} iterations")
    blocks = sums / per_block
    order = np.argsort(-blocks.mean(axis=0))
    blocks = blocks[:, order]
    return {"spectrum": blocks.mean(axis=0), "stderr": blocks.std(axis=0, ddof=1) / math.sqrt(n_blocks),
            "n_steps": per_block * n_blocks, "transient": int(transient), "n_blocks": n_blocks,
            "start_state": start,
            "method": "Jacobian products along one orbit, QR after every step (Benettin et al. 1980), "
                      "symbolic Jacobian"}


#: A map is labelled chaotic when its largest exponent exceeds both this floor (per
#: iteration) and three standard errors of its block means.
CHAOS_FLOOR = 0.01


def chaos_label(spectrum, stderr) -> str:
    """``chaotic`` or ``not_chaotic`` from a spectrum and its standard errors (the rule
    above; maps have no transient-chaos check, the orbit is iterated to the end)."""
    lam, se = float(spectrum[0]), float(stderr[0])
    return "chaotic" if lam > CHAOS_FLOOR and lam > 3.0 * se else "not_chaotic"


def annotate_map(name: str, *, n_steps=200_000, transient=1_000) -> dict:
    """The ``invariants`` object stored for a map in ``maps.json``."""
    from .fractal import kaplan_yorke_dimension
    r = map_lyapunov_spectrum(name, n_steps=n_steps, transient=transient)
    spectrum, stderr = [float(v) for v in r["spectrum"]], [float(v) for v in r["stderr"]]
    label = chaos_label(spectrum, stderr)
    return {
        "maximum_lyapunov": spectrum[0], "lyapunov_spectrum": spectrum, "lyapunov_stderr": stderr,
        "kaplan_yorke_dimension": kaplan_yorke_dimension(spectrum),
        "chaos": {"label": label, "rule": f"lambda_max > {CHAOS_FLOOR} per iteration and > 3 stderr"},
        "methods": {"lyapunov": {"method": r["method"], "n_steps": r["n_steps"],
                                 "transient": r["transient"], "n_blocks": r["n_blocks"],
                                 "units": "per iteration"}},
    }


def annotate_maps(names=None, *, path=None, n_steps=200_000) -> None:
    """Recompute the invariants of some maps (default all) and rewrite ``maps.json``."""
    import json

    from .map_registry import default_maps_path, write_maps
    path = default_maps_path() if path is None else path
    raw = json.loads(open(path).read())
    for name in names or list(raw["systems"]):
        raw["systems"][name]["invariants"] = annotate_map(name, n_steps=n_steps)
    write_maps(raw, path)


def is_map(system) -> bool:
    """Whether ``system`` (a name, System or CompiledSystem) is a discrete map."""
    spec = system.system if isinstance(system, CompiledSystem) else get_system(system)
    return spec.kind == "map"

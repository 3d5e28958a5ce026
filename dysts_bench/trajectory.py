"""Trajectories: integrate a system and sample it on its natural timescale.

``make_trajectory`` resamples by dense output at a fixed number of points per dominant
period (or per Lyapunov time), so that every system in the benchmark is seen at a
comparable resolution regardless of its raw time units.
"""

from __future__ import annotations

import numpy as np

from .compile import CompiledSystem, compile_system
from .registry import evaluate_on_states, output_tree
from .solvers import integrate
from .solvers.dde import delay_of
from .solvers.embedding import delay_trajectory


def sampling_interval(system, pts_per_period=100, resample=True, timescale="period") -> float:
    """Time between samples (time units).

    ``timescale="period"`` gives ``period / pts_per_period``; ``"lyapunov"`` gives
    ``(1 / maximum_lyapunov) / pts_per_period``; ``resample=False`` gives the system's
    integration step ``dt``.
    """
    if not resample:
        return system.dt
    if pts_per_period <= 0:
        raise ValueError("pts_per_period must be positive")
    if timescale == "period":
        return system.period / pts_per_period
    if timescale == "lyapunov":
        if system.lyapunov_time is None:
            raise ValueError(f"{system.name}: no positive maximum Lyapunov exponent is recorded; "
                             "run `dysts-bench annotate` or use timescale='period'")
        return system.lyapunov_time / pts_per_period
    raise ValueError(f"timescale must be 'period' or 'lyapunov', got {timescale!r}")


def observe(system, y, t):
    """Apply the registry's ``output`` map (e.g. an angle seen through its sine) to states
    ``y`` of shape (..., n, dim); variables without an entry pass through."""
    if not system.output:
        return y
    y = y.copy()
    for var in system.output:
        i = system.variables.index(var)
        value = evaluate_on_states(system, output_tree(system, var), y, t)
        y[..., i] = np.broadcast_to(value, y[..., i].shape)
    return y


def make_trajectory(system, n, *, pts_per_period=100, resample=True, timescale="period",
                    transient=0.0, ic=None, standardize=False, noise=0.0, seed=None,
                    method="dop853", rtol=1e-12, atol=1e-12, params=None):
    """Integrate a system and return ``n`` evenly spaced samples.

    Parameters
    ----------
    system : str, System or CompiledSystem
        A discrete map is iterated instead (:func:`dysts_bench.maps.map_trajectory`:
        ``transient`` counts iterations; the sampling options do not apply).
    n : int
        Number of samples.
    pts_per_period : float
        Samples per dominant period (or per Lyapunov time, see ``timescale``).
    resample : bool
        If False, sample at the system's integration step ``dt`` instead.
    timescale : {"period", "lyapunov"}
    transient : float
        Time discarded before the first sample, in units of the chosen timescale
        (periods or Lyapunov times; integration steps when ``resample=False``).
    ic : (dim,) or (m, dim) array, optional
        Initial condition(s); default the registry's point on the attractor. A 2-D array
        integrates the batch in parallel and returns ``(m, n, dim)``.
    standardize : bool
        Z-score each variable over the returned samples (per trajectory).
    noise : float
        Measurement noise: Gaussian noise with standard deviation ``noise`` times each
        variable's standard deviation over the trajectory, added after standardising.
    seed : int, optional
        Seed of the noise (the integration itself is deterministic).
    method, rtol, atol :
        Passed to :func:`dysts_bench.solvers.integrate`.
    params : dict, optional
        Parameter overrides.

    Returns
    -------
    t : (n,) array of sample times (time units)
    y : (n, dim) or (m, n, dim) array
    """
    if isinstance(system, CompiledSystem) and not params:
        compiled = system
    else:
        name = system.system if isinstance(system, CompiledSystem) else system
        compiled = compile_system(name, **(params or {}))
    spec = compiled.system
    if spec.kind == "map":  # iterated, not integrated: one sample per iteration
        from .maps import map_trajectory
        return map_trajectory(compiled, n, transient=int(transient), ic=ic,
                              standardize=standardize, noise=noise, seed=seed)
    n = int(n)
    if n < 1:
        raise ValueError("n must be a positive integer")
    if noise < 0:
        raise ValueError("noise must be non-negative")
    step = sampling_interval(spec, pts_per_period, resample, timescale)
    unit = step * (pts_per_period if resample else 1.0)
    t = float(transient) * unit + step * np.arange(n)
    y0 = np.asarray(spec.initial_condition if ic is None else ic, dtype=np.float64)
    if spec.delay:
        # Delay systems start from a constant history; as in the published database the
        # samples begin one delay later and each is embedded with its lagged values
        # x(t), x(t - tau/(E-1)), ..., x(t - tau), so no coordinate reads the flat history.
        t = t + delay_of(compiled)
        y = delay_trajectory(compiled, t, ic=y0, method=method, rtol=rtol, atol=atol)
    else:
        y, _ = integrate(compiled, y0, t, t0=0.0, method=method, rtol=rtol, atol=atol)
        y = observe(spec, y, t)
    if standardize:
        sd = y.std(axis=-2, keepdims=True)
        y = (y - y.mean(axis=-2, keepdims=True)) / np.where(sd > 0, sd, 1.0)
    if noise > 0:
        rng = np.random.default_rng(seed)
        y = y + noise * y.std(axis=-2, keepdims=True) * rng.standard_normal(y.shape)
    return t, y

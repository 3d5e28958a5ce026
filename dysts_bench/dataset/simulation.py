"""The simulation engine of the canonical protocol: the reference orbit of one system and
every series derived from it (clean, measurement noise, dynamical noise).

:mod:`.protocol` says what the series are (configuration, seeds, splits, exclusions,
layout); this module integrates them. A series is a pure function of the registry entry
and the :class:`~.protocol.CanonicalConfig`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .protocol import (CANONICAL, EXCLUDED, FORMAT, GENERATOR_VERSION, NOISE_KINDS, SPLITS,  # noqa: F401 - EXCLUDED named in docs
                       _MAX_ATTEMPTS, Block, CanonicalConfig, SkipSystem, VariantUnavailable,
                       embed_stored, lyapunov_time_samples, rng_for, series_times, spawn_key,
                       supports, system_fingerprint)


def clock_variables(system) -> list:
    """Variables whose derivative does not depend on the state (forcing phases, time)."""
    from .. import expressions as ex
    defs, eqs = system.trees
    deps = {}
    for w in system.variables:
        d = {}
        for (aux, _), tree in zip(system.definitions, defs):
            d[aux] = ex.depends_on(tree, w, d)
        deps[w] = d
    return [v for v, tree in zip(system.variables, eqs)
            if not any(ex.depends_on(tree, w, deps[w]) for w in system.variables)]


def dynamical_noise_scale(system, state_std, observed_std) -> np.ndarray:
    """Per-variable scale of the dynamical noise (state units): the variable's standard
    deviation on the attractor; 0 for clock variables (a forcing phase is not perturbed);
    for a variable seen through an ``output`` map (an angle seen through its sine), the
    smaller of the raw and observed standard deviations, so that a winding angle is not
    kicked by its (growing) raw spread."""
    scale = np.asarray(state_std, dtype=np.float64).copy()
    clocks = set(clock_variables(system))
    for i, v in enumerate(system.variables):
        if v in clocks:
            scale[i] = 0.0
        elif v in system.output:
            scale[i] = min(scale[i], float(observed_std[i]))
    return scale


def _observe(spec, y, t):
    from ..trajectory import observe
    return observe(spec, y, t)


class _Simulation:
    """The reference orbit of one system and everything derived from it."""

    def __init__(self, name, config: CanonicalConfig):
        from ..compile import compile_system
        from ..registry import get_system
        from ..solvers import integrate
        self.config = config
        self.spec = get_system(name)
        reason = supports(self.spec)
        if reason:
            raise SkipSystem(reason)
        self.name = self.spec.name
        self.method = config.method_for(self.name)
        self.compiled = compile_system(self.name)
        self._integrate = integrate
        c = config
        self.step = self.spec.period / c.pts_per_period
        self.delay = bool(self.spec.delay)
        # Exactly make_trajectory's grid (transient 0): the train split equals it bitwise.
        # Delay systems start one delay later (make_trajectory's convention).
        self.t_start = self.delay_time() if self.delay else 0.0
        self.t_pool = self.grid(0.0, c.pool_length) + self.t_start
        y0 = np.asarray(self.spec.initial_condition, dtype=np.float64)
        if self.delay:
            from ..solvers.embedding import embedding_lag_samples
            self.E = int(self.spec.embedding)
            self.lag = embedding_lag_samples(self.delay_time(), self.step, self.E)
            self.lead = (self.E - 1) * self.lag
            # The scalar orbit from `lead` samples before the first one (what the embedding
            # of the first row reads); its embedding is the observed orbit, and a window
            # of it is a history segment, i.e. a state of the delay system.
            self.pool_scalar = self.delay_series(y0, -self.lead, c.pool_length)
            self.pool_raw = self.embed(self.pool_scalar[None])[0]
        else:
            self.pool_raw = self.integrate(y0, self.t_pool)
        lo, hi = c.pool_start, c.pool_start + c.n_test * c.block
        stat_raw = self.pool_raw[lo:hi]
        stat_obs = stat_raw if self.delay else _observe(self.spec, stat_raw, self.t_pool[lo:hi])
        self.attractor_mean = stat_obs.mean(axis=0)
        self.attractor_std = stat_obs.std(axis=0)
        self.obs_min, self.obs_max = stat_obs.min(axis=0), stat_obs.max(axis=0)
        if self.delay:  # the state is the scalar series; noise acts on it
            self.state_std = self.pool_scalar[self.lead + lo:self.lead + hi].std(axis=0)
            self.noise_scale = self.state_std.copy()
        else:
            self.state_std = stat_raw.std(axis=0)
            self.noise_scale = dynamical_noise_scale(self.spec, self.state_std,
                                                     self.attractor_std)
        self.lyap_samples = lyapunov_time_samples(self.spec, c.pts_per_period)

    def delay_time(self) -> float:
        from ..solvers.dde import delay_of
        return float(delay_of(self.compiled))

    def delay_series(self, history, first, stop):
        """Scalar (not embedded) delay orbit at sample indices ``first .. stop - 1`` of the
        grid ``t_start + dt * i``, from the constant history ``history`` on ``t <= 0``."""
        from ..solvers.dde import delay_series
        c = self.config
        t = self.t_start + self.step * np.arange(first, stop)
        return delay_series(self.compiled, t, ic=history, method=self.method, rtol=c.rtol,
                            atol=c.atol)

    def embed(self, scalar):
        """(n, lead + length, d) scalar series -> (n, length, d * E) embedding."""
        return embed_stored(scalar, {"embedding": self.E, "embedding_lag_samples": self.lag,
                                     "stored_leading_samples": self.lead,
                                     "length": scalar.shape[1] - self.lead, "system": self.name})

    def integrate(self, y0, t_eval, t0=None):
        c = self.config
        t0 = float(t_eval[0] if t0 is None else t0)
        if self.method == "rk4":
            from ..solvers.sde import integrate_sde
            return integrate_sde(self.compiled, y0, t_eval, 0.0, t0=t0,
                                 substeps=c.fixed_step_substeps)
        y, _ = self._integrate(self.compiled, y0, t_eval, t0=t0, method=self.method,
                               rtol=c.rtol, atol=c.atol,
                               max_steps=c.max_steps_per_sample * len(t_eval) + 10_000)
        return y

    # ---------------------------------------------------------------- clean series
    def starts(self, split, fresh_seed=None):
        """(pool indices, initial states, start times) of the series of ``split``."""
        c = self.config
        if split == "train":
            idx = np.array([0])
            t0 = np.array([self.t_start])
        else:
            fresh = fresh_seed is not None
            seed = fresh_seed if fresh else c.seed
            rng = rng_for(seed, spawn_key(self.name, "ic", fresh=fresh))
            first = c.n_test if fresh else 0
            offsets = rng.integers(0, c.test_length, size=c.n_test)
            idx = np.array([c.pool_start + (first + k) * c.block + int(offsets[k])
                            for k in range(c.n_test)])
            t0 = (self.t_pool[idx] if self.spec.nonautonomous or self.delay
                  else np.zeros(c.n_test))
        if split == "train":
            ics = np.asarray(self.spec.initial_condition, dtype=np.float64)[None, :]
        else:
            ics = self.pool_raw[idx]
        return idx, ics, t0

    def grid(self, t0, length):
        # Same arithmetic as make_trajectory (t = transient * unit + step * arange(n)).
        return float(t0) + self.step * np.arange(length)

    def times(self, split, idx, t0):
        """(time_origin, time_index0) per series: sample ``i`` of series ``k`` is at
        ``time_origin[k] + dt * (time_index0[k] + i)`` (see :func:`series_times`)."""
        if self.delay:  # delay series are on the orbit's grid t_start + dt * i
            index0 = [0] if split == "train" else [int(i) for i in idx]
            return [float(self.t_start)] * len(index0), index0
        return [float(x) for x in t0], [0] * len(t0)

    def clean(self, split, fresh_seed=None):
        c = self.config
        idx, ics, t0 = self.starts(split, fresh_seed)
        length = c.length(split)
        meta = self.meta(split, "none", idx, ics, t0, fresh_seed)
        ts = series_times(meta)
        if self.delay:
            if split == "train":
                # Integrated on its own grid (the reference orbit's last steps are clipped
                # differently): the first `length` samples after the leading ones.
                scalar = self.delay_series(ics[0], -self.lead, length)[None]
            else:
                # A delay system's state is a history segment: test series are windows of
                # the reference orbit (which continues exactly from that history).
                scalar = np.stack([self.pool_scalar[i:i + self.lead + length] for i in idx])
            stored = scalar.astype(np.float32)
            return Block(self.embed(stored), ts, meta, stored=stored)
        if split == "train":
            # Integrated on its own grid (not sliced from the longer reference orbit, whose
            # last step before sample 1499 is not clipped the same way): bitwise equal to
            # make_trajectory(name, train_length).
            raw = self.integrate(ics[0], ts[0])[None]
        else:
            raw = np.stack([self.integrate(ics[k], ts[k]) for k in range(len(idx))])
        obs = _observe(self.spec, raw, ts)
        return Block(obs.astype(np.float32), ts, meta)

    # ---------------------------------------------------------------- noise
    def sde_substeps(self) -> int:
        """SDE steps per sample: steps no longer than ``period / sde_steps_per_period``
        nor ``sde_dt_fraction`` of the registry's ``dt`` (its mean DOP853 step)."""
        from ..solvers.sde import default_max_step
        c = self.config
        h = default_max_step(self.spec, c.sde_steps_per_period, c.sde_dt_fraction)
        return max(1, math.ceil(self.step / h * (1 - 1e-12)))

    def measurement(self, clean: Block, split, fresh_seed=None):
        return add_measurement_noise(clean, self.config, fresh_seed)

    def _noisy_delay_series(self, split, k, idx, sigma, substeps, rng):
        """One dynamical-noise delay series: scalar (lead + length, d), Euler–Maruyama from
        the clean history (train: the constant history from t = 0; test: the reference
        orbit's samples over the last delay before the start, linearly interpolated)."""
        from ..solvers.sdde import integrate_sdde
        c = self.config
        length = c.length(split)
        h = self.step / substeps
        if split == "train":
            first = -self.lead
            t = self.t_start + self.step * np.arange(first, length)
            y0 = np.asarray(self.spec.initial_condition, dtype=np.float64)
            out = np.empty((t.size, self.compiled.dim))
            past = t <= 0.0
            out[past] = y0
            out[~past] = integrate_sdde(self.compiled, y0, t[~past], sigma, t0=0.0,
                                        substeps=substeps, max_step=h, rng=rng, check=False)
            return out
        i = int(idx[k])  # orbit index; pool_scalar index i + lead
        back = math.ceil(self.delay_time() / self.step) + 1
        lo = max(0, i + self.lead - back)
        hist_t = self.t_start + self.step * np.arange(lo - self.lead, i + 1)
        hist_y = self.pool_scalar[lo:i + self.lead + 1]
        t = self.t_start + self.step * np.arange(i, i + length)
        noisy = integrate_sdde(self.compiled, (hist_t, hist_y), t, sigma, substeps=substeps,
                               max_step=h, rng=rng, check=False)
        return np.concatenate([self.pool_scalar[i:i + self.lead], noisy])

    def dynamical(self, split, fresh_seed=None):
        from ..solvers.sde import integrate_sde
        c = self.config
        idx, ics, t0 = self.starts(split, fresh_seed)
        sigma = c.dynamical_noise * self.noise_scale / math.sqrt(self.spec.period)
        substeps = self.sde_substeps()
        span = self.obs_max - self.obs_min
        lo, hi = self.obs_min - span, self.obs_max + span
        fresh = fresh_seed is not None
        seed = fresh_seed if fresh else c.seed
        meta = self.meta(split, "dynamical", idx, ics, t0, fresh_seed)
        ts = series_times(meta)
        out, attempts, keys = [], [], []
        for k in range(len(idx)):
            for attempt in range(_MAX_ATTEMPTS):
                key = spawn_key(self.name, "dynamical", split, k, attempt, fresh)
                rng = rng_for(seed, key)
                if self.delay:
                    y = self._noisy_delay_series(split, k, idx, sigma, substeps, rng)
                    seen = self.embed(y[None])[0]
                else:
                    y = integrate_sde(self.compiled, ics[k], ts[k], sigma, rng=rng,
                                      substeps=substeps, check=False)
                    seen = _observe(self.spec, y, ts[k])
                if np.all(np.isfinite(seen)) and np.all((seen >= lo) & (seen <= hi)):
                    break
            else:
                raise VariantUnavailable(f"dynamical noise: {split} series {k} blew up or left "
                                         f"the attractor in {_MAX_ATTEMPTS} attempts")
            out.append(y)
            attempts.append(attempt)
            keys.append(list(key))
        raw = np.stack(out)
        meta["noise_seed"] = {"entropy": int(seed), "spawn_keys": keys}
        scheme = ("Euler-Maruyama, lagged state linearly interpolated on the stored path"
                  if self.delay else "Strang splitting: half kick, RK4 drift, half kick")
        meta["sde"] = {"scheme": scheme, "sigma": sigma.tolist(), "substeps": substeps,
                       "step": self.step / substeps, "attempts": attempts}
        if self.delay:
            stored = raw.astype(np.float32)
            return Block(self.embed(stored), ts, meta, stored=stored)
        obs = _observe(self.spec, raw, ts)
        return Block(obs.astype(np.float32), ts, meta)

    # ---------------------------------------------------------------- metadata
    def meta(self, split, noise, idx, ics, t0, fresh_seed):
        c, s = self.config, self.spec
        if self.delay:  # columns m * E + j: variable m at lag j L samples
            E = int(s.embedding)
            dim = s.dim * E
            variables = [f"{v}_lag{j}" for v in s.variables for j in range(E)]
        else:
            dim, variables = s.dim, list(s.variables)
        origin, index0 = self.times(split, idx, t0)
        meta = {
            "format": FORMAT, "protocol_version": c.protocol_version,
            "generator_version": GENERATOR_VERSION, "config": c.to_dict(),
            "config_hash": c.fingerprint, "canonical": c.is_canonical,
            "evaluation": "canonical" if fresh_seed is None else f"fresh:{fresh_seed}",
            "system": self.name, "split": split, "noise": noise,
            "noise_level": c.noise_level(noise),
            "dim": dim, "variables": variables, "delay": self.delay,
            "tau": s.tau if self.delay else None,
            "columns": [f"x{i}" for i in range(dim)],
            "dt": self.step, "pts_per_period": c.pts_per_period, "period": s.period,
            "maximum_lyapunov": s.maximum_lyapunov, "lyapunov_time_samples": self.lyap_samples,
            "nonautonomous": bool(s.nonautonomous),
            "n_series": len(idx), "length": c.length(split),
            "context_length": c.context_length,
            "horizon": c.horizon if split == "test" else c.validation_length,
            "seed": int(c.seed if fresh_seed is None else fresh_seed),
            "initial_conditions": ics.tolist(), "t0": [float(x) for x in t0],
            "time_origin": origin, "time_index0": index0,
            "orbit_index": [int(i) for i in idx],
            "attractor_mean": self.attractor_mean.tolist(),
            "attractor_std": self.attractor_std.tolist(),
            "state_std": self.state_std.tolist(),
            "dynamical_noise_scale": self.noise_scale.tolist(),
            "registry_hash": system_fingerprint(s),
            "integrator": ({"method": "rk4", "fixed_step_substeps": c.fixed_step_substeps}
                           if self.method == "rk4" else
                           {"method": self.method, "rtol": c.rtol, "atol": c.atol}),
            "stored_dim": s.dim, "stored_leading_samples": 0,
        }
        if self.delay:
            meta.update(embedding=self.E, embedding_lag_samples=self.lag,
                        stored_leading_samples=self.lead)
        return meta


def add_measurement_noise(clean: Block, config: CanonicalConfig, fresh_seed=None) -> Block:
    """The measurement-noise variant of a clean block (deterministic from the seed):
    ``float32(clean + level * attractor_std * N(0, 1))``. Delay systems: the noise is
    added to the stored scalar series (each observation once, with the scalar's attractor
    standard deviation ``state_std``), which is then embedded."""
    meta = dict(clean.meta)
    name, split = meta["system"], meta["split"]
    fresh = fresh_seed is not None
    seed = fresh_seed if fresh else config.seed
    delay = clean.stored is not None
    values = clean.stored if delay else clean.values
    std = np.asarray(meta["state_std"] if delay else meta["attractor_std"], dtype=np.float64)
    out = np.empty_like(values)
    keys = []
    for k in range(values.shape[0]):
        key = spawn_key(name, "measurement", split, k, 0, fresh)
        xi = rng_for(seed, key).standard_normal(values[k].shape)
        out[k] = (values[k].astype(np.float64) + config.measurement_noise * std * xi).astype(np.float32)
        keys.append(list(key))
    meta.update(noise="measurement", noise_level=config.measurement_noise,
                noise_seed={"entropy": int(seed), "spawn_keys": keys})
    if delay:
        return Block(embed_stored(out, meta), clean.t.copy(), meta, stored=out)
    return Block(out, clean.t.copy(), meta)


@dataclass
class Generated:
    """What :func:`simulate` produced: ``blocks[(split, noise)]`` and, for variants that
    could not be produced, ``unavailable[noise] = reason``."""

    blocks: dict
    unavailable: dict = field(default_factory=dict)


def simulate(name, config: CanonicalConfig = CANONICAL, *, splits=SPLITS, noise=("none",),
             fresh_seed=None) -> Generated:
    """Generate the series of one system in memory.

    A noise variant is all-or-nothing per system: if any of its series cannot be produced,
    none of that variant is returned and the reason is in ``unavailable``. Raises
    :class:`SkipSystem` for a system the protocol cannot produce at all (those listed in
    :data:`EXCLUDED`, see :func:`supports`; delay systems are generated).
    """
    unknown = set(noise) - set(NOISE_KINDS)
    if unknown:
        raise ValueError(f"unknown noise variant(s) {sorted(unknown)}; choose from {NOISE_KINDS}")
    if fresh_seed is not None and "train" in splits:
        raise ValueError("fresh_seed draws new test initial conditions; the train split is fixed")
    sim = _Simulation(name, config)
    blocks, unavailable = {}, {}
    for split in splits:
        clean = sim.clean(split, fresh_seed)
        blocks[(split, "none")] = clean
        if "measurement" in noise:
            blocks[(split, "measurement")] = sim.measurement(clean, split, fresh_seed)
    if "dynamical" in noise:
        try:
            for split in splits:
                blocks[(split, "dynamical")] = sim.dynamical(split, fresh_seed)
        except VariantUnavailable as exc:
            unavailable["dynamical"] = str(exc)
            for split in splits:
                blocks.pop((split, "dynamical"), None)
    return Generated({k: v for k, v in blocks.items() if k[1] in noise}, unavailable)

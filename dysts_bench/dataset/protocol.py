"""The canonical protocol: what every series of the dataset is, and how it is made.

Everything here is deterministic: a series is a pure function of the registry entry, the
:class:`CanonicalConfig` and its seed. The Parquet files only store the results.

Protocol (version :data:`PROTOCOL_VERSION`), per system, at ``pts_per_period = 100``
samples per dominant period (sampling interval ``dt = period / 100`` time units):

Reference orbit
    One trajectory of ``pool_length`` samples (58 900 = 589 periods) from the registry's
    initial condition (a point on the attractor), integrated with DOP853 at ``rtol =
    atol = 1e-12`` (at most 200 steps per sample; a system that needs more is recorded as
    failed) and sampled every ``dt``. Every integration below uses the same settings.
    Per-system exceptions are in ``CanonicalConfig.system_methods`` (recorded in every
    file's ``integrator``): StickSlipOscillator, whose dry-friction law ``sign(v - vs)``
    makes error-controlled methods chatter in its stick phases, is integrated by the
    classical RK4 method on a fixed step of 1/200 sample (first order at the friction
    switch; ~1e-4 of the attractor's standard deviation).
Excluded systems
    :data:`EXCLUDED`, with the measured reason (HyperLu: its orbits escape to infinity), and
    (since 1.2) every system whose chaos label is ``transient`` (see :func:`supports`).
``train`` (1 series of 1500 samples)
    The first 1500 samples of the reference orbit (integrated on their own grid, so
    bitwise equal to ``make_trajectory(name, 1500)``): a 1000-point context followed by
    a 500-point validation tail (5 dominant periods) for tuning.
``test`` (3 series of 4700 samples)
    Each a 1000-point context and a 3700-point horizon. The horizon is the smallest
    multiple of 100 samples that reaches 20 Lyapunov times on the median system,
    computed from the registry's exponents (:func:`horizon_check`; 184 samples per
    Lyapunov time at 100 points per period when this was set; the published dysts
    invariants gave 108, i.e. 2200 samples). Initial conditions are points of the
    reference orbit after a gap of 1000 samples past the training window: the orbit from
    sample ``start = 2500`` is cut into blocks of ``2 x 4700`` samples and test series
    ``k`` starts at ``start + k * 9400 + U_k`` with ``U_k`` uniform in ``[0, 4700)``
    (seeded). Each series is then integrated afresh from that state, so the series never
    overlap each other nor the training window: they are distinct initial conditions on
    the attractor. Autonomous systems start each test series at ``t = 0`` (then series
    ``k`` equals ``make_trajectory(name, 4700, ic=initial_conditions[k])``);
    non-autonomous ones keep the reference orbit's time, i.e. the phase of the forcing.
Fresh evaluation (``fresh_seed``)
    Uses the next 3 blocks of the reference orbit (after the canonical ones), with
    offsets drawn from ``fresh_seed``: never the shipped initial conditions.
Attractor statistics
    Mean and standard deviation of every variable over the canonical IC blocks
    (samples ``start .. start + 3 * 9400``, 282 periods) of the reference orbit.
Noise (variants ``none``, ``measurement``, ``dynamical``)
    Measurement noise: i.i.d. Gaussian with standard deviation ``0.1 x`` each observed
    variable's attractor standard deviation (SNR 20 dB), added to the float32 clean
    values (deterministic from the seed, so the shipped dataset derives this variant at
    load time instead of storing it; its value hashes are in the manifest). Dynamical noise: ``dy = f(t, y) dt + diag(sigma) dW`` with ``sigma_i = 0.01 x
    s_i / sqrt(period)``: free diffusion over one period spreads by 1% of the attractor's
    standard deviation ``s_i`` (see :func:`dynamical_noise_scale`: clock variables get
    none), which the chaos amplifies to order one within about ln(100) = 4.6 Lyapunov
    times. (At 10% a quarter of the systems are kicked out of their basin or, for
    population models, below zero.) Integrated by :mod:`dysts_bench.solvers.sde` with a
    fixed step no longer than ``period / 5000`` nor a quarter of the registry's ``dt``
    (its mean adaptive step), sampled on the same grid, from the same initial
    conditions. A noisy series that blows up or leaves the attractor's
    neighbourhood (the observed range widened by its width on both sides) is redrawn
    with the next seed (``attempt`` in the metadata), at most 5 times; after that the
    system has no dynamical-noise variant (recorded in the manifest). Delay systems:
    Euler–Maruyama (:func:`dysts_bench.solvers.sdde.integrate_sdde`) on the same step,
    noise on the scalar state, scaled by its attractor standard deviation; a test series
    starts from the reference orbit's history (its samples over the last delay, linearly
    interpolated), the train series from the constant history at ``t = 0``.
Seeds
    ``numpy.random.SeedSequence(seed, spawn_key=(fresh, system_key, purpose, split,
    series, attempt))`` with ``system_key`` the first 4 bytes of ``sha256(name)``, so
    every stream is independent of which other systems are generated and in which order.
Values
    Stored as float32 in the system's own units (no standardisation).
Delay systems (changed in protocol 1.1)
    A constant history equal to the registry's initial condition, samples from
    ``t = tau`` on (as ``make_trajectory``), each row the state at ``E = 10`` lags
    ``x(t), x(t - L dt), .., x(t - 9 L dt)`` (columns ``x0 .. x9``, variables
    ``x_lag0 ..``) with ``L = max(1, round(tau / (9 dt)))`` whole samples, the lag nearest
    the published ``tau / 9`` (protocol 1.0 used exactly ``tau / 9``, between samples). The
    embedding is then a re-indexing of the scalar series, so the files store only that
    series (with its ``9 L`` leading samples) and the loader rebuilds the embedding
    exactly. Measurement noise is added to the scalar series (each observation once).
    Their state is a history segment, so a test series is the window of the reference
    orbit that starts at the drawn sample (the orbit continues exactly from that
    history); ``initial_conditions`` records its first row, ``t`` the orbit's time.
Times
    Series ``k`` is sampled at ``time_origin[k] + dt * (time_index0[k] + i)`` (metadata),
    exactly the float64 times integrated at; the files store no time column.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import statistics
from dataclasses import dataclass, field

import numpy as np

#: Version of the protocol (what the series are). Bump on any change that alters data.
PROTOCOL_VERSION = "1.2"
#: What each version changed (1.2: Sakarya is dysts' Sakarya attractor, the Li et al. 2015
#: flow is LiFourWing, and systems labelled ``transient`` are skipped like HyperLu). A
#: version that changes only which systems are in, or some systems' registry entries, keeps
#: the other systems' files byte for byte: they record the version they were made under.
PROTOCOL_CHANGES = {"1.1": "delay systems stored as one scalar series with whole-sample lags",
                    "1.2": "Sakarya renamed to its dysts dynamics, LiFourWing added, transient "
                           "systems skipped"}
#: Version of the generator code and file layout; bump when the bytes written change.
GENERATOR_VERSION = "2"
FORMAT = "dysts-bench-dataset/2"
SPLITS = ("train", "test")
NOISE_KINDS = ("none", "measurement", "dynamical")
#: Published median Lyapunov time in samples at 100 points per period (dysts 0.96
#: ``maximum_lyapunov_estimated`` and ``period`` over its 135 systems): the fallback
#: while the registry's own exponents are not annotated.
PUBLISHED_MEDIAN_LYAPUNOV_SAMPLES = 108.06
#: The test horizon must cover this many Lyapunov times on the median system.
TARGET_LYAPUNOV_TIMES = 20

# Seed purposes and split codes (part of the protocol: changing them changes the data).
_PURPOSE = {"ic": 0, "measurement": 1, "dynamical": 2}
_SPLIT_CODE = {"train": 0, "test": 1}
_MAX_ATTEMPTS = 5
#: Integration methods a system may be given in ``CanonicalConfig.system_methods``:
#: the adaptive ones of :func:`dysts_bench.solvers.integrate`, and ``"rk4"``, the
#: classical Runge-Kutta method on a fixed step (``fixed_step_substeps`` steps per sample).
SYSTEM_METHODS = ("dop853", "dopri5", "rosenbrock23", "rk4")

#: Registry systems the protocol leaves out, with the measured reason (recorded in the
#: manifest as ``status: skipped``).
EXCLUDED = {
    "HyperLu": (
        "not bounded at its published parameters (d = 1.3): orbits on the chaotic set escape "
        "to infinity (w grows exponentially). From the registry's initial condition the "
        "rtol = atol = 1e-12 DOP853 orbit escapes after ~34 000 samples (340 periods) of the "
        "58 900-sample reference orbit; of 24 points of a long bounded orbit, 6 escape within "
        "60 000 samples (median 28 000). A leaky chaotic set, not an attractor: no reference "
        "orbit of the protocol's length exists without picking a lucky initial condition."),
}


class SkipSystem(Exception):
    """A system the generator cannot (yet) produce under this protocol."""


class VariantUnavailable(Exception):
    """One noise variant of a system cannot be produced (the others can)."""


@dataclass(frozen=True)
class CanonicalConfig:
    """Generator configuration; the defaults are the canonical protocol.

    Lengths are in samples; noise levels are fractions of each variable's attractor
    standard deviation (see the module docstring for the exact definitions).
    """

    pts_per_period: float = 100.0
    context_length: int = 1000
    validation_length: int = 500
    horizon: int = 3700
    n_test: int = 3
    gap: int = 1000
    seed: int = 20240917
    measurement_noise: float = 0.1
    dynamical_noise: float = 0.01
    #: Noise variants written to files; the others are derived at load time.
    stored_noise: tuple = ("none", "dynamical")
    method: str = "dop853"
    #: Per-system integration method, overriding ``method``: pairs (name, method), method
    #: from :data:`SYSTEM_METHODS`. StickSlipOscillator's friction law sign(v - vs) is
    #: discontinuous: in its stick phases every error-controlled method chatters on the
    #: switching surface (DOP853 and Rosenbrock 2(3) both exceed 10 000 steps per sample
    #: at rtol 1e-12), so it is integrated on a fixed step instead.
    system_methods: tuple = (("StickSlipOscillator", "rk4"),)
    #: Fixed steps per output sample of the ``"rk4"`` method.
    fixed_step_substeps: int = 200
    rtol: float = 1e-12
    atol: float = 1e-12
    #: Integration step budget per output sample (the registry's systems need at most
    #: ~10 DOP853 steps per sample); a system that needs more is recorded as failed.
    max_steps_per_sample: int = 200
    #: Fixed SDE step (dynamical noise): at most period / sde_steps_per_period and at most
    #: sde_dt_fraction x the registry's dt (its mean adaptive DOP853 step).
    sde_steps_per_period: int = 5000
    sde_dt_fraction: float = 0.25
    #: Value columns x0..x{width-1} in every file (unused ones are null), so that systems
    #: of every dimension share one schema.
    width: int = 10
    compression_level: int = 19
    protocol_version: str = PROTOCOL_VERSION

    def __post_init__(self):
        for name in ("context_length", "validation_length", "horizon", "n_test", "gap", "width",
                     "max_steps_per_sample", "sde_steps_per_period", "fixed_step_substeps"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < (0 if name in ("gap", "validation_length") else 1):
                raise ValueError(f"CanonicalConfig.{name} must be a positive integer, got {value!r}")
        if not self.pts_per_period > 0:
            raise ValueError("pts_per_period must be positive")
        if not 0 < self.sde_dt_fraction:
            raise ValueError("sde_dt_fraction must be positive")
        if self.measurement_noise < 0 or self.dynamical_noise < 0:
            raise ValueError("noise levels must be non-negative")
        stored = tuple(self.stored_noise)
        if "none" not in stored or not set(stored) <= set(NOISE_KINDS):
            raise ValueError(f"stored_noise must include 'none' and be among {NOISE_KINDS}")
        object.__setattr__(self, "stored_noise", tuple(k for k in NOISE_KINDS if k in stored))
        pairs = tuple(sorted((str(n), str(m)) for n, m in self.system_methods))
        for n, m in pairs:
            if m not in SYSTEM_METHODS:
                raise ValueError(f"CanonicalConfig.system_methods: {n}: unknown method {m!r}; "
                                 f"choose from {SYSTEM_METHODS}")
        if len({n for n, _ in pairs}) != len(pairs):
            raise ValueError("CanonicalConfig.system_methods names a system twice")
        object.__setattr__(self, "system_methods", pairs)

    def method_for(self, name: str) -> str:
        """The integration method of system ``name``."""
        return dict(self.system_methods).get(name, self.method)

    # -------------------------------------------------------------- derived sizes
    @property
    def train_length(self) -> int:
        return self.context_length + self.validation_length

    @property
    def test_length(self) -> int:
        return self.context_length + self.horizon

    @property
    def pool_start(self) -> int:
        """First sample of the reference orbit from which test ICs are drawn."""
        return self.train_length + self.gap

    @property
    def block(self) -> int:
        return 2 * self.test_length

    @property
    def pool_length(self) -> int:
        """Samples of the reference orbit: train, gap, canonical and fresh IC blocks."""
        return self.pool_start + 2 * self.n_test * self.block

    def length(self, split: str) -> int:
        return self.train_length if split == "train" else self.test_length

    def n_series(self, split: str) -> int:
        return 1 if split == "train" else self.n_test

    def noise_level(self, kind: str) -> float:
        return {"none": 0.0, "measurement": self.measurement_noise,
                "dynamical": self.dynamical_noise}[kind]

    # -------------------------------------------------------------- (de)serialisation
    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["stored_noise"] = list(self.stored_noise)
        d["system_methods"] = [list(pair) for pair in self.system_methods]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> CanonicalConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown CanonicalConfig field(s) {sorted(unknown)}")
        d = dict(d)
        if "stored_noise" in d:
            d["stored_noise"] = tuple(d["stored_noise"])
        if "system_methods" in d:
            d["system_methods"] = tuple(tuple(pair) for pair in d["system_methods"])
        return cls(**d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    @property
    def is_canonical(self) -> bool:
        return self == CanonicalConfig()

    def replace(self, **changes) -> CanonicalConfig:
        return dataclasses.replace(self, **changes)


CANONICAL = CanonicalConfig()


# ------------------------------------------------------------------------- seeds
def system_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def spawn_key(name, purpose, split=None, series=0, attempt=0, fresh=False):
    return (int(bool(fresh)), system_key(name), _PURPOSE[purpose],
            _SPLIT_CODE.get(split, 0), int(series), int(attempt))


def rng_for(seed, key) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=tuple(key)))


# ------------------------------------------------------------- registry fingerprint
def system_fingerprint(system) -> str:
    """Hash of every registry field that changes a system's series or their metadata."""
    fields = {
        "name": system.name, "variables": list(system.variables),
        "parameters": {k: (list(v) if isinstance(v, tuple) else v) for k, v in system.parameters.items()},
        "definitions": [list(d) for d in system.definitions], "equations": list(system.equations),
        "initial_condition": list(system.initial_condition),
        "flags": [system.nonautonomous, system.delay, system.hamiltonian],
        "dt": system.dt, "period": system.period, "tau": system.tau,
        "embedding": getattr(system, "embedding", 1), "output": dict(system.output),
        "maximum_lyapunov": system.maximum_lyapunov,
    }
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def lyapunov_time_samples(system, pts_per_period) -> float | None:
    """Lyapunov time in samples, ``pts_per_period / (lambda_max * period)``; None when the
    registry has no positive maximum exponent yet."""
    lam = system.maximum_lyapunov
    if lam is None or not lam > 0:
        return None
    return float(pts_per_period) / (lam * system.period)


def horizon_check(config: CanonicalConfig = CANONICAL, systems=None) -> dict:
    """How many Lyapunov times the test horizon covers on the median system, and the
    smallest multiple of 100 samples that covers :data:`TARGET_LYAPUNOV_TIMES`.

    Uses the registry's exponents when at least half of the systems have one, else the
    published median (:data:`PUBLISHED_MEDIAN_LYAPUNOV_SAMPLES`, scaled to the config's
    resolution).
    """
    from ..registry import get_system, list_systems
    names = list(systems) if systems is not None else list_systems()
    values = [v for v in (lyapunov_time_samples(get_system(n), config.pts_per_period)
                          for n in names) if v is not None]
    if values and len(values) >= len(names) / 2:
        median, source = statistics.median(values), f"registry ({len(values)}/{len(names)} systems)"
    else:
        median = PUBLISHED_MEDIAN_LYAPUNOV_SAMPLES * config.pts_per_period / 100.0
        source = "published dysts invariants (registry exponents not annotated)"
    recommended = math.ceil(TARGET_LYAPUNOV_TIMES * median / 100.0) * 100
    return {"median_lyapunov_samples": median, "source": source,
            "horizon": config.horizon, "lyapunov_times": config.horizon / median,
            "recommended_horizon": recommended,
            "ok": config.horizon / median >= TARGET_LYAPUNOV_TIMES}


# ------------------------------------------------------------------- simulation
@dataclass
class Block:
    """All series of one (system, split, noise variant): ``values`` (n_series, length, dim)
    float32, ``t`` (n_series, length) float64 and the metadata recorded with them."""

    values: np.ndarray
    t: np.ndarray
    meta: dict = field(default_factory=dict)
    #: Delay systems: the scalar series the embedding re-indexes, (n_series,
    #: stored_leading_samples + length, system dim) float32 (what the files hold).
    stored: np.ndarray | None = None


def series_times(meta) -> np.ndarray:
    """Sample times (n_series, length) of a block from its metadata:
    ``time_origin[k] + dt * (time_index0[k] + arange(length))``, bitwise the times the
    generator used (the files store no time column)."""
    origin = np.asarray(meta["time_origin"], dtype=np.float64)[:, None]
    index0 = np.asarray(meta["time_index0"], dtype=np.int64)[:, None]
    return origin + float(meta["dt"]) * (index0 + np.arange(int(meta["length"]))[None, :])


def embed_stored(stored, meta) -> np.ndarray:
    """The delay embedding (n_series, length, dim * E) of stored scalar series
    (n_series, lead + length, dim): column ``m * E + j`` of row ``k`` is variable ``m`` at
    sample ``k - j L`` (``L`` = ``embedding_lag_samples``). Pure re-indexing: exact in any
    dtype."""
    E, L = int(meta["embedding"]), int(meta["embedding_lag_samples"])
    lead, length = int(meta["stored_leading_samples"]), int(meta["length"])
    n_series, rows, d = stored.shape
    if rows != lead + length or lead != (E - 1) * L:
        raise ValueError(f"{meta.get('system')}: stored series of {rows} samples do not match "
                         f"{lead} leading + {length} samples with {E} lags of {L}")
    out = np.empty((n_series, length, d * E), dtype=stored.dtype)
    for m in range(d):
        for j in range(E):
            start = lead - j * L
            out[:, :, m * E + j] = stored[:, start:start + length, m]
    return out


def supports(system) -> str | None:
    """None if the protocol can generate ``system``, else the reason it is skipped:
    :data:`EXCLUDED`, or a ``transient`` chaos label (registry ``invariants.chaos``): a
    chaotic transient that dies on an equilibrium or a cycle (or escapes) is not an
    attractor, and its test horizon would mix two regimes, so it is treated like HyperLu."""
    if system.name in EXCLUDED:
        return EXCLUDED[system.name]
    if system.chaos_label == "transient":
        from ..chaos import describe
        return ("transient chaos, not an attractor (registry invariants.chaos, "
                "dysts_bench.chaos): " + describe(system.invariants.get("chaos")))
    return None


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

"""The canonical protocol: what every series of the dataset is (its specification).

The simulation engine that produces the series is :mod:`.simulation`.

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
    standard deviation ``s_i`` (see :func:`.simulation.dynamical_noise_scale`: clock variables get
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


# ------------------------------------------------------------ series layout
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


# The simulation engine moved to .simulation; these names stay importable from here.
_MOVED = ("simulate", "add_measurement_noise", "Generated", "clock_variables", "dynamical_noise_scale")


def __getattr__(name):
    if name in _MOVED:
        from . import simulation
        return getattr(simulation, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

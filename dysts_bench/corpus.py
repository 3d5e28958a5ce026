"""Pretraining corpora for the zero-shot track, generated deterministically by seed.

For each system on the ``pretrain`` side of the held-out split
(:mod:`dysts_bench.heldout`), :func:`generate_corpus` draws parameter vectors around the
published values (draw 0 is the published vector itself; the others multiply each
parameter by ``1 + parameter_spread * N(0, 1)``), keeps a draw only if a cheap Lyapunov
check finds it chaotic (:func:`is_chaotic`; up to ``max_attempts`` redraws), and
integrates ``n_initial_conditions`` orbits from states scattered around the attractor.

Output under a user-given directory, in the dataset's file format
(:mod:`dysts_bench.dataset.store`: same Parquet schema, encoding and metadata)::

    split=pretrain/noise=none/system=Lorenz/part-0.parquet   # series = draw * n_ic + ic
    _corpus.json                                             # config, draws, hashes

Every random number comes from ``SeedSequence(seed, spawn_key=(system, draw, attempt))``
and nothing machine-dependent (timing, versions) is written, so a corpus reproduces byte
for byte from its seed on a given software stack, whatever the order or the process
(local or Dask workers) that built each system. Delay systems are left out: the cheap
check integrates tangent dynamics, which a delay system does not have here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT = "dysts-bench-corpus/1"


@dataclass(frozen=True)
class CorpusConfig:
    """What a corpus is made of; with the seed it determines every byte."""

    seed: int = 0
    n_parameter_draws: int = 4
    n_initial_conditions: int = 4
    length: int = 2000              # samples per series
    pts_per_period: float = 100.0   # samples per dominant period, as in the dataset
    parameter_spread: float = 0.05  # relative standard deviation of a parameter draw
    ic_spread: float = 0.1          # initial states: attractor point + spread * attractor std
    transient_periods: float = 10.0
    check_periods: float = 50.0     # averaging time of the Lyapunov check
    max_attempts: int = 5
    width: int = 10                 # Parquet columns x0 .. x{width-1}, as in the dataset

    def __post_init__(self):
        for name in ("n_parameter_draws", "n_initial_conditions", "length", "max_attempts", "width"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"CorpusConfig.{name} must be a positive integer")
        if not (self.pts_per_period > 0 and self.check_periods > 0 and self.transient_periods >= 0
                and self.parameter_spread >= 0 and self.ic_spread >= 0):
            raise ValueError("CorpusConfig: periods and spreads must be positive")


def _rng(seed, name, draw, attempt) -> np.random.Generator:
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(key, draw, attempt)))


def is_chaotic(spectrum, stderr, period) -> bool:
    """The check: the largest exponent is positive beyond three standard errors of its
    block means and exceeds 0.01 per dominant period (Wolf et al. 1985 on the
    significance of a finite-time estimate)."""
    lam, se = float(spectrum[0]), float(stderr[0])
    return lam > 3.0 * se and lam * period > 0.01


def draw_parameters(system, rng, spread) -> dict:
    """Each parameter (each element of a vector one) times ``1 + spread * N(0, 1)``."""
    out = {}
    for name, value in system.parameters.items():
        if isinstance(value, tuple):
            out[name] = tuple(float(v * (1 + spread * rng.standard_normal())) for v in value)
        else:
            out[name] = float(value * (1 + spread * rng.standard_normal()))
    return out


def _checked_draw(system, config, draw):
    """(parameters, Lyapunov check result, attempts) of an accepted draw, or None."""
    from .invariants import lyapunov_spectrum
    for attempt in range(config.max_attempts):
        rng = _rng(config.seed, system.name, draw, attempt)
        if draw == 0 and attempt == 0:
            params = dict(system.parameters)
        else:
            params = draw_parameters(system, rng, config.parameter_spread)
        try:
            check = lyapunov_spectrum(system.with_parameters(**params), k=1,
                                      n_periods=config.check_periods,
                                      transient_periods=config.transient_periods)
        except (ArithmeticError, ValueError, RuntimeError):
            continue  # the orbit escapes or the integrator gives up: not a usable draw
        if is_chaotic(check["spectrum"], check["stderr"], system.period):
            return params, check, attempt + 1
    return None


def corpus_block(name, config: CorpusConfig):
    """(Block or None, record) of one system: every accepted draw's orbits."""
    from .dataset.protocol import Block
    from .registry import get_system
    from .solvers import IntegrationError
    from .trajectory import make_trajectory
    system = get_system(name)
    if system.delay:
        return None, {"status": "skipped", "reason": "delay system (no tangent dynamics)"}
    series, draws = [], []
    for draw in range(config.n_parameter_draws):
        accepted = _checked_draw(system, config, draw)
        if accepted is None:
            draws.append({"draw": draw, "status": "rejected", "attempts": config.max_attempts})
            continue
        params, check, attempts = accepted
        start = np.asarray(check["start_state"], dtype=np.float64)
        _, probe = make_trajectory(system, 500, pts_per_period=20, ic=start, params=params)
        rng = _rng(config.seed, name, draw, config.max_attempts)  # the initial states' own stream
        ics = probe[-1] + config.ic_spread * probe.std(axis=0) * rng.standard_normal(
            (config.n_initial_conditions, system.dim))
        try:
            _, y = make_trajectory(system, config.length, pts_per_period=config.pts_per_period,
                                   transient=config.transient_periods, ic=ics, params=params)
        except IntegrationError as exc:  # a perturbed start the integrator cannot follow
            draws.append({"draw": draw, "status": "rejected", "reason": f"integration failed: {exc}"})
            continue
        if not np.all(np.isfinite(y)):
            draws.append({"draw": draw, "status": "rejected", "reason": "orbit not finite"})
            continue
        series.append(y)
        draws.append({"draw": draw, "status": "ok", "attempts": attempts,
                      "parameters": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
                      "maximum_lyapunov": float(check["spectrum"][0]),
                      "initial_conditions": ics.tolist()})
    record = {"status": "ok" if series else "failed", "draws": draws}
    if not series:
        return None, record
    values = np.concatenate(series).astype(np.float32)
    n_series = values.shape[0]
    dt = system.period / config.pts_per_period
    meta = {"system": name, "split": "pretrain", "noise": "none", "kind": "corpus",
            "n_series": n_series, "length": config.length, "dim": system.dim,
            "stored_dim": system.dim, "stored_leading_samples": 0, "delay": False,
            "dt": dt, "pts_per_period": config.pts_per_period, "variables": list(system.variables),
            "time_origin": [config.transient_periods * system.period] * n_series,
            "time_index0": [0] * n_series, "lyapunov_time_samples": None,
            "generator_version": FORMAT, "protocol_version": FORMAT,
            "corpus_config": dataclasses.asdict(config), "draws": draws}
    from .dataset.protocol import series_times
    return Block(values, series_times(meta), meta), record


def _build(out_dir, config_dict, name):
    """One system's file and record (a top-level function, so Dask can ship it)."""
    from .dataset.store import write_block
    config = CorpusConfig(**config_dict)
    block, record = corpus_block(name, config)
    files = {}
    if block is not None:
        rel, rec = write_block(out_dir, block, config.width)
        files[rel] = rec
        record["files"] = [rel]
    return name, record, files


def generate_corpus(out_dir, config: CorpusConfig = CorpusConfig(), systems=None,
                    client=None) -> dict:
    """Write a pretraining corpus to ``out_dir`` (created); returns its manifest.

    ``systems`` defaults to the pretraining side of the held-out split (never the
    held-out systems: asking for one raises). ``client``: a Dask ``distributed.Client``
    (or anything with ``submit`` returning futures with ``result()``) to build systems in
    parallel; the bytes do not depend on it.
    """
    from .dataset.store import atomic_write
    from .heldout import load_split, side_systems
    pretrain = side_systems("pretrain")
    names = sorted(pretrain if systems is None else systems)
    leaked = sorted(set(names) - set(pretrain))
    if leaked:
        raise ValueError(f"not on the pretraining side of the held-out split: {leaked}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = dataclasses.asdict(config)
    if client is None:
        results = [_build(str(out_dir), cfg, n) for n in names]
    else:
        results = [f.result() for f in [client.submit(_build, str(out_dir), cfg, n, pure=False)
                                        for n in names]]
    manifest = {"format": FORMAT, "config": cfg, "heldout_split_version": load_split()["version"],
                "layout": "split=pretrain/noise=none/system={system}/part-0.parquet",
                "systems": {}, "files": {}}
    for name, record, files in sorted(results, key=lambda r: r[0]):
        manifest["systems"][name] = record
        manifest["files"].update(files)
    atomic_write(out_dir / "_corpus.json", json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def read_corpus(out_dir) -> dict:
    """{system: Block} of a generated corpus (values (n_series, length, dim) float32)."""
    from .dataset.store import read_block
    out_dir = Path(out_dir)
    manifest = json.loads((out_dir / "_corpus.json").read_text())
    return {rec["system"]: read_block(out_dir / rel) for rel, rec in manifest["files"].items()}


# ---------------------------------------------------------------------------
# Reading a corpus where forecasters run (zero-shot track)
# ---------------------------------------------------------------------------

def _manifest_of(path: Path) -> tuple[dict, bytes]:
    file = Path(path) / "_corpus.json"
    try:
        raw = file.read_bytes()
        manifest = json.loads(raw)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{file}: not a corpus manifest ({exc}); make one with `dysts-bench corpus`") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT \
            or not isinstance(manifest.get("files"), dict) or not isinstance(manifest.get("config"), dict):
        raise ValueError(f"{file}: not a {FORMAT} manifest; make one with `dysts-bench corpus`")
    return manifest, raw


class Corpus:
    """A generated corpus as ``Forecaster.pretrain`` receives it.

    It is the corpus directory (``os.fspath(corpus)``, :attr:`path`) with its manifest
    read: :attr:`id` (first 16 hex digits of the manifest's sha256: the corpus reproduces
    byte for byte from its seed, so equal ids mean equal data), :attr:`seed`,
    :attr:`systems`, and :meth:`series`, a reader that needs only pyarrow: worker hosts
    may not import :mod:`dysts_bench.dataset` (the guard blocks it), so this reads the
    dataset's Parquet layout directly (no delay systems in a corpus: plain columns).
    """

    def __init__(self, path):
        self.path = Path(path)
        self.manifest, raw = _manifest_of(self.path)
        self.id = hashlib.sha256(raw).hexdigest()[:16]
        self.seed = int(self.manifest["config"].get("seed", 0))
        self.systems = sorted({rec["system"] for rec in self.manifest["files"].values()})

    def __fspath__(self) -> str:
        return str(self.path)

    def __repr__(self):
        return f"Corpus({str(self.path)!r}, id={self.id}, seed={self.seed}, systems={len(self.systems)})"

    def series(self):
        """Yield ``(system, values, meta)`` per file: values (n_series, length, dim) float32,
        ``meta`` the file's metadata (``dt``, ``pts_per_period``, ``variables``, ``draws``)."""
        import pyarrow.parquet as pq
        for rel, rec in sorted(self.manifest["files"].items()):
            table = pq.ParquetFile(self.path / rel).read()
            meta = json.loads(table.schema.metadata[b"dysts_bench"])
            n, length, dim = int(meta["n_series"]), int(meta["length"]), int(meta["stored_dim"])
            values = np.stack([table.column(f"x{i}").to_numpy() for i in range(dim)], axis=1)
            yield rec["system"], values.astype(np.float32, copy=False).reshape(n, length, dim), meta


def corpus_record(path) -> dict:
    """What a zero-shot record says about the corpus: id, seed, held-out split version and
    whether it is disjoint from the held-out systems (checked here: none of its systems is
    held out, and it was drawn against the current split's version)."""
    from .heldout import load_split, side_systems
    corpus = Corpus(path)
    held = set(side_systems("heldout"))
    version = load_split()["version"]
    leaked = sorted(set(corpus.systems) & held)
    same_split = corpus.manifest.get("heldout_split_version") == version
    return {"id": corpus.id, "seed": corpus.seed, "systems": len(corpus.systems), "heldout_split_version": corpus.manifest.get("heldout_split_version"),
            "disjoint": not leaked and same_split, "heldout_systems_in_corpus": leaked}

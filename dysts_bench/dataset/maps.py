"""The ``maps`` split: forecasting series of the discrete maps, shipped in the package.

It is a dataset root of its own (``dysts_bench/data_maps``) in exactly the format of the
flows' dataset (:mod:`~dysts_bench.dataset.store`: same Parquet schema, metadata and
``_manifest.json``), so every reader of this package reads it with ``root=maps_root()``;
``load_dataset("maps")`` is a shortcut for its test series.

Protocol (:data:`MAPS_CONFIG`; one sample = one iteration, so ``dt`` = 1):

* train: one series of ``context_length + validation_length`` iterates from the
  published initial condition (the time index is the iteration number);
* test: ``n_test`` series of ``context_length + horizon`` iterates, the disjoint windows
  of the same orbit starting ``gap`` iterations after the train series ends, one every
  ``2 * test_length`` iterations (no random draw: a map's orbit is cheap to reproduce);
* the horizon of 100 iterations covers 17 to 180 Lyapunov times of the chaotic maps;
* no noise variants (the maps track is clean; measurement noise can be derived).

Maps whose orbit leaves the finite numbers are recorded with ``status: failed``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .protocol import (FORMAT, GENERATOR_VERSION, PROTOCOL_VERSION, Block, CanonicalConfig,
                       system_fingerprint)
from .store import new_manifest, save_manifest, write_block

#: The maps split's configuration (the fields that do not apply to maps keep their defaults).
MAPS_CONFIG = CanonicalConfig(pts_per_period=1.0, context_length=1000, validation_length=100,
                              horizon=100, n_test=3, gap=100, stored_noise=("none",))


def maps_root() -> Path:
    """Where the shipped maps split lives (inside the package)."""
    return Path(__file__).resolve().parent.parent / "data_maps"


def _meta(system, config, split, starts, length, orbit, lo, hi) -> dict:
    """The metadata of one block, with the keys and meaning of the flows' blocks."""
    stats = orbit[lo:hi]
    lam = system.maximum_lyapunov
    return {
        "attractor_mean": stats.mean(axis=0).tolist(), "attractor_std": stats.std(axis=0).tolist(),
        "canonical": False, "columns": [f"x{i}" for i in range(system.dim)],
        "config_hash": config.fingerprint, "context_length": config.context_length,
        "delay": False, "dim": system.dim, "dt": 1.0, "dynamical_noise_scale": None,
        "evaluation": "maps", "format": FORMAT, "generator_version": GENERATOR_VERSION,
        "horizon": config.horizon if split == "test" else config.validation_length,
        "initial_conditions": [orbit[s].tolist() for s in starts], "integrator": {"method": "iteration"},
        "kind": "map", "length": length,
        "lyapunov_time_samples": 1.0 / lam if lam and lam > 0 else None,
        "maximum_lyapunov": lam, "n_series": len(starts), "noise": "none", "noise_level": 0.0,
        "nonautonomous": False, "orbit_index": [int(s) for s in starts], "period": 1.0,
        "protocol_version": PROTOCOL_VERSION, "pts_per_period": 1.0,
        "registry_hash": system_fingerprint(system), "seed": config.seed, "split": split,
        "state_std": stats.std(axis=0).tolist(), "stored_dim": system.dim,
        "stored_leading_samples": 0, "system": system.name, "t0": [float(s) for s in starts],
        "tau": None, "time_index0": [int(s) for s in starts], "time_origin": [0.0] * len(starts),
        "variables": list(system.variables),
    }


def map_blocks(name, config: CanonicalConfig = MAPS_CONFIG) -> dict:
    """{split: Block} of one map under the maps protocol (in memory)."""
    from ..maps import iterate_map
    from ..registry import get_system
    system = get_system(name)
    c = config
    pool_start = c.train_length + c.gap
    starts = {"train": [0], "test": [pool_start + k * c.block for k in range(c.n_test)]}
    orbit = iterate_map(system, pool_start + c.n_test * c.block)
    lo, hi = pool_start, pool_start + c.n_test * c.block
    blocks = {}
    for split, first in starts.items():
        length = c.length(split)
        values = np.stack([orbit[s:s + length] for s in first]).astype(np.float32)
        t = np.stack([np.arange(s, s + length, dtype=np.float64) for s in first])
        blocks[split] = Block(values, t, _meta(system, c, split, first, length, orbit, lo, hi))
    return blocks


def generate_maps(root=None, names=None, config: CanonicalConfig = MAPS_CONFIG) -> dict:
    """Write the maps split (default: the shipped one) and its manifest; returns the manifest."""
    from ..registry import get_system, list_systems
    root = Path(root) if root is not None else maps_root()
    manifest = new_manifest(config)
    manifest["canonical"] = False
    manifest["kind"] = "map"
    for name in names or list_systems(kind="map"):
        record = {"status": "ok", "registry_hash": system_fingerprint(get_system(name)),
                  "generator_version": GENERATOR_VERSION, "files": [], "derived": {},
                  "unavailable": {"measurement": "not stored for maps",
                                  "dynamical": "not defined for maps"}}
        try:
            blocks = map_blocks(name, config)
        except FloatingPointError as exc:
            record.update(status="failed", reason=str(exc))
        else:
            for split, block in blocks.items():
                rel, rec = write_block(root, block, config.width, config.compression_level)
                manifest["files"][rel] = rec
                record["files"].append(rel)
            record["dim"] = get_system(name).dim
        manifest["systems"][name] = record
    save_manifest(root, manifest)
    return manifest

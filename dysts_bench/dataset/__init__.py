"""The dysts-bench dataset: canonical Parquet splits, regenerable at any resolution.

Public API
----------
:class:`CanonicalConfig`, :data:`CANONICAL`, :data:`PROTOCOL_VERSION`
    The versioned generator configuration; the defaults are the canonical protocol
    (documented in :mod:`dysts_bench.dataset.protocol`).
:func:`load_dataset`, :func:`load_metadata`, :func:`load_train`, :func:`available_systems`
    Read the shipped files (or any dataset root).
:func:`iter_tasks`, :class:`Task`
    Forecasting tasks for the benchmark (canonical files, or fresh initial conditions).
:func:`generate`, :func:`verify`
    Write a dataset locally or on Dask (resumable); check files against the manifest.
:func:`simulate`
    The series of one system in memory, exactly as they would be written.
:func:`add_cli`
    Registers ``dysts-bench generate`` and ``dysts-bench verify``.

Regenerate the shipped dataset: ``python -m dysts_bench.dataset --canonical`` (or
``dysts-bench generate --canonical``).
"""

from .cli import add_cli
from .generator import default_root, generate
from .load import (DatasetError, Task, available_systems, config_of, iter_tasks, load_block,
                   load_dataset, load_metadata, load_train, manifest)
from .protocol import (CANONICAL, GENERATOR_VERSION, NOISE_KINDS, PROTOCOL_VERSION, SPLITS,
                       Block, CanonicalConfig, horizon_check)
from .simulation import simulate
from .store import VerifyReport, verify

__all__ = [
    "CANONICAL", "GENERATOR_VERSION", "NOISE_KINDS", "PROTOCOL_VERSION", "SPLITS",
    "Block", "CanonicalConfig", "DatasetError", "Task", "VerifyReport",
    "add_cli", "available_systems", "config_of", "default_root", "generate", "horizon_check",
    "iter_tasks", "load_block", "load_dataset", "load_metadata", "load_train", "manifest",
    "simulate", "verify",
]

"""Load and validate ``maps.json``: the discrete maps of the registry (kind ``map``).

A map entry is a flow entry without the time-step fields: each equation gives the *next*
value of its variable, ``x_{n+1} = f(x_n)``, in the same expression language. Validation
is the registry's own (:func:`registry.parse_entry`): the entry is completed with the
fields a map does not need (no flags, a unit step and period: one iteration) and parsed,
so a malformed map fails with the same :class:`RegistryError` naming the map and field.

Entry format::

    "Henon": {
      "description": "...", "citation": "...",
      "variables": ["x", "y"], "parameters": {"a": 1.4, "b": 0.3},
      "definitions": [...],                          # optional, as for flows
      "equations": {"x": "1 - a*x**2 + y", "y": "b*x"},
      "initial_condition": [...],
      "invariants": {...}, "notes": "..."            # optional
    }
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .registry import Registry, RegistryError, System, format_registry, parse_entry, read_registry_file

_FIELDS = ("description", "citation", "variables", "parameters", "definitions", "equations",
           "initial_condition", "invariants", "notes", "deviates_from_reference")


@dataclass(frozen=True, eq=False)
class MapSystem(System):
    """A discrete map: ``equations`` are the next values, ``dt`` and ``period`` are 1
    (one iteration)."""

    @property
    def kind(self) -> str:
        return "map"


def default_maps_path() -> Path:
    """``$DYSTS_BENCH_MAPS`` or the package's ``maps.json``."""
    return Path(os.environ.get("DYSTS_BENCH_MAPS", Path(__file__).resolve().parent / "maps.json"))


def parse_map_entry(name: str, entry) -> MapSystem:
    """Validate one raw map entry with the registry's checks and build its :class:`MapSystem`."""
    if not isinstance(entry, dict):
        raise RegistryError(f"map {name!r}: entry must be an object")
    extra = sorted(set(entry) - set(_FIELDS))
    if extra:
        raise RegistryError(f"map {name!r}, field '{extra[0]}': unknown field")
    as_flow = dict(entry, dt=1.0, period=1.0,
                   flags={"nonautonomous": False, "delay": False, "hamiltonian": False})
    system = parse_entry(name, as_flow)
    fields = {f: getattr(system, f) for f in System.__dataclass_fields__}
    return MapSystem(**fields)


def load_maps(path: str | Path | None = None) -> Registry:
    """Read and validate a maps file (default: the package's ``maps.json``)."""
    return read_registry_file(Path(path) if path is not None else default_maps_path(), parse_map_entry)


@lru_cache(maxsize=4)
def _cached(path: str, mtime: float) -> Registry:
    return load_maps(path)


def map_registry() -> Registry:
    """The default maps, loaded once per process (reloaded if the file changes)."""
    path = default_maps_path()
    return _cached(str(path), path.stat().st_mtime)


def write_maps(raw: dict, path: str | Path) -> None:
    """Validate ``raw`` and write it atomically to ``path``."""
    for name, entry in raw["systems"].items():
        parse_map_entry(name, entry)
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(format_registry(raw))
    os.replace(tmp, path)

"""Load and validate ``systems.json``: the registry of chaotic systems.

Each entry is data plus its citation. Loading checks every field and every equation,
and a malformed entry fails with a :class:`RegistryError` that names the system and the
field at fault. The records are immutable; :func:`get_system` and :func:`list_systems`
are the public entry points.

Entry format (all keys but the optional ones are required)::

    "Lorenz": {
      "description": "...", "citation": "Lorenz, E. N. (1963) ...",
      "variables": ["x", "y", "z"],
      "parameters": {"sigma": 10.0, "rho": 28.0, "beta": 2.6666666666666665},
      "definitions": [["r", "x*x + y*y"]],          # optional, ordered auxiliaries
      "equations": {"x": "sigma*(y - x)", "y": "...", "z": "..."},
      "initial_condition": [...],                   # a point on the attractor
      "flags": {"nonautonomous": false, "delay": false, "hamiltonian": false},
      "dt": 0.001, "period": 0.75,                  # integration step, dominant period
      "delay": {"tau": "tau", "embedding": 10},     # delay systems only (optional)
      "output": {"z": "sin(z)"},                    # optional observation of some variables
      "conserved": {"energy": "..."},               # optional conserved quantities
      "invariants": {...},                          # optional, written by `annotate`
      "notes": "...",                               # optional
      "deviates_from_reference": "..."              # optional: why the right-hand side
    }                                               # differs from the dysts package
"""

from __future__ import annotations

import difflib
import re
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from . import expressions as ex
from .atomic import atomic_write

_REQUIRED = ("description", "citation", "variables", "parameters", "equations",
             "initial_condition", "flags", "dt", "period")
_OPTIONAL = ("definitions", "delay", "output", "conserved", "invariants", "notes",
             "deviates_from_reference")
_FLAGS = ("nonautonomous", "delay", "hamiltonian")


class RegistryError(ValueError):
    """A malformed registry entry; the message names the system and the field."""


#: System names: a letter, then letters, digits or underscores (they become file names
#: and path components of the dataset, so nothing like ``../`` or ``/`` can pass).
SYSTEM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def check_system_name(name) -> str:
    """Return ``name`` if it is a valid system name, else raise :class:`RegistryError`."""
    if not isinstance(name, str) or not SYSTEM_NAME.fullmatch(name):
        raise RegistryError(f"invalid system name {str(name)[:80]!r}: a letter, then up to 63 "
                            "letters, digits or underscores")
    return name


class UnknownSystemError(KeyError):
    """A system name that is not in the registry."""

    def __str__(self):  # KeyError would quote the whole message
        return str(self.args[0])


@dataclass(frozen=True, eq=False)
class System:
    """One validated registry entry.

    Attributes
    ----------
    name : str
    variables : tuple of str, length ``dim``
    parameters : mapping of str to float or tuple of float
    definitions : tuple of (name, expression text) pairs, evaluated in order
    equations : tuple of expression texts, one per variable (``d variable / dt``)
    initial_condition : tuple of float, length ``dim``
    dt : float
        Integration time step hint and the spacing of unresampled output (time units).
    period : float
        Dominant period (time units); resampling uses ``period / pts_per_period``.
    """

    name: str
    description: str
    citation: str
    variables: tuple
    parameters: Mapping
    definitions: tuple
    equations: tuple
    initial_condition: tuple
    nonautonomous: bool
    delay: bool
    hamiltonian: bool
    dt: float
    period: float
    tau: float | None = None
    tau_parameter: str | None = None
    embedding: int = 1
    output: Mapping = field(default_factory=dict)
    conserved: Mapping = field(default_factory=dict)
    invariants: Mapping = field(default_factory=dict)
    notes: str = ""
    deviates_from_reference: str = ""

    @property
    def dim(self) -> int:
        return len(self.variables)

    @property
    def kind(self) -> str:
        """``flow`` here; ``map`` for the discrete maps (:mod:`dysts_bench.map_registry`)."""
        return "flow"

    @cached_property
    def scope(self) -> ex.Scope:
        sizes = {k: (len(v) if isinstance(v, tuple) else 0) for k, v in self.parameters.items()}
        return ex.Scope(self.variables, sizes, delay=self.delay)

    @cached_property
    def parameter_layout(self) -> dict:
        """Offset of each parameter in :meth:`parameter_vector`."""
        offsets, pos = {}, 0
        for name, value in self.parameters.items():
            offsets[name] = pos
            pos += len(value) if isinstance(value, tuple) else 1
        return offsets

    def parameter_vector(self, **overrides) -> np.ndarray:
        """Parameters flattened into one float64 array (the compiled functions' ``p``)."""
        unknown = set(overrides) - set(self.parameters)
        if unknown:
            raise RegistryError(f"{self.name}: unknown parameter(s) {sorted(unknown)}")
        values = []
        for name, value in self.parameters.items():
            value = overrides.get(name, value)
            if isinstance(self.parameters[name], tuple):
                value = tuple(value)
                if len(value) != len(self.parameters[name]):
                    raise RegistryError(f"{self.name}: parameter '{name}' needs "
                                        f"{len(self.parameters[name])} values")
                values.extend(value)
            else:
                values.append(value)
        return np.asarray(values, dtype=np.float64)

    @cached_property
    def trees(self):
        """Parsed (definitions, equations): lists of expression trees."""
        return _parse_system(self)

    @cached_property
    def discontinuous(self) -> bool:
        """Whether the right-hand side can jump (see :func:`expressions.is_discontinuous`)."""
        defs, eqs = self.trees
        return any(ex.is_discontinuous(t) for t in [*defs, *eqs])

    @property
    def maximum_lyapunov(self) -> float | None:
        value = self.invariants.get("maximum_lyapunov")
        return float(value) if value is not None else None

    @property
    def chaos_label(self) -> str:
        """``chaotic``, ``transient``, ``not_chaotic`` or ``undetermined`` (the default while
        ``annotate`` has not classified the system); evidence in ``invariants["chaos"]``."""
        return str(self.invariants.get("chaos", {}).get("label", "undetermined"))

    @property
    def lyapunov_time(self) -> float | None:
        lam = self.maximum_lyapunov
        return 1.0 / lam if lam and lam > 0 else None

    def with_parameters(self, **overrides) -> "System":
        """A copy with some parameter values replaced (validated); a map stays a map."""
        self.parameter_vector(**overrides)  # validates names and lengths
        params = dict(self.parameters)
        for k, v in overrides.items():
            params[k] = tuple(float(x) for x in v) if isinstance(params[k], tuple) else float(v)
        return replace(self, parameters=MappingProxyType(params),
                       invariants=MappingProxyType({}))


# ---------------------------------------------------------------------------- loading
def default_path() -> Path:
    """Where ``systems.json`` is: ``$DYSTS_BENCH_SYSTEMS``, inside the installed wheel,
    or at the root of a source checkout."""
    env = os.environ.get("DYSTS_BENCH_SYSTEMS")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for candidate in (here / "systems.json", here.parent / "systems.json"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("systems.json not found next to the package or at the repository root")


class Registry(Mapping):
    """An immutable, ordered mapping from system name to :class:`System`."""

    def __init__(self, systems: Mapping[str, System], path: Path | None = None):
        self._systems = dict(systems)
        self.path = path

    def __getitem__(self, name: str) -> System:
        try:
            return self._systems[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._systems), n=5, cutoff=0.5)
            folded = [n for n in self._systems if n.lower() == str(name).lower()]
            hint = folded or close
            raise UnknownSystemError(
                f"unknown system {name!r}" + (f"; did you mean {', '.join(hint)}?" if hint
                                              else "; run `dysts-bench systems` for the list")
            ) from None

    def __iter__(self):
        return iter(self._systems)

    def __len__(self):
        return len(self._systems)


def load_registry(path: str | Path | None = None) -> Registry:
    """Read and validate a registry file (default: the package's ``systems.json``)."""
    return read_registry_file(Path(path) if path is not None else default_path(), parse_entry)


def read_registry_file(path: Path, parse) -> Registry:
    """A registry file (``systems.json``, ``maps.json``): an object whose ``systems`` maps
    names to entries, each validated by ``parse(name, entry)``."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:  # invalid JSON or invalid UTF-8
        raise RegistryError(f"{path}: not valid JSON ({exc})") from None
    entries = raw.get("systems") if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        raise RegistryError(f"{path}: expected an object with a 'systems' object")
    return Registry({name: parse(name, entry) for name, entry in entries.items()}, path)


@lru_cache(maxsize=4)
def _cached_default(path: str, mtime: float) -> Registry:
    return load_registry(path)


def registry() -> Registry:
    """The default registry, loaded once per process (reloaded if the file changes)."""
    path = default_path()
    return _cached_default(str(path), path.stat().st_mtime)


def get_system(name_or_system: str | System) -> System:
    """Look a system up by name (a :class:`System` is returned as is)."""
    if isinstance(name_or_system, System):
        return name_or_system
    flows = registry()
    if name_or_system not in flows:
        from .map_registry import map_registry  # the maps share the namespace
        if name_or_system in map_registry():
            return map_registry()[name_or_system]
    return flows[name_or_system]


def list_systems(**filters) -> list[str]:
    """Names of the registered systems, optionally filtered.

    Filters compare attributes of :class:`System`, e.g. ``list_systems(dim=4)``,
    ``list_systems(delay=True)``. Without a ``kind`` filter the flows are listed (the
    canonical benchmark); ``kind="map"`` lists the discrete maps of ``maps.json``.
    """
    pool = dict(registry())
    if "kind" in filters:
        from .map_registry import map_registry
        pool.update(map_registry())
    out = []
    for name, system in pool.items():
        if all(_matches(getattr(system, key, None), value) for key, value in filters.items()):
            out.append(name)
    return out


def _matches(actual, wanted) -> bool:
    if isinstance(wanted, str) and not isinstance(actual, str):
        if isinstance(actual, bool):
            return str(actual).lower() == wanted.lower()
        try:
            return float(actual) == float(wanted)
        except (TypeError, ValueError):
            return False
    return actual == wanted


# ------------------------------------------------------------------------- validation
def _fail(name, fld, msg):
    raise RegistryError(f"system {name!r}, field '{fld}': {msg}")


def _number(name, fld, value, positive=False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(name, fld, f"expected a number, got {value!r}")
    if not math.isfinite(value):
        _fail(name, fld, f"non-finite number {value!r}")
    if positive and value <= 0:
        _fail(name, fld, f"must be positive, got {value!r}")
    return float(value)


def _identifier(name, fld, ident, taken):
    if not isinstance(ident, str) or not ident.isidentifier() or ident.startswith("_"):
        _fail(name, fld, f"{ident!r} is not a valid name")
    if ident in ex.RESERVED:
        _fail(name, fld, f"{ident!r} is a reserved name")
    if ident in taken:
        _fail(name, fld, f"name {ident!r} is used twice")
    taken.add(ident)


def parse_entry(name: str, entry: Any) -> System:
    """Validate one raw JSON entry and build its :class:`System`."""
    _check_fields(name, entry)
    variables, parameters, definitions = _parse_names(name, entry)
    equations = entry["equations"]
    if not isinstance(equations, dict):
        _fail(name, "equations", "must be an object mapping each variable to its derivative")
    if list(equations) != list(variables):
        _fail(name, "equations", f"keys {list(equations)} must be the variables {variables} in order")
    ic = entry["initial_condition"]
    if not isinstance(ic, list) or len(ic) != len(variables):
        _fail(name, "initial_condition",
              f"needs {len(variables)} numbers (one per variable), got "
              f"{len(ic) if isinstance(ic, list) else type(ic).__name__}")
    ic = tuple(_number(name, "initial_condition", v) for v in ic)
    flags = entry["flags"]
    if not isinstance(flags, dict) or set(flags) != set(_FLAGS) \
            or not all(isinstance(v, bool) for v in flags.values()):
        _fail(name, "flags", f"must give true/false for exactly {list(_FLAGS)}")
    tau, tau_parameter, embedding = _parse_delay(name, entry, flags, parameters)
    output, conserved, invariants, notes, deviation = _parse_annotations(name, entry, variables)
    system = System(
        name=name, description=entry["description"], citation=entry["citation"],
        variables=tuple(variables), parameters=MappingProxyType(parameters),
        definitions=tuple((a, e) for a, e in definitions),
        equations=tuple(equations[v] for v in variables), initial_condition=ic,
        nonautonomous=flags["nonautonomous"], delay=flags["delay"],
        hamiltonian=flags["hamiltonian"],
        dt=_number(name, "dt", entry["dt"], positive=True),
        period=_number(name, "period", entry["period"], positive=True),
        tau=tau, tau_parameter=tau_parameter, embedding=embedding, output=MappingProxyType(dict(output)), conserved=MappingProxyType(dict(conserved)),
        invariants=MappingProxyType(invariants), notes=notes, deviates_from_reference=deviation,
    )
    _check_expressions(system)
    return system


def _check_fields(name: str, entry) -> None:
    """The entry is an object with every required field, no unknown one, and its texts."""
    check_system_name(name)
    if not isinstance(entry, dict):
        raise RegistryError(f"system {name!r}: entry must be an object")
    for key in _REQUIRED:
        if key not in entry:
            _fail(name, key, "missing")
    extra = set(entry) - set(_REQUIRED) - set(_OPTIONAL)
    if extra:
        _fail(name, sorted(extra)[0], "unknown field")
    for key in ("description", "citation"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            _fail(name, key, "must be a non-empty string")


def _parse_names(name: str, entry) -> tuple[list, dict, list]:
    """Variables, parameters (numbers or vectors) and definitions: every name used once."""
    taken: set = set()
    variables = entry["variables"]
    if not isinstance(variables, list) or not variables:
        _fail(name, "variables", "must be a non-empty list of names")
    for v in variables:
        _identifier(name, "variables", v, taken)
    params = entry["parameters"]
    if not isinstance(params, dict):
        _fail(name, "parameters", "must be an object")
    parameters = {}
    for key, value in params.items():
        _identifier(name, f"parameters.{key}", key, taken)
        if isinstance(value, list):
            if not value:
                _fail(name, f"parameters.{key}", "empty vector")
            parameters[key] = tuple(_number(name, f"parameters.{key}", v) for v in value)
        else:
            parameters[key] = _number(name, f"parameters.{key}", value)
    definitions = entry.get("definitions", [])
    if not isinstance(definitions, list) or not all(
            isinstance(d, list) and len(d) == 2 and all(isinstance(s, str) for s in d)
            for d in definitions):
        _fail(name, "definitions", "must be a list of [name, expression] pairs")
    for aux, _ in definitions:
        _identifier(name, "definitions", aux, taken)
    return variables, parameters, definitions


def _parse_delay(name: str, entry, flags, parameters) -> tuple:
    """(tau, the parameter that holds it or None, embedding) of a delay system."""
    if not flags["delay"]:
        if "delay" in entry:
            _fail(name, "delay", "given but flags.delay is false")
        return None, None, 1
    delay = entry.get("delay")
    if not isinstance(delay, dict) or "tau" not in delay:
        _fail(name, "delay", "a delay system needs {'tau': parameter name or number}")
    tau_spec, tau_parameter = delay["tau"], None
    if isinstance(tau_spec, str):
        if not isinstance(parameters.get(tau_spec), float):
            _fail(name, "delay.tau", f"{tau_spec!r} is not a scalar parameter")
        tau, tau_parameter = parameters[tau_spec], tau_spec
    else:
        tau = _number(name, "delay.tau", tau_spec)
    if tau <= 0:
        _fail(name, "delay.tau", "must be positive")
    embedding = delay.get("embedding", 1)
    if type(embedding) is not int or embedding < 1:
        _fail(name, "delay.embedding", "must be a positive integer")
    return tau, tau_parameter, embedding


def _parse_annotations(name: str, entry, variables) -> tuple:
    """output, conserved, invariants, notes and deviates_from_reference, checked."""
    output = entry.get("output", {})
    if not isinstance(output, dict) or not all(isinstance(v, str) for v in output.values()) \
            or not set(output) <= set(variables):
        _fail(name, "output", "must map some of the variables to expressions")
    conserved = entry.get("conserved", {})
    if not isinstance(conserved, dict) or not all(isinstance(v, str) for v in conserved.values()):
        _fail(name, "conserved", "must map names to expressions")
    invariants = entry.get("invariants", {})
    if not isinstance(invariants, dict):
        _fail(name, "invariants", "must be an object")
    _check_invariants(name, invariants, len(variables))
    notes = entry.get("notes", "")
    deviation = entry.get("deviates_from_reference", "")
    for key, value in (("notes", notes), ("deviates_from_reference", deviation)):
        if not isinstance(value, str):
            _fail(name, key, "must be a string")
    return output, conserved, invariants, notes, deviation


def _check_expressions(system: System) -> None:
    """Parse every expression now, so that errors surface at load, naming the field."""
    name = system.name
    defs, eqs = system.trees
    if not system.nonautonomous and any(_uses_time(t) for t in [*defs, *eqs]):
        _fail(name, "flags.nonautonomous", "equations use 't' but the system is flagged autonomous")
    for key in system.conserved:
        try:
            conserved_tree(system, key)
        except ex.ExpressionError as exc:
            _fail(name, f"conserved.{key}", str(exc))
    for var in system.output:
        try:
            output_tree(system, var)
        except ex.ExpressionError as exc:
            _fail(name, f"output.{var}", str(exc))


CHAOS_LABELS = ("chaotic", "transient", "not_chaotic", "undetermined")


def _check_invariants(name, inv, dim):
    chaos = inv.get("chaos")
    if chaos is not None and (not isinstance(chaos, dict) or chaos.get("label") not in CHAOS_LABELS):
        _fail(name, "invariants.chaos", f"must be an object whose label is one of {CHAOS_LABELS}")
    spectrum = inv.get("lyapunov_spectrum")
    if spectrum is not None:
        if not isinstance(spectrum, list) or not spectrum:
            _fail(name, "invariants.lyapunov_spectrum", "must be a non-empty list")
        for v in spectrum:
            _number(name, "invariants.lyapunov_spectrum", v)
    for key in ("maximum_lyapunov", "kaplan_yorke_dimension", "correlation_dimension"):
        if inv.get(key) is not None:
            _number(name, f"invariants.{key}", inv[key])


def _parse_system(system: System):
    aux_names: list[str] = []
    defs = []
    for aux, text in system.definitions:
        scope = ex.Scope(system.variables, system.scope.params, aux_names, system.delay)
        try:
            defs.append(ex.parse(text, scope))
        except ex.ExpressionError as exc:
            _fail(system.name, f"definitions.{aux}", str(exc))
        aux_names.append(aux)
    scope = ex.Scope(system.variables, system.scope.params, aux_names, system.delay)
    eqs = []
    for var, text in zip(system.variables, system.equations):
        try:
            eqs.append(ex.parse(text, scope))
        except ex.ExpressionError as exc:
            _fail(system.name, f"equations.{var}", str(exc))
    return defs, eqs


def conserved_tree(system: System, key: str):
    """Parsed tree of a conserved quantity (may use the system's definitions)."""
    aux = [a for a, _ in system.definitions]
    scope = ex.Scope(system.variables, system.scope.params, aux, system.delay)
    return ex.parse(system.conserved[key], scope)


def output_tree(system: System, var: str):
    """Parsed tree of the observation of ``var`` (a function of the state and parameters)."""
    return ex.parse(system.output[var], ex.Scope(system.variables, system.scope.params))


def evaluate_on_states(system: System, tree, y, t=0.0):
    """Evaluate a tree of ``system`` on states ``y`` of shape (..., dim) with numpy."""
    env = {v: y[..., i] for i, v in enumerate(system.variables)}
    env.update(system.parameters)
    env["t"] = t
    return ex.evaluate(tree, env)


def _uses_time(node) -> bool:
    if node[0] == "sym":
        return node[1] == "time"
    return any(_uses_time(c) for c in ex._children(node))


# ---------------------------------------------------------------------------- writing
def format_registry(raw: dict) -> str:
    """The canonical text of a registry: two-space indentation, numbers lists on one line,
    so that diffs of ``systems.json`` stay readable."""
    text = json.dumps(raw, indent=2, ensure_ascii=False)
    # Collapse lists of scalars (numbers, short strings) onto one line.
    pattern = re.compile(r"\[\s*\n\s*((?:[^\[\]{}\n]+,\s*\n\s*)*[^\[\]{}\n]+)\s*\n\s*\]")
    return pattern.sub(lambda m: "[" + " ".join(line.strip() for line in m.group(1).splitlines()) + "]",
                       text) + "\n"


def write_registry(raw: dict, path: str | Path) -> None:
    """Validate ``raw`` and write it atomically to ``path`` (the old file survives errors)."""
    for name, entry in raw["systems"].items():
        parse_entry(name, entry)
    atomic_write(path, format_registry(raw))

"""Where forecasters come from, and how a worker loads them (:func:`resolve_spec`).

* a built-in: ``naive``, ``linear_ar``, ... (one file per class in ``forecasters/`` at
  the repository root, shipped inside the wheel as ``dysts_bench/builtin_forecasters``);
* a file: ``path/to/file.py:ClassName``;
* an importable object: ``package.module:ClassName``;
* an installed package's entry point in the group ``dysts_bench.forecasters``
  (``[project.entry-points."dysts_bench.forecasters"] mymodel = "mypkg.mod:MyModel"``);
* a darts model: ``darts:NBEATSModel`` (see :class:`DartsForecaster`);
* a plain function ``f(context, horizon, **info) -> array`` anywhere the above accepts
  a class (it is wrapped by :func:`from_callable`).

The benchmark runner never imports user code in its own process (which holds the test
futures): it passes the *target string* (``"path.py:Name"`` / ``"module:Name"``) and the
parameters to an isolated worker, which resolves them with :func:`load_target`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import inspect
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..jsonutil import jsonable
from .adapters import CallableForecaster, from_callable
from .contract import Forecaster
from .validation import ForecasterSpecError

ENTRY_POINT_GROUP = "dysts_bench.forecasters"
#: The import target of the darts adapter, as stored in result records.
DARTS_TARGET = "dysts_bench.forecaster:DartsForecaster"

# ---------------------------------------------------------------------------
# Discovery and loading
# ---------------------------------------------------------------------------

def builtin_dirs() -> list[Path]:
    """Where built-in forecasters live: inside the installed wheel, or ``forecasters/``
    at the root of a source checkout (editable install)."""
    here = Path(__file__).resolve().parent.parent  # the dysts_bench package
    return [d for d in (here / "builtin_forecasters", here.parent / "forecasters") if d.is_dir()]


def _is_file_target(target: str) -> bool:
    path = target.rsplit(":", 1)[0]
    return path.endswith(".py") or "/" in path or "\\" in path


def _load_file_module(path: str):
    path = str(Path(path).expanduser().resolve())
    if not Path(path).is_file():
        raise ForecasterSpecError(f"forecaster file not found: {path}")
    digest = hashlib.sha1(path.encode()).hexdigest()[:8]
    modname = f"_dysts_bench_file_{re.sub(r'[^0-9A-Za-z_]', '_', Path(path).stem)}_{digest}"
    module = sys.modules.get(modname)
    if module is not None:
        return module
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(modname, None)
        raise
    return module


def load_target(target: str):
    """Import the object named by ``"path/to/file.py:Name"`` or ``"module:Name"``."""
    if not isinstance(target, str) or ":" not in target:
        raise ForecasterSpecError(f"expected 'path/to/file.py:Name' or 'module:Name', got {target!r}")
    where, _, qualname = target.rpartition(":")
    if _is_file_target(target):
        module = _load_file_module(where)
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as exc:
            raise ForecasterSpecError(f"cannot import {where!r} for forecaster {target!r}: {exc}") from exc
    obj = module
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            import difflib
            close = difflib.get_close_matches(part, [n for n in dir(obj) if not n.startswith("_")], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ForecasterSpecError(f"{where} has no attribute {qualname!r}{hint}") from None
    return obj


def forecaster_class(obj) -> type:
    """A :class:`Forecaster` subclass from a loaded object (class or plain function)."""
    if inspect.isclass(obj):
        if issubclass(obj, Forecaster):
            return obj
        raise ForecasterSpecError(f"{obj.__qualname__} is not a dysts_bench.Forecaster subclass "
                                  "(wrap plain functions with from_callable, darts models with DartsForecaster)")
    if isinstance(obj, Forecaster):
        raise ForecasterSpecError("got a Forecaster instance; point the spec at its class "
                                  "(parameters are given separately)")
    if callable(obj):
        return from_callable(obj)
    raise ForecasterSpecError(f"{obj!r} is neither a Forecaster class nor a callable")


def _module_classes(module) -> list[type]:
    return [obj for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, Forecaster) and obj.__module__ == module.__name__
            and obj is not Forecaster]


@functools.lru_cache(maxsize=None)
def _builtin_table(dirs: tuple) -> dict:
    table = {}
    for d in dirs:
        for path in sorted(Path(d).glob("*.py")):
            if path.name.startswith("_"):
                continue
            module = _load_file_module(str(path))
            for cls in _module_classes(module):
                target = f"{path}:{cls.__qualname__}"
                table.setdefault(cls.name, target)
                table.setdefault(path.stem, target)
        if table:
            break  # the first directory that has forecasters wins (wheel before checkout)
    return table


def builtin_forecasters() -> dict[str, str]:
    """``{name: target}`` of the built-in forecasters (also keyed by file stem)."""
    return dict(_builtin_table(tuple(str(d) for d in builtin_dirs())))


def entry_point_forecasters() -> dict[str, str]:
    """``{name: "module:Object"}`` from installed packages' entry points (not imported)."""
    from importlib.metadata import entry_points
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_forecasters() -> dict[str, str]:
    """Built-ins and entry points, ``{name: target}`` (built-ins win on a name clash)."""
    table = entry_point_forecasters()
    table.update({k: v for k, v in builtin_forecasters().items()})
    return table


@dataclass(frozen=True)
class ForecasterSpec:
    """What a worker needs to build a forecaster: an import target and parameters."""

    target: str
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"target": self.target, "params": jsonable(self.params)}

    def build(self) -> Forecaster:
        return forecaster_class(load_target(self.target))(**self.params)


def _target_of(obj) -> str:
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname or "<locals>" in qualname or "<lambda>" in qualname:
        raise ForecasterSpecError(f"{obj!r} is not importable by name (defined inside a function "
                                  "or a lambda); define it at module level")
    if inspect.isclass(obj) and issubclass(obj, CallableForecaster) and obj.func is not None:
        return _target_of(obj.func)  # the worker wraps the function again
    mod = sys.modules.get(module)
    file = getattr(mod, "__file__", None)
    if module == "__main__" or module.startswith("_dysts_bench_file_"):
        if not file:
            raise ForecasterSpecError(f"{qualname} is defined in an interactive session; put it in a file "
                                      "(in a notebook: a %%writefile my_forecaster.py cell, then "
                                      "from my_forecaster import ...), since each task imports it afresh")
        return f"{Path(file).resolve()}:{qualname}"
    return f"{module}:{qualname}"


def resolve_spec(spec, params: Mapping | None = None) -> ForecasterSpec:
    """Turn a user-facing forecaster specification into a :class:`ForecasterSpec`.

    ``spec`` is a name (built-in or entry point), ``"path.py:Name"``, ``"module:Name"``,
    ``"darts:ModelName"``, a :class:`ForecasterSpec`, a Forecaster class or instance (its
    parameters are used), or a module-level function.  ``params`` override parameters.
    Nothing is imported except the built-ins (trusted code of this package).
    """
    params = dict(params or {})
    if isinstance(spec, ForecasterSpec):
        return ForecasterSpec(spec.target, {**spec.params, **params})
    if isinstance(spec, Forecaster):
        return ForecasterSpec(_target_of(type(spec)), {**spec.get_params(), **params})
    if inspect.isclass(spec) or callable(spec):
        return ForecasterSpec(_target_of(spec), params)
    if not isinstance(spec, str) or not spec.strip():
        raise ForecasterSpecError(f"cannot interpret forecaster specification {spec!r}")
    spec = spec.strip()
    if spec.startswith("darts:"):
        return ForecasterSpec(DARTS_TARGET, {"model": spec[len("darts:"):], **params})
    if ":" in spec:
        if _is_file_target(spec):
            path, _, name = spec.rpartition(":")
            resolved = Path(path).expanduser().resolve()
            if not resolved.is_file():
                raise ForecasterSpecError(f"forecaster file not found: {path}")
            return ForecasterSpec(f"{resolved}:{name}", params)
        return ForecasterSpec(spec, params)
    if spec.endswith(".py"):
        raise ForecasterSpecError(f"give the class too: {spec}:ClassName")
    table = available_forecasters()
    if spec in table:
        return ForecasterSpec(table[spec], params)
    raise ForecasterSpecError(f"unknown forecaster {spec!r}; available: {', '.join(sorted(table)) or 'none'} "
                              "(or give path/to/file.py:ClassName, module:ClassName or darts:ModelName)")

"""The data flows one way (registry -> compile -> solvers -> trajectory -> dataset ->
forecaster -> runner -> leaderboard): no module imports one from a later layer.

Every ``import`` of the package is read with ``ast``, function-local (lazy) imports
included, and relative imports are resolved. The layer table is the README's ("Layout");
shared leaf utilities may be imported by anyone and import no other layer themselves.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dysts_bench"

#: Shared leaf utilities: importable from every layer; they import only each other.
#: ("" is the package's own ``__init__``: the version and lazy re-exports.)
LEAVES = {"", "atomic", "jsonutil", "schema", "pool", "console", "fractal", "regression", "jit", "paths",
          "tracks"}

#: Layers, earliest first; a unit (top-level module or subpackage) imports its own layer,
#: earlier layers and the leaves only. ``metrics`` is scored on the runner's forecasts, but
#: as code it is a library of pure functions that the forecaster's tuning, the runner and
#: the leaderboard call, so it sits below all three.
LAYERS = [
    ("registry", {"registry", "map_registry", "expressions", "heldout"}),
    ("compile", {"compile"}),
    ("solvers", {"solvers", "maps"}),
    ("trajectory", {"trajectory"}),
    ("invariants", {"invariants", "chaos"}),
    ("dataset", {"dataset", "corpus"}),
    ("metrics", {"metrics"}),
    ("forecaster", {"forecaster"}),
    ("runner", {"runner"}),
    ("leaderboard", {"leaderboard", "plot"}),
    ("cli", {"cli", "__main__"}),
]
RANK = {unit: i for i, (_, units) in enumerate(LAYERS) for unit in units}


def unit_of(module: str) -> str:
    """``dysts_bench.runner.worker`` -> ``runner``; the package itself -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path = PACKAGE):
    """(line, module) for every import of the package in ``path``, at any depth."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                if node.module:
                    names = [".".join(base + [node.module])]
                else:  # from . import x: x is a module, or a name defined in the package
                    names = [_module_or_package(base + [alias.name], root) for alias in node.names]
            else:
                names = [node.module]
        else:
            continue
        for name in names:
            if name == "dysts_bench" or name.startswith("dysts_bench."):
                yield node.lineno, name


def _module_or_package(parts, root: Path) -> str:
    path = root.parent.joinpath(*parts)
    return ".".join(parts if path.with_suffix(".py").is_file() or path.is_dir() else parts[:-1])


def violations(root: Path = PACKAGE) -> list:
    found = []
    for path in sorted(root.rglob("*.py")):
        unit = unit_of(module_name(path, root))
        for line, target in imported_modules(path, root):
            other = unit_of(target)
            if other == unit or other in LEAVES:
                continue
            where = f"{path.relative_to(root.parent)}:{line} imports {target}"
            if unit in LEAVES:
                found.append(f"{where}: a shared leaf may import only other leaves")
            elif unit not in RANK or other not in RANK:
                found.append(f"{where}: {unit if unit not in RANK else other!r} has no layer in LAYERS")
            elif RANK[other] > RANK[unit]:
                found.append(f"{where}: layer {LAYERS[RANK[unit]][0]} reaches forward into "
                             f"layer {LAYERS[RANK[other]][0]}")
    return found


def test_imports_follow_the_layer_order():
    assert violations() == []


def test_every_unit_of_the_package_has_a_layer():
    units = {unit_of(module_name(p)) for p in PACKAGE.rglob("*.py")}
    assert units - set(RANK) - LEAVES == set()


@pytest.mark.parametrize("source, expected", [
    ("from ..runner import run\n", "layer registry reaches forward into layer runner"),
    ("def f():\n    from dysts_bench.leaderboard import build\n", "reaches forward into layer leaderboard"),
])
def test_the_check_catches_an_import_back_up_the_chain(tmp_path, source, expected):
    # a copy of the package layout in miniature: registry importing a later layer
    pkg = tmp_path / "dysts_bench"
    (pkg / "registry").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "registry" / "__init__.py").write_text("")
    (pkg / "registry" / "bad.py").write_text(source)
    found = violations(pkg)
    assert len(found) == 1 and expected in found[0], found


def test_a_leaf_may_not_import_a_layer(tmp_path):
    pkg = tmp_path / "dysts_bench"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "atomic.py").write_text("from .registry import get_system\n")
    found = violations(pkg)
    assert len(found) == 1 and "leaf" in found[0]

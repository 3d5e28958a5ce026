"""Compile a registry entry into numba functions, cached on disk.

One code generator serves every system: it writes a small Python module per system
(right-hand side, and lazily the Jacobian) into the cache directory and lets numba
compile it with ``cache=True``. All right-hand sides share one signature
(:data:`RHS_SIG`), so the integrators take them as first-class function values and are
compiled once, not once per system.

Cache directory: ``$DYSTS_BENCH_CACHE_DIR`` or ``~/.cache/dysts-bench``. A file's name
carries a hash of its source, so an edited entry never reuses a stale compile.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numba
import numpy as np
from numba import types

from . import expressions as ex
from .atomic import atomic_write
from .jit import compiling
from .registry import System, get_system

#: ``rhs(t, y, p, out)``: writes dy/dt at time t, state y, parameters p into out.
RHS_SIG = types.void(types.float64, types.float64[::1], types.float64[::1], types.float64[::1])
#: ``jac(t, y, p, J, ft)``: writes d(rhs)/dy into J (dim, dim) and d(rhs)/dt into ft.
JAC_SIG = types.void(types.float64, types.float64[::1], types.float64[::1],
                     types.float64[:, ::1], types.float64[::1])
#: ``rhs(t, y, ylag, p, out)`` for delay systems: ylag is the state at t - tau.
DDE_SIG = types.void(types.float64, types.float64[::1], types.float64[::1],
                     types.float64[::1], types.float64[::1])

_CODEGEN_VERSION = "1"


def cache_dir() -> Path:
    path = Path(os.environ.get("DYSTS_BENCH_CACHE_DIR", Path.home() / ".cache" / "dysts-bench"))
    return path / f"numba-{numba.__version__}"


# ------------------------------------------------------------------ code generation
def _namer(system: System):
    layout = system.parameter_layout
    states = {v: i for i, v in enumerate(system.variables)}

    def names(node):
        if node[0] == "idx":
            return f"p[{layout[node[1]] + node[2]}]"
        kind, name = node[1], node[2]
        if kind == "state":
            return f"y[{states[name]}]"
        if kind == "lag":
            return f"ylag[{states[name]}]"
        if kind == "param":
            return f"p[{layout[name]}]"
        if kind == "aux":
            return f"a_{name}"
        if kind == "deriv":
            return f"d_{name[0]}_{name[1]}"
        return "t"
    return names


def rhs_source(system: System) -> str:
    """Python source of the numba right-hand side of ``system``."""
    defs, eqs = system.trees
    names = _namer(system)
    args = "t, y, ylag, p, out" if system.delay else "t, y, p, out"
    lines = [f"def rhs({args}):"]
    for (aux, _), tree in zip(system.definitions, defs):
        lines.append(f"    a_{aux} = {ex.to_source(tree, names)}")
    for i, tree in enumerate(eqs):
        lines.append(f"    out[{i}] = {ex.to_source(tree, names)}")
    return "\n".join(lines)


def _derivative_lines(system: System):
    """Symbolic derivatives shared by the Jacobian and tangent code.

    Returns (lines, entries, time_entries): statements defining the auxiliaries and their
    derivatives, a dict {(i, j): source of d f_i / d y_j} of the non-zero entries, and a
    dict {i: source of d f_i / dt} of the non-zero explicit time derivatives.
    """
    if system.delay:
        raise ex.ExpressionError(f"{system.name}: delay systems have no finite Jacobian here")
    defs, eqs = system.trees
    names = _namer(system)
    lines = [f"    a_{aux} = {ex.to_source(tree, names)}"
             for (aux, _), tree in zip(system.definitions, defs)]
    wrts = [*system.variables, "t"]
    # Which auxiliaries vary with which symbol; their derivatives become local variables.
    deps = {w: {} for w in wrts}
    for (aux, _), tree in zip(system.definitions, defs):
        for col, w in enumerate(wrts):
            deps[w][aux] = ex.depends_on(tree, w, deps[w])
            if deps[w][aux]:
                d = ex.diff(tree, w, _aux_deriv(deps[w], col))
                lines.append(f"    d_{aux}_{col} = {ex.to_source(d, names)}")
    entries, time_entries = {}, {}
    for i, tree in enumerate(eqs):
        for col, w in enumerate(wrts):
            d = ex.diff(tree, w, _aux_deriv(deps[w], col))
            if d != ex.ZERO:
                if w == "t":
                    time_entries[i] = ex.to_source(d, names)
                else:
                    entries[(i, col)] = ex.to_source(d, names)
    return lines, entries, time_entries


def jac_source(system: System) -> str:
    """Python source of the Jacobian d(rhs)/dy and the explicit time derivative d(rhs)/dt,
    both derived symbolically from the same expression trees as :func:`rhs_source`."""
    lines, entries, time_entries = _derivative_lines(system)
    body = ["def jac(t, y, p, J, ft):", "    J[:, :] = 0.0", "    ft[:] = 0.0", *lines]
    body += [f"    J[{i}, {j}] = {src}" for (i, j), src in entries.items()]
    body += [f"    ft[{i}] = {src}" for i, src in time_entries.items()]
    return "\n".join(body)


def tangent_source(system: System, k: int) -> str:
    """Source of the tangent-dynamics right-hand side on the augmented state
    ``[y (n), Q (n*k, row-major)]``: ``dy/dt = f(t, y)``, ``dQ/dt = J(t, y) Q``.

    It has the ordinary :data:`RHS_SIG`, so the same compiled integrators carry the
    variational equations (used for Lyapunov exponents).
    """
    n = system.dim
    defs, eqs = system.trees
    names = _namer(system)
    lines, entries, _ = _derivative_lines(system)
    body = ["def rhs(t, y, p, out):", *lines]
    body += [f"    out[{i}] = {ex.to_source(tree, names)}" for i, tree in enumerate(eqs)]
    body += [f"    j_{i}_{j} = {src}" for (i, j), src in entries.items()]
    body.append(f"    for c in range({k}):")
    for i in range(n):
        terms = [f"j_{i}_{j} * y[{n} + {j * k} + c]" for j in range(n) if (i, j) in entries]
        body.append(f"        out[{n} + {i * k} + c] = {' + '.join(terms) or '0.0'}")
    return "\n".join(body)


def _aux_deriv(dep_map, col):
    return lambda aux: ("sym", "deriv", (aux, col)) if dep_map.get(aux) else ex.ZERO


_HEADER = """# Generated by dysts_bench.compile from the registry entry {name!r}. Do not edit:
# the file name carries the hash of this text, and any change regenerates it.
import numpy as np
from numba import njit
from dysts_bench.compile import {sig}

@njit({sig}, cache=True, error_model="numpy", nogil=True)
"""


def compile_seconds(source: str) -> float:
    """Rough cold-compile time of generated ``source`` (seconds, for the compile notice):
    numba's fixed cost per module plus a rate measured on the DOP853 step functions."""
    return 0.2 + len(source) / 3000


def load_generated_module(prefix: str, source: str, *, what: str):
    """Import generated ``source`` as a module whose file lives in the cache directory.

    The module name is ``prefix`` plus a hash of the source, so numba's on-disk cache
    (``cache=True``) serves every later process, and an edited source never reuses a
    stale compile. A cached file that differs from ``source`` (edited, planted) is
    rewritten with a warning, and the module always runs ``source`` itself. ``what``
    names the code in the error raised when compiling fails.
    """
    digest = hashlib.sha256((_CODEGEN_VERSION + source).encode()).hexdigest()[:16]
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    modname = f"{prefix}_{digest}"
    path = directory / f"{modname}.py"
    if modname in sys.modules:
        return sys.modules[modname]
    if not _matches_source(path, source):
        if path.exists():
            warnings.warn(f"compile cache: {path} does not match its source hash; "
                          "regenerating it", RuntimeWarning, stacklevel=2)
        # atomic: concurrent processes may compile the same code (a cache: no fsync)
        atomic_write(path, source, fsync=False)
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        # Run the source generated here, not the file's current bytes: a file swapped after
        # the check above only changes numba's cache key (it hashes the file), never the code.
        with compiling(what, compile_seconds(source)):
            exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102 - our own text
    except Exception as exc:
        del sys.modules[modname]
        raise RuntimeError(f"compiling {what} failed ({type(exc).__name__}: {exc}); "
                           f"source at {path}") from exc
    return module


def _matches_source(path: Path, source: str) -> bool:
    """Whether the cached file holds exactly ``source``: a file edited or planted in the
    cache directory is never imported (the name's hash alone proves nothing)."""
    try:
        return path.read_bytes() == source.encode()
    except FileNotFoundError:
        return False


def _load_module(system: System, kind: str, body: str, sig: str):
    source = _HEADER.format(name=system.name, sig=sig) + body + "\n"
    return load_generated_module(f"dysts_bench_gen_{system.name}_{kind}", source,
                                 what=f"{system.name}: the generated {kind}")


# ------------------------------------------------------------------- compiled systems
@dataclass(eq=False)
class CompiledSystem:
    """A system's compiled functions plus its parameter vector.

    Attributes
    ----------
    system : System
    rhs : numba dispatcher with signature :data:`RHS_SIG` (or :data:`DDE_SIG`)
    params : ndarray, shape (n_params,)
    """

    system: System
    rhs: object
    params: np.ndarray
    _jac: object = field(default=None, repr=False)

    @property
    def dim(self) -> int:
        return self.system.dim

    @property
    def jac(self):
        """The compiled Jacobian (compiled on first use: most runs never need it)."""
        if self._jac is None:
            self._jac = _compile_jac(self.system).jac
        return self._jac

    def __call__(self, y, t=0.0, ylag=None):
        """Evaluate the right-hand side at one state (convenience, not for hot loops)."""
        y = np.ascontiguousarray(y, dtype=np.float64)
        out = np.empty(self.dim)
        if self.system.delay:
            lagged = y if ylag is None else np.ascontiguousarray(ylag, dtype=np.float64)
            self.rhs(float(t), y, lagged, self.params, out)
        else:
            self.rhs(float(t), y, self.params, out)
        return out

    def jacobian(self, y, t=0.0):
        """Jacobian matrix (dim, dim) at one state."""
        J = np.empty((self.dim, self.dim))
        ft = np.empty(self.dim)
        self.jac(float(t), np.ascontiguousarray(y, dtype=np.float64), self.params, J, ft)
        return J


@lru_cache(maxsize=None)
def _compile_rhs(system: System):
    sig = "DDE_SIG" if system.delay else "RHS_SIG"
    return _load_module(system, "rhs", rhs_source(system), sig)


@lru_cache(maxsize=None)
def _compile_jac(system: System):
    return _load_module(system, "jac", jac_source(system), "JAC_SIG")


@lru_cache(maxsize=None)
def compile_tangent(system: System, k: int | None = None):
    """Compiled tangent dynamics of ``system`` for ``k`` tangent vectors (default: all)."""
    k = system.dim if k is None else k
    return _load_module(system, f"tangent{k}", tangent_source(system, k), "RHS_SIG").rhs


def compile_system(name_or_system, **param_overrides) -> CompiledSystem:
    """Compile (or load from the disk cache) a system's right-hand side.

    Parameters
    ----------
    name_or_system : str or System
    **param_overrides
        Parameter values to use instead of the registry's (no recompilation needed).
    """
    system = get_system(name_or_system)
    module = _compile_rhs(system)
    return CompiledSystem(system, module.rhs, system.parameter_vector(**param_overrides))

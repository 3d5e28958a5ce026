"""Compiled adaptive integrators.

``integrate`` is the one entry point: it picks the compiled loop for the method and runs
the whole time loop in numba (no Python per step). Methods:

* ``"dop853"`` – Dormand–Prince 8(5,3), 7th-order dense output (default; best for tight
  tolerances);
* ``"dopri5"`` – Dormand–Prince 5(4), 4th-order dense output;
* ``"rosenbrock23"`` – linearly implicit, L-stable, for stiff systems (uses the Jacobian).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dop853 import DOP853
from .dopri5 import DOPRI5
from ..jit import compiling
from .erk import (BATCH_SECONDS, LOOP_SECONDS, STATUS_TEXT, SUCCESS, integrate_erk,
                  integrate_erk_batch)
from .inputs import check_inputs
from .rosenbrock23 import ROSENBROCK_SECONDS, integrate_rosenbrock23
from .specialise import compile_tableau, tableau_seconds

EXPLICIT = {"dop853": DOP853, "dopri5": DOPRI5}
METHODS = (*EXPLICIT, "rosenbrock23")


class IntegrationError(RuntimeError):
    """The integrator could not reach the requested end time."""


@dataclass(frozen=True)
class IntegrationStats:
    status: int
    n_steps: int
    n_rejected: int
    n_fev: int

    @property
    def message(self) -> str:
        return STATUS_TEXT.get(self.status, "unknown")


def integrate(compiled, y0, t_eval, *, t0=None, method="dop853", rtol=1e-12, atol=1e-12,
              first_step=0.0, max_steps=50_000_000, check=True):
    """Integrate a compiled system and sample it at ``t_eval`` by dense output.

    Parameters
    ----------
    compiled : CompiledSystem
    y0 : (dim,) or (m, dim) array
        Initial state(s); a 2-D array integrates a batch in parallel.
    t_eval : (n,) increasing array of output times
    t0 : float, optional
        Start time (default ``t_eval[0]``).
    method : {"dop853", "dopri5", "rosenbrock23"}
    rtol, atol : float
        Relative and absolute tolerances of the local error.
    check : bool
        Raise :class:`IntegrationError` when a trajectory fails (else see ``stats``).

    Returns
    -------
    y : (n, dim) or (m, n, dim) array
    stats : IntegrationStats or list of them
    """
    if compiled.system.delay:
        raise IntegrationError(f"{compiled.system.name} is a delay system; use integrate_delay")
    y0, t_eval, t0 = check_inputs(compiled, y0, t_eval, t0, rtol, atol)
    dim = compiled.dim
    args = (float(rtol), float(atol), float(first_step), int(max_steps))

    if method in EXPLICIT:
        return _integrate_explicit(compiled, y0, t_eval, t0, method, args, check)
    if method == "rosenbrock23":
        rows = y0 if y0.ndim == 2 else y0[None]
        out = np.empty((rows.shape[0], t_eval.size, dim))
        with compiling("the rosenbrock23 integrator", ROSENBROCK_SECONDS):
            stats = [IntegrationStats(*integrate_rosenbrock23(
                compiled.rhs, compiled.jac, compiled.params, t0, np.ascontiguousarray(row),
                t_eval, *args, out[i])) for i, row in enumerate(rows)]
        if y0.ndim == 1:
            out, stats = out[0], stats[0]
        return _checked(compiled, method, out, stats, check)
    raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")


def _integrate_explicit(compiled, y0, t_eval, t0, method, args, check):
    """The explicit methods: one compiled loop, or its parallel batch for 2-D ``y0``."""
    tableau, dim = EXPLICIT[method], compiled.dim
    batch = y0.ndim == 2
    seconds = tableau_seconds(tableau) + (BATCH_SECONDS if batch else LOOP_SECONDS)
    with compiling(f"the {method} integrator", seconds):
        tab = compile_tableau(tableau).loop_args
        if batch:
            out = np.empty((y0.shape[0], t_eval.size, dim))
            raw = np.zeros((y0.shape[0], 4), dtype=np.int64)
            integrate_erk_batch(compiled.rhs, compiled.params, t0, y0, t_eval, *args, *tab,
                                out, raw)
            stats = [IntegrationStats(*map(int, r)) for r in raw]
        else:
            out = np.empty((t_eval.size, dim))
            stats = IntegrationStats(*integrate_erk(
                compiled.rhs, compiled.params, t0, y0, t_eval, *args, *tab, out))
    return _checked(compiled, method, out, stats, check)


def _checked(compiled, method, out, stats, check):
    """``(out, stats)``, or :class:`IntegrationError` for the first failed trajectory."""
    if check:
        for i, st in enumerate(stats if isinstance(stats, list) else [stats]):
            if st.status != SUCCESS:
                which = f" (initial condition {i})" if isinstance(stats, list) else ""
                raise IntegrationError(f"{compiled.system.name}{which}: {st.message} after "
                                       f"{st.n_steps} steps with method {method!r}")
    return out, stats

"""Invariants computed by the project: Lyapunov spectrum, Kaplan–Yorke and correlation
dimensions, dominant period, integration step, Pesin entropy.

Every function documents its method and settings, and :func:`annotate_system` returns
them together with the values so that ``systems.json`` records how each number was made.

One module per job:

* :mod:`.numerics` - the invariants of a flow (Lyapunov spectrum, dimensions, period, step);
* :mod:`.delay` - delay systems through their pseudospectral ODE approximation;
* :mod:`.annotate` - computing them for registry systems and writing ``systems.json``;
* :mod:`.report` - the Markdown report against the reference package.
"""

from __future__ import annotations

from .annotate import ANNOTATE_SETTINGS, annotate, annotate_delay_system, annotate_system, chaos_label
from .delay import chebyshev_differentiation, delay_as_ode, delay_max_lyapunov_direct
from .numerics import (PERIOD_METHOD, correlation_dimension, dominant_period, estimate_period,
                       integration_step, jacobian_trace_stats, kaplan_yorke_dimension,
                       lyapunov_spectrum, make_trajectory_raw, trace_average)
from .report import REPORT_NOTES, lyapunov_report, reference_exponents, report_markdown

__all__ = ["ANNOTATE_SETTINGS", "annotate", "annotate_delay_system", "annotate_system", "chaos_label",
           "chebyshev_differentiation", "delay_as_ode", "delay_max_lyapunov_direct", "PERIOD_METHOD",
           "correlation_dimension", "dominant_period", "estimate_period", "integration_step",
           "jacobian_trace_stats", "kaplan_yorke_dimension", "lyapunov_spectrum", "make_trajectory_raw",
           "trace_average", "REPORT_NOTES", "lyapunov_report", "reference_exponents", "report_markdown"]

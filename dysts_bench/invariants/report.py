"""The Markdown report of the maximum Lyapunov exponents against the reference package
(``dysts-bench annotate --report FILE``): the table, the chaos-label counts and the note
that explains every large difference.
"""

from __future__ import annotations

from ..registry import get_system

#: Hand-written notes for the Lyapunov report, where the automatic ones do not apply.
REPORT_NOTES = {
    "VossDelay": "maximum exponent only, by the direct two-trajectory method: the tangent "
                 "integration of its pseudospectral approximation fails (step size underflow) "
                 "for 13 to 33 nodes",
}


def report_markdown(explanations=REPORT_NOTES) -> str:
    """The whole report file: title, how it was produced, and :func:`lyapunov_report`."""
    return ("# Maximum Lyapunov exponents: dysts-bench vs the reference package\n\n"
            "Produced by `dysts-bench annotate --report-only --report FILE` from the values "
            "stored in systems.json (method and settings: the `invariants.methods` of each "
            "entry). Relative difference = (dysts - ours) / ours; a note explains every "
            "difference above 20%. Delay systems are annotated separately.\n\n"
            + lyapunov_report(explanations))


def reference_exponents() -> dict:
    """Maximum exponents stored by the reference package dysts 0.96 (if installed)."""
    import json
    import os
    try:
        import dysts
    except ImportError:
        return {}
    path = os.path.join(os.path.dirname(dysts.__file__), "data", "chaotic_attractors.json")
    with open(path) as fh:
        data = json.load(fh)
    return {k: v.get("maximum_lyapunov_estimated") for k, v in data.items()}


def lyapunov_report(explanations=None) -> str:
    """Markdown table: for every annotated system, its chaos label, our maximum exponent
    (± standard error), the reference package's stored value and their relative difference,
    with the reason for every difference above 20%; then the count of each label."""
    from ..registry import CHAOS_LABELS, list_systems
    ref = reference_exponents()
    explanations = explanations or {}
    lines = ["| system | label | ours λ_max ± s.e. | dysts 0.96 | rel. diff. | note |",
             "|---|---|---|---|---|---|"]
    by_label = {label: [] for label in CHAOS_LABELS}
    for name in list_systems():
        s = get_system(name)
        by_label[s.chaos_label].append(name)
        inv = s.invariants
        if "maximum_lyapunov" not in inv:
            lines.append(f"| {name} | {s.chaos_label} | not annotated | {ref.get(name, '–')} | – | "
                         f"{explanations.get(name, 'see the entry notes')} |")
            continue
        ours = inv["maximum_lyapunov"]
        se = inv.get("lyapunov_stderr", [float("nan")])[0]
        theirs = ref.get(name)
        if theirs is None:
            lines.append(f"| {name} | {s.chaos_label} | {ours:.4g} ± {se:.2g} | – | – | "
                         "not in the reference |")
            continue
        diff = (theirs - ours) / abs(ours) if ours else float("inf")
        note = explanations.get(name, "")
        if not note and (abs(diff) > 0.2 or s.chaos_label != "chaotic"):
            note = _explain(s, ours, se, theirs)
        lines.append(f"| {name} | {s.chaos_label} | {ours:.4g} ± {se:.2g} | {theirs:.4g} | "
                     f"{diff:+.0%} | {note} |")
    lines += ["", "Chaos labels (`dysts_bench.chaos`, evidence in each entry's "
              "`invariants.chaos`, shown by `dysts-bench show NAME`): "
              + ", ".join(f"{label} {len(names)}" for label, names in by_label.items()) + "."]
    lines += [f"- {label}: {', '.join(names)}" for label, names in by_label.items()
              if names and label != "chaotic"]
    return "\n".join(lines) + "\n"


def _explain(system, ours, se, theirs) -> str:
    if system.delay and ours > 3 * se:
        return ("delay system: ours from the pseudospectral ODE approximation of the history "
                "(25 Chebyshev nodes), the reference's from its own finite-difference estimator "
                "on the 10-lag embedding")
    label = system.chaos_label
    if label == "transient":
        e = system.invariants["chaos"]["evidence"]
        note = (f"transient chaos: λ_max {e['early']:.2g} in the first half of the averaging "
                f"window, {e['late']:.2g} in the second; the orbit ends in an {e['end_state']} "
                "(the stored average mixes both regimes; skipped by the dataset protocol)")
    elif label == "not_chaotic":
        note = ("not chaotic at these parameters and this initial condition by our estimate "
                "(λ_max zero within its error, or the orbit settles on an equilibrium or a "
                "cycle); the reference's short average does not resolve it")
    elif label == "undetermined":
        note = "undetermined by the chaos rule: see its evidence (`dysts-bench show`)"
    elif system.invariants.get("chaos", {}).get("evidence", {}).get("stationary") is False:
        e = system.invariants["chaos"]["evidence"]
        note = (f"chaotic, but the exponent is not stationary: {e['early']:.2g} in the first "
                f"half of the window, {e['late']:.2g} in the second (a long first regime)")
    elif ours <= 3 * se or ours < 1e-4:
        note = "λ_max zero within its error over 1000 periods"
    elif se > 0.1 * abs(ours):
        note = "slowly converging average (intermittent dynamics): see the standard error"
    else:
        note = ("the reference steps a first-order (backward Euler) tangent map at the "
                "sampling interval and stops averaging as soon as an exponent estimate first "
                "nears zero, which biases and truncates its average; ours integrates the "
                "variational equations to tolerance and averages over 1000 periods")
    if system.discontinuous:
        note += (". The vector field jumps (sign/heaviside/where), so tangent dynamics from its "
                 "almost-everywhere Jacobian omit the saltation at the switching surfaces")
    if system.deviates_from_reference:
        note += ". The right-hand sides also differ: " + system.deviates_from_reference
    return note

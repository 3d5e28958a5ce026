"""Every registered system: compiles, integrates, stays finite, bounded and non-trivial,
and its compiled right-hand side and Jacobian agree with independent evaluations."""

import warnings

import numpy as np
import pytest

from dysts_bench import compile_system, get_system, list_systems, make_trajectory
from dysts_bench import expressions as ex
from dysts_bench.trajectory import observe

ODE_SYSTEMS = [n for n in list_systems() if not get_system(n).delay]


def test_registry_is_complete():
    names = set(list_systems())
    assert len(names) >= 135
    assert {"MackeyGlass", "IkedaDelay", "SprottDelay", "VossDelay", "ScrollDelay",
            "PiecewiseCircuit"} <= set(list_systems(delay=True))
    reference = _reference_list()
    if reference is not None:  # the published list, where ../shared/reference is at hand
        published = [line.split("\t")[0] for line in reference.read_text().splitlines()
                     if line and not line.startswith("#")][1:]
        assert not sorted(set(published) - names), "missing published systems"


def _reference_list():
    from pathlib import Path
    here = Path(__file__).resolve().parent
    for candidate in (here.parent.parent / "shared" / "reference" / "published_systems.tsv",
                      here.parent / "shared" / "reference" / "published_systems.tsv"):
        if candidate.exists():
            return candidate
    return None


def _numpy_rhs(system, state, t=0.0):
    """Evaluate the equations with the numpy tree walker (no generated code involved)."""
    env = {**dict(zip(system.variables, state)), **system.parameters, "t": t}
    defs, eqs = system.trees
    for (aux, _), tree in zip(system.definitions, defs):
        env[aux] = ex.evaluate(tree, env)
    return np.array([ex.evaluate(tree, env) for tree in eqs], dtype=float)


def _sample_states(system, n=12, seed=0):
    compiled = compile_system(system)
    from dysts_bench.solvers import integrate
    t = np.linspace(0, 5 * system.period, 50)
    y, _ = integrate(compiled, system.initial_condition, t)
    rng = np.random.default_rng(seed)
    rows = y[rng.integers(0, len(y), n)]
    return rows * (1 + 0.01 * rng.standard_normal(rows.shape)), rng.uniform(0, 10, n)


@pytest.mark.slow  # a sweep over every ODE system
@pytest.mark.parametrize("name", ODE_SYSTEMS)
def test_system_integrates_and_is_chaotic_looking(name):
    system = get_system(name)
    t, y = make_trajectory(system, 1000)
    assert y.shape == (1000, system.dim)
    assert np.all(np.isfinite(y))
    assert np.max(np.abs(y)) < 1e6
    # Not a fixed point: the second half still moves.
    second = y[500:]
    assert np.max(second.std(axis=0) / (np.abs(second).mean(axis=0) + 1e-12)) > 1e-4


@pytest.mark.slow  # a sweep over every ODE system
@pytest.mark.parametrize("name", ODE_SYSTEMS)
def test_compiled_rhs_and_jacobian_match_independent_evaluations(name):
    system = get_system(name)
    compiled = compile_system(system)
    states, times = _sample_states(system)
    for state, t in zip(states, times):
        ours = compiled(state, t=t)
        expected = _numpy_rhs(system, state, t)
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12 * (1 + np.abs(expected).max()))
        J = compiled.jacobian(state, t=t)
        h = np.minimum(1e-6 * (1 + np.abs(state)), 1e-5)  # phase variables can be large
        fd = np.empty_like(J)
        for j in range(system.dim):
            e = np.zeros(system.dim)
            e[j] = h[j]
            fd[:, j] = (compiled(state + e, t=t) - compiled(state - e, t=t)) / (2 * h[j])
        scale = 1 + np.abs(fd).max()
        np.testing.assert_allclose(J, fd, rtol=1e-5, atol=1e-5 * scale)


@pytest.mark.slow  # a sweep over every ODE system
@pytest.mark.parametrize("name", ODE_SYSTEMS)
def test_rhs_matches_reference_package(name):
    """Where dysts 0.96 is installed, our right-hand side equals its right-hand side at
    random states, except for entries that document a deliberate deviation (and those
    must really differ, so the flag cannot go stale)."""
    flows = pytest.importorskip("dysts.flows")
    system = get_system(name)
    if not hasattr(flows, name):
        pytest.skip(f"{name} is not in the reference package")
    compiled = compile_system(system)
    model = getattr(flows, name)()
    states, times = _sample_states(system, seed=1)
    worst = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for state, t in zip(states, times):
            ours = compiled(state, t=t)
            ref = np.asarray(model.rhs(state, t), dtype=float)
            worst = max(worst, np.max(np.abs(ours - ref)) / (1e-12 + np.max(np.abs(ref))))
    if system.deviates_from_reference:
        assert worst > 1e-9, f"{name} is flagged as deviating but matches the reference"
    else:
        assert worst < 1e-8, f"{name}: rhs differs from dysts by {worst:.2e} (relative)"


@pytest.mark.parametrize("name", [n for n in ODE_SYSTEMS if get_system(n).output])
def test_output_maps_are_applied(name):
    system = get_system(name)
    t, y = make_trajectory(system, 50)
    from dysts_bench.solvers import integrate
    raw, _ = integrate(compile_system(system), system.initial_condition, t, t0=0.0)
    np.testing.assert_allclose(y, observe(system, raw, t))
    changed = [system.variables.index(v) for v in system.output]
    assert not np.allclose(y[:, changed], raw[:, changed])

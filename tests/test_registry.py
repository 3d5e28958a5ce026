"""Loading and validating systems.json."""

import json
import math

import numpy as np

import pytest

from dysts_bench import get_system, list_systems
from dysts_bench.registry import RegistryError, UnknownSystemError, load_registry, parse_entry
from tests.conftest import entry


def good():
    return entry(["x", "y"], ["a*y", "-x + b"], {"a": 1.0, "b": 0.5})


@pytest.mark.parametrize("mutate, field", [
    (lambda e: e.pop("citation"), "citation"),
    (lambda e: e.pop("equations"), "equations"),
    (lambda e: e.update(initial_condition=[1.0]), "initial_condition"),
    (lambda e: e.update(initial_condition=[1.0, math.nan]), "initial_condition"),
    (lambda e: e.update(initial_condition=[1.0, True]), "initial_condition"),
    (lambda e: e["equations"].update(y="-x + c"), "equations.y"),
    (lambda e: e["equations"].update(y="-gamma(x)"), "equations.y"),
    (lambda e: e["equations"].update(y="x.__class__"), "equations.y"),
    (lambda e: e.update(equations={"y": "1", "x": "2"}), "equations"),
    (lambda e: e["parameters"].update(a=math.inf), "parameters.a"),
    (lambda e: e["parameters"].update(a="1.0"), "parameters.a"),
    (lambda e: e["parameters"].update(x=2.0), "parameters.x"),
    (lambda e: e["parameters"].update(sin=2.0), "parameters.sin"),
    (lambda e: e.update(dt=0.0), "dt"),
    (lambda e: e.update(period=-1.0), "period"),
    (lambda e: e.update(flags={"delay": False}), "flags"),
    (lambda e: e.update(colour="red"), "colour"),
    (lambda e: e.update(definitions=[["r", "x + q"]]), "definitions.r"),
    (lambda e: e.update(definitions=[["r", "s"], ["s", "x"]]), "definitions.r"),
    (lambda e: e["equations"].update(x="sin(t)"), "flags.nonautonomous"),
    (lambda e: e.update(delay={"tau": 1.0}), "delay"),
    (lambda e: e.update(output={"z": "sin(x)"}), "output"),
    (lambda e: e.update(invariants={"lyapunov_spectrum": [0.9, "a"]}), "invariants.lyapunov_spectrum"),
])
def test_malformed_entry_names_system_and_field(mutate, field):
    e = good()
    mutate(e)
    with pytest.raises(RegistryError) as info:
        parse_entry("Broken", e)
    message = str(info.value)
    assert "'Broken'" in message and f"'{field}'" in message, message


def test_valid_entry_loads_with_vector_parameters_and_definitions():
    e = entry(["x", "y"], ["w[0]*y - r", "-w[1]*x"], {"w": [1.0, 2.0]},
              definitions=[["r", "x*x"]])
    system = parse_entry("Ok", e)
    assert system.dim == 2
    assert list(system.parameter_vector()) == [1.0, 2.0]
    assert list(system.parameter_vector(w=[3, 4])) == [3.0, 4.0]
    with pytest.raises(RegistryError, match="unknown parameter"):
        system.parameter_vector(q=1)


def test_registry_file_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(RegistryError, match="not valid JSON"):
        load_registry(bad)
    bad.write_text(json.dumps({"systems": {"A": good(), "B": {**good(), "dt": "x"}}}))
    with pytest.raises(RegistryError, match="'B'.*'dt'"):
        load_registry(bad)


def test_unknown_system_suggests_close_names():
    with pytest.raises(UnknownSystemError, match="did you mean Lorenz"):
        get_system("Lorenzz")
    with pytest.raises(UnknownSystemError, match="did you mean Lorenz"):
        get_system("lorenz")


def test_required_seed_systems_present_and_cited():
    names = set(list_systems())
    required = {"Lorenz", "Rossler", "Thomas", "Chua", "Halvorsen", "Aizawa", "SprottA",
                "HyperRossler", "DoublePendulum", "ForcedVanDerPol"}
    assert required <= names
    for name in required:
        system = get_system(name)
        assert len(system.citation) > 20 and any(ch.isdigit() for ch in system.citation)


def test_filters():
    four = list_systems(dim=4)
    assert "HyperRossler" in four and "Lorenz" not in four
    assert list_systems(dim="4") == four
    assert "DoublePendulum" in list_systems(hamiltonian=True)
    assert "ForcedVanDerPol" in list_systems(nonautonomous="true")


def test_sakarya_is_the_reference_packages_sakarya_at_random_states():
    """Sakarya has dysts 0.96's dynamics (x' = -x + y + yz, y' = -x - y + 0.4xz,
    z' = z - 0.3xy), checked at random states, not only along an orbit; the Li et al.
    (2015) system it used to name is LiFourWing."""
    flows = pytest.importorskip("dysts.flows", reason="the reference package dysts is not installed")
    from dysts_bench import compile_system
    system = get_system("Sakarya")
    assert not system.deviates_from_reference
    compiled = compile_system(system)
    model = flows.Sakarya()
    rng = np.random.default_rng(12)
    for state in rng.uniform(-10, 10, (50, 3)):
        x, y, z = state
        by_hand = [-x + y + y * z, -x - y + 0.4 * x * z, z - 0.3 * x * y]
        np.testing.assert_allclose(compiled(state), by_hand, rtol=1e-13, atol=1e-12)
        np.testing.assert_allclose(compiled(state), np.asarray(model.rhs(state, 0.0), float),
                                   rtol=1e-13, atol=1e-12)
    four = get_system("LiFourWing")
    assert "Li, C., Pehlivan" in four.citation and four.equations[1] == "y*z - x*z"

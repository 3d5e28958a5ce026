"""Discrete maps: registry entries, compiled iteration, Jacobians and Lyapunov spectra,
checked against closed forms, published values and the reference package dysts 0.96."""

import io
import json
import math
from contextlib import redirect_stdout

import numpy as np
import pytest

from dysts_bench import compile_system, get_system, list_systems
from dysts_bench.map_registry import MapSystem, load_maps, parse_map_entry
from dysts_bench.maps import chaos_label, iterate_map, map_lyapunov_spectrum, map_trajectory
from dysts_bench.registry import RegistryError

MAPS = list_systems(kind="map")
#: Our names for maps the published database names differently (its Duffing map
#: would clash with the Duffing flow).
DYSTS_NAME = {"DuffingMap": "Duffing"}
#: Maps whose equations the published database ships commented out (nothing to compare).
NO_REFERENCE = {"Zaslavskii", "Lozi"}
#: Maps added from their original paper (the published database does not list them).
NOT_IN_DATABASE = {"Lozi"}


# ------------------------------------------------------------------------- registry
def test_maps_are_listed_by_kind_and_kept_out_of_the_flows():
    assert len(MAPS) >= 20 and "Henon" in MAPS and "Logistic" in MAPS
    flows = list_systems()
    assert not set(MAPS) & set(flows), "map names must not shadow flows"
    assert set(list_systems(kind="flow")) == set(flows)
    henon = get_system("Henon")
    assert isinstance(henon, MapSystem) and henon.kind == "map"
    assert get_system("Lorenz").kind == "flow"


def test_with_parameters_keeps_a_map_a_map():
    logistic = get_system("Logistic").with_parameters(r=4.0)
    assert logistic.kind == "map" and logistic.parameters["r"] == 4.0


def test_a_malformed_map_names_the_map_and_field():
    entry = {"description": "d", "citation": "c", "variables": ["x"], "parameters": {"r": 1.0},
             "equations": {"x": "r*x*(1 - q)"}, "initial_condition": [0.5]}
    with pytest.raises(RegistryError, match="'Bad'.*equations.x.*unknown name 'q'"):
        parse_map_entry("Bad", entry)
    with pytest.raises(RegistryError, match="'Bad'.*'dt'.*unknown field"):
        parse_map_entry("Bad", dict(entry, equations={"x": "r*x"}, dt=0.1))


def test_published_parameters_and_initial_conditions():
    dysts_data = pytest.importorskip("dysts").__file__.rsplit("/", 1)[0] + "/data/discrete_maps.json"
    published = json.load(open(dysts_data))
    for name in set(MAPS) - NOT_IN_DATABASE:
        ref = published[DYSTS_NAME.get(name, name)]
        system = get_system(name)
        assert dict(system.parameters) == pytest.approx(ref["parameters"]), name
        assert list(system.initial_condition) == pytest.approx(np.ravel(ref["initial_conditions"])), name


def test_cli_lists_and_shows_maps():
    from dysts_bench.cli import main
    buf = io.StringIO()
    with redirect_stdout(buf):
        main(["systems", "--filter", "kind=map"])
        main(["show", "Henon"])
    text = buf.getvalue()
    assert f"{len(MAPS)} systems" in text and "Henon" in text and "Lorenz" not in text
    assert "x_next = 1.0 - a * x ** 2 + y" in text


# ---------------------------------------------------------------- equations, Jacobian
def _random_states(system, rng, n=50):
    ic = np.asarray(system.initial_condition)
    return ic + 0.1 * rng.standard_normal((n, system.dim))


@pytest.mark.parametrize("name", [m for m in MAPS if m not in NO_REFERENCE])
def test_next_state_equals_dysts(name):
    """Where dysts 0.96 is installed our map equals its map at random states near the
    published initial condition (its code is the reference; nothing is copied)."""
    maps = pytest.importorskip("dysts.maps")
    reference = getattr(maps, DYSTS_NAME.get(name, name))()
    system = get_system(name)
    compiled = compile_system(system)
    states = _random_states(system, np.random.default_rng(0))
    if name == "Chebyshev":  # defined on [-1, 1]
        states = np.clip(states, -0.99, 0.99)
    ours = np.array([compiled(y) for y in states])
    theirs = reference.rhs(states).reshape(ours.shape)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("name", MAPS)
def test_jacobian_matches_finite_differences(name):
    system = get_system(name)
    compiled = compile_system(system)
    rng = np.random.default_rng(1)
    h = 1e-6
    for y in _random_states(system, rng, n=5):
        if name == "Chebyshev":
            y = np.clip(y, -0.9, 0.9)
        if name in ("Baker", "KaplanYorke", "Zaslavskii"):  # away from the jumps of floor/mod
            y = np.array([0.3, 0.3])
        J = compiled.jacobian(y)
        fd = np.column_stack([(compiled(y + h * e) - compiled(y - h * e)) / (2 * h)
                              for e in np.eye(system.dim)])
        np.testing.assert_allclose(J, fd, rtol=1e-5, atol=1e-5, err_msg=name)


def test_iteration_is_the_map_applied_repeatedly():
    system = get_system("Henon")
    y = np.array(system.initial_condition)
    expected = []
    for _ in range(30):
        expected.append(y)
        y = np.array([1 - 1.4 * y[0] ** 2 + y[1], 0.3 * y[0]])
    np.testing.assert_allclose(iterate_map("Henon", 30), expected, rtol=1e-12)
    np.testing.assert_allclose(iterate_map("Henon", 10, transient=5, ic=expected[0]), expected[5:15])
    t, z = map_trajectory("Henon", 10, transient=5, standardize=True)
    assert t[0] == 5 and np.allclose(z.mean(axis=0), 0) and np.allclose(z.std(axis=0), 1)


def test_an_escaping_orbit_raises():
    with pytest.raises(FloatingPointError, match="Henon"):
        iterate_map("Henon", 100, ic=[10.0, 10.0])


# ------------------------------------------------------------------- Lyapunov spectra
def test_logistic_at_r4_has_exponent_ln2():
    r = map_lyapunov_spectrum("Logistic", params={"r": 4.0}, n_steps=100_000)
    assert r["spectrum"][0] == pytest.approx(math.log(2), abs=5e-3)


def test_henon_exponents_match_published_and_the_jacobian_determinant():
    """lambda_1 = 0.419 (Sprott 2003, Chaos and Time-Series Analysis, table A.1); the sum is
    ln |det J| = ln b exactly, since the Henon map contracts areas uniformly."""
    r = map_lyapunov_spectrum("Henon", n_steps=100_000)
    assert r["spectrum"][0] == pytest.approx(0.41922, abs=0.01)
    assert r["spectrum"].sum() == pytest.approx(math.log(0.3), abs=1e-9)


@pytest.mark.parametrize("name, lambda1, det", [
    ("Lozi", 0.47023, math.log(0.5)),      # |det J| = b
    ("Ikeda", 0.50760, 2 * math.log(0.9)),  # a twist times u: |det J| = u^2
])
def test_published_exponents_and_exact_sums(name, lambda1, det):
    """lambda_1 from Sprott (2003), Chaos and Time-Series Analysis, appendix A; the sum of
    the exponents is ln |det J|, constant for these maps."""
    r = map_lyapunov_spectrum(name, n_steps=100_000)
    assert r["spectrum"][0] == pytest.approx(lambda1, abs=0.01)
    assert r["spectrum"].sum() == pytest.approx(det, abs=1e-9)


@pytest.mark.parametrize("name, expected", [
    ("Tent", [math.log(2 * 0.95)]),                  # |f'| = 2 mu everywhere
    ("Chebyshev", [math.log(6.0)]),                  # T_a is conjugate to angle times a
    ("Baker", [math.log(2.0), math.log(0.5)]),       # stretch 2, contract a/2
    ("KaplanYorke", [math.log(2.0), math.log(0.2)]),
])
def test_closed_form_exponents(name, expected):
    r = map_lyapunov_spectrum(name, n_steps=20_000)
    np.testing.assert_allclose(r["spectrum"], expected, atol=2e-3)


def test_stored_invariants_are_complete_and_labelled():
    for name in MAPS:
        inv = get_system(name).invariants
        assert len(inv["lyapunov_spectrum"]) == get_system(name).dim, name
        assert inv["chaos"]["label"] == chaos_label(inv["lyapunov_spectrum"], inv["lyapunov_stderr"])
        assert "QR" in inv["methods"]["lyapunov"]["method"]
    assert get_system("Henon").chaos_label == "chaotic"
    assert get_system("Gingerbreadman").chaos_label == "not_chaotic"


def test_maps_file_round_trips(tmp_path):
    from dysts_bench.map_registry import default_maps_path, write_maps
    raw = json.loads(default_maps_path().read_text())
    write_maps(raw, tmp_path / "maps.json")
    assert (tmp_path / "maps.json").read_text() == default_maps_path().read_text()
    assert list(load_maps(tmp_path / "maps.json")) == MAPS


def test_make_trajectory_iterates_a_map():
    from dysts_bench import make_trajectory
    t, y = make_trajectory("Henon", 20, transient=3)
    np.testing.assert_array_equal(y, iterate_map("Henon", 20, transient=3))
    assert list(t[:2]) == [3.0, 4.0]

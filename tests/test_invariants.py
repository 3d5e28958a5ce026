"""Invariants against published values, exact identities and synthetic ground truth."""

import numpy as np
import pytest

from dysts_bench import get_system, list_systems
from dysts_bench.invariants import (correlation_dimension, dominant_period, estimate_period,
                                    kaplan_yorke_dimension, lyapunov_spectrum, trace_average)


def test_lorenz_spectrum_matches_literature():
    """λ1 = 0.9056 (Sprott 2003, Chaos and Time-Series Analysis, table A.?); the sum is the
    constant divergence -(sigma + 1 + beta)."""
    result = lyapunov_spectrum("Lorenz", n_periods=1500)
    lam = result["spectrum"]
    assert abs(lam[0] - 0.9056) / 0.9056 < 0.01
    total = -(10 + 1 + 8 / 3)
    assert abs(lam.sum() - total) / abs(total) < 0.005
    assert abs(lam[1]) < 0.01  # the flow direction


def test_rossler_maximum_exponent():
    lam = lyapunov_spectrum("Rossler", n_periods=1000)["spectrum"]
    assert abs(lam[0] - 0.0714) / 0.0714 < 0.05


def _short_window_systems():
    return [n for n in list_systems() if not get_system(n).delay]


@pytest.mark.slow  # a tangent integration for every ODE system
@pytest.mark.parametrize("name", _short_window_systems())
def test_spectrum_sum_equals_trace_average_on_the_same_trajectory(name):
    """Liouville: sum of exponents * T = integral of tr J along the same orbit. A window of
    a few periods keeps the two integrations on the same trajectory, so the identity is
    checked sharply, and the trace is evaluated by the independent numpy back end."""
    result = lyapunov_spectrum(name, n_periods=4, n_blocks=4, transient_periods=2,
                               rtol=1e-11, atol=1e-11)
    total = result["spectrum"].sum()
    reference, scale = trace_average(name, result["start_state"],
                                     result["settings"]["averaging_time"], pts_per_period=2000)
    # Smooth systems agree to ~1e-8; piecewise ones (jumps in tr J) and steep switching
    # protocols (InteriorSquirmer's tanh(20 ...)) limit the agreement to ~2e-3 of the
    # mean |tr J|, through the quadrature and the tangent integration across the jumps.
    assert abs(total - reference) <= 3e-3 * scale + 1e-6, (total, reference, scale)


@pytest.mark.parametrize("name", [n for n in list_systems()
                                  if get_system(n).invariants.get("lyapunov_spectrum")])
def test_stored_invariants_are_consistent(name):
    """The annotated spectrum: sorted, sum negative or zero (dissipative or conservative),
    one exponent near zero for an autonomous flow, symmetric for Hamiltonian systems, and
    a Kaplan-Yorke dimension that follows from it."""
    system = get_system(name)
    inv = system.invariants
    lam = np.array(inv["lyapunov_spectrum"])
    err = np.array(inv["lyapunov_stderr"])
    assert np.all(np.diff(lam) <= 0)
    if inv.get("kaplan_yorke_dimension") is not None:
        assert inv["kaplan_yorke_dimension"] == pytest.approx(kaplan_yorke_dimension(lam))
    assert inv["maximum_lyapunov"] == lam[0]
    if system.delay:
        return  # a leading part of an infinite spectrum: no sum rule, zero may lie beyond it
    if not system.discontinuous:
        # (A jumping vector field contracts volume at its switching surfaces, which the
        # almost-everywhere Jacobian does not see.)
        assert lam.sum() <= 5 * err.max() + 1e-6
    scale = max(abs(lam[0]), 1e-3)
    assert np.min(np.abs(lam)) <= max(5 * err.max(), 0.05 * scale)
    if system.hamiltonian and not system.nonautonomous:
        np.testing.assert_allclose(lam, -lam[::-1], atol=5 * err.max() + 0.02 * scale)


def test_hamiltonian_spectrum_is_symmetric():
    result = lyapunov_spectrum("DoublePendulum", n_periods=300)
    lam, err = result["spectrum"], result["stderr"]
    # Pairs sum to zero up to the finite-time statistical error; the total is exact
    # (symplectic flow: the phase-space volume is conserved).
    np.testing.assert_allclose(lam, -lam[::-1], atol=3 * err.max())
    assert abs(lam.sum()) < 1e-8
    assert lam[0] > 0.1 and lam[0] > 5 * err[0]


def test_kaplan_yorke_by_hand():
    assert kaplan_yorke_dimension([0.9, 0.0, -14.5]) == pytest.approx(2 + 0.9 / 14.5)
    assert kaplan_yorke_dimension([0.5, 0.1, -0.2, -2.0]) == pytest.approx(3 + 0.4 / 2.0)
    assert kaplan_yorke_dimension([-0.1, -1.0]) == 0.0
    assert kaplan_yorke_dimension([0.2, 0.1]) == 2.0


def test_correlation_dimension_of_known_sets():
    rng = np.random.default_rng(0)
    theta = rng.uniform(0, 2 * np.pi, 3000)
    circle = np.c_[np.cos(theta), np.sin(theta)]
    assert correlation_dimension(circle) == pytest.approx(1.0, abs=0.1)
    square = rng.uniform(size=(3000, 2))
    assert correlation_dimension(square) == pytest.approx(2.0, abs=0.15)
    cube = rng.uniform(size=(3000, 3))
    assert correlation_dimension(cube) == pytest.approx(3.0, abs=0.3)


def test_lorenz_correlation_dimension_matches_grassberger_procaccia():
    from dysts_bench import make_trajectory
    _, y = make_trajectory("Lorenz", 12500, pts_per_period=25)
    assert correlation_dimension(y) == pytest.approx(2.05, abs=0.1)


def test_dominant_period_of_synthetic_signal():
    dt = 0.01
    t = np.arange(20000) * dt
    y = np.c_[np.sin(2 * np.pi * t / 1.7) + 0.3 * np.sin(2 * np.pi * t / 0.4), np.cos(2 * np.pi * t / 1.7)]
    assert dominant_period(y, dt) == pytest.approx(1.7, rel=1e-3)


def test_lorenz_period_is_the_fast_rotation():
    # The lobe rotation of the Lorenz attractor is ~0.76 time units (its power spectrum peak).
    assert estimate_period("Lorenz") == pytest.approx(0.76, rel=0.05)


def test_pseudospectral_delay_exponents_match_characteristic_roots():
    """x' = -x(t - 1) is linear: its Lyapunov exponents are the real parts of the roots of
    λ = -exp(-λ), in complex pairs; the rightmost pair is W_0(-1) (Lambert W)."""
    from scipy.special import lambertw

    from dysts_bench.invariants import delay_as_ode
    from dysts_bench.registry import parse_entry
    from tests.conftest import entry
    system = parse_entry("LinearDelay", entry(
        ["x"], ["-lag(x)"], {"tau": 1.0}, delay={"tau": "tau"}, period=4.7,
        flags={"nonautonomous": False, "delay": True, "hamiltonian": False}))
    ode = delay_as_ode(system, 12, history=np.cos(np.linspace(0, 1, 13)))
    lam = lyapunov_spectrum(ode, k=2, n_periods=400, transient_periods=5)["spectrum"]
    expected = lambertw(-1).real
    # A rotating complex pair splits its two exponents over finite time; their sum is exact.
    assert lam.sum() / 2 == pytest.approx(expected, rel=5e-3)

"""The compiled integrators against analytic solutions, conserved quantities and scipy."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from dysts_bench import compile_system, get_system, make_trajectory
from dysts_bench import expressions as ex
from dysts_bench.registry import conserved_tree, evaluate_on_states
from dysts_bench.solvers import EXPLICIT, IntegrationError, integrate
from dysts_bench.solvers.control import error_scale
from dysts_bench.solvers.erk import (dense_coefficients, dense_eval, embedded_error,
                                    has_second_estimator, rk_stages)
from dysts_bench.solvers.specialise import compile_tableau, step_source

A, W = 0.3, 2.0  # damped rotation: x' = -a x + w y, y' = -w x - a y


@pytest.fixture(scope="module")
def damped_rotation():
    from dysts_bench.registry import parse_entry
    from tests.conftest import entry
    return compile_system(parse_entry("DampedRotation", entry(
        ["x", "y"], ["-a*x + w*y", "-w*x - a*y"], {"a": A, "w": W})))


def rotation_exact(t, x0, y0):
    decay = np.exp(-A * t)
    return np.stack([decay * (x0 * np.cos(W * t) + y0 * np.sin(W * t)),
                     decay * (-x0 * np.sin(W * t) + y0 * np.cos(W * t))], axis=-1)


@pytest.mark.parametrize("method", ["dop853", "dopri5", "rosenbrock23"])
def test_linear_ode_matches_analytic_solution(damped_rotation, method):
    t = np.linspace(0, 10, 777)  # output times fall inside steps: tests dense output
    rtol = 1e-11 if method != "rosenbrock23" else 1e-7
    y, stats = integrate(damped_rotation, [1.0, 0.5], t, method=method, rtol=rtol, atol=rtol)
    err = np.max(np.abs(y - rotation_exact(t, 1.0, 0.5)))
    assert err < 1e3 * rtol, err
    assert stats.status == 0 and stats.n_steps > 5


@pytest.mark.parametrize("method, order", [("dopri5", 5), ("dop853", 8)])
def test_fixed_step_convergence_order(damped_rotation, method, order):
    """Global error of the bare Runge-Kutta step (no control) shrinks as h**order."""
    tab = EXPLICIT[method]
    Amat, c, b, *_ = tab.arrays
    s = b.size

    def solve(h, T=2.0):
        y = np.array([1.0, 0.5])
        K = np.zeros((c.size, 2))
        ytmp = np.empty(2)
        for i in range(round(T / h)):
            damped_rotation.rhs(i * h, y, damped_rotation.params, K[0])
            rk_stages(damped_rotation.rhs, i * h, y, h, damped_rotation.params, Amat, c, 1, s, K, ytmp, np.empty(2))
            y = y + h * (b @ K[:s])
        return np.max(np.abs(y - rotation_exact(T, 1.0, 0.5)))

    h = 0.2 if method == "dopri5" else 0.4
    observed = math.log2(solve(h) / solve(h / 2))
    assert abs(observed - order) < 0.5, observed


@pytest.mark.parametrize("method, order", [("dopri5", 4), ("dop853", 7)])
def test_dense_output_order(damped_rotation, method, order):
    """Interpolation error inside one step shrinks as h**(order+1)."""
    tab = EXPLICIT[method]
    Amat, c, b, e5, e3, dense = tab.arrays
    s = b.size
    f, p = damped_rotation.rhs, damped_rotation.params

    def interp_error(h):
        y0 = np.array([1.0, 0.5])
        K = np.zeros((c.size, 2))
        ytmp = np.empty(2)
        f(0.0, y0, p, K[0])
        rk_stages(f, 0.0, y0, h, p, Amat, c, 1, s, K, ytmp, np.empty(2))
        # Exact end point isolates the interpolant's own error.
        y1 = y0 + h * (b @ K[:s])
        f(h, y1, p, K[s])
        rk_stages(f, 0.0, y0, h, p, Amat, c, s + 1, c.size, K, ytmp, np.empty(2))
        F = np.empty((3 + dense.shape[0], 2))
        dense_coefficients(y0, y1, h, K, s, dense, F)
        out = np.empty(2)
        worst = 0.0
        for theta in (0.2, 0.45, 0.7):
            dense_eval(y0, F, theta, out)
            worst = max(worst, np.max(np.abs(out - rotation_exact(theta * h, 1.0, 0.5))))
        return worst

    observed = math.log2(interp_error(0.4) / interp_error(0.2))
    assert observed > order + 0.5, observed


@pytest.mark.parametrize("method", list(EXPLICIT))
def test_specialised_step_functions_match_the_tableau_arithmetic(method):
    """The step functions generated from a tableau do, bit for bit, what the array-driven
    reference functions do with the same tableau (on Lorenz, from random states and steps)."""
    tab = EXPLICIT[method]
    Amat, c, b, e5, e3, dense = tab.arrays
    S, s = c.size, b.size
    fast = compile_tableau(tab)
    lorenz = compile_system("Lorenz")
    f, p = lorenz.rhs, lorenz.params
    rng = np.random.default_rng(0)
    for _ in range(20):
        t, h = rng.uniform(0, 10), rng.uniform(1e-4, 0.05)
        y = rng.normal(scale=10.0, size=3)
        rtol, atol = 10.0 ** rng.uniform(-12, -4), 10.0 ** rng.uniform(-12, -4)
        K_ref = np.zeros((S, 3))
        f(t, y, p, K_ref[0])
        K_fast = K_ref.copy()

        rk_stages(f, t, y, h, p, Amat, c, 1, s, K_ref, np.empty(3), np.empty(3))
        acc = np.zeros(3)
        for j in range(s):  # the loop's own order of summation
            acc += b[j] * K_ref[j]
        y_new_ref = y + h * acc
        f(t + h, y_new_ref, p, K_ref[s])
        y_new = np.empty(3)
        fast.step(f, t, y, h, p, K_fast, np.empty(3), y_new, np.empty(3))
        np.testing.assert_array_equal(K_fast[: s + 1], K_ref[: s + 1])
        np.testing.assert_array_equal(y_new, y_new_ref)

        scale = np.empty(3)
        error_scale(y, y_new, rtol, atol, scale)
        expected = embedded_error(K_ref, s, e5, e3, has_second_estimator(e3), h, scale,
                                  np.empty(3), np.empty(3))
        assert fast.error(K_fast, h, y, y_new, rtol, atol) == expected

        rk_stages(f, t, y, h, p, Amat, c, s + 1, S, K_ref, np.empty(3), np.empty(3))
        F_ref = np.empty((3 + dense.shape[0], 3))
        dense_coefficients(y, y_new, h, K_ref, s, dense, F_ref)
        F_fast = np.empty_like(F_ref)
        fast.dense(f, t, y, y_new, h, p, K_fast, np.empty(3), np.empty(3), F_fast)
        np.testing.assert_array_equal(F_fast, F_ref)

        theta = rng.uniform()
        ref, got = np.empty(3), np.empty((2, 3))
        dense_eval(y, F_ref, theta, ref)
        fast.interpolate(y, F_fast, theta, got, 1)
        np.testing.assert_array_equal(got[1], ref)


def test_specialised_source_skips_zero_coefficients():
    tab = EXPLICIT["dop853"]
    source = step_source(tab)
    # Only the non-zero coefficients of the stage, weight, error and dense rows appear.
    n_terms = source.count("* K[")
    n_nonzero = (np.count_nonzero(tab.A) + np.count_nonzero(tab.b) + np.count_nonzero(tab.e5)
                 + np.count_nonzero(tab.e3) + np.count_nonzero(tab.dense))
    # Row s of A is b again (the first-same-as-last stage is f(t + h, y_new)), and the
    # dense coefficient F1 = h * K[0] - delta adds one term.
    assert n_terms == n_nonzero - np.count_nonzero(tab.A[tab.b.size]) + 1


def test_harmonic_oscillator_and_energy(make_system):
    osc = compile_system(make_system("Oscillator", ["q", "v"], ["v", "-k*q"], {"k": 4.0}))
    t = np.linspace(0, 50, 2001)
    y, _ = integrate(osc, [1.0, 0.0], t)
    np.testing.assert_allclose(y[:, 0], np.cos(2 * t), atol=1e-9)
    energy = 0.5 * y[:, 1] ** 2 + 2.0 * y[:, 0] ** 2
    assert np.ptp(energy) < 1e-9


def test_double_pendulum_conserves_its_hamiltonian():
    system = get_system("DoublePendulum")
    compiled = compile_system(system)
    t = np.linspace(0, 40, 4001)
    y, _ = integrate(compiled, system.initial_condition, t)
    H = evaluate_on_states(system, _with_defs(system, conserved_tree(system, "energy")), y)
    assert np.max(np.abs(H - H[0])) / abs(H[0]) < 1e-8


def test_double_pendulum_equations_are_hamiltons_equations():
    """dq/dt = dH/dp and dp/dt = -dH/dq, with H differentiated symbolically."""
    system = get_system("DoublePendulum")
    compiled = compile_system(system)
    H = _with_defs(system, conserved_tree(system, "energy"))
    no_aux = lambda name: ex.ZERO  # noqa: E731 (definitions are substituted)
    rng = np.random.default_rng(3)
    for _ in range(20):
        state = rng.uniform(-2, 2, 4)
        env = {**dict(zip(system.variables, state)), **system.parameters}
        grad = {v: ex.evaluate(ex.diff(H, v, no_aux), env) for v in system.variables}
        expected = [grad["p1"], grad["p2"], -grad["th1"], -grad["th2"]]
        np.testing.assert_allclose(compiled(state), expected, rtol=1e-10, atol=1e-10)


def _with_defs(system, tree):
    """Substitute the system's definitions into a tree (so it is a function of the state)."""
    defs = dict(zip([a for a, _ in system.definitions], system.trees[0]))

    def sub(node):
        if node[0] == "sym" and node[1] == "aux":
            return sub(defs[node[2]])
        if node[0] in ("num", "sym", "idx"):
            return node
        if node[0] == "call":
            return ("call", node[1], tuple(sub(a) for a in node[2]))
        if node[0] == "bool":
            return ("bool", node[1], tuple(sub(a) for a in node[2]))
        if node[0] in ("bin", "cmp"):
            return (node[0], node[1], sub(node[2]), sub(node[3]))
        return (node[0], *(sub(a) for a in node[1:]))
    return sub(tree)


def test_lorenz_matches_scipy_dop853_over_a_lyapunov_time():
    system = get_system("Lorenz")
    compiled = compile_system(system)
    p = dict(system.parameters)

    def f(t, u):
        x, y, z = u
        return [p["sigma"] * (y - x), x * (p["rho"] - z) - y, x * y - p["beta"] * z]

    t = np.linspace(0, 1 / 0.9056, 200)
    ref = solve_ivp(f, (0, t[-1]), system.initial_condition, method="DOP853", t_eval=t,
                    rtol=1e-12, atol=1e-12).y.T
    ours, _ = integrate(compiled, system.initial_condition, t)
    rel = np.max(np.linalg.norm(ours - ref, axis=1) / np.linalg.norm(ref, axis=1))
    assert rel < 1e-6, rel


def test_stiff_van_der_pol_with_rosenbrock(make_system):
    vdp = compile_system(make_system("StiffVdP", ["x", "y"], ["y", "mu*(1 - x*x)*y - x"],
                                     {"mu": 1000.0}))
    t = np.linspace(0, 3000, 301)
    y, stats = integrate(vdp, [2.0, 0.0], t, method="rosenbrock23", rtol=1e-6, atol=1e-6)
    ref = solve_ivp(lambda _, u: [u[1], 1000 * (1 - u[0] ** 2) * u[1] - u[0]], (0, 3000),
                    [2.0, 0.0], method="Radau", t_eval=t, rtol=1e-10, atol=1e-10,
                    jac=lambda _, u: [[0, 1], [-2000 * u[0] * u[1] - 1, 1000 * (1 - u[0] ** 2)]]).y.T
    # Compare away from the fast jumps, where timing errors dominate.
    calm = np.abs(ref[:, 1]) < 1.0
    assert np.max(np.abs(y[calm, 0] - ref[calm, 0])) < 1e-2
    assert stats.n_steps < 5000
    # An explicit method needs far more steps on the same problem.
    _, explicit = integrate(vdp, [2.0, 0.0], t[:31], method="dopri5", rtol=1e-6, atol=1e-6)
    assert explicit.n_steps > 20 * stats.n_steps / 10


def test_batch_equals_individual_runs_and_is_deterministic():
    ics = get_system("Lorenz").initial_condition + np.random.default_rng(0).normal(size=(5, 3))
    _, batch = make_trajectory("Lorenz", 300, ic=ics)
    for i, ic in enumerate(ics):
        _, single = make_trajectory("Lorenz", 300, ic=ic)
        np.testing.assert_array_equal(batch[i], single)
    _, again = make_trajectory("Lorenz", 300, ic=ics)
    np.testing.assert_array_equal(batch, again)


def test_blow_up_is_reported_not_returned(make_system):
    blow = compile_system(make_system("BlowUp", ["x"], ["x*x"]))
    with pytest.raises(IntegrationError, match="BlowUp"):
        integrate(blow, [1.0], np.linspace(0, 2, 10))
    y, stats = integrate(blow, [1.0], np.linspace(0, 2, 10), check=False)
    assert stats.status != 0


def test_input_validation(damped_rotation):
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        integrate(damped_rotation, [1.0, 2.0, 3.0], [0, 1])
    with pytest.raises(ValueError, match="increasing"):
        integrate(damped_rotation, [1.0, 2.0], [0, 2, 1])
    with pytest.raises(ValueError, match="not finite"):
        integrate(damped_rotation, [np.nan, 2.0], [0, 1])
    with pytest.raises(ValueError, match="unknown method"):
        integrate(damped_rotation, [1.0, 2.0], [0, 1], method="euler")


def test_integrator_compiled_once_for_all_systems():
    from dysts_bench.solvers.erk import integrate_erk
    for name in ("Lorenz", "Rossler", "HyperRossler", "Chua"):
        make_trajectory(name, 10)
        make_trajectory(name, 10, method="dopri5")
    assert len(integrate_erk.signatures) == 1


def test_second_process_loads_compiled_code_from_disk(tmp_path):
    code = ("from dysts_bench import compile_system; c = compile_system('Rossler');"
            "print(sum(c.rhs.stats.cache_hits.values()), sum(c.rhs.stats.cache_misses.values()))")
    env = {**os.environ, "DYSTS_BENCH_CACHE_DIR": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["0", "1"]
    assert second.stdout.split() == ["1", "0"]


def test_trajectory_options():
    t, y = make_trajectory("Lorenz", 200, pts_per_period=50)
    assert y.shape == (200, 3)
    np.testing.assert_allclose(np.diff(t), get_system("Lorenz").period / 50)
    _, z = make_trajectory("Lorenz", 200, pts_per_period=50, standardize=True)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1)
    _, n1 = make_trajectory("Lorenz", 200, noise=0.1, seed=4)
    _, n2 = make_trajectory("Lorenz", 200, noise=0.1, seed=4)
    _, clean = make_trajectory("Lorenz", 200)
    np.testing.assert_array_equal(n1, n2)
    ratio = (n1 - clean).std(axis=0) / clean.std(axis=0)
    assert np.all(np.abs(ratio - 0.1) < 0.03)
    # A transient shifts the window: sample k of the shifted run is sample k+100 of the other.
    _, long = make_trajectory("Lorenz", 300, pts_per_period=100)
    _, shifted = make_trajectory("Lorenz", 200, pts_per_period=100, transient=1.0)
    np.testing.assert_allclose(shifted, long[100:], rtol=1e-8, atol=1e-8)
    t_raw, _ = make_trajectory("Lorenz", 10, resample=False)
    np.testing.assert_allclose(np.diff(t_raw), get_system("Lorenz").dt)


def test_output_map_observes_phase_through_sine():
    _, y = make_trajectory("ForcedVanDerPol", 500)
    assert np.all(np.abs(y[:, 2]) <= 1.0)
    assert y[:, 2].std() > 0.3

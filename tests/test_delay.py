"""Tests of the delay-differential-equation integrator (dysts_bench.solvers.delay) and of the
delay systems of the registry.

Ground truths are independent of the code under test: closed-form solutions obtained by
the method of steps, a fixed-step RK4 reference written here in plain numpy, and the
reference package's right-hand sides.
"""

import math

import numpy as np
import pytest

from dysts_bench import compile_system, list_systems
from dysts_bench.registry import parse_entry
from dysts_bench.solvers import IntegrationError
from dysts_bench.solvers.delay import (delay_embedding, delay_lags, delay_of, delay_trajectory,
                                       integrate_delay)

DELAY_SYSTEMS = ["MackeyGlass", "IkedaDelay", "SprottDelay", "VossDelay", "ScrollDelay",
                 "PiecewiseCircuit"]


def _registered(name):
    """Compile a delay system from the main registry, or skip with the reason."""
    if name not in list_systems():
        pytest.skip(f"{name} is not in the registry yet: merge registry_parts/delay.json into "
                    "systems.json (or point DYSTS_BENCH_SYSTEMS at a merged copy)")
    return compile_system(name)


def _entry(variables, equations, parameters, ic, embedding=1):
    return {"description": "test system", "citation": "none", "variables": variables,
            "parameters": parameters, "equations": equations, "initial_condition": ic,
            "flags": {"nonautonomous": False, "delay": True, "hamiltonian": False},
            "dt": 0.01, "period": 1.0, "delay": {"tau": "tau", "embedding": embedding}}


@pytest.fixture(scope="module")
def negative_feedback():
    """y' = -a y(t - tau), history y = 1."""
    return compile_system(parse_entry("NegFeedback", _entry(
        ["y"], {"y": "-a*lag(y)"}, {"a": 1.0, "tau": 1.0}, [1.0])))


def exact_negative_feedback(t, tau):
    """Method of steps for y' = -y(t - tau), y = 1 on t <= 0:
    y(t) = sum_k (-1)^k (t - (k-1) tau)^k / k!  over the k with t - (k-1) tau >= 0."""
    t = np.asarray(t, dtype=float)
    y = np.zeros_like(t)
    for k in range(0, int(t.max() / tau) + 3):
        u = t - (k - 1) * tau
        y += np.where(u >= 0, (-1.0) ** k * np.clip(u, 0, None) ** k / math.factorial(k), 0.0)
    return y


# ------------------------------------------------------------ closed-form solutions
@pytest.mark.parametrize("method", ["dop853", "dopri5"])
def test_method_of_steps_polynomial_solution(negative_feedback, method):
    t = np.linspace(0.0, 5.0, 201)
    exact = exact_negative_feedback(t, 1.0)
    # the first intervals, written out
    np.testing.assert_allclose(exact[t <= 1], 1 - t[t <= 1], atol=1e-15)
    m = (t >= 1) & (t <= 2)
    np.testing.assert_allclose(exact[m], 1 - t[m] + (t[m] - 1) ** 2 / 2, atol=1e-15)
    y, stats = integrate_delay(negative_feedback, [1.0], t, method=method)
    assert stats.status == 0
    assert np.max(np.abs(y[:, 0] - exact)) < 1e-8


def test_parameter_override_changes_the_delay():
    c = compile_system(parse_entry("NegFeedback", _entry(
        ["y"], {"y": "-a*lag(y)"}, {"a": 1.0, "tau": 1.0}, [1.0])), tau=0.7)
    assert delay_of(c) == 0.7
    t = np.linspace(0.0, 4.0, 81)
    y, _ = integrate_delay(c, [1.0], t)
    assert np.max(np.abs(y[:, 0] - exact_negative_feedback(t, 0.7))) < 1e-8
    # and the registry's delay really was replaced: tau = 1 gives another solution
    assert np.max(np.abs(y[:, 0] - exact_negative_feedback(t, 1.0))) > 1e-2


def exact_linear(t, a, b):
    """y' = a y(t) + b y(t - 1), y = 1 on t <= 0, by the method of steps on [0, 2]."""
    t = np.asarray(t, dtype=float)
    r = b / a
    y1 = lambda s: (1 + r) * np.exp(a * s) - r  # noqa: E731
    e = np.exp(a * (t - 1))
    y2 = (y1(1.0) - r * r) * e + b * (1 + r) * (t - 1) * e + r * r
    return np.where(t <= 1, y1(t), y2)


@pytest.mark.parametrize("method", ["dop853", "dopri5"])
def test_convergence_with_tolerance(method):
    a, b = -0.5, -1.3
    c = compile_system(parse_entry("LinearDelay", _entry(
        ["y"], {"y": "a*y + b*lag(y)"}, {"a": a, "b": b, "tau": 1.0}, [1.0])))
    t = np.linspace(0.0, 2.0, 41)
    exact = exact_linear(t, a, b)
    errors = []
    for tol in (1e-4, 1e-6, 1e-8, 1e-10, 1e-12):
        y, _ = integrate_delay(c, [1.0], t, rtol=tol, atol=tol, method=method)
        errors.append(np.max(np.abs(y[:, 0] - exact)))
    assert errors[-1] < 1e-10
    assert errors[3] < 1e-8
    assert errors[-1] < errors[0] / 100
    assert all(e < 100 * tol for e, tol in zip(errors, (1e-4, 1e-6, 1e-8, 1e-10, 1e-12)))


def test_long_history_buffer():
    """Thousands of steps per delay (the history buffer must grow, be searched and pruned):
    x' = v, v' = -x, z' = x(t - tau), with tau = 100, has a closed form."""
    tau = 100.0
    c = compile_system(parse_entry("LagIntegral", _entry(
        ["x", "v", "z"], {"x": "v", "v": "-x", "z": "lag(x)"}, {"tau": tau}, [0.8, 0.3, 0.0])))
    x0, v0 = 0.8, 0.3
    t = np.linspace(0.0, 3.0 * tau, 400)
    y, stats = integrate_delay(c, [x0, v0, 0.0], t, rtol=1e-13, atol=1e-13)
    assert stats.n_steps / 3 > 2 * 256  # steps per delay: over twice the buffer's first size
    np.testing.assert_allclose(y[:, 0], x0 * np.cos(t) + v0 * np.sin(t), atol=1e-9)
    u = np.clip(t - tau, 0, None)  # z = x0 min(t, tau) + int_0^{t-tau} (x0 cos + v0 sin)
    z = x0 * np.minimum(t, tau) + x0 * np.sin(u) + v0 * (1 - np.cos(u))
    np.testing.assert_allclose(y[:, 2], z, atol=1e-8)


def test_batch_and_history_before_t0(negative_feedback):
    t = np.linspace(0.5, 3.0, 11)
    ys, stats = integrate_delay(negative_feedback, [[1.0], [2.0]], t, t0=0.0)
    assert ys.shape == (2, 11, 1) and len(stats) == 2
    single, _ = integrate_delay(negative_feedback, [2.0], t, t0=0.0)
    np.testing.assert_array_equal(ys[1], single)
    np.testing.assert_allclose(ys[1, :, 0], 2 * exact_negative_feedback(t, 1.0), atol=1e-8)


def test_validation_and_failures(negative_feedback):
    t = np.linspace(0, 1, 5)
    with pytest.raises(ValueError):
        integrate_delay(negative_feedback, [1.0], t[::-1])
    with pytest.raises(ValueError):
        integrate_delay(negative_feedback, [1.0, 2.0], t)
    with pytest.raises(ValueError):
        integrate_delay(negative_feedback, [np.nan], t)
    with pytest.raises(ValueError):
        integrate_delay(negative_feedback, [1.0], t, t0=0.5)
    with pytest.raises(ValueError):
        integrate_delay(negative_feedback, [1.0], t, rtol=0.0)
    with pytest.raises(IntegrationError):
        integrate_delay(negative_feedback, [1.0], np.linspace(0, 50, 5), max_steps=3)
    _, stats = integrate_delay(negative_feedback, [1.0], np.linspace(0, 50, 5), max_steps=3,
                               check=False)
    assert stats.status == 1
    blowup = compile_system(parse_entry("Blowup", _entry(
        ["y"], {"y": "lag(y)**2 + y**3"}, {"tau": 1.0}, [1.0])))
    with pytest.raises(IntegrationError):
        integrate_delay(blowup, [1.0], np.linspace(0, 5, 5))
    ode = compile_system("Lorenz")
    with pytest.raises(IntegrationError):
        integrate_delay(ode, [1.0, 1.0, 1.0], t)


# --------------------------------------------------------------------- embedding
def test_delay_embedding_layout():
    y = np.arange(20.0)[:, None] * np.array([1.0, -1.0])  # two variables
    emb = delay_embedding(y, 2, 3)
    assert emb.shape == (20 - 4, 6)
    # row k: variable m at samples k+4, k+2, k (newest first), column m*3 + j
    np.testing.assert_array_equal(emb[0], [4, 2, 0, -4, -2, -0])
    np.testing.assert_array_equal(emb[-1], [19, 17, 15, -19, -17, -15])
    np.testing.assert_allclose(delay_lags(9.0, 10), np.arange(10.0))


def test_delay_trajectory_matches_uniform_embedding(negative_feedback):
    """With samples spaced tau/(E-1) apart, the exact lagged evaluation equals the plain
    delay embedding of the sampled series; both equal the closed form."""
    E = 4
    c = compile_system(parse_entry("NegFeedback4", _entry(
        ["y"], {"y": "-a*lag(y)"}, {"a": 1.0, "tau": 1.5}, [1.0], embedding=E)))
    step = 1.5 / (E - 1)
    grid = step * np.arange(40)
    series = exact_negative_feedback(grid, 1.5)[:, None]
    expected = delay_embedding(series, 1, E)
    traj = delay_trajectory(c, grid[E - 1:], rtol=1e-12, atol=1e-12)
    assert traj.shape == (40 - (E - 1), E)
    np.testing.assert_allclose(traj, expected, atol=1e-9)
    # lags reaching before t0 read the constant history
    early = delay_trajectory(c, np.array([0.0, 0.25]))
    np.testing.assert_allclose(early[0], [1, 1, 1, 1])
    np.testing.assert_allclose(early[1], [0.75, 1, 1, 1], atol=1e-12)


# ------------------------------------------------------------------ delay systems
def rk4_delay_reference(f, x0, tau, n_per_delay, t_end):
    """Fixed-step RK4 for a scalar DDE with constant history x0, step h = tau / N so that
    the lagged grid points are grid points; half-step lags from the cubic Hermite
    interpolant of the stored solution and derivative (4th order, like RK4)."""
    N = n_per_delay
    h = tau / N
    steps = int(round(t_end / h))
    x = np.empty(steps + 1)
    d = np.empty(steps + 1)
    x[0] = x0

    def lag(j):  # x at grid point j (j < 0: history)
        return x0 if j < 0 else x[j]

    def lag_half(j):  # x at the middle of [t_j, t_j+1]
        if j < 0:
            return x0
        return 0.5 * (x[j] + x[j + 1]) + h * (d[j] - d[j + 1]) / 8.0

    d[0] = f(x0, x0)
    for k in range(steps):
        xm = lag_half(k - N)
        k1 = d[k]
        k2 = f(x[k] + 0.5 * h * k1, xm)
        k3 = f(x[k] + 0.5 * h * k2, xm)
        k4 = f(x[k] + h * k3, lag(k + 1 - N))
        x[k + 1] = x[k] + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6.0
        d[k + 1] = f(x[k + 1], lag(k + 1 - N))
    return h * np.arange(steps + 1), x


def test_mackey_glass_against_rk4_reference():
    c = _registered("MackeyGlass")
    beta, gamma, n, tau = 0.2, 0.1, 10.0, 16.0  # the published parameters
    assert delay_of(c) == tau
    x0 = c.system.initial_condition[0]
    t, ref = rk4_delay_reference(lambda x, xl: beta * xl / (1 + xl ** n) - gamma * x,
                                 x0, tau, 800, 96.0)
    every = 50
    y, _ = integrate_delay(c, [x0], t[::every], t0=0.0)
    assert np.max(np.abs(y[:, 0] - ref[::every])) < 1e-7
    assert np.ptp(ref) > 0.5  # the comparison covers real oscillations


@pytest.mark.parametrize("name", DELAY_SYSTEMS)
def test_delay_system_trajectory(name):
    c = _registered(name)
    s = c.system
    assert s.delay and s.dim == 1 and s.embedding == 10
    step = s.period / 100
    t = s.tau + step * np.arange(2000)  # the published window starts at tau
    y = delay_trajectory(c, t)
    assert y.shape == (2000, 10)
    assert np.all(np.isfinite(y))
    assert np.abs(y).max() < 100.0
    sd = y[1000:].std(axis=0)
    assert sd.min() > 1e-2 * max(1.0, np.abs(y).mean())  # not a fixed point
    # column j is the state tau*j/9 earlier
    lagged = delay_trajectory(c, t[t >= s.tau * 4 / 9 + t[0]] - s.tau * 4 / 9)[:, 0]
    np.testing.assert_allclose(y[-lagged.size:, 4], lagged, atol=1e-8 * (1 + np.abs(y).max()))


@pytest.mark.parametrize("name", DELAY_SYSTEMS)
def test_rhs_matches_reference_package(name):
    flows = pytest.importorskip("dysts.flows")
    c = _registered(name)
    model = getattr(flows, name)()
    rng = np.random.default_rng(1)
    for _ in range(50):
        x, xl = rng.uniform(-3, 3, 2)
        if name == "MackeyGlass":
            x, xl = abs(x), abs(xl)
        tt = float(rng.uniform(0, 100))
        ours = c([x], t=tt, ylag=[xl])[0]
        ref = float(np.asarray(model._rhs(x, xl, tt, *model.param_list)))
        assert ours == pytest.approx(ref, rel=1e-12, abs=1e-12)
    assert delay_of(c) == pytest.approx(model.tau)

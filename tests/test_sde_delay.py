"""The stochastic delay integrator (dysts_bench.solvers.delay.integrate_sdde), checked
against independent ground truth: the closed-form solution of y' = -y(t - 1) (zero noise)
and the stationary variance of a linear stochastic delay equation from its spectral
density (numerical quadrature) and from its closed form."""

import math

import numpy as np
import pytest
from scipy.integrate import quad

from dysts_bench.compile import compile_system
from dysts_bench.registry import parse_entry
from dysts_bench.solvers import IntegrationError
from dysts_bench.solvers.delay import (delay_embedding, delay_series, embedding_lag_samples,
                                       integrate_sdde)

from test_delay import _entry, exact_negative_feedback


@pytest.fixture(scope="module")
def feedback():
    """y' = -b y(t - tau), tau = 1."""
    return compile_system(parse_entry("SDDEFeedback", _entry(
        ["y"], {"y": "-b*lag(y)"}, {"b": 1.0, "tau": 1.0}, [1.0])))


def test_zero_noise_converges_at_first_order(feedback):
    """sigma = 0: Euler's method of steps; the error against the exact solution of
    y' = -y(t - 1), y = 1 on t <= 0, halves with the step."""
    t = np.linspace(0.0, 4.0, 41)  # output spacing 0.1
    exact = exact_negative_feedback(t, 1.0)
    errors = []
    for substeps in (5, 10, 20, 40, 80):
        y = integrate_sdde(feedback, [1.0], t, 0.0, substeps=substeps)
        errors.append(np.abs(y[:, 0] - exact).max())
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    np.testing.assert_allclose(ratios, 2.0, rtol=0.1)
    assert errors[-1] < 2e-3


def test_sampled_history_continues_the_solution(feedback):
    """Starting at t0 = 2 from the exact past sampled every 1e-3 (linearly interpolated)
    continues the exact solution, at first order in the step."""
    past = np.linspace(1.0, 2.0, 1001)
    t = np.linspace(2.0, 4.0, 21)
    exact = exact_negative_feedback(t, 1.0)
    errs = []
    for substeps in (20, 40):
        y = integrate_sdde(feedback, (past, exact_negative_feedback(past, 1.0)[:, None]), t,
                           0.0, substeps=substeps)
        assert y[0, 0] == exact_negative_feedback(np.array([2.0]), 1.0)[0]
        errs.append(np.abs(y[:, 0] - exact).max())
    assert errs[1] < errs[0] < 5e-3
    assert errs[0] / errs[1] == pytest.approx(2.0, rel=0.2)


def _spectral_variance(b, tau, s):
    """Stationary variance of dX = -b X(t - tau) dt + s dW from its spectral density:
    (s^2 / pi) * integral_0^inf dw / |i w + b exp(-i w tau)|^2."""
    def integrand(w):
        return 1.0 / (b * b + w * w - 2.0 * b * w * math.sin(w * tau))
    value, _ = quad(integrand, 0.0, np.inf, limit=500)
    return s * s * value / math.pi


def test_linear_sdde_stationary_variance(feedback):
    b, tau, s = 1.0, 1.0, 0.5
    truth = _spectral_variance(b, tau, s)
    # Closed form (Kuechler & Mensch 1992): s^2 (1 + sin(b tau)) / (2 b cos(b tau)).
    assert truth == pytest.approx(s * s * (1 + math.sin(b * tau)) / (2 * b * math.cos(b * tau)),
                                  rel=1e-6)
    dt, substeps = 0.1, 20            # step h = 0.005: Euler bias O(h) ~ 1e-2 relative
    t = dt * np.arange(200_001)
    y = integrate_sdde(feedback, [0.0], t, s, substeps=substeps, seed=3)[:, 0][1000:]
    blocks = y[: len(y) // 20 * 20].reshape(20, -1)   # batch means for the standard errors
    var_err = blocks.var(axis=1).std(ddof=1) / math.sqrt(20)
    mean_err = blocks.mean(axis=1).std(ddof=1) / math.sqrt(20)
    assert abs(y.var() - truth) < 3 * var_err + 0.01 * truth, (y.var(), truth, var_err)
    assert abs(y.mean()) < 4 * mean_err


def test_noise_increments_and_seeds():
    """f = 0: y(t) - y(0) is Brownian motion with variance sigma^2 t; a seed reproduces."""
    zero = compile_system(parse_entry("SDDEZero", _entry(
        ["x", "y"], {"x": "0*lag(x)", "y": "0*lag(y)"}, {"tau": 0.3}, [0.0, 0.0])))
    t = np.linspace(0.0, 2.0, 3)
    ends = np.array([integrate_sdde(zero, [0.0, 0.0], t, [0.2, 0.4], substeps=4,
                                    seed=k)[-1] for k in range(3000)])
    np.testing.assert_allclose(ends.var(axis=0), [0.2**2 * 2, 0.4**2 * 2], rtol=0.1)
    a = integrate_sdde(zero, [1.0, 2.0], t, 0.3, seed=9)
    np.testing.assert_array_equal(a, integrate_sdde(zero, [1.0, 2.0], t, 0.3, seed=9))
    assert not np.array_equal(a, integrate_sdde(zero, [1.0, 2.0], t, 0.3, seed=10))


def test_errors_name_the_system(feedback):
    with pytest.raises(IntegrationError, match="Lorenz"):
        integrate_sdde("Lorenz", [1.0, 1.0, 1.0], np.linspace(0, 1, 3), 0.1)
    with pytest.raises(ValueError, match="SDDEFeedback"):
        integrate_sdde(feedback, [1.0], np.linspace(1, 0, 3), 0.1)
    blowup = compile_system(parse_entry("SDDEBlowup", _entry(
        ["y"], {"y": "lag(y)**2 + y**2"}, {"tau": 0.5}, [10.0])))
    with pytest.raises(IntegrationError, match="SDDEBlowup"):
        integrate_sdde(blowup, [10.0], np.linspace(0, 5, 6), 0.0, substeps=50)


def test_sample_lag_embedding_is_reindexing():
    """Protocol 1.1 embeds a delay series by whole-sample lags: each column is the scalar
    series shifted by j * L samples, L the sample count nearest tau / 9."""
    assert embedding_lag_samples(16.0, 16.0 / 9 / 29.8, 10) == 30
    assert embedding_lag_samples(10.0, 1.5, 10) == 1   # never below one sample
    c = compile_system("MackeyGlass")
    step, L = 0.3, 6
    t = 16.0 + step * np.arange(-9 * L, 200)
    x = delay_series(c, t)
    emb = delay_embedding(x, L, 10)
    assert emb.shape == (200, 10)
    for j in range(10):
        np.testing.assert_array_equal(emb[:, j], x[9 * L - j * L: 9 * L - j * L + 200, 0])

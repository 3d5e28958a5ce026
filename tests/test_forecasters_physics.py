"""The physics-aware baselines (NVAR, ESN, SINDy, Hankel DMD) against independent ground truth."""

import itertools
import math

import numpy as np
import pytest
from scipy.linalg import expm

from dysts_bench import forecaster as F
from dysts_bench.forecaster import resolve_spec
from dysts_bench.metrics import rmse, valid_prediction_time
from dysts_bench.runner import adhoc_tasks

PHYSICS = {"nvar": "NVAR", "esn": "EchoStateNetwork", "sindy": "SINDy", "dmd": "HankelDMD"}
LORENZ_LYAPUNOV = 0.9056  # maximum Lyapunov exponent of Lorenz (1963) at the classical parameters


def build(name, **params):
    return resolve_spec(name, params).build()


def module_of(name):
    return F._load_file_module(F.builtin_forecasters()[name].rpartition(":")[0])


def info_of(task):
    return {k: task.info[k] for k in ("dt", "pts_per_period", "dim")}


@pytest.fixture(scope="module")
def lorenz_tasks():
    return adhoc_tasks("Lorenz", n_series=3, context_length=1000, horizon=400, seed=11)


# --------------------------------------------------------------------------- all four

def test_discovered_as_builtins_with_cli_listing(capsys):
    table = F.builtin_forecasters()
    for name, clsname in PHYSICS.items():
        assert table[name].endswith(f"{name}.py:{clsname}")
        cls = F.forecaster_class(F.load_target(table[name]))
        assert cls.name == name and cls.version == "1" and "(20" in cls.__doc__  # cites a paper
        grid = cls.param_grid
        assert 1 < math.prod(len(v) for v in grid.values()) <= 8
        assert set(grid) <= set(cls().get_params())
        assert name in F.available_forecasters()
    from dysts_bench.cli import main
    assert main(["forecasters", "--wide"]) == 0
    out = capsys.readouterr().out
    for name, clsname in PHYSICS.items():
        assert f"builtin:{name}:{clsname}" in out


@pytest.mark.parametrize("system", ["Lorenz", "HyperRossler", "MacArthur"])
def test_finite_forecasts_of_the_right_shape(system):
    task = adhoc_tasks(system, n_series=1, context_length=1000, horizon=3700, seed=5)[0]
    dim = task.context.shape[1]
    for name in PHYSICS:
        pred = build(name).fit(task.context, dt=task.info["dt"], info=info_of(task)).predict(3700)
        assert pred.shape == (3700, dim) and np.isfinite(pred).all(), (name, system)
        # short-term: better than the context's spread (they all learned something)
        assert rmse(task.future[:5], pred[:5]) < task.context.std(axis=0).mean(), (name, system)


def test_every_grid_point_fits_and_tuning_picks_one(lorenz_tasks):
    task = lorenz_tasks[0]
    train, valid = task.context[:800], task.context[800:]
    for name in PHYSICS:
        f = build(name)
        cls = type(f)
        for values in itertools.product(*cls.param_grid.values()):
            params = dict(zip(cls.param_grid, values))
            pred = f.clone(**params).fit(train, dt=task.info["dt"]).predict(200)
            assert np.isfinite(pred).all(), (name, params)
        best = f.tune(train, valid, dt=task.info["dt"], info=info_of(task))
        assert all(best[k] in cls.param_grid[k] for k in cls.param_grid)


def test_through_the_runner(tmp_path):
    from dysts_bench.runner import run
    tasks = adhoc_tasks("Lorenz", n_series=1, context_length=300, horizon=150, seed=2,
                        lyapunov={"Lorenz": LORENZ_LYAPUNOV})
    for name in PHYSICS:
        res = run(name, tasks, tmp_path / name, progress=False, timeout=120, tune=False)
        (rec,) = res.records
        assert rec["status"] == "ok", (name, rec.get("error"))
        assert rec["forecaster"]["name"] == name and rec["vpt"]["nrmse_pointwise"]["steps"] > 0


@pytest.mark.parametrize("name, params, match", [
    ("nvar", {"k": 0}, "'k' must be"), ("nvar", {"s": 1.5}, "'s' must be"), ("nvar", {"alpha": -1.0}, "alpha"),
    ("esn", {"leak": 0.0}, "leak"), ("esn", {"rho": -0.5}, "rho"), ("esn", {"size": 0}, "size"),
    ("esn", {"washout": 999}, "too short"), ("esn", {"square": "yes"}, "square"),
    ("sindy", {"degree": 0}, "degree"), ("sindy", {"smoothing": 4}, "smoothing"),
    ("sindy", {"threshold": -0.1}, "threshold"), ("sindy", {"substeps": 0}, "substeps"),
    ("dmd", {"rank": 0}, "rank"), ("dmd", {"delays": "many"}, "delays"),
])
def test_invalid_parameters_are_clear_errors(name, params, match):
    x = np.sin(np.linspace(0, 20, 1000))[:, None] * [1.0, 2.0]
    with pytest.raises(ValueError, match=match):
        build(name, **params).fit(x, dt=0.02)


# --------------------------------------------------------------------------- SINDy

def lorenz_expected(degree):
    """True Lorenz (1963) coefficients (sigma=10, rho=28, beta=8/3) in SINDy's library order."""
    names = module_of("sindy")._monomials(3, degree)
    names = [module_of("sindy")._term_name(r, 3) for r in names]
    expected = np.zeros((len(names), 3))
    for (term, eq), value in {("x0", 0): -10.0, ("x1", 0): 10.0, ("x0", 1): 28.0, ("x1", 1): -1.0,
                              ("x0*x2", 1): -1.0, ("x0*x1", 2): 1.0, ("x2", 2): -8.0 / 3.0}.items():
        expected[names.index(term), eq] = value
    return names, expected


@pytest.mark.parametrize("degree", [2, 3])
def test_sindy_recovers_the_lorenz_equations(degree):
    from dysts_bench import get_system, make_trajectory
    assert get_system("Lorenz").parameters == pytest.approx({"sigma": 10.0, "rho": 28.0, "beta": 8 / 3})
    t, y = make_trajectory("Lorenz", 3000, pts_per_period=300)
    f = build("sindy", degree=degree).fit(y, dt=t[1] - t[0])
    names, expected = lorenz_expected(degree)
    assert f.feature_names_ == names and len(names) == math.comb(3 + degree, degree)
    present = expected != 0
    np.testing.assert_allclose(f.coef_[present], expected[present], rtol=1e-2)
    assert np.all(f.coef_[~present] == 0.0)  # every absent term is exactly zero


def oscillator(omega=1.3, zeta=0.02):
    return np.array([[0.0, 1.0], [-omega ** 2, -2 * zeta * omega]])


def linear_solution(A, x0, t):
    return np.stack([expm(A * s) @ x0 for s in t])


def test_sindy_forecasts_a_damped_linear_oscillator():
    A = oscillator()
    dt = 2 * np.pi / 1.3 / 100  # 100 samples per period
    t = dt * np.arange(1600)
    x = linear_solution(A, np.array([2.0, 0.0]), t)
    f = build("sindy", threshold=0.03).fit(x[:1000], dt=dt)
    assert f.integrator_ == "rk4"
    np.testing.assert_allclose(f.coef_[f.feature_names_.index("x1"), 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(f.coef_[f.feature_names_.index("x0"), 1], A[1, 0], rtol=1e-6)
    np.testing.assert_allclose(f.coef_[f.feature_names_.index("x1"), 1], A[1, 1], rtol=1e-4)
    assert np.count_nonzero(f.coef_) == 3
    pred = f.predict(600)
    assert f.diverged_at_ is None
    assert np.abs(pred - x[1000:]).max() < 1e-5 * np.abs(x).max()
    # the threshold is relative: the damping term contributes 2*zeta = 4% of dv/dt's RMS
    weak = build("sindy", threshold=0.05).fit(x[:1000], dt=dt)
    assert weak.coef_[f.feature_names_.index("x1"), 1] == 0.0 and np.count_nonzero(weak.coef_) == 2


def test_sindy_stiff_path_agrees(monkeypatch):
    """The LSODA branch (taken for stiff identified models) gives the same forecast."""
    A = oscillator()
    dt = 2 * np.pi / 1.3 / 100
    x = linear_solution(A, np.array([2.0, 0.0]), dt * np.arange(1300))
    monkeypatch.setattr(module_of("sindy"), "MAX_SUBSTEPS", 0)
    f = build("sindy", threshold=0.03).fit(x[:1000], dt=dt)
    assert f.integrator_ == "lsoda"
    assert np.abs(f.predict(300) - x[1000:]).max() < 1e-5 * np.abs(x).max()


def test_sindy_blow_up_guard_falls_back_to_the_context_mean():
    dt = 0.01
    x = np.exp(dt * np.arange(300))[:, None] * [1.0, 2.0]  # x' = x: leaves any bounded box
    f = build("sindy", degree=2).fit(x, dt=dt)
    pred = f.predict(200)
    assert np.isfinite(pred).all()
    k = f.diverged_at_
    # the box is the context range widened by its range on each side: exp(t) leaves it at
    # 2 e^{2.99} - 1 = exp(3 + k dt)
    assert k == int(np.log(2 * np.exp(2.99) - 1) / dt - 299)
    truth = np.exp(dt * np.arange(300, 300 + k))[:, None] * [1.0, 2.0]
    np.testing.assert_allclose(pred[:k], truth, rtol=1e-6)
    np.testing.assert_array_equal(pred[k:], np.repeat(x.mean(axis=0)[None], 200 - k, axis=0))


# --------------------------------------------------------------------------- DMD

def two_tones(n, offset=2.0):
    t = np.arange(n, dtype=float)
    a = np.sin(2 * np.pi * t / 47.3) + 0.3 * np.cos(2 * np.pi * t / 13.1 + 1.0) + offset
    b = np.cos(2 * np.pi * t / 47.3) - 0.3 * np.sin(2 * np.pi * t / 13.1 + 1.0)
    return np.stack([a, b], axis=1)


def test_dmd_continues_a_sum_of_sinusoids_and_truncates_rank_as_documented():
    x = two_tones(1500)
    ctx, fut = x[:1000], x[1000:]
    # two real sinusoids (4) + a constant (1): numerical rank 5 whatever the rank asked for
    full = build("dmd", delays=20, rank=100).fit(ctx, dt=0.1)
    assert full.rank_ == 5 and full.singular_values_[5] < 1e-10 * full.singular_values_[0]
    assert np.abs(full.predict(500) - fut).max() < 1e-8
    np.testing.assert_allclose(np.abs(full.eigenvalues_), 1.0, atol=1e-10)
    exact = build("dmd", delays=20, rank=5).fit(ctx, dt=0.1)
    assert exact.rank_ == 5 and np.abs(exact.predict(500) - fut).max() < 1e-8
    # rank 3 keeps the mean and the strong tone only: the weak one (amplitude 0.3) is lost
    low = build("dmd", delays=20, rank=3).fit(ctx, dt=0.1)
    assert low.rank_ == 3 and np.abs(low.predict(500) - fut).max() > 0.3
    # rank is capped by the embedding size
    assert build("dmd", delays=1, rank=100).fit(ctx, dt=0.1).rank_ == 2


def test_dmd_is_exact_on_a_linear_ode_and_stabilises_growth():
    dt = 0.05
    t = dt * np.arange(1400)
    A = np.array([[-0.05, 2.0], [-2.0, -0.05]])
    x = linear_solution(A, np.array([3.0, 1.0]), t)
    f = build("dmd", delays=1, rank=2).fit(x[:1000], dt=dt)
    assert f.n_stabilised_ == 0
    np.testing.assert_allclose(f.predict(400), x[1000:], atol=1e-9)
    # a growing spiral: eigenvalues e^{(0.05 +- 2i) dt} are projected onto the unit circle,
    # so the forecast is the last state rotated at the same frequency, without growth
    grow = linear_solution(-A.T, np.array([0.1, 0.0]), t)  # -A^T: rate +0.05, frequency 2
    g = build("dmd", delays=1, rank=2).fit(grow[:1000], dt=dt)
    assert g.n_stabilised_ == 2
    rot = expm(np.array([[0.0, 2.0], [-2.0, 0.0]]) * dt)
    expect = np.stack([np.linalg.matrix_power(rot, k) @ grow[999] for k in range(1, 401)])
    pred = g.predict(400)
    np.testing.assert_allclose(pred, expect, atol=1e-8 * np.abs(grow[999]).max())
    last = np.linalg.norm(grow[999])
    np.testing.assert_allclose(np.linalg.norm(pred, axis=1), last, rtol=1e-8)  # no growth ...
    assert np.linalg.norm(grow[1399]) == pytest.approx(np.e * last)           # ... where truth grows


# --------------------------------------------------------------------------- NVAR

@pytest.mark.parametrize("dim, k", [(1, 1), (3, 2), (4, 3)])
def test_nvar_feature_counts(dim, k):
    x = np.sin(np.outer(np.linspace(0, 30, 600), np.arange(1, dim + 1)) + np.arange(dim))
    f = build("nvar", k=k, s=2).fit(x, dt=0.05)
    assert f.n_linear_ == dim * k
    assert f.n_nonlinear_ == math.comb(dim * k + 1, 2)
    assert f.n_features_ == dim * k + math.comb(dim * k + 1, 2) + 1 == f.W_out_.shape[0]


def test_nvar_reproduces_the_henon_map_exactly():
    """x_{t+1} = 1 - a x_t^2 + b x_{t-1} is quadratic in two delays: NVAR (k=2, s=1) is exact."""
    a, b = 1.4, 0.3
    x = np.empty(530)
    x[:2] = 0.1, 0.2
    for t in range(1, 529):
        x[t + 1] = 1 - a * x[t] ** 2 + b * x[t - 1]
    ctx, fut = x[30:500, None], x[500:, None]
    pred = build("nvar", k=2, s=1, alpha=0.0).fit(ctx, dt=1.0).predict(30)
    np.testing.assert_allclose(pred[:15], fut[:15], atol=1e-6)  # chaos amplifies round-off later


def test_nvar_forecasts_lorenz_for_a_lyapunov_time(lorenz_tasks):
    for task in lorenz_tasks:
        assert task.info["pts_per_period"] == 100
        f = build("nvar").fit(task.context, dt=task.info["dt"], info=info_of(task))
        pred = f.predict(len(task.future))
        vpt = valid_prediction_time(task.future, pred, dt=task.info["dt"],
                                    lyapunov_exponent=LORENZ_LYAPUNOV, metric="nrmse")
        assert vpt >= 1.0 and f.diverged_at_ is None


# --------------------------------------------------------------------------- ESN

def test_esn_is_seeded_and_has_the_requested_spectral_radius(lorenz_tasks):
    task = lorenz_tasks[0]
    dt = task.info["dt"]
    one = build("esn", seed=3).fit(task.context, dt=dt).predict(300)
    module_of("esn")._unit_reservoir.cache_clear()  # drawn afresh, not served from the cache
    two = build("esn", seed=3).fit(task.context, dt=dt).predict(300)
    np.testing.assert_array_equal(one, two)
    other = build("esn", seed=4).fit(task.context, dt=dt).predict(300)
    assert np.abs(other - one).max() > 1e-6
    for rho in (0.3, 0.9, 1.2):
        f = build("esn", rho=rho, size=200).fit(task.context, dt=dt)
        assert np.abs(np.linalg.eigvals(f.A_)).max() == pytest.approx(rho, rel=1e-10)
        assert f.A_.shape == (200, 200)
        density = np.count_nonzero(f.A_) / 200 ** 2
        assert 0.5 * 3 / 200 < density < 1.5 * 3 / 200  # mean degree 3


def test_esn_beats_persistence_over_the_first_lyapunov_time(lorenz_tasks):
    esn, naive = [], []
    for task in lorenz_tasks:
        n = int(round(1.0 / (LORENZ_LYAPUNOV * task.info["dt"])))
        pred = build("esn").fit(task.context, dt=task.info["dt"]).predict(n)
        esn.append(rmse(task.future[:n], pred))
        naive.append(rmse(task.future[:n], build("naive").fit(task.context, dt=task.info["dt"]).predict(n)))
    assert np.mean(esn) < 0.5 * np.mean(naive)

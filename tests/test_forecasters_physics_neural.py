"""The physics-aware neural entries (neural ODE, AL-RNN, DeepONet flow map) and the random
feature map: the contract, determinism, the shared torch plumbing, and Lorenz recovery."""

import numpy as np
import pytest

from dysts_bench import forecaster as F
from dysts_bench.forecaster import check_forecaster, resolve_spec

NEURAL = {"neural_ode": "NeuralODE", "alrnn": "ALRNN", "deeponet": "DeepONetFlowMap"}
ENTRIES = {**NEURAL, "random_features": "RandomFeatureMap"}
#: Tiny configurations, so the conformance suite (many fits) runs in seconds.
TINY = {
    "neural_ode": {"width": 8, "segment": 4, "batch": 4, "iterations": 10, "valid_steps": 8, "eval_every": 5},
    "alrnn": {"latent": 6, "relu": 2, "sequence": 8, "batch": 4, "iterations": 10, "valid_steps": 8,
              "eval_every": 5},
    "deeponet": {"window": 4, "chunk": 4, "width": 8, "basis": 4, "batch": 8, "iterations": 10,
                 "valid_steps": 8, "eval_every": 5},
    "random_features": {"features": 50},
}


def needs_torch(name):
    """Skip a neural entry's test where the torch extra is not installed."""
    if name in NEURAL:
        pytest.importorskip("torch", reason="the neural physics entries need the torch extra")
        if name == "neural_ode":
            pytest.importorskip("torchdiffeq", reason="the neural ODE needs torchdiffeq (torch extra)")


def build(name, **params):
    return resolve_spec(name, params).build()


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    """One thread; torch's process-wide settings (made by fits) restored afterwards, so
    they do not leak into other tests of the session."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    try:
        import torch
    except ImportError:
        yield
        return
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)


@pytest.fixture(scope="module")
def lorenz():
    """The dataset's Lorenz training series and its Lyapunov time in samples (registry)."""
    from dysts_bench import get_system
    from dysts_bench.dataset.load import load_train
    context, valid, info = load_train("Lorenz")
    samples = get_system("Lorenz").lyapunov_time / info["dt"]
    return context, valid, info, int(round(samples))


# --------------------------------------------------------------------------- contract

def test_discovered_as_builtins_in_the_physics_family(capsys):
    table = F.builtin_forecasters()
    for name, clsname in ENTRIES.items():
        assert table[name].endswith(f"{name}.py:{clsname}")
        cls = F.forecaster_class(F.load_target(table[name]))
        assert cls.name == name and cls.family == "physics" and "(20" in cls.__doc__  # cites a paper
        assert cls.extra == ("torch" if name in NEURAL else None)
    assert "torch_training" not in table  # the shared plumbing is not an entry
    from dysts_bench.cli import main
    assert main(["forecasters", "--wide"]) == 0
    out = capsys.readouterr().out
    for name in ENTRIES:
        assert name in out


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_passes_the_conformance_suite(name):
    needs_torch(name)
    check_forecaster(type(build(name)), TINY[name])


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_seeded_and_deterministic(name):
    needs_torch(name)
    from dysts_bench.forecaster.checks import synthetic_context
    x = synthetic_context(300, 3)
    runs = [build(name, **TINY[name], seed=s).fit(x, dt=0.05).predict(40) for s in (0, 0, 1)]
    assert np.array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])  # the seed is used


@pytest.mark.parametrize("name", sorted(NEURAL))
def test_device_is_checked(name):
    needs_torch(name)
    import torch
    x = np.sin(np.linspace(0, 30, 300))[:, None] * [1.0, 2.0]
    with pytest.raises(ValueError, match="device"):
        build(name, **TINY[name], device="gpu").fit(x, dt=0.05)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no GPU"):
            build(name, **TINY[name], device="cuda").fit(x, dt=0.05)
    build(name, **TINY[name], device="auto").fit(x, dt=0.05)  # falls back to the CPU


@pytest.mark.parametrize("name, params, match", [
    ("alrnn", {"relu": 7, "latent": 6}, "relu"),
    ("neural_ode", {"segment": 400}, "too short"),
    ("deeponet", {"window": 300}, "too short"),
    ("random_features", {"k": 200, "s": 5}, "too short"),
])
def test_bad_sizes_are_clear_errors(name, params, match):
    needs_torch(name)
    x = np.sin(np.linspace(0, 30, 300))[:, None] * [1.0, 2.0]
    with pytest.raises(ValueError, match=match):
        build(name, **{**TINY[name], **params}).fit(x, dt=0.05)


# --------------------------------------------------------------------------- shared plumbing

def test_threads_follow_the_runner(monkeypatch):
    torch = pytest.importorskip("torch", reason="torch extra")
    from dysts_bench.forecaster import torch_training as T
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    T.configure(0, torch.device("cpu"))
    assert torch.get_num_threads() == 2 and torch.are_deterministic_algorithms_enabled()
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    T.configure(0, torch.device("cpu"))
    assert torch.get_num_threads() == 1


def test_early_stopping_keeps_the_best_weights():
    torch = pytest.importorskip("torch", reason="torch extra")
    from dysts_bench.forecaster import torch_training as T
    T.configure(0, torch.device("cpu"))
    module = torch.nn.Linear(1, 1, bias=False)
    scores = iter([5.0, 3.0, 1.0, 2.0, 4.0, 6.0, 0.5])  # best at the 3rd check, then 3 worse
    seen = []

    def loss_fn(step):
        return (module.weight - 100.0).pow(2).sum()  # the weight moves at every step

    def valid_fn():
        seen.append(module.weight.item())
        return next(scores)

    summary = T.train(module, loss_fn, valid_fn, iterations=100, lr=0.1, eval_every=2, patience=3)
    assert summary == {"iterations": 12, "best_iteration": 6, "valid_mse": 1.0}
    assert module.weight.item() == seen[2]  # restored, not the last weights


def test_guard_path_replaces_the_diverged_tail():
    from dysts_bench.forecaster.torch_training import guard_path
    path = np.array([[0.0, 0.0], [0.5, -0.5], [3.0, 0.0], [0.1, 0.1], [np.nan, 0.0]])
    out, at = guard_path(path, np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
    assert at == 2 and np.array_equal(out[:2], path[:2]) and not out[2:].any()
    out, at = guard_path(path[:2], np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
    assert at is None and np.array_equal(out, path[:2])


# --------------------------------------------------------------------------- Lorenz

@pytest.mark.parametrize("name, factor", [("neural_ode", 0.5), ("alrnn", 0.5), ("random_features", 0.1)])
def test_beats_last_value_on_lorenz_over_one_lyapunov_time(name, factor, lorenz):
    """Default (CPU) configurations, fitted on the dataset's Lorenz training context and
    scored on its validation tail over one Lyapunov time (registry exponent)."""
    needs_torch(name)
    context, valid, info, lyap = lorenz
    assert 100 < lyap < len(valid)
    f = build(name).fit(context, dt=info["dt"], info={k: info[k] for k in ("dt", "pts_per_period", "dim")})
    pred = f.predict(lyap)
    truth = valid[:lyap]
    rmse = np.sqrt(np.mean((pred - truth) ** 2))
    naive = np.sqrt(np.mean((context[-1] - truth) ** 2))
    assert f.diverged_at_ is None
    assert rmse < factor * naive, (name, rmse, naive)

import os

# Single-threaded numerics: oversubscribed BLAS/OpenMP threads are 10-100x slower on 2 cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

# One compile cache for the whole run, the pytest process and every process it starts
# (workers, CLI subprocesses): each system compiles at most once per run, and a fresh clone
# never reuses compiles from the user's ~/.cache. It lives in the checkout (.cache/ is
# git-ignored), so the next run starts warm. Tests that need an empty cache set their own.
os.environ.setdefault("DYSTS_BENCH_CACHE_DIR", os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".cache", "dysts-bench-tests"))

import pytest  # noqa: E402

from dysts_bench.registry import parse_entry  # noqa: E402


def entry(variables, equations, parameters=None, **extra):
    """A minimal valid registry entry (a dict) for ad-hoc test systems."""
    base = {
        "description": "test system", "citation": "none (test)",
        "variables": list(variables), "parameters": dict(parameters or {}),
        "equations": dict(zip(variables, equations)),
        "initial_condition": [0.1 * (i + 1) for i in range(len(variables))],
        "flags": {"nonautonomous": False, "delay": False, "hamiltonian": False},
        "dt": 0.01, "period": 1.0,
    }
    base.update(extra)
    return base


@pytest.fixture
def make_system():
    """Build a validated System from a few fields: make_system(name, vars, eqs, params, **extra)."""
    def build(name, variables, equations, parameters=None, **extra):
        return parse_entry(name, entry(variables, equations, parameters, **extra))
    return build

"""Compile on first use and the compile notice (dysts_bench.jit)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from numba import njit, types

from dysts_bench.jit import compiling, njit_on_first_use

_RHS = types.void(types.float64, types.float64[::1])


def _first_use(name, seconds=5.0):
    @njit_on_first_use(types.float64(types.FunctionType(_RHS), types.float64[::1]),
                       what=name, seconds=seconds, cache=False)
    def apply(f, y):
        f(0.0, y)
        return y.sum()
    return apply


@njit(_RHS, cache=False)
def _double(t, y):
    for i in range(y.size):
        y[i] *= 2.0


@njit(_RHS, cache=False)
def _negate(t, y):
    for i in range(y.size):
        y[i] = -y[i]


def test_compiles_on_first_call_only_and_only_its_signature(capsys):
    apply = _first_use("the test loop")
    assert apply.signatures == []  # nothing compiled at decoration
    assert apply(_double, np.ones(3)) == 6.0
    assert "compiling the test loop, once, about 5 s" in capsys.readouterr().err
    # another function value reuses the one compiled version (a first-class function type)
    assert apply(_negate, np.ones(2)) == -2.0
    assert len(apply.signatures) == 1
    assert capsys.readouterr().err == ""
    with pytest.raises(TypeError, match="No matching definition"):
        apply(_double, np.ones(3, dtype=np.int64))


def test_notice_only_for_long_real_compiles(capsys):
    _first_use("a short one", seconds=0.2)(_double, np.ones(1))
    assert capsys.readouterr().err == ""
    with compiling("the outer piece", 7):
        _first_use("an inner piece")(_double, np.ones(1))
    err = capsys.readouterr().err
    assert "compiling the outer piece, once, about 7 s" in err and "inner" not in err
    with compiling("nothing new", 7):  # already compiled: no numba:compile event
        _double(0.0, np.ones(1))
    assert capsys.readouterr().err == ""


def test_notice_can_be_silenced(capsys, monkeypatch):
    monkeypatch.setenv("DYSTS_BENCH_QUIET", "1")
    _first_use("a quiet one")(_double, np.ones(1))
    assert capsys.readouterr().err == ""


def test_importing_the_solvers_compiles_no_loop(tmp_path):
    """Every integrator loop used to compile at import; now only on first use."""
    code = ("import dysts_bench.trajectory, dysts_bench.invariants.numerics, dysts_bench.maps\n"
            "from dysts_bench.solvers import erk, delay, sde, rosenbrock23\n"
            "loops = [erk.integrate_erk, erk.integrate_erk_batch, delay.integrate_dde,\n"
            "         delay.integrate_sdde_loop, sde.integrate_sde_loop,\n"
            "         rosenbrock23.integrate_rosenbrock23, dysts_bench.invariants.numerics._benettin,\n"
            "         dysts_bench.maps._iterate, dysts_bench.maps._qr_exponents]\n"
            "print(sum(len(f.signatures) for f in loops))")
    env = {"DYSTS_BENCH_CACHE_DIR": str(tmp_path), "NUMBA_CACHE_DIR": str(tmp_path / "nb")}
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"

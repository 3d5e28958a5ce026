"""The equation language: whitelist, code generation and symbolic derivatives."""

import math

import numpy as np
import pytest

from dysts_bench import expressions as ex
from dysts_bench.compile import compile_system

SCOPE = ex.Scope(["x", "y"], {"a": 0, "w": 3})


@pytest.mark.parametrize("text, fragment", [
    ("__import__('os')", "unknown function"),
    ("x.real", "unsupported syntax Attribute"),
    ("(lambda: 1)()", "plain calls"),
    ("[x for x in y]", "unsupported syntax"),
    ("z + 1", "unknown name 'z'"),
    ("sin(x, y)", "takes 1 argument"),
    ("x < y", "comparisons are only allowed"),
    ("a[0]", "only vector parameters"),
    ("w", "must be indexed"),
    ("w[3]", "out of range"),
    ("w[x]", "integer literal"),
    ("'text'", "unsupported literal"),
    ("lag(x)", "only allowed in delay"),
    ("x +", "syntax error"),
    ("", "non-empty"),
    ("exp(x, a=1)", "plain calls"),
])
def test_parser_rejects_outside_whitelist(text, fragment):
    with pytest.raises(ex.ExpressionError, match=fragment):
        ex.parse(text, SCOPE)


def test_parser_accepts_language_features():
    tree = ex.parse("where(x > 0 and not y < 1, w[2]*x, -a) + (x if x <= y else y) % 2 + pi", SCOPE)
    env = {"x": np.array([1.5, -1.0]), "y": np.array([2.0, 3.0]), "a": 0.5, "w": [1, 2, 3]}
    expected = [3 * 1.5 + (1.5 % 2) + math.pi, -0.5 + (-1.0 % 2) + math.pi]
    np.testing.assert_allclose(ex.evaluate(tree, env), expected)


# One expression per whitelisted function, each composed with the state so that the
# chain rule is exercised; domains are kept where the functions are smooth.
FUNCTION_CASES = {
    "sin": "sin(x*y)", "cos": "cos(x + y)", "tan": "tan(0.3*x)", "arcsin": "arcsin(0.3*x)",
    "arccos": "arccos(0.2*y)", "arctan": "arctan(x*y)", "arctan2": "arctan2(x, y + 3)",
    "sinh": "sinh(x)", "cosh": "cosh(y)", "tanh": "tanh(x - y)", "exp": "exp(0.5*x)",
    "log": "log(2 + x*x)", "sqrt": "sqrt(1 + y*y)", "cbrt": "cbrt(2 + x)", "abs": "abs(x - 0.1)*y",
    "sign": "sign(x)*y*y", "heaviside": "heaviside(y)*x", "floor": "floor(3*x)*y",
    "min": "min(x, y)", "max": "max(x*x, y)", "mod": "mod(x*y, 0.7)", "where": "where(x > y, x*x, y)",
    "pow": "(1.5 + y)**x + x**3", "mod_op": "(x + 5) % 1.3",
}


def test_every_function_is_tested():
    assert set(ex.FUNCTIONS) <= set(FUNCTION_CASES)


@pytest.fixture(scope="module")
def function_system():
    from tests.conftest import entry
    from dysts_bench.registry import parse_entry
    names = list(FUNCTION_CASES)
    variables = ["x", "y"] + [f"v_{n}" for n in names]
    equations = ["-y", "x"] + [FUNCTION_CASES[n] for n in names]
    return parse_entry("AllFunctions", entry(variables, equations))


def test_compiled_rhs_equals_numpy_evaluation(function_system):
    compiled = compile_system(function_system)
    trees = function_system.trees[1]
    rng = np.random.default_rng(1)
    for _ in range(50):
        state = np.zeros(function_system.dim)
        state[:2] = rng.uniform(-1.5, 1.5, 2)
        env = {"x": state[0], "y": state[1]}
        expected = [ex.evaluate(t, env) for t in trees]
        np.testing.assert_allclose(compiled(state), expected, rtol=1e-13, atol=1e-13)


def test_jacobian_equals_central_differences(function_system):
    compiled = compile_system(function_system)
    rng = np.random.default_rng(2)
    h = 1e-6
    for _ in range(30):
        state = np.zeros(function_system.dim)
        state[:2] = rng.uniform(-1.2, 1.2, 2)
        J = compiled.jacobian(state)
        for j in range(2):
            e = np.zeros_like(state)
            e[j] = h
            fd = (compiled(state + e) - compiled(state - e)) / (2 * h)
            # Piecewise functions jump where a kink lies within h: skip those rows only.
            smooth = np.abs(fd) < 1e4
            np.testing.assert_allclose(J[smooth, j], fd[smooth], rtol=1e-6, atol=1e-6)


def test_time_derivative_of_forced_system(make_system):
    system = make_system("Forced", ["x", "y"], ["y", "-x + a*cos(w*t)*x"], {"a": 0.7, "w": 1.3},
                         flags={"nonautonomous": True, "delay": False, "hamiltonian": False})
    compiled = compile_system(system)
    J, ft = np.empty((2, 2)), np.empty(2)
    state, t = np.array([0.4, -0.2]), 0.9
    compiled.jac(t, state, compiled.params, J, ft)
    h = 1e-6
    fd = (compiled(state, t=t + h) - compiled(state, t=t - h)) / (2 * h)
    np.testing.assert_allclose(ft, fd, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ft[1], -0.7 * 1.3 * math.sin(1.3 * t) * 0.4)


def test_simplifier_folds_identities():
    x = ("sym", "state", "x")
    assert ex.mul(ex.ZERO, x) == ex.ZERO
    assert ex.add(ex.ZERO, x) == x
    assert ex.binop("**", x, ex.ONE) == x
    assert ex.neg(ex.neg(x)) == x
    d = ex.diff(ex.parse("x**3 + 2*y", SCOPE), "x", lambda name: ex.ZERO)
    assert ex.pretty(d) == "3.0 * x ** 2"


def test_source_respects_precedence():
    for text in ["-x**2", "(-x)**2", "x - (y - 1)", "x / (y * 2)", "2**-x", "-(x + y)*a",
                 "x**y**2", "(x**y)**2", "x % (y + 3)"]:
        tree = ex.parse(text, SCOPE)
        regenerated = ex.parse(ex.pretty(tree), SCOPE)
        env = {"x": 1.7, "y": 0.6, "a": -0.4}
        assert ex.evaluate(regenerated, env) == pytest.approx(eval(text, {}, env)), text

"""Property-based tests (hypothesis) of the expression compiler and the registry loader.

* Malformed expressions and registry entries, drawn at random, are rejected with an
  :class:`ExpressionError` / :class:`RegistryError` (never another exception) and nothing
  in them is executed: no code object runs while they are parsed (audit events), and the
  code generated from any accepted expression calls and reads only whitelisted names.
* Random valid polynomial systems compile, and their numba right-hand side and Jacobian
  match a numpy evaluation of the same polynomial written independently here.
"""

import ast
import copy
import json
import sys

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="property tests need hypothesis (test extra)")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dysts_bench import expressions as ex  # noqa: E402
from dysts_bench.compile import compile_system, jac_source, rhs_source  # noqa: E402
from dysts_bench.registry import RegistryError, parse_entry  # noqa: E402
from tests.conftest import entry  # noqa: E402

QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCOPE = ex.Scope(["x", "y", "z"], {"a": 0, "b": 0, "v": 2})

# ------------------------------------------------------------------ execution watch
_EXECUTED = []
_WATCHING = [False]


def _audit(event, args):
    # "exec" is raised whenever a code object is run by exec()/eval(); "import" for imports.
    if _WATCHING[0] and event in ("exec", "import", "open", "os.system", "subprocess.Popen"):
        _EXECUTED.append((event, repr(args)[:100]))


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one is idle unless watching


def parse_watched(text, scope=SCOPE):
    _EXECUTED.clear()
    _WATCHING[0] = True
    try:
        return ex.parse(text, scope)
    finally:
        _WATCHING[0] = False
        assert not _EXECUTED, f"parsing {text!r} executed something: {_EXECUTED}"


# ------------------------------------------------------------------ expression texts
VALID_ATOMS = st.sampled_from(["x", "y", "z", "a", "b", "v[0]", "v[1]", "t", "pi", "2", "0.5", "1e-3"])
#: Constructs outside the language: each is rejected wherever it appears.
HOSTILE = st.sampled_from([
    "x.real", "x.__class__", "().__class__.__bases__[0]", "__import__('os')", "eval('1')",
    "exec('x')", "open('f')", "getattr(x, 'y')", "lambda: 1", "[1][0]", "'s'", "b'x'", "x[0]",
    "(q:=1)", "f'{x}'", "{1}", "{}", "x @ y", "x // y", "x << 1", "x & y", "~x", "not x",
    "x < y", "sin(x, y)", "sin(x=1)", "unknown(x)", "a[0]", "v", "v[2]", "v[-1]", "1j", "True",
    "None", "...", "x.y.z", "(x for x in y)", "[x for x in y]", "sin", "os", "q", "lag(x)",
    "x / 0", "x % 0", "1 / 0", "(-8) ** 0.5", "10.0 ** 400", "1" * 400, "mod(x, 0)", "print(x)",
    "__builtins__", "globals()", "np.sin(x)", "sin(*x)", "await x", "yield x",
])
BINOPS = st.sampled_from([" + ", " - ", " * ", " / ", " ** "])
FUNCS1 = st.sampled_from(["sin", "cos", "exp", "tanh", "abs", "sqrt", "sign", "floor"])


def _combine(children):
    return st.one_of(
        st.tuples(children, BINOPS, children).map(lambda p: f"({p[0]}{p[1]}{p[2]})"),
        st.tuples(FUNCS1, children).map(lambda p: f"{p[0]}({p[1]})"),
        children.map(lambda c: f"-({c})"),
        st.tuples(children, children, children).map(lambda p: f"({p[1]} if {p[0]} > 0 else {p[2]})"),
    )


valid_texts = st.recursive(VALID_ATOMS, _combine, max_leaves=12)


@st.composite
def hostile_texts(draw):
    """A valid expression with one hostile construct put in place of one of its leaves."""
    text = draw(valid_texts)
    bad = draw(HOSTILE)
    leaves = [i for i in range(len(text)) if text.startswith(("x", "y", "z"), i)
              and (i == 0 or not text[i - 1].isalnum()) and (i + 1 == len(text) or not text[i + 1].isalnum())]
    if not leaves:
        return f"({text}) + ({bad})"
    i = draw(st.sampled_from(leaves))
    return f"{text[:i]}({bad}){text[i + 1:]}"


@QUICK
@given(hostile_texts())
def test_hostile_expressions_are_rejected_and_never_executed(text):
    with pytest.raises(ex.ExpressionError):
        parse_watched(text)


@QUICK
@given(st.text(max_size=60))
def test_arbitrary_text_is_an_expression_error_or_a_tree(text):
    try:
        tree = parse_watched(text)
    except ex.ExpressionError:
        return
    assert isinstance(tree, tuple)


# Everything the generated code may name: the state, lag and parameter vectors, time,
# auxiliaries and their derivatives, the outputs, and numpy's whitelisted functions.
_ALLOWED_NAMES = {"y", "ylag", "p", "t", "out", "J", "ft", "np", "min", "max"}
_FORBIDDEN = (ast.Import, ast.ImportFrom, ast.Lambda, ast.Global, ast.Nonlocal, ast.With,
              ast.Try, ast.While, ast.ClassDef, ast.NamedExpr, ast.Starred, ast.JoinedStr)


def _assert_whitelisted(source: str):
    for node in ast.walk(ast.parse(source)):
        assert not isinstance(node, _FORBIDDEN), ast.dump(node)
        if isinstance(node, ast.Attribute):  # only np.<whitelisted function>
            assert isinstance(node.value, ast.Name) and node.value.id == "np" \
                and node.attr in ex.FUNCTIONS, ast.unparse(node)
        elif isinstance(node, ast.Name):
            assert node.id in _ALLOWED_NAMES or node.id.startswith(("a_", "d_", "j_")), node.id
        elif isinstance(node, ast.Call):
            func = node.func
            assert isinstance(func, ast.Attribute) or func.id in ("min", "max"), ast.unparse(node)
        elif isinstance(node, ast.Constant):
            assert type(node.value) in (int, float), repr(node.value)


def _uses_time(text: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "t" for n in ast.walk(ast.parse(text, mode="eval")))


@QUICK
@given(st.lists(valid_texts, min_size=3, max_size=3))
def test_generated_code_names_only_whitelisted_things(texts):
    raw = entry(["x", "y", "z"], texts, {"a": 1.5, "b": -0.5, "v": [1.0, 2.0]},
                definitions=[["r", texts[0]]])
    raw["flags"]["nonautonomous"] = any(map(_uses_time, texts))
    try:
        system = parse_entry("Random", raw)
    except RegistryError as exc:
        assert "not a finite real number" in str(exc) or "constant zero" in str(exc)
        return  # a constant subexpression such as (2 - 2) in a divisor
    _assert_whitelisted(rhs_source(system))
    _assert_whitelisted(jac_source(system))


# ------------------------------------------------------------------ registry entries
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=6)
FIELDS = ["description", "citation", "variables", "parameters", "equations", "initial_condition",
          "flags", "dt", "period", "definitions", "delay", "output", "conserved", "invariants",
          "notes", "deviates_from_reference", "unexpected"]
BASE = entry(["x", "y"], ["a*y", "-x"], {"a": 1.0}, definitions=[["r", "x*x + y*y"]],
             conserved={"energy": "r"}, output={"x": "sin(x)"})


@st.composite
def malformed_entries(draw):
    raw = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(FIELDS))
        action = draw(st.sampled_from(["replace", "delete", "equation"]))
        if action == "delete":
            raw.pop(key, None)
        elif action == "equation":
            raw["equations"] = {"x": "a*y", "y": draw(hostile_texts())}
        else:
            raw[key] = draw(json_values)
    return raw


@QUICK
@given(malformed_entries(), st.sampled_from(["Sys", "../etc", "a/b", "", "Sys name"]))
def test_malformed_registry_entries_raise_registry_error_only(raw, name):
    _EXECUTED.clear()
    _WATCHING[0] = True
    try:
        parse_entry(name, json.loads(json.dumps(raw)))
    except RegistryError:
        pass
    else:  # a mutation may happen to keep the entry valid (e.g. a new description)
        assert name == "Sys"
    finally:
        _WATCHING[0] = False
    assert not _EXECUTED, _EXECUTED


# ------------------------------------------------------------------ valid polynomials
@st.composite
def polynomial_systems(draw):
    """(dim, terms): terms[i] is a list of (coefficient, exponents) of d y_i / dt."""
    dim = draw(st.integers(1, 3))
    coef = st.floats(-3, 3, allow_nan=False).filter(lambda c: abs(c) > 1e-3)
    term = st.tuples(coef, st.lists(st.integers(0, 3), min_size=dim, max_size=dim))
    return dim, [draw(st.lists(term, min_size=1, max_size=4)) for _ in range(dim)]


def _text(i, terms, names):
    """d y_i / dt as text; the coefficient of term k is the parameter k{i}_{k}."""
    out = []
    for k, (_, exps) in enumerate(terms):
        factors = [f"k{i}_{k}"] + [f"{v}**{e}" if e > 1 else v for v, e in zip(names, exps) if e]
        out.append("*".join(factors))
    return " + ".join(out)


def _numpy_rhs(terms_per_eq, y):
    return np.array([sum(c * np.prod(y ** np.array(e, float)) for c, e in terms) for terms in terms_per_eq])


def _numpy_jac(terms_per_eq, y):
    dim = y.size
    J = np.zeros((dim, dim))
    for i, terms in enumerate(terms_per_eq):
        for c, e in terms:
            for j in range(dim):
                if e[j]:
                    lowered = np.array(e, float)
                    lowered[j] -= 1
                    J[i, j] += c * e[j] * np.prod(y ** lowered)
    return J


@pytest.fixture(scope="module")
def private_cache(tmp_path_factory):
    """Random systems compile into a throw-away cache, not the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DYSTS_BENCH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=polynomial_systems(), point=st.lists(st.floats(-2, 2, allow_nan=False), min_size=3, max_size=3))
def test_random_polynomial_systems_compile_and_match_numpy(private_cache, spec, point):
    dim, terms = spec
    names = ["u", "w", "s"][:dim]
    params = {f"k{i}_{k}": c for i, eq_terms in enumerate(terms) for k, (c, _) in enumerate(eq_terms)}
    eqs = [_text(i, eq_terms, names) for i, eq_terms in enumerate(terms)]
    compiled = compile_system(parse_entry("Poly", entry(names, eqs, params)))
    y = np.array(point[:dim])
    np.testing.assert_allclose(compiled(y), _numpy_rhs(terms, y), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(compiled.jacobian(y), _numpy_jac(terms, y), rtol=1e-12, atol=1e-12)

"""The declarative equation language of ``systems.json``.

A system's right-hand side is written as expressions in Python syntax over its state
variables, parameters, ordered auxiliary definitions and the time ``t``. This module
turns that text into a small expression tree and offers three things on it:

* validation against a whitelist (:data:`FUNCTIONS`): the text is parsed with :mod:`ast`
  and never ``eval``-ed, so a registry entry cannot run arbitrary code;
* symbolic differentiation (:func:`diff`), so the Jacobian is derived from the same
  source as the right-hand side, never typed twice;
* two independent back ends: Python source for numba (:func:`to_source`) and a
  tree-walking numpy evaluator (:func:`evaluate`) that the tests use as ground truth.

Nodes are plain tuples, tagged by their first element::

    ("num", value)             a float literal
    ("sym", kind, name)        kind in {"state", "param", "aux", "time", "lag"}
    ("idx", name, i)           element i of a vector parameter
    ("neg", a)                 -a
    ("bin", op, a, b)          op in + - * / ** %
    ("call", fname, args)      a whitelisted function
    ("cmp", op, a, b)          op in < <= > >= == !=     (only inside conditions)
    ("bool", op, args)         op in and / or
    ("not", a)
    ("where", cond, a, b)      a if cond else b
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping, Sequence

import numpy as np


class ExpressionError(ValueError):
    """An equation text that the expression language does not accept."""


#: Whitelisted functions and their number of arguments.
FUNCTIONS: dict[str, int] = {
    "sin": 1, "cos": 1, "tan": 1, "arcsin": 1, "arccos": 1, "arctan": 1, "arctan2": 2,
    "sinh": 1, "cosh": 1, "tanh": 1, "exp": 1, "log": 1, "sqrt": 1, "cbrt": 1,
    "abs": 1, "sign": 1, "heaviside": 1, "floor": 1,
    "min": 2, "max": 2, "mod": 2, "where": 3,
}
#: Named constants usable in expressions.
CONSTANTS: dict[str, float] = {"pi": math.pi}
#: Names that state variables, parameters and definitions may not take.
RESERVED = frozenset(FUNCTIONS) | frozenset(CONSTANTS) | {"t", "lag", "and", "or", "not"}

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.Mod: "%"}
_CMPOPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}

ZERO = ("num", 0.0)
ONE = ("num", 1.0)


# --------------------------------------------------------------------------- parsing
class Scope:
    """The names an expression may refer to.

    Parameters
    ----------
    states : sequence of str
        State-variable names, in order.
    params : mapping of str to int
        Parameter names and their length (0 for a scalar, n for a vector of n numbers).
    aux : iterable of str
        Auxiliary definitions visible at this point (earlier definitions only).
    delay : bool
        Whether ``lag(x)`` (the state variable ``x`` at time ``t - tau``) is allowed.
    """

    def __init__(self, states: Sequence[str], params: Mapping[str, int], aux=(), delay=False):
        self.states = tuple(states)
        self.params = dict(params)
        self.aux = set(aux)
        self.delay = delay

    def classify(self, name: str) -> str:
        if name == "t":
            return "time"
        if name in self.states:
            return "state"
        if name in self.aux:
            return "aux"
        if name in self.params:
            if self.params[name]:
                raise ExpressionError(f"vector parameter '{name}' must be indexed, e.g. {name}[0]")
            return "param"
        raise ExpressionError(f"unknown name '{name}'")


def parse(text: str, scope: Scope):
    """Parse one expression into a tree, checking every name and function.

    Raises
    ------
    ExpressionError
        On a syntax error, an unknown name or function, a wrong number of arguments,
        or any Python construct outside the language (attributes, lambdas, ...).
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("expression must be a non-empty string")
    shown = _shorten(text)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression of {len(text)} characters (at most {MAX_LENGTH}) "
                              f"in '{shown}'")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error in '{shown}': {exc.msg}") from None
    except (RecursionError, MemoryError):  # the parser's own nesting limit
        raise ExpressionError(f"expression nested too deeply in '{shown}'") from None
    except ValueError as exc:  # e.g. lone surrogates that cannot be encoded
        raise ExpressionError(f"unreadable text {shown!r}: {exc}") from None
    try:
        _check_depth(tree.body)
        return _convert(tree.body, scope, in_condition=False)
    except ExpressionError as exc:
        raise ExpressionError(f"{exc} in '{shown}'") from None


#: Longest expression text and deepest syntax tree accepted: far beyond any published
#: system, and well inside the recursion limit of the tree walkers (parse, diff, codegen).
MAX_LENGTH = 10_000
MAX_DEPTH = 100


def _shorten(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _check_depth(root) -> None:
    """Reject syntax trees deeper than :data:`MAX_DEPTH` (iteratively: no recursion)."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(f"expression nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _constant_binop(op, a, b):
    """``a op b`` for a literal right operand: a zero divisor, or two literals whose value
    is not a finite real number (``1/0``, ``10.0**400``, ``(-8)**0.5``), is an error
    here rather than a NaN at run time."""
    if op in ("/", "%") and _is_num(b, 0.0):
        raise ExpressionError("division by the constant zero")
    node = binop(op, a, b)
    if _is_num(a) and _is_num(b) and not (_is_num(node) and math.isfinite(node[1])):
        raise ExpressionError(f"constant {pretty(('bin', op, a, b))} is not a finite real number")
    return node


def _convert(node, scope: Scope, in_condition: bool):
    conv = lambda n, cond=False: _convert(n, scope, cond)  # noqa: E731
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"unsupported literal {node.value!r}")
        try:
            value = float(node.value)
        except OverflowError:
            raise ExpressionError("literal too large for a float") from None
        if not math.isfinite(value):
            raise ExpressionError("non-finite literal")
        return ("num", value)
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return ("num", CONSTANTS[node.id])
        return ("sym", scope.classify(node.id), node.id)
    if isinstance(node, ast.Subscript):
        if not isinstance(node.value, ast.Name) or scope.params.get(node.value.id, 0) == 0:
            raise ExpressionError("only vector parameters can be indexed")
        index = node.slice
        if not (isinstance(index, ast.Constant) and type(index.value) is int):
            raise ExpressionError(f"index of '{node.value.id}' must be an integer literal")
        if not 0 <= index.value < scope.params[node.value.id]:
            raise ExpressionError(f"index {index.value} out of range for '{node.value.id}'")
        return ("idx", node.value.id, index.value)
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub):
            return neg(conv(node.operand))
        if isinstance(node.op, ast.UAdd):
            return conv(node.operand)
        if isinstance(node.op, ast.Not) and in_condition:
            return ("not", conv(node.operand, True))
        raise ExpressionError(f"unsupported unary operator {type(node.op).__name__}")
    if isinstance(node, ast.BinOp):
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise ExpressionError(f"unsupported operator {type(node.op).__name__}")
        return _constant_binop(op, conv(node.left), conv(node.right))
    if isinstance(node, ast.Compare):
        if not in_condition:
            raise ExpressionError("comparisons are only allowed in the condition of where()")
        if len(node.ops) != 1:
            raise ExpressionError("chained comparisons are not supported")
        op = _CMPOPS.get(type(node.ops[0]))
        if op is None:
            raise ExpressionError(f"unsupported comparison {type(node.ops[0]).__name__}")
        return ("cmp", op, conv(node.left), conv(node.comparators[0]))
    if isinstance(node, ast.BoolOp) and in_condition:
        return ("bool", "and" if isinstance(node.op, ast.And) else "or",
                tuple(conv(v, True) for v in node.values))
    if isinstance(node, ast.IfExp):
        return ("where", conv(node.test, True), conv(node.body), conv(node.orelse))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise ExpressionError("only plain calls of whitelisted functions are allowed")
        name = node.func.id
        if name == "lag":
            if not scope.delay:
                raise ExpressionError("lag() is only allowed in delay systems")
            if len(node.args) != 1 or not isinstance(node.args[0], ast.Name) \
                    or node.args[0].id not in scope.states:
                raise ExpressionError("lag() takes one state-variable name")
            return ("sym", "lag", node.args[0].id)
        if name not in FUNCTIONS:
            raise ExpressionError(f"unknown function '{name}'")
        if len(node.args) != FUNCTIONS[name]:
            raise ExpressionError(f"{name}() takes {FUNCTIONS[name]} argument(s), got {len(node.args)}")
        if name == "where":
            return ("where", conv(node.args[0], True), conv(node.args[1]), conv(node.args[2]))
        args = tuple(conv(a) for a in node.args)
        if name == "mod" and _is_num(args[1], 0.0):
            raise ExpressionError("mod() by the constant zero")
        return ("call", name, args)
    raise ExpressionError(f"unsupported syntax {type(node).__name__}")


# --------------------------------------------------------------- smart constructors
def _is_num(node, value=None) -> bool:
    return node[0] == "num" and (value is None or node[1] == value)


def neg(a):
    if _is_num(a):
        return ("num", -a[1])
    if a[0] == "neg":
        return a[1]
    return ("neg", a)


def binop(op, a, b):
    """Build ``a op b``, folding the identities that differentiation produces."""
    if _is_num(a) and _is_num(b) and op != "%" and not (op == "/" and b[1] == 0.0):
        try:
            return ("num", float({"+": a[1] + b[1], "-": a[1] - b[1], "*": a[1] * b[1],
                                  "/": a[1] / b[1] if b[1] else 0.0, "**": a[1] ** b[1]}[op]))
        except (OverflowError, ZeroDivisionError, TypeError):
            pass
    if op == "+":
        if _is_num(a, 0.0):
            return b
        if _is_num(b, 0.0):
            return a
    elif op == "-":
        if _is_num(b, 0.0):
            return a
        if _is_num(a, 0.0):
            return neg(b)
    elif op == "*":
        if _is_num(a, 0.0) or _is_num(b, 0.0):
            return ZERO
        if _is_num(a, 1.0):
            return b
        if _is_num(b, 1.0):
            return a
        if _is_num(a, -1.0):
            return neg(b)
        if _is_num(b, -1.0):
            return neg(a)
    elif op == "/":
        if _is_num(a, 0.0):
            return ZERO
        if _is_num(b, 1.0):
            return a
    elif op == "**":
        if _is_num(b, 1.0):
            return a
        if _is_num(b, 0.0):
            return ONE
    return ("bin", op, a, b)


def add(a, b):
    return binop("+", a, b)


def sub(a, b):
    return binop("-", a, b)


def mul(a, b):
    return binop("*", a, b)


def div(a, b):
    return binop("/", a, b)


def call(name, *args):
    return ("call", name, tuple(args))


def where(cond, a, b):
    if a == b:
        return a
    return ("where", cond, a, b)


# ------------------------------------------------------------------- differentiation
def depends_on(node, wrt: str, aux_deps: Mapping[str, bool]) -> bool:
    """Whether ``node`` can vary with the symbol ``wrt`` (a state name or ``"t"``)."""
    tag = node[0]
    if tag == "sym":
        kind, name = node[1], node[2]
        if kind == "aux":
            return aux_deps[name]
        return (kind == "time" and wrt == "t") or (kind == "state" and name == wrt)
    if tag in ("num", "idx"):
        return False
    return any(depends_on(c, wrt, aux_deps) for c in _children(node))


def _children(node):
    tag = node[0]
    if tag == "neg" or tag == "not":
        return (node[1],)
    if tag in ("bin", "cmp"):
        return (node[2], node[3])
    if tag in ("call", "bool"):
        return node[2]
    if tag == "where":
        return node[1:]
    return ()


def diff(node, wrt: str, aux_deriv):
    """Symbolic derivative of ``node`` with respect to ``wrt``.

    Parameters
    ----------
    node : tuple
        Expression tree.
    wrt : str
        A state-variable name, or ``"t"`` for the explicit time derivative.
    aux_deriv : callable
        ``aux_deriv(name)`` returns the tree standing for d(aux)/d(wrt) (usually a symbol
        for an already computed derivative), or ``ZERO``.

    Piecewise functions are differentiated almost everywhere: sign, heaviside and floor
    have zero derivative, min/max/where/abs pick the active branch.
    """
    d = lambda n: diff(n, wrt, aux_deriv)  # noqa: E731
    tag = node[0]
    if tag in ("num", "idx"):
        return ZERO
    if tag == "sym":
        kind, name = node[1], node[2]
        if kind == "aux":
            return aux_deriv(name)
        if kind == "state" and name == wrt or kind == "time" and wrt == "t":
            return ONE
        if kind == "lag":
            raise ExpressionError("the Jacobian of a delay term is not defined here")
        return ZERO
    if tag == "neg":
        return neg(d(node[1]))
    if tag == "where":
        return where(node[1], d(node[2]), d(node[3]))
    if tag == "bin":
        op, a, b = node[1], node[2], node[3]
        da, db = d(a), d(b)
        if op == "+":
            return add(da, db)
        if op == "-":
            return sub(da, db)
        if op == "*":
            return add(mul(da, b), mul(a, db))
        if op == "/":
            return div(sub(mul(da, b), mul(a, db)), mul(b, b))
        if op == "%":  # a mod b = a - b*floor(a/b); floor is piecewise constant
            return sub(da, mul(db, call("floor", div(a, b))))
        if op == "**":
            if _is_num(db, 0.0):  # constant exponent
                if _is_num(b):
                    return mul(mul(b, binop("**", a, ("num", b[1] - 1.0))), da)
                return mul(mul(b, binop("**", a, sub(b, ONE))), da)
            # general power: d(a^b) = a^b (b' log a + b a'/a)
            return mul(node, add(mul(db, call("log", a)), div(mul(b, da), a)))
    if tag == "call":
        name, args = node[1], node[2]
        if name in ("sign", "heaviside", "floor"):
            return ZERO
        if name in ("min", "max"):
            a, b = args
            cmp = "<=" if name == "min" else ">="
            return where(("cmp", cmp, a, b), d(a), d(b))
        if name == "mod":
            return d(binop("%", args[0], args[1]))
        if name == "arctan2":
            a, b = args
            return div(sub(mul(b, d(a)), mul(a, d(b))), add(mul(a, a), mul(b, b)))
        u = args[0]
        du = d(u)
        if _is_num(du, 0.0):
            return ZERO
        outer = {
            "sin": lambda: call("cos", u),
            "cos": lambda: neg(call("sin", u)),
            "tan": lambda: add(ONE, binop("**", call("tan", u), ("num", 2.0))),
            "arcsin": lambda: div(ONE, call("sqrt", sub(ONE, mul(u, u)))),
            "arccos": lambda: neg(div(ONE, call("sqrt", sub(ONE, mul(u, u))))),
            "arctan": lambda: div(ONE, add(ONE, mul(u, u))),
            "sinh": lambda: call("cosh", u),
            "cosh": lambda: call("sinh", u),
            "tanh": lambda: sub(ONE, binop("**", call("tanh", u), ("num", 2.0))),
            "exp": lambda: node,
            "log": lambda: div(ONE, u),
            "sqrt": lambda: div(("num", 0.5), node),
            "cbrt": lambda: div(ONE, mul(("num", 3.0), binop("**", node, ("num", 2.0)))),
            "abs": lambda: call("sign", u),
        }[name]()
        return mul(outer, du)
    raise ExpressionError(f"cannot differentiate node {tag}")


def is_discontinuous(node) -> bool:
    """Whether the expression may jump (sign, heaviside, floor, mod, where/if-else).

    The Jacobian of such a right-hand side exists only almost everywhere: tangent
    dynamics built from it miss the jump (saltation) at the switching surfaces.
    """
    if node[0] == "where" or node[0] == "call" and node[1] in ("sign", "heaviside", "floor", "mod"):
        return True
    if node[0] == "bin" and node[1] == "%":
        return True
    return any(is_discontinuous(c) for c in _children(node))


# ------------------------------------------------------------------------ back ends
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "%": 2, "neg": 3, "**": 4}
_NP_NAMES = {"abs": "np.abs", "min": "min", "max": "max", "cbrt": "np.cbrt"}


def to_source(node, names, plain=False) -> str:
    """Python source for ``node`` that numba compiles.

    ``names(node)`` returns the source text for a ``sym`` or ``idx`` node (the code
    generator decides how variables are stored). ``plain=True`` writes functions by their
    registry names instead (text that :func:`parse` reads back).
    """
    return _src(node, names, plain)[0]


def _src(node, names, plain=False):
    """Return (text, precedence)."""
    tag = node[0]
    if plain and tag == "call":
        return f"{node[1]}({', '.join(_src(a, names, True)[0] for a in node[2])})", 9
    if tag == "num":
        v = node[1]
        text = repr(v) if v >= 0 else f"({v!r})"
        return text, 9
    if tag in ("sym", "idx"):
        return names(node), 9
    if tag == "neg":
        inner, p = _src(node[1], names, plain)
        return "-" + (inner if p > _PREC["neg"] else f"({inner})"), _PREC["neg"]
    if tag == "bin":
        op, a, b = node[1], node[2], node[3]
        prec = _PREC[op]
        sa, pa = _src(a, names, plain)
        if op == "**" and _is_num(b) and float(b[1]).is_integer() and abs(b[1]) <= 16:
            sb, pb = str(int(b[1])), 9  # integer powers compile to multiplications
            if b[1] < 0:
                sb = f"({sb})"
        else:
            sb, pb = _src(b, names, plain)
        if op == "**":  # right-associative, binds tighter than unary minus on its left
            sa = sa if pa > prec else f"({sa})"
            sb = sb if pb >= prec else f"({sb})"
        else:
            sa = sa if pa >= prec else f"({sa})"
            sb = sb if pb > prec else f"({sb})"
        return f"{sa} {op} {sb}", prec
    if tag == "call":
        name, args = node[1], node[2]
        texts = [_src(a, names, plain)[0] for a in args]
        if name == "heaviside":
            return f"(1.0 if {texts[0]} > 0.0 else 0.0)", 9
        if name == "mod":
            return f"(({texts[0]}) % ({texts[1]}))", 9
        fn = _NP_NAMES.get(name, f"np.{name}")
        return f"{fn}({', '.join(texts)})", 9
    if tag == "cmp":
        return f"({_src(node[2], names, plain)[0]} {node[1]} {_src(node[3], names, plain)[0]})", 9
    if tag == "bool":
        return "(" + f" {node[1]} ".join(_src(a, names, plain)[0] for a in node[2]) + ")", 9
    if tag == "not":
        return f"(not {_src(node[1], names, plain)[0]})", 9
    if tag == "where":
        c, a, b = (_src(x, names, plain)[0] for x in node[1:])
        return f"({a} if {c} else {b})", 9
    raise ExpressionError(f"cannot generate code for node {tag}")


_NP_FUNCS = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "arcsin": np.arcsin, "arccos": np.arccos,
    "arctan": np.arctan, "arctan2": np.arctan2, "sinh": np.sinh, "cosh": np.cosh,
    "tanh": np.tanh, "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "cbrt": np.cbrt,
    "abs": np.abs, "sign": np.sign, "heaviside": lambda u: np.where(u > 0, 1.0, 0.0),
    "floor": np.floor, "min": np.minimum, "max": np.maximum, "mod": np.mod,
}
_NP_BINOPS = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide,
              "**": np.power, "%": np.mod}
_NP_CMP = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
           "==": np.equal, "!=": np.not_equal}


def evaluate(node, env: Mapping):
    """Evaluate a tree with numpy (vectorised over whatever shape ``env`` values have).

    ``env`` maps symbol names (and ``"t"``) to numbers or arrays; vector parameters map to
    sequences. This walker shares nothing with :func:`to_source`, which is why the tests
    use it as an independent check of the compiled code.
    """
    tag = node[0]
    if tag == "num":
        return node[1]
    if tag == "sym":
        return env[("lag", node[2]) if node[1] == "lag" else node[2]]
    if tag == "idx":
        return env[node[1]][node[2]]
    if tag == "neg":
        return -evaluate(node[1], env)
    if tag == "bin":
        return _NP_BINOPS[node[1]](evaluate(node[2], env), evaluate(node[3], env))
    if tag == "call":
        return _NP_FUNCS[node[1]](*(evaluate(a, env) for a in node[2]))
    if tag == "cmp":
        return _NP_CMP[node[1]](evaluate(node[2], env), evaluate(node[3], env))
    if tag == "bool":
        vals = [evaluate(a, env) for a in node[2]]
        fn = np.logical_and if node[1] == "and" else np.logical_or
        out = vals[0]
        for v in vals[1:]:
            out = fn(out, v)
        return out
    if tag == "not":
        return np.logical_not(evaluate(node[1], env))
    if tag == "where":
        return np.where(evaluate(node[1], env), evaluate(node[2], env), evaluate(node[3], env))
    raise ExpressionError(f"cannot evaluate node {tag}")


def pretty(node) -> str:
    """Human-readable text of a tree, in the registry's own names."""
    return to_source(node, lambda n: f"{n[1]}[{n[2]}]" if n[0] == "idx" else
                     (f"lag({n[2]})" if n[1] == "lag" else n[2]), plain=True)

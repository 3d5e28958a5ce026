"""Functions short enough to hold in one's head: none in the package is longer than
:data:`LIMIT` lines of body (code and comments, its docstring not counted) unless a
``# long-function: <reason>`` comment stands just above it (above its decorators)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "dysts_bench"
LIMIT = 80
MARK = "# long-function:"


def body_lines(node) -> int:
    body = node.body
    if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]  # the docstring is documentation, not code to hold in one's head
    return node.end_lineno - body[0].lineno + 1


def justified(lines, node) -> bool:
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return any(MARK in line and len(line.split(MARK, 1)[1].strip()) > 10
               for line in lines[max(0, first - 4):first - 1])


def long_functions(root: Path = PACKAGE, limit: int = LIMIT) -> list:
    found = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = body_lines(node)
                if n > limit and not justified(lines, node):
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name}: {n} lines")
    return found


def test_no_function_is_longer_than_the_limit_without_a_reason():
    assert long_functions() == []


def test_the_check_finds_a_long_function_and_honours_a_reason(tmp_path):
    pkg = tmp_path / "dysts_bench"
    pkg.mkdir()
    body = "".join(f"    x{i} = {i}\n" for i in range(LIMIT + 1))
    (pkg / "long.py").write_text('def f():\n    """Doc."""\n' + body)
    (pkg / "ok.py").write_text(f"{MARK} a compiled time loop, state in locals\n"
                               "@staticmethod\ndef g():\n" + body)
    (pkg / "short.py").write_text("def h():\n" + body[:-len(f"    x{LIMIT} = {LIMIT}\n")])
    found = long_functions(pkg)
    assert len(found) == 1 and "long.py:1 f" in found[0], found

"""The results schema is a dependency-free leaf that the leaderboard reads without the runner."""

import ast
import subprocess
import sys

import dysts_bench.metrics as metrics
import dysts_bench.runner.records as records
import dysts_bench.schema as schema


def test_one_definition_of_each_constant():
    assert records.STATUSES is schema.STATUSES and records.SCORED is schema.SCORED
    assert records.PROTOCOL_VERSION is schema.PROTOCOL_VERSION
    assert metrics.DEFAULT_HORIZONS is schema.DEFAULT_HORIZONS
    assert set(schema.SCORED) <= set(schema.STATUSES)


def test_leaderboard_does_not_import_the_runner_and_schema_imports_nothing():
    code = ("import sys; import dysts_bench.schema; before = set(sys.modules); "
            "import dysts_bench.leaderboard.aggregate, dysts_bench.leaderboard.load; "
            "print(sorted(m for m in sys.modules if m.startswith('dysts_bench.runner')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    with open(schema.__file__) as fh:
        tree = ast.parse(fh.read())
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))], \
        "schema.py must stay dependency-free"

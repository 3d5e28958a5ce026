"""Time the test suite from a fresh clone, then again warm (a script, not a test).

    python -m tests.benchmarks.suite_time [--pytest-args "-m 'not slow'"] [--keep DIR]

Clones the committed HEAD of this repository into a temporary directory (so no compile
cache of this checkout is reused), then runs what ``make test`` runs, ``python -m pytest
-q``, twice with this interpreter (``make test``'s virtual environment is not rebuilt:
that is pip's time, not the suite's):

* fresh: empty numba cache (``__pycache__`` of the clone) and an empty dysts-bench
  compile cache (the clone's own, see ``tests/conftest.py``);
* warm: the same clone again, every cache filled by the first run.

Prints a Markdown table: wall and CPU seconds (user + system of pytest and everything it
started) and pytest's summary line for each.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _clone(into: Path) -> Path:
    target = into / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(target)],
                   check=True)
    return target


def _pytest(clone: Path, extra: list[str]) -> tuple[float, float, str, int]:
    """(wall s, cpu s, pytest's last line, exit code) of one suite run in ``clone``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DYSTS_BENCH_CACHE_DIR", "NUMBA_CACHE_DIR", "PYTHONPATH")}
    env.update(PYTHONPATH=str(clone), OMP_NUM_THREADS=env.get("OMP_NUM_THREADS", "1"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          *extra], cwd=clone, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    return wall, cpu, (lines[-1] if lines else out.stderr[-200:]), out.returncode


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.suite_time")
    parser.add_argument("--pytest-args", default="",
                        help="extra pytest arguments, one shell-quoted string")
    parser.add_argument("--keep", help="clone into this directory and keep it")
    args = parser.parse_args(argv)
    extra = shlex.split(args.pytest_args)
    with tempfile.TemporaryDirectory(prefix="dysts-bench-suite-") as tmp:
        base = Path(args.keep) if args.keep else Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        clone = _clone(base)
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone,
                              capture_output=True, text=True).stdout.strip()
        rows = []
        for kind in ("fresh clone", "warm (second run)"):
            print(f"running the suite ({kind}) ...", file=sys.stderr, flush=True)
            wall, cpu, last, code = _pytest(clone, extra)
            rows.append((kind, wall, cpu, last, code))
    command = "python -m pytest -q" + (f" {args.pytest_args}" if args.pytest_args else "")
    print(f"Suite time of commit {head} (`{command}`), {os.cpu_count()} cores:\n")
    print("| run | wall | CPU | result |")
    print("|---|---|---|---|")
    for kind, wall, cpu, last, code in rows:
        print(f"| {kind} | {wall:.0f} s | {cpu:.0f} s | {last}{'' if code == 0 else f' (exit {code})'} |")
    return 0 if all(row[4] == 0 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

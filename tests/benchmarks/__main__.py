"""Run the benchmarks: ``python -m tests.benchmarks [--quick|--full] [--write BENCHMARKS.md]``.

Quick mode (CI) checks that the harness runs; it asserts no timings. Full mode is for
humans and rewrites BENCHMARKS.md with the machine, versions and command.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import sys
from pathlib import Path

MODULES = ["bench_integrator", "bench_scaling", "bench_registry", "bench_invariants", "bench_metrics", "bench_dataset", "bench_runner",
           "bench_ridge", "bench_firstuse"]


def machine() -> str:
    import numba
    import numpy
    import scipy
    try:
        import dysts  # noqa: F401
        from importlib.metadata import version
        ref = f", dysts {version('dysts')}"
    except ImportError:
        ref = ""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, numpy "
            f"{numpy.__version__}, scipy {scipy.__version__}, numba {numba.__version__}{ref}; "
            f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small sizes, few repeats (CI)")
    mode.add_argument("--full", action="store_true")
    parser.add_argument("--only", nargs="*", help="benchmark modules to run")
    parser.add_argument("--write", help="write the Markdown report to this file")
    args = parser.parse_args(argv)
    quick = not args.full
    sections = []
    for name in args.only or MODULES:
        try:
            module = importlib.import_module(f"tests.benchmarks.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"tests.benchmarks.{name}":
                continue
            raise
        print(f"running {name} ({'quick' if quick else 'full'}) ...", file=sys.stderr, flush=True)
        new = module.run(quick)
        # Shown as soon as each module finishes, so an interrupted run keeps what it measured.
        print("\n".join(s.markdown() for s in new), file=sys.stderr, flush=True)
        sections += new
    command = "make bench" if not quick else "make bench-quick"
    report = [
        "# Benchmarks", "",
        f"Produced by `{command}` (`python -m tests.benchmarks {'--quick' if quick else '--full'}`) "
        f"on {datetime.date.today().isoformat()}.", "",
        f"Machine: {machine()}.", "",
        "Each row is measured side by side in the same run; ratios are medians with the "
        "min–max range over repeats. The machine is shared, so absolute times are noisy; the "
        "ratios are what to compare.", "",
    ]
    report += [s.markdown() for s in sections]
    text = "\n".join(report)
    print(text)
    if args.write:
        Path(args.write).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The command line: ``dysts-bench run``, ``dysts-bench forecasters`` and ``dysts-bench rescore``."""

from __future__ import annotations

import argparse
import json
import math

from .records import _display_target


def _parse_params(items) -> dict:
    params = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--param expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        try:
            params[key.strip()] = json.loads(value)
        except ValueError:
            params[key.strip()] = value
    return params


def _checked(text: str, convert, expected: str, valid, rule: str):
    """An argparse type: ``convert(text)``, which must satisfy ``valid``."""
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not valid(value):
        raise argparse.ArgumentTypeError(f"must be {rule}, got {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    """``--timeout``: a positive, finite number of seconds (``inf`` would never end a task)."""
    return _checked(text, float, "seconds", lambda v: v > 0 and math.isfinite(v),
                    "a positive finite number of seconds")


def _positive_int(text: str) -> int:
    """``--workers``: at least one."""
    return _checked(text, int, "a positive integer", lambda v: v >= 1, "at least 1")


def _memory_size(text: str) -> str:
    """``--memory``: a size such as 4GB, or 'none'; a negative or unreadable size is an error
    (it would otherwise silently mean 'no limit')."""
    from .isolation import parse_size
    if text.strip().startswith("-"):
        raise argparse.ArgumentTypeError(f"must be a positive size such as 4GB, or 'none', got {text!r}")
    try:
        parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def cmd_run(args):
    from ..dataset import iter_tasks
    from . import run
    kwargs = {"split": args.split, "systems": args.systems, "fresh_seed": args.fresh,
              "context_length": args.context_length}
    if args.noise is not None:
        kwargs["noise"] = args.noise
    if args.root:
        kwargs["root"] = args.root
    tasks = iter_tasks(**kwargs)
    train_source = None
    if args.tune:
        import functools

        from ..dataset import load_train
        train_source = functools.partial(load_train, root=args.root, noise=args.noise)
    try:
        result = run(args.forecaster, tasks, args.results, workers=args.workers, scheduler=args.scheduler,
                     timeout=args.timeout, memory=args.memory, resume=args.resume, progress=not args.quiet,
                     params=_parse_params(args.param), tune=args.tune, train_source=train_source,
                     isolation=args.isolation, protect=[args.root] if args.root else (),
                     retry_failed=args.retry_failed, threads=args.threads, summary=True,
                     sandbox=getattr(args, "sandbox", "auto"))
    except KeyboardInterrupt:  # Ctrl-C: workers are stopped, finished tasks are already on disk
        import sys
        print(f"\ninterrupted: finished tasks are kept in {args.results}; run the same command again "
              "to resume", file=sys.stderr)
        return 130
    for path in result.files:
        print(f"results: {path}")
    return 0


def cmd_forecasters(args):
    from ..forecaster import available_forecasters, builtin_forecasters
    builtins = builtin_forecasters()
    rows = [(name, "built-in" if name in builtins else "entry point", _display_target(target))
            for name, target in sorted(available_forecasters().items())]
    from ..console import print_table
    print_table(f"{len(rows)} forecasters", ["name", "source", "target"], rows, fold=(2,))
    return 0


def add_cli(subparsers):
    """Register ``dysts-bench run`` and ``dysts-bench forecasters``."""
    p = subparsers.add_parser("run", help="benchmark a forecaster (each task isolated in its own process)",
                              description="Benchmark a forecaster: FORECASTER is a built-in name "
                                          "(dysts-bench forecasters), path/to/file.py:ClassName, "
                                          "module:ClassName, an entry point or darts:ModelName.")
    p.add_argument("forecaster")
    p.add_argument("--systems", nargs="+", help="systems to run (default: all in the split)")
    p.add_argument("--split", default="test")
    p.add_argument("--workers", type=_positive_int, default=1, help="concurrent tasks (or Dask LocalCluster workers)")
    p.add_argument("--scheduler", default=None,
                   help="run on Dask: a scheduler address (tcp://host:8786) or 'local' for a LocalCluster")
    p.add_argument("--timeout", type=_positive_seconds, default=600, help="seconds per task (fit + predict)")
    p.add_argument("--memory", type=_memory_size, default="4GB", help="memory per task, e.g. 4GB ('none': no limit)")
    p.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                   help="skip tasks already in the results (default)")
    p.add_argument("--retry-failed", action="store_true", help="with --resume, rerun tasks that did not finish ok")
    p.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="auto",
                   help="OS sandbox of the task processes (bubblewrap); without it records are unverified")
    p.add_argument("--fresh", type=int, metavar="SEED", default=None,
                   help="evaluate on fresh initial conditions drawn from SEED at run time")
    p.add_argument("--results", default="leaderboard/results", help="results directory")
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="forecaster parameter (JSON value)")
    p.add_argument("--tune", action=argparse.BooleanOptionalAction, default=True,
                   help="tune the declared hyperparameters not fixed by --param, per system, on the "
                        "validation tail (default, as in the Python API)")
    p.add_argument("--isolation", choices=["fork", "spawn"], default="fork",
                   help="task processes forked from a clean worker (fast) or fresh interpreters")
    p.add_argument("--threads", type=int, default=None, help="BLAS/OpenMP threads per task")
    p.add_argument("--context-length", type=int, default=1000)
    p.add_argument("--noise", default=None, help="dataset noise variant (none, measurement, dynamical)")
    p.add_argument("--root", default=None, help="dataset directory (default: the shipped dataset)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)

    p = subparsers.add_parser("forecasters", help="list the available forecasters")
    p.set_defaults(func=cmd_forecasters)

    from .rescore import add_rescore_cli
    add_rescore_cli(subparsers)
    return subparsers

"""The command line: ``dysts-bench run``, ``dysts-bench forecasters`` and ``dysts-bench rescore``."""

from __future__ import annotations

import sys

import argparse
import json
import math
from pathlib import Path

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


def _one_line(message: str) -> str:
    """A worker's load failure as one line: what failed and the exception, not the traceback."""
    if "Traceback (most recent call last)" not in message:
        return message
    head = message.split("\n", 1)[0].rstrip(":")
    last = [line for line in message.splitlines() if line.strip()][-1].strip()
    return f"{head}: {last}"


def _track_of(args) -> str:
    """``--track``, with ``--noise`` folded into it (``--noise measurement`` is the
    measurement track; a clash between the two is an error)."""
    from ..tracks import TRACK_NOISE
    track = args.track
    if args.noise not in (None, "none"):
        by_noise = {"measurement": "measurement", "dynamical": "dynamical"}.get(args.noise)
        if by_noise is None:
            raise ValueError(f"--noise must be none, measurement or dynamical, got {args.noise!r}")
        if track not in (None, by_noise):
            raise ValueError(f"--noise {args.noise} is the {by_noise} track, not --track {track}")
        if track is None:
            print(f"dysts-bench: --noise {args.noise} is folded into --track: running --track {by_noise}")
        track = by_noise
    if args.split == "maps":
        if track not in (None, "maps"):
            raise ValueError(f"--split maps is the maps track, not --track {track}")
        track = "maps"
    track = track or "canonical"
    if args.noise == "none" and TRACK_NOISE[track] != "none":
        raise ValueError(f"--noise none contradicts --track {track}")
    return track


def _zero_shot_options(args, track):
    """``(tune, corpus)``: the zero-shot track is never tuned; ``--corpus`` only there."""
    if args.corpus and track != "zero-shot":
        raise ValueError("--corpus pretrains for the zero-shot track: add --track zero-shot")
    if track == "zero-shot" and args.tune:
        print("dysts-bench: the zero-shot track is not tuned (held-out training series are not for fitting)")
        return False, args.corpus
    return args.tune, args.corpus


def cmd_run(args):
    from ..dataset import iter_tasks
    from . import run
    track = _track_of(args)
    tune, corpus = _zero_shot_options(args, track)
    split = "test" if args.split == "maps" else args.split
    kwargs = {"split": split, "systems": args.systems, "fresh_seed": args.fresh,
              "context_length": args.context_length}
    if track != "canonical":
        kwargs["track"] = track
    if args.root:
        kwargs["root"] = args.root
    tasks = iter_tasks(**kwargs)
    train_source = None
    if tune:
        import functools

        from ..dataset import load_train
        from ..tracks import TRACK_NOISE
        root = args.root
        if root is None and track == "maps":
            from ..dataset.maps import maps_root
            root = maps_root()
        noise = TRACK_NOISE[track]
        train_source = functools.partial(load_train, root=root, noise=None if noise == "none" else noise)
    from ..paths import user_results_dir
    out = args.out or user_results_dir()
    from ..forecaster import ForecasterSpecError
    try:
        result = run(args.forecaster, tasks, out, workers=args.workers, scheduler=args.scheduler,
                     timeout=args.timeout, memory=args.memory, resume=args.resume, progress=not args.quiet,
                     params=_parse_params(args.param), tune=tune, train_source=train_source,
                     isolation=args.isolation, protect=[args.root] if args.root else (),
                     retry_failed=args.retry_failed, threads=args.threads, summary=True,
                     sandbox=getattr(args, "sandbox", "auto"), corpus=corpus,
                     pretrain_timeout=args.pretrain_timeout)
    except ForecasterSpecError as exc:
        raise ForecasterSpecError(_one_line(str(exc))) from None
    except KeyboardInterrupt:  # Ctrl-C: workers are stopped, finished tasks are already on disk
        print(f"\ninterrupted: finished tasks are kept in {out}; run the same command again "
              "to resume", file=sys.stderr)
        return 130
    for path in result.files:
        print(f"results: {path}")
    from .console import print_failures
    if print_failures(result.records):
        print("dysts-bench: every task failed", file=sys.stderr)
        return 1
    return 0


def _describe_class(target: str) -> tuple:
    """``(family, uni/multivariate, extra, installed)`` of a forecaster target (built-ins are
    loaded; an entry point is not imported and shows "?")."""
    from ..forecaster import forecaster_class, load_target, missing_requirements
    try:
        cls = forecaster_class(load_target(target))
    except Exception as exc:  # a broken entry is listed, not fatal
        return ("?", "?", "?", f"no ({type(exc).__name__})")
    family = getattr(cls, "family", None) or "-"
    multi = getattr(cls, "multivariate", None)
    kind = "?" if multi is None else ("multivariate" if multi else "univariate")
    extra = getattr(cls, "extra", "") or "-"
    absent = missing_requirements(cls)
    installed = "yes" if not absent else f"no: pip install 'dysts-bench[{extra}]'"
    return family, kind, extra, installed


def cmd_forecasters(args):
    from ..forecaster import available_forecasters, builtin_forecasters
    builtins = builtin_forecasters()
    names = {}
    for name, target in sorted(available_forecasters().items()):
        names.setdefault(target, []).append(name)
    rows = []
    for target, aliases in names.items():
        # a built-in is reachable by its name and its file stem: list it once, by name
        stem = Path(target.rpartition(":")[0]).stem
        name = next((a for a in aliases if a != stem), aliases[0])
        source = "built-in" if name in builtins else "entry point"
        details = _describe_class(target) if source == "built-in" else ("?", "?", "?", "?")
        rows.append((name, source, *details, _display_target(target)))
    rows.sort()
    from ..console import print_table
    print_table(f"{len(rows)} forecasters", ["name", "source", "family", "variables", "extra", "installed",
                                             "target"], rows, wide=getattr(args, "wide", False),
                priority=(0, 2, 3, 5, 1, 4, 6), fold=(5, 6))
    return 0


def _add_track_options(p):
    from ..tracks import TRACKS
    p.add_argument("--track", choices=TRACKS, default=None,
                   help="evaluation track (default canonical): maps, measurement (noisy context, clean "
                        "truth), dynamical (noise-driven orbits), zero-shot (held-out systems); see "
                        "leaderboard/TRACKS.md")
    p.add_argument("--corpus", default=None, metavar="DIR",
                   help="zero-shot track: a corpus from `dysts-bench corpus`; a forecaster with "
                        "pretrain(corpus) is pretrained on it once per worker before any task")
    p.add_argument("--pretrain-timeout", type=_positive_seconds, default=3600.0,
                   help="seconds a worker may spend in pretrain (default 3600)")


def add_cli(subparsers):
    """Register ``dysts-bench run`` and ``dysts-bench forecasters``."""
    p = subparsers.add_parser("run", help="benchmark a forecaster (each task isolated in its own process)",
                              description="Benchmark a forecaster: FORECASTER is a built-in name "
                                          "(dysts-bench forecasters), path/to/file.py:ClassName, "
                                          "module:ClassName, an entry point or darts:ModelName.")
    p.add_argument("forecaster")
    p.add_argument("--systems", nargs="+", help="systems to run (default: all in the split)")
    p.add_argument("--split", default="test", help="test (default), train, or maps (the maps track)")
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
    p.add_argument("--out", default=None, metavar="DIR",
                   help="results directory (default: your user results directory, $DYSTS_BENCH_RESULTS_DIR "
                        "or ~/.local/share/dysts-bench/results; leaderboard/results publishes to the repository)")
    p.add_argument("--results", dest="out", help=argparse.SUPPRESS)  # the old name of --out
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="forecaster parameter (JSON value)")
    p.add_argument("--tune", action=argparse.BooleanOptionalAction, default=True,
                   help="tune the declared hyperparameters not fixed by --param, per system, on the "
                        "validation tail (default, as in the Python API)")
    p.add_argument("--isolation", choices=["fork", "spawn"], default="fork",
                   help="task processes forked from a clean worker (fast) or fresh interpreters")
    p.add_argument("--threads", type=int, default=None, help="BLAS/OpenMP threads per task")
    p.add_argument("--context-length", type=int, default=1000)
    p.add_argument("--noise", default=None, choices=("none", "measurement", "dynamical"),
                   help="noise variant: measurement / dynamical are the tracks of those names (--track)")
    p.add_argument("--root", default=None, help="dataset directory (default: the shipped dataset)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_track_options(p)
    p.set_defaults(func=cmd_run)

    p = subparsers.add_parser("forecasters", help="list the available forecasters")
    p.add_argument("--wide", action="store_true", help="show every column whatever the terminal width")
    p.set_defaults(func=cmd_forecasters)

    from .rescore import add_rescore_cli
    add_rescore_cli(subparsers)
    from .external import add_external_cli
    add_external_cli(subparsers)
    from .verify import add_verify_cli
    add_verify_cli(subparsers)
    return subparsers

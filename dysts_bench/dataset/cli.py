"""``dysts-bench generate`` and ``dysts-bench verify`` (registered by :func:`add_cli`)."""

from __future__ import annotations

import argparse
import sys

from .protocol import CANONICAL, NOISE_KINDS

_PROTOCOL_OPTIONS = ("pts_per_period", "n", "context", "validation", "ics", "noise",
                     "measurement_level", "dynamical_level", "seed")


def add_cli(subparsers) -> None:
    """Register the ``generate`` and ``verify`` sub-commands on an argparse subparsers."""
    p = subparsers.add_parser(
        "generate", help="generate a dataset (Parquet splits + manifest), locally or on Dask",
        description="Generate a dataset. With --canonical: the canonical protocol into the "
                    "package's data directory (or --out). Resumes an interrupted run.")
    p.add_argument("--canonical", action="store_true",
                   help="the canonical protocol (no protocol options allowed)")
    p.add_argument("--systems", nargs="+", metavar="NAME", help="default: every registry system")
    p.add_argument("--pts-per-period", type=float, help=f"default {CANONICAL.pts_per_period:g}")
    p.add_argument("--n", type=int, metavar="N",
                   help=f"test series length, context + horizon (default {CANONICAL.test_length})")
    p.add_argument("--context", type=int, help=f"context length (default {CANONICAL.context_length})")
    p.add_argument("--validation", type=int,
                   help=f"validation tail of the train split (default {CANONICAL.validation_length})")
    p.add_argument("--ics", type=int, help=f"test initial conditions per system (default {CANONICAL.n_test})")
    p.add_argument("--noise", nargs="+", choices=NOISE_KINDS,
                   help="noise variants written to files ('none' always is; the others are "
                        f"derived at load time; default {' '.join(CANONICAL.stored_noise)})")
    p.add_argument("--measurement-level", type=float,
                   help=f"measurement noise / attractor std (default {CANONICAL.measurement_noise:g})")
    p.add_argument("--dynamical-level", type=float,
                   help=f"dynamical noise level (default {CANONICAL.dynamical_noise:g})")
    p.add_argument("--seed", type=int, help=f"master seed (default {CANONICAL.seed})")
    p.add_argument("--out", metavar="DIR", help="dataset root (default with --canonical: the package data)")
    p.add_argument("--workers", type=int, default=1, help="local worker processes (default 1)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask scheduler")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a dataset of another configuration in --out")
    p.add_argument("--retry-failed", action="store_true",
                   help="also redo systems recorded as failed")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--strict", action="store_true", help="exit 1 if any system failed")
    p.set_defaults(func=cmd_generate)

    p = subparsers.add_parser("verify", help="check a dataset's files against its manifest")
    p.add_argument("dir", nargs="?", help="dataset root (default: the shipped dataset)")
    p.add_argument("--no-derived", action="store_true",
                   help="skip re-deriving the load-time (measurement-noise) variants")
    p.set_defaults(func=cmd_verify)


def config_from_args(args):
    given = {k: getattr(args, k, None) for k in _PROTOCOL_OPTIONS}
    if args.canonical:
        bad = [k for k, v in given.items() if v is not None]
        if bad:
            raise ValueError("--canonical takes no protocol options (got "
                             + ", ".join("--" + k.replace("_", "-") for k in bad) + ")")
        return CANONICAL
    changes = {}
    if args.pts_per_period is not None:
        changes["pts_per_period"] = float(args.pts_per_period)
    context = args.context if args.context is not None else CANONICAL.context_length
    if args.context is not None:
        changes["context_length"] = context
    if args.n is not None:
        if args.n <= context:
            raise ValueError(f"--n ({args.n}) must exceed the context length ({context})")
        changes["horizon"] = args.n - context
    if args.validation is not None:
        changes["validation_length"] = args.validation
    if args.ics is not None:
        changes["n_test"] = args.ics
    if args.noise is not None:
        changes["stored_noise"] = tuple(sorted(set(args.noise) | {"none"}))
    if args.measurement_level is not None:
        changes["measurement_noise"] = args.measurement_level
    if args.dynamical_level is not None:
        changes["dynamical_noise"] = args.dynamical_level
    if args.seed is not None:
        changes["seed"] = args.seed
    return CANONICAL.replace(**changes)


def cmd_generate(args):
    from .generator import generate
    config = config_from_args(args)
    if args.out is None and not args.canonical:
        raise ValueError("--out DIR is required unless --canonical")
    summary = generate(args.out, config, systems=args.systems, workers=args.workers,
                       scheduler=args.scheduler, progress=not args.no_progress,
                       overwrite=args.overwrite, retry_failed=args.retry_failed)
    print(f"{summary['root']}: generated {len(summary['generated'])}, unchanged "
          f"{len(summary['unchanged'])}, skipped {len(summary['skipped'])}, failed "
          f"{len(summary['failed'])}")
    for label in ("skipped", "failed"):
        for name, reason in summary[label].items():
            print(f"  {label}: {name}: {reason}")
    for name, variants in summary["unavailable"].items():
        for kind, reason in variants.items():
            print(f"  no {kind} variant: {name}: {reason}")
    if args.strict and summary["failed"]:
        raise SystemExit(1)


def cmd_verify(args):
    from .generator import default_root
    from .store import verify
    report = verify(args.dir if args.dir else default_root(), derived=not args.no_derived)
    print(report)
    if not report.ok:
        raise SystemExit(1)


def main(argv=None) -> int:
    """``python -m dysts_bench.dataset [--canonical ...]``: the ``generate`` command;
    ``python -m dysts_bench.dataset verify [DIR]``: the ``verify`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m dysts_bench.dataset")
    sub = parser.add_subparsers(dest="command", required=True)
    add_cli(sub)
    if not argv or argv[0] not in ("generate", "verify", "-h", "--help"):
        argv = ["generate", *argv]
    args = parser.parse_args(argv)
    from ..registry import RegistryError, UnknownSystemError
    from ..solvers import IntegrationError
    try:
        args.func(args)
    except (UnknownSystemError, RegistryError, IntegrationError, ValueError) as exc:
        print(f"dysts-bench: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

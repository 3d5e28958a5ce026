"""``dysts-bench leaderboard``: render the leaderboard from the stored results."""

from __future__ import annotations

import sys
import warnings

FORMATS = ("terminal", "markdown", "csv", "html", "all")


def cmd_leaderboard(args):
    from pathlib import Path

    from .aggregate import select_families, summarize
    from .load import LeaderboardWarning, known_systems, load_results
    from .render import print_terminal, write
    results = Path(args.results)
    if not results.exists():
        raise ValueError(f"no results directory or file {results}")
    with warnings.catch_warnings():
        # the warnings are printed once below (and written into the outputs), not twice
        warnings.simplefilter("ignore", LeaderboardWarning)
        frame, messages = load_results(results, systems=known_systems())
    for text in messages:
        print(f"dysts-bench: warning: {text}", file=sys.stderr)
    board = summarize(frame, evaluation=args.evaluation, baseline=args.baseline or None,
                      n_boot=args.n_boot, level=args.level, seed=args.seed, messages=messages,
                      scope=args.scope)
    if args.family:
        board = select_families(board, args.family.split(","))
    formats = ["markdown", "csv", "html"] if args.format == "all" else [args.format]
    if args.format in ("terminal", "all"):
        print_terminal(board, wide=args.wide)
    files = [f for f in formats if f != "terminal"]
    if args.system_pages and "html" not in files:
        files.append("html")
    if "html" in files and not _have_plot_extra():
        message = "index.html needs the plot extra (pip install 'dysts-bench[plot]': jinja2, matplotlib)"
        if args.format != "all":
            raise SystemExit(f"dysts-bench: error: {message}")
        print(f"dysts-bench: warning: {message}; not written", file=sys.stderr)
        files.remove("html")
    if files:
        written = write(board, args.out, files, results_dir=results if results.is_dir() else None,
                        system_pages_from=frame if args.system_pages else None)
        pages = [p for p in written if p.parent.name == "systems"]
        if pages:
            print(f"wrote {len(pages)} system pages to {pages[0].parent}")
        for path in written:
            if path not in pages:
                print(f"wrote {path}")
    return 0


def _have_plot_extra() -> bool:
    import importlib.util
    return all(importlib.util.find_spec(m) is not None for m in ("jinja2", "matplotlib"))


def add_cli(subparsers):
    """Register ``dysts-bench leaderboard``."""
    p = subparsers.add_parser(
        "leaderboard", help="render the leaderboard (Markdown, CSV, HTML, terminal) from stored results",
        description="Aggregate the stored results (no forecast is re-run): median VPT, errors by "
                    "horizon, mean rank, skill vs a baseline with bootstrap CIs, cost, statuses.")
    p.add_argument("--results", default="leaderboard/results", help="results directory (or one run file)")
    p.add_argument("--out", default="leaderboard", help="where README.md, results.csv and index.html go")
    p.add_argument("--format", choices=FORMATS, default="terminal",
                   help="terminal (default: print only), markdown, csv, html, or all (print and write all)")
    p.add_argument("--evaluation", default="canonical", help="evaluation to rank (default: canonical)")
    p.add_argument("--baseline", default="naive", help="forecaster that skill is relative to")
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap replicates (default: 2000)")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default: 0.95)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: 0)")
    p.add_argument("--scope", choices=("chaotic", "all"), default="chaotic",
                   help="systems in the aggregates: those labelled chaotic (all while none is labelled; "
                        "default) or all")
    p.add_argument("--family", default=None,
                   help="show only these families, comma-separated (e.g. deep,physics; see "
                        "dysts-bench forecasters); ranks and skill stay those among all forecasters")
    p.add_argument("--wide", action="store_true", help="terminal: show every column, whatever the width")
    p.add_argument("--system-pages", action="store_true",
                   help="also write one HTML page per system into OUT/systems/ (large; not committed)")
    p.set_defaults(func=cmd_leaderboard)
    return subparsers

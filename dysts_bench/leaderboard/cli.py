"""``dysts-bench leaderboard``: render the leaderboard from the stored results."""

from __future__ import annotations

import sys
import warnings

FORMATS = ("terminal", "markdown", "csv", "html", "all")


def cmd_leaderboard(args):
    from pathlib import Path

    from .aggregate import summarize
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
    kwargs = {"baseline": args.baseline or None, "n_boot": args.n_boot, "level": args.level,
              "seed": args.seed, "messages": messages, "scope": args.scope}
    formats = ["markdown", "csv", "html"] if args.format == "all" else [args.format]
    files = _file_formats(args, formats)
    results_dir = results if results.is_dir() else None
    if args.evaluation is not None:  # one evaluation by its label (fresh:SEED, ...)
        board = summarize(frame, evaluation=args.evaluation, **kwargs)
        if args.format in ("terminal", "all"):
            print_terminal(board, wide=args.wide)
        if files:
            _report(write(board, args.out, files, results_dir=results_dir,
                          system_pages_from=frame if args.system_pages else None))
        return 0
    return _sections(frame, args, kwargs, files, results_dir)


def _file_formats(args, formats) -> list:
    """The file formats to write (html only with the plot extra)."""
    files = [f for f in formats if f != "terminal"]
    if args.system_pages and "html" not in files:
        files.append("html")
    if "html" in files and not _have_plot_extra():
        message = "index.html needs the plot extra (pip install 'dysts-bench[plot]': jinja2, matplotlib)"
        if args.format != "all":
            raise SystemExit(f"dysts-bench: error: {message}")
        print(f"dysts-bench: warning: {message}; not written", file=sys.stderr)
        files.remove("html")
    return files


def _report(written):
    pages = [p for p in written if p.parent.name == "systems"]
    if pages:
        print(f"wrote {len(pages)} system pages to {pages[0].parent}")
    for path in written:
        if path not in pages:
            print(f"wrote {path}")


def _sections(frame, args, kwargs, files, results_dir):
    """The leaderboard track by track (all, or ``--track``)."""
    from .aggregate import summarize_tracks
    from .sections import print_sections, write_sections
    if frame.empty:
        raise ValueError("no readable results")
    sections = summarize_tracks(frame, None if args.track == "all" else [args.track], **kwargs)
    if args.format in ("terminal", "all"):
        print_sections(sections, wide=args.wide)
    if files:
        _report(write_sections(sections, args.out, files, results_dir=results_dir,
                               system_pages_from=frame if args.system_pages else None))
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
    from ..tracks import TRACKS
    p.add_argument("--track", choices=("all", *TRACKS), default="all",
                   help="track(s) to show, one section each (default: all; see TRACKS.md)")
    p.add_argument("--evaluation", default=None,
                   help="rank one evaluation by its label instead of tracks (e.g. fresh:3)")
    p.add_argument("--baseline", default="naive", help="forecaster that skill is relative to")
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap replicates (default: 2000)")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default: 0.95)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: 0)")
    p.add_argument("--scope", choices=("chaotic", "all"), default="chaotic",
                   help="systems in the aggregates: those labelled chaotic (all while none is labelled; "
                        "default) or all")
    p.add_argument("--wide", action="store_true", help="terminal: show every column, whatever the width")
    p.add_argument("--system-pages", action="store_true",
                   help="also write one HTML page per system into OUT/systems/ (large; not committed)")
    p.set_defaults(func=cmd_leaderboard)
    return subparsers

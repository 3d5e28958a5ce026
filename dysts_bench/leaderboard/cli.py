"""``dysts-bench leaderboard``: render the leaderboard from the stored results.

Without ``--results`` it ranks the reference results shipped with the package next to the
user's own runs (:func:`dysts_bench.paths.user_results_dir`, rows marked ``(local)``).
``--format`` chooses what is printed; ``--out DIR`` writes files instead of printing them.
One section per evaluation track (:mod:`dysts_bench.tracks`; ``--track`` picks one), or one
evaluation by its label (``--evaluation``).
"""

from __future__ import annotations

import sys
import warnings

FORMATS = ("terminal", "markdown", "csv", "html", "all")


def _sources(args):
    """(reference, local, results_dir for links) from the arguments."""
    from pathlib import Path

    from ..paths import reference_results_dir, user_results_dir
    if args.results:
        results = Path(args.results)
        if not results.exists():
            raise ValueError(f"no results directory or file {results}")
        return results, None, results if results.is_dir() else None
    reference = reference_results_dir()
    local = None if args.no_local else user_results_dir()
    if reference is None and (local is None or not local.exists()):
        raise ValueError("no results: neither shipped reference results nor a user results directory "
                         f"({user_results_dir()}); give --results DIR")
    return reference, local, reference


def cmd_leaderboard(args):
    from .aggregate import select_families, summarize
    from .load import LeaderboardWarning, known_systems, load_sources, resolve_label
    from .render import print_terminal, write
    reference, local, link_dir = _sources(args)
    with warnings.catch_warnings():
        # the warnings are printed once below (and written into the outputs), not twice
        warnings.simplefilter("ignore", LeaderboardWarning)
        frame, messages = load_sources(reference, local, systems=known_systems())
    for text in messages:
        print(f"dysts-bench: warning: {text}", file=sys.stderr)
    kwargs = {"baseline": resolve_label(frame, args.baseline or None), "n_boot": args.n_boot,
              "level": args.level, "seed": args.seed, "messages": messages, "scope": args.scope}
    if args.evaluation is None:
        return _sections(frame, args, kwargs, link_dir)
    board = summarize(frame, evaluation=args.evaluation, **kwargs)  # one evaluation by its label
    if args.family:
        board = select_families(board, args.family.split(","))
    if args.out is None:  # print only
        _no_pages(args)
        if args.format in ("terminal", "all"):
            print_terminal(board, wide=args.wide)
        else:
            sys.stdout.write(_renderer(args.format)(board))
        return 0
    if args.format in ("terminal", "all"):
        print_terminal(board, wide=args.wide)
    _report(write(board, args.out, _file_formats(args), results_dir=link_dir,
                  system_pages_from=frame if args.system_pages else None))
    return 0


def _sections(frame, args, kwargs, link_dir):
    """The leaderboard track by track (all, or ``--track``): printed, or written with TRACKS.md."""
    from .aggregate import summarize_tracks
    from .sections import print_sections, write_sections
    if frame.empty:
        raise ValueError("no readable results")
    sections = summarize_tracks(frame, None if args.track == "all" else [args.track], **kwargs)
    if args.family:
        from .aggregate import select_families
        for sec in (s for s in sections if s.board is not None):
            sec.board = select_families(sec.board, args.family.split(","))
    if args.format in ("terminal", "all"):
        print_sections(sections, wide=args.wide)
    if args.out is None:
        _no_pages(args)
        boards = [s.board for s in sections if s.board is not None]
        if args.format in ("terminal", "all") or not boards:
            return 0
        if len(boards) > 1 and args.format != "markdown":  # one CSV table or HTML page: canonical
            boards = [s.board for s in sections if s.board is not None and s.track == "canonical"][:1] or boards[:1]
            print(f"dysts-bench: printing the {boards[0].evaluation} track (--track picks another)", file=sys.stderr)
        sys.stdout.write("\n".join(_renderer(args.format)(b) for b in boards))
        return 0
    _report(write_sections(sections, args.out, _file_formats(args), results_dir=link_dir,
                           system_pages_from=frame if args.system_pages else None))
    return 0


def _no_pages(args):
    if args.system_pages:
        raise SystemExit("dysts-bench: error: --system-pages writes files: give --out DIR")


def _renderer(fmt):
    from .render import render_csv, render_html, render_markdown
    if fmt == "html" and not _have_plot_extra():
        raise SystemExit(f"dysts-bench: error: {PLOT_EXTRA_MESSAGE}")
    return {"markdown": render_markdown, "csv": render_csv, "html": render_html}[fmt]


def _file_formats(args) -> list:
    """The files to write with ``--out`` (index.html only with the plot extra)."""
    files = ["markdown", "csv", "html"] if args.format in ("terminal", "all") else [args.format]
    if args.system_pages and "html" not in files:
        files.append("html")
    if "html" in files and not _have_plot_extra():
        if args.format == "html":
            raise SystemExit(f"dysts-bench: error: {PLOT_EXTRA_MESSAGE}")
        print(f"dysts-bench: warning: {PLOT_EXTRA_MESSAGE}; not written", file=sys.stderr)
        files.remove("html")
    return files


def _report(written):
    pages = [p for p in written if p.parent.name == "systems"]
    if pages:
        print(f"wrote {len(pages)} system pages to {pages[0].parent}")
    for path in written:
        if path not in pages:
            print(f"wrote {path}")


PLOT_EXTRA_MESSAGE = "index.html needs the plot extra (pip install 'dysts-bench[plot]': jinja2, matplotlib)"


def _have_plot_extra() -> bool:
    import importlib.util
    return all(importlib.util.find_spec(m) is not None for m in ("jinja2", "matplotlib"))


def add_cli(subparsers):
    """Register ``dysts-bench leaderboard``."""
    p = subparsers.add_parser(
        "leaderboard", help="rank the forecasters from stored results (terminal, Markdown, CSV, HTML)",
        description="Aggregate the stored results (no forecast is re-run): median VPT, errors by "
                    "horizon, mean rank, skill vs a baseline with bootstrap CIs, cost, statuses. "
                    "By default the shipped reference results and your own runs (marked '(local)'); "
                    "runs with a passing verify-results mark are marked with a check.")
    p.add_argument("--results", default=None,
                   help="rank only this results directory (or run file) instead of reference + local")
    p.add_argument("--no-local", action="store_true", help="leave out your own runs (the user results directory)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="write README.md, results.csv and index.html (or the --format given) into DIR")
    p.add_argument("--format", choices=FORMATS, default="terminal",
                   help="what to print (without --out) or write (with --out): terminal (default), markdown, "
                        "csv, html, all")
    from ..tracks import TRACKS
    p.add_argument("--track", choices=("all", *TRACKS), default="all",
                   help="track(s) to show, one section each (default: all; --out writes TRACKS.md too)")
    p.add_argument("--evaluation", default=None,
                   help="rank one evaluation by its label instead of tracks (e.g. fresh:3)")
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

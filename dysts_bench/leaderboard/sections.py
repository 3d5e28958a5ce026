"""The leaderboard by track: print or write one :class:`~.aggregate.Section` after another
(each with the renderers of :mod:`.render`, unchanged) and ``TRACKS.md``, the page that
states each track's protocol and links its leaderboard.

Files: the ``canonical`` track writes ``README.md`` / ``results.csv`` / ``index.html`` into
the output directory, as before tracks existed; every other track writes the same files
into ``tracks/<track>/`` below it.
"""

from __future__ import annotations

from pathlib import Path

from .aggregate import Section


def section_dir(out_dir, track: str) -> Path:
    """Where a track's files go."""
    return Path(out_dir) if track == "canonical" else Path(out_dir) / "tracks" / track


def _counts(section: Section) -> str:
    lb = section.board
    if lb is None:
        return section.note or "no results yet"
    return f"{len(lb.table)} forecasters, {lb.n_tasks} tasks on {lb.n_systems} systems"


def pretraining_rows(section: Section) -> list[tuple[str, str]]:
    """``(forecaster, pretraining data)`` rows of a section's board (the zero-shot flag)."""
    lb = section.board
    if lb is None or "pretraining" not in lb.table:
        return []
    return [(str(name), str(text)) for name, text in lb.table["pretraining"].items()]


def _pretraining_markdown(rows) -> list[str]:
    return ["| forecaster | pretraining data (could it include held-out systems?) |", "|---|---|",
            *[f"| {a} | {b} |" for a, b in rows]]


def tracks_markdown(sections: list[Section], out_dir=None) -> str:
    """``TRACKS.md``: per track its protocol, what it holds and where its leaderboard is;
    for ``zero-shot`` the pretraining data of every entry."""
    lines = ["# Evaluation tracks", "",
             "Every result record names its track in `evaluation`; results files are "
             "`<run id>.<track>.jsonl`. Run a track with `dysts-bench run NAME --track TRACK` "
             "(zero-shot with pretraining: `--track zero-shot --corpus DIR`, a corpus from "
             "`dysts-bench corpus`).", ""]
    for sec in sections:
        lines += [f"## `{sec.track}`", "", sec.protocol, "", f"Results: {_counts(sec)}."]
        if sec.board is not None and out_dir is not None:
            rel = section_dir(".", sec.track) / "README.md"
            lines.append(f"Leaderboard: [{rel.as_posix()}]({rel.as_posix()}).")
        rows = pretraining_rows(sec) if sec.track == "zero-shot" else []
        if rows:
            lines += ["", *_pretraining_markdown(rows)]
        lines.append("")
    return "\n".join(lines)


def print_sections(sections: list[Section], console=None, *, wide=False):
    """Each section in turn on the terminal: a heading, the protocol and the tables."""
    from rich.console import Console

    from ..console import terminal_width
    from .render import print_terminal
    console = console or Console(width=terminal_width(), highlight=False)
    for sec in sections:
        console.rule(f"track: {sec.track}")
        console.print(sec.protocol, highlight=False)
        if sec.board is None:
            console.print(f"[dim]{sec.note or 'no results yet'}[/dim]")
            continue
        print_terminal(sec.board, console, wide=wide)
        rows = pretraining_rows(sec) if sec.track == "zero-shot" else []
        for name, text in rows:
            console.print(f"pretraining data of {name}: {text}", highlight=False)


def write_sections(sections: list[Section], out_dir, formats, results_dir=None,
                   system_pages_from=None) -> list[Path]:
    """Every section's files (:func:`.render.write` into :func:`section_dir`) and, with
    Markdown among ``formats``, TRACKS.md. System pages (``system_pages_from``, the task
    frame) are written for the canonical track only."""
    from ..atomic import atomic_write
    from .render import write
    written = []
    for sec in sections:
        if sec.board is not None:
            pages = system_pages_from if sec.track == "canonical" else None
            files = write(sec.board, section_dir(out_dir, sec.track), formats, results_dir=results_dir,
                          system_pages_from=pages)
            rows = pretraining_rows(sec) if sec.track == "zero-shot" else []
            for path in (f for f in files if f.name == "README.md" and rows):
                # the zero-shot flag, below the tables (render.py knows nothing of tracks)
                text = path.read_text().rstrip("\n")
                path.write_text("\n".join([text, "", "## Pretraining data", "", *_pretraining_markdown(rows), ""]))
            written += files
    if "markdown" not in formats:
        return written
    path = Path(out_dir) / "TRACKS.md"
    atomic_write(path, tracks_markdown(sections, out_dir))
    return [*written, path]

"""Terminal output: one table helper and one progress bar (both rich) for every command.

Tables take the terminal's width (``COLUMNS`` respected, 80 when the output is not a
terminal) and show the columns that fit, most important first, in their original order;
the hidden ones are named in the caption. ``wide=True`` shows every column whatever the
width (the output is then as wide as the table needs).
"""

from __future__ import annotations

import os
import shutil
import sys

#: Characters a table spends per column besides its content (padding and separator),
#: and once per table (outer edges), with the box style used below.
COLUMN_OVERHEAD = 3
TABLE_OVERHEAD = 1
#: A column allowed to fold its cells keeps at least this many characters.
MIN_FOLD_WIDTH = 10


def terminal_width(stream=None) -> int:
    """Width to render for: ``COLUMNS`` if set, else the terminal's, else 80."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    stream = stream or sys.stdout
    try:
        if stream.isatty():
            return shutil.get_terminal_size((80, 24)).columns
    except (AttributeError, ValueError):
        pass
    return 80


def _natural_width(header: str, cells) -> int:
    """Content width of a column: its widest cell, and the header wrapped at spaces (no
    word cut) but not narrower than 10 characters unless the header is shorter."""
    cell = max((len(c) for c in cells), default=0)
    words = max((len(w) for w in header.split()), default=0)
    return max(cell, words, min(len(header), 10))


def choose_columns(headers, rows, width: int, priority=None, fold=()) -> tuple[list[int], dict]:
    """Indices of the columns that fit in ``width`` (in display order) and their widths.

    Columns are taken in ``priority`` order (indices, most important first; default left
    to right) while they fit; the first column always shows. A column in ``fold`` may be
    narrowed (its cells fold) to what is left, down to :data:`MIN_FOLD_WIDTH`.
    """
    order = list(priority) if priority is not None else list(range(len(headers)))
    order += [i for i in range(len(headers)) if i not in order]
    natural = {i: _natural_width(headers[i], [r[i] for r in rows]) for i in order}
    chosen, used = [], TABLE_OVERHEAD
    widths = {}
    for i in order:
        need = natural[i] + COLUMN_OVERHEAD
        if used + need <= width or not chosen:
            widths[i] = natural[i]
        elif i in fold and width - used - COLUMN_OVERHEAD >= MIN_FOLD_WIDTH:
            widths[i] = width - used - COLUMN_OVERHEAD
        else:
            continue
        chosen.append(i)
        used += widths[i] + COLUMN_OVERHEAD
    return sorted(chosen), widths


def make_table(title, headers, rows, *, width=None, wide=False, priority=None, right=(), fold=(),
               hint="--wide shows all"):
    """A rich table of ``rows`` (sequences of str) that fits in ``width`` characters.

    ``right``: indices of right-aligned (numeric) columns. See :func:`choose_columns` for
    ``priority`` and ``fold``; ``hint`` says how to see hidden columns. Returns
    ``(table, width_needed)``.
    """
    from rich import box
    from rich.table import Table
    rows = [[str(x) for x in row] for row in rows]
    width = terminal_width() if width is None else width
    if wide:
        width = 10 ** 6
    shown, widths = choose_columns(headers, rows, width, priority, fold)
    hidden = [headers[i] for i in range(len(headers)) if i not in shown]
    caption = f"not shown: {', '.join(hidden)} ({hint})" if hidden else None
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False,
                  caption_justify="left", title_justify="left")
    for i in shown:
        table.add_column(headers[i], justify="right" if i in right else "left", width=widths[i],
                         overflow="fold", no_wrap=False)
    for row in rows:
        table.add_row(*[row[i] for i in shown])
    needed = TABLE_OVERHEAD + sum(widths[i] + COLUMN_OVERHEAD for i in shown)
    return table, needed


def print_table(title, headers, rows, *, console=None, stderr=False, width=None, wide=False,
                priority=None, right=(), fold=(), hint="--wide shows all"):
    """Print :func:`make_table` on ``console`` (default: stdout, or stderr)."""
    from rich.console import Console
    stream = sys.stderr if stderr else sys.stdout
    if console is not None and width is None:
        width = console.width
    width = terminal_width(stream) if width is None else width
    table, needed = make_table(title, headers, rows, width=width, wide=wide, priority=priority,
                               right=right, fold=fold, hint=hint)
    console = console or Console(file=stream, width=max(needed, width) if wide else width,
                                 highlight=False, soft_wrap=False)
    if wide and console.width < needed:
        console.width = needed
    console.print(table)


class ProgressBar:
    """A rich progress bar with the small interface the callers use (``update``,
    ``set_postfix_str``, ``close``); a no-op when disabled."""

    def __init__(self, total: int, description: str, enabled: bool = True):
        self._progress = None
        if not enabled or total == 0:
            return
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)
        self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                  TextColumn("{task.fields[status]}"), console=Console(stderr=True))
        self._progress.start()
        self._task = self._progress.add_task(description, total=total, status="")

    def update(self, n: int = 1):
        if self._progress is not None:
            self._progress.update(self._task, advance=n)

    def set_postfix_str(self, text: str):
        if self._progress is not None:
            self._progress.update(self._task, status=text)

    def close(self):
        if self._progress is not None:
            self._progress.stop()


__all__ = ["ProgressBar", "choose_columns", "make_table", "print_table", "terminal_width"]

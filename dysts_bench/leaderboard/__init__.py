"""The rendered leaderboard: aggregates of the stored results and their Markdown, CSV, HTML
and terminal views.

Data flows one way: this package reads the runner's records (``leaderboard/results``) and
nothing upstream imports it.

>>> from dysts_bench.leaderboard import load_results, summarize, render_markdown
>>> frame, warnings = load_results("leaderboard/results")    # doctest: +SKIP
>>> board = summarize(frame, baseline="naive", seed=0)         # doctest: +SKIP
>>> print(render_markdown(board))                              # doctest: +SKIP

``dysts-bench leaderboard --format all`` (``make leaderboard``) writes
``leaderboard/README.md``, ``leaderboard/results.csv`` and ``leaderboard/index.html``.
"""

from .aggregate import (Leaderboard, bootstrap_ci, complete_tasks, error_matrix, mean_rank,
                        median_over_tasks, rank_matrix, skill_matrix, skill_table, summarize, vpt_matrix)
from .cli import add_cli
from .load import LeaderboardWarning, load_results, read_records, records_frame
from .render import print_terminal, render_csv, render_html, render_markdown, write

__all__ = ["Leaderboard", "LeaderboardWarning", "add_cli", "bootstrap_ci", "complete_tasks", "error_matrix",
           "load_results", "mean_rank", "median_over_tasks", "print_terminal", "rank_matrix", "read_records",
           "records_frame", "render_csv", "render_html", "render_markdown", "skill_matrix", "skill_table",
           "summarize", "vpt_matrix", "write"]

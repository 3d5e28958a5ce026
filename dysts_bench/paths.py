"""Where results live: the reference results shipped with the package, and the user's own.

* Reference results: the canonical run files of ``leaderboard/results`` (in the wheel as
  ``dysts_bench/reference_results``; in a source checkout, the repository's folder).
* User results: ``$DYSTS_BENCH_RESULTS_DIR``, else ``$XDG_DATA_HOME/dysts-bench/results``,
  else ``~/.local/share/dysts-bench/results`` (the XDG data directory, as platformdirs
  gives it on Linux). A user's runs go there by default, so that an experiment never
  lands in the repository's tracked results; ``--out leaderboard/results`` publishes.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
#: Environment variable that overrides the user results directory.
RESULTS_ENV = "DYSTS_BENCH_RESULTS_DIR"


def reference_results_dir() -> Path | None:
    """The shipped reference results: the wheel's copy, else the source checkout's."""
    for candidate in (_PACKAGE / "reference_results", _PACKAGE.parent / "leaderboard" / "results"):
        if candidate.is_dir() and any(candidate.glob("*.jsonl")):
            return candidate
    return None


def user_results_dir() -> Path:
    """Where a user's runs go by default (not created here)."""
    env = os.environ.get(RESULTS_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "dysts-bench" / "results"


def verification_path(run_file) -> Path:
    """The verification mark of a run file: ``<run>.verified.json`` beside ``<run>.jsonl``."""
    run_file = Path(run_file)
    stem = run_file.name[: -len(".jsonl")] if run_file.name.endswith(".jsonl") else run_file.name
    return run_file.with_name(stem + ".verified.json")


def file_digest(path) -> str:
    """SHA-256 of a file's bytes: a verification mark holds only for the bytes it checked."""
    import hashlib
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()

"""The results store: per-task record files written atomically while a run is going, one
consolidated ``.jsonl`` per forecaster run and evaluation, and :func:`read_results`."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

from ..atomic import atomic_write


#: Longest name a slug keeps whole; longer ones are cut and given a hash of the whole text,
#: so that file names stay far below the file system's 255 bytes.
SLUG_LENGTH = 80
#: Longest forecaster name accepted (it becomes part of the results' file names).
MAX_NAME_LENGTH = 100


def _slug(text: str) -> str:
    out = "".join(c if c.isalnum() or c in "-_" else "-" for c in str(text))
    out = out.strip("-") or "x"
    if len(out.encode()) > SLUG_LENGTH:  # bytes: non-ASCII letters take up to 4
        head = out.encode()[:SLUG_LENGTH - 9].decode(errors="ignore")
        out = f"{head}-{hashlib.sha256(str(text).encode()).hexdigest()[:8]}"
    return out


def check_forecaster_name(name) -> str:
    """Return a forecaster's ``name`` if it can name result files, else raise ValueError."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"forecaster name must be a non-empty string, got {name!r}")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"forecaster name {name[:40]!r}... has {len(name)} characters; "
                         f"at most {MAX_NAME_LENGTH} (it names the results files)")
    if not name.isprintable():
        raise ValueError(f"forecaster name {name!r} contains control characters")
    return name


def _task_record(text: str, where: str):
    """The record in ``text`` (one JSON object), or None with a warning naming ``where``
    for anything else (``null``, a list, a number): resume never trips over a bad line."""
    try:
        record = json.loads(text)
    except ValueError:
        return None  # a partial line or file: the task simply counts as not done
    if not isinstance(record, dict):
        warnings.warn(f"{where}: skipped a line that is not a task record "
                      f"({type(record).__name__})", RuntimeWarning, stacklevel=3)
        return None
    return record


def read_results(path) -> list[dict]:
    """Records of a run file (``.jsonl``) or of a per-task directory; skips partial lines
    and (with a warning naming file and line) lines that hold no JSON object."""
    path = Path(path)
    records = []
    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            try:
                rec = _task_record(file.read_text(), str(file))
            except OSError:
                continue
            if rec is not None:
                records.append(rec)
        return records
    if path.exists():
        for lineno, line in enumerate(path.read_text().splitlines(), start=1):
            rec = _task_record(line, f"{path}:{lineno}")
            if rec is not None:
                records.append(rec)
    return records


class ResultStore:
    """Per-task record files plus one consolidated ``.jsonl`` per forecaster run."""

    def __init__(self, root, run_id: str, fsync: bool = True):
        self.root = Path(root)
        self.run_id = run_id
        self.fsync = fsync

    def stem(self, evaluation: str) -> str:
        return f"{self.run_id}.{_slug(evaluation.replace(':', '-').replace('+', '-').replace('=', '-'))}"

    def run_file(self, evaluation: str) -> Path:
        return self.root / f"{self.stem(evaluation)}.jsonl"

    def task_dir(self, evaluation: str) -> Path:
        return self.root / ".tasks" / self.stem(evaluation)

    def task_path(self, evaluation: str, system: str, series) -> Path:
        return self.task_dir(evaluation) / _slug(system) / f"{_slug(str(series))}.json"

    def tune_path(self, evaluation: str, system: str) -> Path:
        return self.task_dir(evaluation) / "_tune" / f"{_slug(system)}.json"

    def existing(self, evaluation: str) -> dict:
        """``{(system, series): record}`` from the run file and the per-task files."""
        found = {}
        for rec in read_results(self.run_file(evaluation)):
            found[(rec.get("system"), rec.get("series"))] = rec
        tdir = self.task_dir(evaluation)
        if tdir.is_dir():
            for file in tdir.glob("*/*.json"):
                if file.parent.name == "_tune":
                    continue
                try:
                    rec = _task_record(file.read_text(), str(file))
                except OSError:
                    continue
                if rec is not None:
                    found[(rec.get("system"), rec.get("series"))] = rec
        return found

    def write(self, record: dict):
        path = self.task_path(record["evaluation"], record["system"], record["series"])
        atomic_write(path, json.dumps(record, allow_nan=False), fsync=self.fsync)

    def read_tune(self, evaluation, system):
        try:
            return json.loads(self.tune_path(evaluation, system).read_text())
        except (OSError, ValueError):
            return None

    def write_tune(self, evaluation, system, record):
        atomic_write(self.tune_path(evaluation, system), json.dumps(record, allow_nan=False), fsync=self.fsync)

    def consolidate(self, evaluation: str) -> Path:
        records = self.existing(evaluation)
        lines = [json.dumps(records[k], allow_nan=False, sort_keys=False)
                 for k in sorted(records, key=lambda k: (str(k[0]), str(k[1])))]
        path = self.run_file(evaluation)
        atomic_write(path, "".join(line + "\n" for line in lines), fsync=self.fsync)
        return path

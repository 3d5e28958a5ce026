"""The results store: per-task record files written atomically while a run is going, one
consolidated ``.jsonl`` per forecaster run and evaluation, and :func:`read_results`."""

from __future__ import annotations

import json
from pathlib import Path

from ..atomic import atomic_write


def _slug(text: str) -> str:
    out = "".join(c if c.isalnum() or c in "-_" else "-" for c in str(text))
    return out.strip("-") or "x"


def read_results(path) -> list[dict]:
    """Records of a run file (``.jsonl``) or of a per-task directory; skips partial lines."""
    path = Path(path)
    records = []
    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            try:
                records.append(json.loads(file.read_text()))
            except (OSError, ValueError):
                continue
        return records
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
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
                    rec = json.loads(file.read_text())
                except (OSError, ValueError):
                    continue
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

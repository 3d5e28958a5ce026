"""``dysts-bench verify-results FILE --sample 10``: re-run a seeded random sample of a
submitted results file's tasks in the isolated runner and check that the scores reproduce.

Each sampled task is re-run with the parameters its record says it used
(``forecaster.task_params``: after tuning, so no tuning is repeated) on the task its record
names (same evaluation and context length; the task hash must match, or the dataset has
changed since the run). Its status must match, and every score compared (the 17
whole-horizon metrics, both valid prediction times, the long-term statistics and the
per-horizon errors) must agree within ``|new - stored| <= atol + rtol * |stored|``.
Records store 6 significant digits, so the default ``rtol = 1e-3`` (``atol = 1e-6``)
leaves room for rounding and for floating-point differences between machines (BLAS),
while an edited score, or a forecast from another model, fails.

The outcome is written beside the file as ``<run>.verified.json`` (sample, seed,
tolerances, versions, the file's SHA-256): the leaderboard marks the run verified while
the mark passes and the file is unchanged.
"""

from __future__ import annotations

import json
import math
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ..atomic import atomic_write
from ..paths import file_digest, verification_path
from .records import _scoring_versions
from .rescore import _task_source
from .store import read_results
from .tasks import _check_task, task_hash

DEFAULT_RTOL = 1e-3
DEFAULT_ATOL = 1e-6
#: Record fields whose numbers are compared.
COMPARED = ("metrics", "vpt", "long_term", "horizon_metrics")


class VerificationError(ValueError):
    """A results file that cannot be verified (no runnable forecaster, unknown evaluation)."""


def runnable_target(record: dict, forecaster=None) -> str:
    """The forecaster a record names, as something :func:`run` accepts."""
    if forecaster:
        return forecaster
    target = (record.get("forecaster") or {}).get("target")
    if not isinstance(target, str) or target == "external":
        raise VerificationError("the records were scored from outside the runner (leakage: self-declared): "
                                "there is no forecaster to re-run; give --forecaster FILE.py:Class")
    if target.startswith("builtin:"):
        from ..forecaster import builtin_dirs
        _, rel, name = target.split(":", 2)
        for folder in builtin_dirs():
            if (folder / f"{rel}.py").is_file():
                return f"{folder / rel}.py:{name}"
        raise VerificationError(f"built-in forecaster {target} is not installed here")
    return target


def _flat(value, prefix="") -> dict:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _flat(item, f"{prefix}{key}.").items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in _flat(item, f"{prefix}{i}.").items()}
    return {prefix.rstrip("."): value}


def compare(stored: dict, new: dict, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL) -> list[str]:
    """The differences between two records' statuses and scores, as text."""
    if stored.get("status") != new.get("status"):
        return [f"status {stored.get('status')} was recorded, the re-run gives {new.get('status')}"]
    old = _flat({k: stored.get(k) for k in COMPARED})
    now = _flat({k: new.get(k) for k in COMPARED})
    diffs = []
    for key in sorted(set(old) | set(now)):
        a, b = old.get(key), now.get(key)
        numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
        if numbers and (abs(b - a) <= atol + rtol * abs(a) or (math.isnan(a) and math.isnan(b))):
            continue
        if a == b:
            continue
        diffs.append(f"{key}: recorded {a}, re-run {b}")
    return diffs


def _sample(records: list, size: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    picks = sorted(rng.choice(len(records), size=min(size, len(records)), replace=False))
    return [records[i] for i in picks]


def _rerun(group: list, target: str, options: dict) -> dict:
    """Re-run the tasks of one (evaluation, context length, parameters) group."""
    from ..dataset import iter_tasks
    from . import run
    first = group[0]
    wanted = {(r["system"], r["series"]) for r in group}
    tasks = [t for t in iter_tasks(systems=sorted({s for s, _ in wanted}), root=options.get("root"),
                                   context_length=int(first.get("context_length") or 1000),
                                   **_task_source(first["evaluation"]))
             if (t.system, t.series) in wanted]
    hashes = {(s, k): task_hash(c, f, i) for s, k, c, f, i in map(_check_task, tasks)}
    with tempfile.TemporaryDirectory(prefix="dysts-bench-verify-") as tmp:
        result = run(target, tasks, tmp, params=(first.get("forecaster") or {}).get("task_params") or {},
                     tune=False, resume=False, progress=False, summary=False, timeout=options["timeout"],
                     memory=options["memory"], workers=options["workers"])
    return {(r["system"], r["series"]): (r, hashes.get((r["system"], r["series"]))) for r in result.records}


def verify_results(path, *, sample: int = 10, seed: int = 0, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL,
                   forecaster=None, root=None, timeout=600, memory="4GB", workers=1, write: bool = True) -> dict:
    """Re-run a seeded sample of ``path``'s tasks and compare; returns the verification mark
    (``passed``, ``failures`` by task, ...) and writes it beside the file if ``write``."""
    path = Path(path)
    records = [r for r in read_results(path) if isinstance(r.get("system"), str)]
    if not records:
        raise VerificationError(f"{path}: no task records")
    from ..schema import PROTOCOL_VERSION
    old = sorted({str(r.get("protocol_version")) for r in records} - {PROTOCOL_VERSION})
    if old:
        raise VerificationError(f"{path}: records of scoring protocol {', '.join(old)}, the scoring code is "
                                f"protocol {PROTOCOL_VERSION}: rescore (dysts-bench rescore) or re-run the file first")
    chosen = _sample(records, int(sample), int(seed))
    target = runnable_target(chosen[0], forecaster)
    groups = {}
    for rec in chosen:
        key = (rec.get("evaluation"), rec.get("context_length"),
               json.dumps((rec.get("forecaster") or {}).get("task_params"), sort_keys=True))
        groups.setdefault(key, []).append(rec)
    options = {"root": root, "timeout": timeout, "memory": memory, "workers": workers}
    failures = {}
    for group in groups.values():
        try:
            redone = _rerun(group, target, options)
        except ValueError as exc:
            raise VerificationError(f"cannot re-run the tasks of {group[0].get('evaluation')!r}: {exc}") from exc
        for rec in group:
            task = f"{rec['system']}/{rec['series']}"
            new, thash = redone.get((rec["system"], rec["series"]), (None, None))
            if new is None:
                failures[task] = ["the task is not in the dataset any more"]
            elif thash != rec.get("task_hash"):
                failures[task] = ["the task's data changed since the run (another task hash): re-run the file"]
            else:
                diffs = compare(rec, new, rtol, atol)
                if diffs:
                    failures[task] = diffs
    mark = {"file": path.name, "file_sha256": file_digest(path),
            "run_id": (chosen[0].get("forecaster") or {}).get("run_id"), "passed": not failures,
            "sample": [[r["system"], r["series"]] for r in chosen], "sample_size": len(chosen),
            "seed": int(seed), "rtol": rtol, "atol": atol, "compared": ["status", *COMPARED],
            "failures": failures, "forecaster": target,
            "verified_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "versions": {**_scoring_versions(), "python": platform.python_version()}}
    if write:
        atomic_write(verification_path(path), json.dumps(mark, indent=1) + "\n")
    return mark


def cmd_verify_results(args):
    try:
        mark = verify_results(args.file, sample=args.sample, seed=args.seed, rtol=args.rtol, atol=args.atol,
                              forecaster=args.forecaster, root=args.root, timeout=args.timeout,
                              memory=args.memory, workers=args.workers, write=not args.no_write)
    except VerificationError as exc:
        print(f"dysts-bench: error: {exc}", file=sys.stderr)
        return 2
    for task, diffs in mark["failures"].items():
        print(f"FAILED {task}:")
        for line in diffs[:8]:
            print(f"    {line}")
        if len(diffs) > 8:
            print(f"    ... and {len(diffs) - 8} more")
    verdict = "reproduced" if mark["passed"] else f"did NOT reproduce ({len(mark['failures'])} task(s): " \
                                                   f"{', '.join(mark['failures'])})"
    print(f"{args.file}: {mark['sample_size']} sampled tasks (seed {mark['seed']}, rtol {mark['rtol']:g}, "
          f"atol {mark['atol']:g}) {verdict}")
    if not args.no_write:
        print(f"wrote {verification_path(args.file)}")
    return 0 if mark["passed"] else 1


def add_verify_cli(subparsers):
    """Register ``dysts-bench verify-results``."""
    from .cli import _memory_size, _positive_int, _positive_seconds
    p = subparsers.add_parser("verify-results", help="re-run a seeded sample of a results file's tasks and "
                                                     "check that the scores reproduce",
                              description=__doc__.split("\n\n")[1])
    p.add_argument("file", help="a run file (<name>-<hash>.<evaluation>.jsonl)")
    p.add_argument("--sample", type=_positive_int, default=10, help="tasks to re-run (default 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    p.add_argument("--rtol", type=float, default=DEFAULT_RTOL, help=f"relative tolerance (default {DEFAULT_RTOL:g})")
    p.add_argument("--atol", type=float, default=DEFAULT_ATOL, help=f"absolute tolerance (default {DEFAULT_ATOL:g})")
    p.add_argument("--forecaster", default=None,
                   help="the forecaster to re-run (default: the target the records name), e.g. forecasters/mine.py:Mine")
    p.add_argument("--root", default=None, help="dataset directory (default: the shipped dataset)")
    p.add_argument("--timeout", type=_positive_seconds, default=600, help="seconds per task")
    p.add_argument("--memory", type=_memory_size, default="4GB", help="memory per task")
    p.add_argument("--workers", type=_positive_int, default=1)
    p.add_argument("--no-write", action="store_true", help="do not write the <run>.verified.json mark")
    p.set_defaults(func=cmd_verify_results)

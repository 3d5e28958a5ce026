"""The runner's side of pretraining (zero-shot track): check the corpus before the workers
start, and say in the records what the run was pretrained on.

The worker side is :func:`dysts_bench.runner.worker._pretrain` (once per worker host, before
any task); the contract is in :mod:`dysts_bench.forecaster.contract`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

#: Seconds a worker host may take to start when it pretrains (default of ``pretrain_timeout``).
PRETRAIN_TIMEOUT = 3600.0
_STARTUP = 300.0


def pretraining_init(corpus, isolation: str, pretrain_timeout: float, results_dir,
                     hidden=()) -> tuple[dict, dict | None]:
    """``(worker init additions, corpus record)``; nothing without a corpus. The corpus is
    read and checked here (a clear error before any worker starts); ``hidden``: the paths
    the OS sandbox hides from workers, where a corpus would be invisible."""
    if corpus is None:
        return {}, None
    from ..corpus import corpus_record
    if isolation != "fork":
        raise ValueError("pretraining needs isolation='fork': task processes are forks of the worker "
                         "host that holds the pretrained model (a spawned interpreter would not have it)")
    if not (pretrain_timeout > 0):
        raise ValueError(f"pretrain_timeout must be a positive number of seconds, got {pretrain_timeout}")
    path = Path(corpus).resolve()
    for closed in [Path(results_dir).resolve(), *map(Path, hidden)]:
        if path == closed or closed in path.parents:
            raise ValueError(f"the corpus {path} lies inside {closed}, which workers may not read "
                             "(results, dataset, leaderboard/, .git): put it elsewhere")
    record = corpus_record(path)
    if record["heldout_systems_in_corpus"]:
        warnings.warn(f"corpus {path} holds held-out systems ({', '.join(record['heldout_systems_in_corpus'])}): "
                      "its zero-shot results are flagged as not disjoint", stacklevel=3)
    elif not record["disjoint"]:
        warnings.warn(f"corpus {path} was drawn against held-out split version "
                      f"{record['heldout_split_version']}, not the current one: flagged as not disjoint",
                      stacklevel=3)
    return {"corpus": str(path), "startup_timeout": _STARTUP + float(pretrain_timeout)}, record


def pretraining_facts(host_meta: dict, fmeta: dict, corpus: dict | None) -> tuple[dict, dict]:
    """``(run identity additions, forecaster record additions)``.

    A pretrained run's identity includes the corpus id (another corpus, another run);
    its records say ``pretrained: true``, the corpus (id, seed, split version) and
    ``pretraining_data_disjoint`` as checked against the held-out split. A model that
    declares ``pretraining_data_disjoint`` itself has that recorded (self-declared).
    A ``foundation`` model that declares nothing is recorded as undeclared (unknown).
    Other runs are recorded as before (no pretraining).
    """
    if corpus is not None and not fmeta.get("pretrains"):
        warnings.warn(f"{fmeta.get('name')} has no pretrain(corpus) method: the corpus is not used",
                      stacklevel=3)
    if corpus is not None and host_meta.get("pretrained"):
        keep = {k: corpus[k] for k in ("id", "seed", "heldout_split_version", "systems")}
        return ({"corpus": corpus["id"]},
                {"pretrained": True, "corpus": keep, "pretraining_data_disjoint": bool(corpus["disjoint"]),
                 "disjoint_source": "checked", "pretrain_seconds": host_meta.get("pretrain_seconds")})
    declared = fmeta.get("pretraining_data_disjoint")
    if declared is not None:
        return {}, {"pretraining_data_disjoint": bool(declared), "disjoint_source": "declared"}
    if fmeta.get("family") == "foundation":  # pretrained elsewhere and silent about it
        return {}, {"pretraining_data_disjoint": None, "disjoint_source": "undeclared"}
    return {}, {}

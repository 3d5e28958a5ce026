"""The benchmark runner: every (forecaster, system, series) task in its own process.

Process model
-------------
::

    parent (holds tasks: context AND future; scores; writes results)
      │  pipes: pickled job in, safe-format reply out (JSON + raw float64, never pickle)
      ├── worker host 1  (fresh interpreter started with subprocess, never sees a future)
      │     imports the forecaster once, then for each job:
      │       └── task process (os.fork of the host, or a fresh interpreter with
      │           isolation="spawn"): own process group, RLIMIT_AS, empty working dir,
      │           stdout/stderr to a log, fit + predict, reply, exit
      ├── worker host 2 ...
      ├── (or the same hosts inside Dask workers: ``scheduler="local"`` or ``"tcp://..."``)
      └── scoring processes (``workers > 1``): our code only; they get future + forecast

* **Fresh state per task.** A task process is forked from its host, a clean interpreter
  that has imported the forecaster's code but never held any task data: the job's bytes
  are read into one reusable buffer that is zeroed after every task and are unpickled
  only inside the task process. No state (caches, globals, earlier contexts) survives
  from one task to the next, yet the per-task cost is a fork (~1 ms) rather than an
  interpreter start plus imports (~1-2 s, or more with torch): that is the trade-off of
  the reusable hosts. ``isolation="spawn"`` starts a fresh interpreter per task instead
  (for code that is not fork-safe; slower).
* **Limits.** The host kills the task's process group when ``timeout`` seconds have
  passed since the fork. The task process sets ``RLIMIT_AS`` (hard, so it cannot be
  raised back) to its address-space size at start plus ``memory``; the peak RSS of the
  task process comes from ``wait4``. Every host, task and scoring process also asks the
  kernel to kill it when its parent dies (``PR_SET_PDEATHSIG``), so a SIGKILLed run
  leaves nothing behind.
* **Replies are never unpickled by the parent**: a worker may run hostile code, so it
  answers in a plain format (JSON + raw float64 bytes, :func:`pack`/:func:`unpack`) that
  the parent validates; the parent re-checks the forecast's shape itself.
* **Outcomes** are statuses, never crashes of the run: ``ok``, ``nonfinite`` (NaN/inf in
  the forecast: scored, non-finite steps count as errors), ``bad_shape``, ``error``
  (exception; traceback recorded), ``timeout``, ``memory``, ``crashed`` (died without a
  reply: signal or exit code and the tail of its output recorded), ``leak`` (tried to
  reach the evaluation data; see below).

Leak prevention
---------------
0. *The OS sandbox* (:mod:`.sandbox`, bubblewrap) is the security boundary: each worker
   host and its tasks run in their own PID, mount and network namespaces as nobody, with
   the dataset, results, ``.git``, ``leaderboard/`` and compile cache absent and the rest
   read-only. Without bubblewrap runs fall back to what follows, with a warning, and
   records say ``sandbox: "none"``, ``verified: false``. Items 3 and 4 are friendly early
   errors for honest mistakes, not a boundary (README, "Threat model").
1. *By construction.* A task process receives the context, the public ``info``
   (``dt``, ``pts_per_period``, ``dim``, plus ``system`` only for ``uses_system_name``
   entries; time in units of the dominant period for the others, so ``dt`` does not
   identify the system: :func:`.tasks.forecaster_info`) and the forecaster's target and parameters: no future, no file path, no
   series index, seed or evaluation kind. The parent keeps the future and scores.
2. *Fresh evaluation.* ``--fresh SEED`` evaluates on initial conditions drawn at run time;
   their futures exist only in the parent's memory, so no lookup of shipped or
   regenerated files can find them.
3. *Guard* (:class:`Guard`), installed in every worker before the forecaster's code is
   imported: an import hook (``sys.meta_path`` finder) turns ``dysts_bench.dataset``
   (the data and its deterministic generator) and, unless the forecaster declares
   ``uses_system_name``, the registry, compiler, integrators and invariants into modules
   of tripwires: the import succeeds (a one-file script or a notebook module may import
   the dataset at the top for its own use), any use of a name in them is the violation;
   modules already imported are removed from ``sys.modules`` and names re-exported from
   them are replaced by tripwires. An audit hook (PEP 578; cannot be removed once added) refuses
   Python-level opens (``open``, ``io.open_code``, ``os.open``, numpy/pandas file
   readers), links and subprocess command lines that touch protected paths: the dataset
   package and files, the results directory, ``systems.json`` and the compile cache
   (when the system name is not declared) and anything in ``protect``. In a task
   process a violation writes a notice to the host and kills the process at once, so it
   cannot be caught and hidden: the task is recorded as ``leak``.
4. *Detection.* Readers in C (pyarrow's Parquet reader, ctypes) bypass the audit hook.
   The parent therefore flags a forecast that reproduces the stored (float32) future
   bit for bit on most steps, including late ones — impossible for an honest model of a
   chaotic system past a few Lyapunov times — as ``leak`` too.

Results
-------
``results_dir/<name>-<hash>.<evaluation>.jsonl``: one JSON line per task, the run's file
(rewritten atomically at the end of every run, sorted, one line per task). While a run
is going, each finished task is written to
``results_dir/.tasks/<name>-<hash>.<evaluation>/<system>/<series>.json`` (temp file,
fsync, ``os.replace``): a SIGKILLed run loses only the tasks in flight, ``resume``
skips tasks whose record exists with the same task hash (context, future, ``dt``,
Lyapunov exponent), every scored forecast is kept as float32 under
``results_dir/.forecasts/<name>-<hash>.<evaluation>/<system>/<series>.npy`` (git-ignored;
``dysts-bench rescore`` recomputes all scores from them), and concurrent runs on the same directory cannot corrupt or duplicate
a record (same file name, atomic replace). ``<name>-<hash>`` identifies the forecaster
run: name, version, parameters, whether it was tuned and :data:`PROTOCOL_VERSION`.
"""

from __future__ import annotations

import collections
import math
import os
import pickle
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..forecaster import ForecasterSpecError, resolve_spec
from ..jsonutil import params_hash
from .cli import add_cli, cmd_forecasters, cmd_run  # noqa: F401 - re-exported
from .console import SUMMARY_COLUMNS, _Progress, print_summary, summary_rows  # noqa: F401 - re-exported
from .executors import DaskExecutor, LocalExecutor, _Job
from .forecasts import forecast_path, save_forecast
from .isolation import DATA_MODULES, SYSTEM_MODULES, Guard, LeakageError, _default_protect, parse_size
from .pretraining import PRETRAIN_TIMEOUT, pretraining_facts, pretraining_init
from .records import (PROTOCOL_VERSION, RECORD_SCHEMA, SCORED, STATUSES, _dataset_protocol, _display_target,
                      _finish_record, _make_record, _num, _safe_unpack, _scoring_versions)
from .scoring import DEFAULT_HORIZONS, ScoringPool, _clean, lookup_suspect, score  # noqa: F401 - re-exported
from .store import ResultStore, _slug, check_forecaster_name, read_results  # noqa: F401 - re-exported
from .sandbox import choose as choose_sandbox
from .sandbox import hidden_paths, make_undumpable
from .tasks import AdhocTask, _check_task, adhoc_tasks, evaluation_of, forecaster_info, task_hash
from .wire import pack, unpack  # noqa: F401 - re-exported
from ..tracks import base_track

__all__ = ["run", "add_cli", "RunResult", "Guard", "LeakageError", "STATUSES", "PROTOCOL_VERSION",
           "RECORD_SCHEMA", "adhoc_tasks", "AdhocTask", "read_results", "parse_size"]


# ---------------------------------------------------------------------------
# run()
# ---------------------------------------------------------------------------

def _hidden_for(target: str, results_dir, protect) -> list[str]:
    """The paths the sandbox hides; an error if the forecaster's own file is among them."""
    hidden = hidden_paths(results_dir, protect)
    path = target.rpartition(":")[0]
    if path.endswith(".py"):
        real = os.path.realpath(path)
        for h in hidden:
            if real == h or real.startswith(h.rstrip(os.sep) + os.sep):
                raise ForecasterSpecError(f"forecaster file {path} is inside {h}, which the sandbox hides "
                                          "from forecasters (data, results, .git, leaderboard/, caches): "
                                          "move it elsewhere")
    return hidden


@dataclass
class RunResult:
    """What :func:`run` did."""

    run_id: str
    forecaster: dict
    records: list = field(default_factory=list)
    files: list = field(default_factory=list)
    skipped: int = 0
    elapsed: float = 0.0
    #: seconds spent starting the workers, tuning, and running the tasks
    timings: dict = field(default_factory=dict)

    @property
    def counts(self) -> dict:
        return dict(collections.Counter(r["status"] for r in self.records))

    def by_key(self) -> dict:
        return {(r["evaluation"], r["system"], r["series"]): r for r in self.records}


def run(forecaster_spec, tasks, results_dir=None, *, workers=1, scheduler=None, timeout=600,
        memory="4GB", resume=True, progress=True, params=None, tune=True, train_source=None, isolation="fork",
        protect=(), retry_failed=False, threads=None, fsync=True, summary=None,
        score_workers=None, sandbox="auto", corpus=None, pretrain_timeout=PRETRAIN_TIMEOUT) -> RunResult:
    """Benchmark one forecaster on ``tasks``; every task in its own process.

    Parameters
    ----------
    forecaster_spec : str, Forecaster class or instance, function or ForecasterSpec
        See :func:`dysts_bench.forecaster.resolve_spec`.
    tasks : iterable
        Objects with ``system``, ``series``, ``context`` (n, dim), ``future``
        (horizon, dim) and ``info`` (``dt``, ``pts_per_period``, ``dim``,
        ``maximum_lyapunov``, ``evaluation``, ...), e.g. from
        ``dysts_bench.dataset.iter_tasks`` or :func:`adhoc_tasks`.
    results_dir : path
        Where run files (and the per-task records under ``.tasks/``) go; default the user
        results directory (:func:`dysts_bench.paths.user_results_dir`).
    workers : int
        Concurrent tasks (worker hosts), or Dask workers of a LocalCluster.
    scheduler : None, "local", "tcp://host:port" or distributed.Client
        None: local process pool. Otherwise run the tasks on Dask.
    timeout : float
        Seconds per task (fit + predict), or per system for tuning.
    memory : str or int
        Address space a task may add to its worker's baseline (``RLIMIT_AS``), e.g. "4GB";
        None for no limit.
    resume : bool
        Skip tasks that already have a record (same forecaster, parameters and task data).
    params : dict
        Forecaster parameters (override those of ``forecaster_spec``).
    tune : bool
        Tune hyperparameters per system first (default, as on the command line):
        ``Forecaster.tune`` searches the ``param_grid`` of the parameters *not* given in
        ``params`` (those are fixed) on the training trajectory and its validation tail
        from ``train_source(system) -> (context, valid, info)`` (default
        ``dysts_bench.dataset.load_train``; ad-hoc tasks need a ``train_source`` or
        ``tune=False``). Test data are never used for tuning. Whether a run was tuned
        is part of its identity (``run_id``).
    isolation : "fork" or "spawn"
        Task processes forked from a clean worker host (fast) or fresh interpreters.
    protect : iterable of paths
        Extra paths a forecaster may not open (see :class:`Guard`).
    retry_failed : bool
        With ``resume``, run again the tasks whose record is not ``ok``/``nonfinite``.
    threads : int
        BLAS/OpenMP threads per worker (default: the environment's, else 1).
    score_workers : int
        Processes that score forecasts (the parent keeps the futures; workers never see
        them). Default: none (inline) for one worker, else half the usable cores.
    sandbox : "auto", "bwrap" or "none"
        The OS sandbox of worker hosts (see :mod:`.sandbox`); without it records are
        marked ``verified: false``.
    corpus : path, optional
        A corpus from ``dysts-bench corpus``: a forecaster with ``pretrain(corpus)`` is
        pretrained once per worker host before any task (zero-shot track; needs
        ``isolation="fork"`` and ``tune=False`` on zero-shot tasks). The records say
        ``pretrained: true`` with the corpus id and seed, and whether the corpus is
        disjoint from the held-out systems (:mod:`.pretraining`).
    pretrain_timeout : float
        Seconds a worker host may spend pretraining.

    Returns
    -------
    RunResult
        ``records`` holds the records of all requested tasks (new and resumed).
    """
    t_start = time.monotonic()
    isolation, timeout = _check_limits(isolation, timeout, workers)
    spec = resolve_spec(forecaster_spec, params)
    sandbox_kind = choose_sandbox(sandbox)
    make_undumpable()  # no task can read the futures through /proc/<runner>/mem
    memory_bytes = parse_size(memory)
    checked, keys = _check_tasks(tasks)
    if results_dir is None:
        from ..paths import user_results_dir
        results_dir = user_results_dir()
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    run_uuid = uuid.uuid4().hex[:12]
    init = _worker_init(spec, results_dir, protect, isolation, threads, run_uuid, sandbox_kind)
    pretrain_init, corpus_info = pretraining_init(corpus, isolation, pretrain_timeout, results_dir, init["hide"])
    init.update(pretrain_init)
    limits = {"timeout_seconds": timeout, "memory_bytes": memory_bytes, "isolation": isolation,
              "executor": "local" if scheduler is None else "dask"}
    executor = store = prog = scoring = None
    records, files = [], []
    if score_workers is None:
        score_workers = 0 if int(workers) <= 1 else max(1, min(int(workers), os.cpu_count() or 1) // 2)
    try:
        n_workers = max(1, min(int(workers), len(checked)))
        executor = (LocalExecutor(init, n_workers) if scheduler is None
                    else DaskExecutor(init, scheduler, workers))
        scoring = ScoringPool(min(score_workers, len(checked)))
        from .. import metrics  # noqa: F401 - import the scoring code while the workers start
        host_meta = executor.describe()
        scoring.wait_ready()
        timings = {"startup": time.monotonic() - t_start}
        fmeta = host_meta["forecaster"]
        do_tune = bool(tune) and fmeta["tunable"]
        if do_tune and train_source is None and any(k[0].startswith("adhoc") for k in keys):
            raise ValueError("tuning needs training data: ad-hoc tasks have none in the dataset; "
                             "pass train_source=... or tune=False")
        if do_tune and any(base_track(k[0]) == "zero-shot" for k in keys):
            raise ValueError("the zero-shot track is not tuned (a held-out system's training series is "
                             "not for fitting): pass tune=False (--no-tune)")
        run_id, forecaster_record = _identity(fmeta, spec, do_tune,
                                              *pretraining_facts(host_meta, fmeta, corpus_info))
        store = ResultStore(results_dir, run_id, fsync=fsync)
        records, todo = _resume(store, keys, checked, resume, retry_failed)
        skipped = len(records)
        uses_name = fmeta["uses_system_name"]
        t_phase = time.monotonic()
        tuned = {}
        if do_tune and todo:
            tuned = _tune(executor, store, todo, spec, train_source, uses_name, limits, resume, retry_failed)
        jobs = _predict_jobs(todo, tuned, spec, uses_name, limits)
        timings["tuning"] = time.monotonic() - t_phase
        t_phase = time.monotonic()
        prog = _Progress(progress, len(jobs), fmeta["name"])
        common = {"schema": RECORD_SCHEMA, "protocol_version": PROTOCOL_VERSION,
                  "dataset_protocol_version": _dataset_protocol(), "run_uuid": run_uuid,
                  "forecaster": forecaster_record, "versions": host_meta.get("versions", {}),
                  "scoring_versions": _scoring_versions(), "hardware": host_meta.get("hardware", {}),
                  "sandbox": sandbox_kind, "verified": sandbox_kind == "bwrap",
                  "info_time_unit": "model" if uses_name else "period", "limits": limits,
                  "leakage": "isolated"}
        _run_jobs(executor, jobs, common, do_tune, scoring, store, fsync, records, prog)
        timings["tasks"] = time.monotonic() - t_phase
        files = [store.consolidate(evaluation) for evaluation in sorted({k[0] for k in keys})]
    finally:
        _shut_down(prog, executor, scoring, store, keys, interrupted=sys.exc_info()[0] is not None)
    order = {k: i for i, k in enumerate(keys)}
    records.sort(key=lambda r: order.get((r["evaluation"], r["system"], r["series"]), 0))
    result = RunResult(run_id=run_id, forecaster=forecaster_record, records=records, files=files,
                       skipped=skipped, elapsed=time.monotonic() - t_start, timings=timings)
    if progress if summary is None else summary:
        print_summary(records)
    return result


# -- the phases of run() ----------------------------------------------------------------

def _check_limits(isolation, timeout, workers) -> tuple[str, float]:
    """The isolation mode (spawn where fork is missing) and the timeout, checked."""
    if isolation not in ("fork", "spawn"):
        raise ValueError(f"isolation must be 'fork' or 'spawn', got {isolation!r}")
    if isolation == "fork" and not hasattr(os, "fork"):
        isolation = "spawn"
    timeout = float(timeout)
    if not (timeout > 0 and math.isfinite(timeout)):
        raise ValueError(f"timeout must be a positive finite number of seconds, got {timeout}")
    if isinstance(workers, bool) or int(workers) != workers or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    return isolation, timeout


def _check_tasks(tasks) -> tuple[list, list]:
    """The checked tasks and their keys ``(evaluation, system, series)``, which must be unique."""
    checked = [_check_task(t) for t in tasks]
    keys = [(evaluation_of(info), system, series) for system, series, _, _, info in checked]
    if len(set(keys)) != len(keys):
        dup = [k for k, n in collections.Counter(keys).items() if n > 1][0]
        raise ValueError(f"duplicate task {dup}")
    return checked, keys


def _worker_init(spec, results_dir, protect, isolation, threads, run_uuid, sandbox_kind) -> dict:
    """What every worker host is started with: the forecaster, and what it may not see."""
    sys_path = [os.path.abspath(p) if p else os.getcwd() for p in sys.path]
    protect_all, protect_system = _default_protect(results_dir, protect)
    return {"target": spec.target, "params": spec.params, "sys_path": sys_path, "isolation": isolation,
            "threads": threads, "tag": f"dysts-bench-{run_uuid}", "sandbox": sandbox_kind,
            "hide": _hidden_for(spec.target, results_dir, protect) if sandbox_kind == "bwrap" else [],
            "block": DATA_MODULES, "protect": protect_all,
            "block_unless_system_name": SYSTEM_MODULES, "protect_unless_system_name": protect_system}


def _identity(fmeta, spec, do_tune, pretrain_identity, pretrain_record) -> tuple[str, dict]:
    """The run id and the forecaster part of every record (pretraining facts: :mod:`.pretraining`)."""
    identity = {"name": fmeta["name"], "version": fmeta["version"], "params": fmeta["params"],
                "tune": do_tune, "protocol": PROTOCOL_VERSION, **pretrain_identity}
    origin = fmeta.get("origin", "builtin")
    if origin != "builtin":  # a foreign class cannot share a built-in's run id (built-in ids unchanged)
        identity["origin"] = origin
    run_id = f"{_slug(check_forecaster_name(fmeta['name']))}-{params_hash(identity)}"
    forecaster_record = {"name": fmeta["name"], "version": fmeta["version"], "params": fmeta["params"],
                         "target": _display_target(spec.target), "uses_system_name": fmeta["uses_system_name"],
                         "run_id": run_id, "origin": origin,
                         # the leaderboard's family column (not part of the run's identity)
                         "family": fmeta.get("family"), **pretrain_record}
    return run_id, forecaster_record


def _resume(store, keys, checked, resume, retry_failed) -> tuple[list, list]:
    """(records kept from earlier runs, tasks to run as ``(evaluation, task, task_hash)``)."""
    existing, records, todo = {}, [], []
    for (evaluation, system, series), item in zip(keys, checked):
        if evaluation not in existing:
            existing[evaluation] = store.existing(evaluation) if resume else {}
        rec = existing[evaluation].get((system, series))
        _, _, context, future, info = item
        thash = task_hash(context, future, info)
        if rec is not None and rec.get("task_hash") == thash and not (
                retry_failed and rec.get("status") not in SCORED):
            records.append(rec)
            continue
        todo.append((evaluation, item, thash))
    return records, todo


def _tune(executor, store, todo, spec, train_source, uses_name, limits, resume, retry_failed) -> dict:
    """Tune once per (evaluation, system), on training data only; {(evaluation, system): record}."""
    source = train_source
    if source is None:
        from ..dataset import load_train as source
    tuned, tune_jobs = {}, []
    for evaluation, system in sorted({(ev, item[0]) for ev, item, _ in todo}):
        prior = store.read_tune(evaluation, system) if resume else None
        if prior is not None and not (retry_failed and prior.get("status") != "ok"):
            tuned[(evaluation, system)] = prior
            continue
        train, valid, tinfo = source(system)
        tinfo = {**dict(tinfo), "system": system}
        job = {"op": "tune", "train": np.ascontiguousarray(train, dtype=np.float64),
               "valid": np.ascontiguousarray(valid, dtype=np.float64),
               "info": forecaster_info(tinfo, uses_name), "params": spec.params}
        header = {"op": "tune", "timeout": limits["timeout_seconds"], "memory": limits["memory_bytes"],
                  "max_values": 0}
        tune_jobs.append(_Job((evaluation, system), header, pickle.dumps(job, protocol=5)))
    for job, reply in executor.map(tune_jobs):
        meta, _ = _safe_unpack(reply)
        rec = {"system": job.key[1], "status": meta.get("status"), "params": meta.get("best"),
               "seconds": _num(meta.get("tune_seconds")), "error": meta.get("error")}
        if rec["status"] != "ok" or not isinstance(rec["params"], dict):
            rec["status"] = rec["status"] if rec["status"] != "ok" else "error"
            rec["params"] = None
        store.write_tune(job.key[0], job.key[1], _clean(rec))
        tuned[job.key] = rec
    return tuned


def _predict_jobs(todo, tuned, spec, uses_name, limits) -> list:
    """One job per task: the context, the public info and the parameters (tuned, with the
    user's fixed), never the future (it stays in ``job.task``, in this process)."""
    jobs = []
    for evaluation, (system, series, context, future, info), thash in todo:
        trec = tuned.get((evaluation, system))
        params = dict(spec.params)
        if trec and trec.get("status") == "ok" and trec.get("params"):
            params = {**trec["params"], **spec.params}  # the user's parameters stay fixed
        job = {"op": "predict", "context": context, "info": forecaster_info(info, uses_name),
               "horizon": len(future), "params": params}
        header = {"op": "predict", "timeout": limits["timeout_seconds"], "memory": limits["memory_bytes"],
                  "max_values": future.size}
        jobs.append(_Job((evaluation, system, series), header, pickle.dumps(job, protocol=5),
                         task=(system, series, context, future, info, thash, params, trec)))
    return jobs


def _run_jobs(executor, jobs, common, do_tune, scoring, store, fsync, records, prog) -> None:
    """Run the jobs; score and write each record, in the order the replies came."""
    pending = collections.deque()

    def finish(item):
        record = _finish_record(*item)
        store.write(record)
        records.append(record)
        prog.advance(record["status"])

    def keep_forecast(evaluation, system, series, forecast):
        save_forecast(forecast_path(store, evaluation, system, series), forecast, fsync)
    for job, reply in executor.map(jobs):
        pending.append(_make_record(job, reply, common, do_tune, scoring, keep_forecast))
        while pending and (pending[0][1] is None or pending[0][1].done()):
            finish(pending.popleft())
    while pending:
        finish(pending.popleft())


def _shut_down(prog, executor, scoring, store, keys, interrupted) -> None:
    """Close what run() opened; an interrupted run keeps what finished in the run files."""
    if prog is not None:
        prog.close()
    if executor is not None:
        executor.close(kill=interrupted)
    if scoring is not None:
        scoring.close()
    if interrupted and store is not None:
        for evaluation in sorted({k[0] for k in keys}):
            try:
                store.consolidate(evaluation)
            except Exception:  # noqa: BLE001 - the per-task records are on disk anyway
                pass

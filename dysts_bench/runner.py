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
1. *By construction.* A task process receives the context, the public ``info``
   (``dt``, ``pts_per_period``, ``dim``, plus ``system`` only for ``uses_system_name``
   entries) and the forecaster's target and parameters: no future, no file path, no
   series index, seed or evaluation kind. The parent keeps the future and scores.
2. *Fresh evaluation.* ``--fresh SEED`` evaluates on initial conditions drawn at run time;
   their futures exist only in the parent's memory, so no lookup of shipped or
   regenerated files can find them.
3. *Guard* (:class:`Guard`), installed in every worker before the forecaster's code is
   imported: an import hook (``sys.meta_path`` finder) refuses ``dysts_bench.dataset``
   (the data and its deterministic generator) and, unless the forecaster declares
   ``uses_system_name``, the registry, compiler, integrators and invariants; modules
   already imported are removed from ``sys.modules`` and names re-exported from them are
   replaced by tripwires. An audit hook (PEP 578; cannot be removed once added) refuses
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
Lyapunov exponent), and concurrent runs on the same directory cannot corrupt or duplicate
a record (same file name, atomic replace). ``<name>-<hash>`` identifies the forecaster
run: name, version, parameters, whether it was tuned and :data:`PROTOCOL_VERSION`.
"""

from __future__ import annotations

import argparse
import collections
import gc
import hashlib
import json
import math
import os
import pickle
import platform
import queue
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import types
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .forecaster import (ForecastShapeError, ForecasterSpecError, check_forecast, describe,
                         forecaster_class, jsonable, load_target, params_hash, public_info,
                         resolve_spec)

__all__ = ["run", "add_cli", "RunResult", "Guard", "LeakageError", "STATUSES", "PROTOCOL_VERSION",
           "RECORD_SCHEMA", "adhoc_tasks", "AdhocTask", "read_results", "parse_size"]

#: Version of the scoring protocol (what a record means); bump when scores would change.
PROTOCOL_VERSION = "1"
#: Version of the record layout.
RECORD_SCHEMA = 1
STATUSES = ("ok", "nonfinite", "bad_shape", "error", "timeout", "memory", "crashed", "leak")
#: Statuses that carry scores.
SCORED = ("ok", "nonfinite")
#: Always blocked in workers: the dataset (files and generator).
DATA_MODULES = ("dysts_bench.dataset",)
#: Blocked unless the forecaster declares ``uses_system_name``: knowledge of the equations.
SYSTEM_MODULES = ("dysts_bench.registry", "dysts_bench.compile", "dysts_bench.trajectory",
                  "dysts_bench.solvers", "dysts_bench.invariants")
DEFAULT_HORIZONS = (0.5, 1, 2, 4, 8, 16, 24)
_ERROR_CHARS = 6000
_LOG_CHARS = 2000


class LeakageError(PermissionError):
    """A worker tried to reach evaluation data (raised in hosts; task processes are killed)."""


# ---------------------------------------------------------------------------
# Small utilities
# ---------------------------------------------------------------------------

def parse_size(value) -> int | None:
    """Bytes from ``"4GB"``, ``"300MB"``, ``"512MiB"``, ``"1.5G"`` or a number; None/0/"none" -> no limit."""
    if value is None or value is False:
        return None
    if isinstance(value, (int, float)):
        return int(value) if value > 0 else None
    text = str(value).strip().lower().replace(" ", "")
    if text in ("", "0", "none", "unlimited", "inf"):
        return None
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    num = text.rstrip("ib").rstrip("b")
    factor = 1
    if num and num[-1] in units:
        factor, num = units[num[-1]], num[:-1]
    try:
        size = float(num) * factor
    except ValueError:
        raise ValueError(f"cannot parse memory size {value!r} (e.g. 4GB, 300MB, 512MiB)") from None
    if size <= 0:
        return None
    return int(size)


def _clean(value):
    """JSON-safe: NaN/inf -> None, numpy -> Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def _slug(text: str) -> str:
    out = "".join(c if c.isalnum() or c in "-_" else "-" for c in str(text))
    return out.strip("-") or "x"


_LIBC = []


def _set_pdeathsig():
    """Ask Linux to SIGKILL this process when its parent (thread) dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        if not _LIBC:
            import ctypes
            _LIBC.append(ctypes.CDLL(None, use_errno=True))
        _LIBC[0].prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _vm_size() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _rss() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _limit_memory(extra: int | None) -> int | None:
    """Cap the address space at its current size plus ``extra`` bytes (soft = hard)."""
    if not extra:
        return None
    import resource
    limit = _vm_size() + int(extra)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return limit


# -- framing over pipes -------------------------------------------------------------

_LEN = struct.Struct("<Q")


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _send_frame(fd, data):
    _write_all(fd, _LEN.pack(len(data)))
    _write_all(fd, data)


def _wait_readable(fd, deadline):
    if deadline is None:
        return
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            return


def _read_into(fd, view, deadline=None):
    while view:
        _wait_readable(fd, deadline)
        n = os.readv(fd, [view])
        if n == 0:
            raise EOFError("pipe closed")
        view = view[n:]


def _recv_frame(fd, deadline=None, max_size=None) -> bytes:
    head = bytearray(_LEN.size)
    _read_into(fd, memoryview(head), deadline)
    (size,) = _LEN.unpack(head)
    if max_size is not None and size > max_size:
        raise ValueError(f"reply of {size} bytes exceeds the limit of {max_size}")
    body = bytearray(size)
    _read_into(fd, memoryview(body), deadline)
    return bytes(body)


# -- the safe reply format: JSON + raw float64 (never unpickled by the parent) ------------

def pack(meta: dict, arrays: dict | None = None) -> bytes:
    """Serialise ``meta`` (JSON) and float64 arrays without pickle."""
    index, chunks, offset = [], [], 0
    for name, arr in (arrays or {}).items():
        arr = np.ascontiguousarray(arr, dtype=np.float64)
        raw = arr.tobytes()
        index.append([str(name), list(arr.shape), offset, len(raw)])
        chunks.append(raw)
        offset += len(raw)
    head = json.dumps({"meta": meta, "arrays": index}, default=repr).encode()
    return _LEN.pack(len(head)) + head + b"".join(chunks)


def unpack(data: bytes) -> tuple[dict, dict]:
    """Inverse of :func:`pack`; validates everything (the data may come from user code)."""
    data = memoryview(data)
    (hlen,) = _LEN.unpack(data[:_LEN.size])
    head = json.loads(bytes(data[_LEN.size:_LEN.size + hlen]))
    if not isinstance(head, dict) or not isinstance(head.get("meta"), dict):
        raise ValueError("malformed reply")
    body = data[_LEN.size + hlen:]
    arrays = {}
    for item in head.get("arrays", []):
        name, shape, offset, size = item
        shape = tuple(int(s) for s in shape)
        if any(s < 0 for s in shape) or int(np.prod(shape, dtype=np.int64)) * 8 != size \
                or offset < 0 or offset + size > len(body):
            raise ValueError(f"malformed array {name!r} in reply")
        arrays[str(name)] = np.frombuffer(body[offset:offset + size], dtype=np.float64).reshape(shape).copy()
    return head["meta"], arrays


# ---------------------------------------------------------------------------
# The guard (runs inside worker hosts and task processes)
# ---------------------------------------------------------------------------

_WATCHED = frozenset({"open", "os.symlink", "os.link", "os.rename", "os.replace", "os.remove",
                      "os.truncate", "shutil.copyfile", "shutil.copytree", "shutil.move",
                      "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"})
_COMMANDS = frozenset({"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"})


class _Tripwire:
    """Stands in for an object re-exported from a blocked module."""

    def __init__(self, guard, what):
        object.__setattr__(self, "_guard", guard)
        object.__setattr__(self, "_what", what)

    def __getattr__(self, name):
        self._guard.violation(f"use of {self._what}")

    def __call__(self, *args, **kwargs):
        self._guard.violation(f"call of {self._what}")

    def __iter__(self):
        self._guard.violation(f"use of {self._what}")

    def __repr__(self):
        return f"<blocked {self._what}>"


class _BlockFinder:
    """``sys.meta_path`` entry that refuses blocked modules."""

    def __init__(self, guard):
        self.guard = guard

    def find_spec(self, fullname, path=None, target=None):
        if self.guard.blocked(fullname):
            self.guard.violation(f"import of {fullname}")
        return None

    def invalidate_caches(self):
        pass


class Guard:
    """Keeps a worker away from the evaluation data (see the module docstring).

    Parameters
    ----------
    modules : iterable of str
        Module names refused (with their submodules).
    protect : iterable of str
        Paths refused; a directory covers everything below it, an entry ending in ``*``
        is a plain prefix.
    """

    def __init__(self, modules=(), protect=()):
        self.modules = tuple(modules)
        self.exact, self.prefixes = [], []
        for item in protect:
            item = str(item)
            if item.endswith("*"):
                self.prefixes.append(os.path.realpath(item[:-1].rstrip(os.sep)) +
                                     (os.sep if item[:-1].endswith(os.sep) else ""))
            else:
                self.exact.append(os.path.realpath(item))
        self.notice_fd = None
        self.kill = False
        self.attempts = []
        self._busy = False
        self.installed = False

    def blocked(self, module: str) -> bool:
        return any(module == m or module.startswith(m + ".") for m in self.modules)

    def is_protected(self, path) -> bool:
        try:
            text = os.fsdecode(path)
        except TypeError:
            return False
        real = os.path.realpath(text)
        for p in self.exact:
            if real == p or real.startswith(p + os.sep):
                return True
        return any(real.startswith(p) for p in self.prefixes)

    def mentions_protected(self, text: str) -> bool:
        roots = self.exact + self.prefixes
        return any(r and r in text for r in roots)

    def install(self):
        """Purge already-imported blocked modules, add the import hook and the audit hook."""
        if self.installed:
            return self
        self._purge(dysts_only=True)
        sys.meta_path.insert(0, _BlockFinder(self))
        sys.addaudithook(self._audit)
        self.installed = True
        return self

    def tighten(self, modules=(), protect=()):
        """Block more modules and paths (after the forecaster's code was imported: names it
        bound from newly blocked modules are replaced by tripwires too)."""
        extra = Guard(modules, protect)
        self.modules += extra.modules
        self.exact += extra.exact
        self.prefixes += extra.prefixes
        self._purge(dysts_only=False)
        return self

    def arm(self, notice_fd):
        """From now on a violation writes to ``notice_fd`` and kills this process."""
        self.notice_fd = notice_fd
        self.kill = True

    def violation(self, what):
        self.attempts.append(what)
        if self.notice_fd is not None:
            try:
                os.write(self.notice_fd, (what[:2000] + "\n").encode("utf-8", "replace"))
            except OSError:
                pass
        if self.kill:
            try:
                os.kill(os.getpid(), signal.SIGKILL)
            finally:
                os._exit(99)
        raise LeakageError(f"dysts-bench: blocked {what}: forecasters may not access the evaluation data")

    def _purge(self, dysts_only=True):
        for name in [n for n in sys.modules if self.blocked(n)]:
            del sys.modules[name]
            parent, _, child = name.rpartition(".")
            if parent in sys.modules and getattr(sys.modules[parent], child, None) is not None:
                try:
                    setattr(sys.modules[parent], child, _Tripwire(self, name))
                except (AttributeError, TypeError):
                    pass
        stdlib = getattr(sys, "stdlib_module_names", ())
        for name, module in list(sys.modules.items()):
            if module is None or not isinstance(module, types.ModuleType):
                continue
            ours = name == "dysts_bench" or name.startswith("dysts_bench.")
            if (dysts_only and not ours) or name.split(".")[0] in stdlib:
                continue
            try:
                items = list(vars(module).items())
            except TypeError:
                continue
            for attr, obj in items:
                try:
                    if isinstance(obj, types.ModuleType):
                        owner = obj.__name__
                    elif isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)) or callable(obj):
                        owner = obj.__module__ if isinstance(getattr(obj, "__module__", None), str) else None
                    else:
                        owner = None
                except Exception:  # noqa: BLE001 - exotic objects
                    owner = None
                if isinstance(owner, str) and self.blocked(owner):
                    try:
                        setattr(module, attr, _Tripwire(self, f"{owner}.{attr}"))
                    except (AttributeError, TypeError):
                        pass

    def _audit(self, event, args):
        if event not in _WATCHED or self._busy:
            return
        self._busy = True
        hit = None
        try:
            if event in _COMMANDS:
                for arg in args:
                    items = arg if isinstance(arg, (list, tuple)) else [arg]
                    for item in items:
                        if isinstance(item, (str, bytes)) and self.mentions_protected(os.fsdecode(item)):
                            hit = os.fsdecode(item)
            else:
                candidates = args[:2] if event in ("os.symlink", "os.link", "os.rename", "os.replace",
                                                   "shutil.copyfile", "shutil.copytree", "shutil.move") else args[:1]
                for arg in candidates:
                    if isinstance(arg, (str, bytes, os.PathLike)) and self.is_protected(arg):
                        hit = os.fsdecode(arg)
        except Exception:
            hit = None
        finally:
            self._busy = False
        if hit is not None:
            self.violation(f"{event} of {hit}")


# ---------------------------------------------------------------------------
# Worker side: host main loop and task processes
# ---------------------------------------------------------------------------

def _versions() -> dict:
    from importlib.metadata import packages_distributions, version
    out = {"python": platform.python_version()}
    try:
        dists = packages_distributions()
    except Exception:
        dists = {}
    stdlib = getattr(sys, "stdlib_module_names", ())
    tops = {name.split(".")[0] for name, mod in list(sys.modules.items()) if mod is not None}
    for top in sorted(tops):
        if top in stdlib or top.startswith("_"):
            continue
        for dist in dists.get(top, []):
            try:
                out[dist] = version(dist)
            except Exception:
                pass
    return out


def _hardware() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = None
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        pass
    hw = {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": None if memory is None else round(memory, 1),
          "platform": platform.platform(), "machine": platform.machine()}
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_available():
                hw["gpu"] = torch.cuda.get_device_name(0)
        except Exception:
            pass
    return hw


def _tb(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return text[-_ERROR_CHARS:]


def _execute(cls, job: dict) -> tuple[dict, dict]:
    """Run one job inside a task process: build, fit, predict (or tune)."""
    meta = {"status": "ok", "phase": "init"}
    t0 = time.perf_counter()
    try:
        model = cls(**job["params"])
        info = job["info"]
        if job["op"] == "tune":
            meta["phase"] = "tune"
            best = model.tune(job["train"], job["valid"], dt=info["dt"], info=info)
            meta["best"] = jsonable(best)
            meta["tune_seconds"] = time.perf_counter() - t0
            return meta, {}
        meta["phase"] = "fit"
        t1 = time.perf_counter()
        model.fit(job["context"], dt=info["dt"], info=info)
        t2 = time.perf_counter()
        meta["fit_seconds"] = t2 - t1
        meta["phase"] = "predict"
        forecast = model.predict(job["horizon"])
        meta["predict_seconds"] = time.perf_counter() - t2
        forecast = check_forecast(forecast, job["horizon"], job["context"].shape[1])
        meta["phase"] = "done"
        return meta, {"forecast": forecast}
    except ForecastShapeError as exc:
        meta.update(status="bad_shape", error=f"{type(exc).__name__}: {exc}")
    except MemoryError as exc:
        meta.update(status="memory", error=_tb(exc))
    except BaseException as exc:  # noqa: BLE001 - user code may raise anything, even SystemExit
        meta.update(status="error", error=_tb(exc))
    return meta, {}


def _merge_sys_path(paths):
    """Put the parent's import paths (that exist here) in front of this interpreter's: a
    Dask worker on another machine keeps its own site-packages."""
    extra = [p for p in paths if p not in sys.path and os.path.exists(p)]
    sys.path[:0] = extra


def _load_guarded(init, guard):
    """Import the forecaster under the data guard; then, unless it declares
    ``uses_system_name``, also shut it off from the equations (registry, integrators)."""
    cls = forecaster_class(load_target(init["target"]))
    if not getattr(cls, "uses_system_name", False):
        guard.tighten(init["block_unless_system_name"], init["protect_unless_system_name"])
    return cls


def _child_main(cls, job_view, result_w, notice_w, close_fds, task_dir, memory, guard):
    """Body of a forked task process; never returns."""
    data = None
    try:
        try:
            os.setpgid(0, 0)
        except OSError:
            pass
        _set_pdeathsig()
        for fd in close_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        log = os.open(os.path.join(task_dir, ".output.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.chdir(task_dir)
        job = pickle.loads(job_view)
        del job_view
        guard.arm(notice_w)
        limit = _limit_memory(memory)
        meta, arrays = _execute(cls, job)
        meta["memory_limit_bytes"] = limit
        data = pack(meta, arrays)
    except BaseException as exc:  # noqa: BLE001
        try:
            data = pack({"status": "memory" if isinstance(exc, MemoryError) else "error", "error": _tb(exc)})
        except BaseException:
            data = None
    finally:
        try:
            if data is not None:
                _send_frame(result_w, data)
        finally:
            os._exit(0)


_CHILD_BOOT = ("import sys; from dysts_bench.runner import _spawned_child_main; "
               "_spawned_child_main(*map(int, sys.argv[1:]))")


def _spawned_child_main(job_r, result_w, notice_w, memory):
    """Entry point of a task process in ``isolation="spawn"`` mode (a fresh interpreter)."""
    data = None
    try:
        _set_pdeathsig()
        init = pickle.loads(_recv_frame(job_r))
        _merge_sys_path(init["sys_path"])
        guard = Guard(init["block"], init["protect"]).install()
        guard.arm(notice_w)
        try:
            cls = _load_guarded(init, guard)
        except BaseException as exc:  # noqa: BLE001
            data = pack({"status": "error", "phase": "load", "error": _tb(exc)})
        else:
            job = pickle.loads(_recv_frame(job_r))
            os.close(job_r)
            limit = _limit_memory(memory or None)
            meta, arrays = _execute(cls, job)
            meta["memory_limit_bytes"] = limit
            data = pack(meta, arrays)
    except BaseException as exc:  # noqa: BLE001
        try:
            data = pack({"status": "memory" if isinstance(exc, MemoryError) else "error", "error": _tb(exc)})
        except BaseException:
            data = None
    finally:
        try:
            if data is not None:
                _send_frame(result_w, data)
        finally:
            os._exit(0)


def _tail(path, chars=_LOG_CHARS) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - chars))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _signal_name(num):
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


class _HostState:
    def __init__(self, init, cls, guard, sandbox):
        self.init, self.cls, self.guard, self.sandbox = init, cls, guard, sandbox
        self.buffer = bytearray(0)
        self.counter = 0
        self.garbage = []

    def cleanup(self):
        while self.garbage:
            shutil.rmtree(self.garbage.pop(), ignore_errors=True)


def _run_task(state: _HostState, header: dict, job_view, job_fds) -> bytes:
    """Run one job in a fresh task process; return the packed reply for the parent."""
    init = state.init
    state.counter += 1
    task_dir = os.path.join(state.sandbox, f"task-{state.counter}")
    os.mkdir(task_dir, 0o700)
    log_path = os.path.join(task_dir, ".output.log")
    result_r, result_w = os.pipe()
    notice_r, notice_w = os.pipe()
    timeout = float(header["timeout"])
    memory = header.get("memory")
    max_reply = 8 * int(header.get("max_values", 0)) + (4 << 20)
    sys.stdout.flush()
    sys.stderr.flush()
    t0 = time.monotonic()
    writer = None
    if init["isolation"] == "spawn":
        job_r, job_w = os.pipe()
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([sys.executable, "-c", _CHILD_BOOT, str(job_r), str(result_w), str(notice_w),
                                     str(memory or 0)], pass_fds=(job_r, result_w, notice_w), cwd=task_dir,
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    process_group=0)
        pid = proc.pid
        os.close(job_r)
        payload = bytes(job_view)

        def feed():
            try:
                _send_frame(job_w, pickle.dumps(init))
                _send_frame(job_w, payload)
            except OSError:
                pass
            finally:
                os.close(job_w)
        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
    else:
        pid = os.fork()
        if pid == 0:  # the task process
            _child_main(state.cls, job_view, result_w, notice_w,
                        [result_r, notice_r, *job_fds], task_dir, memory, state.guard)
        try:
            os.setpgid(pid, pid)
        except OSError:
            pass
    os.close(result_w)
    os.close(notice_w)
    meta, arrays, outcome = None, {}, None
    try:
        reply = _recv_frame(result_r, deadline=t0 + timeout, max_size=max_reply)
        meta, arrays = unpack(reply)
    except TimeoutError:
        outcome = ("timeout", f"killed after exceeding the time limit of {timeout:g} s")
    except (EOFError, ValueError, OSError, json.JSONDecodeError) as exc:
        outcome = ("crashed", f"{type(exc).__name__}: {exc}")
    finally:
        for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
            try:
                target()
            except OSError:
                pass
        _, wstatus, usage = os.wait4(pid, 0)
        os.close(result_r)
    elapsed = time.monotonic() - t0
    if writer is not None:
        writer.join(timeout=1)
        proc.returncode = os.waitstatus_to_exitcode(wstatus)
    try:
        notice = os.read(notice_r, 65536).decode("utf-8", "replace").strip()
    except OSError:
        notice = ""
    os.close(notice_r)
    log_tail = _tail(log_path)
    state.garbage.append(task_dir)  # removed after the reply is sent
    if meta is None:
        meta = {}
    host = {"task_seconds": elapsed, "peak_rss_bytes": usage.ru_maxrss * 1024,
            "cpu_seconds": usage.ru_utime + usage.ru_stime}
    if notice:
        meta = {"status": "leak", "error": f"blocked and killed: {notice}"}
    elif outcome is not None and outcome[0] == "timeout":
        meta = {"status": "timeout", "error": outcome[1]}
    elif outcome is not None:
        if os.WIFSIGNALED(wstatus):
            how = f"killed by {_signal_name(os.WTERMSIG(wstatus))}"
        else:
            how = f"exited with code {os.waitstatus_to_exitcode(wstatus)}"
        text = f"task process died without a result ({how}; {outcome[1]})"
        limit = memory and usage.ru_maxrss * 1024 >= 0.9 * memory
        oom = any(s in log_tail for s in ("MemoryError", "bad_alloc", "Cannot allocate memory",
                                          "out of memory"))
        meta = {"status": "memory" if (limit or oom) else "crashed", "error": text}
    if log_tail and meta.get("status") not in ("ok",):
        meta["output_tail"] = log_tail
    meta["host"] = host
    return pack(meta, arrays)


_HOST_BOOT = ("import sys; from dysts_bench.runner import _host_main; "
              "_host_main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))")


def _host_main(rfd, wfd, parent_pid):
    """Worker host: load the forecaster once, then run each job in a task process."""
    _set_pdeathsig()
    if os.getppid() != parent_pid:
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    init = pickle.loads(_recv_frame(rfd))
    sandbox = tempfile.mkdtemp(prefix="dysts-bench-worker-")
    try:
        os.chdir(sandbox)
        _merge_sys_path(init["sys_path"])
        guard = Guard(init["block"], init["protect"]).install()
        t0 = time.perf_counter()
        try:
            cls = _load_guarded(init, guard)
            forecaster = describe(cls(**init["params"]))
        except BaseException as exc:  # noqa: BLE001
            _send_frame(wfd, pack({"ok": False, "error": _tb(exc)}))
            return
        _send_frame(wfd, pack({"ok": True, "forecaster": forecaster, "load_seconds": time.perf_counter() - t0,
                               "versions": _versions(), "hardware": _hardware(), "pid": os.getpid()}))
        state = _HostState(init, cls, guard, sandbox)
        _set_pdeathsig()  # loads libc once, before the first fork
        gc.collect()
        gc.freeze()  # task processes then do not touch (copy) every inherited object in GC passes
        while True:
            try:
                header = pickle.loads(_recv_frame(rfd))
            except EOFError:
                break
            if header.get("op") == "stop":
                break
            if header.get("op") == "tune" and "dysts_bench.metrics" not in sys.modules:
                from . import metrics  # noqa: F401 - Forecaster.tune scores with it: import once, not per task
                gc.freeze()
            size = int(header["nbytes"])
            if len(state.buffer) < size:
                state.buffer[:] = bytes(len(state.buffer))
                state.buffer = bytearray(max(size, 2 * len(state.buffer)))
            view = memoryview(state.buffer)[:size]
            _read_into(rfd, view)
            try:
                reply = _run_task(state, header, view, (rfd, wfd))
            finally:
                view[:] = bytes(size)  # the host keeps no trace of the job's data
                view.release()
            _send_frame(wfd, reply)
            state.cleanup()
    except (BrokenPipeError, EOFError):
        pass
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)


# ---------------------------------------------------------------------------
# Parent side: host handles and executors
# ---------------------------------------------------------------------------

class _HostDied(RuntimeError):
    pass


class _Host:
    """Parent-side handle of one worker host process."""

    def __init__(self, init: dict, startup_timeout: float = 300.0):
        self.init = init
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        self.log = tempfile.TemporaryFile()
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
            if init.get("threads"):
                env[var] = str(init["threads"])
            else:
                env.setdefault(var, "1")
        self.proc = subprocess.Popen([sys.executable, "-c", _HOST_BOOT, str(r1), str(w2), str(os.getpid()),
                                      init.get("tag", "")],
                                     pass_fds=(r1, w2), stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True, env=env,
                                     cwd=tempfile.gettempdir())
        os.close(r1)
        os.close(w2)
        self.w, self.r = w1, r2
        try:
            _send_frame(self.w, pickle.dumps(init))
            meta, _ = unpack(_recv_frame(self.r, deadline=time.monotonic() + startup_timeout))
        except (OSError, EOFError, TimeoutError, ValueError) as exc:
            self.close(kill=True)
            raise _HostDied(f"worker host failed to start ({type(exc).__name__}): {self.log_tail()}") from None
        if not meta.get("ok"):
            self.close(kill=True)
            raise ForecasterSpecError(f"cannot load forecaster {init['target']!r} in the worker:\n{meta.get('error')}")
        self.meta = meta

    def log_tail(self) -> str:
        try:
            self.log.seek(0, os.SEEK_END)
            size = self.log.tell()
            self.log.seek(max(0, size - _LOG_CHARS))
            return self.log.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def execute(self, header: dict, payload: bytes, wait: float) -> bytes:
        try:
            _send_frame(self.w, pickle.dumps({**header, "nbytes": len(payload)}))
            _write_all(self.w, payload)
            return _recv_frame(self.r, deadline=time.monotonic() + wait)
        except (OSError, EOFError, TimeoutError, ValueError) as exc:
            self.close(kill=True)
            raise _HostDied(f"worker host died ({type(exc).__name__}): {self.log_tail()}") from None

    def close(self, kill=False):
        if self.proc.poll() is None and not kill:
            try:
                _send_frame(self.w, pickle.dumps({"op": "stop"}))
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                kill = True
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()
        for fd in (self.w, self.r):
            try:
                os.close(fd)
            except OSError:
                pass
        self.w = self.r = -1
        try:
            self.log.close()
        except OSError:
            pass


@dataclass
class _Job:
    key: tuple
    header: dict
    payload: bytes
    task: object = None
    wall: float | None = None


def _wait_for(init, header) -> float:
    """How long the parent waits for a host's reply before declaring the host dead."""
    extra = 120.0 if init.get("isolation") == "spawn" else 30.0
    return float(header["timeout"]) + extra


def _host_reply(host_factory, get_host, set_host, job: _Job, init) -> bytes:
    """Run a job on this thread's host (restarting a dead one); never raises."""
    host = get_host()
    try:
        if host is None or not host.alive():
            host = host_factory()
            set_host(host)
        t0 = time.perf_counter()
        try:
            return host.execute(job.header, job.payload, _wait_for(init, job.header))
        finally:
            job.wall = time.perf_counter() - t0
    except _HostDied as exc:
        set_host(None)
        return pack({"status": "crashed", "error": str(exc)})
    except BaseException as exc:  # noqa: BLE001 - e.g. the host cannot be restarted
        set_host(None)
        return pack({"status": "crashed", "error": f"worker host unavailable: {_tb(exc)}"})


class LocalExecutor:
    """``workers`` threads, each driving one worker host process."""

    def __init__(self, init: dict, workers: int = 1):
        self.init = init
        self.workers = max(1, int(workers))
        self.hosts = []
        self.jobs = queue.Queue()
        self.results = queue.Queue()
        self.ready = queue.Queue()
        self.threads = [threading.Thread(target=self._loop, name=f"dysts-bench-host-{i}", daemon=True)
                        for i in range(self.workers)]
        for t in self.threads:
            t.start()

    def _loop(self):
        def factory():
            host = _Host(self.init)  # created in this thread: PDEATHSIG is tied to it
            self.hosts.append(host)
            return host

        host = None
        try:
            host = factory()
            self.ready.put(host.meta)
        except BaseException as exc:  # noqa: BLE001
            self.ready.put(exc)
        box = [host]
        while True:
            job = self.jobs.get()
            if job is None:
                break
            reply = _host_reply(factory, lambda: box[0], lambda h: box.__setitem__(0, h), job, self.init)
            self.results.put((job, reply))
        if box[0] is not None:
            box[0].close()

    def describe(self) -> dict:
        errors = []
        for _ in range(self.workers):
            item = self.ready.get()
            if isinstance(item, BaseException):
                errors.append(item)
            else:
                return item
        raise errors[0]

    def map(self, jobs):
        jobs = list(jobs)
        for job in jobs:
            self.jobs.put(job)
        for _ in range(len(jobs)):
            yield self.results.get()

    def close(self, kill=False):
        if kill:  # interrupted: drop queued jobs, do not wait for tasks in flight
            while True:
                try:
                    self.jobs.get_nowait()
                except queue.Empty:
                    break
            for host in list(self.hosts):
                if host.proc.poll() is None:  # not reaped: the pid cannot have been reused
                    try:
                        os.killpg(host.proc.pid, signal.SIGKILL)
                    except OSError:
                        pass
        for _ in self.threads:
            self.jobs.put(None)
        for t in self.threads:
            t.join(timeout=5 if kill else 60)


# -- Dask -----------------------------------------------------------------------------

_DASK_HOSTS: dict = {}
_DASK_LOCK = threading.Lock()


def _dask_host(init) -> tuple:
    key = (init["tag"], threading.get_ident())
    with _DASK_LOCK:
        return key, _DASK_HOSTS.get(key)


def _dask_describe(init) -> bytes:
    key, host = _dask_host(init)
    if host is None or not host.alive():
        try:
            host = _Host(init)
        except BaseException as exc:  # noqa: BLE001
            return pack({"ok": False, "error": str(exc)})
        with _DASK_LOCK:
            _DASK_HOSTS[key] = host
    return pack(host.meta)


def _dask_job(init, header, payload) -> bytes:
    """Runs on a Dask worker: the job goes to a worker host of that machine."""
    key, _ = _dask_host(init)

    def set_host(h):
        with _DASK_LOCK:
            if h is None:
                _DASK_HOSTS.pop(key, None)
            else:
                _DASK_HOSTS[key] = h

    def factory():
        return _Host(init)
    return _host_reply(factory, lambda: _dask_host(init)[1], set_host, _Job((), header, payload), init)


def _dask_close(tag) -> int:
    n = 0
    with _DASK_LOCK:
        for key in [k for k in _DASK_HOSTS if k[0] == tag]:
            _DASK_HOSTS.pop(key).close()
            n += 1
    return n


class DaskExecutor:
    """Jobs as Dask tasks; each Dask worker runs them through its own worker hosts."""

    def __init__(self, init: dict, scheduler, workers: int = 1):
        from distributed import Client, LocalCluster
        self.init = init
        self.cluster = None
        self.own_client = True
        if isinstance(scheduler, Client):
            self.client, self.own_client = scheduler, False
        elif scheduler in ("local", "dask", True):
            import logging
            self.cluster = LocalCluster(n_workers=max(1, int(workers)), threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=logging.ERROR)
            self.client = Client(self.cluster)
        else:
            self.client = Client(scheduler)

    def describe(self) -> dict:
        meta, _ = unpack(self.client.submit(_dask_describe, self.init, pure=False).result())
        if not meta.get("ok"):
            raise ForecasterSpecError(f"cannot load forecaster on the Dask worker: {meta.get('error')}")
        return meta

    def map(self, jobs):
        from distributed import as_completed
        futures = {}
        for job in jobs:
            fut = self.client.submit(_dask_job, self.init, job.header, job.payload, pure=False)
            futures[fut] = job
        for fut in as_completed(list(futures)):
            try:
                reply = fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost Dask worker
                reply = pack({"status": "crashed", "error": f"Dask task failed: {type(exc).__name__}: {exc}"})
            yield futures[fut], reply

    def close(self, kill=False):
        try:
            self.client.run(_dask_close, self.init["tag"])
        except Exception:  # noqa: BLE001
            pass
        if self.own_client:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


# ---------------------------------------------------------------------------
# Scoring and records (parent)
# ---------------------------------------------------------------------------

def task_hash(context: np.ndarray, future: np.ndarray, info: dict) -> str:
    """Digest of everything a record depends on besides the forecaster: context, future,
    sampling interval and Lyapunov exponent (a resumed run re-scores a task whose data or
    exponent changed). One-way, and workers cannot read the results anyway."""
    h = hashlib.sha256(np.ascontiguousarray(context, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(future, dtype=np.float64).tobytes())
    h.update(f"|{context.shape}|{future.shape}|{info.get('dt')!r}|{info.get('maximum_lyapunov')!r}".encode())
    return h.hexdigest()[:16]


def evaluation_of(info: dict) -> str:
    """The evaluation a task belongs to: "canonical", "fresh:<seed>" (or "adhoc"), with the
    noise variant appended when there is one ("canonical+noise=measurement")."""
    evaluation = str(info.get("evaluation") or "adhoc")
    noise = info.get("noise")
    if noise not in (None, "none"):
        evaluation += f"+noise={noise}"
    return evaluation


def lookup_suspect(forecast: np.ndarray, future: np.ndarray, min_steps: int = 16) -> bool:
    """True if ``forecast`` reproduces the stored float32 future bit for bit on most steps,
    including the second half: a table lookup, not a forecast of a chaotic system."""
    n = len(future)
    if n < min_steps:
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        same = np.all(forecast.astype(np.float32) == future.astype(np.float32), axis=1)
    return bool(same.mean() > 0.5 and same[n // 2:].mean() > 0.5)


def _short_error(exc) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def score(future: np.ndarray, forecast: np.ndarray, info: dict, horizons=DEFAULT_HORIZONS) -> dict:
    """All metrics of one forecast: whole horizon, at Lyapunov-time horizons, VPT, attractor.

    A metric that fails is recorded as null (with the reason in ``scoring_errors``); the
    others are kept.
    """
    from . import metrics as M
    out, errors = {}, {}

    def each(compute, names, fill):
        """``compute(names)`` for all names at once, else one by one (isolating failures)."""
        try:
            return _clean(compute(names))
        except Exception:  # noqa: BLE001
            result = {}
            for name in names:
                try:
                    result[name] = _clean(compute([name])[name])
                except Exception as exc:  # noqa: BLE001
                    result[name], errors[f"{compute.__name__}:{name}"] = fill, _short_error(exc)
            return result

    def score_all(names):
        return M.score_all(future, forecast, metrics=names)
    out["metrics"] = each(score_all, list(M.METRIC_NAMES), None)
    dt = float(info["dt"])
    lam = info.get("maximum_lyapunov")
    lam = float(lam) if lam is not None and np.isfinite(lam) and lam > 0 else None
    vpt = {}
    for metric in ("smape", "nrmse"):
        try:
            steps = float(M.valid_prediction_time(future, forecast, dt=None, metric=metric))
            steps = steps if np.isfinite(steps) else None
        except Exception as exc:  # noqa: BLE001
            steps, errors[f"vpt:{metric}"] = None, _short_error(exc)
        vpt[metric] = {"steps": steps,
                       "time": None if steps is None else steps * dt,
                       "lyapunov_times": None if steps is None or lam is None else steps * dt * lam}
    out["vpt"] = vpt
    out["horizons"] = list(horizons)
    if lam is not None:
        def horizon_scores(names):
            return M.horizon_scores(future, forecast, dt=dt, lyapunov_exponent=lam, horizons=horizons,
                                    metrics=names)
        out["horizon_metrics"] = each(horizon_scores, list(M.METRIC_NAMES), [None] * len(horizons))
    else:
        out["horizon_metrics"] = None
    attractor = {}
    for name, kw in (("correlation_dimension_error", {"max_points": 500}), ("power_spectrum_error", {})):
        fn = getattr(M, name, None)
        if fn is None:
            continue
        try:
            attractor[name] = _clean(float(fn(future, forecast, **kw)))
        except Exception as exc:  # noqa: BLE001 - too short, degenerate: not defined
            attractor[name], errors[f"attractor:{name}"] = None, _short_error(exc)
    out["attractor"] = attractor
    out["scoring_errors"] = errors or None
    return out


def _num(value, default=None):
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) else default


_SCORER_BOOT = ("import sys; from dysts_bench.runner import _scorer_main; "
                "_scorer_main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))")


def _scorer_main(rfd, wfd, parent_pid):
    """A scoring process: our own code only (it never runs a forecaster), so pickle is fine."""
    _set_pdeathsig()
    if os.getppid() != parent_pid:
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from . import metrics  # noqa: F401
    _send_frame(wfd, pickle.dumps("ready"))
    while True:
        try:
            future, forecast, info = pickle.loads(_recv_frame(rfd))
        except EOFError:
            return
        try:
            out = ("ok", score(future, forecast, info))
        except BaseException as exc:  # noqa: BLE001
            out = ("error", _tb(exc))
        _send_frame(wfd, pickle.dumps(out, protocol=5))


class _Scorer:
    """Parent-side handle of a scoring process (started by the thread that uses it)."""

    def __init__(self):
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        self.proc = subprocess.Popen([sys.executable, "-c", _SCORER_BOOT, str(r1), str(w2), str(os.getpid())],
                                     pass_fds=(r1, w2), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     start_new_session=True)
        os.close(r1)
        os.close(w2)
        self.w, self.r = w1, r2
        pickle.loads(_recv_frame(self.r, deadline=time.monotonic() + 300))

    def score(self, future, forecast, info):
        _send_frame(self.w, pickle.dumps((future, forecast, info), protocol=5))
        status, out = pickle.loads(_recv_frame(self.r))
        if status != "ok":
            raise RuntimeError(f"scoring failed:\n{out}")
        return out

    def close(self):
        for fd in (self.w, self.r):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class ScoringPool:
    """Scores forecasts in ``n`` processes so the parent is not the bottleneck of many workers
    (``n = 0``: score inline). Results are identical to inline scoring (same code)."""

    def __init__(self, n: int):
        self.n = int(n)
        self.local = threading.local()
        self.scorers = []
        self.lock = threading.Lock()
        self.pool = None
        if self.n > 0:
            from concurrent.futures import ThreadPoolExecutor
            self.pool = ThreadPoolExecutor(self.n, thread_name_prefix="dysts-bench-scorer")
            # start the processes now, in parallel with the workers
            self.starting = [self.pool.submit(self._scorer) for _ in range(self.n)]

    def wait_ready(self):
        for fut in getattr(self, "starting", []):
            try:
                fut.result()
            except Exception:  # noqa: BLE001 - scoring falls back to inline
                pass

    def _scorer(self):
        scorer = getattr(self.local, "scorer", None)
        if scorer is None or scorer.proc.poll() is not None:
            scorer = self.local.scorer = _Scorer()
            with self.lock:
                self.scorers.append(scorer)
        return scorer

    def _score(self, future, forecast, info):
        try:
            return self._scorer().score(future, forecast, info)
        except (OSError, EOFError, ValueError, pickle.UnpicklingError):
            self.local.scorer = None  # a dead scoring process: score here instead
            return score(future, forecast, info)

    def submit(self, future, forecast, info):
        from concurrent.futures import Future
        if self.pool is None:
            fut = Future()
            try:
                fut.set_result(score(future, forecast, info))
            except BaseException as exc:  # noqa: BLE001
                fut.set_exception(exc)
            return fut
        return self.pool.submit(self._score, future, forecast, info)

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        for scorer in self.scorers:
            scorer.close()


# ---------------------------------------------------------------------------
# Results store
# ---------------------------------------------------------------------------

def _atomic_write(path: Path, text: str, fsync: bool = True):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        if fsync:
            os.fsync(fh.fileno())
    os.replace(tmp, path)


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
        _atomic_write(path, json.dumps(record, allow_nan=False), self.fsync)

    def read_tune(self, evaluation, system):
        try:
            return json.loads(self.tune_path(evaluation, system).read_text())
        except (OSError, ValueError):
            return None

    def write_tune(self, evaluation, system, record):
        _atomic_write(self.tune_path(evaluation, system), json.dumps(record, allow_nan=False), self.fsync)

    def consolidate(self, evaluation: str) -> Path:
        records = self.existing(evaluation)
        lines = [json.dumps(records[k], allow_nan=False, sort_keys=False)
                 for k in sorted(records, key=lambda k: (str(k[0]), str(k[1])))]
        path = self.run_file(evaluation)
        _atomic_write(path, "".join(line + "\n" for line in lines), self.fsync)
        return path


# ---------------------------------------------------------------------------
# Ad-hoc tasks (tests, benchmarks, quick experiments)
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class AdhocTask:
    """Same shape as ``dysts_bench.dataset.Task``."""

    system: str
    series: int
    context: np.ndarray
    future: np.ndarray
    info: dict


def adhoc_tasks(systems, *, n_series=1, context_length=300, horizon=100, pts_per_period=100, seed=0,
                evaluation="adhoc", lyapunov=None, float32=True) -> list[AdhocTask]:
    """Tasks built with :func:`dysts_bench.make_trajectory` from random points of each
    system's attractor (for tests and experiments; the benchmark uses the dataset).

    ``lyapunov`` maps system names to maximum Lyapunov exponents (default: the
    registry's). Values are rounded to float32 like the shipped dataset.
    """
    from .registry import get_system
    from .trajectory import make_trajectory, sampling_interval
    rng = np.random.default_rng(seed)
    tasks = []
    for name in ([systems] if isinstance(systems, str) else systems):
        spec = get_system(name)
        burn = 4 * (context_length + horizon)
        _, orbit = make_trajectory(name, burn, pts_per_period=pts_per_period)
        starts = rng.integers(burn // 2, burn, size=n_series)
        _, ys = make_trajectory(name, context_length + horizon, pts_per_period=pts_per_period, ic=orbit[starts])
        dt = sampling_interval(spec, pts_per_period)
        lam = (lyapunov or {}).get(name, spec.maximum_lyapunov)
        info = {"system": name, "dt": dt, "pts_per_period": float(pts_per_period), "dim": ys.shape[-1],
                "maximum_lyapunov": lam, "lyapunov_time_samples": None if not lam else 1.0 / (lam * dt),
                "evaluation": evaluation}
        for k in range(n_series):
            y = ys[k].astype(np.float32).astype(np.float64) if float32 else ys[k]
            tasks.append(AdhocTask(name, k, y[:context_length].copy(), y[context_length:].copy(), dict(info)))
    return tasks


# ---------------------------------------------------------------------------
# run()
# ---------------------------------------------------------------------------

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


def _default_protect(results_dir, roots=()) -> tuple[list[str], list[str]]:
    """Paths no worker may open, and those closed to forecasters without ``uses_system_name``."""
    pkg = Path(__file__).resolve().parent
    items = [str(pkg / "dataset") + "*", str(pkg / "__pycache__" / "dataset") + "*",
             str(pkg / "data") + os.sep + "*", str(Path(results_dir).resolve())]
    items += [str(Path(r).resolve()) for r in roots if r]
    try:  # wherever the dataset keeps its files
        from . import dataset as ds
        for attr in ("default_root", "DEFAULT_ROOT", "data_root", "DATA_ROOT", "DATA_DIR", "dataset_root"):
            value = getattr(ds, attr, None)
            value = value() if callable(value) else value
            if value:
                items.append(str(Path(value).resolve()))
    except Exception:  # noqa: BLE001 - no dataset module (yet)
        pass
    system_items = []
    try:
        from .registry import default_path
        system_items.append(str(default_path().resolve()))
    except Exception:  # noqa: BLE001
        pass
    system_items.append(str(Path(os.environ.get("DYSTS_BENCH_CACHE_DIR",
                                                Path.home() / ".cache" / "dysts-bench")).resolve()))
    return items, system_items


def _get(task, name):
    value = getattr(task, name, None)
    if value is None and isinstance(task, dict):
        value = task.get(name)
    return value


def _check_task(task):
    system, series, context, future, info = (_get(task, k) for k in ("system", "series", "context", "future", "info"))
    if system is None or series is None or context is None or future is None or info is None:
        raise TypeError(f"a task needs system, series, context, future and info; got {type(task).__name__}")
    context = np.ascontiguousarray(context, dtype=np.float64)
    future = np.ascontiguousarray(future, dtype=np.float64)
    if context.ndim != 2 or future.ndim != 2 or context.shape[1] != future.shape[1] or len(future) < 1:
        raise ValueError(f"task {system}/{series}: context {context.shape} and future {future.shape} "
                         "must be (n, dim) and (horizon, dim)")
    info = dict(info)
    if not info.get("dt"):
        raise ValueError(f"task {system}/{series}: info has no sampling interval 'dt'")
    info.setdefault("dim", context.shape[1])
    info.setdefault("system", system)
    return str(system), series if isinstance(series, (int, str)) else int(series), context, future, info


class _Progress:
    def __init__(self, enabled: bool, total: int, label: str):
        self.p = None
        self.counts = collections.Counter()
        if not enabled or total == 0:
            return
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)
        self.p = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                          TextColumn("{task.fields[status]}"), console=Console(stderr=True))
        self.p.start()
        self.tid = self.p.add_task(label, total=total, status="")

    def advance(self, status):
        self.counts[status] += 1
        if self.p is not None:
            text = " ".join(f"{k}:{v}" for k, v in sorted(self.counts.items()))
            self.p.update(self.tid, advance=1, status=text)

    def close(self):
        if self.p is not None:
            self.p.stop()


def summary_rows(records) -> list[tuple]:
    """One row per (forecaster, evaluation): counts and medians (for the end-of-run table)."""
    groups = collections.defaultdict(list)
    for r in records:
        groups[(r["forecaster"]["name"], r["evaluation"])].append(r)
    rows = []
    for (name, evaluation), recs in sorted(groups.items()):
        counts = collections.Counter(r["status"] for r in recs)
        scored = [r for r in recs if r["status"] in SCORED]

        def med(values):
            values = [v for v in values if v is not None]
            return f"{np.median(values):.4g}" if values else "-"
        def vpt_of(r, unit):
            return ((r.get("vpt") or {}).get("smape") or {}).get(unit)
        vpt = [vpt_of(r, "lyapunov_times") for r in scored]
        vpt_unit = "λ"
        if all(v is None for v in vpt):
            vpt, vpt_unit = [vpt_of(r, "steps") for r in scored], "steps"
        rows.append((name, evaluation, len(recs), counts.get("ok", 0),
                     ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "ok") or "-",
                     med((r.get("metrics") or {}).get("smape") for r in scored),
                     f"{med(vpt)} {vpt_unit}",
                     med(r["fit_seconds"] for r in recs),
                     med(r["predict_seconds"] for r in recs),
                     med(r["peak_rss_mb"] for r in recs)))
    return rows


SUMMARY_COLUMNS = ["forecaster", "evaluation", "tasks", "ok", "other statuses", "median sMAPE",
                   "median VPT", "fit s", "predict s", "peak MB"]


def print_summary(records, console=None):
    from rich.console import Console
    from rich.table import Table
    table = Table(title="dysts-bench run")
    for col in SUMMARY_COLUMNS:
        table.add_column(col, overflow="fold")
    for row in summary_rows(records):
        table.add_row(*[str(x) for x in row])
    (console or Console(stderr=True, width=None if sys.stderr.isatty() else 160)).print(table)


def run(forecaster_spec, tasks, results_dir="leaderboard/results", *, workers=1, scheduler=None, timeout=600,
        memory="4GB", resume=True, progress=True, params=None, tune=False, train_source=None, isolation="fork",
        protect=(), retry_failed=False, threads=None, fsync=True, summary=None,
        score_workers=None) -> RunResult:
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
        Where run files (and the per-task records under ``.tasks/``) go.
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
        Tune hyperparameters per system first (``Forecaster.tune`` on the training
        trajectory and its validation tail from ``train_source(system) -> (context,
        valid, info)``; default ``dysts_bench.dataset.load_train``). Test data are never
        used for tuning.
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

    Returns
    -------
    RunResult
        ``records`` holds the records of all requested tasks (new and resumed).
    """
    t_start = time.monotonic()
    if isolation not in ("fork", "spawn"):
        raise ValueError(f"isolation must be 'fork' or 'spawn', got {isolation!r}")
    if isolation == "fork" and not hasattr(os, "fork"):
        isolation = "spawn"
    spec = resolve_spec(forecaster_spec, params)
    memory_bytes = parse_size(memory)
    timeout = float(timeout)
    if not timeout > 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    checked = [_check_task(t) for t in tasks]
    keys = [(evaluation_of(info), system, series) for system, series, _, _, info in checked]
    if len(set(keys)) != len(keys):
        dup = [k for k, n in collections.Counter(keys).items() if n > 1][0]
        raise ValueError(f"duplicate task {dup}")
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    run_uuid = uuid.uuid4().hex[:12]
    sys_path = [os.path.abspath(p) if p else os.getcwd() for p in sys.path]

    protect_all, protect_system = _default_protect(results_dir, protect)
    init = {"target": spec.target, "params": spec.params, "sys_path": sys_path, "isolation": isolation,
            "threads": threads, "tag": f"dysts-bench-{run_uuid}",
            "block": DATA_MODULES, "protect": protect_all,
            "block_unless_system_name": SYSTEM_MODULES, "protect_unless_system_name": protect_system}
    executor = None
    records, files, skipped = [], [], 0
    prog = None
    scoring = None
    if score_workers is None:
        score_workers = 0 if int(workers) <= 1 else max(1, min(int(workers), os.cpu_count() or 1) // 2)
    try:
        n_workers = max(1, min(int(workers), len(checked)))
        executor = (LocalExecutor(init, n_workers) if scheduler is None
                    else DaskExecutor(init, scheduler, workers))
        scoring = ScoringPool(min(score_workers, len(checked)))
        from . import metrics  # noqa: F401 - import the scoring code while the workers start
        host_meta = executor.describe()
        scoring.wait_ready()
        timings = {"startup": time.monotonic() - t_start}
        fmeta = host_meta["forecaster"]
        do_tune = bool(tune) and fmeta["tunable"]
        identity = {"name": fmeta["name"], "version": fmeta["version"], "params": fmeta["params"],
                    "tune": do_tune, "protocol": PROTOCOL_VERSION}
        run_id = f"{_slug(fmeta['name'])}-{params_hash(identity)}"
        store = ResultStore(results_dir, run_id, fsync=fsync)
        forecaster_record = {"name": fmeta["name"], "version": fmeta["version"], "params": fmeta["params"],
                             "target": _display_target(spec.target), "uses_system_name": fmeta["uses_system_name"],
                             "run_id": run_id}

        # resume
        existing = {}
        todo = []
        for (evaluation, system, series), item in zip(keys, checked):
            if evaluation not in existing:
                existing[evaluation] = store.existing(evaluation) if resume else {}
            rec = existing[evaluation].get((system, series))
            _, _, context, future, info = item
            thash = task_hash(context, future, info)
            if rec is not None and rec.get("task_hash") == thash and not (
                    retry_failed and rec.get("status") not in SCORED):
                records.append(rec)
                skipped += 1
                continue
            todo.append((evaluation, item, thash))

        uses_name = fmeta["uses_system_name"]
        # tuning, once per (evaluation, system), on training data only
        t_phase = time.monotonic()
        tuned = {}
        if do_tune and todo:
            source = train_source
            if source is None:
                from .dataset import load_train as source
            tune_jobs = []
            for evaluation, system in sorted({(ev, item[0]) for ev, item, _ in todo}):
                prior = store.read_tune(evaluation, system) if resume else None
                if prior is not None and not (retry_failed and prior.get("status") != "ok"):
                    tuned[(evaluation, system)] = prior
                    continue
                train, valid, tinfo = source(system)
                tinfo = {**dict(tinfo), "system": system}
                job = {"op": "tune", "train": np.ascontiguousarray(train, dtype=np.float64),
                       "valid": np.ascontiguousarray(valid, dtype=np.float64),
                       "info": public_info(tinfo, uses_system_name=uses_name), "params": spec.params}
                tune_jobs.append(_Job((evaluation, system), {"op": "tune", "timeout": timeout, "memory": memory_bytes,
                                                             "max_values": 0},
                                      pickle.dumps(job, protocol=5)))
            for job, reply in executor.map(tune_jobs):
                meta, _ = _safe_unpack(reply)
                rec = {"system": job.key[1], "status": meta.get("status"), "params": meta.get("best"),
                       "seconds": _num(meta.get("tune_seconds")), "error": meta.get("error")}
                if rec["status"] != "ok" or not isinstance(rec["params"], dict):
                    rec["status"] = rec["status"] if rec["status"] != "ok" else "error"
                    rec["params"] = None
                store.write_tune(job.key[0], job.key[1], _clean(rec))
                tuned[job.key] = rec

        # the tasks
        jobs = []
        for evaluation, (system, series, context, future, info), thash in todo:
            trec = tuned.get((evaluation, system))
            params = dict(spec.params)
            if trec and trec.get("status") == "ok" and trec.get("params"):
                params.update(trec["params"])
            job = {"op": "predict", "context": context, "info": public_info(info, uses_system_name=uses_name),
                   "horizon": len(future), "params": params}
            header = {"op": "predict", "timeout": timeout, "memory": memory_bytes,
                      "max_values": future.size}
            jobs.append(_Job((evaluation, system, series), header, pickle.dumps(job, protocol=5),
                             task=(system, series, context, future, info, thash, params, trec)))
        timings["tuning"] = time.monotonic() - t_phase
        t_phase = time.monotonic()
        prog = _Progress(progress, len(jobs), fmeta["name"])
        common = {"schema": RECORD_SCHEMA, "protocol_version": PROTOCOL_VERSION,
                  "dataset_protocol_version": _dataset_protocol(), "run_uuid": run_uuid,
                  "forecaster": forecaster_record, "versions": host_meta.get("versions", {}),
                  "scoring_versions": _scoring_versions(), "hardware": host_meta.get("hardware", {}),
                  "limits": {"timeout_seconds": timeout, "memory_bytes": memory_bytes, "isolation": isolation,
                             "executor": "local" if scheduler is None else "dask"}}
        pending = collections.deque()

        def finish(item):
            record = _finish_record(*item)
            store.write(record)
            records.append(record)
            prog.advance(record["status"])
        for job, reply in executor.map(jobs):
            pending.append(_make_record(job, reply, common, do_tune, scoring))
            while pending and (pending[0][1] is None or pending[0][1].done()):
                finish(pending.popleft())
        while pending:
            finish(pending.popleft())
        timings["tasks"] = time.monotonic() - t_phase
        evaluations = sorted({k[0] for k in keys})
        for evaluation in evaluations:
            files.append(store.consolidate(evaluation))
    finally:
        interrupted = sys.exc_info()[0] is not None
        if prog is not None:
            prog.close()
        if executor is not None:
            executor.close(kill=interrupted)
        if scoring is not None:
            scoring.close()
    order = {k: i for i, k in enumerate(keys)}
    records.sort(key=lambda r: order.get((r["evaluation"], r["system"], r["series"]), 0))
    result = RunResult(run_id=run_id, forecaster=forecaster_record, records=records, files=files,
                       skipped=skipped, elapsed=time.monotonic() - t_start, timings=timings)
    if progress if summary is None else summary:
        print_summary(records)
    return result


def _safe_unpack(reply: bytes):
    try:
        return unpack(reply)
    except Exception as exc:  # noqa: BLE001 - a forged or truncated reply
        return {"status": "crashed", "error": f"unreadable reply from the worker: {exc}"}, {}


def _display_target(target: str) -> str:
    from .forecaster import builtin_dirs
    where, _, name = target.rpartition(":")
    for d in builtin_dirs():
        try:
            rel = Path(where).resolve().relative_to(d.resolve())
            return f"builtin:{rel.with_suffix('')}:{name}"
        except ValueError:
            continue
    return target


def _dataset_protocol():
    try:
        from .dataset.protocol import PROTOCOL_VERSION as v
        return v
    except Exception:  # noqa: BLE001
        return None


def _scoring_versions() -> dict:
    import scipy
    from . import __version__
    return {"dysts_bench": __version__, "numpy": np.__version__, "scipy": scipy.__version__}


def _make_record(job: _Job, reply: bytes, common: dict, tuned_run: bool, scoring=None):
    """The record of one job (and the scoring future, if it is to be scored)."""
    system, series, context, future, info, thash, params, trec = job.task
    meta, arrays = _safe_unpack(reply)
    status = meta.get("status")
    if status not in STATUSES:
        status, meta = "crashed", {"error": f"worker replied with an unknown status {status!r}", **meta}
    error = meta.get("error")
    host = meta.get("host") if isinstance(meta.get("host"), dict) else {}
    forecast = arrays.get("forecast")
    if status == "ok":
        if forecast is None or forecast.shape != future.shape:
            shape = None if forecast is None else forecast.shape
            status, error = "bad_shape", f"forecast has shape {shape}, expected {future.shape}"
        elif lookup_suspect(forecast, future):
            status = "leak"
            error = ("the forecast reproduces the stored future bit for bit on most steps "
                     "(a lookup of the test data, not a forecast)")
        elif not np.isfinite(forecast).all():
            bad = ~np.isfinite(forecast).all(axis=1)
            status = "nonfinite"
            error = f"{int(bad.sum())} of {len(bad)} forecast steps contain NaN/inf (first at step {int(bad.argmax())})"
    pending = None
    if status in SCORED:
        pending = (scoring or ScoringPool(0)).submit(future, forecast, info)
    record = {
        **{k: v for k, v in common.items() if k != "forecaster"},
        "forecaster": {**common["forecaster"], "task_params": _clean(jsonable(params))},
        "evaluation": job.key[0], "system": system, "series": series, "task_hash": thash,
        "status": status, "error": None if error is None else str(error)[-_ERROR_CHARS:],
        "phase": meta.get("phase"), "output_tail": meta.get("output_tail"),
        "context_length": int(len(context)), "horizon": int(len(future)), "dim": int(context.shape[1]),
        "dt": _num(info.get("dt")), "pts_per_period": _num(info.get("pts_per_period")),
        "maximum_lyapunov": _num(info.get("maximum_lyapunov")),
        "lyapunov_time_samples": _num(info.get("lyapunov_time_samples")),
        "lyapunov_source": info.get("lyapunov_source"),
        "tuning": None if not tuned_run else (None if trec is None else
                                              {k: trec.get(k) for k in ("status", "params", "seconds", "error")}),
        "fit_seconds": _num(meta.get("fit_seconds")), "predict_seconds": _num(meta.get("predict_seconds")),
        "task_seconds": _num(host.get("task_seconds")), "wall_seconds": _num(job.wall),
        "cpu_seconds": _num(host.get("cpu_seconds")),
        "peak_rss_mb": None if _num(host.get("peak_rss_bytes")) is None else host["peak_rss_bytes"] / 2**20,
        "memory_limit_mb": None if _num(meta.get("memory_limit_bytes")) is None
        else meta["memory_limit_bytes"] / 2**20,
        "metrics": None, "horizons": None, "horizon_metrics": None, "vpt": None, "attractor": None,
        "scoring_errors": None,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return record, pending


def _finish_record(record, pending) -> dict:
    if pending is not None:
        try:
            record.update(pending.result())
        except Exception as exc:  # noqa: BLE001 - the scorer itself failed: keep the record, say why
            record["scoring_errors"] = {"scoring": _tb(exc)}
    return _clean(record)


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def _parse_params(items) -> dict:
    params = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--param expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        try:
            params[key.strip()] = json.loads(value)
        except ValueError:
            params[key.strip()] = value
    return params


def cmd_run(args):
    from .dataset import iter_tasks
    kwargs = {"split": args.split, "systems": args.systems, "fresh_seed": args.fresh,
              "context_length": args.context_length}
    if args.noise is not None:
        kwargs["noise"] = args.noise
    if args.root:
        kwargs["root"] = args.root
    tasks = iter_tasks(**kwargs)
    train_source = None
    if args.tune:
        import functools

        from .dataset import load_train
        train_source = functools.partial(load_train, root=args.root, noise=args.noise)
    result = run(args.forecaster, tasks, args.results, workers=args.workers, scheduler=args.scheduler,
                 timeout=args.timeout, memory=args.memory, resume=args.resume, progress=not args.quiet,
                 params=_parse_params(args.param), tune=args.tune, train_source=train_source,
                 isolation=args.isolation, protect=[args.root] if args.root else (),
                 retry_failed=args.retry_failed, threads=args.threads, summary=True)
    for path in result.files:
        print(f"results: {path}")
    return 0


def cmd_forecasters(args):
    from .forecaster import available_forecasters, builtin_forecasters
    builtins = builtin_forecasters()
    rows = [(name, "built-in" if name in builtins else "entry point", _display_target(target))
            for name, target in sorted(available_forecasters().items())]
    from rich.console import Console
    from rich.table import Table
    table = Table(title=f"{len(rows)} forecasters")
    for col in ("name", "source", "target"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console().print(table)
    return 0


def add_cli(subparsers):
    """Register ``dysts-bench run`` and ``dysts-bench forecasters``."""
    p = subparsers.add_parser("run", help="benchmark a forecaster (each task isolated in its own process)",
                              description="Benchmark a forecaster: FORECASTER is a built-in name "
                                          "(dysts-bench forecasters), path/to/file.py:ClassName, "
                                          "module:ClassName, an entry point or darts:ModelName.")
    p.add_argument("forecaster")
    p.add_argument("--systems", nargs="+", help="systems to run (default: all in the split)")
    p.add_argument("--split", default="test")
    p.add_argument("--workers", type=int, default=1, help="concurrent tasks (or Dask LocalCluster workers)")
    p.add_argument("--scheduler", default=None,
                   help="run on Dask: a scheduler address (tcp://host:8786) or 'local' for a LocalCluster")
    p.add_argument("--timeout", type=float, default=600, help="seconds per task (fit + predict)")
    p.add_argument("--memory", default="4GB", help="memory per task, e.g. 4GB ('none': no limit)")
    p.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                   help="skip tasks already in the results (default)")
    p.add_argument("--retry-failed", action="store_true", help="with --resume, rerun tasks that did not finish ok")
    p.add_argument("--fresh", type=int, metavar="SEED", default=None,
                   help="evaluate on fresh initial conditions drawn from SEED at run time")
    p.add_argument("--results", default="leaderboard/results", help="results directory")
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="forecaster parameter (JSON value)")
    p.add_argument("--tune", action=argparse.BooleanOptionalAction, default=True,
                   help="tune declared hyperparameters per system on the validation tail (default)")
    p.add_argument("--isolation", choices=["fork", "spawn"], default="fork",
                   help="task processes forked from a clean worker (fast) or fresh interpreters")
    p.add_argument("--threads", type=int, default=None, help="BLAS/OpenMP threads per task")
    p.add_argument("--context-length", type=int, default=1000)
    p.add_argument("--noise", default=None, help="dataset noise variant (none, measurement, dynamical)")
    p.add_argument("--root", default=None, help="dataset directory (default: the shipped dataset)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)

    p = subparsers.add_parser("forecasters", help="list the available forecasters")
    p.set_defaults(func=cmd_forecasters)
    return subparsers

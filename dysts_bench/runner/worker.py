"""The worker side: the worker host's main loop and the task processes it starts.

A worker host (:func:`_host_main`, a fresh interpreter started by the parent with
:data:`_HOST_BOOT`) imports the forecaster once under the :class:`Guard`, then runs every
job in a task process: forked from the host (:func:`_child_main`) or, with
``isolation="spawn"``, a fresh interpreter (:func:`_spawned_child_main`, started with
:data:`_CHILD_BOOT`). Both execute the job with :func:`_execute`.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import pickle
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

from ..forecaster import (ForecastShapeError, check_forecast, describe, forecaster_class, jsonable, load_target,
                          pretrains)
from .isolation import Guard, _bind_to_parent, _limit_memory, _set_pdeathsig
from .sandbox import MAX_PROCESSES, harden_host, kill_tree, private_memory, seed_caches, tree_memory, tree_pids
from .wire import _read_into, _recv_frame, _send_frame, pack, unpack

_ERROR_CHARS = 6000
_LOG_CHARS = 2000


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
            best = model.tune(job["train"], job["valid"], dt=info["dt"], info=info, fixed=tuple(job["params"]))
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


def declares_system_name(cls) -> bool:
    """``uses_system_name``, read from one place: the class attribute itself (a real
    ``True``), never an instance attribute, property or metaclass trick."""
    import inspect
    return inspect.getattr_static(cls, "uses_system_name", False) is True


def _load_guarded(init, guard):
    """Import the forecaster under the data guard; then, unless it declares
    ``uses_system_name``, also shut it off from the equations (registry, integrators)."""
    cls = forecaster_class(load_target(init["target"]))
    for name in getattr(cls, "requires", ()) or ():  # heavy imports (torch: ~2 CPU-s) once per
        try:                                          # host, not once per forked task
            importlib.import_module(name)
        except ImportError:
            pass  # constructing the forecaster then raises MissingRequirementError
    if not declares_system_name(cls):
        guard.tighten(init["block_unless_system_name"], init["protect_unless_system_name"])
    elif os.environ.get("DYSTS_BENCH_SANDBOX_SCRATCH"):
        seed_caches(os.environ["DYSTS_BENCH_SANDBOX_SCRATCH"])  # compiled equations, without recompiling
    return cls


def _origin(cls) -> str:
    """Where the class comes from: ``builtin`` for this package's forecasters, else its
    module and file (part of the run id, so a foreign class cannot pass as a built-in)."""
    import inspect
    code = getattr(cls, "func", None) if callable(getattr(cls, "func", None)) else cls  # from_callable wrappers
    try:
        file = inspect.getsourcefile(code) or inspect.getfile(code)
    except (TypeError, OSError):
        file = None
    from ..forecaster import builtin_dirs
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    trusted = [here, *map(str, builtin_dirs())]
    if file and any(os.path.abspath(file).startswith(d + os.sep) for d in trusted):
        return "builtin"
    return f"{code.__module__}:{code.__qualname__}@{os.path.abspath(file) if file else '?'}"


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
        data = _limited_reply(cls, job, memory)
    except BaseException as exc:  # noqa: BLE001
        data = _failure_reply(exc)
    finally:
        _send_and_exit(result_w, data)


def _limited_reply(cls, job, memory):
    """Run one job under the memory limit; the packed reply (metadata + forecast)."""
    limit = _limit_memory(memory)
    meta, arrays = _execute(cls, job)
    meta["memory_limit_bytes"] = limit
    return pack(meta, arrays)


def _failure_reply(exc):
    """The packed reply for an exception that escaped the task (None if even packing fails)."""
    try:
        return pack({"status": "memory" if isinstance(exc, MemoryError) else "error",
                     "error": _tb(exc)})
    except BaseException:  # noqa: BLE001
        return None


def _send_and_exit(result_w, data):
    """Send the reply (if any) and leave the task process without running cleanup."""
    try:
        if data is not None:
            _send_frame(result_w, data)
    finally:
        os._exit(0)


_CHILD_BOOT = ("import sys; from dysts_bench.runner.worker import _spawned_child_main; "
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
            data = _limited_reply(cls, job, memory or None)
    except BaseException as exc:  # noqa: BLE001
        data = _failure_reply(exc)
    finally:
        _send_and_exit(result_w, data)


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


def _pretrain(init, cls):
    """Zero-shot track: pretrain one instance on the corpus, once, in the worker host
    (under its guard); returns ``(factory, facts)``. The factory stands in for the class
    in :func:`_execute`: it hands every task process (a fork of the host) its private
    copy of the pretrained instance. Without a corpus, or a class without ``pretrain``,
    the class itself."""
    if not init.get("corpus") or not pretrains(cls):
        return cls, {"pretrained": False}
    from ..corpus import Corpus
    t0 = time.perf_counter()
    model = cls(**init["params"])
    model.pretrain(Corpus(init["corpus"]))
    given = jsonable(init["params"])

    def pretrained(**job_params):
        if jsonable(job_params) != given:
            raise ValueError(f"a pretrained model runs with the parameters it was pretrained with "
                             f"({given}), not {jsonable(job_params)}")
        return model
    return pretrained, {"pretrained": True, "pretrain_seconds": time.perf_counter() - t0}


class _HostState:
    def __init__(self, init, cls, guard, sandbox):
        self.init, self.cls, self.guard, self.sandbox = init, cls, guard, sandbox
        self.buffer = bytearray(0)
        self.counter = 0
        self.garbage = []
        self.baseline = 0  # private memory of the host, which a forked task starts with

    def cleanup(self):
        while self.garbage:
            shutil.rmtree(self.garbage.pop(), ignore_errors=True)


class _TreeWatch:
    """Memory and process count of the task tree (every descendant of this host), polled
    while the task runs: ``RLIMIT_AS`` is per process, so memory split over several
    subprocesses is caught here (private resident memory beyond the host's own, which a
    forked task shares)."""

    def __init__(self, memory, baseline):
        self.limit = None if not memory else int(memory) + int(baseline)
        self.baseline = int(baseline)
        self.peak = 0
        self.processes = 0

    def poll(self):
        pids = tree_pids(os.getpid())
        self.processes = max(self.processes, len(pids))
        used = tree_memory(pids)
        self.peak = max(self.peak, used)
        if self.limit is not None and used > self.limit:
            raise MemoryError
        if len(pids) > MAX_PROCESSES:
            raise OSError(f"the task started more than {MAX_PROCESSES} processes")


def _recv_watched(fd, deadline, max_size, watch, period=0.05):
    """:func:`_recv_frame` that polls the task tree every ``period`` s while waiting."""
    import select
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        ready, _, _ = select.select([fd], [], [], min(period, remaining))
        if ready:
            return _recv_frame(fd, deadline=deadline, max_size=max_size)
        watch.poll()
        period = min(2 * period, 0.2)


def _run_task(state: _HostState, header: dict, job_view, job_fds) -> bytes:
    """Run one job in a fresh task process; return the packed reply for the parent."""
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
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    pid, proc, writer = _start_task(state, job_view, job_fds, task_dir, log_path, memory,
                                    result_r, result_w, notice_r, notice_w)
    os.close(result_w)
    os.close(notice_w)
    watch = _TreeWatch(memory, state.baseline)
    meta, arrays, outcome, wstatus, usage = _await_task(pid, result_r, t0 + timeout, max_reply, watch,
                                                        timeout, memory)
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
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    host = {"task_seconds": elapsed,
            "peak_rss_bytes": max(usage.ru_maxrss * 1024, watch.peak),
            "cpu_seconds": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "tree_peak_private_bytes": watch.peak, "tree_processes": watch.processes}
    meta = _outcome_meta(meta or {}, outcome, notice, wstatus, usage, memory, log_tail)
    if log_tail and meta.get("status") not in ("ok",):
        meta["output_tail"] = log_tail
    meta["host"] = host
    return pack(meta, arrays)


def _start_task(state: _HostState, job_view, job_fds, task_dir, log_path, memory,
                result_r, result_w, notice_r, notice_w):
    """Start the task process: a fork of this host, or (``isolation="spawn"``) a fresh
    interpreter fed the job through a pipe. Returns ``(pid, Popen or None, feeding thread or None)``."""
    init = state.init
    if init["isolation"] != "spawn":
        pid = os.fork()
        if pid == 0:  # the task process
            _child_main(state.cls, job_view, result_w, notice_w,
                        [result_r, notice_r, *job_fds], task_dir, memory, state.guard)
        try:
            os.setpgid(pid, pid)
        except OSError:
            pass
        return pid, None, None
    job_r, job_w = os.pipe()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", _CHILD_BOOT, str(job_r), str(result_w), str(notice_w),
                                 str(memory or 0)], pass_fds=(job_r, result_w, notice_w), cwd=task_dir,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                process_group=0)
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
    return proc.pid, proc, writer


def _await_task(pid, result_r, deadline, max_reply, watch, timeout, memory):
    """Wait for the task's reply (watching its tree), then kill and reap it.
    Returns ``(meta or None, arrays, outcome or None, wait status, rusage)``; ``outcome`` is
    ``(status, message)`` when no reply came."""
    meta, arrays, outcome = None, {}, None
    try:
        reply = _recv_watched(result_r, deadline, max_reply, watch)
        meta, arrays = unpack(reply)
    except TimeoutError:
        outcome = ("timeout", f"killed after exceeding the time limit of {timeout:g} s")
    except MemoryError:
        outcome = ("memory", f"killed: the task's processes together used {watch.peak / 2**20:.0f} MB, "
                             f"over the limit of {memory / 2**20:.0f} MB")
    except (EOFError, ValueError, OSError, json.JSONDecodeError) as exc:
        outcome = ("crashed", f"{type(exc).__name__}: {exc}")
    finally:
        for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
            try:
                target()
            except OSError:
                pass
        _, wstatus, usage = os.wait4(pid, 0)
        kill_tree(os.getpid())  # detached grandchildren too: the host is their subreaper
        os.close(result_r)
    return meta, arrays, outcome, wstatus, usage


def _outcome_meta(meta, outcome, notice, wstatus, usage, memory, log_tail) -> dict:
    """The reply's status: a leak notice wins, then the host's timeout or memory kill, then
    a death without a reply (``memory`` when it looks like one, else ``crashed``)."""
    if notice:
        return {"status": "leak", "error": f"blocked and killed: {notice}"}
    if outcome is not None and outcome[0] in ("timeout", "memory"):
        return {"status": outcome[0], "error": outcome[1]}
    if outcome is not None:
        if os.WIFSIGNALED(wstatus):
            how = f"killed by {_signal_name(os.WTERMSIG(wstatus))}"
        else:
            how = f"exited with code {os.waitstatus_to_exitcode(wstatus)}"
        text = f"task process died without a result ({how}; {outcome[1]})"
        limit = memory and usage.ru_maxrss * 1024 >= 0.9 * memory
        oom = any(s in log_tail for s in ("MemoryError", "bad_alloc", "Cannot allocate memory",
                                          "out of memory"))
        return {"status": "memory" if (limit or oom) else "crashed", "error": text}
    return meta


_HOST_BOOT = ("import sys; from dysts_bench.runner.worker import _host_main; "
              "_host_main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))")


def _host_main(rfd, wfd, parent_pid):
    """Worker host: load the forecaster once, then run each job in a task process."""
    _bind_to_parent(parent_pid)
    init = pickle.loads(_recv_frame(rfd))
    harden_host(init.get("sandbox") == "bwrap")
    sandbox = tempfile.mkdtemp(prefix="dysts-bench-worker-")
    try:
        os.chdir(sandbox)
        _merge_sys_path(init["sys_path"])
        guard = Guard(init["block"], init["protect"]).install()
        t0 = time.perf_counter()
        try:
            cls = _load_guarded(init, guard)
            forecaster = describe(cls(**init["params"]))
            forecaster["uses_system_name"] = declares_system_name(cls)
            forecaster["origin"] = _origin(cls)
            cls, pretraining = _pretrain(init, cls)
        except BaseException as exc:  # noqa: BLE001
            _send_frame(wfd, pack({"ok": False, "error": _tb(exc)}))
            return
        _send_frame(wfd, pack({"ok": True, "forecaster": forecaster, "load_seconds": time.perf_counter() - t0,
                               "versions": _versions(), "hardware": _hardware(), "pid": os.getpid(),
                               **pretraining}))
        state = _HostState(init, cls, guard, sandbox)
        state.baseline = private_memory()
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
                from .. import metrics  # noqa: F401 - Forecaster.tune scores with it: import once, not per task
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

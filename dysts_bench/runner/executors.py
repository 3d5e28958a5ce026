"""The parent side of the workers: handles of worker host processes, and the executors
that feed them jobs (:class:`LocalExecutor`: threads driving local hosts;
:class:`DaskExecutor`: the same hosts inside Dask workers)."""

from __future__ import annotations

import os
import pickle
import queue
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from ..forecaster import ForecasterSpecError
from ..pool import DaskPool
from .sandbox import host_command, new_scratch, proc_stat, tree_memory, tree_pids
from .wire import _recv_frame, _send_frame, _write_all, pack, unpack
from .worker import _HOST_BOOT, _LOG_CHARS, _tb


class _HostDied(RuntimeError):
    pass


def _find_host_pid(launcher_pid) -> int:
    """The worker host's pid as this process sees it: the launcher itself, or inside
    bubblewrap the descendant that runs the host boot code."""
    for pid in [launcher_pid, *tree_pids(launcher_pid)]:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                argv = fh.read().split(b"\0")
        except OSError:
            continue
        if not os.path.basename(argv[0]).startswith(b"bwrap") and any(b"_host_main" in a for a in argv):
            return pid
    return launcher_pid


def tree_cpu_seconds(pid) -> float | None:
    """User + system CPU seconds of ``pid`` and of the children it has reaped (kernel
    counters: a task cannot forge them)."""
    fields = proc_stat(pid)
    if fields is None:
        return None
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


class _Host:
    """Parent-side handle of one worker host process."""

    def __init__(self, init: dict, startup_timeout: float = 300.0):
        self.init = init
        startup_timeout = float(init.get("startup_timeout") or startup_timeout)  # pretraining takes longer
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        self.log = tempfile.TemporaryFile()
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
            if init.get("threads"):
                env[var] = str(init["threads"])
            else:
                env.setdefault(var, "1")
        self.scratch = None
        sandboxed = init.get("sandbox") == "bwrap"
        argv = [sys.executable, "-c", _HOST_BOOT, str(r1), str(w2), "0" if sandboxed else str(os.getpid()),
                init.get("tag", "")]
        if sandboxed:  # the security boundary: see sandbox.py
            self.scratch = new_scratch()
            argv = host_command(argv, init.get("hide", ()), self.scratch)
        self.proc = subprocess.Popen(argv, pass_fds=(r1, w2), stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True, env=env,
                                     cwd=self.scratch or tempfile.gettempdir())
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
        self.host_pid = _find_host_pid(self.proc.pid)

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

    def execute(self, header: dict, payload: bytes, wait: float) -> tuple[bytes, dict]:
        """The host's reply, and what this (parent) process measured meanwhile from the
        kernel: CPU seconds of the host and the task trees it reaped, and the peak private
        memory of the task tree, sampled while the task runs longer than 0.1 s."""
        try:
            cpu0 = tree_cpu_seconds(self.host_pid)
            _send_frame(self.w, pickle.dumps({**header, "nbytes": len(payload)}))
            _write_all(self.w, payload)
            deadline, period, peak = time.monotonic() + wait, 0.1, 0
            while not select.select([self.r], [], [], max(0.0, min(period, deadline - time.monotonic())))[0]:
                if time.monotonic() >= deadline:
                    raise TimeoutError
                peak = max(peak, tree_memory(tree_pids(self.host_pid)))
                period = min(2 * period, 0.5)
            reply = _recv_frame(self.r, deadline=deadline)
            cpu1 = tree_cpu_seconds(self.host_pid)
            return reply, {"cpu": None if cpu0 is None or cpu1 is None else cpu1 - cpu0, "peak_memory": peak}
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
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None


@dataclass
class _Job:
    key: tuple
    header: dict
    payload: bytes
    task: object = None
    wall: float | None = None  # seconds, measured by the parent
    cpu: float | None = None  # CPU seconds of the host and its task tree, read by the parent
    peak_memory: int = 0  # peak private bytes of the task tree, sampled by the parent


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
            reply, measured = host.execute(job.header, job.payload, _wait_for(init, job.header))
            job.cpu, job.peak_memory = measured["cpu"], measured["peak_memory"]
            return reply
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
    """Jobs as Dask tasks (:class:`~dysts_bench.pool.DaskPool`, the executor interface the
    dataset generator shares); each Dask worker runs them through its own worker hosts."""

    def __init__(self, init: dict, scheduler, workers: int = 1):
        self.init = init
        self.pool = DaskPool(scheduler, workers)

    def describe(self) -> dict:
        meta, _ = unpack(self.pool.submit(_dask_describe, self.init).result())
        if not meta.get("ok"):
            raise ForecasterSpecError(f"cannot load forecaster on the Dask worker: {meta.get('error')}")
        return meta

    def map(self, jobs):
        # only the header and payload travel: the job's task (with its future) stays here
        calls = ((job, (self.init, job.header, job.payload)) for job in jobs)
        for job, reply in self.pool.imap_unordered(_dask_job, calls, return_exceptions=True):
            if isinstance(reply, Exception):  # a lost Dask worker
                reply = pack({"status": "crashed", "error": f"Dask task failed: {type(reply).__name__}: {reply}"})
            yield job, reply

    def close(self, kill=False):
        try:
            self.pool.run_on_workers(_dask_close, self.init["tag"])
        except Exception:  # noqa: BLE001
            pass
        self.pool.close()

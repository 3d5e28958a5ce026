"""Hostile forecasters: each route of issue 16 to the future or to damage, tried for real.

``Hostile`` reads its route from the task (``ROUTES[int(context[0, 0])]``), so one run
(one worker start-up) tries them all. A route that obtains something it must not raises
``RuntimeError("GOT ...")`` (the task is then recorded ``error`` with that message); a
route that is stopped falls back to persistence. Routes that write (results, project
source, compile cache) are checked by the test on the real file system afterwards.
"""

import os
import signal
import subprocess
import sys
import time

import numpy as np

from dysts_bench.forecaster import Forecaster

ROUTES = ["honest", "guard_off", "parquet_in_c", "dir_fd", "subprocess_cwd", "git_show", "runner_mem",
          "host_fd", "perf_counter", "write_results", "modify_source", "plant_cache", "setsid_grandchild",
          "memory_split", "kill_runner", "network", "honest_after"]


def _files_under(root):
    out = []
    for base, _, files in os.walk(root):
        out += [os.path.join(base, f) for f in files]
    return out


def _disarm_guard():
    """Switch the in-process guard off (issue 16: four attributes of sys.meta_path[0].guard)."""
    for finder in list(sys.meta_path):
        guard = getattr(finder, "guard", None)
        if guard is not None:
            guard.modules, guard.exact, guard.prefixes, guard.kill = (), [], [], False
            guard.notice_fd = None


class Hostile(Forecaster):
    name = "hostile"
    version = "1"

    def __init__(self, data_dir="", results_dir="", project_root="", cache_dir="", runner_pid=0, marker="",
                 canary="", port=0):
        self.data_dir, self.results_dir, self.project_root = data_dir, results_dir, project_root
        self.cache_dir, self.runner_pid, self.marker, self.canary = cache_dir, runner_pid, marker, canary
        self.port = port

    def _fit(self, context, *, dt, info):
        self.last = context[-1]
        route = ROUTES[int(round(context[0, 0]))]
        if not route.startswith("honest"):
            _disarm_guard()  # the in-process guard is no boundary: every route starts without it
        getattr(self, "_" + route, lambda: None)()
        return self

    def _predict(self, horizon):
        return np.repeat(self.last[None], horizon, axis=0)

    # -- routes to the future ----------------------------------------------------------

    def _guard_off(self):
        """With the guard switched off, load the dataset the normal way."""
        from dysts_bench.dataset import iter_tasks
        task = next(iter(iter_tasks(systems=["Lorenz"])))
        raise RuntimeError(f"GOT the future of Lorenz: {task.future[:1]}")

    def _parquet_in_c(self):
        import pyarrow.parquet as pq
        for path in _files_under(self.data_dir):
            if path.endswith(".parquet"):
                raise RuntimeError(f"GOT {pq.read_table(path).num_rows} rows of {path}")

    def _dir_fd(self):
        """Open the (unprotected) parent, then the data directory relative to it: the
        audit hook sees only the relative name."""
        parent = os.open(os.path.dirname(self.data_dir), os.O_RDONLY)
        names = os.listdir(os.open(os.path.basename(self.data_dir), os.O_RDONLY, dir_fd=parent))
        if names:
            raise RuntimeError(f"GOT a listing of the data directory: {names[:3]}")

    def _subprocess_cwd(self):
        out = subprocess.run(["sh", "-c", "ls -A; head -c 100 _manifest.json"],
                             cwd=self.data_dir, capture_output=True).stdout
        if out.strip():
            raise RuntimeError(f"GOT {out[:100]!r}")

    def _git_show(self):
        out = subprocess.run(["git", "show", "HEAD:pyproject.toml"], cwd=self.project_root,
                             capture_output=True).stdout
        if out.strip():
            raise RuntimeError(f"GOT from git: {out[:60]!r}")

    def _runner_mem(self):
        pid = int(self.runner_pid)
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmd = fh.read()
            with open(f"/proc/{pid}/maps") as fh:
                start = int(fh.readline().split("-")[0], 16)
            with open(f"/proc/{pid}/mem", "rb") as fh:
                fh.seek(start)
                raise RuntimeError(f"GOT the runner's memory ({cmd[:40]!r}): {fh.read(16)!r}")
        except (OSError, ValueError):
            pass

    def _host_fd(self):
        """Forge the host's reply to the runner through /proc/<host>/fd."""
        host = os.getppid()
        try:
            names = os.listdir(f"/proc/{host}/fd")
        except OSError:
            return
        for name in names:
            try:
                fd = os.open(f"/proc/{host}/fd/{name}", os.O_WRONLY)
            except OSError:
                continue
            os.close(fd)
            raise RuntimeError(f"GOT a writable descriptor of the host: fd {name}")

    def _perf_counter(self):
        time.perf_counter = lambda: -1e4  # fit_seconds would be hugely negative

    # -- damage -----------------------------------------------------------------------

    def _write_results(self):
        for path in _files_under(self.results_dir):
            try:
                with open(path, "w") as fh:
                    fh.write("forged\n")
            except OSError:
                pass
        try:
            with open(os.path.join(self.results_dir, "planted.jsonl"), "w") as fh:
                fh.write("{}\n")
        except OSError:
            pass

    def _modify_source(self):
        for path in (self.canary, os.path.join(self.project_root, "dysts_bench", "runner", "records.py")):
            try:
                with open(path, "a") as fh:  # appending nothing: harmless even where it works
                    fh.write("")
                if path == self.canary:
                    with open(path, "w") as fh:
                        fh.write("modified")
            except OSError:
                pass

    def _plant_cache(self):
        try:
            os.makedirs(self.cache_dir, exist_ok=True)
            with open(os.path.join(self.cache_dir, "planted.py"), "w") as fh:
                fh.write("raise SystemExit('planted code ran')\n")
        except OSError:
            pass

    def _setsid_grandchild(self):
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", self.marker],
                         start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _memory_split(self):
        """Four subprocesses of ~100 MB each: under a per-process limit, over the task's."""
        code = "b = bytearray(b'x') * (100 << 20); import time; time.sleep(60)"
        procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(4)]
        for p in procs:
            p.wait()

    def _network(self):
        """Reach a server the test listens with on the machine's loopback."""
        import socket
        try:
            with socket.create_connection(("127.0.0.1", int(self.port)), timeout=5) as conn:
                raise RuntimeError(f"GOT a connection to the runner's machine: {conn.getpeername()}")
        except OSError:
            pass

    def _kill_runner(self):
        try:
            os.kill(int(self.runner_pid), signal.SIGKILL)
        except OSError:
            pass


class ForeignNaive(Forecaster):
    """Not the built-in: same name and version as ``naive``, different code."""

    name = "naive"
    version = "1"

    def _fit(self, context, *, dt, info):
        self.last = context[-1]
        return self

    def _predict(self, horizon):
        return np.repeat(self.last[None] + 1.0, horizon, axis=0)


class InstanceDenies(Forecaster):
    """Declares ``uses_system_name`` on the class and denies it on the instance."""

    name = "instance_denies"
    uses_system_name = True

    def __init__(self):
        self.uses_system_name = False

    def _fit(self, context, *, dt, info):
        self.last = context[-1]
        return self

    def _predict(self, horizon):
        return np.repeat(self.last[None], horizon, axis=0)


class PhysicsOracle(Forecaster):
    """The oracle of issue 16: switch the guard off, identify the system from
    ``dt * pts_per_period`` (= the registry period), integrate the published equations
    from the last context point. Without a match, persistence."""

    name = "physics_oracle"

    def _fit(self, context, *, dt, info):
        _disarm_guard()
        from dysts_bench.registry import get_system, list_systems
        from dysts_bench.trajectory import sampling_interval
        self.last, self.dt, self.ppp = context[-1], dt, info["pts_per_period"]
        self.system = None
        for name in list_systems():
            try:
                spec = get_system(name)
                if spec.dim == context.shape[1] and abs(sampling_interval(spec, self.ppp) - dt) <= 1e-9 * dt:
                    self.system = name
                    break
            except Exception:  # noqa: BLE001
                continue
        return self

    def _predict(self, horizon):
        if self.system is None:
            return np.repeat(self.last[None], horizon, axis=0)
        from dysts_bench.trajectory import make_trajectory
        _, y = make_trajectory(self.system, horizon + 1, ic=self.last, pts_per_period=self.ppp)
        return y[1:]

"""What a user waits for before the first number: the first trajectory in a new install
(cold compile cache) against a compiled one, and the fresh draws of ``run --fresh``.

Cold means empty ``DYSTS_BENCH_CACHE_DIR`` and ``NUMBA_CACHE_DIR`` (a new install); warm is
the same command again with those caches filled. Each command runs in its own process,
cold and warm alternating, so both see the same machine load. CPU seconds (user + system
of the child) are shown next to wall seconds: on a shared machine they move less.
Compiles are counted with numba's ``numba:compile`` events (top-level ones, i.e. not the
callees compiled inside them), which no load changes.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from .harness import Section, fmt

#: Runs ``dysts-bench trajectory Lorenz`` in-process and reports the numba compiles it
#: started (top level only) and how many happened while importing.
_FIRST_TRAJECTORY = """
import json, sys, time
from numba.core import event
depth, top = [0], []
class Count(event.Listener):
    def on_start(self, ev):
        if depth[0] == 0:
            top.append(ev.data["dispatcher"].py_func.__qualname__)
        depth[0] += 1
    def on_end(self, ev):
        depth[0] -= 1
event.register("numba:compile", Count())
import dysts_bench.cli, dysts_bench.trajectory
at_import = len(top)
dysts_bench.cli.main(["trajectory", "Lorenz"])
print(json.dumps({"at_import": at_import, "compiles": top}), file=sys.stderr)
"""


def _child(code, env, args=()):
    """(wall s, cpu s, stderr) of ``python -c code`` in a new process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *args], env={**os.environ, **env},
                         capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.stderr


def _first_trajectory(repeats):
    cold, warm, counts = {"wall": [], "cpu": []}, {"wall": [], "cpu": []}, {}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            env = {"DYSTS_BENCH_CACHE_DIR": f"{tmp}/db", "NUMBA_CACHE_DIR": f"{tmp}/nb"}
            for kind, into in (("cold", cold), ("warm", warm)):
                wall, cpu, err = _child(_FIRST_TRAJECTORY, env)
                into["wall"].append(wall)
                into["cpu"].append(cpu)
                counts[kind] = json.loads(err.strip().splitlines()[-1])
                if kind == "cold":
                    counts["notice"] = [line for line in err.splitlines()
                                        if line.startswith("dysts-bench: compiling")]
    med = {k: statistics.median(v) for k, v in (("cold wall", cold["wall"]),
                                                 ("warm wall", warm["wall"]),
                                                 ("cold cpu", cold["cpu"]),
                                                 ("warm cpu", warm["cpu"]))}
    rows = [
        ["cold (new install)", fmt(med["cold wall"]), fmt(med["cold cpu"]),
         len(counts["cold"]["compiles"]), counts["cold"]["at_import"]],
        ["warm (compiled)", fmt(med["warm wall"]), fmt(med["warm cpu"]),
         len(counts["warm"]["compiles"]), counts["warm"]["at_import"]],
        ["cold / warm", f"{med['cold wall'] / med['warm wall']:.1f}x",
         f"{med['cold cpu'] / med['warm cpu']:.1f}x", "", ""],
    ]
    notes = ("`dysts-bench trajectory Lorenz` (1000 samples) in a new process; medians of "
             f"{repeats} cold/warm pairs. Goal (issue 19): cold at most 3x warm. Top-level "
             f"compiles of the cold run: {', '.join(counts['cold']['compiles'])}. Notice "
             f"printed: {' / '.join(counts['notice']) or 'none'}.")
    return Section("First trajectory: new install against compiled",
                   ["run", "wall", "CPU", "numba compiles", "of them at import"], rows, notes)


_FRESH = """
import json, sys, time
from dysts_bench.dataset import iter_tasks
from dysts_bench.dataset import load
names = json.loads(sys.argv[1]) or None
threads = int(sys.argv[2])
if threads:
    load._fresh_threads = lambda n: min(n, threads)
list(iter_tasks(systems=["Lorenz"], fresh_seed=7))  # shared loops loaded: not measured
t0 = time.perf_counter()
n = sum(1 for _ in iter_tasks(systems=names, fresh_seed=7))
print(json.dumps({"seconds": time.perf_counter() - t0, "tasks": n}), file=sys.stderr)
"""


def _fresh_draws(quick):
    from dysts_bench.dataset.load import available_systems
    names = sorted(available_systems(None, "none"))
    chosen = names[:: max(1, len(names) // 6)] if quick else []
    n_systems = len(chosen) if quick else len(names)
    rows, seconds = [], {}
    for threads in (1, 0):
        label = "1 thread" if threads == 1 else f"a thread per core ({os.cpu_count()})"
        wall, cpu, err = _child(_FRESH, {}, (json.dumps(chosen), str(threads)))
        res = json.loads(err.strip().splitlines()[-1])
        seconds[threads] = res["seconds"]
        rows.append([label, res["tasks"], fmt(res["seconds"]), fmt(cpu)])
    rows.append(["speed-up", "", f"{seconds[1] / seconds[0]:.2f}x", ""])
    notes = (f"`iter_tasks(fresh_seed=7)` over {n_systems} systems (the canonical "
             "evaluation when all), what `dysts-bench run NAME --fresh 7` waits for before "
             "the first forecast; compiled code warm. CPU is the whole child process "
             "(import included). Goal (issue 19): under 5 s.")
    return Section("Fresh draws (`run --fresh`)",
                   ["integrated on", "tasks", "wall", "CPU (process)"], rows, notes)


def run(quick=True):
    return [_first_trajectory(1 if quick else 3), _fresh_draws(quick)]

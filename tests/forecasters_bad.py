"""Deliberately misbehaving forecasters for the runner tests.

``Misbehave`` reads its behaviour from the task: ``mode = int(context[0, 0])``
(see ``MODES``), so that one run (one worker start-up) exercises every failure.
"""

import json
import os
import sys
import time

import numpy as np

from dysts_bench.forecaster import Forecaster

MODES = ["ok", "raise", "hang", "alloc", "nan", "shape", "import_dataset", "read_file", "crash",
         "segfault", "registry", "probe", "grandchild"]

_SEEN = []  # module state: must never carry anything from one task to the next


class Misbehave(Forecaster):
    name = "misbehave"
    version = "1"

    def __init__(self, path="", pidfile=""):
        self.path = path
        self.pidfile = pidfile

    def _fit(self, context, *, dt, info):
        self.mode = MODES[int(round(context[0, 0]))]
        self.last = context[-1]
        self.info = dict(info)
        _SEEN.append(self.mode)
        mode = self.mode
        if mode == "raise":
            raise ValueError("deliberate failure in fit")
        if mode == "hang":
            while True:
                time.sleep(0.1)
        if mode == "alloc":
            hoard = []
            while True:
                hoard.append(np.ones(50_000_000 // 8))  # 50 MB at a time, touched
        if mode == "import_dataset":
            import dysts_bench.dataset  # the import itself is allowed (one-file scripts, notebooks)
            try:  # reading the data is not; a cheater would swallow the error and go on
                dysts_bench.dataset.load_dataset("test")
            except BaseException:
                pass
        if mode == "read_file":
            try:
                np.load(self.path)
            except BaseException:
                pass
        if mode == "registry":
            import dysts_bench
            try:
                dysts_bench.make_trajectory("Lorenz", 10)
            except BaseException:
                pass
        if mode == "crash":
            os._exit(3)
        if mode == "segfault":
            import ctypes
            ctypes.string_at(0)
        if mode == "probe":
            raise RuntimeError("PROBE" + json.dumps({
                "info_keys": sorted(info), "seen": list(_SEEN), "cwd_files": sorted(os.listdir(".")),
                "dataset_loaded": any(m.startswith("dysts_bench.dataset") for m in sys.modules),
                "argv": sys.argv}))
        if mode == "grandchild":
            import subprocess
            # the pidfile path marks the grandchild's command line (its pid differs in a sandbox)
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", self.pidfile])
            while True:
                time.sleep(0.1)
        return self

    def _predict(self, horizon):
        if self.mode == "nan":
            out = np.repeat(self.last[None], horizon, axis=0)
            out[horizon // 2:] = np.nan
            return out
        if self.mode == "shape":
            return np.zeros((horizon + 1, len(self.last)))
        return np.repeat(self.last[None], horizon, axis=0)


class SlowNaive(Forecaster):
    """Persistence, after sleeping ``delay`` seconds (for kill/resume tests)."""

    name = "slow_naive"

    def __init__(self, delay=0.3):
        self.delay = delay

    def _fit(self, context, *, dt, info):
        time.sleep(self.delay)
        self.last = context[-1]
        return self

    def _predict(self, horizon):
        return np.repeat(self.last[None], horizon, axis=0)


class LookupCheater(Forecaster):
    """Reads a file of (context, future) pairs it should not have, returns the matching
    future (or persistence when its context is not in the file)."""

    name = "lookup_cheater"

    def __init__(self, path=""):
        self.path = path

    def _fit(self, context, *, dt, info):
        import pyarrow.parquet as pq
        self.last = context[-1]
        self.found = None
        table = pq.read_table(self.path).to_pydict()
        for ctx, fut, dim in zip(table["context"], table["future"], table["dim"]):
            ctx = np.asarray(ctx).reshape(-1, dim)
            if ctx.shape == context.shape and np.array_equal(ctx.astype(np.float32), context.astype(np.float32)):
                self.found = np.asarray(fut, dtype=np.float64).reshape(-1, dim)
        return self

    def _predict(self, horizon):
        if self.found is not None and len(self.found) == horizon:
            return self.found
        return np.repeat(self.last[None], horizon, axis=0)


class SystemNameUser(Forecaster):
    """Declares ``uses_system_name``: may read info["system"] and integrate the equations."""

    name = "system_name_user"
    uses_system_name = True

    def __init__(self):
        pass

    def _fit(self, context, *, dt, info):
        import dysts_bench
        self.system = info["system"]
        _, y = dysts_bench.make_trajectory(self.system, 5, ic=context[-1], pts_per_period=100)
        self.step = y[1] - y[0]
        self.last = context[-1]
        return self

    def _predict(self, horizon):
        return self.last + self.step * np.arange(1, horizon + 1)[:, None]

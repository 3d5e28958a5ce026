"""The dataset: load time of the shipped canonical split, file sizes vs raw float64, and
generation throughput with 1 vs 2 local workers and on a Dask LocalCluster."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from dysts_bench.dataset import (CANONICAL, default_root, generate, iter_tasks, load_dataset,
                                 manifest)
from dysts_bench.dataset.store import MANIFEST

from .harness import Section, fmt, summary, timeit

# Quick mode: ordinary 3-dimensional systems, none slow (throughput of the machinery).
_GEN_SYSTEMS = ["Lorenz", "Rossler", "Thomas", "Chua", "Halvorsen", "Aizawa", "SprottA",
                "Chen", "Sakarya", "Dadras", "Arneodo", "Finance", "ShimizuMorioka",
                "NoseHoover", "RabinovichFabrikant", "HyperRossler"]


def _load_section(quick):
    root = default_root()
    if not (root / MANIFEST).is_file():
        return Section("Dataset: loading the shipped canonical split", ["what", "time"],
                       notes=f"No shipped dataset at {root}; nothing measured.")
    repeats = 3 if quick else 7
    n_sys = len(load_dataset("test"))
    rows = [
        [f"load_dataset('test') -> numpy, {n_sys} systems", summary(timeit(lambda: load_dataset("test"), repeats))],
        ["load_dataset('test', as_='pandas')", summary(timeit(lambda: load_dataset("test", as_="pandas"), repeats))],
        ["load_dataset('test', noise='measurement') (derived at load)",
         summary(timeit(lambda: load_dataset("test", noise="measurement"), repeats))],
        ["list(iter_tasks()) (all canonical test tasks)", summary(timeit(lambda: list(iter_tasks()), repeats))],
    ]
    import pyarrow.dataset as pads
    rows.append(["pyarrow.dataset(root).to_table() (everything)",
                 summary(timeit(lambda: pads.dataset(root, partitioning="hive").to_table(), repeats))])
    try:
        import duckdb
        q = (f"SELECT system, avg(x0) FROM read_parquet('{root}/split=test/noise=none/**/*.parquet', "
             "hive_partitioning=true) GROUP BY system")
        rows.append(["DuckDB: per-system mean over the test split", summary(timeit(lambda: duckdb.sql(q).fetchall(), repeats))])
    except ImportError:
        pass
    rows += _reference_format_rows(quick)
    return Section("Dataset: loading the shipped canonical split", ["what", "time (median, min–max)"],
                   rows, notes="Warm file cache; first call per process excluded (warm-up). "
                               "The reference package ships no trajectories; its data format "
                               "is gzipped JSON, {system: {'time': [...], 'values': [...]}}, "
                               "read by `dysts.base.BaseDyn.load_trajectory(path, name)`. The "
                               "rows marked *dysts format* hold the same test split (clean, "
                               "every system, 3 initial conditions) in that format.")


def _reference_format_rows(quick):
    """The same canonical test split written in dysts' gzipped-JSON format and read back
    by dysts' own loader (per system: it parses the whole file each call) and by one
    json.load for all systems (that format's best case)."""
    import gzip

    import numpy as np
    try:
        from dysts.base import BaseDyn
    except ImportError:
        return [["dysts format", "dysts not installed"]]
    data = load_dataset("test")
    info = {name: meta for name, meta in manifest()["systems"].items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "test__pts_per_period_100.json.gz"
        payload = {}
        for name, arr in data.items():
            dt = info[name].get("dt", 1.0)
            payload[name] = {"time": (np.arange(arr.shape[1]) * dt).tolist(),
                             "values": arr.astype(np.float64).tolist()}
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            json.dump(payload, fh)
        size = path.stat().st_size
        names = sorted(data)
        one = names[0]

        def all_once():
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                d = json.load(fh)
            return {k: np.array(v["values"]) for k, v in d.items()}

        per_system = timeit(lambda: BaseDyn.load_trajectory(str(path), one), 1 if quick else 3)
        rows = [[f"*dysts format*: BaseDyn.load_trajectory, one system ({size / 1e6:.1f} MB file)",
                 summary(per_system)],
                [f"*dysts format*: its loader for all {len(names)} systems (one call each; extrapolated)",
                 fmt(len(names) * float(np.median(per_system)))],
                ["*dysts format*: one json.load + np.array for all systems (best case)",
                 summary(timeit(all_once, 1 if quick else 3))]]
    ours = timeit(lambda: load_dataset("test", systems=[one]), 3 if quick else 7)
    rows.insert(0, [f"load_dataset('test', systems=['{one}']) (one system)", summary(ours)])
    return rows


def _size_section():
    root = default_root()
    if not (root / MANIFEST).is_file():
        return Section("Dataset: file sizes", ["variant"], notes="No shipped dataset.")
    man = manifest()
    size, raw64, nfiles = defaultdict(int), defaultdict(int), defaultdict(int)
    for rec in man["files"].values():
        key = f"{rec['split']} / {rec['noise']}"
        size[key] += rec["bytes"]
        raw64[key] += rec["rows"] * (rec["dim"] + 1) * 8  # values + time, float64
        nfiles[key] += 1
    rows = []
    for key in sorted(size):
        rows.append([key, nfiles[key], f"{size[key] / 1e6:.2f} MB", f"{raw64[key] / 1e6:.2f} MB",
                     f"{size[key] / raw64[key]:.2f}"])
    total, total_raw = sum(size.values()), sum(raw64.values())
    mfile = (root / MANIFEST).stat().st_size
    n_ok = sum(1 for r in man["systems"].values() if r["status"] == "ok")
    rows.append(["total (+ manifest)", sum(nfiles.values()), f"{(total + mfile) / 1e6:.2f} MB",
                 f"{total_raw / 1e6:.2f} MB", f"{total / total_raw:.2f}"])
    return Section(
        f"Dataset: shipped canonical files ({n_ok} systems)",
        ["split / noise", "files", "Parquet", "raw float64 (t + values)", "ratio"], rows,
        notes="Parquet: float32 values, zstd 19, BYTE_STREAM_SPLIT, one schema (x0..x9) for "
              "all systems. The measurement-noise variant is derived at load time, not stored.")


def _gen_section(quick):
    names = _GEN_SYSTEMS[:4]
    if not quick:  # every system the shipped dataset has (failed integrations excluded)
        try:
            names = sorted(n for n, r in manifest()["systems"].items() if r["status"] == "ok")
        except Exception:  # noqa: BLE001 - no shipped dataset: the fixed list
            names = _GEN_SYSTEMS
    config = CANONICAL.replace(context_length=200, validation_length=100, horizon=300, gap=100) \
        if quick else CANONICAL
    # Warm the compile cache once, so every variant measures generation, not compilation.
    warm = Path(tempfile.mkdtemp(prefix="dsbench-warm-"))
    try:
        generate(warm, config, systems=names, progress=False)
    finally:
        shutil.rmtree(warm, ignore_errors=True)

    def run(**kw):
        root = Path(tempfile.mkdtemp(prefix="dsbench-"))
        try:
            t0 = time.perf_counter()
            generate(root, config, systems=names, progress=False, **kw)
            elapsed = time.perf_counter() - t0
            h = json.loads((root / MANIFEST).read_text())["files"]
            return elapsed, {k: v["sha256"] for k, v in h.items()}
        finally:
            shutil.rmtree(root, ignore_errors=True)

    rows, hashes = [], {}
    variants = [("local, 1 worker (in process)", {"workers": 1}),
                ("local, 2 worker processes (forkserver)", {"workers": 2})]
    for label, kw in variants:
        t, hashes[label] = run(**kw)
        rows.append([label, fmt(t), f"{len(names) / t:.2f}"])
    try:
        from distributed import LocalCluster
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            t, hashes["dask"] = run(scheduler=cluster)
        rows.append(["Dask LocalCluster, 2 worker processes", fmt(t), f"{len(names) / t:.2f}"])
    except ImportError:
        pass
    same = len({json.dumps(h, sort_keys=True) for h in hashes.values()}) == 1
    what = "small config (context 200, horizon 300)" if quick else "canonical config"
    return Section(
        f"Dataset: generation throughput, {len(names)} systems, {what}",
        ["executor", "wall time", "systems / s"], rows,
        notes="Each system: reference orbit, train and test series, dynamical-noise SDE, "
              "4 Parquet files and hashes. Worker start-up (numba import, cache load) is "
              f"included. Identical file hashes across executors: {'yes' if same else 'NO'}.")


def run(quick: bool):
    return [_load_section(quick), _size_section(), _gen_section(quick)]

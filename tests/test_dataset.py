"""The dataset: protocol, Parquet layout, readers, manifest, resumable generation, noise."""

import json
import itertools
import math
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from dysts_bench import make_trajectory
from dysts_bench.compile import compile_system
from dysts_bench.dataset import (CANONICAL, PROTOCOL_VERSION, CanonicalConfig, Task,
                                 default_root, generate, horizon_check, iter_tasks, load_dataset,
                                 load_metadata, load_train, manifest, verify)
from dysts_bench.dataset.store import MANIFEST, relpath
from dysts_bench.registry import UnknownSystemError, get_system
from dysts_bench.solvers import integrate
from dysts_bench.solvers.sde import integrate_sde

# A small configuration keeps the suite fast; the protocol code is the same.
SMALL = CanonicalConfig(context_length=200, validation_length=100, horizon=300, n_test=3,
                        gap=100, compression_level=3)
SYSTEMS = ["Lorenz", "Rossler", "ForcedVanDerPol", "Thomas"]  # ForcedVanDerPol: forced


def hashes(root):
    return {rel: rec["sha256"] for rel, rec in json.loads((Path(root) / MANIFEST).read_text())["files"].items()}


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    root = tmp_path_factory.mktemp("ref")
    summary = generate(root, SMALL, systems=SYSTEMS, progress=False)
    assert sorted(summary["generated"]) == sorted(SYSTEMS)
    return root


# ------------------------------------------------------------------ round trip
def test_round_trip_equals_make_trajectory(ref):
    train = load_dataset("train", systems=["Lorenz"], root=ref)["Lorenz"]
    _, y = make_trajectory("Lorenz", SMALL.train_length)
    assert train.shape == (1, 300, 3) and train.dtype == np.float32
    np.testing.assert_array_equal(train[0], y.astype(np.float32))

    meta = load_metadata("test", ["Lorenz", "ForcedVanDerPol"], root=ref)
    test = load_dataset("test", systems=["Lorenz", "ForcedVanDerPol"], root=ref)
    ics = np.array(meta["Lorenz"]["initial_conditions"])
    _, Y = make_trajectory("Lorenz", SMALL.test_length, ic=ics)
    assert test["Lorenz"].shape == (3, 500, 3)
    np.testing.assert_array_equal(test["Lorenz"], Y.astype(np.float32))

    # A forced system keeps the forcing phase: series k starts at the orbit time t0[k].
    m = meta["ForcedVanDerPol"]
    assert m["nonautonomous"] and all(t0 > 0 for t0 in m["t0"])
    c = compile_system("ForcedVanDerPol")
    from dysts_bench.trajectory import observe
    for k, (ic, t0) in enumerate(zip(m["initial_conditions"], m["t0"])):
        t = t0 + m["dt"] * np.arange(SMALL.test_length)
        y, _ = integrate(c, np.array(ic), t, t0=t0)
        np.testing.assert_array_equal(test["ForcedVanDerPol"][k],
                                      observe(c.system, y, t).astype(np.float32))

    # The test initial conditions lie on the reference orbit, in distinct blocks after the
    # train window: never overlapping it nor each other.
    idx = m["orbit_index"]
    assert idx[0] >= SMALL.pool_start and all(b - a >= SMALL.test_length for a, b in itertools.pairwise(idx))


def test_other_resolution(tmp_path):
    cfg = SMALL.replace(pts_per_period=37.5)
    generate(tmp_path, cfg, systems=["Rossler"], progress=False)
    train = load_dataset("train", "Rossler", root=tmp_path)["Rossler"][0]
    _, y = make_trajectory("Rossler", cfg.train_length, pts_per_period=37.5)
    np.testing.assert_array_equal(train, y.astype(np.float32))
    meta = load_metadata("train", "Rossler", root=tmp_path)["Rossler"]
    assert meta["dt"] == pytest.approx(get_system("Rossler").period / 37.5)


def test_pandas_and_metadata(ref):
    df = load_dataset("test", systems=["Lorenz", "Rossler"], root=ref, as_="pandas")
    arr = load_dataset("test", systems=["Lorenz"], root=ref)["Lorenz"]
    lor = df[df.system == "Lorenz"].sort_values(["series", "time"])
    np.testing.assert_array_equal(lor[["x0", "x1", "x2"]].to_numpy().reshape(arr.shape), arr)
    assert len(df) == 2 * 3 * 500
    meta = load_metadata("test", "Lorenz", root=ref)["Lorenz"]
    assert meta["dt"] == pytest.approx(get_system("Lorenz").period / 100)
    assert meta["pts_per_period"] == 100 and meta["config"] == SMALL.to_dict()
    assert meta["protocol_version"] == PROTOCOL_VERSION and "lyapunov_time_samples" in meta


def test_generic_readers(ref):
    """One schema for all systems: pyarrow.dataset, pandas, DuckDB (and Dask) read the tree."""
    ds = pads.dataset(ref, partitioning="hive")
    table = ds.to_table(filter=(pads.field("system") == "Rossler") & (pads.field("split") == "test")
                        & (pads.field("noise") == "none"))
    assert table.num_rows == 3 * 500
    rossler = load_dataset("test", systems=["Rossler"], root=ref)["Rossler"]
    got = table.sort_by([("series", "ascending"), ("time", "ascending")])
    np.testing.assert_array_equal(got.column("x2").to_numpy(), rossler[..., 2].ravel())
    assert got.column("x3").null_count == got.num_rows  # padding beyond dim 3

    import pandas as pd
    df = pd.read_parquet(ref)
    assert set(df["system"].unique()) == set(SYSTEMS)
    assert {"series", "time", "x0", "split", "noise", "system"} <= set(df.columns)
    assert "t" not in df.columns  # derivable: time_origin + dt * (time_index0 + time)
    # ... and this package's readers add it, bitwise the times the generator integrated at.
    ours = load_dataset("test", systems=["ForcedVanDerPol"], root=ref, as_="pandas")
    meta = load_metadata("test", "ForcedVanDerPol", root=ref)["ForcedVanDerPol"]
    for k, t0 in enumerate(meta["t0"]):
        t = ours[ours.series == k].sort_values("time")["t"].to_numpy()
        np.testing.assert_array_equal(t, t0 + meta["dt"] * np.arange(SMALL.test_length))

    schema = pq.read_schema(ref / relpath("test", "none", "Lorenz"))
    assert json.loads(schema.metadata[b"dt"]) == pytest.approx(get_system("Lorenz").period / 100)
    assert json.loads(schema.metadata[b"dysts_bench"])["system"] == "Lorenz"
    f = pq.ParquetFile(ref / relpath("test", "none", "Lorenz"))
    col = f.metadata.row_group(0).column(f.schema_arrow.get_field_index("x0"))
    assert col.compression == "ZSTD" and "BYTE_STREAM_SPLIT" in col.encodings
    assert not any("DICTIONARY" in e for e in col.encodings)

    duckdb = pytest.importorskip("duckdb")
    rows = duckdb.sql(
        f"SELECT system, count(*) AS n, max(series) AS s FROM read_parquet('{ref}/**/*.parquet', "
        "hive_partitioning=true) WHERE split='test' AND noise='none' GROUP BY system ORDER BY system"
    ).fetchall()
    assert rows == [(name, 1500, 2) for name in sorted(SYSTEMS)]


# ------------------------------------------------------------ reproducibility
def test_same_seed_same_hashes(ref, tmp_path):
    generate(tmp_path / "again", SMALL, systems=SYSTEMS, progress=False)
    assert hashes(tmp_path / "again") == hashes(ref)
    other = SMALL.replace(seed=SMALL.seed + 1)
    generate(tmp_path / "other", other, systems=["Lorenz"], progress=False)
    h_ref, h_other = hashes(ref), hashes(tmp_path / "other")
    # The clean train series does not depend on the seed; the test ICs and noise do.
    assert np.array_equal(load_dataset("train", "Lorenz", root=ref)["Lorenz"],
                          load_dataset("train", "Lorenz", root=tmp_path / "other")["Lorenz"])
    for split, noise in (("test", "none"), ("test", "dynamical"), ("train", "dynamical")):
        rel = relpath(split, noise, "Lorenz")
        assert h_other[rel] != h_ref[rel]


def test_verify_detects_corrupt_truncated_missing(ref, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(ref, root)
    assert verify(root).ok
    flipped = root / relpath("test", "none", "Lorenz")
    data = bytearray(flipped.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 8):
        data[i] ^= 0xFF
    flipped.write_bytes(bytes(data))
    truncated = root / relpath("test", "none", "Rossler")
    truncated.write_bytes(truncated.read_bytes()[:-100])
    (root / relpath("train", "none", "Thomas")).unlink()
    report = verify(root)
    assert not report.ok
    assert relpath("test", "none", "Lorenz") in report.mismatched
    assert relpath("test", "none", "Rossler") in report.mismatched
    assert relpath("test", "none", "Rossler") in [p for p, _ in report.unreadable]
    assert report.missing == [relpath("train", "none", "Thomas")]
    assert relpath("test", "none", "ForcedVanDerPol") not in report.mismatched
    # The CLI exits non-zero on the same findings.
    from dysts_bench.dataset.cli import main
    with pytest.raises(SystemExit) as exc:
        main(["verify", str(root)])
    assert exc.value.code == 1


_KILL_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    import dysts_bench.dataset.generator as g
    from dysts_bench.dataset import CanonicalConfig
    original, done = g.build_system_files, []
    def build(*args):
        if len(done) == 2:
            os.kill(os.getpid(), signal.SIGKILL)  # dies mid-run, manifest half written
        done.append(args[2])
        return original(*args)
    g.build_system_files = build
    g.generate(sys.argv[1], CanonicalConfig.from_dict({config}), systems={systems},
               progress=False)
""")


def test_interrupted_generation_resumes(ref, tmp_path):
    root = tmp_path / "killed"
    script = _KILL_SCRIPT.format(config=SMALL.to_dict(), systems=SYSTEMS)
    proc = subprocess.run([sys.executable, "-c", script, str(root)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == -9, proc.stderr
    done = {n for n, r in manifest(root)["systems"].items() if r["status"] == "ok"}
    assert done == set(SYSTEMS[:2])
    stamps = {rel: ((root / rel).stat().st_ino, (root / rel).stat().st_mtime_ns)
              for rel in hashes(root)}
    summary = generate(root, SMALL, systems=SYSTEMS, progress=False)
    assert sorted(summary["unchanged"]) == sorted(SYSTEMS[:2])
    assert sorted(summary["generated"]) == sorted(SYSTEMS[2:])
    for rel, stamp in stamps.items():  # finished systems were not rewritten
        assert ((root / rel).stat().st_ino, (root / rel).stat().st_mtime_ns) == stamp
    assert hashes(root) == hashes(ref)
    assert verify(root).ok
    # A third run has nothing to do.
    assert generate(root, SMALL, systems=SYSTEMS, progress=False)["generated"] == []


def test_generate_refuses_other_config(ref, tmp_path):
    root = tmp_path / "cfg"
    generate(root, SMALL, systems=["Lorenz"], progress=False)
    with pytest.raises(ValueError, match="another configuration"):
        generate(root, SMALL.replace(horizon=301), systems=["Lorenz"], progress=False)


def test_protocol_version_bump_keeps_untouched_files(ref, tmp_path):
    """A version that changes no generator setting (1.2: which systems are in) keeps the
    files of unchanged systems byte for byte; only the manifest's version moves."""
    import shutil
    root = tmp_path / "bump"
    shutil.copytree(ref, root)
    before = hashes(root)
    old = SMALL.replace(protocol_version="1.1")
    man = manifest(root)
    man.update(protocol_version="1.1", config=old.to_dict(), config_hash=old.fingerprint)
    (root / MANIFEST).write_text(json.dumps(man))
    summary = generate(root, SMALL, systems=SYSTEMS, progress=False)
    assert summary["generated"] == [] and sorted(summary["unchanged"]) == sorted(SYSTEMS)
    assert hashes(root) == before
    assert manifest(root)["protocol_version"] == SMALL.protocol_version == PROTOCOL_VERSION
    assert manifest(root)["config_hash"] == SMALL.fingerprint and verify(root).ok
    with pytest.raises(ValueError, match="another configuration"):  # a real change still refuses
        generate(root, SMALL.replace(horizon=301, protocol_version="1.3"), systems=["Lorenz"],
                 progress=False)


def test_dask_local_cluster_same_files(ref, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        generate(tmp_path / "dask", SMALL, systems=SYSTEMS, scheduler=cluster, progress=False)
    assert hashes(tmp_path / "dask") == hashes(ref)


# ------------------------------------------------------------------------ noise
def test_measurement_noise_scale(ref):
    clean = load_dataset("test", systems=["Lorenz", "Rossler"], root=ref)
    noisy = load_dataset("test", systems=["Lorenz", "Rossler"], root=ref, noise="measurement")
    meta = load_metadata("test", ["Lorenz", "Rossler"], root=ref)
    for name in clean:
        diff = (noisy[name].astype(np.float64) - clean[name]).reshape(-1, 3)
        ratio = diff.std(axis=0) / np.array(meta[name]["attractor_std"])
        np.testing.assert_allclose(ratio, SMALL.measurement_noise, rtol=0.1)
        assert abs(diff.mean(axis=0) / diff.std(axis=0)).max() < 0.15
    again = load_dataset("test", systems=["Lorenz"], root=ref, noise="measurement")["Lorenz"]
    np.testing.assert_array_equal(again, noisy["Lorenz"])  # deterministic at load time


def test_dynamical_noise_scale(ref):
    """One-step residuals of the noisy series against the deterministic flow have the
    documented size sigma * sqrt(dt), sigma = level * std / sqrt(period)."""
    block = load_dataset("test", systems=["Lorenz"], root=ref, noise="dynamical")["Lorenz"]
    meta = load_metadata("test", "Lorenz", root=ref, noise="dynamical")["Lorenz"]
    system = get_system("Lorenz")
    sigma = SMALL.dynamical_noise * np.array(meta["state_std"]) / math.sqrt(system.period)
    np.testing.assert_allclose(meta["sde"]["sigma"], sigma, rtol=1e-12)
    c = compile_system("Lorenz")
    dt = meta["dt"]
    res = []
    for k in range(block.shape[0]):
        for j in range(0, block.shape[1] - 1, 5):
            y0 = block[k, j].astype(np.float64)
            y1, _ = integrate(c, y0, np.array([0.0, dt]), t0=0.0)
            res.append(block[k, j + 1] - y1[1])
    res = np.array(res)
    np.testing.assert_allclose(res.std(axis=0) / (sigma * math.sqrt(dt)), 1.0, atol=0.15)
    assert not np.array_equal(block, load_dataset("test", "Lorenz", root=ref)["Lorenz"])


def test_sde_zero_noise_is_deterministic_solution():
    t, y = make_trajectory("Lorenz", 300)
    c = compile_system("Lorenz")
    z = integrate_sde(c, get_system("Lorenz").initial_condition, t, 0.0)
    np.testing.assert_allclose(z, y, atol=1e-6 * np.abs(y).max())
    a = integrate_sde(c, y[0], t[:50], [0.1, 0.2, 0.3], seed=4)
    np.testing.assert_array_equal(a, integrate_sde(c, y[0], t[:50], [0.1, 0.2, 0.3], seed=4))
    assert not np.array_equal(a, integrate_sde(c, y[0], t[:50], [0.1, 0.2, 0.3], seed=5))


def test_sde_ornstein_uhlenbeck_statistics(make_system):
    theta, s = 2.0, 0.6
    ou = make_system("OU", ["x", "y"], ["-theta*x", "-theta*y"], {"theta": theta})
    c = compile_system(ou)
    t = 0.05 * np.arange(200_001)
    y = integrate_sde(c, [0.0, 0.0], t, [s, 2 * s], substeps=2, seed=11)[200:]
    var = np.array([s**2, 4 * s**2]) / (2 * theta)
    np.testing.assert_allclose(y.var(axis=0), var, rtol=0.04)
    # Lag-1 autocorrelation exp(-theta dt) of the stationary process.
    x = y[:, 0]
    rho = np.corrcoef(x[:-1], x[1:])[0, 1]
    assert rho == pytest.approx(math.exp(-theta * 0.05), abs=0.01)
    # Euler-Maruyama-sized steps would bias the variance by theta*h/2 = 2.5% here; the
    # Strang scheme's bias is (theta h)^2/12 ~ 1e-4 even with one step per sample.
    y1 = integrate_sde(c, [0.0, 0.0], t, [s, 2 * s], substeps=1, seed=12)[200:]
    np.testing.assert_allclose(y1.var(axis=0), var, rtol=0.04)


# ------------------------------------------------------------------- loading API
def test_unknown_system_suggests(ref):
    with pytest.raises(UnknownSystemError, match="Lorenz"):
        load_dataset("test", systems=["Lorenx"], root=ref)
    with pytest.raises(UnknownSystemError, match="Rossler"):
        list(iter_tasks(systems=["Rosler"], root=ref))
    with pytest.raises(UnknownSystemError, match="Lorenz"):
        generate(ref, SMALL, systems=["lorenz"], progress=False)


def test_iter_tasks_and_train(ref):
    tasks = list(iter_tasks(root=ref, systems=["Lorenz", "Rossler"], context_length=150))
    assert [(t.system, t.series) for t in tasks] == [("Lorenz", k) for k in range(3)] + \
        [("Rossler", k) for k in range(3)]
    full = load_dataset("test", systems=["Lorenz"], root=ref)["Lorenz"]
    t = tasks[1]
    assert isinstance(t, Task) and t.context.dtype == np.float64 and not t.context.flags.writeable
    np.testing.assert_array_equal(t.context, full[1, 50:200])  # the origin stays at 200
    np.testing.assert_array_equal(t.future, full[1, 200:])
    assert t.info["evaluation"] == "canonical" and t.info["dim"] == 3
    assert set(t.info) >= {"dt", "pts_per_period", "dim", "lyapunov_time_samples",
                           "maximum_lyapunov", "system", "evaluation"}
    with pytest.raises(ValueError, match="context_length"):
        next(iter_tasks(root=ref, systems=["Lorenz"], context_length=201))

    fresh = list(iter_tasks(root=ref, systems=["Lorenz"], fresh_seed=7, context_length=200))
    assert len(fresh) == 3 and fresh[0].info["evaluation"] == "fresh:7"
    assert fresh[0].context.shape == (200, 3) and fresh[0].future.shape == (300, 3)
    shipped = {tuple(t.context[0]) for t in tasks[:3]}
    assert not shipped & {tuple(t.context[0]) for t in fresh}
    again = list(iter_tasks(root=ref, systems=["Lorenz"], fresh_seed=7, context_length=200))
    np.testing.assert_array_equal(again[2].future, fresh[2].future)
    other = list(iter_tasks(root=ref, systems=["Lorenz"], fresh_seed=8, context_length=200))
    assert not np.array_equal(other[0].context, fresh[0].context)

    context, tail, info = load_train("Lorenz", root=ref)
    assert context.shape == (200, 3) and tail.shape == (100, 3)
    np.testing.assert_array_equal(np.concatenate([context, tail]),
                                  load_dataset("train", "Lorenz", root=ref)["Lorenz"][0])
    assert info["split"] == "train"


def test_fresh_draws_in_threads_equal_one_by_one(ref, capsys):
    """Fresh draws run on a thread per core; the tasks, their order and values are those
    of simulating the systems one after another."""
    from dysts_bench.dataset.protocol import simulate
    fresh = list(iter_tasks(root=ref, fresh_seed=5, context_length=200))
    assert "integrating fresh initial conditions (seed 5) of 4 system(s)" in capsys.readouterr().err
    assert [(t.system, t.series) for t in fresh] == [(n, k) for n in sorted(SYSTEMS) for k in range(3)]
    for name in SYSTEMS:
        block = simulate(name, SMALL, splits=("test",), fresh_seed=5).blocks[("test", "none")]
        got = np.stack([np.concatenate([t.context, t.future]) for t in fresh if t.system == name])
        np.testing.assert_array_equal(got, block.values)
    first = next(iter_tasks(root=ref, fresh_seed=5, context_length=200))  # stopping early does not hang
    np.testing.assert_array_equal(first.future, fresh[0].future)


def test_darts_missing_gives_install_hint(ref, monkeypatch):
    monkeypatch.setitem(sys.modules, "darts", None)
    with pytest.raises(ImportError, match="pip install darts"):
        load_dataset("test", systems=["Lorenz"], root=ref, as_="darts")


def _delay_reference(name, config, first, stop):
    """Independent route to a delay system's scalar series on the protocol grid
    ``t_start + dt * i``, i in [first, stop): the DDE integrator itself."""
    from dysts_bench.solvers.delay import delay_of, delay_series
    c = compile_system(name)
    system = get_system(name)
    dt = system.period / config.pts_per_period
    t = delay_of(c) + dt * np.arange(first, stop)
    return delay_series(c, t, rtol=config.rtol, atol=config.atol)


@pytest.mark.parametrize("name", ["MackeyGlass", "ScrollDelay"])
def test_delay_system_scalar_storage_and_embedding(tmp_path, name):
    """Protocol 1.1: delay systems are stored as their scalar series and embedded at load by
    whole-sample lags L (the count nearest tau / 9): exact, and equal to embedding an
    independently integrated series; test series are windows of the reference orbit."""
    from dysts_bench.registry import list_systems
    from dysts_bench.solvers.delay import delay_embedding, delay_of, embedding_lag_samples
    if name not in list_systems():
        pytest.skip(f"{name} not in the registry")
    generate(tmp_path, SMALL, systems=[name], progress=False)
    rec = manifest(tmp_path)["systems"][name]
    assert rec["status"] == "ok" and not rec["unavailable"]
    system = get_system(name)
    dt = system.period / SMALL.pts_per_period
    L = embedding_lag_samples(delay_of(compile_system(name)), dt, 10)
    assert L == max(1, round(system.tau / 9 / dt))  # the whole-sample lag nearest tau / 9
    lead = 9 * L
    meta = load_metadata("train", name, root=tmp_path)[name]
    assert (meta["embedding_lag_samples"], meta["stored_leading_samples"]) == (L, lead)
    assert meta["variables"][:2] == ["x_lag0", "x_lag1"] and meta["delay"]

    train = load_dataset("train", name, root=tmp_path)[name]
    x = _delay_reference(name, SMALL, -lead, SMALL.train_length)
    assert train.shape == (1, SMALL.train_length, 10)
    np.testing.assert_array_equal(train[0], delay_embedding(x, L, 10).astype(np.float32))

    # The files hold the scalar series only, with `lead` leading samples (time < 0).
    table = pq.read_table(tmp_path / relpath("test", "none", name))
    assert table.column("time").to_numpy()[0] == -lead
    assert table.column("x1").null_count == table.num_rows

    meta = load_metadata("test", name, root=tmp_path)[name]
    orbit = _delay_reference(name, SMALL, -lead, SMALL.pool_length)  # the reference orbit
    test = load_dataset("test", name, root=tmp_path)[name]
    emb = delay_embedding(orbit, L, 10).astype(np.float32)
    for k, i in enumerate(meta["orbit_index"]):
        np.testing.assert_array_equal(test[k], emb[i:i + SMALL.test_length])

    # Dynamical noise: starts from the clean history, then departs from the clean series
    # by about the documented amount.
    noisy = load_dataset("test", name, root=tmp_path, noise="dynamical")[name]
    np.testing.assert_array_equal(noisy[:, 0, :], test[:, 0, :])
    assert not np.array_equal(noisy, test)
    np.testing.assert_array_equal(noisy[:, L:, 1], noisy[:, :-L, 0])  # still an embedding
    dmeta = load_metadata("test", name, root=tmp_path, noise="dynamical")[name]
    sigma = SMALL.dynamical_noise * np.array(dmeta["state_std"]) / math.sqrt(system.period)
    np.testing.assert_allclose(dmeta["sde"]["sigma"], sigma, rtol=1e-12)
    measured = load_dataset("test", name, root=tmp_path, noise="measurement")[name]
    np.testing.assert_array_equal(measured[:, L:, 1], measured[:, :-L, 0])


def test_delay_dynamical_noise_one_step_residuals(tmp_path):
    """One-sample residuals of the noisy MackeyGlass series against the deterministic DDE
    (continued from the noisy series' own past) have size sigma * sqrt(dt)."""
    from dysts_bench.solvers.delay import integrate_sdde
    generate(tmp_path, SMALL, systems=["MackeyGlass"], progress=False)
    block = load_dataset("test", "MackeyGlass", root=tmp_path, noise="dynamical")["MackeyGlass"]
    meta = load_metadata("test", "MackeyGlass", root=tmp_path, noise="dynamical")["MackeyGlass"]
    c = compile_system("MackeyGlass")
    dt = meta["dt"]
    sigma = meta["sde"]["sigma"][0]
    x = block[:, :, 0].astype(np.float64)   # the scalar series (column lag 0)
    back = int(np.ceil(16.0 / dt)) + 1
    res = []
    for k in range(x.shape[0]):
        for j in range(back, x.shape[1] - 1, 7):
            hist_t = dt * np.arange(j - back, j + 1)
            y = integrate_sdde(c, (hist_t, x[k, j - back:j + 1, None]),
                               np.array([hist_t[-1], hist_t[-1] + dt]), 0.0, substeps=200)
            res.append(x[k, j + 1] - y[1, 0])
    res = np.array(res)
    assert res.std() / (sigma * math.sqrt(dt)) == pytest.approx(1.0, abs=0.2)


def test_hyperlu_is_excluded_because_its_orbit_escapes():
    """The recorded reason holds: from the registry's initial condition, at the protocol's
    tolerance, HyperLu's orbit leaves every bounded region before the reference orbit's
    58 900 samples (it escapes near sample 34 000)."""
    from dysts_bench.dataset.protocol import EXCLUDED, SkipSystem
    from dysts_bench.dataset.simulation import simulate
    system = get_system("HyperLu")
    c = compile_system("HyperLu")
    t = system.period / 100 * np.arange(36_000)
    y, _ = integrate(c, np.array(system.initial_condition), t, t0=0.0, rtol=1e-12, atol=1e-12)
    assert np.abs(y[:30_000]).max() < 1e3   # bounded for 300 periods ...
    assert np.abs(y[-1]).max() > 1e6        # ... then gone (|w| grows exponentially)
    assert "HyperLu" in EXCLUDED and "escape" in EXCLUDED["HyperLu"]
    with pytest.raises(SkipSystem, match="escape"):
        simulate("HyperLu", SMALL)


def test_per_system_method_stickslip_fixed_step(tmp_path):
    """StickSlipOscillator is integrated by the config's per-system method (fixed-step RK4,
    recorded in the metadata); its series converge as the step is refined."""
    from dysts_bench.solvers.sde import integrate_sde
    from dysts_bench.trajectory import observe
    assert dict(CANONICAL.system_methods)["StickSlipOscillator"] == "rk4"
    assert CANONICAL.method_for("Lorenz") == "dop853"
    generate(tmp_path, SMALL, systems=["StickSlipOscillator"], progress=False)
    meta = load_metadata("train", "StickSlipOscillator", root=tmp_path)["StickSlipOscillator"]
    assert meta["integrator"] == {"method": "rk4", "fixed_step_substeps": 200}
    train = load_dataset("train", "StickSlipOscillator", root=tmp_path)["StickSlipOscillator"][0]
    system = get_system("StickSlipOscillator")
    c = compile_system("StickSlipOscillator")
    t = system.period / 100 * np.arange(SMALL.train_length)
    same = integrate_sde(c, system.initial_condition, t, 0.0, substeps=200)
    np.testing.assert_array_equal(train, observe(system, same, t).astype(np.float32))
    finer = observe(system, integrate_sde(c, system.initial_condition, t, 0.0, substeps=800), t)
    err = np.abs(train - finer).max(axis=0) / finer.std(axis=0)
    assert err.max() < 1e-3, err   # first order at the friction switch: ~4e-5 x 3/4


def test_system_methods_config_validation():
    cfg = SMALL.replace(system_methods=(("Lorenz", "rosenbrock23"),))
    assert cfg.method_for("Lorenz") == "rosenbrock23" and cfg.method_for("Rossler") == "dop853"
    assert CanonicalConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="Lorenz"):
        SMALL.replace(system_methods=(("Lorenz", "euler"),))


def test_cli_options_build_config():
    import argparse

    from dysts_bench.dataset.cli import add_cli, config_from_args
    parser = argparse.ArgumentParser()
    add_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["generate", "--out", "x", "--pts-per-period", "50", "--n", "1500",
                              "--ics", "5", "--noise", "measurement", "--seed", "3"])
    cfg = config_from_args(args)
    assert (cfg.pts_per_period, cfg.horizon, cfg.n_test, cfg.seed) == (50, 500, 5, 3)
    assert cfg.stored_noise == ("none", "measurement")
    with pytest.raises(ValueError, match="--canonical"):
        config_from_args(parser.parse_args(["generate", "--canonical", "--seed", "1"]))
    assert config_from_args(parser.parse_args(["generate", "--canonical"])) == CANONICAL


# ------------------------------------------------------------------ shipped data
def test_shipped_canonical_dataset():
    root = default_root()
    if not (root / MANIFEST).is_file():
        pytest.fail(f"the canonical dataset is not shipped at {root}; run "
                    "`python -m dysts_bench.dataset --canonical`")
    man = manifest()
    assert man["canonical"] and man["config"] == CANONICAL.to_dict()
    assert man["protocol_version"] == PROTOCOL_VERSION
    report = verify(root)
    assert report.ok, str(report)
    from dysts_bench.dataset.protocol import system_fingerprint
    from dysts_bench.registry import list_systems
    stale = [n for n, r in man["systems"].items() if n not in list_systems()
             or r["registry_hash"] != system_fingerprint(get_system(n))]
    missing = sorted(set(list_systems()) - set(man["systems"]))
    assert not stale and not missing, (
        f"the shipped dataset is out of date with the registry (changed: {stale}, not "
        f"generated: {missing}); run `python -m dysts_bench.dataset --canonical --workers 2`")
    names = [n for n, r in man["systems"].items() if r["status"] == "ok"]
    assert "Lorenz" in names and "StickSlipOscillator" in names
    assert man["systems"]["HyperLu"]["status"] == "skipped"
    assert "escape" in man["systems"]["HyperLu"]["reason"]
    # Protocol 1.2: every transient system is skipped like HyperLu, with its evidence.
    from dysts_bench.dataset.protocol import supports
    for name in list_systems():
        system = get_system(name)
        rec = man["systems"][name]
        if system.chaos_label == "transient" or name == "HyperLu":
            assert rec["status"] == "skipped" and rec["reason"] == supports(system), name
            assert not rec.get("files"), name
        if system.chaos_label == "transient" and name != "HyperLu":
            assert "transient chaos" in rec["reason"] and "λ_max early" in rec["reason"]
    for name in ("MackeyGlass", "IkedaDelay", "ScrollDelay", "PiecewiseCircuit", "SprottDelay",
                 "VossDelay"):
        assert "dynamical" not in man["systems"][name]["unavailable"], name
    # Compact: the files (data + manifest) stay within 40 MB.
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert size <= 40e6, size
    data = load_dataset("test")
    assert set(data) == set(names)
    for name, arr in data.items():
        assert arr.shape == (CANONICAL.n_test, CANONICAL.test_length, man["systems"][name]["dim"])
        assert np.all(np.isfinite(arr))
    # The protocol's promise: >= 20 Lyapunov times on the median system.
    assert horizon_check()["lyapunov_times"] >= 20
    context, tail, info = load_train("Lorenz")
    assert context.shape == (1000, 3) and tail.shape == (500, 3)
    _, y = make_trajectory("Lorenz", 1500)
    np.testing.assert_array_equal(np.concatenate([context, tail]), y.astype(np.float32))
    assert info["dt"] == pytest.approx(get_system("Lorenz").period / 100)

"""Evaluation tracks: labelled tasks and records, the measurement track's clean truth, the
zero-shot track's pretraining (once per worker host, recorded), and the leaderboard's
sections per track."""

import json
from pathlib import Path

import numpy as np
import pytest

from dysts_bench import runner as R
from dysts_bench.corpus import Corpus, CorpusConfig, corpus_record, generate_corpus
from dysts_bench.dataset import iter_tasks
from dysts_bench.dataset.maps import maps_root
from dysts_bench.heldout import side_systems
from dysts_bench.leaderboard import records_frame
from dysts_bench.leaderboard.aggregate import summarize_tracks
from dysts_bench.leaderboard.sections import tracks_markdown, write_sections
from dysts_bench.metrics import smape
from dysts_bench.tracks import TRACKS

ROOT = Path(__file__).resolve().parents[1]
PRETRAIN = ROOT / "tests" / "forecasters_pretrain.py"
HELD = "Aizawa"  # a held-out system (asserted below)


def _short(tasks, n=2, context=200):
    """The first ``n`` tasks with the last ``context`` context samples (fast to run)."""
    out = []
    for t in list(tasks)[:n]:
        out.append(R.AdhocTask(t.system, t.series, t.context[-context:], t.future, t.info))
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A tiny corpus: two pretraining-side systems, one draw, two orbits each."""
    out = tmp_path_factory.mktemp("corpus")
    config = CorpusConfig(seed=7, n_parameter_draws=1, n_initial_conditions=2, length=600,
                          check_periods=20, transient_periods=5)
    generate_corpus(out, config, systems=["Lorenz", "Rossler"])
    return out


# ---------------------------------------------------------------------------- tasks


def test_each_track_labels_its_tasks():
    assert HELD in side_systems("heldout") and "Lorenz" not in side_systems("heldout")
    for track, system in [("canonical", "Lorenz"), ("maps", "Henon"), ("measurement", "Lorenz"),
                          ("dynamical", "Lorenz"), ("zero-shot", HELD)]:
        tasks = list(iter_tasks(track=track, systems=[system]))
        assert tasks and {t.info["evaluation"] for t in tasks} == {track}
        assert {R.tasks.evaluation_of(t.info) for t in tasks} == {track}
    # a map read from the maps root, or by split="maps", is never labelled canonical
    for tasks in (iter_tasks(root=maps_root(), systems=["Henon"]), iter_tasks("maps", systems=["Henon"])):
        assert {t.info["evaluation"] for t in tasks} == {"maps"}
    with pytest.raises(ValueError, match="held-out systems only"):
        next(iter_tasks(track="zero-shot", systems=["Lorenz"]))
    with pytest.raises(ValueError, match="uses noise"):
        next(iter_tasks(track="canonical", noise="dynamical"))
    with pytest.raises(ValueError, match="unknown track"):
        next(iter_tasks(track="noisy"))
    held = {t.system for t in iter_tasks(track="zero-shot")}
    assert held and held <= set(side_systems("heldout"))


def test_measurement_track_sees_noise_and_is_scored_against_the_clean_future(tmp_path):
    clean = list(iter_tasks(track="canonical", systems=["Lorenz"]))
    noisy = list(iter_tasks(track="measurement", systems=["Lorenz"]))
    for c, m in zip(clean, noisy):
        assert np.array_equal(c.future, m.future)            # the truth is the clean signal
        assert np.abs(c.context - m.context).max() > 0.1     # the forecaster sees the noise
    # the noisy future exists and is visibly different from the clean one
    from dysts_bench.dataset import load_dataset
    noisy_series = load_dataset("test", ["Lorenz"], noise="measurement")["Lorenz"]
    origin = 1000
    result = R.run("naive", _short(noisy, 3), tmp_path, progress=False, tune=False)
    assert {r["evaluation"] for r in result.records} == {"measurement"}
    for rec, task in zip(result.records, noisy):
        forecast = np.repeat(task.context[-1:], len(task.future), axis=0)  # what naive predicts
        noisy_future = noisy_series[task.series, origin:].astype(np.float64)
        assert not np.allclose(noisy_future, task.future)
        assert rec["metrics"]["smape"] == pytest.approx(smape(task.future, forecast), rel=1e-5)
        assert abs(smape(noisy_future, forecast) - smape(task.future, forecast)) > 1e-3
    assert [p.name.split(".", 1)[1] for p in result.files] == ["measurement.jsonl"]


def test_runner_files_every_track_under_its_own_label(tmp_path):
    tasks = []
    for track, system in [("canonical", "Lorenz"), ("maps", "Henon"), ("measurement", "Lorenz"),
                          ("dynamical", "Lorenz"), ("zero-shot", HELD)]:
        tasks += _short(iter_tasks(track=track, systems=[system]), n=1)
    result = R.run("naive", tasks, tmp_path, progress=False, tune=False)
    assert sorted(r["evaluation"] for r in result.records) == sorted(TRACKS)
    assert all(r["status"] == "ok" for r in result.records)
    by_track = {r["evaluation"]: r["system"] for r in result.records}
    assert by_track["maps"] == "Henon" and by_track["zero-shot"] == HELD
    assert sorted(p.name.split(".", 1)[1] for p in result.files) == sorted(f"{t}.jsonl" for t in TRACKS)
    for path in result.files:
        track = path.name.split(".")[1]
        assert {json.loads(x)["evaluation"] for x in path.read_text().splitlines()} == {track}
    with pytest.raises(ValueError, match="zero-shot track is not tuned"):
        R.run("linear_ar", tasks[-1:], tmp_path, progress=False, tune=True,
              train_source=lambda s: (tasks[-1].context, tasks[-1].future[:50], tasks[-1].info))


def test_cli_track_options(tmp_path, capsys):
    import argparse
    parser = argparse.ArgumentParser(prog="dysts-bench")
    R.add_cli(parser.add_subparsers(dest="command", required=True))
    base = ["run", "naive", "--out", str(tmp_path), "--quiet", "--timeout", "60"]
    args = parser.parse_args([*base, "--track", "maps", "--systems", "Henon"])
    assert args.func(args) == 0
    assert next(tmp_path.glob("naive-*.maps.jsonl"))
    args = parser.parse_args([*base, "--noise", "dynamical", "--track", "measurement"])
    with pytest.raises(ValueError, match="dynamical track"):
        args.func(args)
    args = parser.parse_args([*base, "--corpus", str(tmp_path)])
    with pytest.raises(ValueError, match="--track zero-shot"):
        args.func(args)


# ---------------------------------------------------------------------------- pretraining


def test_corpus_reader_and_record(corpus):
    c = Corpus(corpus)
    assert c.systems == ["Lorenz", "Rossler"] and c.seed == 7 and len(c.id) == 16
    from dysts_bench.corpus import read_corpus
    blocks = read_corpus(corpus)
    for system, values, meta in c.series():  # the guard-safe reader agrees with the dataset's
        assert np.array_equal(values, blocks[system].values) and meta["dt"] == blocks[system].meta["dt"]
    rec = corpus_record(corpus)
    assert rec["disjoint"] and rec["id"] == c.id and rec["heldout_systems_in_corpus"] == []
    with pytest.raises(ValueError, match="dysts-bench corpus"):
        Corpus(corpus / "split=pretrain")


def test_pretrain_runs_once_per_worker_host_and_is_recorded(tmp_path, corpus):
    tasks = _short(iter_tasks(track="zero-shot", systems=[HELD]), n=4, context=100)
    assert tasks[0].context.shape[1] >= 3
    target = f"{PRETRAIN}:CountingPretrain"
    result = R.run(target, tasks, tmp_path / "res", workers=2, progress=False, tune=False, corpus=corpus)
    forecasts = [np.load(p) for p in sorted((tmp_path / "res" / ".forecasts").rglob("*.npy"))]
    assert len(forecasts) == len(tasks)
    calls, tokens, seen = (np.array([f[0, j] for f in forecasts]) for j in range(3))
    assert set(calls) == {1.0}                  # every task's host pretrained exactly once
    assert 1 <= len(set(tokens)) <= 2           # one pretrained model per host (2 hosts)
    assert set(seen) == {2.0}                   # it read both corpus systems
    for rec in result.records:
        assert rec["status"] == "ok" and rec["evaluation"] == "zero-shot"
        f = rec["forecaster"]
        assert f["pretrained"] is True and f["pretraining_data_disjoint"] is True
        assert f["corpus"]["id"] == Corpus(corpus).id and f["corpus"]["seed"] == 7
    # without the corpus the same forecaster is not pretrained (and refuses to fit), under
    # another run id
    plain = R.run(target, tasks[:1], tmp_path / "res", progress=False, tune=False)
    assert plain.records[0]["status"] == "error" and plain.run_id != result.run_id
    assert "pretrained" not in plain.records[0]["forecaster"]
    with pytest.raises(ValueError, match="isolation='fork'"):
        R.run(target, tasks[:1], tmp_path / "res", progress=False, tune=False, corpus=corpus,
              isolation="spawn")


def test_pretrained_nvar_on_a_held_out_system(tmp_path, corpus):
    """End to end through the runner; and on this tiny corpus (Lorenz and Rossler, two
    orbits each) the pretrained readout tracks a held-out system longer than naive."""
    tasks = _short(iter_tasks(track="zero-shot", systems=[HELD]), n=3, context=1000)
    result = R.run("pretrained_nvar", tasks, tmp_path, progress=False, tune=False, corpus=corpus)
    naive = R.run("naive", tasks, tmp_path, progress=False, tune=False)
    assert all(r["status"] == "ok" and r["forecaster"]["pretrained"] for r in result.records)
    ours = [r["vpt"]["smape_running"]["steps"] for r in result.records]
    base = [r["vpt"]["smape_running"]["steps"] for r in naive.records]
    assert np.median(ours) > np.median(base), (ours, base)


def test_declared_pretraining_is_recorded(tmp_path):
    tasks = _short(iter_tasks(track="zero-shot", systems=[HELD]), n=1, context=100)
    result = R.run(f"{PRETRAIN}:DeclaredFoundation", tasks, tmp_path, progress=False, tune=False)
    f = result.records[0]["forecaster"]
    assert f["pretraining_data_disjoint"] is True and f["disjoint_source"] == "declared"


# ---------------------------------------------------------------------------- leaderboard


def _record(name, system, series, evaluation, vpt=1.0, **forecaster):
    return {"schema": 1, "protocol_version": "2",
            "forecaster": {"name": name, "run_id": f"{name}-{evaluation}", "uses_system_name": False, **forecaster},
            "evaluation": evaluation, "system": system, "series": series, "status": "ok",
            "dt": 0.1, "maximum_lyapunov": 1.0, "horizon": 100, "fit_seconds": 0.01,
            "metrics": {"smape": 50.0 / vpt, "nrmse": 0.5}, "horizons": [1], "horizon_metrics": {"smape": [10.0]},
            "vpt": {m: {"steps": 10, "lyapunov_times": vpt} for m in ("smape_running", "nrmse_pointwise")},
            "finished_at": "2026-01-01T00:00:00Z"}


def test_leaderboard_sections_from_synthetic_records(tmp_path):
    from dysts_bench.map_registry import map_registry
    from dysts_bench.registry import get_system
    not_chaotic = next(n for n, m in sorted(map_registry().items()) if m.chaos_label == "not_chaotic")
    assert get_system("Henon").chaos_label == "chaotic"
    pretrained = {"pretrained": True, "corpus": {"id": "abc123", "seed": 7}, "pretraining_data_disjoint": True,
                  "disjoint_source": "checked"}
    records = []
    for name, vpt in (("naive", 1.0), ("better", 2.0)):
        records += [_record(name, "Lorenz", k, "canonical", vpt) for k in range(2)]
        records += [_record(name, "Henon", k, "maps", vpt) for k in range(2)]
        records += [_record(name, not_chaotic, k, "maps", vpt) for k in range(2)]
        records += [_record(name, HELD, k, "zero-shot", vpt, **(pretrained if name == "better" else {}))
                    for k in range(2)]
    frame = records_frame([{**r, "_file": "x.jsonl", "_line": i} for i, r in enumerate(records)])
    sections = summarize_tracks(frame, n_boot=50)
    assert [s.track for s in sections] == list(TRACKS)
    by = {s.track: s for s in sections}
    assert by["measurement"].board is None and by["measurement"].note == "no results yet"
    assert by["dynamical"].board is None
    maps = by["maps"].board
    assert maps.scope == ["Henon"] and "not_chaotic" in maps.other_labels  # only chaotic maps aggregate
    assert list(maps.table.index) == ["better", "naive"] and maps.baseline == "naive"
    zero = by["zero-shot"].board.table
    assert zero.loc["better", "pretrained"] and not zero.loc["naive", "pretrained"]
    assert zero.loc["better", "pretraining"] == "corpus abc123 (seed 7): disjoint (checked)"
    assert zero.loc["naive", "pretraining"].startswith("none")
    only = summarize_tracks(frame, ["maps"], n_boot=50)
    assert [s.track for s in only] == ["maps"]
    text = tracks_markdown(sections, tmp_path)
    for track in TRACKS:
        assert f"## `{track}`" in text
    assert "disjoint (checked)" in text and "no results yet" in text
    written = write_sections(sections, tmp_path, ["markdown", "csv"])
    assert (tmp_path / "TRACKS.md") in written and (tmp_path / "README.md").is_file()
    assert (tmp_path / "tracks" / "maps" / "results.csv").is_file()
    assert not (tmp_path / "tracks" / "measurement").exists()
    page = (tmp_path / "tracks" / "zero-shot" / "README.md").read_text()
    assert "## Pretraining data" in page and "corpus abc123 (seed 7): disjoint (checked)" in page


def test_leaderboard_cli_track_filter(tmp_path, capsys):
    from dysts_bench.cli import main
    res = tmp_path / "results"
    res.mkdir()
    for name, vpt in (("naive", 1.0), ("better", 2.0)):
        lines = [_record(name, "Henon", k, "maps", vpt) for k in range(2)]
        (res / f"{name}-maps.maps.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    assert main(["leaderboard", "--results", str(res), "--track", "maps", "--n-boot", "20"]) == 0
    out = capsys.readouterr().out
    assert "track: maps" in out and "track: canonical" not in out
    assert main(["leaderboard", "--results", str(res), "--n-boot", "20", "--format", "markdown",
                 "--out", str(tmp_path / "lb")]) == 0
    assert main(["leaderboard", "--results", str(res), "--n-boot", "20", "--format", "csv"]) == 0
    assert "forecaster," in capsys.readouterr().out  # one track: printed as CSV
    assert "no results yet" in (tmp_path / "lb" / "TRACKS.md").read_text()

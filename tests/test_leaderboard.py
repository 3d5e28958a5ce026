"""The rendered leaderboard: aggregates against hand computation, robustness to bad results
files, and the Markdown/CSV/HTML outputs and CLI."""

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dysts_bench.cli import main
from dysts_bench.leaderboard import (LeaderboardWarning, bootstrap_ci, error_matrix, load_results, mean_rank,
                                     rank_matrix, records_frame, render_csv, render_html, render_markdown,
                                     skill_matrix, summarize, vpt_matrix)
from dysts_bench.leaderboard.aggregate import complete_tasks

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "leaderboard" / "results"
try:  # the HTML page needs the plot extra; Markdown, CSV and the terminal do not
    import jinja2  # noqa: F401
    import matplotlib  # noqa: F401
    HAVE_PLOT = True
except ImportError:
    HAVE_PLOT = False
needs_plot = pytest.mark.skipif(not HAVE_PLOT, reason="the HTML page needs the plot extra (jinja2, matplotlib)")
HORIZONS = [0.5, 1, 2, 4]


def record(name, system, series=0, status="ok", *, smape=50.0, nrmse=0.5, vpt=1.0, lyap=1.0, dt=0.1,
           horizon=100, hsmape=None, fit=0.01, evaluation="canonical", long_term=None):
    """A record shaped like the runner's (only the fields the leaderboard reads)."""
    scored = status in ("ok", "nonfinite")
    rec = {"schema": 1, "protocol_version": "2",
           "forecaster": {"name": name, "run_id": f"{name}-0000", "uses_system_name": False},
           "evaluation": evaluation, "system": system, "series": series, "status": status,
           "dt": dt, "maximum_lyapunov": lyap, "horizon": horizon,
           "fit_seconds": fit, "predict_seconds": fit / 2, "cpu_seconds": fit, "peak_rss_mb": 100.0,
           "finished_at": "2026-01-01T00:00:00Z",
           "metrics": None, "horizons": None, "horizon_metrics": None, "vpt": None}
    if scored:
        hs = list(hsmape) if hsmape is not None else [smape] * len(HORIZONS)
        rec.update(metrics={"smape": smape, "nrmse": nrmse}, horizons=HORIZONS,
                   horizon_metrics={"smape": hs, "nrmse": [nrmse] * len(HORIZONS)},
                   vpt={m: {"steps": None, "lyapunov_times": vpt} for m in ("smape_running", "nrmse_pointwise")},
                   long_term=long_term)
    return rec


def frame_of(records):
    return records_frame([{**r, "_file": "x.jsonl", "_line": i + 1} for i, r in enumerate(records)])


def write_jsonl(path, records, tail=""):
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail)
    return path


# ---------------------------------------------------------------------------
# Aggregates
# ---------------------------------------------------------------------------


def test_mean_rank_with_ties_matches_scipy_rankdata():
    rng = np.random.default_rng(1)
    values = rng.integers(0, 4, size=(50, 5)).astype(float)  # many ties
    values[rng.random(values.shape) < 0.1] = np.inf           # failures tie at the bottom
    matrix = pd.DataFrame(values, columns=list("abcde"))
    expected = np.mean([stats.rankdata(row, method="average") for row in values], axis=0)
    np.testing.assert_allclose(mean_rank(matrix).to_numpy(), expected)
    # higher is better: rank of the negated values
    expected_hi = np.mean([stats.rankdata(-row, method="average") for row in values], axis=0)
    np.testing.assert_allclose(mean_rank(matrix, higher_is_better=True).to_numpy(), expected_hi)


def test_rank_drops_tasks_where_the_score_is_not_defined():
    matrix = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [2.0, np.nan, 1.0]})
    ranks = rank_matrix(matrix)
    assert len(ranks) == 2
    assert mean_rank(matrix).to_dict() == {"a": 1.5, "b": 1.5}


def test_failures_count_as_failures_and_rank_last():
    recs = []
    for i, sys_ in enumerate(["A", "B", "C", "D"]):
        recs.append(record("naive", sys_, smape=100.0, vpt=0.5))
        recs.append(record("good", sys_, smape=10.0 + i, vpt=2.0))
    recs += [record("bad", "A", status="error"), record("bad", "B", status="timeout"),
             record("bad", "C", smape=5.0, vpt=3.0)]  # no record for D: missing
    board = summarize(frame_of(recs), n_boot=200)
    t = board.table
    assert t.loc["bad", "tasks"] == 4 and t.loc["bad", "ok"] == 1 and t.loc["bad", "failed"] == 3
    assert t.loc["bad", "statuses"] == "error 1, missing 1, timeout 1"
    assert t.loc["good", "failed"] == 0 and t.loc["good", "statuses"] == "-"
    # ranks by sMAPE: A, B, D: good 1, naive 2, bad 3 (inf); C: bad 1, good 2, naive 3
    assert t.loc["bad", "mean_rank_smape"] == pytest.approx((3 + 3 + 1 + 3) / 4)
    assert t.loc["good", "mean_rank_smape"] == pytest.approx((1 + 1 + 2 + 1) / 4)
    # median VPT: failures count as 0 -> bad has [0, 0, 3, 0]
    assert t.loc["bad", "median_vpt_smape"] == 0.0
    # VPT ranks: a failure (-inf) ranks below a real VPT of 0.5
    assert t.loc["bad", "mean_rank_vpt_smape"] == pytest.approx((3 + 3 + 1 + 3) / 4)
    # sorted by mean rank
    assert list(t.index) == ["good", "naive", "bad"]


def test_missing_tasks_take_the_task_info_of_other_records():
    recs = [record("a", "S", lyap=2.0, dt=0.05, horizon=80), record("a", "T"), record("b", "T")]
    full = complete_tasks(frame_of(recs))
    row = full[(full.forecaster == "b") & (full.system == "S")].iloc[0]
    assert row["status"] == "missing" and row["maximum_lyapunov"] == 2.0 and row["dt"] == 0.05
    assert row["horizon_steps"] == 80


def test_skill_of_naive_against_itself_is_exactly_zero():
    rng = np.random.default_rng(0)
    recs = [record(n, f"S{i}", s, smape=float(rng.uniform(1, 150)), hsmape=rng.uniform(1, 150, 4).tolist())
            for n in ("naive", "other") for i in range(20) for s in range(3)]
    board = summarize(frame_of(recs), n_boot=300)
    for target in ("smape", "smape@1"):
        row = board.table.loc["naive", [f"skill_{target}", f"skill_{target}_low", f"skill_{target}_high"]]
        assert (row.to_numpy(float) == 0.0).all()
    skill = skill_matrix(error_matrix(complete_tasks(frame_of(recs)), "smape"), "naive")
    assert (skill["naive"] == 0.0).all()


def test_skill_matches_hand_computation():
    errors = pd.DataFrame({"naive": [10.0, 20.0, 40.0, np.inf, 0.0, 50.0],
                           "f": [5.0, 30.0, np.inf, 3.0, 1.0, 25.0]},
                          index=pd.MultiIndex.from_tuples([(f"S{i}", "0") for i in range(6)],
                                                          names=["system", "series"]))
    skill = skill_matrix(errors, "naive")["f"].to_numpy()
    # 1 - 5/10, 1 - 30/20, failure, naive failed (undefined), naive perfect (undefined), 1 - 25/50
    expected = [0.5, -0.5, -np.inf, np.nan, np.nan, 0.5]
    np.testing.assert_array_equal(skill, expected)
    est, low, high = bootstrap_ci(skill, errors.index.get_level_values("system"), n_boot=500, seed=3)
    assert est == np.median([0.5, -0.5, -np.inf, 0.5])  # = 0.0 (mean of the two middle values)
    assert low <= est <= high


def test_bootstrap_ci_is_deterministic_and_covers_the_true_median():
    rng = np.random.default_rng(42)
    n_sys, per = 40, 3
    groups = np.repeat([f"sys{i:02d}" for i in range(n_sys)], per)
    covered = 0
    for _ in range(200):
        # system effect + task noise: the population median of a task value is 0.3
        values = np.repeat(rng.normal(0.3, 0.2, n_sys), per) + rng.normal(0, 0.1, n_sys * per)
        _, low, high = bootstrap_ci(values, groups, n_boot=300, seed=0)
        covered += low <= 0.3 <= high
    assert 0.88 <= covered / 200 <= 0.99
    again = [bootstrap_ci(values, groups, n_boot=300, seed=7) for _ in range(2)]
    assert again[0] == again[1]
    assert bootstrap_ci(values, groups, n_boot=300, seed=8) != again[0]


def test_bootstrap_resamples_systems_not_tasks():
    # every task of a system has the same value: resampling systems sees 30 values, not 90
    per_system = np.random.default_rng(5).normal(size=30)
    systems = np.array([f"s{i:02d}" for i in range(30)])
    by_system = bootstrap_ci(per_system, systems, n_boot=400, seed=2)
    by_task = bootstrap_ci(np.repeat(per_system, 3), np.repeat(systems, 3), n_boot=400, seed=2)
    assert by_task == pytest.approx(by_system)
    # every task of a drawn system is used: tasks (10, 0, 0) per system have median 0
    assert bootstrap_ci(np.tile([10.0, 0.0, 0.0], 20), np.repeat(systems[:20], 3), n_boot=200) == (0, 0, 0)


def test_bootstrap_matches_a_plain_loop_over_replicates():
    """Unequal group sizes and NaN (left out): the vectorised replicates equal a loop that
    concatenates the drawn systems' tasks (same draws: default_rng(seed), sorted groups)."""
    rng = np.random.default_rng(11)
    sizes = rng.integers(1, 5, size=25)
    groups = np.repeat([f"g{i:02d}" for i in range(25)], sizes)
    values = rng.normal(size=len(groups))
    values[rng.random(len(values)) < 0.1] = np.nan
    values[3] = -np.inf
    est, low, high = bootstrap_ci(values, groups, n_boot=300, level=0.9, seed=4)
    names = np.unique(groups)
    draws = np.random.default_rng(4).integers(0, len(names), size=(300, len(names)))
    reps = [np.nanmedian(np.concatenate([values[groups == names[d]] for d in row])) for row in draws]
    assert est == np.nanmedian(values)
    assert (low, high) == tuple(np.quantile(reps, [0.05, 0.95], method="inverted_cdf"))


def test_vpt_and_horizons_leave_out_what_is_not_defined():
    recs = [
        # 1 Lyapunov time = 10 samples; forecast of 100 samples: every horizon defined
        record("a", "Fast", smape=1.0, hsmape=[1, 2, 3, 4], vpt=2.0),
        record("b", "Fast", status="error"),
        # 1 Lyapunov time = 40 samples: horizons 4 (160 samples) not defined
        record("a", "Slow", lyap=0.25, hsmape=[10, 20, 30, 40], vpt=4.0),
        record("b", "Slow", lyap=0.25, hsmape=[11, 21, 31, 41], vpt=1.0),
        # no Lyapunov exponent: no VPT in Lyapunov times, no horizons
        record("a", "Flat", lyap=None, vpt=None),
        record("b", "Flat", lyap=None, vpt=None),
    ]
    board = summarize(frame_of(recs), baseline="a", n_boot=100)
    medians = board.horizons["smape"][0.5]
    assert board.horizon_counts["smape"].to_dict() == {0.5: 2, 1.0: 2, 2.0: 2, 4.0: 1}
    assert medians.loc["a", 0.5] == pytest.approx(5.5) and medians.loc["a", 4.0] == 4
    assert medians.loc["b", 0.5] == np.inf and medians.loc["b", 4.0] == np.inf  # median of [inf, 11]
    vpt = vpt_matrix(complete_tasks(frame_of(recs)), failure=0.0)
    assert np.isnan(vpt.loc[("Flat", "0")]).all()
    assert board.table.loc["a", "median_vpt_smape"] == 3.0 and board.table.loc["b", "median_vpt_smape"] == 0.5


# ---------------------------------------------------------------------------
# Reading bad results
# ---------------------------------------------------------------------------


def test_corrupt_lines_are_skipped_with_a_warning_naming_file_and_line(tmp_path):
    good = [record("naive", "A"), record("naive", "B")]
    path = tmp_path / "naive-0000.canonical.jsonl"
    path.write_text(json.dumps(good[0]) + "\n{not json\n" + json.dumps([1, 2]) + "\n"
                    + json.dumps(good[1]) + "\n" + json.dumps(record("naive", "C"))[:57])
    with pytest.warns(LeaderboardWarning) as caught:
        frame, messages = load_results(tmp_path)
    texts = [str(w.message) for w in caught]
    assert texts == messages and len(messages) == 3
    assert f"{path}:2: skipped a corrupt line" in messages[0]
    assert f"{path}:3: skipped a line that is not a task record" in messages[1]
    assert f"{path}:5: skipped a truncated last line" in messages[2]
    assert sorted(frame.system) == ["A", "B"]


def test_unknown_status_unknown_forecaster_and_nan_scores_do_not_crash(tmp_path):
    write_jsonl(tmp_path / "naive-0000.canonical.jsonl", [record("naive", s) for s in "ABC"])
    odd = [record("mystery", "A", status="nan"), record("mystery", "B", smape=float("nan")),
           {**record("mystery", "C"), "forecaster": None}]
    (tmp_path / "mystery-0000.canonical.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in odd))  # NaN written as the JSON extension NaN
    with pytest.warns(LeaderboardWarning) as caught:
        frame, messages = load_results(tmp_path)
    assert [str(w.message) for w in caught] == messages and len(messages) == 2
    assert "mystery-0000.canonical.jsonl:1: unknown status 'nan'" in messages[0]
    assert any("names no forecaster" in m and "'mystery'" in m for m in messages)
    board = summarize(frame, n_boot=100, messages=messages)
    t = board.table
    assert t.loc["mystery", "failed"] == 1 and "nan 1" in t.loc["mystery", "statuses"]
    # a NaN score in a scored record is worst: rank 2 of 2 on B, as on the failed A
    assert t.loc["mystery", "mean_rank_smape"] == pytest.approx((2 + 2 + 1.5) / 3)
    assert "unknown status" in render_markdown(board)
    assert not HAVE_PLOT or "unknown status" in render_html(board)


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------


class _Checker(HTMLParser):
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.tags, self.rows, self.attrs = [], [], [], {}, []
        self._table = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs
        if tag == "table":
            self._table = dict(attrs).get("id")
        if tag == "tr" and self._table and "tbody" in self.stack:
            self.rows[self._table] = self.rows.get(self._table, 0) + 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


@pytest.fixture(scope="module")
def board():
    rng = np.random.default_rng(3)
    recs = []
    for name in ("naive", "linear_ar", "x|pipe", "<script>"):
        for i in range(12):
            for s in range(3):
                status = "timeout" if (name == "linear_ar" and i == 0 and s == 0) else "ok"
                recs.append(record(name, f"Sys{i}", s, status, smape=float(rng.uniform(5, 150)),
                                   hsmape=np.sort(rng.uniform(5, 150, 4)).tolist(), vpt=float(rng.uniform(0, 3)),
                                   lyap=None if i == 11 else 1.0))
    return summarize(frame_of(recs), n_boot=200)


@needs_plot
def test_html_is_valid_self_contained_and_has_a_row_per_forecaster(board):
    page = render_html(board)
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert not checker.errors and checker.stack == []
    assert page.startswith("<!DOCTYPE html>")
    assert checker.rows["summary"] == 4 and checker.rows["cost"] == 4 and checker.rows["horizon-smape"] == 4
    # the short- vs long-term scatter, two charts by horizon, the per-forecaster panels
    assert checker.tags.count("svg") == 1 + 2 + 1
    assert "script" in checker.tags and "link" not in checker.tags
    assert not [v for k, v in checker.attrs if k in ("src", "href") and v and "//" in v]
    assert page.count("<script>") == 1 and "&lt;script&gt;" in page  # forecaster names are escaped


def test_markdown_has_one_row_per_forecaster_and_says_how(board):
    text = render_markdown(board)
    lines = text.splitlines()
    start = lines.index("## Summary") + 2
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append(line)
    rows = table[2:]  # header and alignment lines
    assert len(rows) == 4
    assert sum(r.startswith("| ") and "x\\|pipe" in r for r in rows) == 1
    assert all(len(r.replace("\\|", "").split("|")) == len(rows[0].replace("\\|", "").split("|")) for r in rows)
    for words in ("## How the aggregates are computed", "bootstrap", "resamples *systems*",
                  "rankdata(method='average')", "timeout 1"):
        assert words in text


def test_csv_is_one_row_per_forecaster_and_rendering_is_deterministic(board):
    import io
    table = pd.read_csv(io.StringIO(render_csv(board)))
    assert len(table) == 4 and table["forecaster"].is_unique
    for col in ("median_vpt_smape", "mean_rank_smape", "skill_smape", "skill_smape_low", "skill_smape_high",
                "median_smape@1", "median_fit_seconds", "failed", "statuses"):
        assert col in table.columns
    assert render_markdown(board) == render_markdown(board)
    assert not HAVE_PLOT or render_html(board) == render_html(board)


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


@needs_plot
def test_cli_end_to_end_on_a_copy_of_the_results(tmp_path, capsys):
    src = sorted(RESULTS.glob("*.canonical.jsonl"))
    if not src:
        pytest.skip("no stored results")
    results = tmp_path / "results"
    results.mkdir()
    tasks = {("Aizawa", "0"), ("Aizawa", "1")}
    for file in src:  # the first 30 tasks of each run keep the test quick
        lines = file.read_text().splitlines()[:30]
        (results / file.name).write_text("\n".join(lines) + "\n")
        tasks |= {(r["system"], str(r["series"])) for r in map(json.loads, lines)}
    victim = results / src[0].name
    victim.write_text(victim.read_text() + '{"schema": 1, "system": "Lor')  # truncated last line
    write_jsonl(results / "mystery-1234.canonical.jsonl",
                [record("mystery", "Aizawa", 0, "error"), record("mystery", "Aizawa", 1, "timeout")])
    out = tmp_path / "board"
    assert main(["leaderboard", "--results", str(results), "--out", str(out), "--format", "all",
                 "--n-boot", "200", "--scope", "all"]) == 0
    captured = capsys.readouterr()
    n_lines = len(victim.read_text().splitlines())
    assert f"{victim}:{n_lines}: skipped a truncated last line" in captured.err
    assert "Summary" in captured.out and "mystery" in captured.out
    table = pd.read_csv(out / "results.csv").set_index("forecaster")
    assert set(table.index) == {f.name.split("-")[0] for f in src} | {"mystery"}
    assert table.loc["mystery", "failed"] == table.loc["mystery", "tasks"] == len(tasks)
    assert table.loc["mystery", "statuses"] == f"error 1, missing {len(tasks) - 2}, timeout 1"
    others = table.drop(index="mystery")["mean_rank_smape"]
    assert (table.loc["mystery", "mean_rank_smape"] > others).all()
    if "naive" in table.index:
        assert table.loc["naive", "skill_smape"] == 0
    page = (out / "index.html").read_text()
    checker = _Checker()
    checker.feed(page)
    assert not checker.errors and checker.rows["summary"] == len(table)
    assert "(../results/)" in (out / "README.md").read_text()


def test_cli_single_format_and_errors(tmp_path, capsys):
    # real systems: the CLI leaves out records of systems in neither registry nor dataset
    write_jsonl(tmp_path / "naive-0000.canonical.jsonl", [record("naive", s) for s in ("Lorenz", "Rossler")])
    assert main(["leaderboard", "--results", str(tmp_path), "--out", str(tmp_path / "o"), "--format", "csv"]) == 0
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["results.csv"]
    assert main(["leaderboard", "--results", str(tmp_path / "nowhere")]) == 2
    assert "no results directory" in capsys.readouterr().err
    assert main(["leaderboard", "--results", str(tmp_path), "--evaluation", "fresh-1"]) == 2
    assert "have: canonical" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["leaderboard", "--results", str(empty)]) == 2


def test_nothing_upstream_imports_the_leaderboard():
    pkg = ROOT / "dysts_bench"
    offenders = [p.relative_to(ROOT) for p in pkg.rglob("*.py")
                 if "leaderboard" not in p.relative_to(pkg).parts and p.name != "cli.py"
                 and ("from .leaderboard" in p.read_text() or "dysts_bench.leaderboard" in p.read_text())]
    assert offenders == []


# ---------------------------------------------------------------------------
# Two axes, headline order, scope, older records
# ---------------------------------------------------------------------------


def test_a_forecaster_with_zero_vpt_ranks_below_every_tracking_forecaster():
    """Whatever its whole-forecast sMAPE, a forecaster with VPT 0 on every task ranks below
    every forecaster whose VPT is positive on most tasks."""
    rng = np.random.default_rng(7)
    for trial in range(20):
        n_tasks, recs = int(rng.integers(3, 12)), []
        systems = [f"S{i}" for i in range(n_tasks)]
        for sys_ in systems:  # the climatology: best sMAPE everywhere, never tracks
            recs.append(record("mean", sys_, smape=float(rng.uniform(1, 5)), vpt=0.0))
        trackers = [f"f{k}" for k in range(int(rng.integers(1, 5)))]
        for name in trackers:
            positive = rng.permutation(n_tasks) < n_tasks // 2 + 1  # positive on most tasks
            for sys_, pos in zip(systems, positive):
                vpt = float(rng.uniform(0.01, 5)) if pos else 0.0
                status = "ok" if pos or rng.random() < 0.5 else "error"
                recs.append(record(name, sys_, status=status, smape=float(rng.uniform(50, 200)), vpt=vpt))
        t = summarize(frame_of(recs), n_boot=10).table
        assert list(t.index)[-1] == "mean", trial
        for name in trackers:
            assert t.loc[name, "mean_rank_vpt_smape"] < t.loc["mean", "mean_rank_vpt_smape"]
            assert t.loc[name, "mean_rank_smape"] > t.loc["mean", "mean_rank_smape"]  # sMAPE says otherwise


def test_long_term_axis_and_nrmse_vpt():
    recs = []
    for i, sys_ in enumerate("ABC"):
        recs.append(record("good", sys_, vpt=1.0, long_term={"d_stsp": 0.1, "d_h": 0.1, "corr_dim_error": 0.1}))
        recs.append(record("bad", sys_, vpt=2.0, long_term={"d_stsp": 5.0, "d_h": 0.9, "corr_dim_error": None}))
    recs.append(record("late", "A", status="timeout"))
    t = summarize(frame_of(recs), n_boot=10).table
    assert t.loc["good", "median_d_stsp"] == 0.1 and t.loc["bad", "median_d_stsp"] == 5.0
    assert t.loc["bad", "median_corr_dim_error"] == np.inf  # a missing score in a scored record fails
    # d_stsp, d_h: good 1, bad 2, late 3 (timeout on A, missing on B and C); corr_dim_error:
    # bad's null and late's failure tie at 2.5
    assert t.loc["good", "mean_rank_long_term"] == 1.0
    assert t.loc["bad", "mean_rank_long_term"] == pytest.approx((2 + 2 + 2.5) / 3)
    assert t.loc["late", "mean_rank_long_term"] == pytest.approx((3 + 3 + 2.5) / 3)
    assert list(t.index) == ["bad", "good", "late"]  # headline: VPT (sMAPE), not the long term
    assert t.loc["bad", "median_vpt_nrmse"] == 2.0


def test_records_of_the_older_protocol_load_and_show_new_scores_as_missing():
    old = record("old", "A")
    old.pop("protocol_version")
    old.pop("long_term")
    old["vpt"] = {m: {"steps": 3.0, "time": 0.3, "lyapunov_times": 0.3} for m in ("smape", "nrmse")}
    old["attractor"] = {"correlation_dimension_error": 0.2, "power_spectrum_error": 0.1}
    recs = [old, record("new", "A", vpt=0.1), dict(old, system="B"), record("new", "B", vpt=0.1)]
    frame = frame_of(recs)
    assert frame.loc[frame["forecaster"] == "old", "vpt_smape"].isna().all()  # another rule: not read
    t = summarize(frame, n_boot=10).table
    assert np.isnan(t.loc["old", "median_vpt_smape"]) and np.isnan(t.loc["old", "mean_rank_vpt_smape"])
    assert t.loc["new", "mean_rank_vpt_smape"] == 1.0  # ranked among the forecasters that have the score
    assert list(t.index) == ["new", "old"]
    assert t.loc["old", "failed"] == 0


def test_scope_is_the_chaotic_systems_once_labels_exist(monkeypatch):
    import types

    from dysts_bench import registry
    labels = {"Lorenz": "chaotic", "Rossler": "chaotic", "Coullet": "not_chaotic", "PanXuZhou": "transient"}
    recs = [record(name, sys_, vpt=v) for sys_ in labels for name, v in (("a", 1.0), ("b", 2.0))]
    recs += [record("a", "Coullet", series=1, vpt=3.0), record("b", "Coullet", series=1, vpt=0.0)]
    real = registry.get_system
    # no labels yet: every system is in scope
    monkeypatch.setattr(registry, "get_system", lambda name: types.SimpleNamespace(chaos_label="undetermined"))
    board = summarize(frame_of(recs), n_boot=10)
    assert board.n_systems == 4 and board.other_labels == {}
    monkeypatch.setattr(registry, "get_system", lambda name: types.SimpleNamespace(
        chaos_label=labels.get(name, real(name).chaos_label)))
    board = summarize(frame_of(recs), n_boot=10)
    assert board.scope == ["Lorenz", "Rossler"] and board.n_tasks == 2
    assert set(board.other_labels) == {"not_chaotic", "transient"}
    assert board.other_labels["not_chaotic"].loc["a", "tasks"] == 2
    assert board.other_labels["not_chaotic"].loc["a", "median_vpt_smape"] == 2.0
    assert summarize(frame_of(recs), n_boot=10, scope="all").n_systems == 4
    # systems the registry does not know (ad-hoc tasks) have no label to leave them out by
    board = summarize(frame_of(recs + [record("a", "Adhoc"), record("b", "Adhoc")]), n_boot=10)
    assert board.scope == ["Adhoc", "Lorenz", "Rossler"]
    assert "Scope." in render_markdown(board)
# Safe output, charts, terminal width
# ---------------------------------------------------------------------------


def test_markdown_escapes_raw_html_in_cells(board):
    text = render_markdown(board)
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_csv_neutralises_spreadsheet_formulas():
    recs = [record(name, "Sys0", s) for name in ("=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "plain")
            for s in range(2)]
    import io
    table = pd.read_csv(io.StringIO(render_csv(summarize(frame_of(recs), n_boot=20))), dtype=str)
    assert sorted(table["forecaster"]) == sorted(["'=HYPERLINK(1)", "'+1", "'-2", "'@SUM(A1)", "plain"])
    assert sorted(table["name"]) == sorted(table["forecaster"])


def test_chart_colours_are_distinct_for_thirty_forecasters():
    pytest.importorskip("matplotlib", reason="charts need the plot extra")
    from dysts_bench.leaderboard.figures import colors, styles
    assert len(set(colors(30))) == 30 and len(set(colors(40))) == 40
    style = styles([f"f{i}" for i in range(30)])
    assert len({(s["color"], s["marker"]) for s in style.values()}) == 30


def test_log_axis_only_when_values_span_more_than_twenty_fold():
    pytest.importorskip("matplotlib", reason="charts need the plot extra")
    from dysts_bench.leaderboard.figures import wants_log
    assert wants_log([0.5, 1.0, 60.0]) and wants_log([[1e-3, np.inf], [1.0, np.nan]])
    assert not wants_log([1.0, 19.0]) and not wants_log([0.0, 5.0, np.inf]) and not wants_log([])


def test_scatter_uses_a_long_term_column_when_there_is_one(board):
    pytest.importorskip("matplotlib", reason="charts need the plot extra")
    from dysts_bench.leaderboard.figures import scatter_axes
    x, y, note = scatter_axes(board)
    assert x == "median_vpt_smape" and y == "median_smape@4" and "No long-term" in note
    import dataclasses
    table = board.table.assign(mean_rank_D_stsp=1.0, median_D_stsp=np.linspace(1, 2, len(board.table)),
                               median_D_stsp_low=0.5, median_power_spectrum_error=1.0)
    x, y, note = scatter_axes(dataclasses.replace(board, table=table))
    assert y == "median_D_stsp" and note == ""


def test_terminal_tables_fit_eighty_columns_and_keep_the_headline(board):
    import io

    from rich.console import Console

    from dysts_bench.leaderboard import print_terminal
    for wide, width in ((False, 80), (False, 50), (True, 80)):
        buf = io.StringIO()
        print_terminal(board, Console(file=buf, width=width), wide=wide)
        lines = buf.getvalue().splitlines()
        summary = buf.getvalue().split("Summary", 1)[1].split("Median sMAPE", 1)[0]
        summary = " ".join(summary.split())  # the note under the table wraps at narrow widths
        if not wide:
            assert max(map(len, lines)) <= width
            assert "(--wide shows all)" in summary
        for header in ("forecaster", "mean rank", "(sMAPE)"):
            assert header in summary
        assert summary.count("x|pipe") == 1
    assert "statuses" in summary and "failed" in summary  # --wide: every column


@pytest.mark.parametrize("command", [["leaderboard", "--n-boot", "20"], ["systems"]])
def test_cli_tables_fit_columns_80(command, monkeypatch, capsys):
    if command[0] == "leaderboard" and not sorted(RESULTS.glob("*.canonical.jsonl")):
        pytest.skip("no stored results in leaderboard/results")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.chdir(ROOT)
    assert main(command) == 0
    out = capsys.readouterr().out
    assert max(map(len, out.splitlines())) <= 80
    headline = ("forecaster", "mean rank", "median", "skill vs") if command[0] == "leaderboard" else \
        ("name", "dim", "period", "Lyapunov", "Lorenz")
    assert all(h in out for h in headline)


def test_system_pages_are_written_only_on_request(tmp_path):
    pytest.importorskip("matplotlib", reason="pictures need the plot extra")
    pytest.importorskip("jinja2", reason="pages need the plot extra")
    results = tmp_path / "results"
    results.mkdir()
    write_jsonl(results / "naive-0000.canonical.jsonl", [record("naive", "Lorenz", s) for s in range(2)])
    write_jsonl(results / "mean-0000.canonical.jsonl", [record("mean", "Lorenz", s, smape=80.0) for s in range(2)])
    out = tmp_path / "out"
    assert main(["leaderboard", "--results", str(results), "--out", str(out), "--format", "html",
                 "--n-boot", "20"]) == 0
    assert not (out / "systems").exists()
    assert main(["leaderboard", "--results", str(results), "--out", str(out), "--format", "html",
                 "--n-boot", "20", "--system-pages"]) == 0
    page = (out / "systems" / "Lorenz.html").read_text()
    assert (out / "systems" / "Lorenz.png").stat().st_size > 10_000
    assert "Lorenz" in page and "maximum lyapunov" in page and page.count("<tr>") >= 4 + 1
    assert 'href="systems/Lorenz.html"' in (out / "index.html").read_text()


# ---------------------------------------------------------------------------
# Family column and filter
# ---------------------------------------------------------------------------


def _with_forecaster(rec, **fields):
    return {**rec, "forecaster": {**rec["forecaster"], **fields}}


def test_family_comes_from_the_record_else_from_the_builtin_class():
    from dysts_bench.leaderboard.aggregate import summarize
    recs = []
    for s in ("Lorenz", "Rossler"):
        recs.append(_with_forecaster(record("naive", s), family="baseline"))                    # stored
        recs.append(_with_forecaster(record("sindy", s), target="builtin:sindy:SINDy"))        # old record
        recs.append(_with_forecaster(record("theta", s), target="dysts_bench.forecaster:DartsForecaster"))
        recs.append(_with_forecaster(record("mine", s), target="/tmp/mine.py:Mine"))           # never imported
        recs.append(_with_forecaster(record("liar", s), family="magic", target="builtin:naive:NaiveForecaster"))
    frame = frame_of(recs)
    family = frame.drop_duplicates("forecaster").set_index("forecaster")["family"]
    assert family.to_dict() == {"liar": "baseline", "mine": None, "naive": "baseline", "sindy": "physics",
                                "theta": "statistical"}
    board = summarize(frame, n_boot=50)
    assert board.table.loc["sindy", "family"] == "physics"
    summary = render_markdown(board)
    assert "| family |" in summary and "physics" in summary
    import io
    csv = pd.read_csv(io.StringIO(render_csv(board))).set_index("forecaster")
    assert csv.loc["sindy", "family"] == "physics" and csv["family"].isna()["mine"]


def test_family_filter_keeps_ranks_among_all_and_rejects_unknown_families():
    from dysts_bench.leaderboard.aggregate import select_families, summarize
    recs = [_with_forecaster(record(name, s, vpt=v), family=fam)
            for s in ("Lorenz", "Rossler")
            for name, fam, v in (("naive", "baseline", 0.5), ("a", "physics", 2.0), ("b", "ml", 1.0),
                                 ("c", "physics", 0.1))]
    board = summarize(frame_of(recs), n_boot=50)
    only = select_families(board, ["physics", " deep"])
    assert list(only.table.index) == ["a", "c"]
    pd.testing.assert_series_equal(only.table["mean_rank_vpt_smape"],
                                   board.table.loc[["a", "c"], "mean_rank_vpt_smape"])
    assert list(only.horizons["smape"][0.5].index) == ["a", "c"]
    assert "| b " not in render_markdown(only)
    with pytest.raises(ValueError, match="unknown family 'magic'"):
        select_families(board, ["magic"])
    with pytest.raises(ValueError, match="no forecaster of family foundation"):
        select_families(board, ["foundation"])


def test_cli_family_filter(tmp_path, capsys):
    recs = {"naive": "baseline", "sindy": "physics", "esn": "physics"}
    for name, fam in recs.items():
        write_jsonl(tmp_path / f"{name}-0000.canonical.jsonl",
                    [_with_forecaster(record(name, s), family=fam) for s in ("Lorenz", "Rossler")])
    out = tmp_path / "o"
    assert main(["leaderboard", "--results", str(tmp_path), "--out", str(out), "--format", "csv",
                 "--family", "physics", "--n-boot", "50"]) == 0
    table = pd.read_csv(out / "results.csv")
    assert sorted(table["forecaster"]) == ["esn", "sindy"] and set(table["family"]) == {"physics"}
    assert main(["leaderboard", "--results", str(tmp_path), "--family", "quantum"]) == 2
    assert "unknown family 'quantum'" in capsys.readouterr().err


def test_the_baseline_label_is_resolved_per_track():
    """A verified canonical run is labelled with the mark; its unverified track runs are not:
    each track finds its own baseline."""
    from dysts_bench.leaderboard.load import VERIFIED_MARK, resolve_label
    frame = pd.DataFrame({"forecaster": [f"naive{VERIFIED_MARK}", "naive", "x"],
                          "evaluation": ["canonical", "maps", "canonical"]})
    canonical, maps = frame[frame.evaluation == "canonical"], frame[frame.evaluation == "maps"]
    assert resolve_label(canonical, "naive") == f"naive{VERIFIED_MARK}"
    assert resolve_label(maps, "naive") == "naive"
    assert resolve_label(maps, f"naive{VERIFIED_MARK}") == "naive"

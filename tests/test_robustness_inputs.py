"""Bad inputs and stored-data integrity: each fault of ROBUSTNESS.md ("## Inputs",
"## Integrity") gives a clear error naming the thing at fault, never a hang, a raw
traceback or wrong data served silently."""

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from dysts_bench import expressions as ex
from dysts_bench.compile import compile_system, load_generated_module
from dysts_bench.dataset.load import DatasetError, load_block, load_dataset, load_metadata
from dysts_bench.dataset.store import MANIFEST, relpath
from dysts_bench.registry import RegistryError, parse_entry
from dysts_bench.solvers import IntegrationError, integrate
from dysts_bench.trajectory import make_trajectory

from tests.conftest import entry

SCOPE = ex.Scope(["x", "y"], {"a": 0})


# ------------------------------------------------------------------- expressions
@pytest.mark.parametrize("text, message", [
    ("x % 0", "division by the constant zero"),
    ("x / 0.0", "division by the constant zero"),
    ("1/0", "division by the constant zero"),
    ("x / (1 - 1)", "division by the constant zero"),
    ("mod(x, 0)", "mod() by the constant zero"),
    ("(-8)**0.5", "is not a finite real number"),
    ("10.0**400", "is not a finite real number"),
    ("0**-1", "is not a finite real number"),
    ("1" * 400, "literal too large"),
    ("1e400", "non-finite literal"),
    ("(" * 300 + "x" + ")" * 300, "too many nested parentheses"),
    ("-" * 5000 + "x", "nested too deeply"),
    ("+".join(["x"] * 500), "nested deeper than"),
    ("x + " * 5000 + "x", "characters (at most"),
])
def test_bad_expressions_are_load_time_errors(text, message):
    with pytest.raises(ex.ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        ex.parse(text, SCOPE)
    assert len(str(err.value)) < 300  # the offending text is shown shortened


def test_registry_error_names_system_and_field():
    with pytest.raises(RegistryError, match=r"'Bad', field 'equations.y': division by the constant zero"):
        parse_entry("Bad", entry(["x", "y"], ["y", "x % 0"]))


@pytest.mark.parametrize("name", ["../Lorenz", "a/b", "", "x" * 65, "1abc", "Lo renz", None])
def test_system_names_that_could_escape_a_path_are_rejected(name):
    with pytest.raises(RegistryError, match="invalid system name"):
        parse_entry(name, entry(["x"], ["-x"]))
    with pytest.raises(RegistryError, match="invalid system name"):
        load_block(name)


@pytest.mark.parametrize("data", [b"{not json", b"\xff\xfe{}", b'{"systems": []}',
                                  b'{"systems": {"../x": {}}}'])
def test_corrupt_registry_file_names_the_file_or_system(tmp_path, data):
    from dysts_bench.registry import load_registry
    path = tmp_path / "systems.json"
    path.write_bytes(data)
    with pytest.raises(RegistryError, match=r"systems.json|'\.\./x'|invalid system name"):
        load_registry(path)


def test_state_dependent_overflow_is_an_evaluation_time_integration_error(make_system):
    # x**1e308 is finite for |x| <= 1 and inf beyond: not decidable at load time.
    system = make_system("Overflow", ["x"], ["x**1e308"], initial_condition=[2.0])
    with pytest.raises(IntegrationError, match="Overflow: state or right-hand side became NaN"):
        integrate(compile_system(system), [2.0], np.linspace(0, 1, 5))


# ------------------------------------------------------------------- integration
def test_nan_right_hand_side_at_the_start_ends_with_an_error():
    # Torus divides by the distance to the z axis: NaN at ic=[0, 0, 1]. This used to spin
    # forever in compiled code (a NaN step fails every comparison).
    with pytest.raises(IntegrationError, match="Torus: state or right-hand side became NaN"):
        make_trajectory("Torus", 10, ic=[0, 0, 1])


@pytest.mark.parametrize("method", ["dop853", "rosenbrock23"])
def test_nan_start_with_a_given_first_step_ends(method):
    compiled = compile_system("Torus")
    _, stats = integrate(compiled, [0.0, 0.0, 1.0], np.linspace(0, 1, 3), method=method,
                         first_step=1e-3, check=False)
    assert stats.status in (2, 3)


def test_nan_start_of_a_delay_system_ends():
    from dysts_bench.solvers.delay import integrate_delay
    raw = entry(["x"], ["sqrt(lag(x)) - x"], {"tau": 1.0}, initial_condition=[-1.0],
                delay={"tau": "tau"})
    raw["flags"]["delay"] = True
    compiled = compile_system(parse_entry("NanDelay", raw))
    with pytest.raises(IntegrationError, match="NanDelay: state or right-hand side became NaN"):
        integrate_delay(compiled, [-1.0], np.linspace(0, 5, 5), t0=0.0)


def test_read_only_initial_condition_is_accepted():
    ic = np.array([1.0, 2.0, 3.0])
    t, expected = make_trajectory("Lorenz", 20, ic=ic.copy())
    ic.setflags(write=False)
    times = t.copy()
    times.setflags(write=False)
    _, got = make_trajectory("Lorenz", 20, ic=ic)
    np.testing.assert_array_equal(got, expected)
    y, _ = integrate(compile_system("Lorenz"), ic, times)
    np.testing.assert_array_equal(y, expected)


# ------------------------------------------------------------------- compile cache
def test_tampered_compile_cache_file_is_regenerated_not_imported(tmp_path, monkeypatch):
    monkeypatch.setenv("DYSTS_BENCH_CACHE_DIR", str(tmp_path))
    marker = tmp_path / "planted-ran"
    source = "VALUE = 1\n"
    module = load_generated_module("dysts_bench_test_integrity", source, what="test module")
    path = Path(module.__file__)
    path.write_text(f"open({str(marker)!r}, 'w').close()\nVALUE = 2\n")
    import sys
    del sys.modules[module.__name__]
    with pytest.warns(RuntimeWarning, match="does not match its source hash; regenerating"):
        again = load_generated_module("dysts_bench_test_integrity", source, what="test module")
    assert again.VALUE == 1 and not marker.exists()
    assert path.read_text() == source
    del sys.modules[again.__name__]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an intact file loads without a warning
        load_generated_module("dysts_bench_test_integrity", source, what="test module")
    # A file swapped between the check and the import (simulated: the check is skipped)
    # still does not run: the module executes the source generated in this process.
    del sys.modules[again.__name__]
    path.write_text(f"open({str(marker)!r}, 'w').close()\nVALUE = 3\n")
    import dysts_bench.compile as compile_module
    monkeypatch.setattr(compile_module, "_matches_source", lambda path, source: True)
    raced = load_generated_module("dysts_bench_test_integrity", source, what="test module")
    assert raced.VALUE == 1 and not marker.exists()
    del sys.modules[raced.__name__]


# ------------------------------------------------------------------- dataset files
@pytest.fixture
def small_dataset(tmp_path):
    """A copy of the shipped dataset reduced to Lorenz (no integration needed)."""
    from dysts_bench.dataset.generator import default_root
    src = default_root()
    man = json.loads((src / MANIFEST).read_text())
    man["systems"] = {"Lorenz": man["systems"]["Lorenz"]}
    man["files"] = {k: v for k, v in man["files"].items() if v["system"] == "Lorenz"}
    for rel in man["files"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / rel, tmp_path / rel)
    (tmp_path / MANIFEST).write_text(json.dumps(man))
    return tmp_path


def test_intact_copy_loads(small_dataset):
    assert load_dataset("test", "Lorenz", root=small_dataset)["Lorenz"].shape[0] >= 1


def test_overwritten_data_file_is_refused_naming_file_and_system(small_dataset):
    load_dataset("test", "Lorenz", root=small_dataset)  # verified once ...
    rel = relpath("test", "none", "Lorenz")
    other = relpath("train", "none", "Lorenz")
    shutil.copy(small_dataset / other, small_dataset / rel)  # ... then replaced: checked again
    with pytest.raises(DatasetError, match=r"part-0.parquet: contents differ from the manifest's "
                                           r"sha256.*dysts-bench verify.*\(system Lorenz\)") as err:
        load_dataset("test", "Lorenz", root=small_dataset)
    assert "split=test/noise=none/system=Lorenz" in str(err.value)
    with pytest.raises(DatasetError, match="contents differ"):
        load_metadata("test", "Lorenz", root=small_dataset)


def test_corrupt_parquet_with_matching_hash_names_file_and_system(small_dataset):
    from dysts_bench.dataset.store import sha256_file
    rel = relpath("test", "none", "Lorenz")
    path = small_dataset / rel
    path.write_bytes(path.read_bytes()[:1000])  # truncated, and the manifest updated to match
    man = json.loads((small_dataset / MANIFEST).read_text())
    man["files"][rel]["sha256"] = sha256_file(path)
    (small_dataset / MANIFEST).write_text(json.dumps(man))
    with pytest.raises(DatasetError, match=r"system=Lorenz/part-0.parquet \(system Lorenz\): cannot be decoded"):
        load_dataset("test", "Lorenz", root=small_dataset)


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"files": null}', "\udcff"])
def test_corrupt_manifest_names_the_file(small_dataset, text):
    (small_dataset / MANIFEST).write_bytes(text.encode(errors="surrogateescape"))
    with pytest.raises(DatasetError, match=r"_manifest.json: corrupt manifest.*dysts-bench verify"):
        load_dataset("test", "Lorenz", root=small_dataset)
    from dysts_bench.dataset.store import verify
    report = verify(small_dataset)
    assert not report.ok and report.unreadable[0][0] == MANIFEST


# ------------------------------------------------------------------- runner inputs
@pytest.mark.parametrize("args, message", [
    (["--timeout", "inf"], "positive finite number of seconds"),
    (["--timeout", "-3"], "positive finite number of seconds"),
    (["--memory", "-1"], "positive size"),
    (["--memory", "lots"], "cannot parse memory size"),
    (["--workers", "0"], "must be at least 1"),
])
def test_runner_cli_rejects_bad_limits(args, message, capsys):
    from dysts_bench.cli import main
    with pytest.raises(SystemExit) as exit_:
        main(["run", "naive", "--systems", "Lorenz", *args])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_run_api_rejects_bad_limits(tmp_path):
    from dysts_bench.runner import run
    with pytest.raises(ValueError, match="timeout must be a positive finite"):
        run("naive", [], tmp_path, timeout=float("inf"))
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        run("naive", [], tmp_path, workers=0)


def test_null_and_list_lines_in_results_are_skipped_with_file_and_line(tmp_path):
    from dysts_bench.runner.store import ResultStore, read_results
    store = ResultStore(tmp_path, "naive-0000", fsync=False)
    path = store.run_file("canonical")
    good = {"system": "Lorenz", "series": 0, "status": "ok", "evaluation": "canonical"}
    path.write_text(json.dumps(good) + "\nnull\n[1, 2]\n{partial")
    with pytest.warns(RuntimeWarning) as caught:
        assert read_results(path) == [good]
    assert [str(w.message).split(": ")[0] for w in caught] == [f"{path}:2", f"{path}:3"]
    with pytest.warns(RuntimeWarning):
        assert store.existing("canonical") == {("Lorenz", 0): good}
    task = store.task_path("canonical", "Lorenz", 1)
    task.parent.mkdir(parents=True)
    task.write_text("null")
    with pytest.warns(RuntimeWarning, match=str(task)):
        assert list(store.existing("canonical")) == [("Lorenz", 0)]


def test_long_forecaster_names_are_refused_and_file_names_stay_bounded():
    from dysts_bench.runner.store import _slug, check_forecaster_name
    assert check_forecaster_name("naive") == "naive"
    with pytest.raises(ValueError, match="has 300 characters; at most 100"):
        check_forecaster_name("f" * 300)
    with pytest.raises(ValueError, match="control characters"):
        check_forecaster_name("a\nb")
    assert _slug("naive") == "naive"
    long_a, long_b = _slug("é" * 300), _slug("é" * 299 + "e")
    assert len(long_a.encode()) <= 80 and long_a != long_b


def test_leaderboard_leaves_out_unknown_systems_instead_of_charging_everyone(tmp_path):
    from dysts_bench.leaderboard import LeaderboardWarning
    from dysts_bench.leaderboard.aggregate import complete_tasks
    from dysts_bench.leaderboard.load import known_systems, load_results

    def rec(name, system):
        return {"forecaster": {"name": name, "run_id": f"{name}-0"}, "evaluation": "canonical",
                "system": system, "series": 0, "status": "ok"}
    (tmp_path / "a-0.canonical.jsonl").write_text(
        json.dumps(rec("a", "Lorenz")) + "\n" + json.dumps(rec("a", "../Nowhere")) + "\n")
    (tmp_path / "b-0.canonical.jsonl").write_text(json.dumps(rec("b", "Lorenz")) + "\n")
    with pytest.warns(LeaderboardWarning, match=r"a-0.canonical.jsonl:2: system '../Nowhere' is not in"):
        frame, messages = load_results(tmp_path, systems=known_systems())
    assert len(messages) == 1
    full = complete_tasks(frame)
    assert set(full.system) == {"Lorenz"} and not (full.status == "missing").any()


def test_run_refuses_a_300_character_forecaster_name(tmp_path):
    from dysts_bench.runner import AdhocTask, run
    source = tmp_path / "longname.py"
    source.write_text("import numpy as np\nfrom dysts_bench import Forecaster\n\n"
                      "class Long(Forecaster):\n"
                      f"    name = {'f' * 300!r}\n    version = '1'\n\n"
                      "    def _fit(self, context, *, dt, info):\n        self.last = context[-1]\n\n"
                      "    def _predict(self, horizon):\n        return np.tile(self.last, (horizon, 1))\n")
    rng = np.random.default_rng(0)
    task = AdhocTask("sys", 0, rng.standard_normal((50, 2)), rng.standard_normal((5, 2)),
                     {"dt": 0.1, "pts_per_period": 10.0, "dim": 2, "evaluation": "adhoc"})
    with pytest.raises(ValueError, match="has 300 characters; at most 100"):
        run(f"{source}:Long", [task], tmp_path / "results", progress=False)
    assert not any((tmp_path / "results").glob("*.jsonl"))

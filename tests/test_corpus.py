"""The pretraining corpus: deterministic by seed, byte for byte, and never held-out."""

import json
from pathlib import Path

import numpy as np
import pytest

from dysts_bench.corpus import CorpusConfig, generate_corpus, is_chaotic, read_corpus
from dysts_bench.heldout import side_systems

TINY = CorpusConfig(seed=7, n_parameter_draws=2, n_initial_conditions=2, length=100,
                    check_periods=20, transient_periods=5)
SYSTEMS = ["Lorenz", "Rossler"]


def _bytes(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


class _ImmediateClient:
    """Stands in for a Dask client: runs each submitted task at once."""

    class _Done:
        def __init__(self, value):
            self.value = value

        def result(self):
            return self.value

    def submit(self, fn, *args, pure=True):
        return self._Done(fn(*args))


def test_same_seed_same_bytes_whoever_builds_it(tmp_path):
    generate_corpus(tmp_path / "a", TINY, systems=SYSTEMS)
    generate_corpus(tmp_path / "b", TINY, systems=list(reversed(SYSTEMS)), client=_ImmediateClient())
    a, b = _bytes(tmp_path / "a"), _bytes(tmp_path / "b")
    assert set(a) == {"_corpus.json", *(f"split=pretrain/noise=none/system={s}/part-0.parquet" for s in SYSTEMS)}
    assert a == b


def test_another_seed_gives_another_corpus(tmp_path):
    m1 = generate_corpus(tmp_path / "a", TINY, systems=["Lorenz"])
    m2 = generate_corpus(tmp_path / "b", CorpusConfig(**{**TINY.__dict__, "seed": 8}), systems=["Lorenz"])
    assert m1["files"] != m2["files"]
    # Draw 0 is the published parameter vector whatever the seed.
    assert m1["systems"]["Lorenz"]["draws"][0]["parameters"] == {"sigma": 10.0, "rho": 28.0,
                                                                 "beta": 2.6666666666666665}


def test_corpus_series_are_the_recorded_orbits(tmp_path):
    from dysts_bench import make_trajectory
    manifest = generate_corpus(tmp_path, TINY, systems=["Lorenz"])
    block = read_corpus(tmp_path)["Lorenz"]
    assert block.values.shape == (4, TINY.length, 3)
    draw = manifest["systems"]["Lorenz"]["draws"][1]
    _, y = make_trajectory("Lorenz", TINY.length, transient=TINY.transient_periods,
                           ic=np.array(draw["initial_conditions"]), params=draw["parameters"])
    np.testing.assert_array_equal(block.values[2:], y.astype(np.float32))
    assert draw["maximum_lyapunov"] > 0
    assert json.loads((tmp_path / "_corpus.json").read_text())["heldout_split_version"] == 1


def test_held_out_systems_are_refused(tmp_path):
    with pytest.raises(ValueError, match="pretraining side"):
        generate_corpus(tmp_path, TINY, systems=[side_systems("heldout")[0]])


def test_chaos_check():
    assert is_chaotic([0.9], [0.01], period=0.77)
    assert not is_chaotic([0.02], [0.01], period=1.0)   # within three standard errors
    assert not is_chaotic([0.001], [0.0], period=1.0)   # below 0.01 per period
    assert not is_chaotic([-0.1], [0.01], period=1.0)


def test_cli_writes_a_corpus(tmp_path, capsys):
    from dysts_bench.cli import main
    assert main(["corpus", "--out", str(tmp_path), "--seed", "1", "--draws", "1", "--ics", "1",
                 "--length", "50", "--systems", "Lorenz"]) == 0
    assert "1 of 1 systems" in capsys.readouterr().out
    assert (tmp_path / "split=pretrain/noise=none/system=Lorenz/part-0.parquet").is_file()

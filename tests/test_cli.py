"""The command line: listing, filtering, showing and writing trajectories."""

import pandas as pd

from dysts_bench.cli import main


def test_systems_filter_by_dimension(capsys):
    assert main(["systems", "--filter", "dimension=4"]) == 0
    out = capsys.readouterr().out
    from dysts_bench import get_system, list_systems
    four = list_systems(dim=4)
    assert all(get_system(n).dim == 4 for n in four)
    assert f"{len(four)} systems" in out
    assert "HyperRossler" in out and "│ Lorenz " not in out


def test_show_renders_equations(capsys):
    assert main(["show", "Lorenz"]) == 0
    out = capsys.readouterr().out
    assert "dx/dt = sigma * (y - x)" in out and "Lorenz, E. N. (1963)" in out


def test_unknown_system_is_a_clear_error(capsys):
    assert main(["show", "Lorenzz"]) == 2
    assert "did you mean Lorenz" in capsys.readouterr().err


def test_trajectory_written_to_parquet_and_csv(tmp_path):
    for suffix in (".parquet", ".csv"):
        out = tmp_path / f"lorenz{suffix}"
        assert main(["trajectory", "Lorenz", "--n", "50", "--out", str(out)]) == 0
        frame = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
        assert list(frame.columns) == ["time", "x", "y", "z"] and len(frame) == 50


def test_show_prints_the_chaos_label_with_its_evidence(capsys):
    from dysts_bench import get_system
    for name in ("Coullet", "PanXuZhou", "DequanLi"):
        assert main(["show", name]) == 0
        out = capsys.readouterr().out
        line = next(row for row in out.splitlines() if row.strip().startswith("chaos:"))
        assert get_system(name).chaos_label + ":" in line
        assert "λ_max early" in line and "end state" in line
        assert len(line) < 300  # compact: rounded numbers, no block list

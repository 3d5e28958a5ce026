"""Pictures: attractors from the shipped data, forecasts against the truth, the gallery and
the plot commands."""

import json

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="pictures need the plot extra (matplotlib)")

from dysts_bench.cli import main  # noqa: E402
from dysts_bench.plot import (_embedding, forecast_for, gallery, plot_forecast, plot_system,  # noqa: E402
                              truth_of)


def _lines(ax):
    return [line for line in ax.get_lines()]


def test_lorenz_picture_is_a_3d_butterfly_over_its_time_series():
    import dysts_bench
    fig = dysts_bench.plot_system("Lorenz")
    attractor, series = fig.axes
    assert attractor.name == "3d" and series.name == "rectilinear"
    (line,) = _lines(attractor)
    x, y, z = line.get_data_3d()
    assert len(x) == 4700
    # two lobes: the orbit spends a good part of its time on each side of x = 0, above z = 0
    assert (x > 0).mean() > 0.2 and (x < 0).mean() > 0.2 and (z > 0).all()
    assert len(_lines(series)) == 3


def test_delay_system_is_drawn_as_its_delay_embedding():
    fig = plot_system("MackeyGlass", n=1000)
    attractor, series = fig.axes
    assert attractor.name == "3d" and "delay embedding" in attractor.get_title()
    assert len(_lines(series)) == 1  # the other embedding columns are lagged copies


def test_scalar_series_is_delay_embedded_with_lagged_copies():
    x = np.sin(np.linspace(0, 40, 500))[:, None]
    emb, labels = _embedding(x, ["u"])
    lag = 25
    assert emb.shape == (500 - 2 * lag, 3)
    np.testing.assert_array_equal(emb[:, 1], x[lag:-lag, 0])
    np.testing.assert_array_equal(emb[:, 2], x[:-2 * lag, 0])
    assert labels[0] == "u(t)"


def test_forecast_plot_marks_the_valid_prediction_time():
    context, future, info = truth_of("Lorenz", 0)
    forecast = future.copy()
    cut = 400
    forecast[cut:] += 100.0  # valid for exactly `cut` steps
    fig = plot_forecast("Lorenz", 0, forecast, label="test")
    scale = info["dt"] * info["maximum_lyapunov"]
    vpt_lines = [line for line in fig.axes[0].get_lines() if line.get_label().startswith("VPT")]
    assert len(vpt_lines) == 1
    assert vpt_lines[0].get_xdata()[0] == pytest.approx(cut * scale)
    assert "Lyapunov times" in fig.axes[2].get_xlabel()
    with pytest.raises(ValueError, match="does not match"):
        plot_forecast("Lorenz", 0, forecast[:10])


def _run_file(results, name="naive", system="Lorenz", series=0):
    rec = {"schema": 1, "evaluation": "canonical", "system": system, "series": series, "status": "ok",
           "forecaster": {"name": name, "run_id": f"{name}-1234", "target": "builtin:naive:NaiveForecaster",
                          "params": {}, "task_params": {}, "uses_system_name": False}}
    (results / f"{name}-1234.canonical.jsonl").write_text(json.dumps(rec) + "\n")


def test_stored_forecast_is_found_beside_the_results(tmp_path):
    _, future, _ = truth_of("Lorenz", 1)
    _run_file(tmp_path, series=1)
    stored = tmp_path / ".forecasts" / "naive-1234.canonical" / "Lorenz" / "1.npy"
    stored.parent.mkdir(parents=True)
    np.save(stored, (future + 1).astype(np.float32))
    forecast, label = forecast_for(tmp_path, "Lorenz", 1)
    assert label == "naive" and np.allclose(forecast, future + 1, atol=1e-4)
    with pytest.raises(ValueError, match="no record of Lorenz series 2"):
        forecast_for(tmp_path, "Lorenz", 2)


def test_cli_plot_gallery_and_plot_forecast(tmp_path, capsys):
    from PIL import Image
    out = tmp_path / "lorenz.png"
    assert main(["plot", "Lorenz", "--out", str(out), "--dpi", "50"]) == 0
    pixels = np.asarray(Image.open(out).convert("L"), dtype=float)
    assert pixels.std() > 5  # not blank
    assert main(["plot", "Lorenz", "--out", str(tmp_path / "x.svg"), "--n", "500"]) == 0
    assert (tmp_path / "x.svg").read_text().lstrip().startswith("<?xml")
    index = gallery(tmp_path / "g", ["Lorenz", "Rossler"], n=500)
    assert sorted(p.name for p in index.parent.iterdir()) == ["Lorenz.png", "Rossler.png", "index.html"]
    assert index.read_text().count("<img") == 2
    _, future, _ = truth_of("Rossler", 0)
    np.save(tmp_path / "f.npy", future * 1.01)
    png = tmp_path / "f.png"
    assert main(["plot-forecast", str(tmp_path), "--system", "Rossler", "--series", "0",
                 "--forecast", str(tmp_path / "f.npy"), "--out", str(png), "--dpi", "50"]) == 0
    assert png.stat().st_size > 10_000
    assert main(["plot", "NoSuchSystem"]) == 2
    assert "NoSuchSystem" in capsys.readouterr().err


def test_rerun_of_one_task_resolves_the_stored_forecaster(tmp_path):
    """Without a stored forecast the task is re-run through the runner; the forecast comes
    back where the runner stores forecasts, else the error says how to pass one."""
    _run_file(tmp_path)
    _, future, _ = truth_of("Lorenz", 0)
    try:
        forecast, label = forecast_for(tmp_path, "Lorenz", 0, rerun_dir=tmp_path / "rerun")
    except ValueError as exc:
        assert "--forecast" in str(exc) and "status ok" in str(exc)
    else:
        assert label == "naive" and forecast.shape == future.shape

"""Chaos labels: the rule on synthetic inputs, and the three systems whose labels an audit
disputed (Coullet, PanXuZhou, DequanLi) against an independent two-trajectory estimate of
the maximum exponent written here (separation and renormalisation of two nearby orbits,
Benettin et al., Phys. Rev. A 14 (1976) 2338), which shares no code with the QR method."""

import numpy as np
import pytest

from dysts_bench import compile_system, get_system
from dysts_bench.chaos import block_statistics, classify, describe, label_from, polyline_distance
from dysts_bench.solvers import integrate


# ------------------------------------------------------------------ the rule, synthetic
def test_block_statistics_flags_a_shift_between_halves():
    rng = np.random.default_rng(0)
    flat = 0.5 + 0.01 * rng.standard_normal(20)
    assert block_statistics(flat)["stationary"]
    shifted = np.r_[flat[:10], flat[10:] - 0.5]
    stats = block_statistics(shifted)
    assert not stats["stationary"] and stats["z_halves"] > 10
    assert stats["early"] == pytest.approx(flat[:10].mean())
    assert stats["late_se"] == pytest.approx(flat[10:].std(ddof=1) / np.sqrt(10))


def _stats(early, early_se, late, late_se):
    z = abs(early - late) / np.hypot(early_se, late_se)
    return {"early": early, "early_se": early_se, "late": late, "late_se": late_se,
            "z_halves": z, "stationary": z <= 3}


@pytest.mark.parametrize("stats, end, label", [
    (_stats(0.9, 0.01, 0.9, 0.01), "irregular", "chaotic"),
    (_stats(0.14, 0.02, 0.013, 0.001), "irregular", "chaotic"),      # Coullet-like
    (_stats(0.6, 0.05, 0.6, 0.05), "equilibrium", "transient"),       # dies after the window
    (_stats(0.6, 0.05, -0.05, 0.001), "irregular", "transient"),      # dies inside it
    (_stats(0.0, 0.01, 0.0, 0.01), "cycle", "not_chaotic"),
    (_stats(0.05, 0.1, 0.05, 0.1), "irregular", "not_chaotic"),       # zero within its error
])
def test_label_rule(stats, end, label):
    assert label_from(stats, end, period=1.0) == label


def test_polyline_distance_is_the_distance_to_the_nearest_segment():
    path = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    points = np.array([[0.5, 0.2], [1.3, 0.5], [2.0, 2.0]])
    np.testing.assert_allclose(polyline_distance(points, path), [0.2, 0.3, np.sqrt(2)])


def test_describe_names_the_label_and_rounds_the_evidence():
    text = describe({"label": "transient", "evidence": {
        "early": 0.55123456, "early_se": 0.0868, "late": -0.0544, "late_se": 0.000962,
        "z_halves": 6.97, "stationary": False, "end_state": "equilibrium",
        "relative_speed": 2.6e-8, "recurrence_distance": 7.6e-14, "end_time": 10111.2}})
    assert text.startswith("transient:") and "0.55 ±" in text and "equilibrium" in text
    assert "0.55123456" not in text


# ------------------------------------------------------- independent two-trajectory λ
def two_trajectory_rates(name, t_total, tau_periods, d0=1e-8, transient_periods=20):
    """Local growth rates log(d / d0) / tau of the separation of two orbits started d0
    apart on the attractor, the copy pulled back to distance d0 every tau."""
    system = get_system(name)
    compiled = compile_system(system)
    tau = tau_periods * system.period
    y, _ = integrate(compiled, system.initial_condition,
                     np.array([0.0, transient_periods * system.period]), rtol=1e-10, atol=1e-10)
    a = y[-1]
    direction = np.ones(system.dim) / np.sqrt(system.dim)
    b = a + d0 * direction
    rates, t = [], 0.0
    for _ in range(int(t_total / tau)):
        pair, _ = integrate(compiled, np.array([a, b]), np.array([t, t + tau]),
                            rtol=1e-11, atol=1e-11)
        a, b = pair[0, -1], pair[1, -1]
        d = np.linalg.norm(b - a)
        rates.append(np.log(d / d0) / tau)
        b = a + (b - a) * (d0 / d)
        t += tau
    return np.array(rates)


@pytest.mark.slow
def test_coullet_is_chaotic_after_its_first_regime():
    rates = two_trajectory_rates("Coullet", 6000.0, 0.5)
    first, late = rates[: len(rates) // 10].mean(), rates[len(rates) // 2:]
    assert first > 0.08                        # the long first regime, λ ~ 0.13
    blocks = late[: len(late) // 100 * 100].reshape(-1, 100).mean(axis=1)  # 300 time units each
    se = blocks.std(ddof=1) / np.sqrt(len(blocks))
    assert late.mean() > 0.005 and late.mean() > 3 * se  # a persistent positive λ ~ 0.013
    result = classify("Coullet")
    assert result["label"] == "chaotic"
    assert result["evidence"]["late"] == pytest.approx(late.mean(), rel=0.5)
    assert get_system("Coullet").chaos_label == "chaotic"


@pytest.mark.slow
def test_panxuzhou_is_transient_chaos_ending_on_an_equilibrium():
    rates = two_trajectory_rates("PanXuZhou", 3000.0, 2.0)
    blocks = rates[: len(rates) // 40 * 40].reshape(-1, 40).mean(axis=1)  # ~80 time units
    ends = int(np.argmax(blocks < 0))          # the first block after the transient
    assert ends >= 2                           # chaotic for hundreds of time units (orbit-dependent)
    assert 0.4 < blocks[:ends - 1].mean() < 0.9  # λ ~ 0.65 during the transient
    assert np.all(blocks[ends:] < 0)           # then a stable focus, for good
    result = classify("PanXuZhou")
    assert result["label"] == "transient" and result["evidence"]["end_state"] == "equilibrium"
    assert result["evidence"]["early"] > 0.3
    assert get_system("PanXuZhou").chaos_label == "transient"


@pytest.mark.slow
def test_dequanli_has_no_positive_exponent():
    rates = two_trajectory_rates("DequanLi", 300.0, 10.0)
    lorenz_like = 0.5                          # its stored λ was 0.05 ± 0.07; chaotic Lorenz 0.9
    assert rates.mean() < 0.02 < lorenz_like
    result = classify("DequanLi")
    assert result["label"] == "not_chaotic"
    assert abs(result["evidence"]["late"]) <= 3 * result["evidence"]["late_se"]
    assert get_system("DequanLi").chaos_label == "not_chaotic"


def test_annotate_chaos_only_changes_nothing_but_the_label(tmp_path):
    import json
    import shutil

    from dysts_bench.invariants import annotate
    from dysts_bench.registry import default_path
    path = tmp_path / "systems.json"
    shutil.copy(default_path(), path)
    raw = json.loads(path.read_text())
    raw["systems"]["Lorenz"]["invariants"].pop("chaos", None)
    path.write_text(json.dumps(raw))
    assert annotate(["Lorenz"], settings={"chaos_only": True}, path=path, progress=False) == {}
    new = json.loads(path.read_text())
    chaos = new["systems"]["Lorenz"]["invariants"].pop("chaos")
    assert chaos["label"] == "chaotic" and chaos["evidence"]["stationary"]
    assert new == raw

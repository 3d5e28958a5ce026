"""The held-out split of the flows: fixed, complete, and no family on both sides."""

import copy

import pytest

from dysts_bench.heldout import (draw_sides, families, family_of, load_split, side_systems,
                                 straddling, words)
from dysts_bench.registry import list_systems


def test_every_flow_is_assigned_exactly_once():
    split = load_split()
    members = [n for rec in split["families"].values() for n in rec["members"]]
    assert sorted(members) == sorted(list_systems()), "new or removed flows: update heldout_split.json"
    assert len(members) == len(set(members))
    assert set(side_systems("pretrain")).isdisjoint(side_systems("heldout"))


def test_no_family_straddles_the_split():
    assert straddling(load_split(), list_systems()) == []


def test_the_check_catches_a_leaking_family():
    split = copy.deepcopy(load_split())
    lorenz = split["families"][family_of("Lorenz")]
    lorenz["members"].remove("Lorenz84")
    split["families"]["leak"] = {"side": "heldout", "members": ["Lorenz84"]}
    assert straddling(split, list_systems()) == [family_of("Lorenz")]


def test_the_shipped_split_is_the_rule_applied_once():
    """The JSON is data, but it is what the documented rule and draw give (version 1)."""
    drawn = draw_sides(list_systems(), version=load_split()["version"])
    assert drawn["families"] == load_split()["families"]


def test_family_rule_on_known_variants():
    fams = families(list_systems())
    lorenz = fams[family_of("Lorenz")]
    for variant in ("Lorenz84", "Lorenz96", "LorenzStenflo", "HyperLorenz", "Chen", "LuChen", "HyperLu"):
        assert variant in lorenz
    assert "SprottB" in fams[family_of("SprottA")] and "JerkCircuit" in fams[family_of("SprottA")]
    assert "BeerRNN" not in fams[family_of("SprottR")]  # single letters do not link
    assert words("HyperRossler") == {"Rossler"} and words("Bouali2") == {"Bouali"}
    assert family_of("Lorenz") in load_split()["families"]
    assert "Lorenz" in side_systems("pretrain")


def test_held_out_side_is_a_fifth_of_the_flows():
    n_held = len(side_systems("heldout"))
    assert 0.15 * len(list_systems()) <= n_held <= 0.3 * len(list_systems())


def test_bad_requests_are_named():
    with pytest.raises(ValueError, match="side"):
        side_systems("test")
    with pytest.raises(KeyError, match="NoSuchSystem"):
        family_of("NoSuchSystem")

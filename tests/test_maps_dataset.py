"""The shipped ``maps`` split: loadable, small, and exactly what the generator writes."""

import numpy as np

from dysts_bench.dataset import load_dataset, load_train, verify
from dysts_bench.dataset.load import manifest
from dysts_bench.dataset.maps import MAPS_CONFIG, generate_maps, map_blocks, maps_root
from dysts_bench.maps import iterate_map
from dysts_bench.registry import list_systems


def test_maps_split_is_small_enough_for_the_wheel():
    size = sum(p.stat().st_size for p in maps_root().rglob("*") if p.is_file())
    assert size < 2_000_000, f"the maps split is {size} bytes"


def test_every_map_is_shipped_and_verifies():
    assert sorted(load_dataset("maps")) == sorted(list_systems(kind="map"))
    assert verify(maps_root(), derived=False).ok


def test_maps_split_holds_the_maps_orbit():
    c = MAPS_CONFIG
    test = load_dataset("maps", systems="Henon")["Henon"]
    assert test.shape == (c.n_test, c.test_length, 2)
    start = c.train_length + c.gap
    orbit = iterate_map("Henon", start + c.block + c.test_length)
    np.testing.assert_array_equal(test[1], orbit[start + c.block:][:c.test_length].astype(np.float32))
    context, tail, info = load_train("Henon", root=maps_root())
    np.testing.assert_array_equal(context, orbit[:c.context_length].astype(np.float32))
    assert info["dt"] == 1.0 and tail.shape == (c.validation_length, 2)


def test_regeneration_reproduces_the_shipped_files(tmp_path):
    """Byte for byte: the shipped split is current with maps.json and the generator."""
    written = generate_maps(tmp_path)
    shipped = manifest(maps_root())
    assert {k: v["sha256"] for k, v in written["files"].items()} == \
           {k: v["sha256"] for k, v in shipped["files"].items()}
    assert written["systems"] == shipped["systems"]


def test_map_blocks_metadata_matches_the_flows_conventions():
    blocks = map_blocks("Logistic")
    meta = blocks["test"].meta
    assert meta["kind"] == "map" and meta["dt"] == 1.0 and meta["split"] == "test"
    assert meta["lyapunov_time_samples"] > 1

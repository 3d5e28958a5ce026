"""The one atomic file writer and the one JSON sanitiser."""

import math

import numpy as np
import pytest

from dysts_bench.atomic import atomic_write
from dysts_bench.jsonutil import jsonable, params_hash


def test_atomic_write_replaces_whole_and_leaves_nothing_behind(tmp_path):
    path = tmp_path / "sub" / "f.json"
    atomic_write(path, "old")
    atomic_write(path, b"new", fsync=False)
    assert path.read_bytes() == b"new"
    assert [p.name for p in path.parent.iterdir()] == ["f.json"]
    assert path.stat().st_mode & 0o777 == 0o644


def test_atomic_write_keeps_the_old_file_on_error(tmp_path):
    path = tmp_path / "f.txt"
    atomic_write(path, "old")
    with pytest.raises(TypeError):
        atomic_write(path, 12345)  # not bytes or text: fails while writing
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_jsonable_and_hash():
    value = {"a": np.float64(1.5), "b": (1, np.int32(2)), "c": math.nan, "d": np.arange(2), 3: object}
    out = jsonable(value)
    assert out["a"] == 1.5 and out["b"] == [1, 2] and out["c"] is None and out["d"] == [0, 1]
    assert isinstance(out["3"], str)
    assert params_hash({"x": 1, "y": 2}) == params_hash({"y": 2, "x": 1})

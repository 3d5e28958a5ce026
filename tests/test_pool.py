"""The one executor interface (dysts_bench.pool): every backend yields each call's key
with its result, and raises or returns a call's exception as asked."""

import pytest

from dysts_bench.pool import DaskPool, ProcessPool, SerialPool, open_pool

CALLS = [("three", ("3",)), ("forty-two", ("42",)), ("seven", ("7",))]


@pytest.mark.parametrize("make", [SerialPool, lambda: ProcessPool(2)], ids=["serial", "process"])
def test_every_call_comes_back_with_its_key(make):
    pool = make()
    try:
        got = dict(pool.imap_unordered(int, CALLS))
    finally:
        pool.close()
    assert got == {"three": 3, "forty-two": 42, "seven": 7}


@pytest.mark.parametrize("make", [SerialPool, lambda: ProcessPool(2)], ids=["serial", "process"])
def test_a_failing_call_raises_or_is_returned(make):
    pool = make()
    try:
        with pytest.raises(ValueError):
            list(pool.imap_unordered(int, [("bad", ("x",))]))
        got = dict(pool.imap_unordered(int, [*CALLS, ("bad", ("x",))], return_exceptions=True))
    finally:
        pool.close(kill=True)
    assert isinstance(got.pop("bad"), ValueError)
    assert got == {"three": 3, "forty-two": 42, "seven": 7}


def test_open_pool_picks_the_backend():
    assert isinstance(open_pool(1), SerialPool)
    pool = open_pool(2)
    try:
        assert isinstance(pool, ProcessPool)
    finally:
        pool.close()


def test_dask_pool_same_results():
    pytest.importorskip("distributed", reason="the Dask backend needs dask.distributed")
    pool = DaskPool("local", workers=1)
    try:
        got = dict(pool.imap_unordered(int, [*CALLS, ("bad", ("x",))], return_exceptions=True))
    finally:
        pool.close()
    assert isinstance(got.pop("bad"), ValueError)
    assert got == {"three": 3, "forty-two": 42, "seven": 7}

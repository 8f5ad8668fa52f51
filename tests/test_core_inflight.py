"""The cache shares identical requests in flight: two views reading the same chunk at once fetch
it once; cancelling one waiter leaves the others served; cancelling all cancels the fetch."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from pyzarr_web.core import Hierarchy, RangeRequest, StoreError, wrap
from pyzarr_web.core.store import Store
from pyzarr_web.core.stores.memory import MemoryStore
from pyzarr_web.core.wrappers import CachedStore


class Gated(Store):
    """Answers when ``gate`` opens; records starts, cancellations and failures."""

    def __init__(self, values: dict[str, bytes], fail: set[str] = frozenset()):
        self.values, self.fail = values, fail
        self.gate = asyncio.Event()
        self.started: list[tuple] = []
        self.cancelled = 0

    async def get(self, key, byte_range=None):
        self.started.append((key, byte_range))
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if key in self.fail:
            raise StoreError(f"GET {key} failed: HTTP 500")
        return await MemoryStore(self.values).get(key, byte_range)


async def _settle():
    for _ in range(5):
        await asyncio.sleep(0)


async def test_identical_requests_share_one_fetch():
    inner = Gated({"k": b"0123456789"})
    cache = CachedStore(inner)
    tasks = [asyncio.ensure_future(cache.get("k")) for _ in range(3)]
    other = asyncio.ensure_future(cache.get("k", RangeRequest(2, 3)))  # a different request
    await _settle()
    inner.gate.set()
    assert await asyncio.gather(*tasks, other) == [b"0123456789"] * 3 + [b"234"]
    assert inner.started == [("k", None), ("k", RangeRequest(2, 3))]
    assert await cache.get("k") == b"0123456789" and len(inner.started) == 2  # cached now
    assert not cache._inflight


async def test_sharing_works_without_a_cache_budget():
    inner = Gated({"k": b"x" * 100})
    cache = CachedStore(inner, max_bytes=10)  # too big to keep, still shared while in flight
    tasks = [asyncio.ensure_future(cache.get("k")) for _ in range(2)]
    await _settle()
    inner.gate.set()
    await asyncio.gather(*tasks)
    assert len(inner.started) == 1 and cache.nbytes == 0


async def test_cancelling_one_waiter_keeps_the_fetch_for_the_others():
    inner = Gated({"k": b"v"})
    cache = CachedStore(inner)
    first, second = (asyncio.ensure_future(cache.get("k")) for _ in range(2))
    await _settle()
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    inner.gate.set()
    assert await second == b"v"
    assert inner.cancelled == 0 and len(inner.started) == 1


async def test_cancelling_every_waiter_cancels_the_fetch_and_a_new_request_starts_afresh():
    inner = Gated({"k": b"v"})
    cache = CachedStore(inner)
    waiters = [asyncio.ensure_future(cache.get("k")) for _ in range(2)]
    await _settle()
    for w in waiters:
        w.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    await _settle()
    assert inner.cancelled == 1 and not cache._inflight
    again = asyncio.ensure_future(cache.get("k"))
    await _settle()
    inner.gate.set()
    assert await again == b"v" and len(inner.started) == 2


async def test_a_failure_reaches_every_waiter_and_is_not_cached():
    inner = Gated({}, fail={"bad"})
    cache = CachedStore(inner)
    waiters = [asyncio.ensure_future(cache.get("bad")) for _ in range(2)]
    await _settle()
    inner.gate.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, StoreError) and "HTTP 500" in str(r) for r in results)
    assert len(inner.started) == 1
    with pytest.raises(StoreError):
        await cache.get("bad")
    assert len(inner.started) == 2


async def test_two_views_reading_the_same_chunks_fetch_each_once():
    meta = {"zarr_format": 2, "shape": [4, 4], "chunks": [2, 2], "dtype": "<i4",
            "compressor": None, "fill_value": 0, "order": "C", "filters": None}
    data = np.arange(16, dtype="<i4").reshape(4, 4)
    values = {".zarray": json.dumps(meta).encode()}
    for i in range(2):
        for j in range(2):
            values[f"{i}.{j}"] = data[2 * i:2 * i + 2, 2 * j:2 * j + 2].tobytes()
    inner = Gated(values)
    inner.gate.set()
    h = await Hierarchy.open(wrap(inner))
    arr = await h.array("")
    inner.started.clear()
    inner.gate.clear()
    view_a = asyncio.ensure_future(arr.read("0:2, :"))   # chunks 0.0, 0.1
    view_b = asyncio.ensure_future(arr.read(":, 0:2"))   # chunks 0.0, 1.0
    await _settle()
    inner.gate.set()
    a, b = await asyncio.gather(view_a, view_b)
    np.testing.assert_array_equal(a, data[:2])
    np.testing.assert_array_equal(b, data[:, :2])
    assert sorted(k for k, _ in inner.started) == ["0.0", "0.1", "1.0"]


class GatedBatches(Gated):
    """A Gated store that records the batches it is asked for (and fetches them as Gated)."""

    def __init__(self, values: dict[str, bytes], fail: set[str] = frozenset()):
        super().__init__(values, fail)
        self.batches: list[list[tuple]] = []

    def get_batch(self, requests):
        self.batches.append(list(requests))
        return super().get_batch(requests)


async def _collect(store, requests) -> dict:
    return {i: v async for i, v in store.get_batch(requests)}


async def test_a_batch_shares_what_is_in_flight_and_fetches_the_rest_in_one_batch():
    inner = GatedBatches({"a": b"A", "b": b"B", "c": b"C"})
    cache = CachedStore(inner)
    inner.gate.set()
    assert await cache.get("a") == b"A"  # cached
    inner.gate.clear()
    single = asyncio.ensure_future(cache.get("b"))  # in flight when the batch asks
    await _settle()
    batch = asyncio.ensure_future(_collect(cache, [("a", None), ("b", None), ("c", None), ("c", None)]))
    later = asyncio.ensure_future(cache.get("c"))  # asked after the batch: shares its fetch
    await _settle()
    inner.gate.set()
    assert await batch == {0: b"A", 1: b"B", 2: b"C", 3: b"C"}
    assert await single == b"B" and await later == b"C"
    assert inner.batches == [[("c", None)]]
    assert sorted(k for k, _ in inner.started) == ["a", "b", "c"]
    assert not cache._inflight


async def test_cancelling_a_batch_cancels_its_fetches_below_but_not_shared_ones():
    inner = GatedBatches({"a": b"A", "b": b"B"})
    cache = CachedStore(inner)
    batch = asyncio.ensure_future(_collect(cache, [("a", None), ("b", None)]))
    await _settle()
    other = asyncio.ensure_future(cache.get("b"))  # another view waits for b
    await _settle()
    batch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await batch
    await _settle()
    assert inner.cancelled == 0  # b is still wanted: the batch below goes on
    inner.gate.set()
    assert await other == b"B"
    lone = asyncio.ensure_future(_collect(cache, [("x", None), ("y", None)]))
    inner.gate.clear()
    await _settle()
    lone.cancel()
    await asyncio.gather(lone, return_exceptions=True)
    await _settle()
    assert inner.cancelled == 2 and not cache._inflight  # nobody waits: both fetches cancelled


async def test_a_failure_in_a_batch_reaches_its_reader():
    inner = GatedBatches({"a": b"A"}, fail={"bad"})
    inner.gate.set()
    with pytest.raises(StoreError, match="HTTP 500"):
        await _collect(CachedStore(inner), [("a", None), ("bad", None)])

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

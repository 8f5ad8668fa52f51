"""Stores, wrappers, open_store and crc32c: byte-range semantics, missing keys, errors, caching,
coalescing, bounded concurrency and cancellation."""

from __future__ import annotations

import asyncio
import zipfile

import crc32c as crc32c_pkg
import numpy as np
import pytest

from pyzarr_web.core import RangeRequest, StoreError, SuffixRequest, open_store, raw_store
from pyzarr_web.core.codecs.crc32c import crc32c_numpy
from pyzarr_web.core.store import Store, WrapperStore
from pyzarr_web.core.stores.http import HttpResponse, HttpStore
from pyzarr_web.core.stores.http_httpx import fetch
from pyzarr_web.core.stores.local import LocalStore
from pyzarr_web.core.stores.memory import MemoryStore
from pyzarr_web.core.stores.zip import ZipStore
from pyzarr_web.core.wrappers import CachedStore, CoalescingStore, LimitedStore
from pyzarr_web.tools.serve import make_app, run_in_thread

VALUE = bytes(range(256)) * 4


class Counting(WrapperStore):
    """Records every request that reaches the wrapped store."""

    def __init__(self, inner: Store):
        super().__init__(inner)
        self.requests: list[tuple[str, object]] = []

    async def get(self, key, byte_range=None):
        self.requests.append((key, byte_range))
        return await self.inner.get(key, byte_range)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    (root / "a").mkdir()
    (root / "a" / "v").write_bytes(VALUE)
    (root / "top").write_bytes(b"t")
    with zipfile.ZipFile(root.parent / "stored.zip", "w", zipfile.ZIP_STORED) as z:
        z.writestr("a/v", VALUE)
        z.writestr("top", b"t")
    with zipfile.ZipFile(root.parent / "nested.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.zarr/zarr.json", b"{}")
        z.writestr("x.zarr/a/v", VALUE)
        z.writestr("x.zarr/top", b"t")
    return root


@pytest.fixture(scope="module")
def http_url(tree):
    with run_in_thread(make_app(None, [tree])) as url:
        yield f"{url}/data/{tree.name}"


def _stores(tree, http_url):
    return {
        "memory": MemoryStore({"a/v": VALUE, "top": b"t"}),
        "local": LocalStore(tree),
        "zip": ZipStore(tree.parent / "stored.zip"),
        "zip-nested": ZipStore(tree.parent / "nested.zip"),
        "http": HttpStore(http_url, fetch),
    }


@pytest.mark.parametrize("kind", ["memory", "local", "zip", "zip-nested", "http"])
async def test_byte_ranges_and_missing(tree, http_url, kind):
    store = _stores(tree, http_url)[kind]
    assert await store.get("a/v") == VALUE
    assert await store.get("a/v", RangeRequest(10, 20)) == VALUE[10:30]
    assert await store.get("a/v", RangeRequest(1000, 100)) == VALUE[1000:]
    assert await store.get("a/v", SuffixRequest(7)) == VALUE[-7:]
    assert await store.get("a/nope") is None
    assert await store.get("nope/v", SuffixRequest(4)) is None
    assert await store.get_ranges("a/v", [RangeRequest(0, 2), SuffixRequest(1)]) == [
        VALUE[:2], VALUE[-1:]]
    if store.can_list:
        leaves, dirs = await store.list_dir("")
        assert "top" in leaves and dirs == ["a"]
        assert await store.list_dir("a/") == (["v"], [])


async def test_http_error_names_url_and_status():
    async def failing(url, headers, timeouts):
        return HttpResponse(503, b"busy")

    store = HttpStore("https://example.invalid/x.zarr", failing)
    with pytest.raises(StoreError, match=r"https://example.invalid/x.zarr/k.*HTTP 503"):
        await store.get("k")


async def test_http_server_ignoring_range_is_sliced():
    async def whole(url, headers, timeouts):
        return HttpResponse(200, VALUE)

    store = HttpStore("https://h/x", whole)
    assert await store.get("k", RangeRequest(5, 3)) == VALUE[5:8]
    assert await store.get("k", SuffixRequest(3)) == VALUE[-3:]


async def test_http_network_failure_is_store_error():
    store = HttpStore("http://127.0.0.1:9/x.zarr", fetch)
    with pytest.raises(StoreError, match="127.0.0.1:9/x.zarr/zarr.json"):
        await store.get("zarr.json")


async def test_cache_is_byte_budgeted_lru():
    counting = Counting(MemoryStore({f"k{i}": bytes(100) for i in range(5)} | {"big": bytes(1000)}))
    cache = CachedStore(counting, max_bytes=300)
    for key in ("k0", "k1", "k0", "k2", "k3", "k0", "nope", "nope", "big", "big"):
        await cache.get(key)
    # k0 stays hot; k1 is evicted by k3; "nope" (missing) is cached; "big" exceeds the budget
    assert [k for k, _ in counting.requests] == ["k0", "k1", "k2", "k3", "nope", "big", "big"]
    assert cache.nbytes <= 300
    await cache.get("k1")
    assert counting.requests[-1][0] == "k1"


async def test_coalescing_merges_adjacent_and_overlapping_ranges():
    counting = Counting(MemoryStore({"k": VALUE}))
    store = CoalescingStore(counting)
    ranges = [RangeRequest(10, 5), RangeRequest(0, 10), RangeRequest(12, 8), RangeRequest(100, 4),
              SuffixRequest(3)]
    got = await store.get_ranges("k", ranges)
    assert got == [VALUE[10:15], VALUE[:10], VALUE[12:20], VALUE[100:104], VALUE[-3:]]
    assert sorted(counting.requests, key=str) == sorted(
        [("k", RangeRequest(0, 20)), ("k", RangeRequest(100, 4)), ("k", SuffixRequest(3))], key=str)


async def test_coalescing_with_gap_and_size_cap():
    counting = Counting(MemoryStore({"k": VALUE}))
    store = CoalescingStore(counting, max_gap=10, max_size=30)
    got = await store.get_ranges("k", [RangeRequest(0, 10), RangeRequest(15, 10),
                                       RangeRequest(30, 10)])
    assert got == [VALUE[:10], VALUE[15:25], VALUE[30:40]]
    assert counting.requests == [("k", RangeRequest(0, 25)), ("k", RangeRequest(30, 10))]


class Slow(Store):
    def __init__(self):
        self.active = self.peak = self.started = self.cancelled = 0

    async def get(self, key, byte_range=None):
        self.started += 1
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.active -= 1
        return b"x"


async def test_concurrency_is_bounded():
    slow = Slow()
    store = LimitedStore(slow, limit=3)
    await asyncio.gather(*(store.get(str(i)) for i in range(10)))
    assert slow.peak == 3


async def test_cancelling_a_read_cancels_outstanding_fetches():
    slow = Slow()
    store = LimitedStore(slow, limit=2)
    task = asyncio.ensure_future(store.get_ranges("k", [RangeRequest(i, 1) for i in range(10)]))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.1)
    assert slow.started == 2 and slow.cancelled == 2  # queued fetches never started


def test_open_store_picks_the_store(tree, tmp_path):
    assert isinstance(raw_store(str(tree)), LocalStore)
    assert isinstance(raw_store(str(tree.parent / "stored.zip")), ZipStore)
    assert isinstance(raw_store("https://example.org/x.zarr"), HttpStore)
    assert isinstance(open_store(str(tree)), CoalescingStore)
    with pytest.raises(StoreError, match="not an http"):
        open_store(str(tmp_path / "nothing-here"))


@pytest.mark.parametrize("n", [0, 1, 3, 4, 5, 4095, 4096, 4097, 65537, 1 << 20])
def test_crc32c_numpy_matches_crc32c_package(n):
    data = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes()
    assert crc32c_numpy(data) == crc32c_pkg.crc32c(data)


def test_local_store_refuses_escaping_keys(tree):
    with pytest.raises(StoreError):
        asyncio.run(LocalStore(tree).get("../x"))

"""Request accounting for sharded reads: one index request per shard touched, then only the
needed inner chunks, adjacent ones coalesced — counted at the store under the default wrappers."""

from __future__ import annotations

import struct
import warnings

import numpy as np
import pytest
import zarr
from zarr.codecs import BytesCodec, ShardingCodec, ZstdCodec

from pyzarr_web.core import Hierarchy, RangeRequest, SuffixRequest, wrap
from pyzarr_web.core.store import WrapperStore
from pyzarr_web.core.stores.http import HttpStore
from pyzarr_web.core.stores.http_httpx import fetch
from pyzarr_web.core.stores.local import LocalStore
from pyzarr_web.tools.harness import merged_runs
from pyzarr_web.tools.serve import make_app, run_in_thread

SHAPE, SHARD, INNER = (16, 16), (8, 8), (2, 2)
INDEX_BYTES = 16 * 16 + 4  # 4x4 inner chunks of (offset, nbytes) + crc32c


class Counting(WrapperStore):
    def __init__(self, inner):
        super().__init__(inner)
        self.requests, self.nbytes = [], 0

    async def get(self, key, byte_range=None):
        value = await self.inner.get(key, byte_range)
        self.requests.append((key, byte_range))
        self.nbytes += len(value or b"")
        return value


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("shards") / "s.zarr"
    data = np.arange(1, np.prod(SHAPE) + 1, dtype="<i4").reshape(SHAPE)
    data[8:, 8:] = 0   # shard (1, 1) holds only fill values: never written
    data[0:2, 0:2] = 0  # inner chunk (0, 0) of shard (0, 0): missing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = zarr.open_group(str(root), mode="w", zarr_format=3)
        end = g.create_array("end", shape=SHAPE, chunks=SHARD, dtype="<i4", compressors=None,
                             serializer=ShardingCodec(chunk_shape=INNER,
                                                      codecs=[BytesCodec(), ZstdCodec()]))
        start = g.create_array("start", shape=SHAPE, chunks=SHARD, dtype="<i4",
                               compressors=None,
                               serializer=ShardingCodec(chunk_shape=INNER,
                                                        codecs=[BytesCodec(), ZstdCodec()],
                                                        index_location="start"))
        for arr in (end, start):
            arr[:] = data  # one write per shard: inner chunks stored in C order
    return root, data


def _index(root, name, shard, location="end") -> np.ndarray:
    raw = (root / name / "c" / str(shard[0]) / str(shard[1])).read_bytes()
    body = raw[-INDEX_BYTES:] if location == "end" else raw[:INDEX_BYTES]
    return np.frombuffer(body[:-4], "<u8").reshape(4, 4, 2)


async def _read(store, name, sel):
    arr = await (await Hierarchy.open(store)).array(name)
    store.inner.inner.inner.requests.clear()  # count the data reads only
    store.inner.inner.inner.nbytes = 0
    return await arr.read(sel)


def _counted(root_store):
    counting = Counting(root_store)
    return counting, wrap(counting)


def _runs(index: np.ndarray, inner_sel) -> list[RangeRequest]:
    return [RangeRequest(o, n) for o, n in merged_runs(index[inner_sel].reshape(-1, 2))]


@pytest.mark.parametrize("name, location", [("end", "end"), ("start", "start")])
async def test_one_index_request_then_coalesced_inner_chunks(store_dir, name, location):
    root, data = store_dir
    counting, store = _counted(LocalStore(root))
    got = await _read(store, name, (slice(0, 8), slice(1, 4)))
    assert np.array_equal(got, data[0:8, 1:4])
    runs = _runs(_index(root, name, (0, 0), location), (slice(0, 4), slice(0, 2)))
    assert len(runs) == 1  # the left half of a shard is one Morton run (chunk (0, 0) missing)
    index_req = SuffixRequest(INDEX_BYTES) if location == "end" else RangeRequest(0, INDEX_BYTES)
    assert counting.requests[0] == (f"{name}/c/0/0", index_req)
    assert sorted(counting.requests[1:], key=lambda r: r[1].offset) == [
        (f"{name}/c/0/0", r) for r in runs]
    assert counting.nbytes == INDEX_BYTES + sum(r.length for r in runs)  # the ideal


async def test_requests_per_shard_and_missing_parts(store_dir):
    root, data = store_dir
    counting, store = _counted(LocalStore(root))
    # rows 0 and 8, all columns: inner row 0 of every shard
    got = await _read(store, "end", (slice(0, 16, 8), slice(None)))
    assert np.array_equal(got, data[0:16:8])
    by_key = {}
    for key, req in counting.requests:
        by_key.setdefault(key, []).append(req)
    # shard (1, 1) is missing: its index request 404s and nothing more is asked
    assert by_key["end/c/1/1"] == [SuffixRequest(INDEX_BYTES)]
    ideal = 3 * INDEX_BYTES
    for shard in [(0, 0), (0, 1), (1, 0)]:
        reqs = by_key[f"end/c/{shard[0]}/{shard[1]}"]
        runs = _runs(_index(root, "end", shard), (slice(0, 1), slice(None)))
        assert reqs[0] == SuffixRequest(INDEX_BYTES)
        assert sorted(reqs[1:], key=lambda r: r.offset) == runs
        ideal += sum(r.length for r in runs)
    # shard (0, 0): inner chunk (0, 0) is missing and is not fetched
    assert _index(root, "end", (0, 0))[0, 0].tolist() == [2**64 - 1, 2**64 - 1]
    assert counting.nbytes == ideal


async def test_sharded_read_over_http_counts(store_dir):
    root, data = store_dir
    with run_in_thread(make_app(None, [root])) as url:
        counting, store = _counted(HttpStore(f"{url}/data/s.zarr", fetch))
        got = await _read(store, "end", (slice(None), slice(None)))
    assert np.array_equal(got, data)
    # 4 index requests; 3 present shards each fetched in one coalesced request
    assert len(counting.requests) == 4 + 3


async def test_progress_counts_inner_chunks(store_dir):
    root, _ = store_dir
    arr = await (await Hierarchy.open(wrap(LocalStore(root)))).array("end")
    calls = []
    await arr.read((slice(0, 5), slice(0, 3)), progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (6, 6) and [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_index_struct_sanity(store_dir):
    root, _ = store_dir
    raw = (root / "end" / "c" / "0" / "1").read_bytes()
    assert struct.unpack("<Q", raw[-INDEX_BYTES:][:8])[0] < len(raw)

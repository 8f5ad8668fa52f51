"""Stored size (listable stores, from the listing alone) and per-array fetch counts (any store,
HTTP included) for the info view's compression ratio, on stores written by zarr-python."""

from __future__ import annotations

import json
import os
import shutil
import warnings

import numpy as np
import pytest
import zarr
from zarr.codecs import ZstdCodec

from pyzarr_web.core import Hierarchy, open_store, raw_store, wrap
from pyzarr_web.core.array import METADATA_KEYS
from pyzarr_web.core.store import WrapperStore
from pyzarr_web.core.stores.memory import MemoryStore
from pyzarr_web.tools.serve import make_app, run_in_thread


def _chunk_files(array_dir) -> dict[str, int]:
    """Chunk files of an array directory and their sizes, by walking the disk."""
    out = {}
    for dirpath, _, files in os.walk(array_dir):
        for f in files:
            if f not in METADATA_KEYS:
                p = os.path.join(dirpath, f)
                out[os.path.relpath(p, array_dir).replace(os.sep, "/")] = os.path.getsize(p)
    return out


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    base = tmp_path_factory.mktemp("stored")
    rng = np.random.default_rng(0)
    smooth = (np.arange(40 * 30).reshape(40, 30) // 7).astype("<u2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g3 = zarr.open_group(str(base / "v3.zarr"), mode="w", zarr_format=3)
        a = g3.create_array("grp/smooth", shape=(40, 30), chunks=(10, 10), dtype="<u2",
                            compressors=ZstdCodec(level=3))
        a[:] = smooth
        a[:10, :10] = 0  # all fill value: zarr-python does not write the chunk
        sh = g3.create_array("sharded", shape=(16, 16), dtype="<i4", shards=(8, 8),
                             chunks=(4, 4), compressors=ZstdCodec())
        sh[:] = rng.integers(0, 5, (16, 16))
        g2 = zarr.open_group(str(base / "v2.zarr"), mode="w", zarr_format=2)
        b = g2.create_array("noise", shape=(20, 20), chunks=(10, 10), dtype="<f8")
        b[:] = rng.random((20, 20))
        c = g2.create_array("nested", shape=(20, 20), chunks=(10, 10), dtype="<i2",
                            chunk_key_encoding={"name": "v2", "separator": "/"})
        c[:] = 3
        zarr.consolidate_metadata(str(base / "v2.zarr"))
    shutil.make_archive(str(base / "v3"), "zip", base / "v3.zarr")
    with run_in_thread(make_app(None, [base / "v3.zarr", base / "v2.zarr"])) as url:
        yield base, f"{url}/data", smooth


@pytest.mark.parametrize("array", ["v3.zarr/grp/smooth", "v3.zarr/sharded", "v2.zarr/noise",
                                   "v2.zarr/nested"])
async def test_stored_bytes_matches_the_disk(stores, array):
    base, url, _ = stores
    store_name, path = array.split("/", 1)
    expected = sum(_chunk_files(base / store_name / path).values())
    assert expected > 0
    sources = [str(base / store_name)]
    if store_name == "v3.zarr":
        sources.append(str(base / "v3.zip"))
    for source in sources:
        h = await Hierarchy.open(open_store(source))
        arr = await h.array(path)
        assert await arr.stored_bytes() == expected, source
        assert arr.bytes_fetched == 0  # the listing read no chunk
    # HTTP cannot list: unknown until read
    h = await Hierarchy.open(open_store(f"{url}/{store_name}"))
    assert await (await h.array(path)).stored_bytes() is None


async def test_stored_bytes_of_a_root_array_in_memory():
    meta = {"zarr_format": 3, "node_type": "array", "shape": [4], "data_type": "uint8",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}},
            "chunk_key_encoding": {"name": "default"}, "fill_value": 0,
            "codecs": [{"name": "bytes"}]}
    store = MemoryStore({"zarr.json": json.dumps(meta).encode(), "c/0": b"\1\2", "c/1": b"\3\4"})
    arr = await (await Hierarchy.open(store)).array("")
    assert await arr.stored_bytes() == 4
    assert (await arr.read()).tolist() == [1, 2, 3, 4] and arr.bytes_fetched == 4
    assert arr.estimated_ratio() == 1.0


async def test_fetch_counts_over_http(stores):
    base, url, smooth = stores
    files = _chunk_files(base / "v3.zarr" / "grp" / "smooth")
    h = await Hierarchy.open(open_store(f"{url}/v3.zarr"))
    arr = await h.array("grp/smooth")
    assert (arr.bytes_fetched, arr.chunks_fetched, arr.estimated_ratio()) == (0, 0, None)
    np.testing.assert_array_equal(await arr.read("10:20, 0:10"), smooth[10:20, :10])
    assert arr.chunks_fetched == 1 and arr.bytes_fetched == files["c/1/0"]
    got = await arr.read()
    assert got[:10, :10].max() == 0
    # every stored chunk once (the fill-value chunk is missing: not counted), rereads are free
    assert arr.chunks_fetched == len(files) == 11 and arr.bytes_fetched == sum(files.values())
    await arr.read()
    assert arr.chunks_fetched == 11 and arr.bytes_fetched == sum(files.values())
    assert arr.estimated_ratio() == pytest.approx(11 * 200 / sum(files.values()))
    assert await h.array("grp/smooth") is arr  # counts live as long as the hierarchy


async def test_fetch_counts_sharded_inner_chunks_and_index(stores):
    base, url, _ = stores
    files = _chunk_files(base / "v3.zarr" / "sharded")
    h = await Hierarchy.open(open_store(f"{url}/v3.zarr"))
    arr = await h.array("sharded")
    await arr.read("0:4, 0:8")  # two inner chunks of shard (0, 0)
    index = 16 * 4 + 4
    assert arr.chunks_fetched == 2
    assert index < arr.bytes_fetched < index + 2 * 4 * 4 * 4 + 100
    await arr.read()
    assert arr.chunks_fetched == 16 and arr.bytes_fetched == sum(files.values())
    assert arr.estimated_ratio() == pytest.approx(16 * 64 / sum(files.values()))


async def test_fetch_counter_keeps_inner_coalescing(stores):
    """Counting sits above the default wrappers: inner chunks still go out as merged ranges."""
    base, _, _ = stores

    class Requests(WrapperStore):
        def __init__(self, inner):
            super().__init__(inner)
            self.ranges = []

        async def get(self, key, byte_range=None):
            self.ranges.append(byte_range)
            return await self.inner.get(key, byte_range)

    counted = Requests(raw_store(str(base / "v3.zarr")))
    h = await Hierarchy.open(wrap(counted))
    arr = await h.array("sharded")
    counted.ranges.clear()
    await arr.read("0:8, 0:8")  # one shard: its index, then its 4 inner chunks in one range
    assert len(counted.ranges) == 2 and arr.chunks_fetched == 4

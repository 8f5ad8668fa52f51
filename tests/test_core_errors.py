"""Failure modes and read semantics beyond the matrix: corrupt and oversized chunks, refused
codecs, budgets, cancellation, selections numpy allows but zarr-python does not (negative steps)."""

from __future__ import annotations

import asyncio
import json
import zlib

import crc32c
import numpy as np
import pytest

from pyzarr_web.core import (
    BudgetError,
    CodecError,
    Hierarchy,
    MetadataError,
    NodeNotFoundError,
    SelectionError,
    parse_selection,
    wrap,
)
from pyzarr_web.core.store import Store
from pyzarr_web.core.stores.memory import MemoryStore


def v2_store(chunk: bytes | None = None, **zarray) -> MemoryStore:
    meta = {"zarr_format": 2, "shape": [4, 4], "chunks": [4, 4], "dtype": "<i4",
            "compressor": {"id": "zlib", "level": 1}, "fill_value": 0, "order": "C",
            "filters": None, **zarray}
    values = {".zarray": json.dumps(meta).encode()}
    if chunk is not None:
        values["0.0"] = chunk
    return MemoryStore(values)


def v3_store(chunk: bytes | None, codecs: list, shape=(4, 4)) -> MemoryStore:
    meta = {"zarr_format": 3, "node_type": "array", "shape": list(shape), "data_type": "int32",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(shape)}},
            "chunk_key_encoding": {"name": "default"}, "fill_value": 0, "codecs": codecs}
    values = {"zarr.json": json.dumps(meta).encode()}
    if chunk is not None:
        values["c/0/0"] = chunk
    return MemoryStore(values)


async def read(store: Store, sel=None, **kw):
    return await (await (await Hierarchy.open(store)).array("")).read(sel, **kw)


DATA = np.arange(16, dtype="<i4").reshape(4, 4)


async def test_truncated_chunk_names_the_key(backend):
    with pytest.raises(CodecError, match="chunk '0.0'"):
        await read(v2_store(zlib.compress(DATA.tobytes())[:-5]))


async def test_decompression_bomb_is_refused(backend):
    bomb = zlib.compress(bytes(64 << 20))
    with pytest.raises(CodecError, match=r"chunk '0\.0'.*(exceeds|more than)"):
        await read(v2_store(bomb))


async def test_short_chunk_is_refused(backend):
    with pytest.raises(CodecError, match="chunk '0.0'.*decoded 32 bytes, expected 64"):
        await read(v2_store(zlib.compress(DATA.tobytes()[:32])))


async def test_crc32c_mismatch():
    codecs = [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]
    good = DATA.tobytes() + crc32c.crc32c(DATA.tobytes()).to_bytes(4, "little")
    assert np.array_equal(await read(v3_store(good, codecs)), DATA)
    bad = b"\x01" + good[1:]
    with pytest.raises(CodecError, match="c/0/0.*crc32c checksum mismatch"):
        await read(v3_store(bad, codecs))


@pytest.mark.parametrize("codec", [{"id": "pickle"}])
async def test_pickle_is_refused(codec):
    store = v2_store(None, dtype="|O", filters=[codec], compressor=None)
    with pytest.raises(MetadataError, match="'pickle' is refused"):
        await Hierarchy.open(store)


async def test_unknown_codec_is_named():
    store = v3_store(None, [{"name": "bytes"}, {"name": "mystery"}])
    with pytest.raises(MetadataError, match="zarr.json.*unsupported codec 'mystery'"):
        await Hierarchy.open(store)


async def test_missing_node_and_group_as_array():
    store = MemoryStore({"zarr.json": b'{"zarr_format": 3, "node_type": "group"}'})
    h = await Hierarchy.open(store)
    with pytest.raises(NodeNotFoundError, match="no group or array at 'x'"):
        await h.node("x")
    with pytest.raises(NodeNotFoundError, match="is a group"):
        await h.array("")
    with pytest.raises(NodeNotFoundError, match="no Zarr group or array at the root"):
        await Hierarchy.open(MemoryStore())


async def test_budget_is_enforced_with_advice():
    store = v2_store(zlib.compress(DATA.tobytes()))
    with pytest.raises(BudgetError, match="coarser pyramid level"):
        await read(store, budget_bytes=32)
    assert (await read(store, (0,), budget_bytes=16)).tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("text", ["...", "", ":", "-1", "::-1", "1:3,::-2", "0,...", "...,-2",
                                  "3:0:-1, 1", "-3:", " 1 , 2 "])
async def test_text_selections_match_numpy(text):
    store = v2_store(zlib.compress(DATA.tobytes()), chunks=[3, 3])
    store.values.update({k: zlib.compress(np.ascontiguousarray(
        np.pad(DATA, ((0, 2), (0, 2)))[3 * int(k[0]):3 * int(k[0]) + 3,
                                       3 * int(k[2]):3 * int(k[2]) + 3]).tobytes())
        for k in ("0.0", "0.1", "1.0", "1.1")})
    got = await read(store, text)
    expected = DATA[parse_selection(text)]
    assert got.shape == expected.shape and np.array_equal(got, expected)


@pytest.mark.parametrize("text", ["a", "1:2:3:4", "1,,2"])
def test_bad_text_selection(text):
    with pytest.raises(SelectionError):
        parse_selection(text)


async def test_out_of_bounds_and_too_many_indices():
    store = v2_store(zlib.compress(DATA.tobytes()))
    with pytest.raises(SelectionError, match="out of bounds"):
        await read(store, (4,))
    with pytest.raises(SelectionError, match="too many indices"):
        await read(store, (0, 0, 0))


class Hanging(MemoryStore):
    def __init__(self, values):
        super().__init__(values)
        self.waiting = 0
        self.cancelled = 0

    async def get(self, key, byte_range=None):
        if not key[0].isdigit():  # metadata answers at once; chunks hang
            return await super().get(key, byte_range)
        self.waiting += 1
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise


async def test_cancelling_a_read_cancels_its_fetches():
    store = Hanging(v2_store(None, shape=[40, 40], chunks=[4, 4]).values)
    arr = await (await Hierarchy.open(wrap(store, concurrency=6))).array("")
    task = asyncio.ensure_future(arr.read())
    while store.waiting < 6:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert store.waiting == 6 and store.cancelled == 6  # the other 94 chunks were never asked


async def test_v3_consolidated_metadata_needs_one_request():
    child = {"zarr_format": 3, "node_type": "array", "shape": [2], "data_type": "uint8",
             "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}},
             "chunk_key_encoding": {"name": "default"}, "fill_value": 5,
             "codecs": [{"name": "bytes"}], "attributes": {"_ARRAY_DIMENSIONS": ["x"]}}
    root = {"zarr_format": 3, "node_type": "group", "attributes": {},
            "consolidated_metadata": {"kind": "inline", "must_understand": False,
                                      "metadata": {"a": child, "g": {
                                          "zarr_format": 3, "node_type": "group"}}}}
    asked = []

    class Recording(MemoryStore):
        async def get(self, key, byte_range=None):
            asked.append(key)
            return await super().get(key, byte_range)

    h = await Hierarchy.open(Recording({"zarr.json": json.dumps(root).encode()}))
    assert h.consolidated
    assert [n.path for n in await h.walk()] == ["", "a", "g"]
    arr = await h.array("a")
    assert arr.dimension_names == ["x"] and arr.fill_value == 5
    assert (await arr.read()).tolist() == [5, 5]  # missing chunk → fill value
    assert asked == ["zarr.json", "a/c/0"]

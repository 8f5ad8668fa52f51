"""The core's newer guarantees in the product's runtime (Pyodide in a Web Worker in Chromium, stores
over real HTTP): discovery without consolidated metadata, decompression bombs refused with the
browser codec backend (imagecodecs' zstd/lzma as built for Pyodide), identical concurrent
requests fetched once. Needs a built site (``python build.py``; ``PYZARR_WEB_SITE`` to point
elsewhere); Chromium missing → fail, never skip."""

from __future__ import annotations

import json
import lzma
import warnings

import pytest
import test_core_discovery as disc
from conftest import booted_harness
from test_core_bounds import BOMB, zstd_rle_frame

pytestmark = pytest.mark.browser


def _v2_array(root, chunk: bytes, compressor: dict, dtype="<i4", shape=(4, 4), filters=None):
    root.mkdir(parents=True)
    (root / ".zarray").write_text(json.dumps({
        "zarr_format": 2, "shape": list(shape), "chunks": list(shape), "dtype": dtype,
        "compressor": compressor, "fill_value": None if dtype == "|O" else 0, "order": "C",
        "filters": filters}))
    (root / ".".join("0" * len(shape))).write_bytes(chunk)


@pytest.fixture(scope="module")
def harness(request, tmp_path_factory):
    stores = tmp_path_factory.mktemp("core-browser") / "stores"
    stores.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, write in disc.WRITERS.items():
            write(stores / name)
    (stores / "plate.zarr" / "B" / ".zgroup").unlink()
    _v2_array(stores / "zstd-declared", zstd_rle_frame(BOMB), {"id": "zstd"})
    _v2_array(stores / "zstd-undeclared", zstd_rle_frame(BOMB, declare=False), {"id": "zstd"})
    _v2_array(stores / "lzma", lzma.compress(bytes(BOMB)), {"id": "lzma"})
    _v2_array(stores / "vlen", zstd_rle_frame(BOMB, declare=False), {"id": "zstd"}, "|O", (4,),
              [{"id": "vlen-utf8"}])
    _v2_array(stores / "plain", bytes(range(64)), None, "|u1", (8, 8))
    with booted_harness(request, stores) as h:
        yield h


WALK = r'''
async def h_walk(url, include=()):
    h = await Hierarchy.open(open_store(url))
    nodes = await h.walk(include)
    return json.dumps({"paths": [n.path for n in nodes], "complete": h.complete,
                       "implicit": [n.path for n in nodes if n.implicit],
                       "probes": h.probes, "problems": h.problems})
'''


@pytest.mark.parametrize("store, include, expected", [
    ("ome.zarr", [], ["", "labels", "labels/cells", "labels/cells/0", "s0", "s1"]),
    ("plate.zarr", [], ["", "A", "A/1", "A/1/0", "A/1/0/0", "B", "B/2", "B/2/0", "B/2/0/0"]),
    ("xarray.zarr", ["temp"], ["", "crs", "height", "lat", "lon", "temp", "time"]),
    ("geozarr.zarr", ["0/band"], ["", "0", "0/band", "0/x", "0/y", "1", "1/band", "1/x", "1/y"]),
    ("layout.zarr", [], ["", "r10m", "r10m/data", "r20m", "r20m/data"]),
])
def test_discovery_in_the_browser(harness, store, include, expected):
    harness.run(WALK + "\n'ok'")
    out = harness.call("h_walk", harness.store_url(store), include)
    assert out["paths"] == expected and out["complete"] is False and out["problems"] == []
    assert out["implicit"] == (["B"] if store == "plate.zarr" else [])


@pytest.mark.parametrize("store, key, pattern", [
    ("zstd-declared", "0.0", "header announces"),
    ("zstd-undeclared", "0.0", "exceeds"),
    ("lzma", "0.0", "exceeds"),
    ("vlen", "0", "exceeds"),
])
def test_bombs_are_refused_in_the_browser(harness, store, key, pattern):
    out = harness.read(store, "", [(Ellipsis,)])
    assert out["backend"] == "browser"
    error = out["results"][0]["error"]
    assert error.startswith("CodecError") and f"chunk {key!r}" in error and pattern in error, error


SHARED = r'''
async def h_two_views(url):
    h = await Hierarchy.open(open_store(url))
    arr = await h.array("")
    a, b = await asyncio.gather(arr.read((slice(0, 4), slice(None))),
                                arr.read((slice(None), slice(0, 4))))
    return json.dumps([int(a.sum()), int(b.sum()), arr.chunks_fetched, arr.bytes_fetched])
'''


def test_two_views_fetch_a_chunk_once_in_the_browser(harness):
    harness.run("import asyncio\n" + SHARED + "\n'ok'")
    harness.log.clear()
    a_sum, b_sum, chunks, nbytes = harness.call("h_two_views", harness.store_url("plain"))
    assert (a_sum, b_sum) == (sum(range(32)), sum(r * 8 + c for r in range(8) for c in range(4)))
    assert (chunks, nbytes) == (1, 64)
    chunk_requests = [r for r in harness.log.under("/data/stores/plain/") if r.path.endswith("0.0")]
    assert len(chunk_requests) == 1

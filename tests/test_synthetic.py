"""The procedural stores (pyzarr_web/tools/synthetic.py) are real Zarr: zarr-python and our reader get
exactly the formula's values over HTTP, the conventions parser recognises both pyramids, the
server answers Range like a static file server, and nothing big is ever materialised."""

from __future__ import annotations

import json
import time

import httpx
import numpy as np
import pytest
import zarr

from pyzarr_web.core import Hierarchy, open_store
from pyzarr_web.core.conventions import read_level_metadata, read_multiscale
from pyzarr_web.tools.serve import run_in_thread
from pyzarr_web.tools.synthetic import (
    EXTRA_STEP,
    GEO_SCALE,
    SyntheticServer,
    default_stores,
    geozarr_pyramid,
    parse_range,
    pattern,
)

N = 2**20


@pytest.fixture(scope="module")
def served():
    server = SyntheticServer(default_stores())
    with run_in_thread(server) as base:
        server.url = base
        yield server


def formula(level: int, rows: slice, cols: slice) -> np.ndarray:
    """Pyramid level LEVEL's values from the documented formula, independently of the stores."""
    y = np.arange(rows.start, rows.stop, dtype=np.uint32)[:, None] << level
    x = np.arange(cols.start, cols.stop, dtype=np.uint32)[None, :] << level
    return pattern(y, x)


# (store, array path, selection, expected): regions at the corners, across shard/chunk edges, and
# at the finest and coarsest levels
CASES = [
    ("ome.zarr", "0", (slice(0, 300), slice(0, 300)), lambda: formula(0, slice(0, 300), slice(0, 300))),
    ("ome.zarr", "0", (slice(524_200, 524_400), slice(N - 260, N)),
     lambda: formula(0, slice(524_200, 524_400), slice(N - 260, N))),
    ("ome.zarr", "3", (slice(1000, 1100), slice(2040, 2060)),
     lambda: formula(3, slice(1000, 1100), slice(2040, 2060))),
    ("ome.zarr", "10", (slice(0, 1024), slice(700, 1024)), lambda: formula(10, slice(0, 1024), slice(700, 1024))),
    ("ome-c3.zarr", "4", (slice(0, 3), slice(60_000, 60_010), slice(5, 9)),
     lambda: (formula(4, slice(60_000, 60_010), slice(5, 9))[None]
              + (np.arange(3)[:, None, None] * EXTRA_STEP).astype(np.uint16)).astype(np.uint16)),
    ("geo.zarr", "0", (slice(65_000, 65_536), slice(131_000, 131_072)),
     lambda: formula(0, slice(65_000, 65_536), slice(131_000, 131_072)).astype(np.float32) * np.float32(GEO_SCALE)),
    ("geo.zarr", "7", (slice(0, 512), slice(0, 1024)),
     lambda: formula(7, slice(0, 512), slice(0, 1024)).astype(np.float32) * np.float32(GEO_SCALE)),
    ("huge.zarr", "", (slice(N - 513, N - 1), slice(1000, 1030)),
     lambda: formula(0, slice(N - 513, N - 1), slice(1000, 1030))),
    ("small.zarr", "", (slice(0, 1024), slice(0, 1024)), lambda: formula(0, slice(0, 1024), slice(0, 1024))),
]
IDS = [f"{s}/{p}[{','.join(f'{x.start}:{x.stop}' for x in sel)}]" for s, p, sel, _ in CASES]


@pytest.mark.parametrize("store,path,selection,expected", CASES, ids=IDS)
def test_zarr_python_reads_the_formula_over_http(served, store, path, selection, expected):
    url = served.store_url(store)
    arr = zarr.open_group(url, mode="r")[path] if path else zarr.open_array(url, mode="r")
    want = expected()
    assert arr[selection].dtype == want.dtype
    np.testing.assert_array_equal(arr[selection], want)
    np.testing.assert_array_equal(served.stores[store].array(path)[selection], want)


@pytest.mark.parametrize("store,path,selection,expected", CASES, ids=IDS)
async def test_our_reader_reads_the_formula_over_http(served, backend, store, path, selection, expected):
    """With each codec backend: numcodecs, and the browser's (imagecodecs, blosc2)."""
    hierarchy = await Hierarchy.open(open_store(served.store_url(store)))
    arr = await hierarchy.array(path)
    np.testing.assert_array_equal(await arr.read(selection), expected())


async def _multiscale(served, store):
    hierarchy = await Hierarchy.open(open_store(served.store_url(store)))
    ms = read_multiscale(hierarchy.root.attributes, 3)
    assert ms is not None, f"{store} not recognised as a multiscale"
    return await read_level_metadata(ms, hierarchy, "")


async def test_ome_pyramid_is_recognised(served):
    ms = await _multiscale(served, "ome.zarr")
    assert (ms.convention, ms.version, ms.problems) == ("ome-ngff", "0.5", [])
    assert [(a.name, a.type, a.unit) for a in ms.axes] == [("y", "space", "micrometer"),
                                                            ("x", "space", "micrometer")]
    assert [lv.path for lv in ms.levels] == [str(i) for i in range(11)]
    assert [lv.scale for lv in ms.levels] == [(0.5 * 2**i, 0.5 * 2**i) for i in range(11)]
    assert [lv.shape for lv in ms.levels] == [(2 ** (20 - i),) * 2 for i in range(11)]
    assert [lv.chunks for lv in ms.levels] == [(256, 256)] * 11  # inner chunks of the shards
    assert ms.georef is None
    channels = await _multiscale(served, "ome-c3.zarr")
    assert [a.name for a in channels.axes] == ["c", "y", "x"] and len(channels.channels) == 3
    assert channels.levels[5].shape == (3, 2**15, 2**15) and channels.levels[5].scale == (1, 16, 16)


async def test_geozarr_pyramid_is_recognised(served):
    ms = await _multiscale(served, "geo.zarr")
    assert (ms.convention, ms.problems) == ("geozarr", [])
    assert [lv.path for lv in ms.levels] == [str(i) for i in range(8)]
    assert [lv.scale for lv in ms.levels] == [(2**i, 2**i) for i in range(8)]
    assert [lv.shape for lv in ms.levels] == [(2 ** (16 - i), 2 ** (17 - i)) for i in range(8)]
    assert ms.georef.code == "EPSG:4326" and ms.georef.bbox == (-180, -90, 180, 90)
    assert ms.georef.affine == (360 / 2**17, 0, -180, 0, -180 / 2**16, 90)
    assert ms.levels[3].affine == (360 / 2**14, 0, -180, 0, -180 / 2**13, 90)
    assert [a.name for a in ms.axes] == ["lat", "lon"]


def test_every_tile_of_every_level_differs_from_its_neighbours():
    """A tile read from the wrong place must not pass: 256² tiles differ at every level."""
    rng = np.random.default_rng(0)
    for level in range(11):
        tiles = 2 ** (20 - level) // 256
        for _ in range(20):
            ty, tx = (int(v) for v in rng.integers(0, tiles, 2))
            tile = formula(level, slice(ty * 256, ty * 256 + 256), slice(tx * 256, tx * 256 + 256))
            for oy, ox in ((ty + 1, tx), (ty, tx + 1), (ty + 1, tx + 1), (ty - 1, tx + 1),
                           tuple(int(v) for v in rng.integers(0, tiles, 2))):
                if (oy, ox) != (ty, tx) and 0 <= oy < tiles and 0 <= ox < tiles:
                    other = formula(level, slice(oy * 256, oy * 256 + 256), slice(ox * 256, ox * 256 + 256))
                    assert not np.array_equal(tile, other), (level, ty, tx, oy, ox)


# --------------------------------------------------------------------------------- HTTP


@pytest.mark.parametrize("header,expected", [
    (None, None), ("bytes=0-9", (0, 10)), ("bytes=10-", (10, 100)), ("bytes=-16", (84, 100)),
    ("bytes=-500", (0, 100)), ("bytes=90-200", (90, 100)), ("bytes=100-", "unsatisfiable"),
    ("bytes=-0", "unsatisfiable"), ("bytes=5-2", None), ("bytes=0-1,5-6", None), ("items=0-1", None),
    ("bytes=x-1", None)])
def test_parse_range(header, expected):
    assert parse_range(header, 100) == expected


def test_ranges_heads_and_misses_over_http(served):
    store = served.stores["ome.zarr"]
    key = "2/c/100/37"  # a shard of level 2
    whole = store[key]
    assert len(whole) == store.size(key) == store.array("2").shard_layout((100, 37)).nbytes
    url = f"{served.store_url('ome.zarr')}/{key}"
    with httpx.Client() as client:
        r = client.get(url, headers={"Origin": "http://elsewhere"})
        assert (r.status_code, r.content) == (200, whole)
        assert r.headers["access-control-allow-origin"] == "*"
        for header, lo, hi in [("bytes=-260", len(whole) - 260, len(whole)), ("bytes=1000-", 1000, len(whole)),
                               ("bytes=5-70000", 5, 70001)]:
            r = client.get(url, headers={"Range": header})
            assert r.status_code == 206 and r.content == whole[lo:hi], header
            assert r.headers["content-range"] == f"bytes {lo}-{hi - 1}/{len(whole)}"
        r = client.get(url, headers={"Range": f"bytes={len(whole)}-"})
        assert (r.status_code, r.headers["content-range"]) == (416, f"bytes */{len(whole)}")
        r = client.head(url)
        assert (r.status_code, r.headers["content-length"], r.content) == (200, str(len(whole)), b"")
        for missing in ("2/c/100/9999", "2/c/100", "2/c/x/1", "11/zarr.json", "nothing"):
            assert client.get(f"{served.store_url('ome.zarr')}/{missing}").status_code == 404, missing
        assert client.get(f"{served.url}/synthetic/other.zarr/zarr.json").status_code == 404
        listing = client.get(f"{served.url}/synthetic/").json()["stores"]
        assert {"name": "ome.zarr", "url": "/synthetic/ome.zarr"} in listing
        r = client.options(url, headers={"Origin": "http://elsewhere", "Access-Control-Request-Method": "GET",
                                         "Access-Control-Request-Headers": "range"})
        assert r.status_code == 200 and "range" in r.headers["access-control-allow-headers"].lower()


def test_shard_ranges_assemble_only_what_they_cover():
    """Any byte range of a shard equals the same slice of the whole shard."""
    store = geozarr_pyramid(rows_log2=10, smallest_log2=9)  # small: whole values are cheap here
    ome = default_stores()["ome.zarr"]
    for st, key in ((ome, "9/c/1/0"), (store, "0/c/3/7")):
        whole = st[key]
        for lo, hi in ((0, 1), (0, len(whole)), (len(whole) - 4, len(whole)), (100, 70_000), (5000, 5001)):
            assert st.get(key, lo, hi) == whole[lo:hi], (key, lo, hi)


def test_requests_and_bytes_are_counted_per_path(served):
    served.reset()
    base = served.store_url("huge.zarr")
    with httpx.Client() as client:
        client.get(f"{base}/c/1/2")
        client.get(f"{base}/c/1/2", headers={"Range": "bytes=0-99"})
        client.get(f"{base}/zarr.json")
        stats = client.get(f"{served.url}/synthetic/_stats").json()
    chunk = len(served.stores["huge.zarr"]["c/1/2"])
    assert stats == served.stats() == {
        "/synthetic/huge.zarr/c/1/2": {"requests": 2, "bytes": chunk + 100},
        "/synthetic/huge.zarr/zarr.json": {"requests": 1, "bytes": len(served.stores["huge.zarr"]["zarr.json"])}}
    assert served.totals("/synthetic/huge.zarr/c/")["bytes"] == chunk + 100
    assert httpx.post(f"{served.url}/synthetic/_stats/reset").status_code == 204
    assert served.stats() == {}


def test_opening_reads_metadata_only_and_one_shard_costs_milliseconds(served):
    """Opening a 1 Tpx pyramid and reading a region never lists or materialises anything big:
    metadata documents, then one shard index and the inner chunks in view."""
    served.reset()
    group = zarr.open_group(served.store_url("ome.zarr"), mode="r")
    arr = group["0"]
    # metadata documents only (zarr-python also probes the v2 names, which are 404s)
    assert all(p.rsplit("/", 1)[1] in ("zarr.json", ".zgroup", ".zattrs", ".zmetadata") for p in served.stats())
    start = time.perf_counter()
    block = arr[699_904:700_160, 300_032:300_544]  # a shard never read before: 2 inner chunks
    elapsed = time.perf_counter() - start
    np.testing.assert_array_equal(block, formula(0, slice(699_904, 700_160), slice(300_032, 300_544)))
    shard_stats = served.stats("/synthetic/ome.zarr/0/c/")
    assert list(shard_stats) == [f"/synthetic/ome.zarr/0/c/{699_904 // 1024}/{300_032 // 1024}"]
    ideal = served.stores["ome.zarr"].array("0").stored_bytes(((699_904, 700_160), (300_032, 300_544)))
    assert ideal["chunks"] == 2 and ideal["shards"] == 1 and ideal["index_bytes"] == 16 * 16 + 4
    fetched = sum(s["bytes"] for s in shard_stats.values())
    assert fetched == ideal["chunk_bytes"] + ideal["index_bytes"]
    assert elapsed < 1.0, f"one shard read took {elapsed:.2f} s"


def test_the_store_mapping_is_lazy():
    store = default_stores()["ome.zarr"]
    assert len(store) == 1 + 11 + sum((2 ** (20 - i) // 1024) ** 2 for i in range(11))
    first = [k for _, k in zip(range(14), store)]
    assert first[:3] == ["zarr.json", "0/zarr.json", "1/zarr.json"] and first[12:] == ["0/c/0/0", "0/c/0/1"]
    assert "0/c/1023/1023" in store and "0/c/1024/0" not in store and "0/c/01/0" not in store
    assert store.get("10/c/0/0", 0, 4) == store["10/c/0/0"][:4]


def test_the_session_fixture_serves_site_and_stores_on_one_origin(synthetic_server, site_dir):
    with httpx.Client() as client:
        assert client.get(f"{synthetic_server.url}/").text == (site_dir / "index.html").read_text()
        r = client.get(f"{synthetic_server.store_url('geo.zarr')}/zarr.json")
    assert r.json()["attributes"]["proj:code"] == "EPSG:4326"
    assert synthetic_server.stats("/synthetic/geo.zarr/")["/synthetic/geo.zarr/zarr.json"]["requests"] >= 1


def _written_by_zarr_python(meta: dict, values: np.ndarray, keys: list[str]) -> tuple[dict, list[bytes]]:
    """zarr-python writes VALUES into an array created from our metadata document META; its
    zarr.json and the values of KEYS."""
    from zarr.storage import MemoryStore

    store = MemoryStore()
    arr = zarr.create_array(store, shape=values.shape, dtype=values.dtype,
                            **({"shards": meta["chunk_grid"]["configuration"]["chunk_shape"],
                                "chunks": meta["codecs"][0]["configuration"]["chunk_shape"],
                                "compressors": meta["codecs"][0]["configuration"]["codecs"][1]}
                               if meta["codecs"][0]["name"] == "sharding_indexed" else
                               {"chunks": meta["chunk_grid"]["configuration"]["chunk_shape"],
                                "compressors": meta["codecs"][1]}),
                            dimension_names=meta.get("dimension_names"), attributes=meta["attributes"],
                            fill_value=0)
    arr[...] = values
    doc = json.loads(store._store_dict["zarr.json"].to_bytes())
    return doc, [store._store_dict[k].to_bytes() for k in keys]


@pytest.mark.parametrize("store,path,keys", [
    ("ome.zarr", "10", ["c/0/0"]), ("ome.zarr", "9", ["c/1/0", "c/0/1"]),
    ("small.zarr", "", ["c/0/0", "c/1/1"]), ("geo.zarr", "7", ["c/0/0", "c/1/3"])])
def test_metadata_and_chunks_are_what_zarr_python_writes(store, path, keys):
    """Byte for byte, for the same values: shards (Morton-ordered inner chunks, index with crc32c
    at the end), blosc and zstd chunks, and the zarr.json document."""
    st = default_stores()[store]
    arr = st.array(path)
    ours = json.loads(st[f"{path}/zarr.json" if path else "zarr.json"])
    theirs, chunks = _written_by_zarr_python(ours, arr[()], keys)
    assert ours == {k: v for k, v in theirs.items() if k != "consolidated_metadata"} | {"storage_transformers": []}
    for key, expected in zip(keys, chunks):
        assert st[f"{path}/{key}" if path else key] == expected, key

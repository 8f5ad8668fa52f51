"""The conformance matrix in the product's runtime: Pyodide in a Web Worker in Chromium, reading
stores over real HTTP with Range from the project's server.

Stores are written by zarr-python here, on CPython, with the case definitions and selections of
tests/test_core_conformance.py (imported, not copied) plus a few browser-specific cases (missing
inner chunks, bigger multi-block chunks); the worker reads each selection through the core
(``open_store(URL)`` -> fetch), sends the result back as ``numpy.save`` bytes (never pickle) and
it is compared here with zarr-python's ``arr[sel]`` in values, dtype and shape.

Pyodide boots once per session (pyzarr_web/tools/harness/); every case reuses the page.
Chromium missing -> the tests fail, they do not skip.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import test_core_conformance as conf
import zarr
from conftest import booted_harness
from zarr.codecs import BloscCodec, BytesCodec, GzipCodec, ShardingCodec, ZstdCodec

from pyzarr_web.tools.harness import Harness, dtype_name, ideal_shard_reads, sel_to_json, unpack

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def harness(request, tmp_path_factory):
    with booted_harness(request, tmp_path_factory.mktemp("browser") / "stores") as h:
        yield h


# ------------------------------------------------------------------------------- extra cases


def _extra_cases() -> list[conf.Case]:
    """Cases the CPython matrix does not stress: inner chunks missing inside present shards
    (index at end and at start), and chunks big enough for multi-block blosc / real streams."""
    big = (70, 90)  # ragged against every chunking below
    return [
        conf.Case("x-sharded-missing-inner-end", 3, "<i4", {"shards": (16, 16)},
                  shape=(40, 36), chunks=(4, 4)),
        conf.Case("x-sharded-missing-inner-start", 3, "<u2", {
            "chunks": (16, 16), "compressors": None,
            "serializer": ShardingCodec(chunk_shape=(4, 4), codecs=[BytesCodec(), ZstdCodec()],
                                        index_location="start")}, shape=(40, 36)),
        conf.Case("x-sharded-missing-inner-gzip-f8", 3, "f8", {
            "chunks": (16, 16), "compressors": None,
            "serializer": ShardingCodec(chunk_shape=(8, 4), codecs=[BytesCodec(), GzipCodec()])},
            shape=(40, 36), fill=np.nan),
        conf.Case("x-big-v3-blosc-lz4-bitshuffle-f4", 3, "f4", {"compressors": [
            BloscCodec(cname="lz4", shuffle="bitshuffle", blocksize=2048)]},
            shape=big, chunks=(32, 64)),
        conf.Case("x-big-v3-blosc-zstd-shuffle-u2", 3, "u2", {"compressors": [
            BloscCodec(cname="zstd", clevel=5, shuffle="shuffle", blocksize=1024)]},
            shape=big, chunks=(40, 40)),
        conf.Case("x-big-v2-blosc-lz4-shuffle-i8", 2, "i8", {"compressors": conf.numcodecs.Blosc(
            cname="lz4", shuffle=conf.numcodecs.Blosc.SHUFFLE, blocksize=4096)},
            shape=big, chunks=(33, 50)),
        conf.Case("x-big-v2-zstd-F-f8", 2, "f8", {"compressors": conf.numcodecs.Zstd(level=1),
                                                  "order": "F"}, shape=big, chunks=(32, 32)),
        conf.Case("x-big-v2-lz4-c8", 2, "c8", {"compressors": conf.numcodecs.LZ4()},
                  shape=big, chunks=(32, 32)),
        conf.Case("x-big-v3-gzip-transpose->u4", 3, ">u4", {
            "filters": [conf.TransposeCodec(order=(1, 0))], "serializer": BytesCodec(endian="big"),
            "compressors": [GzipCodec(level=1)]}, shape=big, chunks=(32, 32)),
        conf.Case("x-big-sharded-blosc-zstd-bitshuffle-M8", 3, "M8[ms]", {
            "shards": (64, 64), "compressors": [BloscCodec(cname="zstd", shuffle="bitshuffle")]},
            shape=big, chunks=(16, 32), consolidated=True),
    ]


EXTRA = _extra_cases()
CASES = conf.CASES + EXTRA


def _write_extra(root, case: conf.Case, rng):
    """Like conf._write, but missing inner chunks: rows/cols of inner chunks left at the fill
    value are not stored by zarr-python (write_empty_chunks=False), inside present shards."""
    kwargs = dict(case.kwargs)
    chunks = kwargs.pop("chunks", case.chunks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        group = zarr.open_group(str(root), mode="w", zarr_format=case.fmt)
        arr = group.create_array("g/arr", shape=case.shape, chunks=chunks, dtype=case.dtype,
                                 fill_value=case.fill, config={"write_empty_chunks": False},
                                 **kwargs)
        data = conf._data(case, rng)
        if case.id.startswith("x-sharded-missing"):
            fill = np.nan if case.fill is None or (isinstance(case.fill, float) and np.isnan(
                case.fill)) else case.fill
            data[4:8, :] = fill          # an inner-chunk row missing in shards (0, *)
            data[:, 20:24] = fill        # an inner-chunk column missing in shards (*, 1)
            data[32:, 32:] = fill        # the whole last shard missing
        arr[...] = data
        if case.consolidated:
            zarr.consolidate_metadata(str(root))
    return zarr.open_array(str(root), path="g/arr", mode="r")


_written: dict[str, tuple[str, list]] = {}


def _store_for(harness: Harness, case: conf.Case):
    """Write CASE once into the served directory; (store name, [(sel, expected)])."""
    if case.id not in _written:
        i = CASES.index(case)
        rng = np.random.default_rng(i)  # the same seeds as test_core_conformance
        name = f"{i}.zarr"
        root = harness.stores_root / name
        writer = _write_extra if case in EXTRA else conf._write
        ref = writer(root, case, rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sels = conf._selections(case.shape, rng)
            if case in EXTRA and len(case.shape) == 2:
                sels += [(slice(3, 37, 2), slice(5, 30)), (slice(None), 21), (-1, slice(None))]
            expected = [(sel, np.asarray(ref[sel])) for sel in sels]
        _written[case.id] = (name, expected)
    return _written[case.id]


def _same(got: np.ndarray, exp: np.ndarray) -> bool:
    if got.dtype.kind == "T" or exp.dtype.kind == "T":
        return got.tolist() == exp.tolist()
    return conf._equal(got, exp)


# ------------------------------------------------------------------------------------ tests


def test_runtime_is_pyodide_with_browser_codecs(harness):
    env = harness.call("h_env")
    assert env["platform"] == "emscripten"
    assert env["backend"] == "browser"  # numcodecs does not exist there


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_matrix_in_browser(harness, case):
    name, expected = _store_for(harness, case)
    out = harness.read(name, "g/arr", [sel for sel, _ in expected])
    assert out["consolidated"] == case.consolidated
    failures = []
    for (sel, exp), res in zip(expected, out["results"], strict=True):
        if "error" in res:
            failures.append(f"{sel}: {res['error']}")
            continue
        got = res["value"]
        if dtype_name(got) != dtype_name(exp):
            failures.append(f"{sel}: dtype {dtype_name(got)} != {dtype_name(exp)}")
        elif got.shape != exp.shape:
            failures.append(f"{sel}: shape {got.shape} != {exp.shape}")
        elif not _same(got, exp):
            failures.append(f"{sel}: values differ\n got {got!r}\n exp {exp!r}")
    assert not failures, f"{len(failures)}/{len(expected)} selections wrong:\n" + "\n".join(
        failures[:5])


# ------------------------------------------------------------------------ request accounting


ACCOUNTING = [
    # (array, index location, selection)
    ("end", (slice(5, 20), slice(10, 40))),          # 2 x 2 shards, partial
    ("end", (slice(0, 64, 16), slice(None))),        # strided rows across all shards
    ("start", (slice(30, 34), slice(30, 34))),       # 4 shards meet, one inner chunk each
    ("end", (slice(None), 3)),                        # a column through a missing shard
]


@pytest.fixture(scope="module")
def accounting_store(harness):
    name = "accounting.zarr"
    root = harness.stores_root / name
    data = np.arange(64 * 64, dtype="<i4").reshape(64, 64)
    data[8:16, :] = 0            # a row of inner chunks missing in every top shard
    data[32:, :32] = 0           # shard (1, 0) missing entirely
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = zarr.open_group(str(root), mode="w", zarr_format=3)
        for loc in ("end", "start"):
            a = g.create_array(loc, shape=data.shape, chunks=(32, 32), dtype="<i4",
                               compressors=None, fill_value=0,
                               serializer=ShardingCodec(chunk_shape=(8, 8), codecs=[
                                   BytesCodec(), ZstdCodec()], index_location=loc))
            a[...] = data
    return name, root, data


@pytest.mark.parametrize("array, sel", ACCOUNTING, ids=[f"{a}-{i}" for i, (a, _) in
                                                       enumerate(ACCOUNTING)])
def test_sharded_read_requests_and_bytes(harness, accounting_store, array, sel):
    """Counted at the server: one index request per touched shard (a missing shard's 404
    included), then only the needed inner chunks' compressed bytes, back-to-back ones in one
    request. Metadata requests are counted apart."""
    name, root, data = accounting_store
    ideal = ideal_shard_reads(root / array, sel)
    harness.log.clear()
    # a fresh store object (no cache) per read; the metadata is re-read as well
    spec = repr(sel_to_json(sel))
    code = (f"_h = await Hierarchy.open(open_store({harness.store_url(name)!r}))\n"
            f"_a = await _h.array({array!r})\n"
            f"json.dumps(_h_pack(await _a.read(_h_sel({spec}))))")
    got = unpack(json.loads(harness.run(code)))
    assert np.array_equal(got, data[sel])
    reqs = harness.log.under(f"/data/{harness.stores_root.name}/{name}/{array}/")
    meta = [r for r in reqs if r.path.endswith("zarr.json")]
    chunk = [r for r in reqs if not r.path.endswith("zarr.json")]
    assert len(meta) == 1
    nbytes = sum(r.body_bytes for r in chunk if r.status < 300)  # a 404's "Not Found" is no data
    assert all(r.range for r in chunk), [(r.path, r.range) for r in chunk if not r.range]
    assert (len(chunk), nbytes) == (ideal["requests"], ideal["bytes"]), (ideal, [
        (r.path, r.range, r.status, r.body_bytes) for r in chunk])
    assert sum(r.status == 404 for r in chunk) == ideal["shards"] - ideal["present_shards"]

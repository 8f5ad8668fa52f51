"""Conformance matrix: zarr-python writes stores in tmp dirs, our reader reads them, results must
equal zarr-python's ``arr[sel]`` in values, dtype and shape — once with the numcodecs backend and
once with the browser backend (imagecodecs / blosc2 / stdlib) forced, on the same bytes.

Axes: codecs and filters × dtypes × v2/v3 × sharded/unsharded × missing chunks × ragged edges ×
F order × consolidated or not × fixed and random selections.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numcodecs
import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, ShardingCodec, TransposeCodec, ZstdCodec
from zarr.codecs import numcodecs as nz3
from zarr.core.dtype import VariableLengthBytes

from pyzarr_web.core import Hierarchy, open_store

SHAPE, CHUNKS, SHARDS = (7, 11), (3, 4), (6, 8)  # ragged edges on both axes


@dataclass
class Case:
    id: str
    fmt: int
    dtype: object
    kwargs: dict = field(default_factory=dict)
    fill: object = 0
    shape: tuple = SHAPE
    chunks: tuple = CHUNKS
    consolidated: bool = False


def _cases() -> list[Case]:
    cases = []
    # dtypes, both formats; every other one consolidated
    for i, dt in enumerate(["bool", "i1", "u1", "i2", "<u2", ">i4", "u4", "i8", "u8", "f2", "<f4",
                            ">f8", "c8", "c16", "M8[ns]", "m8[s]", "S5", "U3"]):
        for fmt in (2, 3):
            big_v3 = fmt == 3 and np.dtype(dt).byteorder == ">"
            kw = {"serializer": BytesCodec(endian="big")} if big_v3 else {}
            cases.append(Case(f"dtype-{dt}-v{fmt}", fmt, dt, kw, consolidated=bool(i % 2)))
    cases += [
        Case("structured-v2", 2, [("a", "<i4"), ("b", "<f8"), ("c", "S2")]),
        Case("str-v2", 2, str, fill=""), Case("str-v3", 3, str, fill="", consolidated=True),
        Case("bytes-v2", 2, bytes, fill=b""), Case("bytes-v3", 3, bytes, fill=b"", consolidated=True),
        Case("f4-nan-fill-v3", 3, "f4", fill=np.nan), Case("f8-inf-fill-v2", 2, "f8", fill=-np.inf),
        Case("c8-fill-v3", 3, "c8", fill=1 + 2j), Case("c16-fill-v2", 2, "c16", fill=-1j),
        Case("i4-nofill-v2", 2, "i4", fill=None), Case("u2-fill-v3", 3, "u2", fill=7),
        Case("str-fill-v3", 3, str, fill="zz"), Case("S3-fill-v2", 2, "S3", fill=b"ab"),
        Case("F-order-v2", 2, "i4", {"order": "F"}),
        Case("F-order-str-v2", 2, str, {"order": "F"}, fill=""),
        Case("0d-v3", 3, "f8", shape=(), chunks=()), Case("0d-v2", 2, "i2", shape=(), chunks=()),
        Case("3d-v3", 3, "u2", shape=(5, 6, 7), chunks=(2, 4, 3)),
        Case("empty-axis-v3", 3, "i4", shape=(0, 5), chunks=(2, 2)),
        Case("dimsep-slash-v2", 2, "i4", {"chunk_key_encoding": {"name": "v2", "separator": "/"}}),
        Case("v2-keys-in-v3", 3, "i4", {"chunk_key_encoding": {"name": "v2", "separator": "."}}),
    ]
    # v2 compressors
    for name, comp in [("zlib", numcodecs.Zlib(level=3)), ("gzip", numcodecs.GZip()),
                       ("bz2", numcodecs.BZ2()), ("lzma", numcodecs.LZMA()),
                       ("zstd", numcodecs.Zstd(level=3)), ("lz4", numcodecs.LZ4()),
                       ("none", None)]:
        cases.append(Case(f"v2-{name}", 2, "f4", {"compressors": comp}))
    for cname in ("lz4", "lz4hc", "zstd", "zlib", "blosclz"):
        for shuffle in (numcodecs.Blosc.NOSHUFFLE, numcodecs.Blosc.SHUFFLE,
                        numcodecs.Blosc.BITSHUFFLE):
            cases.append(Case(f"v2-blosc-{cname}-{shuffle}", 2, "i4",
                              {"compressors": numcodecs.Blosc(cname=cname, shuffle=shuffle)}))
    # v2 filters
    cases += [
        Case("v2-delta", 2, "i4", {"filters": [numcodecs.Delta(dtype="i4", astype="i8")]}),
        Case("v2-fixedscaleoffset", 2, "f8", {"filters": [numcodecs.FixedScaleOffset(
            offset=10, scale=100, dtype="f8", astype="i4")]}),
        Case("v2-quantize", 2, "f8", {"filters": [numcodecs.Quantize(digits=3, dtype="f8")]}),
        Case("v2-bitround", 2, "f4", {"filters": [numcodecs.BitRound(keepbits=6)]}),
        Case("v2-astype", 2, "f8", {"filters": [numcodecs.AsType(encode_dtype="f4",
                                                                 decode_dtype="f8")]}),
        Case("v2-packbits", 2, "bool", {"filters": [numcodecs.PackBits()]}),
        Case("v2-categorize", 2, "U3", {"filters": [numcodecs.Categorize(
            labels=["", "ab", "c", "xyz"], dtype="U3", astype="u1")]}, fill=""),
        Case("v2-shuffle", 2, "i4", {"filters": [numcodecs.Shuffle(elementsize=4)]}),
        Case("v2-filters-chain", 2, "i4", {"filters": [numcodecs.Delta(dtype="i4"),
                                                       numcodecs.Shuffle(elementsize=4)],
                                           "compressors": numcodecs.Zlib()}),
        Case("v2-crc32", 2, "i2", {"compressors": numcodecs.CRC32()}),
        Case("v2-adler32", 2, "i2", {"compressors": numcodecs.Adler32()}),
        Case("v2-fletcher32", 2, "i2", {"compressors": numcodecs.Fletcher32()}),
    ]
    # v3 codecs
    cases += [
        Case("v3-gzip", 3, "f4", {"compressors": [GzipCodec(level=4)]}),
        Case("v3-zstd-crc32c", 3, "i8", {"compressors": [ZstdCodec(level=2), Crc32cCodec()]}),
        Case("v3-nocompress", 3, "u4", {"compressors": None}),
        Case("v3-transpose", 3, "i4", {"filters": [TransposeCodec(order=(1, 0))]}),
        Case("v3-transpose-3d", 3, "i2", {"filters": [TransposeCodec(order=(2, 0, 1))]},
             shape=(5, 6, 7), chunks=(2, 4, 3)),
        Case("v3-F-order", 3, "f8", {"order": "F"}),
    ]
    for cname in ("lz4", "zstd", "zlib", "blosclz", "lz4hc"):
        for shuffle in ("noshuffle", "shuffle", "bitshuffle"):
            cases.append(Case(f"v3-blosc-{cname}-{shuffle}", 3, "u2", {
                "compressors": [BloscCodec(cname=cname, shuffle=shuffle)]}))
    # numcodecs.* names in v3
    cases += [
        Case("v3-nc-zlib", 3, "i4", {"compressors": [nz3.Zlib()]}),
        Case("v3-nc-bz2", 3, "i4", {"compressors": [nz3.BZ2()]}),
        Case("v3-nc-lzma", 3, "i4", {"compressors": [nz3.LZMA()]}),
        Case("v3-nc-lz4-shuffle", 3, "i4", {"compressors": [nz3.Shuffle(elementsize=4),
                                                            nz3.LZ4()]}),
        Case("v3-nc-delta", 3, "i4", {"filters": [nz3.Delta(dtype="i4")]}),
        Case("v3-nc-fixedscaleoffset", 3, "f8", {"filters": [nz3.FixedScaleOffset(
            offset=1, scale=10, dtype="f8", astype="i4")]}),
        Case("v3-nc-quantize", 3, "f4", {"filters": [nz3.Quantize(digits=2, dtype="f4")]}),
        Case("v3-nc-bitround", 3, "f8", {"filters": [nz3.BitRound(keepbits=10)]}),
        Case("v3-nc-astype", 3, "f8", {"filters": [nz3.AsType(encode_dtype="f4",
                                                              decode_dtype="f8")]}),
        Case("v3-nc-packbits", 3, "bool", {"filters": [nz3.PackBits()]}),
        Case("v3-nc-crc32", 3, "u1", {"compressors": [nz3.CRC32()]}),
    ]
    # sharding
    sharded = {"shards": SHARDS}
    cases += [
        Case("sharded-zstd", 3, "i4", dict(sharded), consolidated=True),
        Case("sharded-blosc-f8", 3, "f8", {**sharded, "compressors": [BloscCodec()]}),
        Case("sharded-str", 3, str, dict(sharded), fill=""),
        Case("sharded-index-start", 3, "i2", {"chunks": SHARDS, "compressors": None, "serializer":
                                              ShardingCodec(chunk_shape=CHUNKS, codecs=[
                                                  BytesCodec(), GzipCodec()],
                                                  index_location="start")}),
        Case("sharded-nested", 3, "u2", {"chunks": SHARDS, "compressors": None, "serializer":
                                         ShardingCodec(chunk_shape=CHUNKS, codecs=[
                                             ShardingCodec(chunk_shape=(1, 2), codecs=[
                                                 BytesCodec(), ZstdCodec()])])}),
        Case("sharded-after-transpose", 3, "i4", {
            "chunks": SHARDS, "compressors": None, "filters": [TransposeCodec(order=(1, 0))],
            "serializer": ShardingCodec(chunk_shape=(2, 2), codecs=[BytesCodec(), ZstdCodec()])}),
        Case("sharded-compressed-outside", 3, "i4", {
            "chunks": SHARDS, "compressors": [GzipCodec()],
            "serializer": ShardingCodec(chunk_shape=CHUNKS, codecs=[BytesCodec()])}),
        Case("sharded-3d", 3, "f4", {"shards": (4, 4, 6)}, shape=(5, 6, 7), chunks=(2, 2, 3)),
    ]
    return cases


CASES = _cases()


def _data(case: Case, rng) -> np.ndarray:
    shape = case.shape
    dt = case.dtype
    if dt is str:
        words = np.array(["", "a", "héllo", "ü" * 5, "zz", "日本", "x" * 30], dtype=object)
        return words[rng.integers(0, len(words), shape)]
    if dt is bytes:
        words = np.array([b"", b"\x00\xff", b"abc", b"x" * 40], dtype=object)
        return words[rng.integers(0, len(words), shape)]
    dt = np.dtype(dt)
    if dt.names:
        out = np.zeros(shape, dt)
        out["a"] = rng.integers(-100, 100, shape)
        out["b"] = rng.normal(size=shape)
        out["c"] = rng.choice([b"a", b"bc", b""], shape)
        return out
    if dt.kind == "b":
        return rng.random(shape) > 0.5
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return rng.integers(max(info.min, -1000), min(info.max, 1000), shape).astype(dt)
    if dt.kind == "f":
        out = rng.normal(0, 100, shape).astype(dt)
        if out.size:
            out.flat[0] = np.nan
        return out
    if dt.kind == "c":
        return (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(dt)
    if dt.kind in "mM":
        return rng.integers(0, 10**9, shape).astype(dt)
    if dt.kind == "S":
        return rng.choice([b"", b"ab", b"hello", b"\x01x"], shape).astype(dt)
    if dt.kind == "U":
        return rng.choice(["", "ab", "c", "xyz"], shape).astype(dt)
    raise AssertionError(dt)


def _selections(shape, rng) -> list:
    if shape == ():
        return [(), Ellipsis]
    if 0 in shape:
        return [(), (Ellipsis,), (slice(1, 3),), (slice(None), 2)]
    sels = [(), (Ellipsis,), (0,), (-1,), (slice(None, None, 3),), (Ellipsis, -1)]
    if len(shape) >= 2:
        sels += [(slice(2, 6), 5), (slice(1, None, 2), slice(0, None, 5)), (-2, slice(3, 4))]
    for _ in range(4):
        sel = []
        for n in shape:
            if n and rng.random() < 0.25:
                sel.append(int(rng.integers(-n, n)))
            else:
                a, b = sorted(rng.integers(0, n + 1, 2)) if n else (0, 0)
                sel.append(slice(int(a), int(b) + 1, int(rng.integers(1, 4))))
        sels.append(tuple(sel))
    return sels


def _write(root, case: Case, rng):
    kwargs = dict(case.kwargs)
    chunks = kwargs.pop("chunks", case.chunks)
    create = dict(shape=case.shape, chunks=chunks, dtype=case.dtype, fill_value=case.fill,
                  **kwargs)
    if case.fmt == 2 and "chunk_key_encoding" in create:
        create["chunk_key_encoding"] = {"name": "v2",
                                        "separator": create["chunk_key_encoding"]["separator"]}
    if case.dtype is bytes:
        create["dtype"] = VariableLengthBytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        group = zarr.open_group(str(root), mode="w", zarr_format=case.fmt)
        group.attrs["case"] = case.id
        arr = group.create_array("g/arr", **create)
        data = _data(case, rng)
        if case.shape == ():
            arr[()] = data
        elif all(case.shape):
            # leave chunks (and whole shards) missing: write only the first rows / columns
            region = tuple(slice(0, max(1, n - 3)) for n in case.shape)
            arr[region] = data[region]
        if case.consolidated:
            zarr.consolidate_metadata(str(root))
    return zarr.open_array(str(root), path="g/arr", mode="r")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Each case written once (on first use) with its zarr-python reference results."""
    cache = {}
    base = tmp_path_factory.mktemp("matrix")

    def get(case: Case):
        if case.id not in cache:
            i = CASES.index(case)
            rng = np.random.default_rng(i)
            root = base / f"{i}.zarr"
            ref = _write(root, case, rng)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = [(sel, ref[sel]) for sel in _selections(case.shape, rng)]
            cache[case.id] = (root, expected)
        return cache[case.id]
    return get


def _equal(got, exp) -> bool:
    if got.dtype.kind in "fc":
        return np.array_equal(got, exp, equal_nan=True)
    return np.array_equal(got, exp)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_matrix(written, backend, case):
    root, expected = written(case)
    h = await Hierarchy.open(open_store(str(root)))
    assert h.consolidated == case.consolidated
    arr = await h.array("g/arr")
    for sel, exp in expected:
        got = await arr.read(sel)
        exp = np.asarray(exp)
        assert got.dtype == exp.dtype, (sel, got.dtype, exp.dtype)
        assert got.shape == exp.shape, (sel, got.shape, exp.shape)
        assert _equal(got, exp), (sel, got, exp)

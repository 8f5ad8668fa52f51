"""Decompression bombs are refused before the memory is allocated, on both codec backends:
zstd frames with and without a declared content size, variable-length (string) chunks,
lzma without the lzma module (Pyodide), and the zstd header parser itself."""

from __future__ import annotations

import gzip
import json
import lzma
import re
import struct
import sys
import tracemalloc
import zlib

import numcodecs
import numpy as np
import pytest

from pyzarr_web.core import CodecError, Hierarchy
from pyzarr_web.core.codecs import get_backend, set_backend
from pyzarr_web.core.codecs.backends import zstd_content_size
from pyzarr_web.core.codecs.base import VLEN_CHUNK_CAP, VLEN_ITEM_CAP, ChunkSpec
from pyzarr_web.core.stores.memory import MemoryStore

BOMB = 64 << 20  # decoded size of the bombs: far over every limit here, yet ~2 KB compressed
MiB = 1 << 20


def zstd_rle_frame(size: int, byte: int = 0, declare: bool = True, checksum: bool = False) -> bytes:
    """A zstd frame of ``size`` copies of ``byte`` made of RLE blocks (4 bytes per 128 KiB),
    with or without the content size in its header; built by hand so that no test ever holds
    the decoded bytes."""
    fhd = (3 << 6 if declare else 0) | (4 if checksum else 0)
    out = bytearray(struct.pack("<I", 0xFD2FB528)) + bytes([fhd, 0x58])  # window 2 MiB
    if declare:
        out += struct.pack("<Q", size)
    left = size
    while True:
        block = min(left, 128 << 10)
        left -= block
        out += ((left == 0) | 1 << 1 | block << 3).to_bytes(3, "little") + bytes([byte])
        if left == 0:
            break
    if checksum:
        out += b"\0\0\0\0"  # not checked by the header parser
    return bytes(out)


def v2_store(chunk: bytes, compressor: dict, dtype="<i4", shape=(4, 4), filters=None):
    meta = {"zarr_format": 2, "shape": list(shape), "chunks": list(shape), "dtype": dtype,
            "compressor": compressor, "fill_value": 0 if dtype != "|O" else None, "order": "C",
            "filters": filters}
    key = ".".join("0" * len(shape))
    return MemoryStore({".zarray": json.dumps(meta).encode(), key: chunk})


def v3_store(chunk: bytes, codecs: list, data_type="int32", shape=(4, 4), fill=0):
    meta = {"zarr_format": 3, "node_type": "array", "shape": list(shape), "data_type": data_type,
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(shape)}},
            "chunk_key_encoding": {"name": "default"}, "fill_value": fill, "codecs": codecs}
    key = "c/" + "/".join("0" * len(shape))
    return MemoryStore({"zarr.json": json.dumps(meta).encode(), key: chunk})


async def read(store):
    return await (await (await Hierarchy.open(store)).array("")).read()


async def refused(store, key: str, pattern: str = "exceeds|more than",
                  max_peak: int = 8 * MiB) -> str:
    """Read, expect a CodecError naming ``key``; assert the decoded bomb was never allocated
    (at most ``max_peak`` bytes: some multiple of the limit, far below the bomb)."""
    tracemalloc.start()
    try:
        with pytest.raises(CodecError) as info:
            await read(store)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert f"chunk {key!r}" in message and re.search(pattern, message), message
    assert peak < max_peak, f"{peak} bytes allocated while refusing a {BOMB}-byte bomb"
    return message


def test_tracemalloc_sees_what_numcodecs_allocates():
    """The memory assertions above are meaningful: decoding the bomb unchecked shows up."""
    tracemalloc.start()
    try:
        out = numcodecs.Zstd().decode(zstd_rle_frame(16 * MiB))
        assert len(out) == 16 * MiB
        del out
        assert tracemalloc.get_traced_memory()[1] >= 16 * MiB
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("declare", [True, False], ids=["size-declared", "size-undeclared"])
async def test_zstd_bomb_v2_and_v3(backend, declare):
    bomb = zstd_rle_frame(BOMB, declare=declare)
    assert len(bomb) < 4096
    pattern = "header announces" if declare else "exceeds"
    await refused(v2_store(bomb, {"id": "zstd", "level": 1}), "0.0", pattern)
    codecs = [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd"}]
    await refused(v3_store(bomb, codecs), "c/0/0", pattern)


async def test_zstd_bomb_hidden_in_a_second_frame(backend):
    good = numcodecs.Zstd().encode(bytes(32))
    bomb = good + struct.pack("<II", 0x184D2A53, 3) + b"abc" + zstd_rle_frame(BOMB)
    await refused(v2_store(bomb, {"id": "zstd"}), "0.0", "header announces")


async def test_zstd_frames_without_declared_size_still_decode(backend):
    data = np.full((4, 4), 7, "<i4")
    # 64 bytes of the int32 value 7: RLE of one byte cannot express it, so use two raw blocks
    raw = data.tobytes()
    frame = bytearray(struct.pack("<I", 0xFD2FB528)) + bytes([0, 0x58])
    frame += (0 | 0 << 1 | 32 << 3).to_bytes(3, "little") + raw[:32]
    frame += (1 | 0 << 1 | 32 << 3).to_bytes(3, "little") + raw[32:]
    assert zstd_content_size(bytes(frame)) is None
    assert np.array_equal(await read(v2_store(bytes(frame), {"id": "zstd"})), data)


async def test_numcodecs_backend_without_imagecodecs_refuses_undeclared_zstd(monkeypatch):
    previous = get_backend().name
    set_backend("numcodecs")
    monkeypatch.setitem(sys.modules, "imagecodecs", None)  # import imagecodecs → ImportError
    try:
        await refused(v2_store(zstd_rle_frame(BOMB, declare=False), {"id": "zstd"}), "0.0",
                      "needs the imagecodecs package")
        # a frame declaring its size is checked and decoded by numcodecs alone
        ok = numcodecs.Zstd().encode(np.arange(16, dtype="<i4").tobytes())
        assert (await read(v2_store(ok, {"id": "zstd"}))).ravel().tolist() == list(range(16))
    finally:
        set_backend(previous)


async def test_vlen_string_chunks_are_bounded(backend):
    """A compressed chunk of 4 strings may decompress to 4 + 4·(4 + 1 MiB) bytes at most;
    decoders may hold a few times that while refusing, never the 64 MiB."""
    spec = ChunkSpec((4,), np.dtype(object), vlen=str)
    assert spec.max_nbytes == 4 + 16 + 4 * VLEN_ITEM_CAP
    big = ChunkSpec((10**6,), np.dtype(object), vlen=str)
    assert big.max_nbytes == 4 + 4 * 10**6 + VLEN_CHUNK_CAP
    codecs = [{"name": "vlen-utf8"}, {"name": "zstd"}]
    for declare in (True, False):
        await refused(v3_store(zstd_rle_frame(BOMB, declare=declare), codecs, "string", (4,), ""),
                      "c/0", max_peak=16 * MiB)
    bomb = zlib.compress(bytes(BOMB), 9)
    await refused(v2_store(bomb, {"id": "zlib"}, "|O", (4,), [{"id": "vlen-utf8"}]), "0",
                  max_peak=16 * MiB)
    # under the bound it decodes
    good = struct.pack("<I", 4) + b"".join(struct.pack("<I", len(s)) + s
                                           for s in (b"a", b"bb", b"", b"\xc3\xa9"))
    assert (await read(v2_store(zlib.compress(good), {"id": "zlib"}, "|O", (4,),
                                [{"id": "vlen-utf8"}]))).tolist() == ["a", "bb", "", "é"]


async def test_lzma_without_the_lzma_module_is_bounded(monkeypatch):
    """Pyodide has no lzma module: the browser backend falls back to imagecodecs."""
    previous = get_backend().name
    set_backend("browser")
    monkeypatch.setitem(sys.modules, "lzma", None)
    try:
        await refused(v2_store(lzma.compress(bytes(BOMB)), {"id": "lzma"}), "0.0")
        data = np.arange(16, dtype="<i4")
        got = await read(v2_store(lzma.compress(data.tobytes()), {"id": "lzma"}))
        assert got.ravel().tolist() == data.tolist()
    finally:
        set_backend(previous)


async def test_gzip_members_and_bombs(backend):
    data = np.arange(16, dtype="<i4")
    two = gzip.compress(data.tobytes()[:20]) + gzip.compress(data.tobytes()[20:])
    assert (await read(v2_store(two, {"id": "gzip"}))).ravel().tolist() == data.tolist()
    await refused(v2_store(gzip.compress(bytes(BOMB)), {"id": "gzip"}), "0.0")


def test_zstd_content_size_parser():
    enc = numcodecs.Zstd()
    assert zstd_content_size(enc.encode(b"x" * 1000)) == 1000
    assert zstd_content_size(enc.encode(b"") + enc.encode(b"abc")) == 3
    assert zstd_content_size(zstd_rle_frame(300, declare=True, checksum=True)) == 300
    assert zstd_content_size(zstd_rle_frame(300, declare=False)) is None
    skippable = struct.pack("<II", 0x184D2A50, 2) + b"zz"
    assert zstd_content_size(skippable + enc.encode(b"abcd")) == 4
    for bad, message in ((b"\x28\xb5\x2f", "truncated"), (b"nope", "magic"),
                         (zstd_rle_frame(BOMB)[:-2], "truncated")):
        with pytest.raises(CodecError, match=message):
            zstd_content_size(bad)

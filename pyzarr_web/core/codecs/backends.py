"""Decompressor backends. numcodecs where it imports (CPython), else imagecodecs / blosc2 / the
standard library (Pyodide). Both produce the same bytes; tests run the matrix on both.

Each function takes the compressed bytes and a ``limit`` (maximum decoded size, or None) and returns
the decoded bytes. ``limit`` is enforced before anything larger is allocated: from the size a
header announces (zstd, lz4, blosc) or by stopping a streaming decoder at the limit.
"""

from __future__ import annotations

import bz2
import importlib.util
import os
import struct
import zlib

import numpy as np

from ..errors import CodecError


def _bounded(decompressor, data: bytes, limit: int | None, name: str, no_limit) -> bytes:
    out = decompressor.decompress(data, no_limit if limit is None else limit + 1)
    if limit is not None and len(out) > limit:
        raise CodecError(f"{name}: decompressed data exceeds the expected {limit} bytes")
    if not decompressor.eof:
        raise CodecError(f"{name}: compressed data is truncated")
    return out


def _check_limit(name: str, size: int, limit: int | None) -> None:
    if limit is not None and size > limit:
        raise CodecError(f"{name}: header announces {size} bytes, more than the expected {limit}")


_ZSTD_MAGIC = 0xFD2FB528
_ZSTD_SKIPPABLE = 0x184D2A50  # to 0x184D2A5F


def zstd_content_size(data) -> int | None:
    """Total decompressed size that the zstd frames in ``data`` declare in their headers, or
    None if a frame does not declare it (streaming writers may omit it). Walks the block
    headers to find each frame's end; decompresses nothing."""
    data = memoryview(data).cast("B")
    n, pos, total = len(data), 0, 0

    def u(at: int, size: int) -> int:
        if at + size > n:
            raise CodecError("zstd: data is truncated")
        return int.from_bytes(data[at:at + size], "little")

    while pos < n:
        magic = u(pos, 4)
        if magic & 0xFFFFFFF0 == _ZSTD_SKIPPABLE:
            pos += 8 + u(pos + 4, 4)
            continue
        if magic != _ZSTD_MAGIC:
            raise CodecError(f"zstd: bad frame magic number {magic:#010x}")
        fhd = u(pos + 4, 1)
        single_segment = fhd >> 5 & 1
        fcs_size = (single_segment, 2, 4, 8)[fhd >> 6]
        at = pos + 5 + (0 if single_segment else 1) + (0, 1, 2, 4)[fhd & 3]
        if fcs_size == 0:
            return None
        total += u(at, fcs_size) + (256 if fcs_size == 2 else 0)
        at += fcs_size
        while True:  # blocks: 3-byte header (last flag, type, size); RLE blocks hold one byte
            header = u(at, 3)
            kind = header >> 1 & 3
            if kind == 3:
                raise CodecError("zstd: reserved block type (corrupt data)")
            at += 3 + (1 if kind == 1 else header >> 3)
            if header & 1:
                break
        pos = at + (4 if fhd >> 2 & 1 else 0)  # content checksum
    if pos > n:
        raise CodecError("zstd: data is truncated")
    return total


def check_lz4(data, limit: int | None) -> None:
    """numcodecs' LZ4 framing: a 4-byte little-endian decoded size, then one LZ4 block."""
    if len(data) < 4:
        raise CodecError("lz4: data shorter than its 4-byte size header")
    _check_limit("lz4", struct.unpack("<I", data[:4])[0], limit)


_BLOSC_MEMCPYED = 0x02
_BLOSC2_EXTENDED = 0x05  # both shuffle flags set: blosc2's 32-byte header


def check_blosc(data, limit: int | None) -> None:
    """Check a blosc chunk's framing before native code sees it: c-blosc trusts the header and
    reads past the buffer (or crashes) when the sizes, block starts or the memcpy flag lie."""
    n = len(data)
    if n < 16:
        raise CodecError("blosc: data shorter than the 16-byte header")
    version, _, flags, _, nbytes, blocksize, cbytes = struct.unpack("<BBBBIII", data[:16])
    _check_limit("blosc", nbytes, limit)
    if cbytes > n:
        raise CodecError(f"blosc: header announces {cbytes} compressed bytes, got {n} "
                         f"(truncated)")
    extended = version >= 3 and flags & _BLOSC2_EXTENDED == _BLOSC2_EXTENDED
    header = 32 if extended else 16
    if cbytes < header:
        raise CodecError(f"blosc: header announces {cbytes} compressed bytes, less than the "
                         f"{header}-byte header")
    if flags & _BLOSC_MEMCPYED:
        if not extended and cbytes < header + nbytes:
            raise CodecError(f"blosc: stored uncompressed, yet {cbytes} bytes cannot hold the "
                             f"{nbytes} announced (truncated)")
        return
    if extended or nbytes == 0:
        return  # blosc2 checks its own extended chunks
    if blocksize == 0:
        raise CodecError("blosc: header announces a block size of 0")
    nblocks = -(-nbytes // blocksize)
    first = header + 4 * nblocks
    if first > cbytes:
        raise CodecError(f"blosc: {nblocks} block offsets do not fit in {cbytes} bytes")
    starts = np.frombuffer(data, "<u4", nblocks, header)
    if nblocks and (int(starts.min()) < first or int(starts.max()) >= cbytes):
        raise CodecError(f"blosc: a block starts outside the {cbytes}-byte chunk (corrupt)")


def _zstd_bounded(data, limit: int) -> bytes:
    """Decode zstd frames that do not declare their size into at most ``limit`` bytes."""
    import imagecodecs
    try:
        return bytes(imagecodecs.zstd_decode(data, out=limit))
    except imagecodecs.ZstdError as e:
        if "too small" in str(e):
            raise CodecError(f"zstd: decompressed data exceeds the expected {limit} bytes") from None
        raise CodecError(f"zstd: {e}") from e


def _gzip(data, limit: int | None) -> bytes:
    """gzip through zlib, member after member (concatenated members are one gzip stream)."""
    out, rest = [], data
    while True:
        d = zlib.decompressobj(wbits=31)
        out.append(_bounded(d, rest, None if limit is None else limit - sum(map(len, out)),
                            "gzip", 0))
        rest = d.unused_data
        if not rest.strip(b"\0"):  # trailing zero padding is allowed, as gzip(1) does
            return b"".join(out)


class BrowserBackend:
    name = "browser"

    #: compressor id -> the modules its decoder imports on first use (the standard library's
    #: zlib and bz2 are always loaded); imagecodecs loads each codec's extension on first use
    MODULES = {"zstd": ("imagecodecs._zstd",), "lz4": ("imagecodecs._lz4",), "blosc": ("blosc2",)}

    def modules_for(self, codec_ids) -> list[str]:
        """The modules decoding with these codecs (v2 ids or v3 names) imports on first use, in
        order, without duplicates: what :mod:`.warmup` imports ahead of the first read."""
        out: dict[str, None] = {}
        for codec_id in codec_ids:
            method = codec_id.removeprefix("numcodecs.")
            out.update(dict.fromkeys(self._lzma_modules() if method == "lzma"
                                     else self.MODULES.get(method, ())))
        return list(out)

    @staticmethod
    def _lzma_modules() -> tuple[str, ...]:
        return ("lzma",) if importlib.util.find_spec("lzma") is not None else ("imagecodecs._lzma",)

    def zlib(self, data, limit):
        return _bounded(zlib.decompressobj(), data, limit, "zlib", 0)

    def gzip(self, data, limit):
        return _gzip(data, limit)

    def bz2(self, data, limit):
        return _bounded(bz2.BZ2Decompressor(), data, limit, "bz2", -1)

    def lzma(self, data, limit, format=1, filters=None):
        try:
            import lzma  # CPython; not in Pyodide
        except ImportError:
            if filters:
                raise CodecError("lzma: raw streams with filters need the lzma module") from None
            import imagecodecs
            if limit is None:
                return imagecodecs.lzma_decode(data)
            out = imagecodecs.lzma_decode(data, out=limit + 1)  # stops (silently) at limit + 1
            if len(out) > limit:
                raise CodecError(f"lzma: decompressed data exceeds the expected {limit} bytes") from None
            return bytes(out)
        return _bounded(lzma.LZMADecompressor(format=format, filters=filters), data, limit,
                        "lzma", -1)

    def zstd(self, data, limit):
        size = zstd_content_size(data)
        if limit is not None and size is None:
            return _zstd_bounded(data, limit)
        _check_limit("zstd", size or 0, limit)
        import imagecodecs
        return imagecodecs.zstd_decode(data)

    def lz4(self, data, limit):
        check_lz4(data, limit)
        return self._lz4(data)

    def blosc(self, data, limit):
        check_blosc(data, limit)
        return self._blosc(data)

    def _lz4(self, data) -> bytes:
        import imagecodecs
        return imagecodecs.lz4_decode(data, header=True)

    def _blosc(self, data) -> bytes:
        try:
            import blosc2
        except ImportError as e:
            raise CodecError(f"blosc: the blosc2 package is not available here ({e})") from e
        return blosc2.decompress(data)


class NumcodecsBackend(BrowserBackend):
    """numcodecs for zstd, lz4 and blosc, after the same framing checks as the browser's.

    zlib, gzip, bz2 and lzma are the standard library's in numcodecs too, but numcodecs
    decompresses them whole before any size check; the inherited streaming decoders stop at the
    limit instead."""

    name = "numcodecs"
    MODULES = {"zstd": ("numcodecs.zstd",), "lz4": ("numcodecs.lz4",),
               "blosc": ("numcodecs.blosc",)}

    def __init__(self):
        import numcodecs
        self.nc = numcodecs

    def _run(self, codec, data):
        return bytes(codec.decode(data))

    def zstd(self, data, limit):
        size = zstd_content_size(data)
        if limit is not None and size is None:
            # numcodecs would grow its output without bound: only imagecodecs can stop early
            try:
                return _zstd_bounded(data, limit)
            except ImportError:
                raise CodecError("zstd: the data does not declare its decompressed size; "
                                 "decoding it safely needs the imagecodecs package") from None
        _check_limit("zstd", size or 0, limit)
        return self._run(self.nc.Zstd(), data)

    def _lz4(self, data) -> bytes:
        return self._run(self.nc.LZ4(), data)

    def _blosc(self, data) -> bytes:
        return self._run(self.nc.Blosc(), data)


_backend = None


def get_backend():
    """The active backend: chosen once, by $PYZARR_WEB_CODECS or by what imports."""
    if _backend is None:
        set_backend(os.environ.get("PYZARR_WEB_CODECS", "auto"))
    return _backend


def set_backend(name: str) -> None:
    """"numcodecs", "browser" or "auto" (numcodecs if importable). Tests force each in turn."""
    global _backend
    if name == "auto":
        try:
            _backend = NumcodecsBackend()
        except ImportError:
            _backend = BrowserBackend()
    elif name == "numcodecs":
        _backend = NumcodecsBackend()
    elif name == "browser":
        _backend = BrowserBackend()
    else:
        raise ValueError(f"unknown codec backend {name!r}")

"""Decompressor backends. numcodecs where it imports (CPython), else imagecodecs / blosc2 / the
standard library (Pyodide). Both produce the same bytes; tests run the matrix on both.

Each function takes the compressed bytes and a ``limit`` (maximum decoded size, or None) and returns
the decoded bytes; the browser backend enforces ``limit`` while decompressing where it can.
"""

from __future__ import annotations

import bz2
import os
import struct
import zlib

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


class BrowserBackend:
    name = "browser"

    def zlib(self, data, limit):
        return _bounded(zlib.decompressobj(), data, limit, "zlib", 0)

    def gzip(self, data, limit):
        return _bounded(zlib.decompressobj(wbits=31), data, limit, "gzip", 0)

    def bz2(self, data, limit):
        return _bounded(bz2.BZ2Decompressor(), data, limit, "bz2", -1)

    def lzma(self, data, limit, format=1, filters=None):
        try:
            import lzma  # CPython; not in Pyodide
        except ImportError:
            if filters:
                raise CodecError("lzma: raw streams with filters need the lzma module") from None
            import imagecodecs
            out = imagecodecs.lzma_decode(data)
            _check_limit("lzma", len(out), limit)
            return out
        return _bounded(lzma.LZMADecompressor(format=format, filters=filters), data, limit,
                        "lzma", -1)

    def zstd(self, data, limit):
        import imagecodecs
        return imagecodecs.zstd_decode(data)

    def lz4(self, data, limit):
        if len(data) < 4:
            raise CodecError("lz4: data shorter than its 4-byte size header")
        _check_limit("lz4", struct.unpack("<I", data[:4])[0], limit)
        import imagecodecs
        return imagecodecs.lz4_decode(data, header=True)

    def blosc(self, data, limit):
        if len(data) < 16:
            raise CodecError("blosc: data shorter than the 16-byte header")
        nbytes, _, cbytes = struct.unpack("<III", data[4:16])
        _check_limit("blosc", nbytes, limit)
        if cbytes > len(data):
            raise CodecError(f"blosc: header announces {cbytes} compressed bytes, got {len(data)}")
        try:
            import blosc2
        except ImportError as e:
            raise CodecError(f"blosc: the blosc2 package is not available here ({e})") from e
        return blosc2.decompress(data)


class NumcodecsBackend:
    name = "numcodecs"

    def __init__(self):
        import numcodecs
        self.nc = numcodecs

    def _run(self, codec, data):
        return bytes(codec.decode(data))

    def zlib(self, data, limit):
        return self._run(self.nc.Zlib(), data)

    def gzip(self, data, limit):
        return self._run(self.nc.GZip(), data)

    def bz2(self, data, limit):
        return self._run(self.nc.BZ2(), data)

    def lzma(self, data, limit, format=1, filters=None):
        return self._run(self.nc.LZMA(format=format, filters=filters), data)

    def zstd(self, data, limit):
        return self._run(self.nc.Zstd(), data)

    def lz4(self, data, limit):
        return self._run(self.nc.LZ4(), data)

    def blosc(self, data, limit):
        if len(data) >= 16:
            _check_limit("blosc", struct.unpack("<I", data[4:8])[0], limit)
        return self._run(self.nc.Blosc(), data)


_backend = None


def get_backend():
    """The active backend: chosen once, by $PYZARR_WEB_CODECS or by what imports."""
    global _backend
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

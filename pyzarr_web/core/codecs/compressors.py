"""bytes→bytes codecs: compressors (through the active backend), byte shuffle and checksums.

The same classes serve v2 compressor/filter ids, v3 names and v3 ``numcodecs.*`` names.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from ..errors import CodecError
from ..metadata.fields import Fields
from .backends import get_backend
from .base import BytesBytesCodec, as_bytes_view, register
from .crc32c import crc32c


class Compressor(BytesBytesCodec):
    """Decodes with the backend function named ``method``; the configuration is irrelevant
    for decoding (levels, shuffles and block sizes are recorded in the stream itself)."""

    method = ""

    def __init__(self, config: Fields):
        self.config = config.doc

    def decode(self, data: bytes, limit: int | None) -> bytes:
        out = getattr(get_backend(), self.method)(data, limit)
        if limit is not None and len(out) > limit:
            raise CodecError(f"{self.method}: decompressed {len(out)} bytes, more than the "
                             f"expected {limit}")
        return out

    def __repr__(self) -> str:
        conf = ", ".join(f"{k}={v}" for k, v in self.config.items() if k != "id")
        return f"{self.method}({conf})"


@register("zlib", "numcodecs.zlib")
class Zlib(Compressor):
    method = "zlib"


@register("gzip", "numcodecs.gzip")
class GZip(Compressor):
    method = "gzip"


@register("bz2", "numcodecs.bz2")
class BZ2(Compressor):
    method = "bz2"


@register("zstd", "numcodecs.zstd")
class Zstd(Compressor):
    method = "zstd"


@register("lz4", "numcodecs.lz4")
class LZ4(Compressor):
    method = "lz4"


@register("blosc", "numcodecs.blosc")
class Blosc(Compressor):
    method = "blosc"


@register("lzma", "numcodecs.lzma")
class LZMA(Compressor):
    method = "lzma"

    def decode(self, data: bytes, limit: int | None) -> bytes:
        return get_backend().lzma(data, limit, format=self.config.get("format", 1),
                                  filters=self.config.get("filters"))


@register("shuffle", "numcodecs.shuffle")
class Shuffle(BytesBytesCodec):
    """numcodecs' byte shuffle: byte j of every element stored together; a tail that does not
    fill a whole element is stored as is."""

    def __init__(self, config: Fields):
        self.elementsize = config.integer("elementsize", 1, 1 << 16, 4)

    def decode(self, data: bytes, limit: int | None) -> bytes:
        raw = as_bytes_view(data)
        size = self.elementsize
        count = raw.size // size
        if size <= 1 or count == 0:
            return bytes(raw)
        body = raw[:count * size].reshape(size, count).T
        return body.tobytes() + raw[count * size:].tobytes()

    def __repr__(self) -> str:
        return f"shuffle(elementsize={self.elementsize})"


class Checksum(BytesBytesCodec):
    """A 4-byte checksum stored before or after the data; decoding verifies and strips it."""

    overhead = 4
    location = "start"
    name = ""
    byteorder = "<"

    def __init__(self, config: Fields):
        self.location = config.text("location", ("start", "end"), self.location)

    def compute(self, data: bytes) -> int:
        raise NotImplementedError

    def decode(self, data: bytes, limit: int | None) -> bytes:
        if len(data) < 4:
            raise CodecError(f"{self.name}: data shorter than its 4-byte checksum")
        if self.location == "start":
            stored, payload = data[:4], data[4:]
        else:
            payload, stored = data[:-4], data[-4:]
        expected = struct.unpack(self.byteorder + "I", stored)[0]
        actual = self.compute(bytes(payload))
        if actual != expected:
            raise CodecError(f"{self.name} checksum mismatch: stored {expected:#010x}, "
                             f"computed {actual:#010x}")
        return payload

    def __repr__(self) -> str:
        return self.name


@register("crc32c", "numcodecs.crc32c")
class CRC32C(Checksum):
    location = "end"
    name = "crc32c"

    def compute(self, data: bytes) -> int:
        return crc32c(data)


@register("crc32", "numcodecs.crc32")
class CRC32(Checksum):
    name = "crc32"

    def compute(self, data: bytes) -> int:
        return zlib.crc32(data)


@register("adler32", "numcodecs.adler32")
class Adler32(Checksum):
    name = "adler32"

    def compute(self, data: bytes) -> int:
        return zlib.adler32(data)


@register("fletcher32", "numcodecs.fletcher32")
class Fletcher32(Checksum):
    """numcodecs' Fletcher-32 over 16-bit little-endian words, appended at the end as two
    big-endian 16-bit sums (sum1 first)."""

    location = "end"
    name = "fletcher32"
    byteorder = ">"

    def compute(self, data: bytes) -> int:
        if len(data) % 2:
            data = data + b"\0"
        words = np.frombuffer(data, "<u2").astype(np.uint64)
        sum1 = sum2 = 0
        for start in range(0, words.size, 256):  # blocks keep the running sums exact in uint64
            block = words[start:start + 256]
            csum = np.cumsum(block, dtype=np.uint64)
            sum2 = (sum2 + sum1 * block.size + int(csum.sum())) % 65535
            sum1 = (sum1 + int(csum[-1])) % 65535
        return (sum1 << 16) | sum2

"""Variable-length strings / bytes / arrays (numcodecs' VLen* layout, also used by v3 vlen-*):
a little-endian uint32 item count, then per item a uint32 byte length and the bytes."""

from __future__ import annotations

import struct

import numpy as np

from ..dtypes import parse_v2_dtype
from ..errors import CodecError
from ..metadata.fields import Fields
from .base import ArrayBytesCodec, ChunkSpec, as_bytes_view, register


def _items(data: bytes) -> list[bytes]:
    data = bytes(data)
    if len(data) < 4:
        raise CodecError("vlen: data shorter than its 4-byte item count")
    count = struct.unpack_from("<I", data, 0)[0]
    items, pos = [], 4
    for _ in range(count):
        if pos + 4 > len(data):
            raise CodecError(f"vlen: truncated after {len(items)} of {count} items")
        size = struct.unpack_from("<I", data, pos)[0]
        pos += 4
        if pos + size > len(data):
            raise CodecError(f"vlen: item {len(items)} runs past the end of the data")
        items.append(data[pos:pos + size])
        pos += size
    return items


class VLen(ArrayBytesCodec):
    """Serves as v3 array→bytes codec and as v2 filter (bytes in, object array out)."""

    name = ""

    def __init__(self, config: Fields):
        self.config = config.doc

    def convert(self, item: bytes):
        raise NotImplementedError

    def encoded_nbytes(self, spec):
        return None

    def encoded_spec(self, spec):  # as a v2 filter: the encoded size depends on the data
        return spec.with_(vlen=bytes)

    def decode_flat(self, buf) -> np.ndarray:
        items = _items(as_bytes_view(buf).tobytes() if isinstance(buf, np.ndarray) else buf)
        out = np.empty(len(items), dtype=object)
        for i, item in enumerate(items):
            out[i] = self.convert(item)
        return out

    def decode(self, data, spec: ChunkSpec) -> np.ndarray:
        out = self.decode_flat(data)
        n = int(np.prod(spec.shape, dtype=np.int64))
        if out.size != n:
            raise CodecError(f"{self.name}: decoded {out.size} items, expected {n}")
        return out.reshape(spec.shape, order=spec.order)

    def __repr__(self) -> str:
        return self.name


@register("vlen-utf8", "numcodecs.vlen-utf8")
class VLenUTF8(VLen):
    name = "vlen-utf8"

    def convert(self, item):
        try:
            return item.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CodecError(f"vlen-utf8: invalid UTF-8 ({e})") from e


@register("vlen-bytes", "numcodecs.vlen-bytes")
class VLenBytes(VLen):
    name = "vlen-bytes"

    def convert(self, item):
        return item


@register("vlen-array", "numcodecs.vlen-array")
class VLenArray(VLen):
    name = "vlen-array"

    def convert(self, item):
        return np.frombuffer(item, parse_v2_dtype(self.config["dtype"])).copy()

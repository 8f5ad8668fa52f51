"""The v3 ``bytes`` and ``transpose`` codecs and the v2 chunk layout (filters + dtype + order)."""

from __future__ import annotations

import numpy as np

from ..errors import CodecError
from ..metadata.fields import Fields, is_int
from .base import ArrayArrayCodec, ArrayBytesCodec, ChunkSpec, as_bytes_view, check_size, register


def bytes_to_array(data, spec: ChunkSpec, dtype: np.dtype) -> np.ndarray:
    """Reinterpret raw chunk bytes as ``dtype`` laid out in ``spec.shape`` / ``spec.order``."""
    raw = as_bytes_view(data)
    check_size("chunk", raw.size, spec.nbytes)
    return raw.view(dtype).reshape(spec.shape, order=spec.order)


@register("bytes", "endian")
class BytesCodec(ArrayBytesCodec):
    def __init__(self, config: Fields):
        self.endian = config.text("endian", ("little", "big"), None) \
            if config.raw("endian", None) is not None else None

    def decode(self, data, spec: ChunkSpec) -> np.ndarray:
        stored = spec.dtype
        if self.endian is not None and stored.itemsize > 1 and stored.byteorder != "|":
            stored = stored.newbyteorder("<" if self.endian == "little" else ">")
        arr = bytes_to_array(data, spec, stored)
        return arr if stored == spec.dtype else arr.astype(spec.dtype)

    def __repr__(self) -> str:
        return f"bytes(endian={self.endian})" if self.endian else "bytes"


@register("transpose")
class Transpose(ArrayArrayCodec):
    def __init__(self, config: Fields):
        order = config.raw("order")
        if order not in ("C", "F") and not (isinstance(order, list) and all(
                is_int(i) for i in order)):
            raise config.fail("order", "a permutation of the axes (a list of integers)", order)
        self.order = order

    def _perm(self, ndim: int) -> list[int]:
        if self.order == "C":  # early zarr-python wrote "C"/"F"
            return list(range(ndim))
        if self.order == "F":
            return list(range(ndim))[::-1]
        if sorted(self.order) != list(range(ndim)):
            raise CodecError(f"transpose: order {self.order} is not a permutation of {ndim} axes")
        return list(self.order)

    def encoded_spec(self, spec):
        return spec.with_(shape=tuple(spec.shape[i] for i in self._perm(len(spec.shape))))

    def decode(self, arr, spec):
        return arr.transpose(np.argsort(self._perm(arr.ndim)))

    def __repr__(self) -> str:
        return f"transpose(order={self.order})"


class V2Chunk(ArrayBytesCodec):
    """A v2 chunk after decompression: filters undone in reverse, then dtype and order applied."""

    def __init__(self, filters: list):
        self.filters = filters

    def _encoded_spec(self, spec: ChunkSpec) -> ChunkSpec:
        spec = spec.with_(shape=(int(np.prod(spec.shape, dtype=np.int64)),))
        for f in self.filters:
            spec = f.encoded_spec(spec)
        return spec

    def encoded_nbytes(self, spec: ChunkSpec) -> int | None:
        return self._encoded_spec(spec).nbytes

    def max_encoded_nbytes(self, spec: ChunkSpec) -> int:
        return self._encoded_spec(spec).max_nbytes

    def decode(self, data, spec: ChunkSpec) -> np.ndarray:
        buf = data
        for f in reversed(self.filters):
            buf = f.decode_flat(buf)
        if isinstance(buf, np.ndarray) and (buf.dtype.hasobject or buf.dtype.kind == "U"
                                            and spec.dtype.kind == "O"):
            n = int(np.prod(spec.shape, dtype=np.int64))
            if buf.size != n:
                raise CodecError(f"chunk: decoded {buf.size} items, expected {n}")
            return buf.reshape(spec.shape, order=spec.order)
        if spec.dtype.hasobject:
            raise CodecError("object array without a vlen / categorize filter")
        return bytes_to_array(buf, spec, spec.dtype)

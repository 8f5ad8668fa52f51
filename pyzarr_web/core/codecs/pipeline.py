"""A codec pipeline: build it from v3 ``codecs`` or v2 ``compressor``/``filters``, decode chunks,
and read the part of a chunk a selection needs (sharding overrides that to read inner chunks)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing

import numpy as np

from ..errors import CodecError, MetadataError
from ..metadata.fields import show
from ..store import Store
from .base import ArrayArrayCodec, ArrayBytesCodec, BytesBytesCodec, ChunkSpec, as_bytes_view, make_codec
from .layout import V2Chunk

Tick = Callable[[int], None]


class Pipeline:
    def __init__(self, array_array: list, array_bytes, bytes_bytes: list):
        self.array_array = array_array
        self.array_bytes = array_bytes
        self.bytes_bytes = bytes_bytes

    @property
    def codecs(self) -> list:
        return [*self.array_array, self.array_bytes, *self.bytes_bytes]

    def walk(self):
        """Every codec, nested ones included: a shard's inner codecs, a v2 chunk's filters."""
        for codec in self.codecs:
            yield codec
            if isinstance(getattr(codec, "inner", None), Pipeline):  # sharding
                yield from codec.inner.walk()
            for f in getattr(codec, "filters", ()):  # v2 filters; compressors there are wrapped
                yield getattr(f, "codec", f)

    def _specs(self, spec: ChunkSpec) -> list[ChunkSpec]:
        specs = [spec]
        for codec in self.array_array:
            specs.append(codec.encoded_spec(specs[-1]))
        return specs

    def _limits(self, spec: ChunkSpec) -> list[int]:
        """Upper bounds of the input size of each bytes→bytes codec's output, innermost first,
        then of the stored bytes (``spec``: the array→bytes codec's input)."""
        limit = self.array_bytes.max_encoded_nbytes(spec)
        limits = [limit]
        for codec in self.bytes_bytes:
            # a codec's encoded output may be a little larger than its input
            limit = limit + limit // 8 + 1024 + codec.overhead
            limits.append(limit)
        return limits

    def max_encoded_nbytes(self, spec: ChunkSpec) -> int:
        """An upper bound of a stored chunk's size (a shard's inner chunks)."""
        return self._limits(self._specs(spec)[-1])[-1]

    def decode(self, data: bytes, spec: ChunkSpec) -> np.ndarray:
        """Decode one stored chunk into an array of ``spec.shape`` (raises CodecError)."""
        specs = self._specs(spec)
        limits = self._limits(specs[-1])[:-1]
        try:
            for codec, lim in zip(reversed(self.bytes_bytes), reversed(limits)):
                data = codec.decode(data, lim)
            arr = self.array_bytes.decode(data, specs[-1])
            for codec, s in zip(reversed(self.array_array), reversed(specs[:-1])):
                arr = codec.decode(arr, s)
        except CodecError:
            raise
        except Exception as e:  # backends raise their own types on corrupt data
            raise CodecError(f"{type(e).__name__}: {e}") from e
        if arr.shape != spec.shape:
            raise CodecError(f"decoded shape {arr.shape}, expected {spec.shape}")
        return arr

    def partial(self):
        """The codec that reads parts of a chunk (sharding), if it may read from the store."""
        if not self.array_array and not self.bytes_bytes and hasattr(self.array_bytes, "read_many"):
            return self.array_bytes
        return None

    def count_reads(self, spec: ChunkSpec, selection: tuple[slice, ...]) -> int:
        """How many read-chunks (progress units) a selection of this chunk touches."""
        codec = self.partial()
        return codec.count_reads(spec, selection) if codec else 1

    async def read_many(self, store: Store, chunks: list[tuple[str, tuple[slice, ...], np.ndarray]],
                        spec: ChunkSpec, tick: Tick) -> None:
        """Write ``chunk[selection]`` into ``out`` for each of CHUNKS (key, selection, out), the
        fill value where a chunk is missing. Their values are asked for in one batch and each
        is decoded as soon as it arrives; a failure (or the caller being cancelled) cancels
        what is still being fetched."""
        codec = self.partial()
        if codec is not None:  # shards: their indexes, then their inner chunks
            return await codec.read_many(store, chunks, spec, tick)
        async with aclosing(store.get_batch([(key, None) for key, _, _ in chunks])) as batch:
            async for i, data in batch:
                key, selection, out = chunks[i]
                if data is None:
                    out[...] = spec.fill_value
                else:
                    out[...] = self.decode_key(data, spec, key)[selection]
                tick(1)

    def decode_key(self, data: bytes, spec: ChunkSpec, key: str) -> np.ndarray:
        try:
            return self.decode(data, spec)
        except CodecError as e:
            raise CodecError(f"chunk {key!r}: {e}") from e

    def summary(self) -> list[str]:
        out = []
        for c in self.codecs:
            if isinstance(c, V2Chunk):
                out[:0] = [f"filter: {f!r}" for f in c.filters]
            else:
                out.append(repr(c))
        return out


def build_v3(codecs_json: list) -> Pipeline:
    if not isinstance(codecs_json, list) or not codecs_json:
        raise MetadataError(f"codecs: expected a non-empty list, got {show(codecs_json)}")
    array_array, array_bytes, bytes_bytes = [], None, []
    for item in codecs_json:
        if not isinstance(item, (str, dict)):
            raise MetadataError(f"codec entry: expected a name or a JSON object, got {show(item)}")
        name, config = (item, {}) if isinstance(item, str) else (item.get("name"),
                                                                 item.get("configuration"))
        codec = make_codec(name, config)
        if array_bytes is None and isinstance(codec, ArrayArrayCodec):
            array_array.append(codec)
        elif array_bytes is None and isinstance(codec, ArrayBytesCodec):
            array_bytes = codec
        elif array_bytes is not None and isinstance(codec, BytesBytesCodec):
            bytes_bytes.append(codec)
        else:
            raise MetadataError(f"codec {name!r} is out of place in {show(codecs_json)}")
    if array_bytes is None:
        raise MetadataError(f"no array→bytes codec in {show(codecs_json)}")
    return Pipeline(array_array, array_bytes, bytes_bytes)


def build_v2(compressor: dict | None, filters: list | None) -> Pipeline:
    def make(conf):
        if not isinstance(conf, dict) or "id" not in conf:
            raise MetadataError(f"v2 codec: expected a JSON object with an 'id', got {show(conf)}")
        return make_codec(conf["id"], {k: v for k, v in conf.items() if k != "id"})

    bytes_bytes = [make(compressor)] if compressor is not None else []
    if not isinstance(filters, (list, type(None))):
        raise MetadataError(f"filters: expected a list or null, got {show(filters)}")
    filter_codecs = []
    for conf in filters or []:
        codec = make(conf)
        if isinstance(codec, BytesBytesCodec):  # e.g. shuffle as a filter: wrap as flat filter
            codec = _BytesFilter(codec)
        filter_codecs.append(codec)
    if bytes_bytes and not isinstance(bytes_bytes[0], BytesBytesCodec):
        raise MetadataError(f"{show(compressor)} is not a compressor")
    return Pipeline([], V2Chunk(filter_codecs), bytes_bytes)


class _BytesFilter:
    """A bytes→bytes codec used in a v2 filter chain."""

    def __init__(self, codec: BytesBytesCodec):
        self.codec = codec

    def encoded_spec(self, spec: ChunkSpec) -> ChunkSpec:
        return spec.with_(vlen=bytes) if self.codec.overhead else spec

    def decode_flat(self, buf):
        return as_bytes_view(self.codec.decode(as_bytes_view(buf).tobytes(), None))

    def __repr__(self) -> str:
        return repr(self.codec)

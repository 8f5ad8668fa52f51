"""``sharding_indexed``: a shard holds inner chunks plus an index of (offset, nbytes) pairs.

Reading a selection fetches the index with one range request (suffix when it is at the end), then
only the inner chunks the selection needs, as ranges of the shard key — a coalescing store merges
adjacent ones. Entries of all ones (2**64 - 1) mark missing inner chunks (fill value).
"""

from __future__ import annotations

from contextlib import aclosing

import numpy as np

from ..errors import CodecError, MetadataError
from ..indexing import chunk_plan, sub_dims
from ..metadata.fields import INT64_MAX, Fields
from ..store import RangeRequest, Store, SuffixRequest
from .base import ArrayBytesCodec, ChunkSpec, register
from .compressors import Checksum
from .pipeline import Tick, build_v3

_MISSING = np.uint64(2**64 - 1)
_DEFAULT_INDEX_CODECS = [{"name": "bytes", "configuration": {"endian": "little"}},
                         {"name": "crc32c"}]


@register("sharding_indexed")
class ShardingCodec(ArrayBytesCodec):
    def __init__(self, config: Fields):
        self.chunk_shape = config.shape("chunk_shape", lo=1)
        self.inner = build_v3(config.items("codecs"))
        self.index_codecs = build_v3(config.items("index_codecs", _DEFAULT_INDEX_CODECS))
        self.index_location = config.text("index_location", ("start", "end"), "end")
        if self.index_codecs.array_array or not all(
                isinstance(c, Checksum) for c in self.index_codecs.bytes_bytes):
            raise MetadataError("sharding: only bytes + checksum index codecs are supported "
                                "(a compressed index has no fixed size to range-read)")

    def check(self, spec: ChunkSpec) -> None:
        """Refuse inner chunks that do not tile the shard ``spec`` (MetadataError)."""
        self._grid(spec)

    def _grid(self, spec: ChunkSpec) -> tuple[int, ...]:
        if len(spec.shape) != len(self.chunk_shape) or any(
                s % c for s, c in zip(spec.shape, self.chunk_shape)):
            raise MetadataError(f"sharding: inner chunks {self.chunk_shape} do not divide the "
                                f"shard shape {spec.shape}")
        return tuple(s // c for s, c in zip(spec.shape, self.chunk_shape))

    def index_nbytes(self, spec: ChunkSpec) -> int:
        """Size of the index of a shard of ``spec`` (it is read whole before any chunk)."""
        return self._index_nbytes(self._grid(spec))

    def _index_spec(self, grid) -> ChunkSpec:
        return ChunkSpec((*grid, 2), np.dtype("uint64"))

    def _index_nbytes(self, grid) -> int:
        return 16 * int(np.prod(grid, dtype=np.int64)) + sum(
            c.overhead for c in self.index_codecs.bytes_bytes)

    def _index_request(self, grid):
        n = self._index_nbytes(grid)
        return SuffixRequest(n) if self.index_location == "end" else RangeRequest(0, n)

    def _parse_index(self, raw: bytes, grid, key: str) -> np.ndarray:
        if len(raw) != self._index_nbytes(grid):
            raise CodecError(f"shard {key!r}: index is {len(raw)} bytes, expected "
                             f"{self._index_nbytes(grid)} (truncated shard?)")
        try:
            return self.index_codecs.decode(raw, self._index_spec(grid))
        except CodecError as e:
            raise CodecError(f"shard {key!r} index: {e}") from e

    def _inner_spec(self, spec: ChunkSpec) -> ChunkSpec:
        return spec.with_(shape=self.chunk_shape, order="C")

    def _wanted(self, index, selection, spec: ChunkSpec, key: str, size: int | None = None):
        """Plan of inner chunks: (coords, sel, out sel, RangeRequest or None when missing).
        Index entries are checked before anything is requested: no inner chunk can be larger
        than its codecs may produce, nor end past ``size`` (the shard's, when known)."""
        most = self.inner.max_encoded_nbytes(self._inner_spec(spec))
        plan = []
        for coords, csel, osel in chunk_plan(sub_dims(selection), self.chunk_shape):
            offset, nbytes = (int(v) for v in index[coords])
            if offset == _MISSING and nbytes == _MISSING:
                plan.append((coords, csel, osel, None))
                continue
            end = size if size is not None else INT64_MAX
            if nbytes > most or offset + nbytes > end:
                raise CodecError(f"shard {key!r}: index entry of inner chunk {coords} (offset "
                                 f"{offset}, {nbytes} bytes) lies outside the shard or exceeds "
                                 f"the {most} bytes an inner chunk can take (corrupt index)")
            plan.append((coords, csel, osel, RangeRequest(offset, nbytes)))
        return plan

    def _place(self, entry, data: bytes | None, spec: ChunkSpec, out: np.ndarray, key: str) -> None:
        """Decode one inner chunk (an entry of :meth:`_wanted`'s plan) into its part of OUT."""
        coords, csel, osel, req = entry
        if data is None:
            out[osel] = spec.fill_value
            return
        if len(data) != req.length:
            raise CodecError(f"shard {key!r}: inner chunk {coords} is truncated "
                             f"({len(data)} of {req.length} bytes)")
        out[osel] = self.inner.decode_key(data, self._inner_spec(spec), f"{key} inner {coords}")[csel]

    def encoded_nbytes(self, spec: ChunkSpec) -> None:
        return None

    def max_encoded_nbytes(self, spec: ChunkSpec) -> int:
        """A whole shard decoded in memory (codecs around a shard, nested sharding)."""
        grid = self._grid(spec)
        n = int(np.prod(grid, dtype=np.int64))
        return n * self.inner.max_encoded_nbytes(self._inner_spec(spec)) + self._index_nbytes(grid)

    def count_reads(self, spec: ChunkSpec, selection) -> int:
        return sum(1 for _ in chunk_plan(sub_dims(selection), self.chunk_shape))

    async def read_many(self, store: Store, shards: list[tuple[str, tuple, np.ndarray]],
                        spec: ChunkSpec, tick: Tick) -> None:
        """Write ``shard[selection]`` into ``out`` for each of SHARDS (key, selection, out): the
        indexes in one batch, then the needed inner chunks of every shard in another (a
        coalescing store merges neighbours of one shard), each decoded as it arrives."""
        grid = self._grid(spec)
        wanted = []  # (shard, plan entry) of the inner chunks to fetch
        async with aclosing(store.get_batch([(key, self._index_request(grid)) for key, _, _ in shards])) as batch:
            async for i, raw in batch:
                key, selection, out = shards[i]
                if raw is None:
                    out[...] = spec.fill_value
                    tick(self.count_reads(spec, selection))
                    continue
                for entry in self._wanted(self._parse_index(raw, grid, key), selection, spec, key):
                    if entry[3] is None:
                        self._place(entry, None, spec, out, key)
                        tick(1)
                    else:
                        wanted.append((i, entry))
        async with aclosing(store.get_batch([(shards[i][0], entry[3]) for i, entry in wanted])) as batch:
            async for j, data in batch:
                i, entry = wanted[j]
                key, _, out = shards[i]
                if data is None:
                    raise CodecError(f"shard {key!r} vanished while reading it")
                self._place(entry, data, spec, out, key)
                tick(1)

    def decode(self, data, spec: ChunkSpec) -> np.ndarray:
        """A whole shard held in memory (nested sharding, or codecs around the shard)."""
        data = bytes(data)
        grid = self._grid(spec)
        n = self._index_nbytes(grid)
        raw = data[-n:] if self.index_location == "end" else data[:n]
        whole = tuple(slice(0, s, 1) for s in spec.shape)
        plan = self._wanted(self._parse_index(raw, grid, "shard"), whole, spec, "shard",
                            len(data))
        out = np.empty(spec.shape, spec.dtype)
        for entry in plan:
            r = entry[3]
            self._place(entry, None if r is None else data[r.offset:r.offset + r.length], spec, out, "shard")
        return out

    def __repr__(self) -> str:
        inner = ", ".join(self.inner.summary())
        return (f"sharding(inner chunks {list(self.chunk_shape)}, index at {self.index_location}; "
                f"{inner})")

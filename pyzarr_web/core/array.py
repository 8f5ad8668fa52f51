"""ZarrArray: an array's metadata plus reads of basic selections, fetching only the chunks (and
inner chunks) a selection touches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import BudgetError, MetadataError
from .indexing import chunk_plan, chunks_touched, final_view, normalize, out_shape, parse_selection
from .metadata.model import ArrayMetadata
from .store import Store
from .wrappers import FetchCounter

#: default refusal threshold for a single read's result, in bytes
DEFAULT_BUDGET = 512 << 20
#: largest chunk (inner chunk when sharded) a read decodes, in bytes: every chunk is decoded
#: whole in memory, however little of it the selection shows
DEFAULT_CHUNK_BUDGET = 256 << 20
#: most chunks one read may touch: each costs a request and a decode, so a read of a million
#: one-element chunks would run for hours
DEFAULT_MAX_CHUNKS = 100_000


def human_bytes(n: int | None) -> str:
    """A byte count for people (binary units): in error messages and the info view."""
    if n is None:
        return "unknown"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def _first(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


#: keys of metadata documents, not counted in an array's stored size
METADATA_KEYS = frozenset({"zarr.json", ".zarray", ".zattrs", ".zgroup", ".zmetadata"})


class ZarrArray:
    def __init__(self, store: Store, path: str, metadata: ArrayMetadata,
                 budget_bytes: int = DEFAULT_BUDGET, chunk_budget_bytes: int = DEFAULT_CHUNK_BUDGET,
                 max_chunks: int = DEFAULT_MAX_CHUNKS):
        self.store = store
        self.path = path
        self.metadata = metadata
        self.budget_bytes = budget_bytes
        self.chunk_budget_bytes = chunk_budget_bytes
        self.max_chunks = max_chunks
        self._fetched = FetchCounter(store, self._is_shard_index())

    def _is_shard_index(self):
        sharding = self.metadata.sharding
        if sharding is None:
            return None
        try:
            index = sharding._index_request(sharding._grid(self.metadata.chunk_spec()))
        except MetadataError:
            return None  # reads will report it
        return lambda key, byte_range: byte_range == index

    shape = property(lambda self: self.metadata.shape)
    dtype = property(lambda self: self.metadata.dtype)
    chunks = property(lambda self: self.metadata.read_chunks)
    shards = property(lambda self: self.metadata.shards)
    dimension_names = property(lambda self: self.metadata.dimension_names)
    fill_value = property(lambda self: self.metadata.fill_value)
    order = property(lambda self: self.metadata.order)
    attributes = property(lambda self: self.metadata.attributes)
    zarr_format = property(lambda self: self.metadata.zarr_format)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def nchunks(self) -> int:
        """Number of read-chunks in the grid (inner chunks when sharded)."""
        return int(np.prod([-(-s // c) if c else 0 for s, c in zip(self.shape, self.chunks)],
                           dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    @property
    def chunk_nbytes(self) -> int | None:
        """Decoded size of one read-chunk (None for variable-length types)."""
        return self.metadata.chunk_spec(tuple(self.chunks)).nbytes

    @property
    def bytes_fetched(self) -> int:
        """Stored (compressed) bytes this array's reads received so far, each chunk, inner
        chunk and shard index counted once however often it was read."""
        return self._fetched.bytes

    @property
    def chunks_fetched(self) -> int:
        """Distinct stored chunks (inner chunks when sharded) received so far; missing chunks
        (fill value) are not counted."""
        return self._fetched.chunks

    def estimated_ratio(self) -> float | None:
        """Compression ratio of what was read so far: decoded / stored bytes of the chunks
        fetched (shard indexes included as stored bytes). None before any chunk was fetched or
        for variable-length types."""
        nbytes = self.chunk_nbytes
        if not self.chunks_fetched or not self.bytes_fetched or nbytes is None:
            return None
        return self.chunks_fetched * nbytes / self.bytes_fetched

    async def stored_bytes(self) -> int | None:
        """Total size of the array's stored chunks (or shards) where the store can list (a
        directory, a zip, memory), from the listing without reading data; None where it cannot
        (HTTP)."""
        if not self.store.can_list:
            return None
        sizes = await self.store.sizes(f"{self.path}/" if self.path else "")
        return sum(size for key, size in sizes.items()
                   if key.rsplit("/", 1)[-1] not in METADATA_KEYS)

    def codec_summary(self) -> list[str]:
        return self.metadata.pipeline.summary()

    def _key(self, coords: tuple[int, ...]) -> str:
        key = self.metadata.chunk_key(coords)
        return f"{self.path}/{key}" if self.path else key

    async def read(self, selection: Any = None, *, progress: Callable[[int, int], None] | None = None,
                   budget_bytes: int | None = None) -> np.ndarray:
        """``arr[selection]`` as numpy, like zarr-python (selection: tuple or text)."""
        if isinstance(selection, str):
            selection = parse_selection(selection)
        dims = normalize(selection, self.shape)
        shape = out_shape(dims)
        need = int(np.prod(shape, dtype=np.int64)) * self.dtype.itemsize
        budget = self.budget_bytes if budget_bytes is None else budget_bytes
        where = f"reading {self.path or '/'} {selection!r}"
        if need > budget:
            raise BudgetError(
                f"{where} needs {human_bytes(need)}, more than the budget of {human_bytes(budget)}: "
                f"select a smaller region, a stride, or open a coarser pyramid level")
        self._check_chunks(dims, where)
        out = np.empty(shape, self.dtype)
        pipeline, spec = self.metadata.pipeline, self.metadata.chunk_spec()
        plan = list(chunk_plan(dims, self.metadata.chunk_shape))
        total = sum(pipeline.count_reads(spec, csel) for _, csel, _ in plan)
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress(done, total)

        try:
            await pipeline.read_many(self._fetched, [(self._key(coords), csel, out[osel + (Ellipsis,)])
                                                     for coords, csel, osel in plan], spec, tick)
        except BaseExceptionGroup as group:
            raise _first(group) from None  # callers catch ZarrError, not groups
        return final_view(out, dims)

    def _check_chunks(self, dims, where: str) -> None:
        """Refuse, before any request, a read whose chunks are too big to decode or too many."""
        touched = chunks_touched(dims, self.chunks)
        if not touched:
            return
        unit = self.metadata.chunk_spec(tuple(self.chunks)).max_nbytes
        sharding = self.metadata.sharding
        if sharding is not None:  # a shard's index is read whole too
            unit = max(unit, sharding.index_nbytes(self.metadata.chunk_spec()))
        if unit > self.chunk_budget_bytes:
            raise BudgetError(
                f"{where}: one chunk ({self._key((0,) * self.ndim)}: {self.chunks} elements"
                f"{', or its shard index' if sharding else ''}) takes up to {human_bytes(unit)} in "
                f"memory, more than the per-chunk budget of {human_bytes(self.chunk_budget_bytes)}: "
                f"this array cannot be read here")
        if touched > self.max_chunks:
            raise BudgetError(
                f"{where} touches {touched} chunks of {self.chunks} elements, more than the "
                f"budget of {self.max_chunks} chunks per read: select a smaller region, a "
                f"larger stride, or open a coarser pyramid level")

    def __repr__(self) -> str:
        return (f"<ZarrArray {self.path or '/'} shape={self.shape} dtype={self.dtype} "
                f"chunks={self.chunks} v{self.zarr_format}>")

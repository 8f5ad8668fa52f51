"""Procedural Zarr v3 stores of any size, for scale tests and benchmarks (tooling: the page never
imports this module).

Nothing is stored: metadata and chunk bytes are generated when asked for, deterministically, so a
1 Tpx pyramid costs nothing until a chunk is read, and a test computes the values of any region
at any level with numpy (:meth:`SyntheticArray.__getitem__`) without reading a byte.

Values. Full-resolution pixel (Y, X) has the value :func:`pattern` (Y, X): an XOR texture plus
gradients in the high 14 bits and 2 bits of coordinate-hash noise, so every 256² tile of every
level differs from every other tile and a wrong tile is caught. Level ``l`` of a pyramid is point
sampled: its pixel (y, x) is full-resolution pixel (y·2^l, x·2^l) (no translation needed).

Stores (:func:`default_stores` names them):

* :func:`ome_pyramid` -- OME-NGFF 0.5 image, 2^20 × 2^20 uint16, levels ``0`` … ``10`` (factor 2,
  down to 1024²), sharded (1024² shards of 256² blosc-lz4 inner chunks in Morton order, index at
  the end with crc32c: byte for byte what zarr-python writes). Optionally a ``c`` or ``z`` axis
  before y/x.
* :func:`geozarr_pyramid` -- global EPSG:4326 map, 2^16 × 2^17 float32 at level ``0``, levels
  ``0`` … ``7``, zarr-conventions ``multiscales`` layout + ``proj:`` + ``spatial:``.
* :func:`huge_array` / :func:`small_array` -- one array at the store root (2^20² / 1024² uint16,
  512² zstd chunks).

:class:`SyntheticStore` maps keys to bytes (with byte ranges); :class:`SyntheticServer` is an ASGI
app serving stores at ``/synthetic/<name>/…`` over HTTP with Range and CORS, and counting
requests and bytes per URL path.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

PREFIX = "/synthetic"
MAX_UINT64 = 2**64 - 1

# ----------------------------------------------------------------------------------- values


def _noise(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """2 bits of an integer hash of the coordinates (uint32 arithmetic wraps on purpose)."""
    h = (y * np.uint32(0x9E3779B1)) ^ (x * np.uint32(0x85EBCA77))
    h ^= h >> np.uint32(15)
    h *= np.uint32(0x2C1B3C6D)
    h ^= h >> np.uint32(12)
    return h >> np.uint32(30)


def pattern(y, x) -> np.ndarray:
    """The uint16 value of full-resolution pixel (y, x); broadcasts like numpy.

    ``(((y>>4) ^ (x>>4)) + (y>>6) + 7·(x>>8)) · 4 + noise(y, x)``, modulo 2^16."""
    y = np.asarray(y, dtype=np.uint32)
    x = np.asarray(x, dtype=np.uint32)
    base = ((y >> np.uint32(4)) ^ (x >> np.uint32(4))) + (y >> np.uint32(6)) + np.uint32(7) * (x >> np.uint32(8))
    return ((base << np.uint32(2)) | _noise(y, x)).astype(np.uint16)


#: added (mod 2^16) per index along an extra ``c``/``z`` axis
EXTRA_STEP = 4099


# ----------------------------------------------------------------------------------- codecs


@dataclass(frozen=True)
class Codec:
    """A compressor: its Zarr v3 JSON and the numcodecs encoder that writes those bytes."""
    json: dict
    make: Callable[[], object]

    def encode(self, data: np.ndarray) -> bytes:
        return bytes(self.make().encode(np.ascontiguousarray(data)))


def blosc_lz4(typesize: int) -> Codec:
    from numcodecs import Blosc

    return Codec({"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle",
                                                     "typesize": typesize, "blocksize": 0}},
                 lambda: Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE, blocksize=0))


def zstd(level: int = 1) -> Codec:
    from numcodecs import Zstd

    return Codec({"name": "zstd", "configuration": {"level": level, "checksum": False}},
                 lambda: Zstd(level=level))


BYTES_LE = {"name": "bytes", "configuration": {"endian": "little"}}


def _crc32c(data: bytes) -> int:
    from crc32c import crc32c  # the package zarr-python's crc32c codec uses; independent of ours

    return crc32c(data)


# ----------------------------------------------------------------------------------- caches


class _LRU:
    """A thread-safe LRU bounded by total size (``sizeof`` of each value)."""

    def __init__(self, budget: int, sizeof: Callable[[object], int]) -> None:
        self.budget, self.sizeof, self.used = budget, sizeof, 0
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, make: Callable[[], object]):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            if key not in self._items:
                self._items[key] = value
                self.used += self.sizeof(value)
                while self.used > self.budget and len(self._items) > 1:
                    _, old = self._items.popitem(last=False)
                    self.used -= self.sizeof(old)
        return value


# ----------------------------------------------------------------------------------- arrays


@dataclass(frozen=True)
class Shard:
    """Where each inner chunk of one shard lies (``offsets``/``sizes`` in C order of the inner
    chunks, as the index lists them), the order they are laid out in, and the index bytes."""
    offsets: tuple[int, ...]
    sizes: tuple[int, ...]
    placement: tuple[int, ...]  # C-order positions, by offset
    index: bytes

    @property
    def data_nbytes(self) -> int:
        return sum(self.sizes)

    @property
    def nbytes(self) -> int:
        return self.data_nbytes + len(self.index)


def morton_order(shape: tuple[int, ...]) -> list[int]:
    """C-order positions of a SHAPE grid in Z (Morton) order, the first dimension's bit lowest
    at each level: how zarr-python lays out a shard's inner chunks."""
    bits = [(n - 1).bit_length() for n in shape]

    def code(pos: tuple[int, ...]) -> int:
        z, out = 0, 0
        for b in range(max(bits, default=0)):
            for p, nbits in zip(pos, bits):
                if b < nbits:
                    z |= ((p >> b) & 1) << out
                    out += 1
        return z

    cells = list(itertools.product(*(range(n) for n in shape)))
    return sorted(range(len(cells)), key=lambda i: code(cells[i]))


@dataclass(eq=False)
class SyntheticArray:
    """One Zarr v3 array whose chunk bytes are computed from ``values``.

    ``values(*index)`` gets one 1-D integer array per dimension (indices of this array) and
    returns their outer-product block of values. ``chunks`` is the read chunk (the inner chunk
    when ``shard`` is given)."""
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dtype: str
    codec: Codec
    values: Callable[..., np.ndarray]
    shard: tuple[int, ...] | None = None
    dimension_names: tuple[str, ...] | None = None
    attributes: dict = field(default_factory=dict)
    cache: _LRU = field(default_factory=lambda: _LRU(64 << 20, len))
    layouts: _LRU = field(default_factory=lambda: _LRU(4096, lambda _v: 1))

    def __post_init__(self) -> None:
        grid = self.shard or self.chunks
        if self.shard and any(s % c for s, c in zip(self.shard, self.chunks)):
            raise ValueError(f"shard {self.shard} is not a multiple of the inner chunk {self.chunks}")
        self.grid_shape = tuple(math.ceil(n / g) for n, g in zip(self.shape, grid))
        if self.shard:
            self.inner_per_shard = tuple(s // c for s, c in zip(self.shard, self.chunks))
            self.index_nbytes = 16 * math.prod(self.inner_per_shard) + 4

    # -- expected values
    def __getitem__(self, selection) -> np.ndarray:
        """The values of basic-indexing SELECTION (ints and slices), as zarr-python returns them."""
        selection = selection if isinstance(selection, tuple) else (selection,)
        selection += (slice(None),) * (len(self.shape) - len(selection))
        index, squeeze = [], []
        for dim, (s, n) in enumerate(zip(selection, self.shape)):
            if isinstance(s, slice):
                index.append(np.arange(*s.indices(n)))
            else:
                i = int(s) + n if int(s) < 0 else int(s)
                if not 0 <= i < n:
                    raise IndexError(f"index {s} out of range for dimension {dim} of size {n}")
                index.append(np.array([i]))
                squeeze.append(dim)
        block = self.values(*index)
        return block.reshape([len(i) for i in index]).squeeze(axis=tuple(squeeze))

    # -- metadata
    def metadata(self) -> dict:
        inner = [BYTES_LE, self.codec.json]
        codecs = inner if not self.shard else [{"name": "sharding_indexed", "configuration": {
            "chunk_shape": list(self.chunks), "codecs": inner,
            "index_codecs": [BYTES_LE, {"name": "crc32c"}], "index_location": "end"}}]
        meta = {"zarr_format": 3, "node_type": "array", "shape": list(self.shape),
                "data_type": self.dtype,
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(self.shard or self.chunks)}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                "fill_value": 0, "codecs": codecs, "attributes": self.attributes,
                "storage_transformers": []}
        if self.dimension_names:
            meta["dimension_names"] = list(self.dimension_names)
        return meta

    # -- chunk bytes
    def chunk(self, coords: tuple[int, ...]) -> bytes:
        """The stored bytes of read chunk COORDS (an inner chunk when sharded)."""
        def make() -> bytes:
            index = [np.arange(c * n, (c + 1) * n) for c, n in zip(coords, self.chunks)]
            block = self.values(*index).astype(np.dtype(self.dtype).newbyteorder("<"), copy=False)
            return self.codec.encode(block.reshape(self.chunks))
        return self.cache.get((id(self), coords), make)

    def shard_layout(self, coords: tuple[int, ...]) -> Shard:
        """Offsets, sizes and index of shard COORDS: every inner chunk compressed once (cached),
        laid out in Morton order as zarr-python writes them."""
        def make() -> Shard:
            sizes = [len(self.chunk(c)) for c in self.inner_chunks(coords)]
            placement = morton_order(self.inner_per_shard)
            offsets = [0] * len(sizes)
            at = 0
            for i in placement:
                offsets[i], at = at, at + sizes[i]
            table = np.array(list(zip(offsets, sizes)), dtype="<u8").tobytes()
            return Shard(tuple(offsets), tuple(sizes), tuple(placement),
                         table + _crc32c(table).to_bytes(4, "little"))
        return self.layouts.get((id(self), coords), make)

    def inner_chunks(self, shard: tuple[int, ...]) -> list[tuple[int, ...]]:
        first = [c * k for c, k in zip(shard, self.inner_per_shard)]
        return [tuple(f + i for f, i in zip(first, inner))
                for inner in itertools.product(*(range(k) for k in self.inner_per_shard))]

    def size(self, coords: tuple[int, ...]) -> int:
        """Stored size of grid cell COORDS (a whole shard when sharded)."""
        return self.shard_layout(coords).nbytes if self.shard else len(self.chunk(coords))

    def read(self, coords: tuple[int, ...], start: int, stop: int) -> bytes:
        """Bytes [START, STOP) of grid cell COORDS; a shard is assembled from only the inner
        chunks (and index) the range touches."""
        if not self.shard:
            return self.chunk(coords)[start:stop]
        layout = self.shard_layout(coords)
        inner = self.inner_chunks(coords)
        parts, data_end = [], layout.data_nbytes
        starts = [layout.offsets[i] for i in layout.placement]
        k = max(bisect.bisect_right(starts, start) - 1, 0)
        while k < len(starts) and starts[k] < min(stop, data_end):
            i = layout.placement[k]
            lo, hi = max(start - starts[k], 0), min(stop - starts[k], layout.sizes[i])
            if hi > lo:
                parts.append(self.chunk(inner[i])[lo:hi])
            k += 1
        if stop > data_end:
            parts.append(layout.index[max(start - data_end, 0):stop - data_end])
        return b"".join(parts)

    # -- what a viewport costs
    def chunks_in(self, region: tuple[tuple[int, int], ...]) -> list[tuple[int, ...]]:
        """Read-chunk coordinates intersecting REGION ((start, stop) per dimension)."""
        ranges = [range(max(a, 0) // c, math.ceil(min(b, n) / c))
                  for (a, b), c, n in zip(region, self.chunks, self.shape)]
        return list(itertools.product(*ranges))

    def shard_of(self, chunk: tuple[int, ...]) -> tuple[int, ...]:
        """Coordinates of the shard holding read chunk CHUNK."""
        return tuple(c // k for c, k in zip(chunk, self.inner_per_shard))

    def chunk_nbytes(self, chunk: tuple[int, ...]) -> int:
        """Stored size of read chunk CHUNK (an inner chunk's, read from its shard's layout)."""
        if not self.shard:
            return len(self.chunk(chunk))
        shard = self.shard_of(chunk)
        rel = [c - s * k for c, s, k in zip(chunk, shard, self.inner_per_shard)]
        return self.shard_layout(shard).sizes[int(np.ravel_multi_index(rel, self.inner_per_shard))]

    def stored_bytes(self, region: tuple[tuple[int, int], ...]) -> dict:
        """Ideal bytes to show REGION: the stored sizes of the read chunks intersecting it, and
        (sharded) the index bytes of the shards they lie in."""
        chunks = self.chunks_in(region)
        shards = {self.shard_of(c) for c in chunks} if self.shard else set()
        return {"chunks": len(chunks), "chunk_bytes": sum(self.chunk_nbytes(c) for c in chunks),
                "shards": len(shards), "index_bytes": len(shards) * self.index_nbytes if shards else 0}


# ----------------------------------------------------------------------------------- stores


def _json(doc: dict) -> bytes:
    return json.dumps(doc, indent=1).encode()


class SyntheticStore(Mapping):
    """Key → bytes for a hierarchy of groups (path → attributes) and :class:`SyntheticArray`
    (path → array). Iterating lists every chunk key lazily (never needed to read)."""

    def __init__(self, arrays: dict[str, SyntheticArray], groups: dict[str, dict] | None = None) -> None:
        self.arrays, self.groups = arrays, groups or {}
        # longest path first, so "0/c/…" of an array "0" is not taken for the root's chunks
        self._by_length = sorted(arrays, key=len, reverse=True)

    def array(self, path: str = "") -> SyntheticArray:
        return self.arrays[path]

    def _locate(self, key: str) -> tuple[str, SyntheticArray | None, tuple[int, ...] | None] | None:
        """(metadata document, None, None) or (path, array, chunk coords) for KEY; None when no
        such key exists."""
        for path in [*self.groups, *self.arrays]:
            if key == (f"{path}/zarr.json" if path else "zarr.json"):
                return path, None, None
        for path in self._by_length:
            prefix = f"{path}/c/" if path else "c/"
            if not key.startswith(prefix):
                continue
            arr = self.arrays[path]
            parts = key[len(prefix):].split("/")
            if len(parts) != len(arr.shape) or not all(p.isdigit() and p == str(int(p)) for p in parts):
                return None
            coords = tuple(int(p) for p in parts)
            if all(c < n for c, n in zip(coords, arr.grid_shape)):
                return path, arr, coords
            return None
        return None

    def _document(self, path: str) -> bytes:
        if path in self.arrays:
            return _json(self.arrays[path].metadata())
        return _json({"zarr_format": 3, "node_type": "group", "attributes": self.groups[path]})

    def size(self, key: str) -> int | None:
        """Length of the value at KEY, None when there is none."""
        found = self._locate(key)
        if found is None:
            return None
        path, arr, coords = found
        return len(self._document(path)) if arr is None else arr.size(coords)

    def get(self, key: str, start: int = 0, stop: int | None = None) -> bytes | None:
        """Bytes [START, STOP) of KEY's value (Python slice bounds, non-negative), None if missing."""
        found = self._locate(key)
        if found is None:
            return None
        path, arr, coords = found
        if arr is None:
            return self._document(path)[start:stop]
        end = arr.size(coords) if stop is None else min(stop, arr.size(coords))
        return arr.read(coords, start, end)

    def __getitem__(self, key: str) -> bytes:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key) -> bool:
        return isinstance(key, str) and self._locate(key) is not None

    def __iter__(self) -> Iterator[str]:
        for path in [*self.groups, *self.arrays]:
            yield f"{path}/zarr.json" if path else "zarr.json"
        for path, arr in self.arrays.items():
            prefix = f"{path}/c/" if path else "c/"
            for coords in itertools.product(*(range(n) for n in arr.grid_shape)):
                yield prefix + "/".join(map(str, coords))

    def __len__(self) -> int:
        return len(self.groups) + len(self.arrays) + sum(math.prod(a.grid_shape) for a in self.arrays.values())


# ----------------------------------------------------------------------------------- the stores


def _pyramid_values(level: int, extra: bool, scale: float = 1, dtype=np.uint16):
    """values(...) of pyramid level LEVEL: pixel (y, x) is :func:`pattern` (y·2^l, x·2^l)."""
    def values(*index):
        grids = np.ix_(*index)
        y = grids[-2].astype(np.uint32) << np.uint32(level)
        x = grids[-1].astype(np.uint32) << np.uint32(level)
        v = pattern(y, x)
        if extra:
            v = (v + (grids[0] * EXTRA_STEP).astype(np.uint16)).astype(np.uint16)
        return v if scale == 1 else (v.astype(dtype) * dtype(scale))
    return values


def ome_pyramid(size_log2: int = 20, smallest_log2: int = 10, chunk: int = 256, shard: int = 1024,
                pixel_size: float = 0.5, extra: tuple[str, int] | None = None) -> SyntheticStore:
    """OME-NGFF 0.5 image: level ``l`` (path ``str(l)``) is 2^(size_log2-l) square, uint16,
    sharded; EXTRA = ("c", n) or ("z", n) adds that axis first (not downsampled; chunk 1),
    its index k adding ``k·EXTRA_STEP`` (mod 2^16) to the values."""
    cache = _LRU(64 << 20, len)
    layouts = _LRU(4096, lambda _v: 1)
    arrays, datasets = {}, []
    lead = () if extra is None else (extra[1],)
    lead_chunk = () if extra is None else (1,)
    for level in range(size_log2 - smallest_log2 + 1):
        n = 2 ** (size_log2 - level)
        inner, outer = min(chunk, n), min(shard, n)
        arrays[str(level)] = SyntheticArray(
            (*lead, n, n), (*lead_chunk, inner, inner), "uint16", blosc_lz4(2),
            _pyramid_values(level, extra is not None), shard=(*lead_chunk, outer, outer),
            dimension_names=(*(extra[:1] if extra else ()), "y", "x"), cache=cache, layouts=layouts)
        s = pixel_size * 2 ** level
        lead_scale = [] if extra is None else [1.0 if extra[0] == "c" else 2.0]
        datasets.append({"path": str(level),
                         "coordinateTransformations": [{"type": "scale", "scale": [*lead_scale, s, s]}]})
    axes = [{"name": "y", "type": "space", "unit": "micrometer"},
            {"name": "x", "type": "space", "unit": "micrometer"}]
    if extra is not None:
        axes.insert(0, {"name": "c", "type": "channel"} if extra[0] == "c" else
                    {"name": "z", "type": "space", "unit": "micrometer"})
    ome: dict = {"version": "0.5", "multiscales": [{
        "name": f"synthetic 2^{size_log2} square", "axes": axes, "datasets": datasets,
        "type": "stride", "metadata": {"description": "point sampled: level l pixel (y, x) = "
                                       "level 0 pixel (y*2^l, x*2^l)"}}]}
    if extra is not None and extra[0] == "c":
        colors = ["FF0000", "00FF00", "0000FF", "FFFF00", "FF00FF", "00FFFF"]
        ome["omero"] = {"channels": [
            {"label": f"channel {k}", "color": colors[k % len(colors)], "active": True,
             "window": {"min": 0, "max": 65535, "start": 0, "end": 65535}} for k in range(extra[1])]}
    return SyntheticStore(arrays, {"": {"ome": ome}})


#: zarr-conventions identifiers (name, uuid, schema and spec at tag v1)
CONVENTIONS = [
    {"name": "multiscales", "uuid": "d35379db-88df-4056-af3a-620245f8e347",
     "schema_url": "https://raw.githubusercontent.com/zarr-conventions/multiscales/refs/tags/v1/schema.json",
     "spec_url": "https://github.com/zarr-conventions/multiscales/blob/v1/README.md"},
    {"name": "proj:", "uuid": "f17cb550-5864-4468-aeb7-f3180cfb622f",
     "schema_url": "https://raw.githubusercontent.com/zarr-experimental/geo-proj/refs/tags/v1/schema.json",
     "spec_url": "https://github.com/zarr-experimental/geo-proj/blob/v1/README.md"},
    {"name": "spatial:", "uuid": "689b58e2-cf7b-45e0-9fff-9cfc0883d6b4",
     "schema_url": "https://raw.githubusercontent.com/zarr-conventions/spatial/refs/tags/v1/schema.json",
     "spec_url": "https://github.com/zarr-conventions/spatial/blob/v1/README.md"}]

#: geozarr_pyramid values are pattern(y, x) times this, as float32 (exact)
GEO_SCALE = 0.25


def geozarr_pyramid(rows_log2: int = 16, smallest_log2: int = 9, chunk: int = 256) -> SyntheticStore:
    """Global EPSG:4326 map: level ``l`` (array ``str(l)``) is 2^(rows_log2-l) × 2^(rows_log2+1-l)
    float32 (``pattern(y·2^l, x·2^l) · GEO_SCALE``), rows from 90°N, columns from 180°W; levels
    down to 2^smallest_log2 rows, each a direct array in a zarr-conventions ``multiscales``
    layout with ``proj:code`` and ``spatial:`` placement."""
    cache = _LRU(64 << 20, len)
    arrays, layout = {}, []
    height0, width0 = 2 ** rows_log2, 2 ** (rows_log2 + 1)
    for level in range(rows_log2 - smallest_log2 + 1):
        h, w = height0 >> level, width0 >> level
        affine = [360.0 / w, 0.0, -180.0, 0.0, -180.0 / h, 90.0]
        where = {"spatial:transform": affine, "spatial:shape": [h, w]}
        arrays[str(level)] = SyntheticArray(
            (h, w), (min(chunk, h), min(chunk, w)), "float32", zstd(1),
            _pyramid_values(level, False, GEO_SCALE, np.float32), dimension_names=("lat", "lon"),
            attributes={"zarr_conventions": CONVENTIONS[1:], "proj:code": "EPSG:4326",
                        "spatial:dimensions": ["lat", "lon"], **where}, cache=cache)
        entry = {"asset": str(level), **({"transform": {"scale": [1.0, 1.0], "translation": [0.0, 0.0]}}
                                         if level == 0 else
                                         {"derived_from": str(level - 1),
                                          "transform": {"scale": [2.0, 2.0], "translation": [0.0, 0.0]}}),
                 **where}
        layout.append(entry)
    attrs = {"zarr_conventions": CONVENTIONS,
             "multiscales": {"layout": layout, "resampling_method": "nearest"},
             "proj:code": "EPSG:4326", "spatial:dimensions": ["lat", "lon"],
             "spatial:transform": layout[0]["spatial:transform"], "spatial:shape": [height0, width0],
             "spatial:bbox": [-180.0, -90.0, 180.0, 90.0], "spatial:registration": "pixel"}
    return SyntheticStore(arrays, {"": attrs})


def huge_array(size_log2: int = 20, chunk: int = 512) -> SyntheticStore:
    """One uint16 array of 2^size_log2 square at the store root, zstd chunks, ``pattern(y, x)``."""
    n = 2 ** size_log2
    return SyntheticStore({"": SyntheticArray((n, n), (min(chunk, n),) * 2, "uint16", zstd(1),
                                              _pyramid_values(0, False), dimension_names=("y", "x"))})


def small_array() -> SyntheticStore:
    """The 1 Mpx (1024²) counterpart of :func:`huge_array`, same chunks and values."""
    return huge_array(10)


def default_stores() -> dict[str, SyntheticStore]:
    """The stores :class:`SyntheticServer` serves by default, by name."""
    return {"ome.zarr": ome_pyramid(), "ome-c3.zarr": ome_pyramid(extra=("c", 3)),
            "geo.zarr": geozarr_pyramid(), "huge.zarr": huge_array(), "small.zarr": small_array()}


# ----------------------------------------------------------------------------------- HTTP


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """(start, stop) of a single ``Range: bytes=…`` against SIZE; None to send the whole value
    (no header, several ranges or a malformed one: RFC 9110 lets a server ignore it);
    "unsatisfiable" for a range past the end."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, sep, last = header[len("bytes="):].strip().partition("-")
    if not sep or not (first.isdigit() or (not first and last.isdigit())) or (last and not last.isdigit()):
        return None
    if not first:  # suffix: the last N bytes
        n = int(last)
        return (max(size - n, 0), size) if n > 0 and size > 0 else "unsatisfiable"
    start = int(first)
    stop = size if not last else min(int(last) + 1, size)
    if last and int(last) < start:
        return None
    return (start, stop) if start < size else "unsatisfiable"


class SyntheticServer:
    """ASGI app: store NAME at ``/synthetic/NAME/KEY`` (GET/HEAD, Range, CORS; ``/synthetic/``
    lists them as JSON), request and byte counts per URL path (:meth:`stats`, ``GET /synthetic/_stats``; :meth:`reset`,
    ``POST /synthetic/_stats/reset``); any other path goes to FALLBACK (e.g. the built site),
    so a page and its stores share one origin."""

    def __init__(self, stores: dict[str, SyntheticStore] | None = None, fallback=None) -> None:
        from .serve import cors_middleware

        self.stores = default_stores() if stores is None else stores
        self.url = ""  # set by whoever runs the app (e.g. serve.run_in_thread's base URL)
        self._counts: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        routes = [Route(PREFIX + "/", self._index_endpoint),
                  Route(PREFIX + "/_stats", self._stats_endpoint),
                  Route(PREFIX + "/_stats/reset", self._reset_endpoint, methods=["POST"]),
                  Route(PREFIX + "/{name}/{key:path}", self._endpoint, methods=["GET", "HEAD"])]
        if fallback is not None:
            routes.append(Mount("/", app=fallback))
        self.app = Starlette(routes=routes, middleware=[cors_middleware()])

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)

    def store_url(self, name: str) -> str:
        """Absolute URL of store NAME (needs :attr:`url`)."""
        return f"{self.url}{PREFIX}/{name}"

    # -- counters
    def stats(self, prefix: str = "") -> dict[str, dict[str, int]]:
        """{URL path: {"requests", "bytes"}} since the last reset (body bytes sent), for paths
        starting with PREFIX (e.g. "/synthetic/ome.zarr/3/")."""
        with self._lock:
            return {p: {"requests": r, "bytes": b} for p, (r, b) in self._counts.items() if p.startswith(prefix)}

    def totals(self, prefix: str = "") -> dict[str, int]:
        counts = self.stats(prefix).values()
        return {"requests": sum(c["requests"] for c in counts), "bytes": sum(c["bytes"] for c in counts)}

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def _count(self, path: str, nbytes: int) -> None:
        with self._lock:
            entry = self._counts.setdefault(path, [0, 0])
            entry[0] += 1
            entry[1] += nbytes

    # -- endpoints
    async def _index_endpoint(self, request):
        return JSONResponse({"stores": [{"name": name, "url": f"{PREFIX}/{name}"} for name in self.stores]},
                            headers={"Cache-Control": "no-store"})

    async def _stats_endpoint(self, request):
        return JSONResponse(self.stats(), headers={"Cache-Control": "no-store"})

    async def _reset_endpoint(self, request):
        self.reset()
        return Response(status_code=204)

    async def _endpoint(self, request):
        store = self.stores.get(request.path_params["name"])
        key = request.path_params["key"]
        size = None if store is None else store.size(key)
        headers = {"Cache-Control": "no-cache", "Accept-Ranges": "bytes"}
        if size is None:
            self._count(request.url.path, 0)
            return Response(b"not found", status_code=404, media_type="text/plain")
        wanted = parse_range(request.headers.get("range"), size)
        if wanted == "unsatisfiable":
            self._count(request.url.path, 0)
            return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
        start, stop = (0, size) if wanted is None else wanted
        if wanted is not None:
            headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
        status = 200 if wanted is None else 206
        media = "application/json" if key.endswith("zarr.json") else "application/octet-stream"
        headers["Content-Length"] = str(stop - start)
        if request.method == "HEAD":
            self._count(request.url.path, 0)
            return Response(status_code=status, headers=headers, media_type=media)
        body = store.get(key, start, stop)
        self._count(request.url.path, len(body))
        return Response(body, status_code=status, headers=headers, media_type=media)

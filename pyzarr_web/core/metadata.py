"""Array and group metadata of Zarr v2 (.zarray/.zgroup/.zattrs) and v3 (zarr.json), parsed into
one shape the rest of the reader uses regardless of format."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import dtypes
from .codecs import ChunkSpec, Pipeline, build_v2, build_v3
from .codecs.sharding import ShardingCodec
from .errors import MetadataError

#: numpy 2's variable-width string dtype, which zarr-python returns for vlen strings
STRING_DTYPE = np.dtypes.StringDType() if hasattr(np.dtypes, "StringDType") else dtypes.OBJECT


def parse_json(raw: bytes, where: str) -> dict:
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise MetadataError(f"{where}: invalid JSON ({e})") from e
    if not isinstance(doc, dict):
        raise MetadataError(f"{where}: expected a JSON object")
    return doc


@dataclass
class GroupMetadata:
    zarr_format: int
    attributes: dict = field(default_factory=dict)


@dataclass
class ArrayMetadata:
    zarr_format: int
    shape: tuple[int, ...]
    dtype: np.dtype  # what reads return
    chunk_shape: tuple[int, ...]  # stored chunk grid (the shard shape when sharded)
    fill_value: Any  # as declared (None for v2 null)
    order: str
    pipeline: Pipeline
    chunk_key: Callable[[tuple[int, ...]], str]
    attributes: dict = field(default_factory=dict)
    dimension_names: list | None = None
    vlen: type | None = None
    decode_dtype: np.dtype | None = None  # dtype codecs decode to, if not ``dtype``

    @property
    def sharding(self) -> ShardingCodec | None:
        return self.pipeline.partial()

    @property
    def read_chunks(self) -> tuple[int, ...]:
        """The unit a read decodes: inner chunks when sharded (zarr-python's ``chunks``)."""
        return self.sharding.chunk_shape if self.sharding else self.chunk_shape

    @property
    def shards(self) -> tuple[int, ...] | None:
        return self.chunk_shape if self.sharding else None

    def resolved_fill(self) -> Any:
        if self.fill_value is None:
            return dtypes.default_fill(self.dtype, self.vlen)
        return self.fill_value

    def chunk_spec(self, shape: tuple[int, ...] | None = None) -> ChunkSpec:
        return ChunkSpec(shape or self.chunk_shape, self.decode_dtype or self.dtype,
                         self.resolved_fill(), self.order, self.vlen)


def _ints(value, what: str) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)) or not all(
            isinstance(v, int) and v >= 0 for v in value):
        raise MetadataError(f"{what} must be a list of non-negative integers, "
                            f"got {value!r}")
    return tuple(value)


def _dim_names(doc_names, attributes) -> list | None:
    names = doc_names if doc_names is not None else attributes.get("_ARRAY_DIMENSIONS")
    return list(names) if isinstance(names, (list, tuple)) else None


def _key_fn(prefix: str, separator: str) -> Callable[[tuple[int, ...]], str]:
    def key(coords: tuple[int, ...]) -> str:
        if prefix:
            return separator.join([prefix, *map(str, coords)])
        return separator.join(map(str, coords)) or "0"  # v2 names the chunk of a 0-d array "0"
    return key


def parse_v3(doc: dict, where: str) -> ArrayMetadata | GroupMetadata:
    if doc.get("zarr_format") != 3:
        raise MetadataError(f"{where}: zarr_format must be 3, got {doc.get('zarr_format')!r}")
    attributes = doc.get("attributes") or {}
    kind = doc.get("node_type")
    if kind == "group":
        return GroupMetadata(3, attributes)
    if kind != "array":
        raise MetadataError(f"{where}: node_type must be 'group' or 'array', got {kind!r}")
    try:
        grid = doc["chunk_grid"]
        if grid.get("name") != "regular":
            raise MetadataError(f"unsupported chunk grid {grid.get('name')!r}")
        shape = _ints(doc["shape"], "shape")
        chunks = _ints(grid["configuration"]["chunk_shape"], "chunk_shape")
        dtype = dtypes.parse_v3_dtype(doc["data_type"])
        name = doc["data_type"] if isinstance(doc["data_type"], str) else None
        vlen = dtypes.VLEN_V3.get(name)
        encoding = doc.get("chunk_key_encoding") or {"name": "default"}
        separator = (encoding.get("configuration") or {}).get(
            "separator", "/" if encoding.get("name") == "default" else ".")
        if encoding.get("name") == "default":
            key = _key_fn("c", separator)
        elif encoding.get("name") == "v2":
            key = _key_fn("", separator)
        else:
            raise MetadataError(f"unsupported chunk_key_encoding {encoding!r}")
        if doc.get("storage_transformers"):
            raise MetadataError("storage transformers are not supported")
        pipeline = build_v3(doc["codecs"])
        fill = dtypes.parse_fill_value(doc.get("fill_value"), dtype, 3, vlen)
    except KeyError as e:
        raise MetadataError(f"{where}: missing field {e}") from e
    except MetadataError as e:
        raise MetadataError(f"{where}: {e}") from e
    if len(chunks) != len(shape):
        raise MetadataError(f"{where}: chunk shape {chunks} does not match shape {shape}")
    return ArrayMetadata(3, shape, STRING_DTYPE if vlen is str else dtype, chunks, fill, "C",
                         pipeline, key, attributes, _dim_names(doc.get("dimension_names"),
                                                               attributes),
                         vlen, dtype if vlen is str else None)


def parse_v2_array(doc: dict, attributes: dict, where: str) -> ArrayMetadata:
    if doc.get("zarr_format") != 2:
        raise MetadataError(f"{where}: zarr_format must be 2, got {doc.get('zarr_format')!r}")
    try:
        shape = _ints(doc["shape"], "shape")
        chunks = _ints(doc["chunks"], "chunks")
        dtype = dtypes.parse_v2_dtype(doc["dtype"])
        filters = doc.get("filters") or []
        ids = {f.get("id") for f in filters if isinstance(f, dict)}
        vlen = str if "vlen-utf8" in ids else bytes if "vlen-bytes" in ids else None
        order = doc.get("order", "C")
        if order not in ("C", "F"):
            raise MetadataError(f"order must be 'C' or 'F', got {order!r}")
        pipeline = build_v2(doc.get("compressor"), filters)
        fill = dtypes.parse_fill_value(doc.get("fill_value"), dtype, 2,
                                       vlen if dtype.hasobject else None)
    except KeyError as e:
        raise MetadataError(f"{where}: missing field {e}") from e
    except MetadataError as e:
        raise MetadataError(f"{where}: {e}") from e
    if len(chunks) != len(shape):
        raise MetadataError(f"{where}: chunks {chunks} do not match shape {shape}")
    out_dtype = STRING_DTYPE if vlen is str and dtype.hasobject else dtype
    return ArrayMetadata(2, shape, out_dtype, chunks, fill, order, pipeline,
                         _key_fn("", doc.get("dimension_separator") or "."), attributes,
                         _dim_names(None, attributes), vlen if dtype.hasobject else None,
                         dtype if out_dtype is not dtype else None)

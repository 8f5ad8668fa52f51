"""Array and group metadata of Zarr v2 (.zarray/.zgroup/.zattrs), v3 (zarr.json) and both
consolidated forms, checked field by field (:mod:`.fields`) and parsed into one shape the rest of
the reader uses regardless of format."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import dtypes
from ..codecs import ChunkSpec, Pipeline, build_v2, build_v3
from ..codecs.sharding import ShardingCodec
from ..errors import MetadataError
from .fields import INT64_MAX, Fields, is_int, product, show

#: numpy 2's variable-width string dtype, which zarr-python returns for vlen strings
STRING_DTYPE = np.dtypes.StringDType() if hasattr(np.dtypes, "StringDType") else dtypes.OBJECT


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


#: most nodes a consolidated listing may hold: each becomes parsed metadata in memory
MAX_CONSOLIDATED_NODES = 10_000
_SEPARATORS = ("/", ".")
#: v2 typestrs: byte order, kind, item size (datetimes with a unit)
_V2_TYPESTR = re.compile(r"[<>|][biufcSUVO]\d+|[<>|][mM]8(\[\d*[a-zA-Z]+\])?|\|O")


def _dim_names(doc_names, attributes) -> list | None:
    names = doc_names if doc_names is not None else attributes.get("_ARRAY_DIMENSIONS")
    return list(names) if isinstance(names, (list, tuple)) else None


def _key_fn(prefix: str, separator: str) -> Callable[[tuple[int, ...]], str]:
    def key(coords: tuple[int, ...]) -> str:
        if prefix:
            return separator.join([prefix, *map(str, coords)])
        return separator.join(map(str, coords)) or "0"  # v2 names the chunk of a 0-d array "0"
    return key


def _format(fields: Fields, version: int) -> None:
    value = fields.raw("zarr_format", None)
    if not is_int(value) or value != version:
        raise fields.fail("zarr_format", str(version), value)


def _check_sizes(fields: Fields, shape, chunks, itemsize: int, chunk_field: str) -> None:
    """Byte sizes of the array and of one chunk must fit int64 (numpy's sizes)."""
    if product(shape) * itemsize > INT64_MAX:
        raise fields.fail("shape", "an array whose byte size fits a 64-bit integer", list(shape))
    if product(chunks) * itemsize > INT64_MAX:
        raise fields.fail(chunk_field, "a chunk whose byte size fits a 64-bit integer",
                          list(chunks))


def _fill(fields: Fields, dtype, fmt: int, vlen) -> Any:
    value = fields.raw("fill_value", None) if fmt == 2 else fields.raw("fill_value")
    with fields.parsing("fill_value"):
        return dtypes.parse_fill_value(value, dtype, fmt, vlen)


def _dtype(fields: Fields, key: str, parse) -> np.dtype:
    value = fields.raw(key)
    with fields.parsing(key):
        dtype = parse(value)
    if dtype.itemsize == 0:
        raise fields.fail(key, "a data type of at least one byte", value)
    return dtype


def _chunk_key_encoding(fields: Fields) -> Callable[[tuple[int, ...]], str]:
    encoding = fields.sub("chunk_key_encoding", {"name": "default"})
    name = encoding.text("name", ("default", "v2"))
    config = encoding.sub("configuration", {})
    # early zarr-python wrote the separator beside the name
    where = config if "separator" in config.doc else encoding
    separator = where.text("separator", _SEPARATORS, "/" if name == "default" else ".")
    return _key_fn("c" if name == "default" else "", separator)


def parse_v3(doc: dict, where: str) -> ArrayMetadata | GroupMetadata:
    fields = Fields(doc, where)
    _format(fields, 3)
    kind = fields.text("node_type", ("group", "array"))
    attributes = fields.object("attributes", {})
    if kind == "group":
        return GroupMetadata(3, attributes)
    shape = fields.shape("shape")
    grid = fields.sub("chunk_grid")
    grid.text("name", ("regular",))
    chunks = grid.sub("configuration").shape("chunk_shape", lo=1, ndim=len(shape))
    dtype = _dtype(fields, "data_type", dtypes.parse_v3_dtype)
    _check_sizes(fields, shape, chunks, dtype.itemsize, "chunk_grid.configuration.chunk_shape")
    name = doc["data_type"] if isinstance(doc["data_type"], str) else None
    vlen = dtypes.VLEN_V3.get(name)
    key = _chunk_key_encoding(fields)
    if fields.items("storage_transformers", []):
        raise fields.fail("storage_transformers", "none (storage transformers are not "
                          "supported)", doc["storage_transformers"])
    codecs = fields.items("codecs")
    with fields.parsing("codecs"):
        pipeline = build_v3(codecs)
    fill = _fill(fields, dtype, 3, vlen)
    names = fields.raw("dimension_names", None)
    if names is not None and (not isinstance(names, list) or len(names) != len(shape) or not all(
            n is None or isinstance(n, str) for n in names)):
        raise fields.fail("dimension_names", f"a list of {len(shape)} strings or nulls", names)
    meta = ArrayMetadata(3, shape, STRING_DTYPE if vlen is str else dtype, chunks, fill, "C",
                         pipeline, key, attributes, _dim_names(names, attributes),
                         vlen, dtype if vlen is str else None)
    if meta.sharding is not None:
        with fields.parsing("codecs"):
            meta.sharding.check(meta.chunk_spec())
    return meta


def parse_v2_group(doc: dict, attributes: dict, where: str) -> GroupMetadata:
    _format(Fields(doc, where), 2)
    return GroupMetadata(2, attributes)


def parse_v2_dtype(spec) -> np.dtype:
    """A v2 ``dtype``: a typestr with explicit byte order, or a structured field list."""
    if isinstance(spec, str) and not _V2_TYPESTR.fullmatch(spec):
        raise MetadataError(f"expected a typestr such as '<f4' or '|u1' (byte order <, > or |), "
                            f"got {show(spec)}")
    if not isinstance(spec, (str, list)):
        raise MetadataError(f"expected a typestr or a list of fields, got {show(spec)}")
    return dtypes.parse_v2_dtype(spec)


def parse_v2_array(doc: dict, attributes: dict, where: str) -> ArrayMetadata:
    fields = Fields(doc, where)
    _format(fields, 2)
    shape = fields.shape("shape")
    chunks = fields.shape("chunks", lo=1, ndim=len(shape))
    dtype = _dtype(fields, "dtype", parse_v2_dtype)
    _check_sizes(fields, shape, chunks, dtype.itemsize, "chunks")
    filters = fields.items("filters", None) or []
    ids = {f.get("id") for f in filters if isinstance(f, dict)}
    vlen = str if "vlen-utf8" in ids else bytes if "vlen-bytes" in ids else None
    order = fields.text("order", ("C", "F"), "C")
    compressor = fields.raw("compressor", None)
    with fields.parsing("compressor/filters"):
        pipeline = build_v2(compressor, filters)
    fill = _fill(fields, dtype, 2, vlen if dtype.hasobject else None)
    separator = fields.raw("dimension_separator", None)
    if separator is not None:
        separator = fields.text("dimension_separator", _SEPARATORS)
    out_dtype = STRING_DTYPE if vlen is str and dtype.hasobject else dtype
    return ArrayMetadata(2, shape, out_dtype, chunks, fill, order, pipeline,
                         _key_fn("", separator or "."), attributes,
                         _dim_names(None, attributes), vlen if dtype.hasobject else None,
                         dtype if out_dtype is not dtype else None)


def parse_v2_node(zarray: dict | None, zgroup: dict | None, zattrs: dict | None,
                  where: Callable[[str], str]) -> ArrayMetadata | GroupMetadata | None:
    """A v2 node from its documents (None where it has neither .zarray nor .zgroup);
    ``where(".zarray")`` names a document in messages."""
    attributes = Fields(zattrs, where(".zattrs")).doc if zattrs is not None else {}
    if zarray is not None:
        return parse_v2_array(zarray, attributes, where(".zarray"))
    if zgroup is not None:
        return parse_v2_group(zgroup, attributes, where(".zgroup"))
    return None


def _node_path(key: str, where: str) -> str:
    """A node path from a consolidated listing: relative, without empty, '.' or '..' parts."""
    path = key.strip("/")
    if path and any(part in ("", ".", "..") for part in path.split("/")):
        raise MetadataError(f"{where}: entry {show(key)}: expected a relative node path without "
                            f"empty, '.' or '..' parts")
    return path


def _bounded(entries: dict, where: str, what: str) -> None:
    if len(entries) > MAX_CONSOLIDATED_NODES:
        raise MetadataError(f"{where}: {what} lists {len(entries)} entries, more than the limit "
                            f"of {MAX_CONSOLIDATED_NODES}")


def parse_v3_consolidated(doc: dict, where: str) -> dict[str, ArrayMetadata | GroupMetadata] | None:
    """The nodes of a v3 root's inline ``consolidated_metadata`` (None when absent)."""
    fields = Fields(doc, where)
    if fields.raw("consolidated_metadata", None) is None:
        return None
    cm = fields.sub("consolidated_metadata")
    cm.text("kind", ("inline",), "inline")
    entries = cm.object("metadata")
    _bounded(entries, where, "consolidated_metadata.metadata")
    return {_node_path(path, where): parse_v3(sub, f"{where}[consolidated {show(path)}]")
            for path, sub in entries.items()}


def parse_v2_consolidated(doc: dict, where: str) -> dict[str, ArrayMetadata | GroupMetadata]:
    """The nodes listed in a v2 ``.zmetadata`` document."""
    fields = Fields(doc, where)
    meta = fields.object("metadata")
    _bounded(meta, where, "metadata")
    for key, value in meta.items():
        if key.rsplit("/", 1)[-1] in _V2_DOCUMENTS and not isinstance(value, dict):
            raise fields.fail(f"metadata[{show(key)}]", "a JSON object", value)
    paths = {_node_path(k.rsplit("/", 1)[0] if "/" in k else "", where) for k in meta
             if k.rsplit("/", 1)[-1] in (".zarray", ".zgroup")}
    nodes = {}
    for path in paths:
        prefix = f"{path}/" if path else ""
        nodes[path] = parse_v2_node(*(meta.get(prefix + k) for k in _V2_DOCUMENTS),
                                    lambda k, prefix=prefix: f"{where}[{show(prefix + k)}]")
    return nodes


_V2_DOCUMENTS = (".zarray", ".zgroup", ".zattrs")

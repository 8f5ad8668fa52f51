"""Broken and hostile stores for the bad-input suites (CLI and page): real stores written by
zarr-python, then corrupted procedurally — a JSON field edited, a document replaced, chunk bytes
or a shard index rewritten. Nothing is committed as a file."""

from __future__ import annotations

import contextlib
import json
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import zarr

DATA = np.arange(48, dtype="<i2").reshape(6, 8)
SHARDED = np.arange(64, dtype="<u2").reshape(8, 8)


def _write(path: Path, zarr_format: int, consolidated: bool, sharded: bool = False) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if consolidated:
            root = zarr.open_group(str(path), mode="w", zarr_format=zarr_format)
            root.create_array("arr", shape=DATA.shape, chunks=(3, 4), dtype="<i2")[:] = DATA
            zarr.consolidate_metadata(str(path))
        elif sharded:
            zarr.create_array(str(path), shape=SHARDED.shape, chunks=(2, 2), shards=(4, 4),
                              dtype="<u2", zarr_format=3)[:] = SHARDED
        else:
            zarr.create_array(str(path), shape=DATA.shape, chunks=(3, 4), dtype="<i2",
                              zarr_format=zarr_format)[:] = DATA


#: base stores: (zarr format, consolidated group with array "arr", sharded root array)
BASES: dict[str, tuple] = {"v3": (3, False), "v2": (2, False), "v3c": (3, True),
                           "v2c": (2, True), "v3s": (3, False, True)}
#: the document each base's root metadata lives in
ROOT_DOC = {"v3": "zarr.json", "v2": ".zarray", "v3c": "zarr.json", "v2c": ".zmetadata",
            "v3s": "zarr.json"}


def write_base(base: str, path: Path, cache: Path) -> Path:
    """A copy of base store ``base`` at ``path`` (written once per session into ``cache``)."""
    source = cache / base
    if not source.exists():
        _write(source, *BASES[base])
    shutil.copytree(source, path)
    return path


Edit = Callable[[Any], Any]


def put(where: str, value: Any) -> Edit:
    """Set the field at dotted path ``where`` ('chunk_grid.configuration.chunk_shape',
    'codecs.0.configuration.endian', 'metadata.arr/.zarray.shape' — a part may hold '/')."""
    def edit(doc):
        *parents, last = _parts(where)
        target = doc
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
        return doc
    return edit


def drop(where: str) -> Edit:
    def edit(doc):
        *parents, last = _parts(where)
        target = doc
        for part in parents:
            target = target[part]
        del target[last]
        return doc
    return edit


def _parts(where: str) -> list[str]:
    return where.split(".") if "|" not in where else where.split("|")


def replace(raw: bytes | Callable[[], bytes]) -> Edit:
    """Replace the whole document with these bytes."""
    return lambda doc: raw if isinstance(raw, bytes) else raw()


def nested(depth: int) -> bytes:
    return b'{"zarr_format": 3, "node_type": "group", "attributes": {"x": ' + b"[" * depth \
        + b"]" * depth + b"}}"


def many_entries(zarr_format: int, n: int) -> Edit:
    """A consolidated listing of ``n`` tiny groups."""
    def edit(doc):
        if zarr_format == 2:
            doc["metadata"].update({f"g{i}/.zgroup": {"zarr_format": 2} for i in range(n)})
        else:
            doc["consolidated_metadata"]["metadata"].update(
                {f"g{i}": {"zarr_format": 3, "node_type": "group", "attributes": {}}
                 for i in range(n)})
        return doc
    return edit


@dataclass
class MetaCase:
    """A base store whose document ``doc`` (the base's root document unless given) gets
    ``edit``; reading it must fail naming the document and every string in ``expect``."""

    id: str
    base: str
    edit: Edit
    expect: list[str] = field(default_factory=list)
    doc: str | None = None

    @property
    def document(self) -> str:
        return self.doc or ROOT_DOC[self.base]


def apply(case: MetaCase, path: Path) -> None:
    target = path / case.document
    doc = json.loads(target.read_bytes())
    out = case.edit(doc)
    target.write_bytes(out if isinstance(out, bytes) else json.dumps(out).encode())


FIXEDSCALE = {"id": "fixedscaleoffset", "scale": 0, "offset": 0, "dtype": "<i2", "astype": "<i2"}
SHARD_CONF = "codecs.0.configuration."
Z = "metadata|arr/.zarray|"  # a v2 consolidated entry ('|' separates: keys hold '/' and '.')
C3 = "consolidated_metadata|metadata|arr|"

META_CASES = [
    # ------------------------------------------------------------- v3 zarr.json: types, ranges
    MetaCase("v3-shape-bool", "v3", put("shape", [True, 30]), ["'shape'", "true"]),
    MetaCase("v3-shape-string", "v3", put("shape", "6,8"), ["'shape'"]),
    MetaCase("v3-shape-negative", "v3", put("shape", [-1, 8]), ["'shape'"]),
    MetaCase("v3-shape-float", "v3", put("shape", [6.0, 8]), ["'shape'"]),
    MetaCase("v3-shape-2pow62-product", "v3", put("shape", [2**62, 2**62]),
             ["'shape'", "64-bit"]),
    MetaCase("v3-shape-2pow64", "v3", put("shape", [2**64, 8]), ["'shape'"]),
    MetaCase("v3-shape-bytes-overflow", "v3", put("shape", [2**60, 4]),
             ["'shape'", "byte size fits a 64-bit"]),
    MetaCase("v3-ndim-33", "v3", put("shape", [1] * 33), ["'shape'", "32 dimensions"]),
    MetaCase("v3-ndim-70", "v3", put("shape", [1] * 70), ["'shape'", "32 dimensions"]),
    MetaCase("v3-grid-string", "v3", put("chunk_grid", "regular"), ["'chunk_grid'"]),
    MetaCase("v3-grid-name", "v3", put("chunk_grid.name", "rectilinear"),
             ["'chunk_grid.name'", "regular"]),
    MetaCase("v3-grid-no-config", "v3", drop("chunk_grid.configuration"),
             ["'chunk_grid.configuration'", "missing"]),
    MetaCase("v3-chunk-zero", "v3", put("chunk_grid.configuration.chunk_shape", [0, 4]),
             ["'chunk_grid.configuration.chunk_shape'", "positive"]),
    MetaCase("v3-chunk-bool", "v3", put("chunk_grid.configuration.chunk_shape", [True, 4]),
             ["'chunk_grid.configuration.chunk_shape'"]),
    MetaCase("v3-chunk-ndim", "v3", put("chunk_grid.configuration.chunk_shape", [3]),
             ["'chunk_grid.configuration.chunk_shape'", "one per dimension"]),
    MetaCase("v3-chunk-bytes-overflow", "v3",
             put("chunk_grid.configuration.chunk_shape", [2**62, 4]),
             ["'chunk_grid.configuration.chunk_shape'", "64-bit"]),
    MetaCase("v3-dtype-int", "v3", put("data_type", 5), ["'data_type'"]),
    MetaCase("v3-dtype-unknown", "v3", put("data_type", "int128"), ["'data_type'", "int128"]),
    MetaCase("v3-dtype-r0", "v3", put("data_type", "r0"), ["'data_type'"]),
    MetaCase("v3-dtype-config-list", "v3",
             put("data_type", {"name": "raw_bytes", "configuration": [1]}), ["'data_type'"]),
    MetaCase("v3-codecs-int", "v3", put("codecs", 5), ["'codecs'"]),
    MetaCase("v3-codecs-empty", "v3", put("codecs", []), ["'codecs'", "non-empty"]),
    MetaCase("v3-codec-entry-int", "v3", put("codecs", [5]), ["'codecs'", "codec entry"]),
    MetaCase("v3-codec-name-int", "v3", put("codecs", [{"name": 5}]), ["'codecs'", "name"]),
    MetaCase("v3-codec-config-string", "v3",
             put("codecs", [{"name": "bytes", "configuration": "little"}]),
             ["'codecs'", "configuration"]),
    MetaCase("v3-endian-unknown", "v3", put("codecs.0.configuration.endian", "middle"),
             ["'codecs'", "endian", "middle"]),
    MetaCase("v3-codec-unknown", "v3", put("codecs.1", {"name": "mystery"}),
             ["'codecs'", "mystery"]),
    MetaCase("v3-codec-pickle", "v3", put("codecs.1", {"name": "numcodecs.pickle"}),
             ["'codecs'", "refused"]),
    MetaCase("v3-transpose-order", "v3",
             put("codecs", [{"name": "transpose", "configuration": {"order": "Z"}},
                            {"name": "bytes"}]), ["'codecs'", "order"]),
    MetaCase("v3-fixedscaleoffset-scale-0", "v3",
             put("codecs", [{"name": "numcodecs.fixedscaleoffset", "configuration":
                             {k: v for k, v in FIXEDSCALE.items() if k != "id"}},
                            {"name": "bytes"}]), ["'codecs'", "scale", "non-zero"]),
    MetaCase("v3-key-encoding-name", "v3", put("chunk_key_encoding.name", "weird"),
             ["'chunk_key_encoding.name'"]),
    MetaCase("v3-key-separator", "v3",
             put("chunk_key_encoding.configuration.separator", "-"),
             ["separator", '"-"']),
    MetaCase("v3-key-encoding-int", "v3", put("chunk_key_encoding", 7),
             ["'chunk_key_encoding'"]),
    MetaCase("v3-attributes-list", "v3", put("attributes", [1, 2]),
             ["'attributes'", "JSON object"]),
    MetaCase("v3-attributes-string", "v3", put("attributes", "x"), ["'attributes'"]),
    MetaCase("v3-node-type", "v3", put("node_type", "table"), ["'node_type'"]),
    MetaCase("v3-format-2", "v3", put("zarr_format", 2), ["'zarr_format'"]),
    MetaCase("v3-format-string", "v3", put("zarr_format", "3"), ["'zarr_format'"]),
    MetaCase("v3-format-missing", "v3", drop("zarr_format"), ["'zarr_format'"]),
    MetaCase("v3-fill-string", "v3", put("fill_value", "abc"), ["'fill_value'"]),
    MetaCase("v3-fill-float-for-int", "v3", put("fill_value", 1.5), ["'fill_value'"]),
    MetaCase("v3-fill-overflow", "v3", put("fill_value", 70000), ["'fill_value'"]),
    MetaCase("v3-fill-bool-for-int", "v3", put("fill_value", True), ["'fill_value'"]),
    MetaCase("v3-fill-missing", "v3", drop("fill_value"), ["'fill_value'", "missing"]),
    MetaCase("v3-dimnames-string", "v3", put("dimension_names", "xy"),
             ["'dimension_names'"]),
    MetaCase("v3-dimnames-length", "v3", put("dimension_names", ["x"]),
             ["'dimension_names'", "2"]),
    MetaCase("v3-storage-transformers", "v3", put("storage_transformers", [{"name": "x"}]),
             ["'storage_transformers'"]),
    # ------------------------------------------------------------- v3 sharding configuration
    MetaCase("v3-shard-inner-zero", "v3s", put(SHARD_CONF + "chunk_shape", [0, 2]),
             ["'codecs'", "chunk_shape"]),
    MetaCase("v3-shard-inner-not-dividing", "v3s", put(SHARD_CONF + "chunk_shape", [3, 3]),
             ["'codecs'", "do not divide"]),
    MetaCase("v3-shard-inner-ndim", "v3s", put(SHARD_CONF + "chunk_shape", [2, 2, 2]),
             ["'codecs'", "do not divide"]),
    MetaCase("v3-shard-index-location", "v3s", put(SHARD_CONF + "index_location", "middle"),
             ["'codecs'", "index_location"]),
    MetaCase("v3-shard-codecs-string", "v3s", put(SHARD_CONF + "codecs", "bytes"),
             ["'codecs'", "configuration.codecs"]),
    # ------------------------------------------------------------- documents
    MetaCase("v3-invalid-json", "v3", replace(b"{not json"), ["invalid JSON"]),
    MetaCase("v3-json-array", "v3", replace(b"[]"), ["expected a JSON object"]),
    MetaCase("v3-not-utf8", "v3", replace(b'{"a": "\xff\xfe"}'), ["invalid JSON"]),
    MetaCase("v3-nested-100k", "v3", replace(nested(100_000)), ["nested 100002 levels"]),
    MetaCase("v3-nested-101", "v3", replace(nested(101)), ["nested", "limit of 100"]),
    MetaCase("v3-document-33mib", "v3",
             replace(lambda: b'{"a": "' + b"x" * (33 << 20) + b'"}'), ["larger than the limit"]),
    MetaCase("v3-huge-int-literal", "v3", replace(b'{"shape": [' + b"9" * 5000 + b"]}"),
             ["invalid JSON"]),
    # ------------------------------------------------------------- v2 .zarray
    MetaCase("v2-shape-bool", "v2", put("shape", [True, 30]), ["'shape'"]),
    MetaCase("v2-shape-ndim-33", "v2", put("shape", [1] * 33), ["'shape'", "32 dimensions"]),
    MetaCase("v2-chunks-zero", "v2", put("chunks", [0, 4]), ["'chunks'", "positive"]),
    MetaCase("v2-chunks-string", "v2", put("chunks", "3,4"), ["'chunks'"]),
    MetaCase("v2-chunks-ndim", "v2", put("chunks", [3, 4, 5]), ["'chunks'"]),
    MetaCase("v2-dtype-bad-size", "v2", put("dtype", "<i3"), ["'dtype'"]),
    MetaCase("v2-dtype-endianness-equals", "v2", put("dtype", "=i2"), ["'dtype'", "byte order"]),
    MetaCase("v2-dtype-endianness-bang", "v2", put("dtype", "!i2"), ["'dtype'", "byte order"]),
    MetaCase("v2-dtype-no-endianness", "v2", put("dtype", "i2"), ["'dtype'", "byte order"]),
    MetaCase("v2-dtype-subarray", "v2", put("dtype", "(2,)<i2"), ["'dtype'"]),
    MetaCase("v2-dtype-int", "v2", put("dtype", 5), ["'dtype'"]),
    MetaCase("v2-dtype-object", "v2", put("dtype", {"names": ["a"], "formats": ["<i2"]}),
             ["'dtype'"]),
    MetaCase("v2-order", "v2", put("order", "K"), ["'order'"]),
    MetaCase("v2-compressor-int", "v2", put("compressor", 5), ["compressor", "'id'"]),
    MetaCase("v2-compressor-no-id", "v2", put("compressor", {"level": 1}), ["'id'"]),
    MetaCase("v2-compressor-is-filter", "v2", put("compressor", {"id": "delta", "dtype": "<i2"}),
             ["not a compressor"]),
    MetaCase("v2-filters-object", "v2", put("filters", {"id": "zlib"}), ["filters"]),
    MetaCase("v2-filters-int-entry", "v2", put("filters", [5]), ["filters", "'id'"]),
    MetaCase("v2-fixedscaleoffset-scale-0", "v2", put("filters", [FIXEDSCALE]),
             ["fixedscaleoffset", "scale", "non-zero"]),
    MetaCase("v2-fixedscaleoffset-scale-string", "v2",
             put("filters", [{**FIXEDSCALE, "scale": "10"}]), ["scale"]),
    MetaCase("v2-fixedscaleoffset-scale-nan", "v2",
             put("filters", [{**FIXEDSCALE, "scale": float("nan")}]), ["scale"]),
    MetaCase("v2-delta-dtype", "v2", put("filters", [{"id": "delta", "dtype": "bogus"}]),
             ["delta", "dtype"]),
    MetaCase("v2-categorize-labels", "v2",
             put("filters", [{"id": "categorize", "labels": 5, "dtype": "<U1", "astype": "|u1"}]),
             ["categorize", "labels"]),
    MetaCase("v2-shuffle-elementsize", "v2", put("filters", [{"id": "shuffle",
                                                              "elementsize": 0}]),
             ["shuffle", "elementsize"]),
    MetaCase("v2-separator", "v2", put("dimension_separator", "-"),
             ["'dimension_separator'"]),
    MetaCase("v2-format-3", "v2", put("zarr_format", 3), ["'zarr_format'"]),
    MetaCase("v2-fill-string", "v2", put("fill_value", "x"), ["'fill_value'"]),
    MetaCase("v2-pickle-filter", "v2", put("filters", [{"id": "pickle"}]), ["refused"]),
    MetaCase("v2-zattrs-list", "v2", replace(b"[1, 2]"), [".zattrs", "JSON object"],
             doc=".zattrs"),
    # ------------------------------------------------------------- consolidated (v2 and v3)
    MetaCase("v2c-metadata-string", "v2c", put("metadata", "x"), ["'metadata'"]),
    MetaCase("v2c-entry-string", "v2c", put("metadata|arr/.zarray", "x"),
             ["arr/.zarray", "JSON object"]),
    MetaCase("v2c-entry-shape-bool", "v2c", put(Z + "shape", [True, 6]),
             ["arr/.zarray", "'shape'"]),
    MetaCase("v2c-entry-chunks-zero", "v2c", put(Z + "chunks", [0, 4]),
             ["arr/.zarray", "'chunks'"]),
    MetaCase("v2c-entry-attrs-list", "v2c", put("metadata|arr/.zattrs", [1]),
             ["arr/.zattrs", "JSON object"]),
    MetaCase("v2c-entry-dotdot", "v2c", put("metadata|../evil/.zgroup", {"zarr_format": 2}),
             ['"../evil"', "'..'"]),
    MetaCase("v2c-100k-members", "v2c", many_entries(2, 100_000),
             ["entries", "limit of 10000"]),
    MetaCase("v2c-not-object", "v2c", replace(b'"metadata"'), ["expected a JSON object"]),
    MetaCase("v3c-string", "v3c", put("consolidated_metadata", "x"),
             ["'consolidated_metadata'"]),
    MetaCase("v3c-metadata-string", "v3c", put("consolidated_metadata|metadata", "x"),
             ["'consolidated_metadata.metadata'"]),
    MetaCase("v3c-kind", "v3c", put("consolidated_metadata|kind", "remote"),
             ["'consolidated_metadata.kind'"]),
    MetaCase("v3c-entry-string", "v3c", put("consolidated_metadata|metadata|arr", "x"),
             ['"arr"', "JSON object"]),
    MetaCase("v3c-entry-shape-bool", "v3c", put(C3 + "shape", [True, 8]),
             ['"arr"', "'shape'"]),
    MetaCase("v3c-entry-codecs-int", "v3c", put(C3 + "codecs", 1), ['"arr"', "'codecs'"]),
    MetaCase("v3c-entry-dotdot", "v3c", put("consolidated_metadata|metadata|a/../..",
                                            {"zarr_format": 3, "node_type": "group"}),
             ['"a/../.."', "'..'"]),
    MetaCase("v3c-100k-members", "v3c", many_entries(3, 100_000),
             ["entries", "limit of 10000"]),
]


# ------------------------------------------------------------------------------ chunks

#: a chunk that compresses into real blocks (blosc stores tiny chunks uncompressed)
CHUNK = (np.arange(64 * 64) // 7).astype("<i4").reshape(64, 64)


def compressors() -> dict[str, Any]:
    from numcodecs import BZ2, LZ4, LZMA, Blosc, GZip, Zlib, Zstd
    return {"zlib": Zlib(1), "gzip": GZip(1), "bz2": BZ2(1), "lzma": LZMA(),
            "zstd": Zstd(1), "lz4": LZ4(), "blosc-lz4": Blosc("lz4", shuffle=1),
            "blosc-zstd": Blosc("zstd", shuffle=2), "blosc-memcpy": Blosc("lz4", clevel=0)}


CODECS = list(compressors())
#: a compressed chunk of 32 MiB of zeros where 16 KiB are expected
BOMB_BYTES = 32 << 20


def write_codec_store(path: Path, codec: str) -> Path:
    """A v2 root array of one 64×64 int32 chunk ('0.0') compressed with ``codec``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.create_array(str(path), shape=CHUNK.shape, chunks=CHUNK.shape, dtype="<i4",
                          zarr_format=2, compressors=compressors()[codec])[:] = CHUNK
    return path


def corrupt_chunk(path: Path, codec: str, how: str) -> None:
    chunk = path / "0.0"
    good = chunk.read_bytes()
    if how == "truncated":
        bad = good[:len(good) // 2]
    elif how == "garbage":
        bad = b"\xa5" * len(good)
    elif how == "empty":
        bad = b""
    else:  # bomb
        bad = bytes(compressors()[codec].encode(bytes(BOMB_BYTES)))
    chunk.write_bytes(bad)


CHUNK_DAMAGE = ["truncated", "garbage", "empty", "bomb"]


# ------------------------------------------------------------------------------ shard indexes

MISSING = 2**64 - 1


def shard_index(path: Path) -> tuple[bytes, np.ndarray]:
    """The first shard's bytes and its index entries (inner chunk → [offset, nbytes])."""
    raw = (path / "c" / "0" / "0").read_bytes()
    return raw, np.frombuffer(raw[-68:-4], "<u8").reshape(4, 2).copy()


def write_shard_index(path: Path, raw: bytes, index: np.ndarray, fix_crc: bool = True) -> None:
    import crc32c
    body = index.astype("<u8").tobytes()
    crc = crc32c.crc32c(body).to_bytes(4, "little") if fix_crc else raw[-4:]
    (path / "c" / "0" / "0").write_bytes(raw[:-68] + body + crc)


def damage_shard(path: Path, how: str) -> None:
    raw, index = shard_index(path)
    size = len(raw)
    entries = {
        "offset-2pow63": (2**63, int(index[0, 1])),
        "offset-2pow63-minus-8": (2**63 - 8, 4),
        "nbytes-2pow40": (0, 2**40),
        "offset-past-end": (size + 100, 10),
        "length-past-end": (0, size + 50),
        "half-missing": (MISSING, 8),
        "overlapping": tuple(int(v) for v in index[0]),
        "missing": (MISSING, MISSING),
    }
    if how == "index-truncated":
        (path / "c" / "0" / "0").write_bytes(raw[-30:])
    elif how == "crc-mismatch":
        index[0, 0] += 1
        write_shard_index(path, raw, index, fix_crc=False)
    else:
        index[1] = entries[how]
        write_shard_index(path, raw, index)


SHARD_DAMAGE = ["offset-2pow63", "offset-2pow63-minus-8", "nbytes-2pow40", "offset-past-end",
                "length-past-end", "half-missing", "overlapping", "missing", "index-truncated",
                "crc-mismatch"]
#: damage zarr-python reads without error: the reader must return exactly its data
SHARD_READABLE = {"overlapping", "missing"}
#: index entries no shard can hold: refused from the index, before any request
SHARD_ENTRY_REFUSED = {"offset-2pow63", "nbytes-2pow40", "half-missing"}


# ------------------------------------------------------------------------------ resource limits

def metadata_only(path: Path, **create) -> Path:
    """A v3 root array written by zarr-python without any chunk (reads give the fill value)."""
    if not path.exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            zarr.create_array(str(path), zarr_format=3, fill_value=7, **create)
    return path


LIMITS = {
    # name: (create kwargs, selection, expected error text)
    "whole-1e12-elements": (dict(shape=(10**6, 10**6), chunks=(1000, 1000), dtype="u1"),
                            "...", "more than the budget of 512.0 MiB"),
    "chunk-of-1e9-elements": (dict(shape=(10**9,), chunks=(10**9,), dtype="u1"), "0:10",
                              "more than the per-chunk budget"),
    "million-one-element-chunks": (dict(shape=(10**6,), chunks=(1,), dtype="u1"), "...",
                                   "touches 1000000 chunks"),
    "strided-over-tiny-chunks": (dict(shape=(10**8,), chunks=(10,), dtype="u1"), "::500",
                                 "touches 200000 chunks"),
    "shard-index-of-1e9-entries": (dict(shape=(10**9,), chunks=(1,), shards=(10**9,),
                                        dtype="u1"), "0:10", "or its shard index"),
}



# ------------------------------------------------------------------------------ pickle

class Marker:
    """Unpickling this creates the file ``path`` (what an attacker's payload would do)."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def write_pickle_store(path: Path, zarr_format: int, payload: bytes) -> Path:
    """A string array rewritten to use the pickle codec, its chunk replaced by ``payload``."""
    if path.exists():
        return path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.create_array(str(path), shape=(1,), chunks=(1,), dtype=str,
                          zarr_format=zarr_format)[:] = ["x"]
    doc_key = ".zarray" if zarr_format == 2 else "zarr.json"
    doc = json.loads((path / doc_key).read_text())
    if zarr_format == 2:
        doc.update(dtype="|O", filters=[{"id": "pickle"}], compressor=None)
        chunk = path / "0"
    else:
        doc["codecs"] = [{"name": "numcodecs.pickle"}]
        chunk = path / "c" / "0"
    (path / doc_key).write_text(json.dumps(doc))
    chunk.write_bytes(payload)
    return path


@contextlib.contextmanager
def served_cases(tmp_path_factory, name: str):
    """A new directory of case stores, served by our server: (directory, its URL); each case is a
    store below it, at <URL>/<case>."""
    from pyzarr_web.tools.serve import make_app, run_in_thread

    root = tmp_path_factory.mktemp(name) / "cases"
    root.mkdir()
    with run_in_thread(make_app(None, [root])) as url:
        yield root, f"{url}/data/cases"

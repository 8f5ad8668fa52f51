"""Kerchunk references as a store: a Zarr hierarchy whose values are held inline or point by
byte range into other files (NetCDF, HDF5, GRIB, TIFF…), which is how kerchunk and VirtualiZarr
describe archival data as Zarr without copying it.

Two serialisations (https://fsspec.github.io/kerchunk/spec.html):

* JSON, version 0 (the whole document maps keys to references) and version 1 (``refs``, plus
  ``templates`` and ``gen`` generators, evaluated by :mod:`.kerchunk_templates`). A reference
  is inline text, ``base64:`` data, an inline JSON object, ``[url]`` (a whole file) or
  ``[url, offset, length]``.
* Parquet (a folder: ``.zmetadata`` with the Zarr metadata and ``record_size``, then
  ``<variable>/refs.<n>.parq`` holding ``record_size`` chunk references each, chunks in C order).
  Read with pyarrow or fastparquet where one is installed (CPython); the browser has neither.

Target URLs are resolved against the reference file (relative ones) and may be moved as a whole
with ``target_base`` (data mirrored elsewhere): the directory all targets share is replaced by it.
The bytes are fetched through ``targets``, a store whose keys are URLs
(:class:`~.urls.UrlStore` under the default wrappers, see :func:`~pyzarr_web.core.open_store`).
Every failure names the reference key and the target URL and byte range.
"""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import json
import math
import os
from collections import OrderedDict
from urllib.parse import urljoin, urlsplit

from ..errors import MetadataError, StoreError
from ..metadata.documents import parse_json
from ..store import ByteRequest, Once, Store, slice_value, split_listing
from .kerchunk_templates import evaluate_int, render, template_function
from .urls import Target, local_path, read_target

#: largest JSON reference file read (references to many files run to hundreds of MB)
MAX_REFERENCE_BYTES = 256 << 20
#: most references one file (with its generators) may describe
MAX_REFERENCES = 5_000_000
#: Parquet reference records (files) held decoded at once
PARQUET_RECORDS_KEPT = 32


Reference = bytes | Target


def reference(key: str, value, where: str) -> Reference:
    """One reference value as the spec writes it, checked."""
    if isinstance(value, str):
        if value.startswith("base64:"):
            try:
                return base64.b64decode(value[7:], validate=True)
            except (binascii.Error, ValueError) as e:
                raise MetadataError(f"{where}: reference {key!r}: bad base64 data ({e})") from None
        return value.encode()
    if isinstance(value, dict):
        return json.dumps(value).encode()
    if isinstance(value, list) and len(value) in (1, 3) and isinstance(value[0], str):
        if len(value) == 1:
            return Target(value[0])
        offset, length = value[1], value[2]
        if all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (offset, length)):
            return Target(value[0], offset, length) if (offset, length) != (0, 0) else Target(value[0])
    raise MetadataError(f"{where}: reference {key!r} is {json.dumps(value)[:200]}: expected text, "
                        f"'base64:…', [url] or [url, offset, length] with offset and length "
                        f"non-negative integers")


def parse_references(doc: dict, where: str) -> dict[str, Reference]:
    """The references of a JSON reference document (version 0 or 1)."""
    version = doc.get("version")
    if version is None:  # version 0: the document is the mapping
        refs, names, gens = doc, {}, []
    elif version == 1:
        refs, gens = doc.get("refs", {}), doc.get("gen", [])
        names = _templates(doc.get("templates", {}), where)
        if not isinstance(refs, dict) or not isinstance(gens, list):
            raise MetadataError(f"{where}: 'refs' must be an object and 'gen' a list")
    else:
        raise MetadataError(f"{where}: unknown Kerchunk reference version {version!r} "
                            f"(this reader knows versions 0 and 1)")
    if len(refs) > MAX_REFERENCES:
        raise MetadataError(f"{where}: {len(refs)} references, more than the limit of {MAX_REFERENCES}")
    out: dict[str, Reference] = {}
    for key, value in refs.items():
        ref = reference(key, value, where)
        if names and isinstance(ref, Target) and "{{" in ref.url:
            ref = Target(render(ref.url, names, f"{where}: reference {key!r}"), ref.offset, ref.length)
        out[key] = ref
    for key, ref in _generated(gens, names, where, MAX_REFERENCES - len(out)):
        out[key] = ref
    return out


def _templates(templates, where: str) -> dict[str, object]:
    if not isinstance(templates, dict) or not all(isinstance(v, str) for v in templates.values()):
        raise MetadataError(f"{where}: 'templates' must map names to text")
    return {name: template_function(text, f"{where}: template {name!r}") if "{{" in text else text
            for name, text in templates.items()}


def _generated(gens: list, names: dict, where: str, budget: int):
    """(key, Target) of every ``gen`` entry: each combination of its dimensions' values."""
    for i, gen in enumerate(gens):
        here = f"{where}: gen[{i}]"
        if not (isinstance(gen, dict) and isinstance(gen.get("key"), str)
                and isinstance(gen.get("url"), str) and isinstance(gen.get("dimensions"), dict)):
            raise MetadataError(f"{here}: expected an object with 'key', 'url' and 'dimensions'")
        if ("offset" in gen) != ("length" in gen):
            raise MetadataError(f"{here}: 'offset' and 'length' go together")
        dims = {name: _dimension(spec, f"{here} dimension {name!r}")
                for name, spec in gen["dimensions"].items()}
        count = math.prod(len(d) for d in dims.values())
        budget -= count
        if budget < 0:
            raise MetadataError(f"{here}: generates {count} references, past the limit of "
                                f"{MAX_REFERENCES} in all")
        for values in itertools.product(*dims.values()):
            env = {**names, **dict(zip(dims, values))}
            key = render(gen["key"], env, here)
            url = render(gen["url"], env, here)
            if "offset" in gen:
                yield key, Target(url, evaluate_int(gen["offset"], env, here),
                                  evaluate_int(gen["length"], env, here))
            else:
                yield key, Target(url)


def _dimension(spec, where: str):
    if isinstance(spec, list):
        return spec
    if (isinstance(spec, dict) and "stop" in spec and spec.get("step", 1) != 0
            and all(isinstance(spec.get(k, 0), int) for k in ("start", "stop", "step"))):
        return range(spec.get("start", 0), spec["stop"], spec.get("step", 1))
    raise MetadataError(f"{where}: expected a list of values or {{start, stop, step}} integers")


def common_directory(urls) -> str:
    """The longest directory prefix (ending in "/", or "") that every URL starts with."""
    prefix = os.path.commonprefix(list(urls))
    return prefix[:prefix.rfind("/") + 1]


class JsonReferences:
    """A JSON reference file, held in memory once read."""

    can_list = True

    def __init__(self, refs: dict[str, Reference]):
        self.refs = refs

    @classmethod
    async def load(cls, location: str, fetch: Store) -> JsonReferences:
        raw = await fetch.get(location)
        if raw is None:
            raise StoreError(f"{location}: reference file not found")
        doc = parse_json(raw, location, MAX_REFERENCE_BYTES)
        return cls(parse_references(doc, location))

    async def lookup(self, key: str) -> Reference | None:
        return self.refs.get(key)

    def names(self):
        return self.refs.keys()

    def target_urls(self) -> set[str]:
        return {r.url for r in self.refs.values() if isinstance(r, Target)}


class ParquetReferences:
    """A Parquet reference folder: the metadata from ``.zmetadata``, chunk references read one
    record file at a time as keys are asked for (the last few kept)."""

    can_list = False  # chunk keys are not listed; ``.zmetadata`` lists the nodes

    def __init__(self, location: str, fetch: Store, doc: dict):
        self.location, self.fetch = location, fetch
        self.where = _join(location, ".zmetadata")
        self.metadata = doc.get("metadata")
        self.record_size = doc.get("record_size")
        if not isinstance(self.metadata, dict) or not isinstance(self.record_size, int) \
                or self.record_size <= 0:
            raise MetadataError(f"{self.where}: not Kerchunk Parquet references (expected "
                                f"'metadata' and a positive 'record_size')")
        self._records: OrderedDict[tuple[str, int], dict] = OrderedDict()

    @classmethod
    async def load(cls, location: str, fetch: Store) -> ParquetReferences:
        where = _join(location, ".zmetadata")
        raw = await fetch.get(where)
        if raw is None:
            raise StoreError(f"{where}: not found (a Parquet reference folder starts with it)")
        return cls(location, fetch, parse_json(raw, where))

    def names(self):
        return [".zmetadata", *self.metadata]

    def target_urls(self) -> set[str]:
        return {r.url for record in self._records.values() for r in record.values()
                if isinstance(r, Target)}

    async def lookup(self, key: str) -> Reference | None:
        if key == ".zmetadata":  # consolidated metadata, so the hierarchy never lists
            return json.dumps({"metadata": self.metadata, "zarr_consolidated_format": 1}).encode()
        if key in self.metadata:
            return json.dumps(self.metadata[key]).encode()
        field, _, chunk = key.rpartition("/")
        zarray = self.metadata.get(f"{field}/.zarray")
        if not isinstance(zarray, dict) or chunk.startswith(".z"):
            return None
        try:
            grid = [math.ceil(s / c) for s, c in zip(zarray["shape"], zarray["chunks"])] or [1]
            index = [int(i) for i in chunk.split(".")]
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            return None
        if len(index) != len(grid) or not all(0 <= i < n for i, n in zip(index, grid)):
            return None
        number = 0
        for i, n in zip(index, grid):
            number = number * n + i
        record = await self._record(field, number // self.record_size)
        return record.get(number % self.record_size)

    async def _record(self, field: str, number: int) -> dict[int, Reference]:
        cached = self._records.get((field, number))
        if cached is not None:
            self._records.move_to_end((field, number))
            return cached
        url = _join(self.location, f"{field}/refs.{number}.parq")
        raw = await self.fetch.get(url)
        record = {} if raw is None else _parquet_rows(raw, url)
        self._records[(field, number)] = record
        while len(self._records) > PARQUET_RECORDS_KEPT:
            self._records.popitem(last=False)
        return record


def _parquet_rows(raw: bytes, where: str) -> dict[int, Reference]:
    columns = _read_parquet(raw, where)
    out: dict[int, Reference] = {}
    n = len(next(iter(columns.values()), []))
    paths, offsets, sizes, raws = (columns.get(c, [None] * n) for c in ("path", "offset", "size", "raw"))
    for row, (path, offset, size, data) in enumerate(zip(paths, offsets, sizes, raws)):
        if data is not None:
            out[row] = bytes(data)
        elif isinstance(path, str):
            try:
                out[row] = reference(f"row {row}", [path, int(offset or 0), int(size or 0)], where)
            except (TypeError, ValueError):
                raise MetadataError(f"{where}: row {row}: bad offset/size") from None
    return out


def _read_parquet(raw: bytes, where: str) -> dict[str, list]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        pq = None
    if pq is not None:
        try:
            return pq.read_table(io.BytesIO(raw)).to_pydict()
        except Exception as e:  # pyarrow raises its own types for corrupt files
            raise MetadataError(f"{where}: cannot read Parquet ({e})") from None
    try:
        import fastparquet
    except ImportError:
        raise StoreError(
            f"{where}: Kerchunk Parquet references cannot be read here: no Parquet reader "
            f"(pyarrow or fastparquet) is available (the browser has none). Use Kerchunk JSON "
            f"references instead: kerchunk and VirtualiZarr write them as well "
            f"(e.g. MultiZarrToZarr(...).translate() saved with json.dump)") from None
    try:
        frame = fastparquet.ParquetFile(io.BytesIO(raw)).to_pandas()
    except Exception as e:
        raise MetadataError(f"{where}: cannot read Parquet ({e})") from None
    return {c: [None if missing else v for v, missing in zip(frame[c].tolist(), frame[c].isna().tolist())]
            for c in frame.columns}


def _join(location: str, name: str) -> str:
    return f"{location.rstrip('/')}/{name}"


def _has_scheme(url: str) -> bool:
    scheme = urlsplit(url).scheme
    return len(scheme) > 1  # "C:" is a drive letter


class KerchunkStore(Store):
    """The Zarr hierarchy a reference file (or Parquet folder) at LOCATION describes.

    References are read on first use. ``targets`` fetches both the reference file and the bytes
    references point to (keys are URLs or paths); ``target_base`` replaces the directory all
    targets share."""

    bounded = True  # ``targets`` is a concurrency-bounded store (see core.sources)

    def __init__(self, location: str, targets: Store, *, references=JsonReferences,
                 target_base: str | None = None):
        self.location = location
        self.targets = targets
        self.target_base = target_base
        self.can_list = references.can_list
        self.references = Once(lambda: references.load(location, targets))
        self._moved_from: str | None = None

    def resolve(self, url: str) -> str:
        """Where a target URL, as written in the references, is fetched from."""
        if self.target_base is not None:
            if self._moved_from is None:
                self._moved_from = common_directory(self.references.value.target_urls() or {url})
            if url.startswith(self._moved_from):
                return _join(self.target_base, url[len(self._moved_from):])
        if _has_scheme(url) or local_path(url) is not None:
            return url
        if local_path(self.location) is not None:
            return os.path.join(os.path.dirname(self.location), url)
        return urljoin(self.location, url)

    async def get(self, key: str, byte_range: ByteRequest = None) -> bytes | None:
        refs = await self.references()
        ref = await refs.lookup(key)
        if ref is None or isinstance(ref, bytes):
            return None if ref is None else slice_value(ref, byte_range)
        url = self.resolve(ref.url)
        shown = ref.url if url == ref.url else f"{ref.url} (fetched from {url})"
        return await read_target(self.targets, url, ref.request(byte_range),
                                 f"{self.location}: reference {key!r} -> {shown}")

    async def list_dir(self, prefix: str) -> tuple[list[str], list[str]]:
        return split_listing((await self.references()).names(), prefix)

    async def sizes(self, prefix: str) -> dict[str, int]:
        refs = await self.references()
        out = {}
        for key in refs.names():
            if key.startswith(prefix):
                ref = await refs.lookup(key)
                if isinstance(ref, bytes):
                    out[key] = len(ref)
                elif isinstance(ref, Target) and ref.length is not None:
                    out[key] = ref.length
        return out

    async def chunk_files(self, prefix: str) -> dict[str, tuple[int, int]]:
        refs = await self.references()
        out: dict[str, tuple[int, int]] = {}
        for key in refs.names():
            if key.startswith(prefix) and not key.rsplit("/", 1)[-1].startswith((".z", "zarr.json")):
                ref = await refs.lookup(key)
                if isinstance(ref, Target):
                    url = self.resolve(ref.url)
                    count, size = out.get(url, (0, 0))
                    out[url] = (count + 1, size + (ref.length or 0))
        return out

    def info(self) -> dict:
        return {"kind": "kerchunk", "ref": None, "snapshot": None}

    def describe(self) -> str:
        return self.location

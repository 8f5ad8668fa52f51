"""open_store: turn a user-given source into a store wrapped in the default wrappers. The only
place that decides, by environment, which HTTP transport to use.

A source is an http(s) URL, a directory or a .zip (in the browser also any URL fetch can resolve,
e.g. ``/data/x.zarr``), or a virtual store: a Kerchunk reference file (``*.json`` other than
``zarr.json``) or Parquet reference folder (``*.parq``, or a folder whose ``.zmetadata`` has a
``record_size``). A ``kerchunk:`` prefix forces the kind. Options may follow the location after
``#`` (``refs.json#target_base=https://mirror/data/``), so a single URL parameter can carry them.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urljoin, urlsplit

from .errors import StoreError
from .store import Store
from .stores.http import HttpStore
from .stores.kerchunk import JsonReferences, KerchunkStore, ParquetReferences
from .stores.local import LocalStore
from .stores.urls import UrlStore
from .stores.zip import ZipStore
from .wrappers import BatchingStore, CachedStore, CoalescingStore, LimitedStore

IN_BROWSER = sys.platform == "emscripten"
#: options a source may carry after "#"
SOURCE_OPTIONS = ("target_base",)
_KINDS = ("kerchunk",)


def _transport():
    if IN_BROWSER:
        from .stores.http_pyodide import fetch
    else:
        from .stores.http_httpx import fetch
    return fetch


@dataclass(frozen=True)
class Source:
    """A parsed source: its KIND ("zarr", "kerchunk" or "kerchunk-parquet"), LOCATION and
    options (``target_base``)."""

    kind: str
    location: str
    options: dict = field(default_factory=dict)


def parse_source(text: str, **options) -> Source:
    """The kind, location and options of a source (OPTIONS given here win over ``#`` ones)."""
    options = {k: v for k, v in options.items() if v is not None}
    kind, sep, rest = text.partition(":")
    forced = kind if sep and kind in _KINDS else None
    location = rest if forced else text
    head, _, fragment = location.partition("#")
    if location.startswith("file://"):
        location, head = location[len("file://"):], head[len("file://"):]
    name = urlsplit(head).path.rstrip("/").rsplit("/", 1)[-1].lower()
    if forced == "kerchunk" or (forced is None and _is_kerchunk(head, name)):
        kind = "kerchunk" if name.endswith(".json") else "kerchunk-parquet"
        location, options = head, {**_fragment_options(text, fragment), **options}
    else:
        kind = "zarr"  # a "#" may be part of a directory's name
    if options and kind == "zarr":
        raise StoreError(f"{text}: options ({', '.join(options)}) only apply to virtual stores")
    if kind != "zarr" and not location.startswith(("http://", "https://")):
        location = _page_url(location) if IN_BROWSER else os.path.abspath(location)
    return Source(kind, location, options)


def _page_url(location: str) -> str:
    """A URL relative to the page as the absolute URL fetch would use, so that targets relative
    to a reference file resolve against it."""
    import js  # type: ignore[import-not-found]

    return urljoin(str(js.self.location.href), location)


def _fragment_options(text: str, fragment: str) -> dict:
    given = dict(parse_qsl(fragment, keep_blank_values=True))
    unknown = sorted(set(given) - set(SOURCE_OPTIONS))
    if unknown:
        raise StoreError(f"{text}: unknown option {unknown[0]!r} after '#' "
                         f"(known: {', '.join(SOURCE_OPTIONS)})")
    return given


def _is_kerchunk(location: str, name: str) -> bool:
    if name.endswith((".parq", ".parquet")):
        return True
    if name.endswith(".json"):
        return name != "zarr.json"
    if IN_BROWSER or not os.path.isdir(location):
        return False
    try:  # a local folder: Parquet references if its .zmetadata has a record_size
        with open(os.path.join(location, ".zmetadata"), "rb") as f:
            head = json.loads(f.read(1 << 20))
    except (OSError, ValueError):
        return False
    return isinstance(head, dict) and "record_size" in head


def _plain_store(source: str) -> Store:
    if source.startswith(("http://", "https://")):
        return HttpStore(source, _transport())
    if os.path.isdir(source):
        return LocalStore(source)
    if os.path.isfile(source) and source.lower().endswith(".zip"):
        return ZipStore(source)
    if IN_BROWSER:
        return HttpStore(source, _transport())
    raise StoreError(f"{source}: not an http(s) URL, an existing directory or a .zip file")


def _kerchunk(source: Source, targets: Store) -> Store:
    references = JsonReferences if source.kind == "kerchunk" else ParquetReferences
    return KerchunkStore(source.location, targets, references=references,
                         target_base=source.options.get("target_base"))


def _url_store() -> UrlStore:
    return UrlStore(_transport(), local_files=not IN_BROWSER)


def raw_store(source: str, **options) -> Store:
    """The unwrapped store for a source (see the module's docstring)."""
    parsed = parse_source(source, **options)
    if parsed.kind == "zarr":
        return _plain_store(parsed.location)
    return _kerchunk(parsed, _url_store())


def wrap(store: Store, *, concurrency: int = 6, cache_bytes: int = 64 << 20,
         max_gap: int = 0) -> Store:
    """Default stack: coalesce ranges → cache → bound concurrency → the store."""
    return CoalescingStore(CachedStore(LimitedStore(store, concurrency), cache_bytes), max_gap)


def open_store(source: str, *, target_base: str | None = None, concurrency: int = 6,
               cache_bytes: int = 64 << 20, max_gap: int = 0) -> Store:
    """The store for SOURCE under the default wrappers. A virtual store's own keys are cached;
    the requests its references make are batched per target file, coalesced and bounded in
    concurrency below it."""
    parsed = parse_source(source, target_base=target_base)
    if parsed.kind == "zarr":
        return wrap(_plain_store(parsed.location), concurrency=concurrency,
                    cache_bytes=cache_bytes, max_gap=max_gap)
    targets = BatchingStore(CoalescingStore(LimitedStore(_url_store(), concurrency), max_gap))
    return CoalescingStore(CachedStore(_kerchunk(parsed, targets), cache_bytes), max_gap)

"""open_store: turn a user-given source into a store wrapped in the default wrappers. The only
place that decides, by environment, which HTTP transport to use.

A source is an http(s) URL, a directory or a .zip (in the browser also any URL fetch can resolve,
e.g. ``/data/x.zarr``), or a virtual or versioned store: a Kerchunk reference file (``*.json``
other than ``zarr.json``) or Parquet reference folder (``*.parq``, or a folder whose
``.zmetadata`` has a ``record_size``), an Icechunk repository (a folder with
``refs/branch.main/ref.json``, or a ``repo`` file beside ``snapshots/``). A ``kerchunk:`` or
``icechunk:`` prefix forces the kind (an Icechunk repository over HTTP needs it: HTTP cannot
look into a folder). Options may follow the
location after ``#`` (``refs.json#target_base=https://mirror/data/``, ``repo#ref=tag:v1``), so a
single URL parameter can carry them.

Files that references point to are read from the local file system only when the references
themselves are local: a reference file or repository fetched over HTTP cannot make this
program read local files.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urljoin, urlsplit

from .errors import StoreError
from .store import Store
from .stores.cloud import is_cloud_url, locate, split_cloud_url
from .stores.http import HttpStore
from .stores.icechunk import IcechunkStore
from .stores.kerchunk import JsonReferences, KerchunkStore, ParquetReferences
from .stores.local import LocalStore
from .stores.urls import UrlStore
from .stores.zip import ZipStore
from .wrappers import BatchingStore, CachedStore, CoalescingStore, LimitedStore

IN_BROWSER = sys.platform == "emscripten"
#: options a source may carry after "#"
SOURCE_OPTIONS = {"kerchunk": ("target_base",), "kerchunk-parquet": ("target_base",),
                  "icechunk": ("ref", "target_base"), "zarr": ()}
_KINDS = ("kerchunk", "icechunk")


def _transport():
    if IN_BROWSER:
        from .stores.http_pyodide import fetch
    else:
        from .stores.http_httpx import fetch
    return fetch


@dataclass(frozen=True)
class Source:
    """A parsed source: its KIND ("zarr", "kerchunk", "kerchunk-parquet" or "icechunk"),
    LOCATION and options (``target_base``, ``ref``)."""

    kind: str
    location: str
    options: dict = field(default_factory=dict)


def is_url(location: str) -> bool:
    """An http(s) or cloud (s3://, gs://, az://) URL: read where it lives, not from this machine."""
    return location.startswith(("http://", "https://")) or is_cloud_url(location)


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
    if forced == "icechunk" or (forced is None and _is_icechunk(head)):
        kind = "icechunk"
    elif forced == "kerchunk" or (forced is None and _is_kerchunk(head, name)):
        kind = "kerchunk" if name.endswith(".json") else "kerchunk-parquet"
    else:
        kind = "zarr"  # a "#" may be part of a directory's name
    if kind != "zarr":
        location, options = head, {**_fragment_options(text, fragment), **options}
    wrong = sorted(set(options) - set(SOURCE_OPTIONS[kind]))
    if wrong:
        raise StoreError(f"{text}: option {wrong[0]!r} does not apply to a {kind} store "
                         f"({', '.join(SOURCE_OPTIONS[kind]) or 'it takes none'})")
    if kind != "zarr" and not is_url(location):
        location = _page_url(location) if IN_BROWSER else os.path.abspath(location)
    return Source(kind, location, options)


def _page_url(location: str) -> str:
    """A URL relative to the page as an absolute URL (so that targets relative to a reference file
    resolve against it): against the page's folder, which the worker is told (``pyzarrPageBase``),
    not the worker script's own URL, which a bare fetch would use."""
    import js  # type: ignore[import-not-found]

    return urljoin(str(getattr(js.self, "pyzarrPageBase", None) or js.self.location.href), location)


def _fragment_options(text: str, fragment: str) -> dict:
    return dict(parse_qsl(fragment, keep_blank_values=True))


def _is_icechunk(location: str) -> bool:
    """A local folder laid out as an Icechunk repository (format 1: its main branch's ref file;
    format 2: a ``repo`` file beside ``snapshots/``)."""
    if IN_BROWSER:
        return False
    return os.path.isfile(os.path.join(location, "refs", "branch.main", "ref.json")) or (
        os.path.isfile(os.path.join(location, "repo")) and os.path.isdir(os.path.join(location, "snapshots")))


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


#: environment variables that hold credentials, per cloud (any one of them: read signed)
CREDENTIALS = {
    "s3": ("AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
    "gcs": ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_SERVICE_ACCOUNT", "GOOGLE_SERVICE_ACCOUNT_PATH",
            "GOOGLE_SERVICE_ACCOUNT_KEY"),
    "azure": ("AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_ACCESS_KEY", "AZURE_STORAGE_SAS_KEY",
              "AZURE_STORAGE_SAS_TOKEN", "AZURE_CLIENT_SECRET", "AZURE_STORAGE_TOKEN"),
}


def _signed(source: str) -> bool:
    """Read SOURCE with obstore: a cloud URL on CPython, with credentials in the environment and
    the ``cloud`` extra installed. Otherwise buckets are read anonymously over HTTP."""
    if IN_BROWSER or not is_cloud_url(source) or importlib.util.find_spec("obstore") is None:
        return False
    return any(os.environ.get(name) for name in CREDENTIALS[split_cloud_url(source).api])


def _plain_store(source: str, cloud: dict | None = None) -> Store:
    """The store of a Zarr location; CLOUD holds the options of cloud URLs (``region``,
    ``endpoint``, ``allow_http``: see :func:`.stores.cloud.locate`)."""
    if _signed(source):
        from .stores.objectstore import ObjectStore

        return ObjectStore(source, **(cloud or {}))
    if is_url(source):
        where = locate(source, **(cloud or {}))
        return HttpStore(where.url, _transport(), bucket=where.bucket)
    if IN_BROWSER and source.startswith("picked://"):  # files the user picked or dropped on the page
        from .stores.picked_pyodide import picked_store

        return picked_store(source)
    if os.path.isdir(source):
        return LocalStore(source)
    if os.path.isfile(source) and source.lower().endswith(".zip"):
        return ZipStore(source)
    if IN_BROWSER:
        return HttpStore(_page_url(source), _transport())
    raise StoreError(f"{source}: not an http(s) URL, an existing directory or a .zip file")


def _virtual(source: Source, concurrency: int, max_gap: int) -> Store:
    """The store of a virtual or versioned source with its own fetching stack: the files its
    references point to are read through a batching, coalescing, concurrency-bounded UrlStore
    (and an Icechunk repository's own files through a bounded store of the repository)."""
    targets = BatchingStore(CoalescingStore(LimitedStore(_url_store(source), concurrency), max_gap))
    target_base = source.options.get("target_base")
    if source.kind == "icechunk":
        repo = LimitedStore(_plain_store(source.location), concurrency)
        return IcechunkStore(repo, targets, source.options.get("ref"), source.location, target_base=target_base)
    references = JsonReferences if source.kind == "kerchunk" else ParquetReferences
    return KerchunkStore(source.location, targets, references=references, target_base=target_base)


def _url_store(source: Source) -> UrlStore:
    local = not source.location.startswith(("http://", "https://"))
    return UrlStore(_transport(), local_files=local and not IN_BROWSER)


def raw_store(source: str, *, target_base: str | None = None, ref: str | None = None,
              concurrency: int = 6, max_gap: int = 0, cloud: dict | None = None) -> Store:
    """The store for a source (see the module's docstring) without the default wrappers. A
    virtual store comes with its own fetching below it (see :func:`_virtual`), so wrapping it
    only adds the cache of its keys. ``target_base`` (Kerchunk, Icechunk virtual chunks) and
    ``ref`` (Icechunk: ``main``, ``tag:v1``, ``snapshot:ID``) override the same options given
    after ``#``. ``cloud`` holds the options of an ``s3://``, ``gs://`` or ``az://`` source
    (``region``, ``endpoint``, ``account``, ``allow_http``)."""
    parsed = parse_source(source, target_base=target_base, ref=ref)
    if parsed.kind == "zarr":
        return _plain_store(parsed.location, cloud)
    return _virtual(parsed, concurrency, max_gap)


def wrap(store: Store, *, concurrency: int = 6, cache_bytes: int = 64 << 20,
         max_gap: int = 0) -> Store:
    """Default stack: coalesce ranges → cache → bound concurrency → the store. A store whose
    fetches are bounded below it (a virtual store) is not bounded again: its reads of many chunks
    must reach it together to be batched."""
    inner = store if store.bounded else LimitedStore(store, concurrency)
    return CoalescingStore(CachedStore(inner, cache_bytes), max_gap)


def open_store(source: str, *, target_base: str | None = None, ref: str | None = None,
               concurrency: int = 6, cache_bytes: int = 64 << 20, max_gap: int = 0,
               cloud: dict | None = None) -> Store:
    """The store for SOURCE under the default wrappers (options as :func:`raw_store`'s)."""
    return wrap(raw_store(source, target_base=target_base, ref=ref, concurrency=concurrency, max_gap=max_gap,
                          cloud=cloud),
                concurrency=concurrency, cache_bytes=cache_bytes, max_gap=max_gap)


def store_kind(info: dict) -> str | None:
    """What a virtual or versioned store is, for people (``Store.info()`` in words); None for
    a plain Zarr store."""
    if info.get("kind") == "kerchunk":
        return "Kerchunk references"
    if info.get("kind") == "icechunk":
        snapshot = f" (snapshot {info['snapshot']})" if info.get("snapshot") else ""
        return f"Icechunk repository at {info.get('ref')}{snapshot}"
    return None

"""open_store: turn a user-given source into a store wrapped in the default wrappers. The only
place that decides, by environment, which HTTP transport to use."""

from __future__ import annotations

import os
import sys

from .errors import StoreError
from .store import Store
from .stores.http import HttpStore
from .stores.local import LocalStore
from .stores.zip import ZipStore
from .wrappers import CachedStore, CoalescingStore, LimitedStore

IN_BROWSER = sys.platform == "emscripten"


def _transport():
    if IN_BROWSER:
        from .stores.http_pyodide import fetch
    else:
        from .stores.http_httpx import fetch
    return fetch


def raw_store(source: str) -> Store:
    """The unwrapped store for an http(s) URL, a directory or a .zip (in the browser also any
    URL fetch can resolve, e.g. ``/data/x.zarr``)."""
    if source.startswith(("http://", "https://")):
        return HttpStore(source, _transport())
    path = source[len("file://"):] if source.startswith("file://") else source
    if os.path.isdir(path):
        return LocalStore(path)
    if os.path.isfile(path) and path.lower().endswith(".zip"):
        return ZipStore(path)
    if IN_BROWSER:
        return HttpStore(source, _transport())
    raise StoreError(f"{source}: not an http(s) URL, an existing directory or a .zip file")


def wrap(store: Store, *, concurrency: int = 6, cache_bytes: int = 64 << 20,
         max_gap: int = 0) -> Store:
    """Default stack: coalesce ranges → cache → bound concurrency → the store."""
    return CoalescingStore(CachedStore(LimitedStore(store, concurrency), cache_bytes), max_gap)


def open_store(source: str, **options) -> Store:
    return wrap(raw_store(source), **options)

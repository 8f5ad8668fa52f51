"""A store whose keys are whole URLs or file paths: where virtual stores (Kerchunk references,
Icechunk virtual chunks) find the bytes their references point to.

``http(s)://`` URLs are read through one :class:`~.http.HttpStore` per URL (the same checks and
timeouts as any store); ``s3://`` and ``gs://`` through their public HTTPS endpoints
(:mod:`.cloud`); ``file://`` URLs and absolute paths from the local file system, where there is
one. In the browser (``local_files=False``) a path is a URL relative to the page, and a
``file://`` URL is refused, naming it."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from ..errors import StoreError
from ..store import ByteRequest, Store
from .cloud import public_https_url
from .http import HttpStore, Transport
from .local import LocalStore


def local_path(url: str) -> str | None:
    """The file path of a ``file://`` URL or an absolute path; None for any other URL."""
    if url.startswith("file://"):
        return unquote(urlsplit(url).path)
    if url.startswith("/") or (len(url) > 2 and url[1] == ":" and url[2] in "\\/"):  # C:\ too
        return url
    return None


class UrlStore(Store):
    """Keys are absolute URLs or paths; each is read as one file."""

    def __init__(self, transport: Transport | None, local_files: bool = True):
        self.transport = transport
        self.local_files = local_files
        self._http: dict[str, HttpStore] = {}

    async def get(self, key: str, byte_range: ByteRequest = None) -> bytes | None:
        path = local_path(key) if self.local_files or key.startswith("file://") else None
        if path is not None:
            if not self.local_files:
                raise StoreError(f"{key}: a local file cannot be read here (the page can only "
                                 f"fetch URLs): serve it over HTTP and point the references "
                                 f"there (a target base URL)")
            directory, name = os.path.split(path)
            if not os.path.isdir(directory):
                return None
            return await LocalStore(directory).get(name, byte_range)
        url = public_https_url(key)
        if self.local_files and not url.startswith(("http://", "https://")):
            raise StoreError(f"{key}: not a URL this reader can fetch (http, https, s3, gs or a "
                             f"file path)")
        if self.transport is None:
            raise StoreError(f"{key}: no HTTP transport here")
        store = self._http.get(url)
        if store is None:
            store = self._http[url] = HttpStore(url, self.transport)
        return await store.get("", byte_range)

    def describe(self) -> str:
        return "target files"

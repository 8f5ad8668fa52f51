"""A store whose keys are whole URLs or file paths: where virtual stores (Kerchunk references,
Icechunk virtual chunks) find the bytes their references point to.

``http(s)://`` URLs are read through one :class:`~.http.HttpStore` per URL (the same checks and
timeouts as any store); ``s3://`` and ``gs://`` through their public HTTPS endpoints
(:mod:`.cloud`); ``file://`` URLs and absolute paths from the local file system, where there is
one. In the browser (``local_files=False``) a path is a URL relative to the page, and a
``file://`` URL is refused, naming it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ..errors import StoreError
from ..store import ByteRequest, RangeRequest, Store, SuffixRequest
from .cloud import public_https_url
from .http import HttpStore, Transport
from .local import LocalStore


@dataclass(frozen=True, slots=True)
class Target:
    """Bytes of another file: all of it (``offset`` None) or ``length`` bytes at ``offset``."""

    url: str
    offset: int | None = None
    length: int | None = None

    def request(self, byte_range: ByteRequest) -> ByteRequest:
        """BYTE_RANGE of the referenced bytes, as a request to the target file."""
        if self.offset is None:
            return byte_range
        if byte_range is None:
            return RangeRequest(self.offset, self.length)
        if isinstance(byte_range, SuffixRequest):
            n = min(byte_range.length, self.length)
            return RangeRequest(self.offset + self.length - n, n)
        start = min(byte_range.offset, self.length)
        return RangeRequest(self.offset + start, min(byte_range.length, self.length - start))


async def read_target(store: Store, url: str, request: ByteRequest, where: str) -> bytes:
    """REQUEST of the file at URL through STORE (keys are URLs), with errors that start with
    WHERE (the reference that points there) and name the byte range: a missing file or one
    shorter than the range referenced is an error, not a missing chunk."""
    span = ""
    if isinstance(request, RangeRequest):
        span = f" bytes {request.offset}-{request.offset + request.length - 1}"
    try:
        data = await store.get(url, request)
    except StoreError as e:
        raise StoreError(f"{where}{span}: {e}") from None
    if data is None:
        raise StoreError(f"{where}{span}: the target file does not exist")
    if isinstance(request, RangeRequest) and len(data) != request.length:
        raise StoreError(f"{where}{span}: the target file ends after {len(data)} of the "
                         f"{request.length} bytes referenced (offset beyond its end?)")
    return data


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

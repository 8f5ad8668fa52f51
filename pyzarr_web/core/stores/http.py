"""A store over HTTP(S) with Range requests. The transport (how bytes are fetched) is injected:
:mod:`.http_pyodide` in the browser, :mod:`.http_httpx` on CPython, so this module stays portable.
"""

from __future__ import annotations

from typing import Awaitable, Callable

from ..errors import StoreError
from ..store import ByteRequest, RangeRequest, Store, SuffixRequest, slice_value

#: ``fetch(url, headers) -> (status, body)``; raises StoreError on network failure.
Transport = Callable[[str, dict], Awaitable[tuple[int, bytes]]]


class HttpStore(Store):
    can_list = False

    def __init__(self, url: str, transport: Transport):
        self.url = url.rstrip("/")
        self.transport = transport

    def key_url(self, key: str) -> str:
        return f"{self.url}/{key}" if key else self.url

    async def get(self, key: str, byte_range: ByteRequest = None) -> bytes | None:
        url = self.key_url(key)
        headers = {}
        if isinstance(byte_range, RangeRequest):
            if byte_range.length <= 0:
                return b""
            headers["Range"] = f"bytes={byte_range.offset}-{byte_range.offset + byte_range.length - 1}"
        elif isinstance(byte_range, SuffixRequest):
            headers["Range"] = f"bytes=-{byte_range.length}"
        status, body = await self.transport(url, headers)
        if status == 404:
            return None
        if status == 206:
            return body
        if status == 200:  # server ignored Range: cut the range out ourselves
            return slice_value(body, byte_range)
        raise StoreError(f"GET {url} ({headers.get('Range', 'whole')}) failed: HTTP {status}")

    def describe(self) -> str:
        return self.url

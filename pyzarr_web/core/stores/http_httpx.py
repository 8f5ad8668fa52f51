"""HTTP transport for CPython: one shared httpx.AsyncClient per event loop.

Waits are bounded as :class:`~.http.Timeouts` says: connecting and the response headers by
``first_byte``, every pause in the body by ``idle`` (httpx's read timeout), the whole request by
``total`` (an asyncio deadline). A request that times out is cancelled and its connection closed.
"""

from __future__ import annotations

import asyncio
import time
import weakref

import httpx

from ..errors import StoreError
from .http import MAX_REDIRECTS, HttpResponse, Timeouts

#: one client per event loop (a client is bound to the loop it first ran in; the CLI and tests
#: run several loops, and a new loop may reuse a dead one's id, hence weak keys, not ids)
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()


def _client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = httpx.AsyncClient(follow_redirects=True, max_redirects=MAX_REDIRECTS)
    return client


async def fetch(url: str, headers: dict, timeouts: Timeouts) -> HttpResponse:
    started = time.monotonic()

    def waited() -> str:
        return f"{time.monotonic() - started:.1f} s"

    deadline = asyncio.timeout(timeouts.total)
    try:
        async with deadline:
            return await _get(url, headers, timeouts, waited)
    except TimeoutError as e:
        if deadline.expired():
            raise StoreError(f"GET {url}: not complete after {waited()} (deadline "
                             f"{timeouts.total:g} s)") from e
        raise


async def _get(url: str, headers: dict, timeouts: Timeouts, waited) -> HttpResponse:
    client = _client()
    limits = httpx.Timeout(connect=timeouts.first_byte, read=timeouts.idle, write=timeouts.first_byte,
                           pool=timeouts.first_byte)
    request = client.build_request("GET", url, headers=headers, timeout=limits)
    first_byte = asyncio.timeout(timeouts.first_byte)
    try:
        async with first_byte:
            response = await client.send(request, stream=True)
    except (TimeoutError, httpx.TimeoutException) as e:
        if isinstance(e, TimeoutError) and not first_byte.expired():
            raise
        raise StoreError(f"GET {url}: no response after {waited()} (first-byte timeout "
                         f"{timeouts.first_byte:g} s)") from e
    except httpx.TooManyRedirects as e:
        raise StoreError(f"GET {url}: more than {MAX_REDIRECTS} redirects (a redirect loop?)") from e
    except httpx.HTTPError as e:
        raise StoreError(f"GET {url} failed: {e!r}") from e
    received = 0
    try:
        chunks = []
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            received += len(chunk)
    except httpx.ReadTimeout as e:
        raise StoreError(f"GET {url}: body stalled after {received} bytes: nothing for "
                         f"{timeouts.idle:g} s ({waited()} in all)") from e
    except httpx.HTTPError as e:
        raise StoreError(f"GET {url}: body broken off after {received} bytes: {e!r}") from e
    finally:
        await response.aclose()
    return HttpResponse(response.status_code, b"".join(chunks), dict(response.headers))

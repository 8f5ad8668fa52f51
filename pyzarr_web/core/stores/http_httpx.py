"""HTTP transport for CPython: one shared httpx.AsyncClient per event loop."""

from __future__ import annotations

import asyncio

import httpx

from ..errors import StoreError

_clients: dict[int, httpx.AsyncClient] = {}


def _client() -> httpx.AsyncClient:
    # a client is bound to the loop it first ran in; the CLI and tests may run several loops
    loop_id = id(asyncio.get_running_loop())
    client = _clients.get(loop_id)
    if client is None:
        client = _clients[loop_id] = httpx.AsyncClient(follow_redirects=True, timeout=60.0)
    return client


async def fetch(url: str, headers: dict) -> tuple[int, bytes]:
    try:
        response = await _client().get(url, headers=headers)
    except httpx.HTTPError as e:
        raise StoreError(f"GET {url} failed: {e!r}") from e
    return response.status_code, response.content

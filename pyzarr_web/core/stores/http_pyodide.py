"""HTTP transport for Pyodide: the browser's fetch, aborted when the awaiting task is cancelled."""

from __future__ import annotations

import asyncio

import js  # type: ignore[import-not-found]
from pyodide.ffi import JsException, to_js  # type: ignore[import-not-found]

from ..errors import StoreError


async def fetch(url: str, headers: dict) -> tuple[int, bytes]:
    controller = js.AbortController.new()
    options = to_js({"headers": headers, "signal": controller.signal},
                    dict_converter=js.Object.fromEntries)
    try:
        response = await js.fetch(url, options)
        body = b"" if response.status == 404 else (await response.arrayBuffer()).to_bytes()
    except asyncio.CancelledError:
        controller.abort()
        raise
    except JsException as e:
        raise StoreError(f"GET {url} failed: {e}") from e
    return response.status, body

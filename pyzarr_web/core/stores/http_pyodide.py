"""HTTP transport for Pyodide: ``pyzarrFetch``, a small JS helper defined in web/worker.js, does the
browser's fetch with the timeouts of :class:`~.http.Timeouts` and reads the whole body in JS (one
JS-Python hop per request, not per body chunk). Cancelling the awaiting task aborts the fetch."""

from __future__ import annotations

import asyncio

import js  # type: ignore[import-not-found]
from pyodide.ffi import JsException, to_js  # type: ignore[import-not-found]

from ..errors import StoreError
from .http import HttpResponse, Timeouts


async def fetch(url: str, headers: dict, timeouts: Timeouts) -> HttpResponse:
    controller = js.AbortController.new()
    limits = {"firstByte": timeouts.first_byte, "idle": timeouts.idle, "total": timeouts.total}
    try:
        result = await js.pyzarrFetch(url, to_js(headers, dict_converter=js.Object.fromEntries),
                                      to_js(limits, dict_converter=js.Object.fromEntries),
                                      controller.signal)
    except asyncio.CancelledError:
        controller.abort()
        raise
    except JsException as e:
        raise StoreError(f"GET {url}: {str(e).removeprefix('Error: ')}") from e
    return HttpResponse(result.status, result.body.to_bytes(), result.headers.to_py())

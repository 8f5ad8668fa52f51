"""HTTP transport for Pyodide: the worker's fetch pump (``self.pyzarrPump``, web/fetch.js).

A batch of requests goes to JavaScript in one call; JavaScript runs them with bounded
concurrency, reads each body whole as a stream under the timeouts of :class:`~.http.Timeouts`,
and hands back everything that completed since Python last asked, bodies back to back: one hop
between Python and the browser per handful of answers, not several per request. Closing the
iterator early (a cancelled read) aborts what is still queued or running.
"""

from __future__ import annotations

import json
from contextlib import aclosing

import js  # type: ignore[import-not-found]

from .http import HttpResponse, NetworkError, Timeouts


async def many(requests: list[tuple[str, dict]], timeouts: Timeouts):
    """(index, HttpResponse or NetworkError) for each of REQUESTS [(url, headers), ...], as
    they complete."""
    limits = {"firstByte": timeouts.first_byte, "idle": timeouts.idle, "total": timeouts.total}
    batch = js.pyzarrPump.start(json.dumps(requests), json.dumps(limits))
    finished = False
    try:
        while (got := await batch.next()) is not None:
            body = got.body.to_bytes()
            offset = 0
            for index, status, headers, length, error in json.loads(got.meta):
                if error is not None:
                    yield index, NetworkError(f"GET {requests[index][0]}: {error}",
                                              maybe_cors=error.startswith("network error"))
                    continue
                yield index, HttpResponse(status, body if length == len(body) else body[offset:offset + length],
                                          headers)
                offset += length
        finished = True
    finally:
        if not finished:
            batch.abort()


async def fetch(url: str, headers: dict, timeouts: Timeouts) -> HttpResponse:
    """One request: a batch of one."""
    async with aclosing(many([(url, headers)], timeouts)) as answers:
        async for _, response in answers:
            if isinstance(response, NetworkError):
                raise response
            return response


fetch.many = many

"""HTTP transport for Pyodide: the browser's fetch with the timeouts of :class:`~.http.Timeouts`.

The fetching is a small JS function (``self.pyzarrFetch``, installed once by this module) that
reads the whole body in JS as a stream -- one JS-Python hop per request, not per body chunk --
arming a first-byte timer, an idle timer between chunks and an overall deadline, and resolves with
``{status, headers, body}``. Cancelling the awaiting task aborts the fetch.
"""

from __future__ import annotations

import asyncio

import js  # type: ignore[import-not-found]
from pyodide.code import run_js  # type: ignore[import-not-found]
from pyodide.ffi import JsException, to_js  # type: ignore[import-not-found]

from .http import HttpResponse, NetworkError, Timeouts

#: pyzarrFetch(url, headers, limits {firstByte, idle, total} in seconds, signal): rejects with an
#: Error saying what failed and after how long.
_FETCH_JS = r"""
self.pyzarrFetch = self.pyzarrFetch || (() => {
  const HEADERS = ["content-range", "content-length", "content-type", "content-encoding"];
  return async (url, headers, limits, signal) => {
    const controller = new AbortController();
    const started = performance.now();
    const waited = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
    let timedOut = null; // what the timer that fired was waiting for
    let timer = null;
    const arm = (seconds, what) => {
      clearTimeout(timer);
      timer = setTimeout(() => { timedOut = what; controller.abort(); }, seconds * 1000);
    };
    const deadline = setTimeout(() => {
      timedOut = "deadline";
      controller.abort();
    }, limits.total * 1000);
    const cancel = () => controller.abort();
    if (signal) signal.addEventListener("abort", cancel);
    let received = 0;
    try {
      arm(limits.firstByte, "first-byte");
      const response = await fetch(url, { headers, signal: controller.signal });
      const chunks = [];
      if (response.status === 404) {
        if (response.body) response.body.cancel().catch(() => {}); // a 404 page is not needed
      } else if (response.body) {
        const reader = response.body.getReader();
        for (;;) {
          arm(limits.idle, "idle");
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(value);
          received += value.byteLength;
        }
      }
      const body = new Uint8Array(received);
      let offset = 0;
      for (const c of chunks) {
        body.set(c, offset);
        offset += c.byteLength;
      }
      const out = {};
      for (const name of HEADERS) {
        const value = response.headers.get(name);
        if (value !== null) out[name] = value;
      }
      return { status: response.status, headers: out, body: body.buffer };
    } catch (err) {
      if (timedOut === "deadline") {
        throw new Error(`not complete after ${waited()} (deadline ${limits.total} s, ${received} bytes received)`);
      }
      if (timedOut === "idle") {
        throw new Error(`body stalled after ${received} bytes: nothing for ${limits.idle} s (${waited()} in all)`);
      }
      if (timedOut) throw new Error(`no response after ${waited()} (first-byte timeout ${limits.firstByte} s)`);
      if (signal && signal.aborted) throw err;
      const detail = err && err.message ? err.message : String(err);
      throw new Error(`network error after ${received} bytes (${detail}): the server is unreachable, ` +
                      "dropped the connection, redirected too often, or does not allow this page " +
                      "to read it (CORS) -- the browser does not say which");
    } finally {
      clearTimeout(timer);
      clearTimeout(deadline);
      if (signal) signal.removeEventListener("abort", cancel);
    }
  };
})();
"""
run_js(_FETCH_JS)


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
        message = str(e).removeprefix("Error: ")
        raise NetworkError(f"GET {url}: {message}", maybe_cors=message.startswith("network error")) from e
    return HttpResponse(result.status, result.body.to_bytes(), result.headers.to_py())

"""A loopback HTTP/1.1 server over a directory of stores that misbehaves on request.

A raw asyncio socket server (in a thread), since most faults -- a wrong Content-Range, a body
shorter than its Content-Length, a stall mid-body, a drip -- are below what an ASGI app can express.
URLs are ``/~<case>/<fault>/<store>/<key>``: the fault named applies to every key, or only to
metadata documents (``<fault>@meta``) or only to the other keys (``<fault>@chunk``); ``ok`` serves
normally. Every request is logged (:attr:`FaultServer.log`) with its case, so that a late request
of an earlier case (a client gives up, its request is read afterwards) is told apart.

Everything is bounded: request heads are size- and time-limited, hangs and stalls last at most
``HOLD`` seconds, and :meth:`FaultServer.stop` cancels whatever is still running.
"""

from __future__ import annotations

import asyncio
import posixpath
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

METADATA_NAMES = {"zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"}
#: longest a "never answers" / "stalls" response holds its connection open (seconds)
HOLD = 30.0
#: seconds between two bytes of a "drip" body
DRIP_INTERVAL = 0.4
#: how many times a "flaky" key fails with 503 before it is served
FLAKY_FAILURES = 2
HTML_PAGE = b"<!DOCTYPE html><html><head><title>My app</title></head><body><div id=app></div></body></html>"

REASONS = {200: "OK", 206: "Partial Content", 204: "No Content", 301: "Moved Permanently",
           302: "Found", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 410: "Gone",
           503: "Service Unavailable"}


@dataclass
class LoggedRequest:
    method: str
    raw_path: str  # as sent, still percent-encoded
    case: str | None  # the ~<case> segment, if any
    path: str  # percent-decoded, without the case segment and the query
    range: str | None
    status: int | None = None


@dataclass
class Case:
    """One test case's view of the server: its base URL and the requests it made."""

    server: FaultServer
    token: str
    mark: int

    @property
    def url(self) -> str:
        return f"{self.server.url}/~{self.token}"

    def requests(self) -> list[LoggedRequest]:
        """Requests since the case began, except late ones of other cases."""
        return [r for r in self.server.log[self.mark:] if r.case in (self.token, None)]


class FaultServer:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.log: list[LoggedRequest] = []
        self._failures: dict[str, int] = {}
        self._cases = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task] = set()
        self.url = ""

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> str:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
            self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fault-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fault server did not start within 10 s")
        return self.url

    def stop(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> FaultServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def case(self) -> Case:
        """Start a test case: a fresh URL prefix, and every "flaky" key fails afresh."""
        self._failures.clear()
        self._cases += 1
        return Case(self, str(self._cases), len(self.log))

    # ------------------------------------------------------------------ serving
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            if len(head) > 16384:
                return
            await self._respond(head.decode("latin-1"), writer)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError,
                asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _respond(self, head: str, writer: asyncio.StreamWriter) -> None:
        lines = head.split("\r\n")
        method, raw_path, _version = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        case, raw_rest = None, raw_path
        if match := re.match(r"/~([\w-]+)(/.*)?$", raw_path):
            case, raw_rest = match[1], match[2] or "/"
        path = unquote(raw_rest.split("?", 1)[0])
        entry = LoggedRequest(method, raw_path, case, path, headers.get("range"))
        self.log.append(entry)
        cors = {"Access-Control-Allow-Origin": "*",
                "Access-Control-Expose-Headers": "Content-Range, Content-Length, Content-Type"}

        async def send(status: int, body: bytes = b"", extra: dict | None = None, *,
                       length: int | None = None, close_after: int | None = None,
                       drip: bool = False, with_cors: bool = True) -> None:
            entry.status = status
            fields = {**(cors if with_cors else {}), "Content-Length": str(len(body) if length is None else length),
                      "Connection": "close", **(extra or {})}
            writer.write(f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\n".encode()
                         + "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode() + b"\r\n")
            if drip:
                for i in range(min(len(body), int(HOLD / DRIP_INTERVAL))):
                    writer.write(body[i:i + 1])
                    await writer.drain()
                    await asyncio.sleep(DRIP_INTERVAL)
            elif close_after is not None:
                writer.write(body[:close_after])
                await writer.drain()
            else:
                writer.write(body)
            await writer.drain()

        if method == "OPTIONS":  # CORS preflight (a suffix Range is not a "simple" header)
            await send(204, extra={"Access-Control-Allow-Methods": "GET, HEAD",
                                   "Access-Control-Allow-Headers": "Range", "Access-Control-Max-Age": "600"})
            return
        parts = path.lstrip("/").split("/", 1)
        fault, _, target = parts[0].partition("@")
        rest = parts[1] if len(parts) > 1 else ""
        name = rest.rsplit("/", 1)[-1]
        applies = target == "" or (target == "meta") == (name in METADATA_NAMES)
        if not applies:
            fault = "ok"

        if fault == "hang":  # never answers
            await asyncio.sleep(HOLD)
            return
        if fault in ("e401", "e403", "e410", "e503"):
            await send(int(fault[1:]), b"no")
            return
        if fault == "flaky":
            failures = self._failures.get(path, 0)
            if failures < FLAKY_FAILURES:
                self._failures[path] = failures + 1
                await send(503, b"try again")
                return
        if fault == "loop":
            await send(302, extra={"Location": raw_path})
            return
        if fault == "moved":
            case_prefix = f"/~{case}" if case else ""
            await send(301, extra={"Location": f"{case_prefix}/ok/" + raw_rest.lstrip("/").split("/", 1)[1]})
            return

        file = Path(posixpath.normpath(str(self.root / rest)))
        if not file.is_relative_to(self.root) or not file.is_file():
            if fault == "spa":
                await send(200, HTML_PAGE, {"Content-Type": "text/html; charset=utf-8"})
            else:
                await send(404, b"not found")
            return
        data = file.read_bytes()
        plain = {"Content-Type": "application/octet-stream"}
        span = _parse_range(headers.get("range"), len(data))
        with_cors = fault != "nocors"
        if fault == "truncate":
            await send(200 if span is None else 206, data if span is None else data[span[0]:span[1]],
                       {**plain, **({} if span is None else {"Content-Range": _content_range(span, len(data))})},
                       length=(len(data) if span is None else span[1] - span[0]) + 100, close_after=10**9)
            return
        if fault == "stall":
            body = data if span is None else data[span[0]:span[1]]
            await send(200 if span is None else 206, body,
                       {**plain, **({} if span is None else {"Content-Range": _content_range(span, len(data))})},
                       close_after=len(body) // 2)
            await asyncio.sleep(HOLD)
            return
        if span is None or fault == "ignore-range":
            await send(200, data, plain, drip=fault == "drip", with_cors=with_cors)
            return
        start, stop = span
        content_range = _content_range(span, len(data))
        body = data[start:stop]
        if fault == "range-shift":  # another range than asked, said so
            content_range = _content_range((start + 1, stop + 1), len(data))
            body = (data + b"\0")[start + 1:stop + 1]
        elif fault == "range-missing":
            content_range = None
        elif fault == "range-garbage":
            content_range = f"bytes */{len(data)}"
        elif fault == "range-whole":  # the whole value under 206, Content-Range as asked
            body = data
        elif fault == "range-whole-said":  # the whole value under 206, and says so
            body, content_range = data, _content_range((0, len(data)), len(data))
        extra = {**plain, **({"Content-Range": content_range} if content_range else {})}
        await send(206, body, extra, drip=fault == "drip", with_cors=with_cors)


def _parse_range(value: str | None, size: int) -> tuple[int, int] | None:
    """(start, stop) of a single ``bytes=`` range, clamped to SIZE; None for no/unusable Range."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", value or "")
    if not match or match[1] == match[2] == "":
        return None
    if match[1] == "":
        return max(size - int(match[2]), 0), size
    start = int(match[1])
    stop = size if match[2] == "" else min(int(match[2]) + 1, size)
    return start, stop


def _content_range(span: tuple[int, int], size: int) -> str:
    return f"bytes {span[0]}-{span[1] - 1}/{size}"

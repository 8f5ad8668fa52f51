"""A store over HTTP(S) with Range requests. The transport (how bytes are fetched) is injected:
:mod:`.http_pyodide` in the browser, :mod:`.http_httpx` on CPython, so this module stays portable.

Servers are not trusted: every key becomes a URL through :func:`key_url` (encoded, confined to
the store), and every response is checked against what was asked (status, ``Content-Range``,
body length) before its bytes are used. Transports bound every wait by :data:`TIMEOUTS`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from urllib.parse import quote, urlsplit, urlunsplit

from ..errors import ListingUnavailable, StoreError
from ..store import ByteRequest, RangeRequest, Store, SuffixRequest, completed, indexed, key_segments, slice_value
from .cloud import Bucket, cors_hint
from .listing import MAX_BODY, list_bucket, list_html, s3_redirect_endpoint


@dataclass(frozen=True)
class Timeouts:
    """How long one HTTP request may wait, in seconds."""

    first_byte: float = 20.0  # connecting and waiting for the response headers
    idle: float = 20.0  # longest pause while the body arrives (a stalled server)
    total: float = 300.0  # the whole request, body included (a server dripping bytes)


#: The defaults every HttpStore uses unless given others (the one place to change them).
TIMEOUTS = Timeouts()
#: Redirects followed per request before giving up (a redirect loop).
MAX_REDIRECTS = 10
#: A 5xx (or 429) answer is retried this many times, waiting BACKOFF, 2*BACKOFF... seconds.
RETRIES = 2
BACKOFF = 0.5

#: Documents parsed as JSON: an HTML page coming back for one of them is reported as such.
METADATA_NAMES = frozenset({"zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"})

_STATUS_MEANING = {
    401: "authentication required",
    403: "access denied",
    410: "gone (removed from the server)",
    416: "range not satisfiable (the value is shorter than requested)",
    429: "too many requests",
}


class NetworkError(StoreError):
    """A request got no answer. ``maybe_cors``: the browser refused it without saying whether
    the server was unreachable or did not allow CORS."""

    def __init__(self, message: str, maybe_cors: bool = False):
        super().__init__(message)
        self.maybe_cors = maybe_cors


@dataclass
class HttpResponse:
    """What a transport returns: status, headers (lower-case names) and the complete body."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


#: ``fetch(url, headers, timeouts) -> HttpResponse``; raises StoreError on network failure, on a
#: timeout (naming the URL and the time waited), or after MAX_REDIRECTS redirects. A transport
#: that fetches batches itself (the browser's fetch pump) also has ``fetch.many(requests,
#: timeouts)``: an async iterator of (index, HttpResponse or that request's StoreError) for
#: REQUESTS [(url, headers), ...] as they complete, bounded in concurrency, the pending ones
#: aborted when it is closed early.
Transport = Callable[[str, dict, Timeouts], Awaitable[HttpResponse]]


def key_url(base: str, key: str) -> str:
    """The URL of store KEY under the store URL BASE: each segment percent-encoded (RFC 3986;
    "/" stays the separator), a query string on BASE kept. Keys that could leave the store
    (see :func:`key_segments`) are refused with a StoreError naming the key."""
    if not key:
        return base
    segments = key_segments(key, base)
    scheme, netloc, path, query, _fragment = urlsplit(base)
    path = path.rstrip("/") + "/" + "/".join(quote(s, safe="") for s in segments)
    return urlunsplit((scheme, netloc, path, query, ""))


def _range_header(byte_range: ByteRequest) -> str | None:
    if isinstance(byte_range, RangeRequest):
        return f"bytes={byte_range.offset}-{byte_range.offset + byte_range.length - 1}"
    if isinstance(byte_range, SuffixRequest):
        return f"bytes=-{byte_range.length}"
    return None


_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


def _partial_body(url: str, byte_range: ByteRequest, response: HttpResponse) -> bytes:
    """The body of a 206, once its Content-Range and length match BYTE_RANGE."""
    what = f"GET {url} ({_range_header(byte_range)}): HTTP 206 with"
    content_range = response.headers.get("content-range")
    match = _CONTENT_RANGE.match(content_range or "")
    if match is None:
        raise StoreError(f"{what} {'no' if content_range is None else 'an unusable'} Content-Range"
                         f"{'' if content_range is None else f' {content_range!r}'}")
    start, end = int(match[1]), int(match[2])
    total = None if match[3] == "*" else int(match[3])
    if isinstance(byte_range, RangeRequest):
        last = byte_range.offset + byte_range.length - 1
        expected_end = last if total is None else min(last, total - 1)
        ok = start == byte_range.offset and end == expected_end
    elif isinstance(byte_range, SuffixRequest):
        ok = total is not None and start == max(total - byte_range.length, 0) and end == total - 1
    else:
        raise StoreError(f"GET {url}: HTTP 206 to a request without Range")
    if not ok:
        raise StoreError(f"{what} Content-Range {content_range!r}, not the range asked for")
    if len(response.body) != end - start + 1:
        raise StoreError(f"{what} a body of {len(response.body)} bytes, but Content-Range "
                         f"{content_range!r} announces {end - start + 1}")
    return response.body


def _looks_like_html(response: HttpResponse) -> bool:
    """A web page where JSON was expected (a JSON body counts as JSON whatever its Content-Type)."""
    head = response.body[:256].lstrip()
    if head.startswith(b"{"):
        return False
    content_type = response.headers.get("content-type", "").lower()
    return head.startswith(b"<") or content_type.startswith(("text/html", "application/xhtml"))


def _asks_again(response: HttpResponse) -> bool:
    """An answer asking to be asked again: later (5xx, 429), or elsewhere (an S3 bucket's 301)."""
    return response.status >= 500 or response.status in (429, 301)


def _status_error(url: str, range_header: str | None, response: HttpResponse, attempts: int) -> StoreError:
    meaning = _STATUS_MEANING.get(response.status)
    if meaning is None:
        meaning = "server error" if response.status >= 500 else "unexpected answer"
    tries = f" (after {attempts} attempts)" if attempts > 1 else ""
    asked = f" ({range_header})" if range_header else ""
    return StoreError(f"GET {url}{asked} failed: HTTP {response.status}, {meaning}{tries}")


class HttpStore(Store):
    """A store at URL. In a BUCKET (see :func:`.cloud.locate`) folders are listed with the
    bucket's listing API, elsewhere with the server's HTML directory listing if it has one."""

    can_list = False
    may_list = True

    def __init__(self, url: str, transport: Transport, timeouts: Timeouts | None = None,
                 bucket: Bucket | None = None):
        scheme, netloc, path, query, _fragment = urlsplit(url)
        self.url = urlunsplit((scheme, netloc, path.rstrip("/"), query, ""))
        self.transport = transport
        #: the transport's batch fetching (which bounds concurrency itself), if it has one
        self._many = getattr(transport, "many", None)
        self.bounded = self._many is not None
        self.timeouts = timeouts
        self.bucket = bucket
        self.listing = "listing" if bucket else "html"
        #: the bucket's URL before its region redirect was followed (see _region_moved)
        self._moved_from: str | None = None
        #: set once the server answered a Range request with the whole value (200): from then on
        #: values are requested whole and sliced here
        self.ignores_ranges = False

    def key_url(self, key: str) -> str:
        return key_url(self.url, key)

    async def get(self, key: str, byte_range: ByteRequest = None) -> bytes | None:
        url = self.key_url(key)
        if isinstance(byte_range, RangeRequest) and byte_range.length <= 0:
            return b""
        range_header = None if self.ignores_ranges else _range_header(byte_range)
        return await self._answer(key, byte_range, url, range_header)

    async def get_batch(self, requests: Sequence[tuple[str, ByteRequest]]):
        """With a batch transport, the whole batch goes to it in one call; each answer is then
        checked as :meth:`get` checks it (and retried alone if the server asks for that)."""
        if self._many is None:
            async for item in super().get_batch(requests):
                yield item
            return
        asked = []  # (index, key, byte range, url, Range header)
        for i, (key, byte_range) in enumerate(requests):
            url = self.key_url(key)
            if isinstance(byte_range, RangeRequest) and byte_range.length <= 0:
                yield i, b""
                continue
            asked.append((i, key, byte_range, url, None if self.ignores_ranges else _range_header(byte_range)))
        if not asked:
            return
        batch = [(url, {"Range": rh} if rh else {}) for *_, url, rh in asked]
        retried = []  # answers that wait and ask again: beside the others, not before them
        try:
            async with aclosing(self._many(batch, self.timeouts or TIMEOUTS)) as answers:
                async for j, response in answers:
                    i, key, byte_range, url, range_header = asked[j]
                    answer = self._answer(key, byte_range, url, range_header, response)
                    if isinstance(response, HttpResponse) and _asks_again(response):
                        retried.append(asyncio.ensure_future(indexed(i, answer)))
                    else:
                        yield i, await answer
        except BaseException:  # a failure, or the reader left: nobody waits for the retries
            for task in retried:
                task.cancel()
            await asyncio.gather(*retried, return_exceptions=True)
            raise
        async with aclosing(completed(retried)) as done:
            async for item in done:
                yield item

    async def _answer(self, key: str, byte_range: ByteRequest, url: str, range_header: str | None,
                      first: HttpResponse | StoreError | None = None) -> bytes | None:
        """The value for KEY from the answer to its request (FIRST, when a batch fetched it)."""
        response, attempts = await self._fetch(url, {"Range": range_header} if range_header else {}, first)
        if response.status == 404:
            return None
        if response.status == 206 and range_header:
            return _partial_body(url, byte_range, response)
        if response.status == 206:
            raise StoreError(f"GET {url}: HTTP 206 (a partial value) to a request without Range")
        if response.status != 200:
            raise self._private(_status_error(url, range_header, response, attempts), response)
        if key.rsplit("/", 1)[-1] in METADATA_NAMES and _looks_like_html(response):
            raise StoreError(f"GET {url}: an HTML page came back (HTTP 200) instead of Zarr "
                             f"metadata JSON -- the server probably answers missing files "
                             f"with a web page")
        if range_header:  # the server ignores Range: stop asking, cut ranges out ourselves
            self.ignores_ranges = True
        return slice_value(response.body, byte_range)

    async def _fetch(self, url: str, headers: dict,
                     first: HttpResponse | StoreError | None = None) -> tuple[HttpResponse, int]:
        """One request, retried with backoff while the server answers 5xx or 429. FIRST is the
        first answer when it was already fetched (in a batch)."""
        timeouts = self.timeouts or TIMEOUTS
        attempts = 1
        try:
            if isinstance(first, StoreError):
                raise first
            response = first if first is not None else await self.transport(url, headers, timeouts)
        except NetworkError as e:
            if e.maybe_cors and self.bucket is not None:
                raise StoreError(f"{e}. {cors_hint(self.bucket.api)}") from e
            raise
        while (response.status >= 500 or response.status == 429) and attempts <= RETRIES:
            await asyncio.sleep(BACKOFF * 2 ** (attempts - 1))
            attempts += 1
            response = await self.transport(url, headers, timeouts)
        moved = self._region_moved(url, response)
        if moved is not None:
            return await self._fetch(moved, headers)
        return response, attempts

    def _region_moved(self, url: str, response: HttpResponse) -> str | None:
        """An S3 bucket asked at the wrong region's endpoint answers 301 naming its own
        (``<Endpoint>``): point the store there (once; requests sent meanwhile follow) and
        return URL's new address."""
        bucket = self.bucket
        if response.status != 301 or bucket is None or bucket.api != "s3":
            return None
        if self._moved_from is not None:
            old = self._moved_from
            return bucket.list_url + url[len(old):] if url.startswith(old) else None
        host = s3_redirect_endpoint(response.body)
        if host is None or not url.startswith(bucket.list_url):
            return None
        scheme, netloc, path, _query, _fragment = urlsplit(bucket.list_url)
        name = path.strip("/") or netloc.split(".", 1)[0]
        root = f"{scheme}://{host}" if host.startswith(f"{name}.") else f"{scheme}://{host}/{name}"
        self._moved_from = bucket.list_url
        self.url = root + self.url[len(bucket.list_url):]
        self.bucket = replace(bucket, list_url=root)
        return root + url[len(bucket.list_url):]

    def _private(self, error: StoreError, response: HttpResponse) -> StoreError:
        """A bucket refusing an anonymous read: say what would open it."""
        if self.bucket is None or response.status not in (401, 403):
            return error
        return StoreError(f"{error} -- the bucket is not public: reading it needs credentials "
                          f"(pip install 'pyzarr-web[cloud]' and the AWS_/GOOGLE_/AZURE_ "
                          f"variables) or a public URL")

    async def list_dir(self, prefix: str) -> tuple[list[str], list[str]]:
        if self.bucket is not None:
            return await list_bucket(self._listing_page, self.bucket, prefix)
        folder = key_url(self.url, prefix.rstrip("/")) if prefix else self.url
        if urlsplit(folder).query:
            raise ListingUnavailable(f"{folder}: a URL with a query cannot be listed")
        files, dirs = await list_html(self._listing_page, folder + "/")
        if not prefix and not METADATA_NAMES & set(files):  # an index page, not a listing
            raise ListingUnavailable(f"GET {folder}/: a web page without the store's metadata "
                                     f"files, not a directory listing")
        return files, dirs

    async def _listing_page(self, url: str) -> bytes:
        response, attempts = await self._fetch(url, {})
        if response.status in (401, 403, 404, 405, 501):
            kind = "bucket listing" if self.bucket else "directory listing"
            raise ListingUnavailable(f"GET {url}: no {kind} (HTTP {response.status}, "
                                     f"{_STATUS_MEANING.get(response.status, 'not available')})")
        if response.status != 200:
            raise _status_error(url, None, response, attempts)
        if len(response.body) > MAX_BODY:
            raise StoreError(f"GET {url}: a listing page of {len(response.body)} bytes "
                             f"(more than {MAX_BODY})")
        if self.bucket is None and not _looks_like_html(response):
            raise ListingUnavailable(f"GET {url}: not an HTML directory listing")
        return response.body

    def describe(self) -> str:
        return self.url

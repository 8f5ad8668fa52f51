"""The store interface: async get of a whole value or a byte range, optional listing.

Modelled on zarr-python 3's Store, reduced to what a reader needs. ``None`` means "missing key"
(the chunk is then filled with the fill value); every other failure raises :class:`StoreError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from urllib.parse import unquote

from .errors import StoreError


@dataclass(frozen=True)
class RangeRequest:
    """``length`` bytes starting at ``offset``."""

    offset: int
    length: int


@dataclass(frozen=True)
class SuffixRequest:
    """The last ``length`` bytes (how a shard index at the end is read without knowing the size)."""

    length: int


ByteRequest = RangeRequest | SuffixRequest | None

#: largest offset or length a file or zip member can be read at (a signed 64-bit seek)
MAX_OFFSET = 2**63 - 1


def check_range(byte_range: ByteRequest, where: str) -> None:
    """Refuse a byte request no file can satisfy (negative, or past a 64-bit seek) with a
    StoreError naming ``where``, instead of an OverflowError from ``seek``."""
    if byte_range is None:
        return
    offset = getattr(byte_range, "offset", 0)
    if not (offset >= 0 and byte_range.length >= 0 and offset + byte_range.length <= MAX_OFFSET):
        raise StoreError(f"{where}: byte range {byte_range} is out of bounds")


def slice_value(data: bytes, byte_range: ByteRequest) -> bytes:
    """Apply a byte request to a whole value (for stores that hold values in full)."""
    if byte_range is None:
        return data
    if isinstance(byte_range, SuffixRequest):
        return data[max(len(data) - byte_range.length, 0):]
    return data[byte_range.offset:byte_range.offset + byte_range.length]


def key_segments(key: str, where: str) -> list[str]:
    """The "/"-separated segments of a store KEY, after checking that the key cannot leave the
    store's root: not absolute, no empty, "." or ".." segment (nor "." or ".." between
    backslashes, which some servers treat as separators), no NUL -- neither as written nor once
    percent-decoded, since a server or a later hop may decode it. WHERE names the store in the
    StoreError."""
    forms = [key]
    while (decoded := unquote(forms[-1])) != forms[-1]:  # nested encodings too: %252E -> %2E -> .
        forms.append(decoded)
    for form in forms:
        if form.startswith(("/", "\\")):
            problem = "is absolute"
        elif "\0" in form:
            problem = "contains a NUL character"
        elif any(part in (".", "..") for part in form.replace("\\", "/").split("/")):
            problem = 'has a "." or ".." segment'
        elif "" in form.split("/"):
            problem = "has an empty segment"
        else:
            continue
        decoded_note = "" if form == key else f" once percent-decoded ({form!r})"
        raise StoreError(f"{where}: refusing key {key!r}: it {problem}{decoded_note}, "
                         f"and could reach outside the store")
    return key.split("/")


class Once:
    """An async value computed on first use and shared by the callers that ask meanwhile (a
    virtual store's references, a repository's snapshot); computed again after a failure, since
    the file may come back. ``value`` is None until it is known."""

    def __init__(self, make):
        self._make = make
        self._task: asyncio.Future | None = None
        self.value = None

    async def __call__(self):
        if self.value is None:
            if self._task is None or self._task.get_loop() is not asyncio.get_running_loop():
                self._task = asyncio.ensure_future(self._make())
            try:
                self.value = await asyncio.shield(self._task)
            except BaseException:
                if self._task.done():
                    self._task = None
                raise
        return self.value


async def indexed(index: int, value: Awaitable):
    """(INDEX, the awaited VALUE): which of several awaited things this result is."""
    return index, await value


async def completed(awaitables: Sequence[Awaitable]) -> AsyncIterator:
    """The results of AWAITABLES, run concurrently, as each completes; the first failure is
    raised, and leaving early cancels the rest (and waits until they have stopped)."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        for done in asyncio.as_completed(tasks):
            yield await done
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # a second failure is not news


class Store:
    """Base class: subclasses implement :meth:`get` and, if they can, :meth:`list_dir`."""

    can_list = False
    #: True when listing may work but has to be tried (a web server, a bucket): discovery falls
    #: back to following metadata when :meth:`list_dir` raises ListingUnavailable
    may_list = False
    #: how :meth:`list_dir` lists, for people: "listing" (a file system, an archive, a bucket's
    #: listing API) or "html" (a web server's directory listing)
    listing = "listing"
    #: True when the store's own fetches are already bounded in concurrency below it (virtual
    #: stores): :func:`~pyzarr_web.core.wrap` then does not bound it again
    bounded = False

    async def get(self, key: str, byte_range: ByteRequest = None) -> bytes | None:
        raise NotImplementedError

    async def get_ranges(self, key: str, ranges: Sequence[ByteRequest]) -> list[bytes | None]:
        """Several ranges of one key, as one batch (which a coalescing store merges)."""
        out: list[bytes | None] = [None] * len(ranges)
        async with aclosing(self.get_batch([(key, r) for r in ranges])) as batch:
            async for i, value in batch:
                out[i] = value
        return out

    async def get_batch(self, requests: Sequence[tuple[str, ByteRequest]]) -> AsyncIterator[tuple[int, bytes | None]]:
        """The values of REQUESTS [(key, byte range), ...], yielded as (index, value) as each
        arrives, so that a reader decodes one while others are on their way. The first failure
        is raised; closing the iterator early (a cancelled read) cancels what is still pending.
        Stores that fetch a batch better than one request at a time override this (HTTP hands
        the whole batch to the browser in one call)."""
        async with aclosing(completed([indexed(i, self.get(key, r)) for i, (key, r) in enumerate(requests)])) as done:
            async for item in done:
                yield item

    async def list_dir(self, prefix: str) -> tuple[list[str], list[str]]:
        """(keys, child prefixes) directly under ``prefix`` ("" or ending in "/")."""
        raise NotImplementedError(f"{type(self).__name__} cannot list keys")

    async def sizes(self, prefix: str) -> dict[str, int]:
        """Stored size in bytes of every key under ``prefix`` ("" or ending in "/"), at any
        depth, without reading the values. Stores that can list implement it."""
        raise NotImplementedError(f"{type(self).__name__} cannot list keys")

    def describe(self) -> str:
        """Where the store points, for messages."""
        return type(self).__name__

    def info(self) -> dict:
        """What kind of store this is, for people and ``tree --json``: ``kind`` ("zarr",
        "kerchunk", "icechunk"), and for versioned stores the ``ref`` and ``snapshot`` read."""
        return {"kind": "zarr", "ref": None, "snapshot": None}

    async def chunk_files(self, prefix: str) -> dict[str, tuple[int, int]] | None:
        """For a virtual store, where the chunks under ``prefix`` live: each file's URL ->
        (chunks, bytes referenced). None for stores that hold their chunks themselves."""
        return None


class WrapperStore(Store):
    """A store around another; delegates everything it does not override. ``get_ranges`` and
    ``get_batch`` go through this wrapper's own ``get`` unless a wrapper overrides them (to
    coalesce, or to hand a batch on whole)."""

    def __init__(self, inner: Store):
        self.inner = inner
        self.can_list = inner.can_list
        self.may_list = inner.may_list
        self.listing = inner.listing
        self.bounded = inner.bounded

    async def get(self, key: str, byte_range: ByteRequest = None) -> bytes | None:
        return await self.inner.get(key, byte_range)

    async def list_dir(self, prefix: str) -> tuple[list[str], list[str]]:
        return await self.inner.list_dir(prefix)

    async def sizes(self, prefix: str) -> dict[str, int]:
        return await self.inner.sizes(prefix)

    def describe(self) -> str:
        return self.inner.describe()

    def info(self) -> dict:
        return self.inner.info()

    async def chunk_files(self, prefix: str) -> dict[str, tuple[int, int]] | None:
        return await self.inner.chunk_files(prefix)


def base_store(store: Store) -> Store:
    """The store under every wrapper (e.g. an IcechunkStore, for its history and refs)."""
    while isinstance(store, WrapperStore):
        store = store.inner
    return store


def split_listing(keys, prefix: str) -> tuple[list[str], list[str]]:
    """Direct children of ``prefix`` among flat ``keys``: (leaf names, sub-prefix names)."""
    leaves, dirs = set(), set()
    for k in keys:
        if not k.startswith(prefix):
            continue
        head, sep, _ = k[len(prefix):].partition("/")
        (dirs if sep else leaves).add(head)
    return sorted(leaves), sorted(dirs)

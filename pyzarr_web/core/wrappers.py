"""Store wrappers composed around any store: bounded concurrency, a byte-budgeted LRU cache,
coalescing of nearby ranges of one key, and batching of ranges asked for separately at the same
moment. Each does one thing; :func:`open_store` stacks them.
:class:`FetchCounter` counts what one array's reads received (for an estimated compression ratio).
:class:`TrafficCounter` counts what reaches the transport (requests and bytes a view costs).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import aclosing

from .store import ByteRequest, RangeRequest, Store, WrapperStore


class LimitedStore(WrapperStore):
    """At most ``limit`` fetches in flight (browsers queue beyond ~6 per host anyway)."""

    def __init__(self, inner: Store, limit: int = 6):
        super().__init__(inner)
        self.limit = limit
        self._semaphores: dict[int, asyncio.Semaphore] = {}

    def _semaphore(self) -> asyncio.Semaphore:
        loop_id = id(asyncio.get_running_loop())  # a semaphore is bound to one event loop
        sem = self._semaphores.get(loop_id)
        if sem is None:
            sem = self._semaphores[loop_id] = asyncio.Semaphore(self.limit)
        return sem

    async def get(self, key: str, byte_range: ByteRequest = None) -> bytes | None:
        async with self._semaphore():
            return await self.inner.get(key, byte_range)


class _Flight:
    """One fetch in progress (a task, or a future a batch's task resolves) and how many
    callers wait for it."""

    def __init__(self, task: asyncio.Future, batch: tuple | None = None):
        self.task = task
        self.waiters = 0
        #: (task, futures) of the batch that fetches it, if one does
        self.batch = batch


class CachedStore(WrapperStore):
    """LRU cache of values and ranges (missing keys too), bounded by total bytes held.

    Identical requests made while one is in flight share it (two views asking for the same
    chunk fetch it once). The shared fetch is cancelled only when every caller waiting for it
    has been cancelled."""

    def __init__(self, inner: Store, max_bytes: int = 64 << 20):
        super().__init__(inner)
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._entries: OrderedDict[tuple[str, ByteRequest], bytes | None] = OrderedDict()
        self._inflight: dict[tuple[str, ByteRequest], _Flight] = {}

    async def get(self, key: str, byte_range: ByteRequest = None) -> bytes | None:
        entry = (key, byte_range)
        if entry in self._entries:
            self._entries.move_to_end(entry)
            return self._entries[entry]
        flight = self._inflight.get(entry)
        if flight is None or flight.task.get_loop() is not asyncio.get_running_loop():
            flight = self._inflight[entry] = _Flight(asyncio.ensure_future(self._fetch(entry)))
            flight.task.add_done_callback(lambda task: self._done(entry, flight))
        flight.waiters += 1
        try:
            return await asyncio.shield(flight.task)
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():  # nobody waits any more
                self._land(entry, flight)
                flight.task.cancel()

    async def get_batch(self, requests: Sequence[tuple[str, ByteRequest]]):
        """Cached values at once; values another caller is fetching shared; the rest fetched
        below in one batch, each shared with later askers from the moment it is asked."""
        loop = asyncio.get_running_loop()
        hits, wanted = [], {}
        for i, entry in enumerate(map(tuple, requests)):
            if entry in self._entries:
                self._entries.move_to_end(entry)
                hits.append((i, self._entries[entry]))
            else:
                wanted.setdefault(entry, []).append(i)
        fresh = [entry for entry in wanted if entry not in self._inflight
                 or self._inflight[entry].task.get_loop() is not loop]
        if fresh:
            self._start_batch(fresh)
        left = {self._inflight[entry]: (entry, indexes) for entry, indexes in wanted.items()}
        for flight in left:
            flight.waiters += 1
        try:
            for item in hits:
                yield item
            while left:
                done, _ = await asyncio.wait([f.task for f in left], return_when=asyncio.FIRST_COMPLETED)
                for flight in [f for f in left if f.task in done]:
                    _, indexes = left.pop(flight)
                    flight.waiters -= 1
                    value = flight.task.result()
                    for i in indexes:
                        yield i, value
        finally:
            given_up = {}
            for flight, (entry, _) in left.items():
                flight.waiters -= 1
                if flight.waiters == 0 and not flight.task.done():  # nobody waits any more
                    self._land(entry, flight)
                    flight.task.cancel()
                    if flight.batch is not None:
                        given_up[flight.batch[0]] = flight.batch
            stopped = [task for task, futures in given_up.values() if _abandon_batch(task, futures)]
            if stopped:  # a cancelled read returns once its requests are cancelled too
                await asyncio.wait(stopped)

    def _start_batch(self, entries: list) -> None:
        """One batch below for ENTRIES, each in flight as a future of its own."""
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in entries]
        task = asyncio.ensure_future(self._fetch_batch(entries, futures))
        for entry, future in zip(entries, futures):
            flight = self._inflight[entry] = _Flight(future, (task, futures))
            future.add_done_callback(lambda _, entry=entry, flight=flight: self._done(entry, flight))
            future.add_done_callback(lambda _: _abandon_batch(task, futures))

    async def _fetch_batch(self, entries: list, futures: list[asyncio.Future]) -> None:
        try:
            async with aclosing(self.inner.get_batch(entries)) as batch:
                async for i, value in batch:
                    self._put(entries[i], value)
                    if not futures[i].done():
                        futures[i].set_result(value)
        except asyncio.CancelledError:
            for future in futures:
                future.cancel()
            raise
        except Exception as e:  # handed to every waiter
            for future in futures:
                if not future.done():
                    future.set_exception(e)

    async def _fetch(self, entry) -> bytes | None:
        value = await self.inner.get(*entry)
        self._put(entry, value)
        return value

    def _done(self, entry, flight: _Flight) -> None:
        self._land(entry, flight)
        if not flight.task.cancelled():
            flight.task.exception()  # seen by its waiters; if they all just left, not an error

    def _land(self, entry, flight: _Flight) -> None:
        if self._inflight.get(entry) is flight:
            del self._inflight[entry]

    def _put(self, entry, value: bytes | None) -> None:
        size = len(value) if value else 0
        if size > self.max_bytes:
            return
        if entry in self._entries:
            return  # a concurrent fetch of the same entry got here first
        self._entries[entry] = value
        self.nbytes += size
        while self.nbytes > self.max_bytes:
            _, old = self._entries.popitem(last=False)
            self.nbytes -= len(old) if old else 0


class CoalescingStore(WrapperStore):
    """Merges ranges of one key, asked for in one batch (or :meth:`get_ranges`), that overlap or
    lie within ``max_gap`` bytes of each other into one request (capped at ``max_size``), then
    cuts the answers back out as each merged request arrives."""

    def __init__(self, inner: Store, max_gap: int = 0, max_size: int = 32 << 20):
        super().__init__(inner)
        self.max_gap = max_gap
        self.max_size = max_size

    async def get_batch(self, requests: Sequence[tuple[str, ByteRequest]]):
        merged: list[tuple[str, ByteRequest]] = []
        parts: list[list[tuple[int, int | None, int | None]]] = []  # (index, start, end) in each
        ranges: dict[str, list[tuple[int, int, int]]] = {}
        for i, (key, r) in enumerate(requests):
            if isinstance(r, RangeRequest):
                ranges.setdefault(key, []).append((r.offset, r.offset + r.length, i))
            else:
                merged.append((key, r))
                parts.append([(i, None, None)])
        for key, items in ranges.items():
            for group in self._groups(sorted(items)):
                start = group[0][0]
                merged.append((key, RangeRequest(start, max(e for _, e, _ in group) - start)))
                parts.append([(i, s - start, e - start) for s, e, i in group])
        async with aclosing(self.inner.get_batch(merged)) as batch:
            async for j, data in batch:
                for i, s, e in parts[j]:
                    yield i, data if data is None or s is None else data[s:e]

    def _groups(self, items: list[tuple[int, int, int]]) -> list[list[tuple[int, int, int]]]:
        """Sorted (start, end, index) ranges in runs to fetch as one request each."""
        groups: list[list[tuple[int, int, int]]] = []
        for item in items:
            if groups:
                start, end = groups[-1][0][0], max(e for _, e, _ in groups[-1])
                if item[0] <= end + self.max_gap and max(end, item[1]) - start <= self.max_size:
                    groups[-1].append(item)
                    continue
            groups.append([item])
        return groups


class BatchingStore(WrapperStore):
    """Gathers the ranges of one key that separate callers ask for at the same moment (the
    chunks of one read, each fetched by its own task) into one ``get_ranges`` call, so that a
    coalescing store below can merge them: virtual stores point many chunk keys into one file.

    A batch closes once the event loop has gone a full turn without a new request; its fetch is
    cancelled when every caller waiting for it has been cancelled."""

    def __init__(self, inner: Store):
        super().__init__(inner)
        self._pending: dict[str, list[tuple[ByteRequest, asyncio.Future]]] = {}
        self._flusher: asyncio.Task | None = None

    async def get(self, key: str, byte_range: ByteRequest = None) -> bytes | None:
        if not isinstance(byte_range, RangeRequest):
            return await self.inner.get(key, byte_range)
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.setdefault(key, []).append((byte_range, future))
        if self._flusher is None or self._flusher.done() or self._flusher.get_loop() is not loop:
            self._flusher = asyncio.ensure_future(self._flush())
        return await future

    async def _flush(self) -> None:
        count = -1
        while count != (count := sum(map(len, self._pending.values()))):
            await asyncio.sleep(0)  # let every task started with this one ask first
        batches, self._pending = self._pending, {}
        self._flusher = None
        for key, items in batches.items():
            task = asyncio.ensure_future(self.inner.get_ranges(key, [r for r, _ in items]))
            task.add_done_callback(lambda t, items=items: _settle(t, items))
            futures = [future for _, future in items]  # settled only once the fetch has ended
            for future in futures:
                future.add_done_callback(lambda f, task=task, futures=futures: _abandon_batch(task, futures))


def _abandon_batch(task: asyncio.Task, futures: list[asyncio.Future]) -> bool:
    """Cancel a batch's fetch (aborting its pending requests) once every value it was fetching
    has landed or been given up by all its callers, and some were given up. True if cancelled."""
    if not task.done() and all(f.done() for f in futures) and any(f.cancelled() for f in futures):
        task.cancel()
        return True
    return False


def _settle(task: asyncio.Task, items) -> None:
    """Hand each waiter its range of a finished batch (or the batch's error)."""
    if task.cancelled():
        return
    error = task.exception()
    answers = [None] * len(items) if error else task.result()
    for (_, future), answer in zip(items, answers):
        if not future.done():
            future.set_exception(error) if error else future.set_result(answer)


class FetchCounter(WrapperStore):
    """Counts what one array's reads receive: the bytes of each distinct (key, range) request
    once, and how many of those requests were chunks — all but those ``is_index`` says are
    shard indexes. Missing keys count nothing. (:class:`~.array.ZarrArray` keeps one.)"""

    def __init__(self, inner: Store, is_index: Callable[[str, ByteRequest], bool] | None = None):
        super().__init__(inner)
        self.is_index = is_index or (lambda key, byte_range: False)
        self.bytes = 0
        self.chunks = 0
        self._seen: set[tuple[str, ByteRequest]] = set()

    def _count(self, key: str, byte_range: ByteRequest, data: bytes | None) -> None:
        if data is None or (key, byte_range) in self._seen:
            return
        self._seen.add((key, byte_range))
        self.bytes += len(data)
        if not self.is_index(key, byte_range):
            self.chunks += 1

    async def get(self, key: str, byte_range: ByteRequest = None) -> bytes | None:
        data = await self.inner.get(key, byte_range)
        self._count(key, byte_range, data)
        return data

    async def get_batch(self, requests: Sequence[tuple[str, ByteRequest]]):
        async with aclosing(self.inner.get_batch(requests)) as batch:  # keep the inner batching
            async for i, data in batch:
                self._count(*requests[i], data)
                yield i, data


class TrafficCounter(WrapperStore):
    """Counts the requests that reach the store below and the bytes they return: placed right
    above the transport, it measures the network traffic a view causes (the explorer's
    ``io`` figures); :meth:`reset` starts a new count."""

    def __init__(self, inner: Store):
        super().__init__(inner)
        self.requests = 0
        self.bytes = 0

    def reset(self) -> None:
        self.requests = self.bytes = 0

    async def get(self, key: str, byte_range: ByteRequest = None) -> bytes | None:
        self.requests += 1
        data = await self.inner.get(key, byte_range)
        self.bytes += len(data) if data is not None else 0
        return data

    async def get_batch(self, requests: Sequence[tuple[str, ByteRequest]]):
        self.requests += len(requests)
        async with aclosing(self.inner.get_batch(requests)) as batch:
            async for i, data in batch:
                self.bytes += len(data) if data is not None else 0
                yield i, data

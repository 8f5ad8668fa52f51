"""Reading what the view shows: one cancellable load at a time, planes kept and read ahead.

The explorer hands every change of view state to :meth:`Loader.run`; starting a load cancels the
one it supersedes, so dragging a slider never queues a backlog of stale reads. Planes are read
through a :class:`PlaneCache`, which shares a read-ahead still in flight with the view that then
asks for it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

import numpy as np

from pyzarr_web.ui.planes import PlaneCache
from pyzarr_web.ui.slicing import ViewSpec, stride_for

MAX_DISPLAY_POINTS = 1024  # per axis: larger planes are strided for display
FULL_READ_BYTES = 64 * 2**20  # planes up to this size are read whole (statistics are exact)
READ_BUDGET_BYTES = 256 * 2**20  # nothing larger is ever read
PLANE_CACHE_BYTES = 160 * 2**20  # decoded planes kept for going back and forth, and read ahead
PROGRESS_INTERVAL_S = 0.1

Progress = Callable[[int, int], None]


def read_strides(spec: ViewSpec, itemsize: int) -> dict[int, int]:
    """Read whole planes that fit FULL_READ_BYTES (exact statistics), else stride while reading
    so that a view never reads more than it can show."""
    if math.prod(spec.extent(d) for d in spec.displayed) * itemsize <= FULL_READ_BYTES:
        return {}
    return {d: stride_for(spec.extent(d), MAX_DISPLAY_POINTS) for d in spec.displayed}


class Loader:
    def __init__(self) -> None:
        self._task: asyncio.Task | None = None
        self._planes = PlaneCache(PLANE_CACHE_BYTES)

    # ------------------------------------------------------------ scheduling
    def run(self, load: Callable[[], Awaitable[None]]) -> asyncio.Task:
        """Run LOAD() as the one current load, cancelling whatever load it supersedes."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = asyncio.ensure_future(load())
        return self._task

    @property
    def current(self) -> asyncio.Task | None:
        return self._task

    async def when_idle(self) -> None:
        """Wait until no load is running (for tests and the page's JS API)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait([self._task])

    # ---------------------------------------------------------------- planes
    @staticmethod
    def _key(arr, spec: ViewSpec, strides: dict[int, int]) -> tuple:
        return arr.path, spec.text(), tuple(spec.displayed), tuple(sorted(strides.items()))

    async def plane(self, arr, spec: ViewSpec, strides: dict[int, int], progress: Progress) -> np.ndarray:
        """The selection SPEC of ARR, thinned by STRIDES: from the cache, a read ahead in flight, or
        a new read. Reads of any other view still pending are cancelled."""
        key = self._key(arr, spec, strides)
        self._planes.cancel_pending(keep={key})
        # shielded: a superseded view must not cancel a read another view now shares; reads
        # nobody wants any more are cancelled by cancel_pending above
        return await asyncio.shield(self._planes.task(key, lambda: arr.read(
            spec.selection(strides), progress=progress, budget_bytes=READ_BUDGET_BYTES)))

    def read_ahead(self, arr, spec: ViewSpec, strides: dict[int, int], move: tuple[int, int] | None) -> None:
        """Start reading the plane the slider will most likely show next: MOVE is the (dimension,
        direction) of the last slider move, and the next plane is one more step that way."""
        if move is None or move[0] in spec.displayed:
            return
        dim, step = move
        index = spec.indices[dim] + step
        if not 0 <= index < spec.shape[dim]:
            return
        ahead = spec.with_index(dim, index)
        self._planes.task(self._key(arr, ahead, strides),
                          lambda: arr.read(ahead.selection(strides), budget_bytes=READ_BUDGET_BYTES))

    def pending_reads(self) -> list[tuple]:
        """Keys of the planes cached or being read (for tests)."""
        return list(self._planes._tasks)

    def forget(self) -> None:
        """Drop every cached plane and cancel pending reads (another store was opened)."""
        self._planes.clear()


class ProgressThrottle:
    """Calls SHOW(done, total) at most every PROGRESS_INTERVAL_S, first once a read has taken that
    long, and for the last chunk only if anything was shown: each call patches the page, and a
    read that finishes at once (a slider step) needs no progress at all."""

    def __init__(self, show: Progress) -> None:
        self._show = show
        self._shown_at = time.perf_counter()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if (done < total or not self.shown) and now - self._shown_at < PROGRESS_INTERVAL_S:
            return
        self._shown_at, self.shown = now, True
        self._show(done, total)

"""Decoded planes (and the tiles of deep zoom) kept for a moment, and read ahead of the slider.

Each entry is the asyncio task reading a plane, so a read-ahead still in flight is shared by the
view that then asks for it. Finished planes are kept within a byte budget, least recently used
first out; a read nobody waits for any more is cancelled rather than left to compete for the
worker's single thread.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Hashable

import numpy as np


class PlaneCache:
    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self._tasks: OrderedDict[Hashable, asyncio.Task] = OrderedDict()

    def has(self, key: Hashable) -> bool:
        """Whether KEY is read or being read (a failed or cancelled read does not count)."""
        task = self._tasks.get(key)
        return task is not None and not task.cancelled() and not (task.done() and task.exception() is not None)

    def task(self, key: Hashable, start: Callable[[], Awaitable[np.ndarray]]) -> asyncio.Task:
        """The task reading KEY: the cached or in-flight one, else a new one from START()."""
        if not self.has(key):
            task = asyncio.ensure_future(start())
            self._tasks[key] = task
            task.add_done_callback(lambda _t: self._evict())
        self._tasks.move_to_end(key)
        return self._tasks[key]

    def cancel_pending(self, keep: Collection[Hashable] = ()) -> None:
        """Cancel unfinished reads other than those of KEEP (what the user wants now)."""
        for key, task in list(self._tasks.items()):
            if key not in keep and not task.done():
                task.cancel()
                del self._tasks[key]

    def clear(self) -> None:
        self.cancel_pending()
        self._tasks.clear()

    def ready(self, key: Hashable) -> np.ndarray | None:
        """The value of KEY if it is read and kept, else None."""
        task = self._tasks.get(key)
        if task is None or not task.done() or task.cancelled() or task.exception() is not None:
            return None
        self._tasks.move_to_end(key)
        return task.result()

    def _evict(self) -> None:
        def size(task: asyncio.Task) -> int:
            ok = task.done() and not task.cancelled() and task.exception() is None
            return task.result().nbytes if ok else 0

        total = sum(size(t) for t in self._tasks.values())
        for key in list(self._tasks):
            if total <= self.budget_bytes:
                break
            if self._tasks[key].done():
                total -= size(self._tasks.pop(key))

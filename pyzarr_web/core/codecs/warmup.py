"""Codecs ready before they are needed.

Decoders import their native modules on first use; in the browser the first ``import blosc2``
(download, unpack, import) costs about a second, which the first chunk read would pay. Once a
store's metadata is known, :func:`warm` imports the modules its arrays' codecs use while the app
is idle, so that the first read does not wait for them.

The import itself is synchronous (in Pyodide it blocks the worker's one thread), so :func:`warm`
runs each import only when ``busy()`` says no load is running. A download step that does not
block (the browser's lazy packages) can be plugged in with :func:`set_installer`; it too waits for
no load to run: a read importing the module meanwhile would download it a second time.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import weakref
from collections.abc import Awaitable, Callable, Iterable

from .backends import get_backend
from .compressors import Compressor

#: the codecs most stores use, warmed once the app is idle after startup
USUAL = ("blosc", "zstd")
#: pause before each import, repeated while a load runs (a click that just arrived goes first)
IDLE_SECONDS = 0.1

Installer = Callable[[list[str]], Awaitable[None]]
_installer: Installer | None = None
#: one warm-up at a time per event loop: a second one finds the work done
_locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_running: set[asyncio.Task] = set()  # the event loop keeps only weak references to tasks


def set_installer(installer: Installer | None) -> None:
    """Fetch what importing these modules needs, without blocking (the browser's lazy packages)."""
    global _installer
    _installer = installer


def codec_ids(nodes: Iterable) -> list[str]:
    """Ids of the compressors the arrays among these hierarchy nodes decode with."""
    out: dict[str, None] = {}
    for node in nodes:
        if node.metadata is not None:
            out.update((c.method, None) for c in node.metadata.pipeline.walk()
                       if isinstance(c, Compressor))
    return list(out)


def modules_for(ids: Iterable[str]) -> list[str]:
    """The modules these codecs' decoders import on first use that are not imported yet."""
    return [m for m in get_backend().modules_for(ids) if m not in sys.modules]


async def _until_idle(busy: Callable[[], bool]) -> None:
    while True:
        await asyncio.sleep(IDLE_SECONDS)
        if not busy():
            return


async def warm(ids: Iterable[str], busy: Callable[[], bool] = lambda: False) -> list[str]:
    """Download (through the installer) and import the modules the codecs ``ids`` decode with,
    each step after a pause of :data:`IDLE_SECONDS` in which ``busy()`` turned false (a load
    that needs a module meanwhile imports it itself). Returns the modules imported. A module that
    fails to install or import is left for the read that needs it to report."""
    ids = list(ids)
    done = []
    lock = _locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock:
        await _until_idle(busy)
        modules = modules_for(ids)
        if modules and _installer is not None:
            try:
                await _installer(modules)
            except Exception:  # noqa: BLE001 -- the read that needs them reports it
                return done
        for module in modules:
            await _until_idle(busy)
            if module in sys.modules:  # a read imported it meanwhile
                continue
            try:
                importlib.import_module(module)
            except Exception:  # noqa: BLE001 -- the read that needs it reports it
                continue
            done.append(module)
    return done


def warm_later(ids: Iterable[str], busy: Callable[[], bool] = lambda: False) -> asyncio.Task | None:
    """:func:`warm` in the background (None when there is nothing to import)."""
    ids = list(ids)
    if not modules_for(ids):
        return None
    task = asyncio.ensure_future(warm(ids, busy))
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task

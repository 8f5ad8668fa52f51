"""Deep zoom: a viewport and a level → the chunks to read, best first, and the picture they make.

A *viewport* is ``(x0, x1, y0, y1)`` in full-resolution samples of the displayed (column, row)
dimensions, ends exclusive. At a level it covers a *window* of that level's samples; the tiles
are the level's chunks (inner chunks, for shards) that intersect it, so a view reads exactly the
chunks on screen. Decoded tiles live in a byte-budgeted cache shared by all levels; a tile read
that left the view is cancelled, a tile kept makes going back instant.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pyzarr_web.ui.planes import PlaneCache
from pyzarr_web.ui.pyramid import Pyramid

Viewport = tuple[float, float, float, float]
Span = tuple[int, int]

#: most tiles one view reads; a view needing more is shown as a strided overview instead
MAX_VIEW_TILES = 2048
#: most decoded bytes one view's tiles may take (a pyramid's level in view takes ~10 MB)
MAX_VIEW_BYTES = 64 * 2**20


def clamp_viewport(viewport: Viewport, height: int, width: int) -> Viewport | None:
    """VIEWPORT cut to the image (HEIGHT × WIDTH samples), or None when it lies outside it."""
    x0, x1, y0, y1 = viewport
    x0, x1 = max(0.0, min(x0, x1)), min(float(width), max(x0, x1))
    y0, y1 = max(0.0, min(y0, y1)), min(float(height), max(y0, y1))
    return (x0, x1, y0, y1) if x1 > x0 and y1 > y0 else None


def window_of(viewport: Viewport, factors: tuple[float, float], shape: tuple[int, int]) -> tuple[Span, Span]:
    """The (rows, columns) of a level with FACTORS (full-resolution samples per level sample,
    along y and x) and SHAPE that the clamped VIEWPORT covers, at least one sample each way."""
    x0, x1, y0, y1 = viewport

    def span(lo: float, hi: float, factor: float, n: int) -> Span:
        start = min(int(math.floor(lo / factor)), n - 1)
        return start, max(start + 1, min(n, int(math.ceil(hi / factor - 1e-9))))

    return span(y0, y1, factors[0], shape[0]), span(x0, x1, factors[1], shape[1])


def tiles_in(window: tuple[Span, Span], chunks: tuple[int, int]) -> list[tuple[int, int]]:
    """Chunk coordinates (row, column) that intersect WINDOW, nearest the centre first: they
    are read in this order, so the middle of the screen fills in first."""
    (r0, r1), (c0, c1) = window
    rows = range(r0 // chunks[0], (r1 - 1) // chunks[0] + 1)
    cols = range(c0 // chunks[1], (c1 - 1) // chunks[1] + 1)
    mid_r, mid_c = (r0 + r1) / 2 / chunks[0] - 0.5, (c0 + c1) / 2 / chunks[1] - 0.5
    return sorted(((r, c) for r in rows for c in cols), key=lambda t: (t[0] - mid_r) ** 2 + (t[1] - mid_c) ** 2)


@dataclass(frozen=True)
class TilePlan:
    """What one view at one level reads: the level's window, its tiles and how to read each."""

    pyramid: Pyramid
    level: int
    dims: tuple[int, int]  # the array dimensions drawn as rows and columns
    hidden: tuple[int, ...]  # the index of every array dimension at this level (displayed ones: 0)
    window: tuple[Span, Span]
    tiles: tuple[tuple[int, int], ...]

    @property
    def array(self):
        return self.pyramid.levels[self.level].array

    @property
    def chunks(self) -> tuple[int, int]:
        return tuple(self.array.chunks[d] for d in self.dims)

    @property
    def factors(self) -> tuple[float, float]:
        return tuple(self.pyramid.levels[self.level].factors[d] for d in self.dims)

    def key(self, tile: tuple[int, int]) -> tuple:
        return self.array.path, self.hidden, self.dims, tile

    def keys(self) -> set[tuple]:
        return {self.key(t) for t in self.tiles}

    def tile_window(self, tile: tuple[int, int]) -> tuple[Span, Span]:
        shape = self.array.shape
        return tuple((t * c, min((t + 1) * c, shape[d])) for t, c, d in zip(tile, self.chunks, self.dims))

    def selection(self, tile: tuple[int, int]) -> tuple:
        rows, cols = self.tile_window(tile)
        spans = {self.dims[0]: rows, self.dims[1]: cols}
        return tuple(slice(*spans[d]) if d in spans else self.hidden[d] for d in range(len(self.hidden)))

    def _block_spans(self) -> tuple[Span, Span]:
        """The (rows, columns) of the level covered by all the tiles, chunk-aligned."""
        spans = [self.tile_window(t) for t in self.tiles]
        return tuple((min(s[a][0] for s in spans), max(s[a][1] for s in spans)) for a in (0, 1))

    def block_selection(self) -> tuple:
        rows, cols = self._block_spans()
        spans = {self.dims[0]: rows, self.dims[1]: cols}
        return tuple(slice(*spans[d]) if d in spans else self.hidden[d] for d in range(len(self.hidden)))

    def within_block(self, tile: tuple[int, int]) -> tuple[slice, slice]:
        """Where TILE lies in the block's data (whose axes are in array order)."""
        block, window = self._block_spans(), self.tile_window(tile)
        local = [slice(w[0] - b[0], w[1] - b[0]) for w, b in zip(window, block)]
        return tuple(local) if self.dims[0] < self.dims[1] else tuple(local[::-1])

    @property
    def nbytes(self) -> int:
        return len(self.tiles) * math.prod(self.chunks) * self.array.dtype.itemsize

    @property
    def fits(self) -> bool:
        """Whether the tiles are few and small enough to read for one view."""
        return len(self.tiles) <= MAX_VIEW_TILES and self.nbytes <= MAX_VIEW_BYTES


def plan(pyramid: Pyramid, level: int, dims: tuple[int, int], indices: tuple[int, ...],
         viewport: Viewport) -> TilePlan:
    """The tiles of LEVEL that show the clamped VIEWPORT of the plane that INDICES (full
    resolution, one per dimension) pick."""
    lv = pyramid.levels[level]
    hidden = tuple(0 if d in dims else pyramid.index_at(level, d, i) for d, i in enumerate(indices))
    shape = tuple(lv.array.shape[d] for d in dims)
    window = window_of(viewport, tuple(lv.factors[d] for d in dims), shape)
    draft = TilePlan(pyramid, level, dims, hidden, window, ())
    return TilePlan(pyramid, level, dims, hidden, window, tuple(tiles_in(window, draft.chunks)))


class TileCache:
    """Decoded tiles of every level, within a byte budget; reads that left the view are cancelled."""

    def __init__(self, budget_bytes: int) -> None:
        self._tiles = PlaneCache(budget_bytes)

    def has_all(self, tile_plan: TilePlan) -> bool:
        return all(self._tiles.ready(tile_plan.key(t)) is not None for t in tile_plan.tiles)

    def mosaic(self, tile_plan: TilePlan) -> np.ndarray:
        """The window of TILE_PLAN from cached tiles (every one must be cached), rows first."""
        (r0, r1), (c0, c1) = tile_plan.window
        transposed = tile_plan.dims[0] > tile_plan.dims[1]
        out = np.empty((r1 - r0, c1 - c0), tile_plan.array.dtype)
        for tile in tile_plan.tiles:
            data = self._tiles.ready(tile_plan.key(tile))
            if transposed:
                data = data.T
            (tr0, tr1), (tc0, tc1) = tile_plan.tile_window(tile)
            rs, cs = slice(max(r0, tr0), min(r1, tr1)), slice(max(c0, tc0), min(c1, tc1))
            out[rs.start - r0:rs.stop - r0, cs.start - c0:cs.stop - c0] = \
                data[rs.start - tr0:rs.stop - tr0, cs.start - tc0:cs.stop - tc0]
        return out

    def focus(self, plans: list[TilePlan]) -> None:
        """Cancel the reads of tiles that none of PLANS (the view now wanted) shows."""
        self._tiles.cancel_pending(keep=set().union(*(p.keys() for p in plans)))

    async def read(self, plans: list[TilePlan], progress: Callable[[int, int], None] | None = None
                   ) -> list[np.ndarray]:
        """Read the tiles of PLANS not yet cached (the first plan's first), then their mosaics."""
        self.focus(plans)
        for p in plans:
            if len(p.tiles) > 1 and not any(self._tiles.has(p.key(t)) for t in p.tiles):
                self._read_block(p, progress if len(plans) == 1 else None)
        tasks = [self._tiles.task(p.key(t), lambda p=p, t=t: p.array.read(p.selection(t)))
                 for p in plans for t in p.tiles]
        done = sum(task.done() for task in tasks)
        for finished in asyncio.as_completed([asyncio.shield(t) for t in tasks if not t.done()]):
            await finished  # shielded: a superseded view leaves shared tiles to the next one
            done += 1
            if progress is not None:
                progress(done, len(tasks))
        return [self.mosaic(p) for p in plans]

    def _read_block(self, tile_plan: TilePlan, progress) -> None:
        """Read all the tiles of TILE_PLAN (none cached: a new view) with one read of the block
        they form, so the chunks of one shard go out as few coalesced range requests rather than
        one each; every tile is then cached on its own. The block read is cancelled once every
        tile waiting for it is."""
        block = asyncio.ensure_future(tile_plan.array.read(tile_plan.block_selection(), progress=progress))
        waiting = len(tile_plan.tiles)

        async def tile(t: tuple[int, int]) -> np.ndarray:
            nonlocal waiting
            try:
                data = await asyncio.shield(block)
            except asyncio.CancelledError:
                waiting -= 1
                if waiting == 0:
                    block.cancel()
                raise
            return np.array(data[tile_plan.within_block(t)])  # a copy: the cache budgets each tile

        for t in tile_plan.tiles:
            self._tiles.task(tile_plan.key(t), lambda t=t: tile(t))

    def clear(self) -> None:
        self._tiles.clear()

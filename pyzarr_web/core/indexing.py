"""Basic selections (ints, slices with any step, Ellipsis) mapped onto a regular chunk grid."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import SelectionError


def parse_selection(text: str) -> tuple:
    """numpy basic indexing written as text: ``"0,:,10:20"``, ``"..."``, ``"-1,::2"``."""
    text = text.strip()
    if text in ("", "()"):
        return ()
    out = []
    for part in text.split(","):
        part = part.strip()
        try:
            if part == "...":
                out.append(Ellipsis)
            elif ":" in part:
                bits = part.split(":")
                if len(bits) > 3:
                    raise ValueError("too many ':'")
                out.append(slice(*(int(b) if b.strip() else None for b in bits)))
            else:
                out.append(int(part))
        except ValueError as e:
            raise SelectionError(f"bad selection {text!r}: cannot read {part!r} ({e})") from None
    return tuple(out)


@dataclass(frozen=True)
class DimSelection:
    """One axis: ``index`` drops the axis; otherwise ``start, step, count`` with step > 0 over the
    array and ``flip`` when the user asked for a negative step."""

    start: int
    step: int
    count: int
    index: bool = False
    flip: bool = False


def normalize(selection, shape: tuple[int, ...]) -> list[DimSelection]:
    if selection is None:
        selection = ()
    if not isinstance(selection, tuple):
        selection = (selection,)
    if sum(s is Ellipsis for s in selection) > 1:
        raise SelectionError("a selection may contain at most one '...'")
    explicit = [s for s in selection if s is not Ellipsis]
    if len(explicit) > len(shape):
        raise SelectionError(f"too many indices ({len(explicit)}) for an array of {len(shape)} "
                             f"dimensions")
    fill = [slice(None)] * (len(shape) - len(explicit))
    if Ellipsis in selection:
        i = selection.index(Ellipsis)
        full = [*selection[:i], *fill, *selection[i + 1:]]
    else:
        full = [*explicit, *fill]
    return [_dim(s, n, axis) for axis, (s, n) in enumerate(zip(full, shape))]


def _dim(sel, n: int, axis: int) -> DimSelection:
    if isinstance(sel, slice):
        try:
            start, stop, step = sel.indices(n)
        except (TypeError, ValueError) as e:
            raise SelectionError(f"axis {axis}: bad slice {sel} ({e})") from None
        r = range(start, stop, step)
        if step > 0 or not r:
            return DimSelection(start if r else 0, max(step, 1), len(r))
        return DimSelection(r[-1], -step, len(r), flip=True)
    try:
        i = operator.index(sel)
    except TypeError:
        raise SelectionError(f"axis {axis}: unsupported index {sel!r} (use ints, slices, ...)") \
            from None
    if not -n <= i < n:
        raise SelectionError(f"axis {axis}: index {i} is out of bounds for size {n}")
    return DimSelection(i % n, 1, 1, index=True)


def out_shape(dims: list[DimSelection]) -> tuple[int, ...]:
    """Shape of the result with dropped (integer) axes kept as length 1."""
    return tuple(d.count for d in dims)


def final_view(out, dims: list[DimSelection]):
    """Drop integer axes and apply negative steps, giving what numpy's ``a[sel]`` gives."""
    flips = tuple(slice(None, None, -1) if d.flip else slice(None) for d in dims)
    out = out[flips + (Ellipsis,)]
    return out.reshape(tuple(d.count for d in dims if not d.index))


def _project(d: DimSelection, chunk: int) -> Iterator[tuple[int, slice, slice]]:
    """(chunk index, selection inside the chunk, slice of the output) along one axis."""
    if d.count == 0:
        return
    last = d.start + (d.count - 1) * d.step
    for k in range(d.start // chunk, last // chunk + 1):
        lo, hi = k * chunk, (k + 1) * chunk
        first = d.start + max(0, -(-(lo - d.start) // d.step)) * d.step
        if first > last or first >= hi:
            continue
        n = (min(hi - 1, last) - first) // d.step + 1
        o = (first - d.start) // d.step
        yield k, slice(first - lo, first - lo + (n - 1) * d.step + 1, d.step), slice(o, o + n)


def chunks_touched(dims: list[DimSelection], chunks: tuple[int, ...]) -> int:
    """How many chunks :func:`chunk_plan` would yield, counted per axis without listing them:
    a step of at least the chunk size puts each selected item in its own chunk, a smaller one
    touches every chunk from the first item's to the last's."""
    total = 1
    for d, c in zip(dims, chunks):
        if d.count == 0:
            return 0
        last = d.start + (d.count - 1) * d.step
        total *= d.count if d.step >= c else last // c - d.start // c + 1
    return total


def chunk_plan(dims: list[DimSelection], chunks: tuple[int, ...]):
    """Every chunk the selection touches: (chunk coords, selection in chunk, output slices)."""
    per_axis = [list(_project(d, c)) for d, c in zip(dims, chunks)]
    for combo in itertools.product(*per_axis):
        yield (tuple(c[0] for c in combo), tuple(c[1] for c in combo),
               tuple(c[2] for c in combo))


def sub_dims(selection: tuple[slice, ...]) -> list[DimSelection]:
    """A selection inside a chunk (as produced by :func:`chunk_plan`) as DimSelections."""
    return [DimSelection(s.start, s.step, len(range(s.start, s.stop, s.step))) for s in selection]

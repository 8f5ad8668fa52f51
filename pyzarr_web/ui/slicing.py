"""Which part of an N-D array the data view shows.

A ``ViewSpec`` is the user's choice — an index for every hidden dimension and a range for each
displayed one — and converts to and from the text syntax of ``?select=`` (numpy basic indexing,
e.g. ``"0,:,100:200"``). Pure functions on shapes, testable without a browser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from pyzarr_web.core import SelectionError, parse_selection


def stride_for(length: int, max_points: int) -> int:
    """Smallest integer stride that keeps LENGTH samples at or under MAX_POINTS."""
    return max(1, math.ceil(length / max_points))


@dataclass(frozen=True)
class ViewSpec:
    shape: tuple[int, ...]
    displayed: tuple[int, ...]  # (y, x) for images, (x,) for lines, () for scalars
    indices: tuple[int, ...]  # one per array dimension; used for the hidden ones
    ranges: tuple[tuple[int, int], ...]  # [start, stop) per array dimension; used for displayed ones
    steps: tuple[int, ...] = ()  # the user's step per array dimension (none given: 1 everywhere)

    @classmethod
    def default(cls, shape: tuple[int, ...]) -> ViewSpec:
        displayed = tuple(range(len(shape)))[-2:]
        return cls(tuple(shape), displayed, (0,) * len(shape), tuple((0, n) for n in shape), (1,) * len(shape))

    @classmethod
    def from_text(cls, text: str, shape: tuple[int, ...], previous: ViewSpec | None = None) -> ViewSpec:
        """Parse TEXT; integers pick hidden-dimension indices and slices pick displayed ranges."""
        items = list(parse_selection(text))
        if items.count(Ellipsis) > 1:
            raise SelectionError(f"bad selection {text!r}: more than one '...'")
        if Ellipsis in items:
            at = items.index(Ellipsis)
            items[at:at + 1] = [slice(None)] * (len(shape) - len(items) + 1)
        items += [slice(None)] * (len(shape) - len(items))
        if len(items) != len(shape):
            raise SelectionError(f"bad selection {text!r}: {len(items)} items for {len(shape)} dimensions")
        sliced = tuple(d for d, item in enumerate(items) if isinstance(item, slice))
        if len(sliced) != min(len(shape), 2):
            raise SelectionError(f"bad selection {text!r}: the view shows {min(len(shape), 2)} "
                                 f"dimension(s), so give exactly that many ':' ranges")
        indices, ranges, steps = [], [], []
        for dim, (item, length) in enumerate(zip(items, shape)):
            if isinstance(item, slice):
                start, stop, step = item.indices(length)
                if step < 0:
                    raise SelectionError(f"bad selection {text!r}: the view cannot show a negative step "
                                         f"({item.step}) for dimension {dim}; use a positive one")
                if stop <= start:
                    raise SelectionError(f"bad selection {text!r}: empty range for dimension {dim}")
                indices.append(0)
                ranges.append((start, stop))
                steps.append(step)
            else:
                index = item + length if item < 0 else item
                if not 0 <= index < length:
                    raise SelectionError(f"bad selection {text!r}: index {item} out of range for "
                                         f"dimension {dim} of length {length}")
                indices.append(index)
                ranges.append((0, length))
                steps.append(1)
        keep_order = previous is not None and set(previous.displayed) == set(sliced)
        return cls(tuple(shape), previous.displayed if keep_order else sliced, tuple(indices), tuple(ranges),
                   tuple(steps))

    def with_displayed(self, displayed: tuple[int, ...]) -> ViewSpec:
        return replace(self, displayed=displayed)

    def with_index(self, dim: int, index: int) -> ViewSpec:
        indices = list(self.indices)
        indices[dim] = min(max(int(index), 0), self.shape[dim] - 1)
        return replace(self, indices=tuple(indices))

    def step(self, dim: int) -> int:
        return self.steps[dim] if self.steps else 1

    def extent(self, dim: int) -> int:
        """Samples the selection has along DIM (its range at its step)."""
        return len(range(*self.ranges[dim], self.step(dim)))

    def selection(self, strides: dict[int, int] | None = None) -> tuple:
        """The basic selection to read; STRIDES (per displayed dimension) thin it further."""
        strides = strides or {}
        return tuple(
            slice(*self.ranges[d], self.step(d) * strides.get(d, 1)) if d in self.displayed else self.indices[d]
            for d in range(len(self.shape))
        )

    @property
    def transposed(self) -> bool:
        """The read returns displayed axes in array order; (y, x) with y after x needs a transpose."""
        return len(self.displayed) == 2 and self.displayed[0] > self.displayed[1]

    def text(self) -> str:
        """The selection as ``?select=`` text; full ranges are written as a bare ':'."""
        return ",".join(_format_item(item, n) for item, n in zip(self.selection(), self.shape))


def _format_item(item, length: int) -> str:
    if isinstance(item, slice):
        start = "" if item.start in (None, 0) else str(item.start)
        stop = "" if item.stop is None or item.stop == length else str(item.stop)
        return f"{start}:{stop}" if item.step in (None, 1) else f"{start}:{stop}:{item.step}"
    return str(item)

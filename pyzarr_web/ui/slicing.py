"""Which part of an N-D array a 2-D (or 1-D) view shows, and at what stride.

Pure functions on shapes so the choice of display selection is testable without a browser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ViewSelection:
    """A basic selection plus how to turn its result into the displayed plane."""

    selection: tuple  # ints for sliced-away dimensions, strided slices for displayed ones
    displayed: tuple[int, ...]  # displayed dimensions, in the order the result has them
    steps: tuple[int, ...]  # stride per displayed dimension (1 = full resolution)
    transpose: bool  # result axes are (x, y) and must be swapped to (y, x) for display

    @property
    def downsampled(self) -> bool:
        return any(step > 1 for step in self.steps)

    def as_text(self) -> str:
        return format_selection(self.selection)


def stride_for(length: int, max_points: int) -> int:
    """Smallest integer stride that keeps LENGTH samples at or under MAX_POINTS."""
    return max(1, math.ceil(length / max_points))


def plane_selection(shape: tuple[int, ...], y_dim: int, x_dim: int, indices: dict[int, int],
                    max_points: int) -> ViewSelection:
    """Selection of the 2-D plane (y_dim, x_dim) at INDICES for every other dimension."""
    if y_dim == x_dim:
        raise ValueError("the two displayed dimensions must differ")
    steps = {d: stride_for(shape[d], max_points) for d in (y_dim, x_dim)}
    selection = tuple(
        slice(None, None, steps[d]) if d in steps else _clamp(indices.get(d, 0), shape[d])
        for d in range(len(shape))
    )
    displayed = tuple(sorted((y_dim, x_dim)))
    return ViewSelection(selection, displayed, tuple(steps[d] for d in displayed), transpose=y_dim > x_dim)


def line_selection(shape: tuple[int, ...], dim: int, indices: dict[int, int], max_points: int) -> ViewSelection:
    """Selection of a 1-D profile along DIM."""
    step = stride_for(shape[dim], max_points)
    selection = tuple(
        slice(None, None, step) if d == dim else _clamp(indices.get(d, 0), shape[d]) for d in range(len(shape))
    )
    return ViewSelection(selection, (dim,), (step,), transpose=False)


def format_selection(selection: tuple) -> str:
    """Text form of a basic selection, the same syntax `parse_selection` reads."""
    return ",".join(_format_item(item) for item in selection)


def _format_item(item) -> str:
    if isinstance(item, slice):
        start = "" if item.start is None else str(item.start)
        stop = "" if item.stop is None else str(item.stop)
        if item.step in (None, 1):
            return f"{start}:{stop}"
        return f"{start}:{stop}:{item.step}"
    if item is Ellipsis:
        return "..."
    return str(item)


def _clamp(index: int, length: int) -> int:
    return min(max(int(index), 0), max(length - 1, 0))

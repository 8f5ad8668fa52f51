"""Unlabelled pyramids, guessed from sibling arrays (no convention attribute at all): arrays named
``0, 1, 2…`` or ``s0, s1, s2…`` in one group, consecutive from 0, of one dtype and ndim, whose
last two (spatial) dimensions shrink by one constant factor per level (each size the previous
one divided by the factor, rounded either way). Offered as a pyramid marked ``guessed``."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .model import Axis, Level, Multiscale

if TYPE_CHECKING:
    from ..hierarchy import Node

_NAME = re.compile(r"^(s?)(\d{1,4})$")


def guess_multiscale(children: Sequence[Node]) -> Multiscale | None:
    """The pyramid the array ``children`` of one group form, or None."""
    for prefix in ("", "s"):
        ranked = {}
        for node in children:
            match = _NAME.match(node.name)
            if node.metadata is not None and match and match.group(1) == prefix:
                ranked[int(match.group(2))] = node
        levels = [ranked[i] for i in range(len(ranked)) if i in ranked]
        if len(levels) >= 2 and len(levels) == len(ranked):
            found = _pyramid(levels)
            if found is not None:
                return found
    return None


def _pyramid(nodes: list[Node]) -> Multiscale | None:
    metas = [n.metadata for n in nodes]
    ndim = len(metas[0].shape)
    if ndim < 2 or any(m.dtype != metas[0].dtype for m in metas):
        return None
    first, second = metas[0].shape[-2:], metas[1].shape[-2:]
    if min(second) == 0:
        return None
    factor = round(max(first) / max(second))
    if factor < 2:
        return None
    for finer, coarser in itertools.pairwise(metas):  # same ndim and other dims, shrunk
        if finer.shape[:-2] != coarser.shape[:-2] or any(
                c not in (f // factor, math.ceil(f / factor))
                for f, c in zip(finer.shape[-2:], coarser.shape[-2:])):
            return None
    levels = [Level(node.name, (1.0,) * (ndim - 2) + (float(factor ** k),) * 2,
                    shape=tuple(meta.shape), chunks=tuple(meta.read_chunks))
              for k, (node, meta) in enumerate(zip(nodes, metas))]
    names = metas[0].dimension_names
    axes = [Axis(str(n), "space" if i >= ndim - 2 else None)
            for i, n in enumerate(names)] if names and len(names) == ndim else []
    return Multiscale("guessed", None, levels, axes, guessed=True)

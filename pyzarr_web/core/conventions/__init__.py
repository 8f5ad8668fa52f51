"""Multiscale conventions: a group's attributes → one :class:`Multiscale` model, whichever
convention wrote them (OME-NGFF 0.4/0.5/0.6, GeoZarr multiscales + proj: + spatial:, the older
GeoZarr TileMatrixSet draft, ndpyramid). Reading needs the group's attributes only; level shapes
and chunks come from the level arrays' metadata (:func:`read_level_metadata`), never chunks.
Groups with no convention may still hold an unlabelled pyramid (:func:`guess_multiscale`); a
single array may be georeferenced by CF attributes (:func:`read_cf_georef`)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..errors import ZarrError
from . import geozarr, ndpyramid, ome
from .cf import grid_mapping_name, read_cf_georef
from .guessed import guess_multiscale
from .model import Axis, Channel, Georef, Level, Multiscale

if TYPE_CHECKING:
    from ..hierarchy import Hierarchy

__all__ = ["Axis", "Channel", "Georef", "Level", "Multiscale", "grid_mapping_name",
           "guess_multiscale", "read_cf_georef", "read_level_metadata", "read_multiscale"]


def read_multiscale(attributes: dict, zarr_format: int | None = None,
                    path: str = "") -> Multiscale | None:
    """The multiscale a group's ``attributes`` describe, or None when they describe none.
    Malformed parts become :attr:`Multiscale.problems` (naming ``path`` and the field), never
    exceptions. ndpyramid is tried before OME-NGFF: both write a ``multiscales`` list."""
    if not isinstance(attributes, dict):
        return None
    where = path or "/"
    if ndpyramid.claims(attributes):
        return ndpyramid.read(attributes, where)
    return geozarr.read(attributes, where) or ome.read(attributes, where, zarr_format)


async def read_level_metadata(multiscale: Multiscale, hierarchy: Hierarchy,
                              group_path: str) -> Multiscale:
    """Fill each level's shape and chunks from its array's metadata (one metadata document per
    level, no chunk read), and the axes from dimension names when the convention gave none.
    Levels that are groups (ndpyramid, GeoZarr group layouts) keep no shape."""
    async def load(level: Level):
        path = f"{group_path}/{level.path}" if group_path else level.path
        try:
            return await hierarchy.node(path)
        except ZarrError as e:
            multiscale.problems.append(f"{path}: level metadata unreadable: {e}")
            return None

    nodes = await asyncio.gather(*(load(level) for level in multiscale.levels))
    for level, node in zip(multiscale.levels, nodes):
        if node is None or node.metadata is None:
            continue
        meta = node.metadata
        level.shape, level.chunks = tuple(meta.shape), tuple(meta.read_chunks)
        if level.scale is not None and len(level.scale) not in (len(meta.shape), 2):
            multiscale.problems.append(
                f"{node.path}: {len(level.scale)} scale factors for a "
                f"{len(meta.shape)}-dimensional level")
        if not multiscale.axes and meta.dimension_names:
            multiscale.axes = [Axis(str(n)) for n in meta.dimension_names]
    return multiscale

"""An image as the explorer navigates it: one or more arrays of one picture, finest first.

A multiscale group (any convention :mod:`pyzarr_web.core.conventions` reads, or a guessed
pyramid) becomes a :class:`Pyramid` of its level arrays; a huge single array is a pyramid of one
level. Everything the view needs to move between levels lives here: how many full-resolution
samples one sample of a level covers, the index of a hidden dimension (z, t, c) at another level,
and which level suits a viewport.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pyzarr_web.core import ZarrError
from pyzarr_web.core.conventions import Multiscale, guess_multiscale, read_level_metadata, read_multiscale

#: names of a level group's members that are coordinates or CRS holders, never the image
_NOT_IMAGES = frozenset({"x", "y", "lat", "lon", "latitude", "longitude", "time", "band", "crs",
                         "spatial_ref", "transverse_mercator", "lambert_conformal_conic"})


@dataclass(frozen=True)
class PyramidLevel:
    path: str  # node path of the level's array
    array: object  # ZarrArray
    factors: tuple[float, ...]  # full-resolution samples per sample of this level, per dimension


class Pyramid:
    def __init__(self, levels: list[PyramidLevel], multiscale: Multiscale | None = None) -> None:
        self.levels = levels
        self.multiscale = multiscale

    @property
    def paths(self) -> list[str]:
        return [level.path for level in self.levels]

    def find(self, path: str) -> int | None:
        """The level whose array is PATH (or whose path ends with /PATH: ``2`` for ``image/2``)."""
        for i, level in enumerate(self.levels):
            if level.path == path or level.path.endswith("/" + path):
                return i
        return None

    def index_at(self, level: int, dim: int, index: int) -> int:
        """Full-resolution INDEX of hidden dimension DIM as an index of LEVEL (a z plane of
        a pyramid downsampled in z maps to the plane that contains it)."""
        shape = self.levels[level].array.shape
        return min(int(index / self.levels[level].factors[dim]), shape[dim] - 1)

    def auto_level(self, dims: tuple[int, int], extent: tuple[float, float], screen_px: int) -> int:
        """The coarsest level whose sample is no larger than a screen pixel, for a view EXTENT
        (height, width, in full-resolution samples along DIMS) drawn SCREEN_PX pixels across."""
        pixel = max(extent) / screen_px
        best = 0
        for i, level in enumerate(self.levels):
            if max(level.factors[d] for d in dims) <= pixel * (1 + 1e-9):
                best = i
        return best


def _factors(full_shape, shape) -> tuple[float, ...]:
    return tuple(f / s if s else 1.0 for f, s in zip(full_shape, shape))


def single(array) -> Pyramid:
    """A single array seen through the same viewport as a pyramid."""
    return Pyramid([PyramidLevel(array.path, array, (1.0,) * array.ndim)])


def _image_name(hierarchy_nodes: dict, group_path: str) -> str | None:
    """The image array of a level that is a group (ndpyramid, GeoZarr group layouts): its first
    member array of two or more dimensions that is not a coordinate."""
    prefix = f"{group_path}/" if group_path else ""
    for path, node in sorted(hierarchy_nodes.items()):
        name = path[len(prefix):]
        if (path.startswith(prefix) and "/" not in name and node.kind == "array"
                and name.lower() not in _NOT_IMAGES and len(node.metadata.shape) >= 2):
            return name
    return None


async def open_pyramid(hierarchy, nodes: dict, node) -> Pyramid | None:
    """The pyramid the group NODE holds (its levels' arrays opened), or None when it holds none.
    NODES are the nodes listed so far (for guessed pyramids and group levels)."""
    if node.kind != "group":
        return None
    multiscale = read_multiscale(node.attributes, node.zarr_format, node.path)
    if multiscale is None:
        prefix = f"{node.path}/" if node.path else ""
        children = [n for p, n in nodes.items() if p.startswith(prefix) and "/" not in p[len(prefix):] and p]
        multiscale = guess_multiscale(children)
    if multiscale is None or not multiscale.levels:
        return None
    await read_level_metadata(multiscale, hierarchy, node.path)
    arrays = []
    image = None
    for level in multiscale.levels:
        path = f"{node.path}/{level.path}" if node.path else level.path
        level_node = nodes.get(path)
        if level_node is None:
            try:
                level_node = await hierarchy.node(path)
            except ZarrError:
                continue  # reported by read_level_metadata's problems
        if level_node.kind == "group":
            image = image or _image_name(nodes, path)
            if image is None:
                continue
            path = f"{path}/{image}"
        try:
            arrays.append(await hierarchy.array(path))
        except ZarrError as exc:
            multiscale.problems.append(f"{path}: {exc}")
    arrays = [a for a in arrays if a.ndim == arrays[0].ndim and a.ndim >= 2] if arrays else []
    if not arrays:
        return None
    arrays.sort(key=lambda a: -math.prod(a.shape))  # finest first, whatever order the metadata gave
    full = arrays[0].shape
    return Pyramid([PyramidLevel(a.path, a, _factors(full, a.shape)) for a in arrays], multiscale)

"""Names of nodes that a node's metadata refers to, for stores that cannot list (HTTP without
consolidated metadata). Each function reads attributes only; :meth:`Hierarchy.walk` probes the
metadata documents of the paths they return and feeds what it finds back in.

Conventions understood (paths are relative to the group holding the attribute unless noted):

* Multiscale levels, as :mod:`.conventions` reads them (OME-NGFF, ndpyramid, GeoZarr
  zarr-conventions ``layout`` assets and TileMatrixSet matrix ids).
* OME-NGFF 0.4 (top-level attributes) and 0.5 (under ``attributes.ome``): an image's optional
  ``labels`` child group, whose ``labels`` attribute lists label images;
  ``plate.wells[*].path``; ``well.images[*].path``;
  bioformats2raw's ``OME`` group (its ``series`` list is relative to the parent) and first
  series ``0``.
* ``links`` (:mod:`.links`): ``child``, ``group`` and ``item`` links with a relative href.
* xarray / CF, relative to the array's parent group: dimension names (``_ARRAY_DIMENSIONS`` or v3
  ``dimension_names``) name 1-D coordinate arrays; ``coordinates``, ``grid_mapping``,
  ``bounds``, ``climatology``, ``ancillary_variables`` and ``cell_measures`` name variables;
  a group's own ``coordinates`` attribute (xarray writes it for coordinates no variable names)
  is relative to that group.
"""

from __future__ import annotations

from collections.abc import Iterator

from .conventions import read_multiscale
from .links import linked_node_paths
from .nodepaths import resolve  # noqa: F401  (re-exported: hierarchy, tests)

#: CF attributes of a variable whose value names other variables of the same group
_CF_VARIABLE_ATTRS = ("coordinates", "grid_mapping", "bounds", "climatology",
                      "ancillary_variables", "cell_measures")


def _list(value) -> list:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]
    return []


def _strings(items, key: str) -> Iterator[str]:
    for item in _list(items):
        if isinstance(item, dict) and isinstance(item.get(key), str):
            yield item[key]


def _cf_names(attr: str, value) -> Iterator[str]:
    """Variable names in a CF attribute value ("lat lon", "crs: x y", "area: cell_area")."""
    if not isinstance(value, str):
        return
    for token in value.split():
        if attr == "cell_measures" and token.endswith(":"):
            continue  # "area:" is the measure, "cell_area" the variable
        yield token.rstrip(":")


def _namespaces(attributes: dict) -> list[dict]:
    """OME-NGFF 0.5 keeps its metadata under "ome"; 0.4 and the others at the top."""
    out = [attributes]
    if isinstance(attributes.get("ome"), dict):
        out.append(attributes["ome"])
    return out


def multiscale_levels(attributes: dict) -> list[str]:
    """The level paths of a multiscale group (relative to it), as :mod:`.conventions` reads
    them: the same variable is expected under each level."""
    ms = read_multiscale(attributes)
    return [level.path for level in ms.levels] if ms else []


def multiscale_kind(attributes: dict) -> str | None:
    """"label" for an OME-NGFF label image, "image" for any other multiscale group, else None."""
    ms = read_multiscale(attributes)
    if ms is None or not ms.levels:
        return None
    return "label" if ms.is_label else "image"


def group_references(attributes: dict) -> list[tuple[int, str]]:
    """(levels up, relative path) pairs a group's attributes refer to: 0 = below this group,
    1 = below its parent."""
    ms = read_multiscale(attributes)
    out: list[tuple[int, str]] = [(0, level.path) for level in ms.levels] if ms else []
    if ms and ms.levels and ms.convention == "ome-ngff":
        out.append((0, "labels"))  # OME-NGFF: an image's label images live in "labels"
    for ns in _namespaces(attributes):
        labels = ns.get("labels")
        if isinstance(labels, list):
            out += [(0, p) for p in labels if isinstance(p, str)]
        plate = ns.get("plate")
        if isinstance(plate, dict):
            out += [(0, p) for p in _strings(plate.get("wells"), "path")]
        well = ns.get("well")
        if isinstance(well, dict):
            out += [(0, p) for p in _strings(well.get("images"), "path")]
        series = ns.get("series")
        if isinstance(series, list):  # bioformats2raw "OME" group: paths relative to the parent
            out += [(1, p) for p in series if isinstance(p, str)]
        if "bioformats2raw.layout" in ns:
            out += [(0, "OME"), (0, "0")]
    out += [(0, name) for name in _cf_names("coordinates", attributes.get("coordinates"))]
    out += [(0, path) for path in linked_node_paths(attributes)]  # issue 12: child links in the store
    return out


def array_references(attributes: dict, dimension_names: list | None) -> list[tuple[int, str]]:
    """Sibling variables an array refers to (all relative to its parent group)."""
    out = [(1, n) for n in dimension_names or () if isinstance(n, str)]
    for attr in _CF_VARIABLE_ATTRS:
        out += [(1, n) for n in _cf_names(attr, attributes.get(attr))]
    return out

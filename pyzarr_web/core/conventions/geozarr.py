"""GeoZarr multiscales, read from a group's attributes only.

Specifications read:

* zarr-conventions ``multiscales`` v1 (github.com/zarr-conventions/multiscales, README and
  examples at tag v1): ``multiscales.layout`` [{asset, derived_from, transform {scale,
  translation}, resampling_method}]. ``transform`` is relative to the ``derived_from`` level
  (``X_current = X_source × scale + translation``), so levels are placed by composing along
  that chain; layout entries may carry absolute ``spatial:transform`` / ``spatial:shape``.
* zarr-conventions ``spatial:`` v1 (github.com/zarr-conventions/spatial): ``spatial:dimensions``
  [y, x], ``spatial:transform`` [a, b, c, d, e, f] (Rasterio/Affine order), ``spatial:bbox``
  [xmin, ymin, xmax, ymax], ``spatial:shape`` [height, width], ``spatial:registration``
  ("pixel" or "node").
* ``proj:`` (geo-proj) v1 (github.com/zarr-experimental/geo-proj): ``proj:code`` ("EPSG:4326"),
  ``proj:wkt2``, ``proj:projjson``; at least one names the CRS.
* The older GeoZarr draft (zarr-developers/geozarr-spec, 2024–25): ``multiscales`` {
  ``tile_matrix_set``: an OGC TileMatrixSet 2.0 (``crs``, ``tileMatrices`` [{id, cellSize,
  pointOfOrigin, cornerOfOrigin, tileWidth, tileHeight, matrixWidth, matrixHeight}]) or the id
  of a well-known one, ``tile_matrix_limits`` {id: {...}}, ``resampling_method``}; each matrix
  id names a level group.
"""

from __future__ import annotations

from typing import Any

from .fields import MISSING, Notes, get, is_number
from .model import Axis, Georef, Level, Multiscale


def read(attributes: dict, where: str) -> Multiscale | None:
    """The GeoZarr multiscale described by ``attributes``; None when ``multiscales`` is not a
    GeoZarr object (OME-NGFF and ndpyramid use a list)."""
    multiscales = attributes.get("multiscales")
    if not isinstance(multiscales, dict):
        return None
    notes = Notes(where)
    georef = georeference(attributes, notes)
    if "layout" in multiscales:
        ms = _layout(multiscales, georef, notes)
    elif "tile_matrix_set" in multiscales:
        ms = _tile_matrix_set(multiscales, georef, notes)
    else:
        notes.bad("multiscales", "an object with 'layout' or 'tile_matrix_set'",
                  sorted(multiscales)[:8])
        ms = Multiscale("geozarr")
    if ms.georef is not None and ms.georef.dimensions and not ms.axes:
        ms.axes = [Axis(name, "space") for name in ms.georef.dimensions]
    ms.problems = notes.problems
    return ms


def georeference(attributes: dict, notes: Notes) -> Georef | None:
    """The ``proj:`` CRS and ``spatial:`` placement of a node; None when neither is given."""
    code = notes.text(get(attributes, "proj:code"), "proj:code")
    wkt2 = notes.text(get(attributes, "proj:wkt2"), "proj:wkt2")
    projjson = notes.obj(get(attributes, "proj:projjson"), "proj:projjson")
    affine = notes.numbers(get(attributes, "spatial:transform"), "spatial:transform", 6)
    bbox = notes.numbers(get(attributes, "spatial:bbox"), "spatial:bbox", 4)
    dims = get(attributes, "spatial:dimensions")
    dimensions = None
    if dims is not MISSING:
        if isinstance(dims, list) and len(dims) == 2 and all(isinstance(d, str) for d in dims):
            dimensions = (dims[0], dims[1])
        else:
            notes.bad("spatial:dimensions", "two dimension names [y, x]", dims)
    registration = get(attributes, "spatial:registration")
    if registration is not MISSING and registration not in ("pixel", "node"):
        notes.bad("spatial:registration", '"pixel" or "node"', registration)
    kind = get(attributes, "spatial:transform_type")
    if kind is not MISSING and kind != "affine":
        notes.note(f"spatial:transform_type {kind!a} is not read (only 'affine')")
        affine = None
    if all(v is None for v in (code, wkt2, projjson, affine, bbox, dimensions)):
        return None
    return Georef(code, wkt2, projjson, affine, bbox, dimensions,
                  registration if registration in ("pixel", "node") else "pixel")


def _layout(multiscales: dict, georef: Georef | None, notes: Notes) -> Multiscale:
    entries: dict[str, tuple[dict, str]] = {}
    layout = notes.items(multiscales["layout"], "multiscales.layout", required=True)
    for _, field, entry, path in notes.entries_with_path(layout, "multiscales.layout", "asset"):
        if path in entries:
            notes.note(f"{field}.asset: {path!a} is listed twice; the first entry is used")
            continue
        entries[path] = (entry, field)
    relative = {path: _relative(entry, field, entries, notes)
                for path, (entry, field) in entries.items()}
    placed = _place(relative, notes)
    levels = []
    for path, (entry, field) in entries.items():
        scale, translation = placed[path]
        levels.append(Level(path, scale, translation,
                            affine=notes.numbers(get(entry, "spatial:transform"),
                                                 field + ".spatial:transform", 6)))
    levels = _finest_first(levels)
    if georef is not None and georef.affine is None and levels and levels[0].affine:
        georef.affine = levels[0].affine
    return Multiscale("geozarr", "multiscales v1", levels, georef=georef)


def _relative(entry: dict, field: str, entries: dict, notes: Notes) -> tuple:
    """(scale, translation, source level or None) of one layout entry, as written."""
    transform = notes.obj(get(entry, "transform"), field + ".transform")
    scale = notes.numbers(get(transform, "scale"), field + ".transform.scale", nonzero=True)
    shift = notes.numbers(get(transform, "translation"), field + ".transform.translation")
    source = get(entry, "derived_from")
    if source is MISSING or source is None:
        return scale, shift, None
    source = notes.path(source, field + ".derived_from")
    if source is not None and source not in entries:
        notes.note(f"{field}.derived_from: {source!a} is not a level of this layout")
        source = None
    return scale, shift, source


def _place(relative: dict[str, tuple], notes: Notes) -> dict[str, tuple]:
    """Each level's (scale, translation) relative to the root of its derived_from chain,
    composing along the chain without recursion (chains may be long, or cycles)."""
    placed: dict[str, tuple] = {}
    for path in relative:
        chain: list[str] = []
        on_chain: set[str] = set()
        step: str | None = path
        while step is not None and step not in placed:
            if step in on_chain:
                notes.note(f"multiscales.layout: {step!a} derives from itself through "
                           f"derived_from (a cycle)")
                step = None
                break
            chain.append(step)
            on_chain.add(step)
            step = relative[step][2]
        base = placed[step] if step is not None else None
        for level in reversed(chain):
            scale, shift, _ = relative[level]
            base = (scale, shift) if base is None else _compose(base, scale, shift)
            placed[level] = base
    return placed


def _compose(source: tuple, scale, shift) -> tuple:
    """A level placed relative to a source level that is itself placed by (scale, translation):
    its pixel size multiplies, its offset (in source pixels) adds after the source's scale."""
    src_scale, src_shift = source
    if src_scale is None:
        return scale, _add(src_shift, shift)
    if scale is None:
        return src_scale, _add(src_shift, shift and tuple(
            t * s for t, s in zip(shift, src_scale)))
    if len(scale) != len(src_scale):
        return scale, shift
    out_shift = shift and tuple(t * s for t, s in zip(shift, src_scale))
    return tuple(a * b for a, b in zip(src_scale, scale)), _add(src_shift, out_shift)


def _add(a, b):
    if a is None or b is None or len(a) != len(b):
        return b if a is None else a
    return tuple(x + y for x, y in zip(a, b))


def _finest_first(levels: list[Level]) -> list[Level]:
    """Levels by pixel size (product of scale factors); a level without one counts as the base
    (scale 1), as a layout root without ``transform`` is."""
    def size(level: Level) -> float:
        out = 1.0
        for s in level.scale or ():
            out *= abs(s)
        return out
    return sorted(levels, key=size)


def _tile_matrix_set(multiscales: dict, georef: Georef | None, notes: Notes) -> Multiscale:
    tms = multiscales["tile_matrix_set"]
    limits = notes.obj(get(multiscales, "tile_matrix_limits"),
                       "multiscales.tile_matrix_limits")
    if isinstance(tms, str):  # a well-known set by id: the limits name the levels present
        notes.note(f"multiscales.tile_matrix_set: {tms!a} is not embedded; levels are taken "
                   f"from tile_matrix_limits")
        levels = [Level(p) for p in (notes.path(k, "multiscales.tile_matrix_limits key")
                                     for k in (limits or {})) if p]
        code = tms if tms.upper().startswith("EPSG:") else None
        return Multiscale("geozarr-tms", None, levels, georef=georef or (Georef(code) if code else None))
    tms = notes.obj(tms, "multiscales.tile_matrix_set", required=True)
    crs = _tms_crs(get(tms, "crs"), notes)
    levels = []
    matrices_field = "multiscales.tile_matrix_set.tileMatrices"
    matrices = notes.items(get(tms, "tileMatrices"), matrices_field, required=True)
    for _, field, m, path in notes.entries_with_path(matrices, matrices_field, "id"):
        if limits is not None and path not in limits:
            continue  # a matrix of the set the data does not cover
        cell = get(m, "cellSize")
        if not (is_number(cell) and cell > 0):
            notes.bad(field + ".cellSize", "a positive number", cell)
            levels.append(Level(path))
            continue
        origin = notes.numbers(get(m, "pointOfOrigin"), field + ".pointOfOrigin", 2)
        affine = None
        if origin is not None:
            bottom = get(m, "cornerOfOrigin") == "bottomLeft"
            affine = (cell, 0.0, origin[0], 0.0, cell if bottom else -cell, origin[1])
        levels.append(Level(path, (cell, cell), None, affine=affine))
    levels = _finest_first(levels)
    georef = georef or Georef()
    if crs is not None:
        georef.code = georef.code or (crs if _looks_like_code(crs) else None)
        georef.wkt = georef.wkt or (None if _looks_like_code(crs) else crs)
    if georef.affine is None and levels and levels[0].affine:
        georef.affine = levels[0].affine
    return Multiscale("geozarr-tms", "tile matrix set", levels, georef=georef)


def _tms_crs(value: Any, notes: Notes) -> str | None:
    """TileMatrixSet 2.0 ``crs``: a URI / code string or {"uri": …} / {"wkt": …}."""
    if isinstance(value, str):
        return _code_from_uri(value)
    if isinstance(value, dict):
        for key in ("uri", "wkt"):
            if isinstance(value.get(key), str):
                return _code_from_uri(value[key]) if key == "uri" else value[key]
    if value is not MISSING:
        notes.bad("multiscales.tile_matrix_set.crs", "a CRS URI or code", value)
    return None


def _code_from_uri(text: str) -> str:
    """http://www.opengis.net/def/crs/EPSG/0/3857 → EPSG:3857 (other texts unchanged)."""
    parts = text.rstrip("/").split("/")
    if "opengis.net" in text and len(parts) >= 3 and parts[-1].isdigit():
        return f"{parts[-3]}:{parts[-1]}"
    return text


def _looks_like_code(text: str) -> bool:
    authority, _, code = text.partition(":")
    return authority.isalpha() and authority.isupper() and bool(code)

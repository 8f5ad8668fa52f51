"""ndpyramid / CarbonPlan pyramids, read from a group's attributes only.

Specification read: ndpyramid 0.4 (github.com/carbonplan/ndpyramid, what ``pyramid_reproject``,
``pyramid_regrid``, ``pyramid_resample`` and ``pyramid_coarsen`` write) as read by CarbonPlan's
maps / zarr-layer: a top-level ``multiscales`` list whose first entry has ``datasets``
[{path, level, crs, pixels_per_tile}] and ``metadata`` {method, version, kwargs}. Levels are
numbered 0…N from the COARSEST (level k of a web-mercator pyramid is 2^k tiles of
``pixels_per_tile`` pixels on a side); ``pyramid_coarsen`` records its per-level coarsening
``factors`` instead. Each level is a group of xarray variables. The level groups repeat the
attribute with the single path "." — that describes the level itself, not a pyramid.
"""

from __future__ import annotations

from .fields import MISSING, Notes, get, is_number
from .model import Axis, Georef, Level, Multiscale

#: half the side of the web-mercator square, in metres (EPSG:3857 bounds)
WEB_MERCATOR_HALF = 20037508.342789244


def claims(attributes: dict) -> bool:
    """ndpyramid's signature: ``pixels_per_tile`` / ``crs`` on the datasets, or a ``pyramid_*``
    method in ``metadata``."""
    entries = attributes.get("multiscales")
    if not isinstance(entries, list) or not entries or not isinstance(entries[0], dict):
        return False
    first = entries[0]
    method = first.get("metadata", {}).get("method") if isinstance(first.get("metadata"),
                                                                    dict) else None
    datasets = first.get("datasets") if isinstance(first.get("datasets"), list) else []
    return (isinstance(method, str) and method.startswith("pyramid_")) or any(
        isinstance(d, dict) and ("pixels_per_tile" in d or "crs" in d) for d in datasets)


def read(attributes: dict, where: str) -> Multiscale | None:
    """The ndpyramid pyramid in ``attributes`` (which :func:`claims`), finest level first;
    None for a level group's description of itself."""
    notes = Notes(where)
    first = attributes["multiscales"][0]
    metadata = first.get("metadata") if isinstance(first.get("metadata"), dict) else {}
    kwargs = metadata.get("kwargs") if isinstance(metadata.get("kwargs"), dict) else {}
    datasets = notes.items(get(first, "datasets"), "multiscales[0].datasets", required=True)
    if all(isinstance(d, dict) and d.get("path") == "." for d in datasets):
        return None  # a level group describing itself
    found = []  # (level number, path, pixels_per_tile, crs)
    for i, field, ds, path in notes.entries_with_path(datasets, "multiscales[0].datasets"):
        level = get(ds, "level")
        if level is MISSING:
            level = int(path) if path.isdigit() else i
        elif not (isinstance(level, int) and not isinstance(level, bool) and 0 <= level < 64):
            notes.bad(field + ".level", "an integer from 0 to 63", level)
            level = i
        ppt = get(ds, "pixels_per_tile")
        if ppt is not MISSING and not (isinstance(ppt, int) and not isinstance(ppt, bool)
                                       and ppt > 0):
            notes.bad(field + ".pixels_per_tile", "a positive integer", ppt)
            ppt = MISSING
        found.append((level, path, None if ppt is MISSING else ppt,
                      notes.text(get(ds, "crs"), field + ".crs")))
    factors = kwargs.get("factors")
    if factors is not None and not (isinstance(factors, list) and len(factors) == len(found)
                                    and all(is_number(f) and f > 0 for f in factors)):
        notes.bad("multiscales[0].metadata.kwargs.factors",
                  f"{len(found)} positive numbers (one per dataset)", factors)
        factors = None
    finest = max((n for n, *_ in found), default=0)
    levels = []
    for i, (n, path, _, _) in enumerate(found):
        step = float(factors[i]) if factors else float(2 ** (finest - n))
        levels.append((step, Level(path, (step, step), (0.0, 0.0))))
    levels.sort(key=lambda pair: pair[0])
    crs = next((c for *_, c in found if c), None)
    georef = None
    if crs is not None:
        georef = Georef(code=crs, dimensions=("y", "x"))
        ppt = next((p for _, _, p, _ in found if p), None)
        if crs == "EPSG:3857" and ppt is not None:  # the pyramid covers the whole square
            size = 2 * WEB_MERCATOR_HALF / (ppt * 2 ** finest)
            georef.affine = (size, 0.0, -WEB_MERCATOR_HALF, 0.0, -size, WEB_MERCATOR_HALF)
            georef.bbox = (-WEB_MERCATOR_HALF,) * 2 + (WEB_MERCATOR_HALF,) * 2
    version = metadata.get("version") if isinstance(metadata.get("version"), str) else None
    return Multiscale("ndpyramid", version, [level for _, level in levels],
                      [Axis("y", "space"), Axis("x", "space")] if georef else [],
                      georef=georef, problems=notes.problems)

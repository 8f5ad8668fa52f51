"""Georeferencing of a single array without a pyramid, from CF / GDAL attributes only.

Specifications read: CF Conventions 1.11 §5.6 "Horizontal Coordinate Reference Systems, Grid
Mappings, and Projections": a data variable's ``grid_mapping`` attribute names a variable (the
extended form ``"crsA: x y crsB: lat lon"`` names several; the first is used) whose attributes
hold ``grid_mapping_name`` and ``crs_wkt``; GDAL and rioxarray also write ``spatial_ref`` (WKT)
and ``GeoTransform`` ("c a b f d e", GDAL order) on it. The spatial dimensions are found among
the array's dimension names (y/x, lat/lon, latitude/longitude, northing/easting). Affines from
1-D coordinate arrays need their values (a chunk read), so they are not derived here.
"""

from __future__ import annotations

import math
import re

from .fields import MISSING, Notes, get
from .model import Georef

#: (y, x) dimension name pairs, in the order they are looked for
SPATIAL_NAMES = (("y", "x"), ("lat", "lon"), ("latitude", "longitude"), ("northing", "easting"))
#: the CRS's own identifier: the last AUTHORITY["EPSG","4326"] / ID["EPSG",4326] before the end
_WKT_ID = re.compile(r'(?:AUTHORITY|ID)\[\s*"([A-Za-z]+)"\s*,\s*"?(\d+)"?\s*(?:,[^\[\]]*)?\]\s*\]\s*$')


def grid_mapping_name(attributes: dict) -> str | None:
    """The variable a data variable's ``grid_mapping`` names (the first, in the extended form)."""
    value = attributes.get("grid_mapping")
    if not isinstance(value, str) or not value.split():
        return None
    return value.split()[0].rstrip(":")


def read_cf_georef(attributes: dict, dimension_names: list | None, grid_mapping: dict,
                   where: str) -> tuple[Georef | None, list[str]]:
    """(georeferencing, problems) of an array whose ``grid_mapping`` variable has the
    attributes ``grid_mapping``."""
    notes = Notes(where)
    wkt = (notes.text(get(grid_mapping, "crs_wkt"), "grid_mapping crs_wkt")
           or notes.text(get(grid_mapping, "spatial_ref"), "grid_mapping spatial_ref"))
    affine = _geotransform(get(grid_mapping, "GeoTransform"), notes)
    code = None
    if wkt is not None:
        match = _WKT_ID.search(wkt)
        code = f"{match.group(1).upper()}:{match.group(2)}" if match else None
    if wkt is None and affine is None:
        return None, notes.problems
    names = [n for n in dimension_names or () if isinstance(n, str)]
    dims = next(((y, x) for y, x in SPATIAL_NAMES if y in names and x in names), None)
    return Georef(code=code, wkt=wkt, affine=affine, dimensions=dims), notes.problems


def _geotransform(value, notes: Notes) -> tuple[float, ...] | None:
    """GDAL's "c a b f d e" text → the affine (a, b, c, d, e, f)."""
    if value is MISSING or value is None:
        return None
    try:
        c, a, b, f, d, e = (float(v) for v in value.split())
        if not all(math.isfinite(v) for v in (a, b, c, d, e, f)):
            raise ValueError
    except (AttributeError, ValueError):
        notes.bad("grid_mapping GeoTransform", "6 finite numbers as text", value)
        return None
    return a, b, c, d, e, f

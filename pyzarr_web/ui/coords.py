"""What an index along a dimension means (coordinate arrays) and what stored numbers mean (CF).

Conventions followed: dimension names from Zarr v3 ``dimension_names`` or xarray's
``_ARRAY_DIMENSIONS``; a 1-D array named like the dimension in the same group is its coordinate;
CF ``units`` / ``long_name`` / ``scale_factor`` / ``add_offset`` / ``_FillValue`` /
``missing_value``, and CF time units (``days since 2000-01-01``) decode to datetime64.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

MAX_COORDINATE_LENGTH = 1_000_000  # longer "coordinates" are not read just to label an axis

_TIME_UNITS = {"days": "D", "day": "D", "d": "D", "hours": "h", "hour": "h", "h": "h",
               "minutes": "m", "minute": "m", "min": "m", "seconds": "s", "second": "s", "s": "s",
               "milliseconds": "ms", "microseconds": "us"}
_TIME_PATTERN = re.compile(r"^\s*(\w+)\s+since\s+(\d{1,4}-\d{1,2}-\d{1,2})(?:[ T](\d{1,2}:\d{2}(?::\d{2})?))?")
_STANDARD_CALENDARS = {None, "standard", "gregorian", "proleptic_gregorian"}


def _scalar(value):
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _cf_time(values: np.ndarray, attrs: dict) -> np.ndarray | None:
    """datetime64 values for CF time units, or None when the units are not a CF time."""
    units = attrs.get("units")
    match = _TIME_PATTERN.match(units) if isinstance(units, str) else None
    if match is None or match.group(1).lower() not in _TIME_UNITS or attrs.get("calendar") not in _STANDARD_CALENDARS:
        return None
    year, month, day = (int(p) for p in match.group(2).split("-"))
    epoch = np.datetime64(f"{year:04d}-{month:02d}-{day:02d}T{match.group(3) or '00:00'}", "ns")
    step_ns = np.timedelta64(1, _TIME_UNITS[match.group(1).lower()]).astype("timedelta64[ns]").astype(np.float64)
    offsets = np.asarray(values, dtype=np.float64) * step_ns
    result = epoch + np.where(np.isnan(offsets), 0, offsets).astype("timedelta64[ns]")
    result[np.isnan(offsets)] = np.datetime64("NaT")
    return result


def cf_decode(data: np.ndarray, attrs: dict) -> np.ndarray:
    """Apply CF masking, scale and offset (and time units) to numeric DATA; others pass through."""
    if data.dtype.kind not in "iuf":
        return data
    fill_values = [_scalar(attrs[k]) for k in ("_FillValue", "missing_value") if k in attrs]
    scale, offset = _scalar(attrs.get("scale_factor", 1)), _scalar(attrs.get("add_offset", 0))
    if not fill_values and scale == 1 and offset == 0 and "since" not in str(attrs.get("units", "")):
        return data
    decoded = data.astype(np.float64)
    for fill in fill_values:
        if isinstance(fill, (int, float)):
            decoded[(data == fill) | (np.isnan(fill) & np.isnan(decoded))] = np.nan
    decoded = decoded * float(scale) + float(offset)
    times = _cf_time(decoded, attrs)
    return decoded if times is None else times


def format_value(value) -> str:
    """Short human text for one coordinate or data value."""
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return "NaT"
        day = value.astype("datetime64[D]")
        return str(day) if value == day else np.datetime_as_string(value, unit="s").replace("T", " ")
    if isinstance(value, (float, np.floating)):
        return f"{value:.6g}"
    return str(value)


@dataclass
class Axis:
    """One dimension of the selected array: its name, and its coordinate values when there are any."""

    name: str
    length: int
    values: np.ndarray | None = None
    units: str | None = None

    def label(self) -> str:
        return f"{self.name} ({self.units})" if self.units and self.values is not None \
            and self.values.dtype.kind != "M" else self.name

    def describe(self, index: int) -> str:
        """'time = 2020-01-05 (index 4)' for a slider position."""
        if self.values is None:
            return f"{self.name} = {index}"
        units = f" {self.units}" if self.units and self.values.dtype.kind != "M" else ""
        return f"{self.name} = {format_value(self.values[index])}{units} (index {index})"

    def numeric_values(self) -> np.ndarray | None:
        """Coordinates as float64 for plotting (datetimes in ms since the epoch, as Bokeh expects)."""
        if self.values is None:
            return None
        if self.values.dtype.kind == "M":
            return self.values.astype("datetime64[ms]").astype(np.int64).astype(np.float64)
        if self.values.dtype.kind in "iuf":
            return self.values.astype(np.float64)
        return None

    def spacing(self, start: int = 0, stop: int | None = None) -> float | None:
        """The signed step between the coordinates start:stop when they are evenly spaced (finite,
        strictly monotonic, every step within 0.1 % of the first): then the axis is drawn in
        coordinates, else in indices (None)."""
        values = self.numeric_values()
        if values is None:
            return None
        values = values[start:stop]
        if values.size < 2 or not np.all(np.isfinite(values)):
            return None
        steps = np.diff(values)
        if not (np.all(steps > 0) or np.all(steps < 0)) or not np.allclose(steps, steps[0], rtol=1e-3):
            return None
        return float(steps[0])

    def extent(self, start: int, stop: int, step: int) -> tuple[float, float, bool] | None:
        """(low edge, width, ascending) of the samples start:stop:step on a regular coordinate axis;
        None when it is not one (see :meth:`spacing`)."""
        spacing = self.spacing(start, stop)
        if spacing is None:
            return None
        values = self.numeric_values()[start:stop]
        pitch = abs(spacing)
        samples = len(range(0, values.size, step))
        return float(values.min()) - pitch / 2, samples * step * pitch, spacing > 0


def dimension_names(arr) -> list[str]:
    names = arr.dimension_names or []
    return [str(names[d]) if d < len(names) and names[d] else f"dim_{d}" for d in range(len(arr.shape))]


def coordinate_path(array_path: str, name: str) -> str:
    parent = array_path.rsplit("/", 1)[0] if "/" in array_path else ""
    return f"{parent}/{name}" if parent else name


async def read_axes(hierarchy, nodes: dict, arr) -> list[Axis]:
    """The axes of ARR, reading each 1-D coordinate array found beside it in its group."""
    axes = []
    for dim, name in enumerate(dimension_names(arr)):
        axis = Axis(name, arr.shape[dim])
        node = nodes.get(coordinate_path(arr.path, name))
        meta = getattr(node, "metadata", None)
        if node is not None and node.path != arr.path and meta is not None and \
                meta.shape == (arr.shape[dim],) and arr.shape[dim] <= MAX_COORDINATE_LENGTH:
            coordinate = await hierarchy.array(node.path)
            axis.values = cf_decode(await coordinate.read(), node.attributes)
            units = node.attributes.get("units")
            axis.units = units if isinstance(units, str) else None
        axes.append(axis)
    return axes

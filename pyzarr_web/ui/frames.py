"""Where the samples of a zoomable image lie in the world: a linear map per displayed axis.

Deep zoom navigates in full-resolution sample indices (the viewport); the plot's axes, its hover
readout and its scale bar speak the data's own units when the metadata gives them — OME-NGFF
scale and translation with units, a GeoZarr / CF affine in a CRS, or evenly spaced coordinate
arrays — and fall back to indices otherwise. Each :class:`Frame` turns a full-resolution index
edge into a world coordinate and back.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyzarr_web.ui.coords import Axis
from pyzarr_web.ui.plots import Placement
from pyzarr_web.ui.pyramid import Pyramid

#: OME-NGFF space units that Bokeh's metric scale bar can show, as its unit symbols
METRIC_UNITS = {"nanometer": "nm", "micrometer": "µm", "millimeter": "mm", "centimeter": "cm", "meter": "m",
                "kilometer": "km"}


@dataclass(frozen=True)
class Frame:
    """``world = index * scale + origin`` for sample edges of one displayed axis."""

    label: str
    scale: float = 1.0
    origin: float = 0.0
    unit: str | None = None  # a METRIC_UNITS symbol when the axis is a length
    downward: bool = True  # rows run down the screen (images); False: the world axis points up (maps)

    @property
    def is_index(self) -> bool:
        return self.scale == 1.0 and self.origin == 0.0

    def world(self, index: float) -> float:
        return index * self.scale + self.origin

    def index(self, world: float) -> float:
        return (world - self.origin) / self.scale

    def placement(self, offset: float, samples: int, step: float) -> Placement:
        """SAMPLES samples from full-resolution index OFFSET, STEP apart, on this axis."""
        width = samples * step * abs(self.scale)
        if self.is_index:
            return Placement.index(self.label.split(" (")[0], offset, width, step)
        centres = [self.world(offset + (i + 0.5) * step) for i in range(samples)]
        low = min(self.world(offset), self.world(offset + samples * step))
        return Placement(low, width, self.scale < 0, "number", self.label, centres, offset)

    def span(self, low: float, high: float) -> tuple[float, float]:
        """Full-resolution indices [low, high) as world coordinates, lowest first."""
        a, b = self.world(low), self.world(high)
        return min(a, b), max(a, b)

    def indices(self, a: float, b: float) -> tuple[float, float]:
        """World coordinates back to full-resolution indices, lowest first."""
        i, j = self.index(a), self.index(b)
        return min(i, j), max(i, j)


def frames_for(pyramid: Pyramid, axes: list[Axis], dims: tuple[int, int]) -> tuple[Frame, Frame]:
    """The (rows, columns) frames of a zoomable image whose displayed array dimensions are DIMS."""
    ms = pyramid.multiscale
    georef = ms.georef if ms is not None else None
    affine = georef.affine if georef is not None else None
    if affine is not None and affine[1] == 0 and affine[3] == 0 and dims == (len(axes) - 2, len(axes) - 1):
        a, _, c, _, e, f = affine
        crs = georef.code or "map"
        names = georef.dimensions or ("y", "x")
        return (Frame(f"{names[0]} ({crs})", e, f, downward=False), Frame(f"{names[1]} ({crs})", a, c))
    if (ms is not None and ms.levels and ms.levels[0].scale and len(ms.axes) == len(axes)
            and any(ms.axes[d].unit for d in dims)):
        level = ms.levels[0]
        translation = level.translation or (0.0,) * len(level.scale)
        frames = []
        for d in dims:
            axis, scale = ms.axes[d], float(level.scale[d])
            unit = METRIC_UNITS.get(axis.unit or "")
            label = f"{axis.name} ({axis.unit})" if axis.unit else f"{axis.name} (index)"
            # OME-NGFF places sample centres at index * scale + translation
            frames.append(Frame(label, scale, float(translation[d]) - scale / 2, unit) if scale > 0
                          else Frame(label))
        return frames[0], frames[1]
    return _coordinate_frame(axes[dims[0]]), _coordinate_frame(axes[dims[1]])


def _coordinate_frame(axis: Axis) -> Frame:
    """A frame from an evenly spaced numeric coordinate array (cell centres), else indices."""
    if axis.values is None or axis.values.dtype.kind == "M" or axis.spacing() is None:
        return Frame(f"{axis.name} (index)")
    values = axis.numeric_values()
    spacing = (values[-1] - values[0]) / (values.size - 1)  # the mean step: no drift over the axis
    return Frame(axis.label(), float(spacing), float(values[0] - spacing / 2), downward=False)

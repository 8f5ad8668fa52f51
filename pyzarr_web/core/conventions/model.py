"""The one shape every multiscale convention is read into: levels finest first, axes, channels,
georeferencing, and the problems met on the way (malformed parts are reported, never raised)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Axis:
    name: str
    type: str | None = None  # "space", "time", "channel", … as the convention says
    unit: str | None = None


@dataclass
class Level:
    """One resolution level. ``path`` is relative to the multiscale group. ``scale`` and
    ``translation`` map this level's array indices to the multiscale's coordinate space
    (physical units for OME-NGFF; the finest level's pixels, or the CRS when a convention says
    so, for the others): ``coordinate = index * scale + translation``. None when unknown."""
    path: str
    scale: tuple[float, ...] | None = None
    translation: tuple[float, ...] | None = None
    shape: tuple[int, ...] | None = None  # from the level array's metadata, when read
    chunks: tuple[int, ...] | None = None
    #: 2-D affine [a, b, c, d, e, f] (x = a*col + b*row + c, y = d*col + e*row + f) into the CRS
    affine: tuple[float, ...] | None = None

    def to_json(self) -> dict:
        return {"path": self.path, "shape": _list(self.shape), "chunks": _list(self.chunks),
                "scale": _list(self.scale), "translation": _list(self.translation),
                "affine": _list(self.affine)}


@dataclass(frozen=True)
class Channel:
    """An OME ``omero`` channel: how to show one channel of a composite."""
    label: str | None = None
    color: str | None = None  # "RRGGBB"
    window: tuple[float, float] | None = None  # shown range (start, end)
    limits: tuple[float, float] | None = None  # data range (min, max), if given
    active: bool = True

    def to_json(self) -> dict:
        return {"label": self.label, "color": self.color, "window": _list(self.window),
                "limits": _list(self.limits), "active": self.active}


@dataclass
class Georef:
    """Where a 2-D grid lies on Earth."""
    code: str | None = None  # "EPSG:32632"
    wkt: str | None = None  # WKT2 (proj:wkt2) or the WKT1/WKT2 CF and GDAL write
    projjson: dict | None = None
    affine: tuple[float, ...] | None = None  # of the finest level, see :attr:`Level.affine`
    bbox: tuple[float, ...] | None = None  # [xmin, ymin, xmax, ymax] in the CRS
    dimensions: tuple[str, str] | None = None  # (y name, x name)
    registration: str = "pixel"  # "pixel" (cell edges) or "node" (cell centres)

    def to_json(self) -> dict:
        return {"code": self.code, "wkt": self.wkt, "projjson": self.projjson,
                "affine": _list(self.affine), "bbox": _list(self.bbox),
                "dimensions": _list(self.dimensions), "registration": self.registration}


@dataclass
class Multiscale:
    convention: str  # "ome-ngff", "geozarr", "geozarr-tms", "ndpyramid"
    version: str | None = None
    levels: list[Level] = field(default_factory=list)
    axes: list[Axis] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    georef: Georef | None = None
    name: str | None = None
    #: OME-NGFF label image: label value → RGBA (0-255), possibly empty
    label_colors: dict[int, tuple[int, ...]] | None = None
    guessed: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def is_label(self) -> bool:
        return self.label_colors is not None

    def to_json(self) -> dict:
        """The ``multiscale`` object of ``pyzarr-web tree --json``."""
        return {"convention": self.convention, "version": self.version,
                "guessed": self.guessed, "name": self.name,
                "axes": [{"name": a.name, "type": a.type, "unit": a.unit} for a in self.axes],
                "levels": [level.to_json() for level in self.levels],
                "crs": self.georef.to_json() if self.georef else None,
                "channels": [c.to_json() for c in self.channels],
                "label_colors": (None if self.label_colors is None else
                                 [{"value": k, "rgba": list(v)}
                                  for k, v in self.label_colors.items()]),
                "problems": list(self.problems)}


def _list(value) -> list | None:
    return None if value is None else list(value)

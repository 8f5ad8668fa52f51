"""Multichannel images as one picture: each channel in its colour, additively, within its window;
and label images as a coloured overlay.

OME-NGFF ``omero`` channels give each channel a label, colour, display window and on/off state;
the viewer keeps the user's edits of them (:class:`ChannelStyle`) and the composite is computed
from decoded tiles, so restyling never reads data again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from pyzarr_web.ui.values import robust_limits

#: most channels composited at once (more become a single-channel view with a slider)
MAX_COMPOSITE_CHANNELS = 8
_DEFAULT_COLORS = ("FF0000", "00FF00", "0000FF", "FF00FF", "00FFFF", "FFFF00", "FFFFFF", "FF8000")


@dataclass(frozen=True)
class ChannelStyle:
    label: str
    color: str  # "RRGGBB"
    window: tuple[float, float] | None  # None: from the data (robust limits)
    active: bool = True

    def to_json(self) -> dict:
        return {"label": self.label, "color": self.color, "active": self.active,
                "window": list(self.window) if self.window else None}

    @classmethod
    def from_json(cls, data: dict, default: ChannelStyle) -> ChannelStyle:
        """An edited style; fields that are missing or malformed keep DEFAULT's."""
        color = str(data.get("color", default.color)).lstrip("#").upper()
        window = data.get("window", default.window)
        try:
            window = (float(window[0]), float(window[1])) if window else None
        except (TypeError, ValueError, IndexError):
            window = default.window
        return replace(default, color=color if _is_hex(color) else default.color, window=window,
                       active=bool(data.get("active", default.active)))


def _is_hex(text: str) -> bool:
    return len(text) == 6 and all(c in "0123456789ABCDEF" for c in text)


def channel_dim(multiscale, ndim: int) -> int | None:
    """The array dimension of the channels, when the metadata names one."""
    if multiscale is None or len(multiscale.axes) != ndim:
        return None
    for d, axis in enumerate(multiscale.axes):
        if axis.type == "channel" or (axis.type is None and axis.name.lower() in ("c", "channel")):
            return d
    return None


def default_styles(multiscale, count: int) -> list[ChannelStyle]:
    """The omero channels as styles (one per channel of the array), filled in where missing."""
    given = list(multiscale.channels) if multiscale is not None else []
    styles = []
    for i in range(count):
        ch = given[i] if i < len(given) else None
        color = ch.color.upper() if ch is not None and ch.color and _is_hex(ch.color.upper()) \
            else _DEFAULT_COLORS[i % len(_DEFAULT_COLORS)]
        styles.append(ChannelStyle(label=(ch.label if ch is not None and ch.label else f"channel {i}"),
                                   color=color, window=ch.window if ch is not None else None,
                                   active=ch.active if ch is not None else i < 3))
    return styles


def composite(planes: list[np.ndarray], styles: list[ChannelStyle]) -> tuple[np.ndarray, list[tuple]]:
    """Additive RGBA (uint32, as Bokeh's image_rgba takes it) of PLANES, each in its style's
    colour and window; also the windows used (the data's robust limits where none was given)."""
    rgb = np.zeros(planes[0].shape + (3,), np.float32)
    windows = []
    for plane, style in zip(planes, styles):
        values = plane.astype(np.float32, copy=False)
        low, high = style.window or robust_limits(values[np.isfinite(values)][:100_000])
        windows.append((low, high))
        scaled = np.clip((values - low) / max(high - low, 1e-12), 0, 1)
        np.nan_to_num(scaled, copy=False)
        colour = np.array([int(style.color[i:i + 2], 16) / 255 for i in (0, 2, 4)], np.float32)
        rgb += scaled[..., None] * colour
    rgba = np.empty(planes[0].shape + (4,), np.uint8)
    rgba[..., :3] = np.clip(rgb * 255, 0, 255)
    rgba[..., 3] = 255
    return rgba.view(np.uint32)[..., 0], windows


def label_rgba(labels: np.ndarray, colors: dict[int, tuple[int, ...]]) -> np.ndarray:
    """A label image as packed RGBA: each value in its ``colors`` entry (OME ``image-label``
    colours), other non-zero values in a colour of their own, half transparent; 0 clear."""
    values, inverse = np.unique(labels, return_inverse=True)
    table = np.zeros((values.size, 4), np.uint8)
    for i, value in enumerate(values.tolist()):
        if value in colors:
            rgba = tuple(colors[value]) + (255,) * (4 - len(colors[value]))
            table[i] = rgba[:4]
        elif value != 0:  # a stable colour from the value: neighbouring labels differ
            h = (int(value) * 2654435761) & 0xFFFFFF
            table[i] = (h >> 16, (h >> 8) & 0xFF, h & 0xFF, 160)
    return table[inverse.reshape(labels.shape)].view(np.uint32)[..., 0]

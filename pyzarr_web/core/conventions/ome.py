"""OME-NGFF multiscale images, read from a group's attributes only.

Specifications read (https://ngff.openmicroscopy.org):

* 0.4 — ``multiscales`` at the top of ``.zattrs`` (Zarr v2): ``axes`` [{name, type, unit}],
  ``datasets`` [{path, coordinateTransformations}] finest first, each with one ``scale`` and an
  optional ``translation`` after it; optional multiscale-level ``coordinateTransformations``
  applied after the dataset's. ``omero.channels`` [{label, color, window {min, max, start, end},
  active}]. Label images: ``image-label`` {colors [{label-value, rgba}], source} (an image's
  ``labels`` group lists them; :mod:`..discovery` follows that list). (0.1–0.3 with string axes are read too.)
* 0.5 — the same objects under ``attributes.ome`` of ``zarr.json`` (Zarr v3), ``ome.version``.
* 0.6 (tolerated) — ``coordinateSystems`` [{name, axes}] instead of ``axes``; transformations
  carry ``input`` / ``output`` and may be a ``sequence`` of ``transformations``; the axes are
  those of the coordinate system the datasets' transformations output to.
"""

from __future__ import annotations

from typing import Any

from .fields import MISSING, Notes, get, is_number
from .model import Axis, Channel, Level, Multiscale


def namespace(attributes: dict) -> tuple[dict, str | None]:
    """(the object holding OME metadata, its version): 0.5+ keeps it under "ome"."""
    ome = attributes.get("ome")
    if isinstance(ome, dict):
        version = ome.get("version")
        return ome, version if isinstance(version, str) else None
    return attributes, None


def read(attributes: dict, where: str, zarr_format: int | None = None) -> Multiscale | None:
    """The OME-NGFF multiscale image (or label image) described by ``attributes``; None when
    they hold no OME ``multiscales``."""
    ns, version = namespace(attributes)
    if "multiscales" not in ns:
        return None
    notes = Notes(where)
    prefix = "ome." if ns is not attributes else ""
    entries = notes.items(ns["multiscales"], prefix + "multiscales", required=True)
    if not entries and isinstance(ns["multiscales"], list):
        notes.note(f"{prefix}multiscales: empty list, no image")
    field = prefix + "multiscales[0]"
    first = notes.obj(entries[0], field, required=True) if entries else None
    if first is None:
        return Multiscale("ome-ngff", version, problems=notes.problems)
    version = version or notes.text(get(first, "version"), field + ".version")
    if zarr_format == 2 and ns is not attributes:
        notes.note(f"OME-NGFF {version or '0.5+'} metadata (under 'ome') belongs in Zarr v3")
    axes = _axes(first, field, notes)
    ndim = len(axes) or None
    top = _transforms(get(first, "coordinateTransformations"), field + ".coordinateTransformations",
                      ndim, notes)
    levels = []
    datasets = notes.items(get(first, "datasets"), field + ".datasets", required=True)
    for _, dfield, ds, path in notes.entries_with_path(datasets, field + ".datasets"):
        scale, translation = _transforms(get(ds, "coordinateTransformations"),
                                         dfield + ".coordinateTransformations", ndim, notes)
        levels.append(Level(path, *_then(scale, translation, *top)))
    name = get(first, "name")
    return Multiscale("ome-ngff", version, levels, axes, _channels(ns, prefix, notes),
                      name=name if isinstance(name, str) else None,
                      label_colors=_label_colors(ns, prefix, notes), problems=notes.problems)


def _axes(entry: dict, field: str, notes: Notes) -> list[Axis]:
    """Axes of 0.1–0.5 (``axes``) or 0.6 (``coordinateSystems``)."""
    systems = get(entry, "coordinateSystems")
    if systems is not MISSING:
        systems = [s for i, s in enumerate(notes.items(systems, field + ".coordinateSystems"))
                   if notes.obj(s, f"{field}.coordinateSystems[{i}]", required=True) is not None]
        target = _output_system(entry)
        chosen = next((s for s in systems if s.get("name") == target), None)
        chosen = chosen or (systems[0] if systems else None)
        if chosen is None:
            return []
        i = systems.index(chosen)
        return _axis_list(chosen.get("axes"), f"{field}.coordinateSystems[{i}].axes", notes)
    return _axis_list(get(entry, "axes"), field + ".axes", notes)


def _output_system(entry: dict) -> Any:
    """0.6: the coordinate system the first dataset's transformation outputs to."""
    datasets = entry.get("datasets")
    first = datasets[0] if isinstance(datasets, list) and datasets else None
    transforms = first.get("coordinateTransformations") if isinstance(first, dict) else None
    for t in transforms if isinstance(transforms, list) else ():
        output = t.get("output") if isinstance(t, dict) else None
        if isinstance(output, dict):
            return output.get("name")
        if isinstance(output, str):
            return output
    return None


def _axis_list(value: Any, field: str, notes: Notes) -> list[Axis]:
    out = []
    for i, a in enumerate(notes.items(value, field)):
        if isinstance(a, str):  # 0.3: names only
            out.append(Axis(a, "space" if a in "zyx" else None))
        elif notes.obj(a, f"{field}[{i}]", required=True) is not None:
            name = notes.text(get(a, "name"), f"{field}[{i}].name", required=True)
            out.append(Axis(name if name is not None else f"dim_{i}",
                            notes.text(get(a, "type"), f"{field}[{i}].type"),
                            notes.text(get(a, "unit"), f"{field}[{i}].unit")))
    return out


Pair = tuple[tuple[float, ...] | None, tuple[float, ...] | None]


def _transforms(value: Any, field: str, ndim: int | None, notes: Notes) -> Pair:
    """Compose a list of scale / translation / identity (and 0.6 sequence) transformations
    into one (scale, translation); (None, None) when there are none."""
    scale: tuple[float, ...] | None = None
    translation: tuple[float, ...] | None = None
    for tfield, t in _flatten(notes.items(value, field), field, notes):
        kind = t.get("type")
        if kind == "identity":
            continue
        if kind not in ("scale", "translation"):
            notes.bad(tfield + ".type", '"scale", "translation", "identity" or "sequence"',
                      kind)
            continue
        if "path" in t:
            notes.note(f"{tfield}: transformation values stored in an array ('path') are not "
                       f"read")
            continue
        values = notes.numbers(get(t, kind), f"{tfield}.{kind}", ndim, nonzero=kind == "scale")
        if values is None:
            if kind not in t:
                notes.bad(f"{tfield}.{kind}", "a list of numbers")
            continue
        scale, translation = _then(scale, translation, *((values, None) if kind == "scale"
                                                         else (None, values)))
    return scale, translation


def _flatten(items: list, field: str, notes: Notes, depth: int = 0) -> list[tuple[str, dict]]:
    out = []
    for i, t in enumerate(items):
        tfield = f"{field}[{i}]"
        if notes.obj(t, tfield, required=True) is None:
            continue
        if t.get("type") == "sequence" and depth < 4:
            inner = notes.items(get(t, "transformations"), tfield + ".transformations",
                                required=True)
            out += _flatten(inner, tfield + ".transformations", notes, depth + 1)
        else:
            out.append((tfield, t))
    return out


def _then(scale, translation, scale2, translation2) -> Pair:
    """(scale, translation) followed by (scale2, translation2): x*s*s2 + t*s2 + t2."""
    if scale2 is not None:
        if translation is not None and len(translation) == len(scale2):
            translation = tuple(t * s for t, s in zip(translation, scale2))
        scale = scale2 if scale is None or len(scale) != len(scale2) else tuple(
            a * b for a, b in zip(scale, scale2))
    if translation2 is not None:
        translation = translation2 if translation is None or len(translation) != len(
            translation2) else tuple(a + b for a, b in zip(translation, translation2))
    return scale, translation


def _channels(ns: dict, prefix: str, notes: Notes) -> list[Channel]:
    omero = notes.obj(get(ns, "omero"), prefix + "omero")
    out = []
    for i, c in enumerate(notes.items(get(omero, "channels"), prefix + "omero.channels")):
        field = f"{prefix}omero.channels[{i}]"
        if notes.obj(c, field, required=True) is None:
            continue
        color = notes.text(get(c, "color"), field + ".color")
        if color is not None and not _is_hex_color(color):
            notes.bad(field + ".color", 'an RRGGBB hex colour such as "FF0000"', color)
            color = None
        window = notes.obj(get(c, "window"), field + ".window")
        active = get(c, "active")
        if active is not MISSING and not isinstance(active, bool):
            notes.bad(field + ".active", "true or false", active)
        out.append(Channel(notes.text(get(c, "label"), field + ".label"),
                           color.upper() if color else None,
                           _pair(window, "start", "end", field + ".window", notes),
                           _pair(window, "min", "max", field + ".window", notes),
                           active if isinstance(active, bool) else True))
    return out


def _is_hex_color(text: str) -> bool:
    return len(text) == 6 and all(c in "0123456789abcdefABCDEF" for c in text)


def _pair(window: dict | None, lo: str, hi: str, field: str,
          notes: Notes) -> tuple[float, float] | None:
    if window is None or lo not in window or hi not in window:
        return None
    if not (is_number(window[lo]) and is_number(window[hi])):
        notes.bad(f"{field}.{lo}/{hi}", "two finite numbers", [window[lo], window[hi]])
        return None
    return float(window[lo]), float(window[hi])


def _label_colors(ns: dict, prefix: str, notes: Notes) -> dict[int, tuple[int, ...]] | None:
    """None for an image; for a label image, its declared colours (label value → RGBA)."""
    if "image-label" not in ns:
        return None
    field = prefix + "image-label"
    label = notes.obj(ns["image-label"], field, required=True)
    out: dict[int, tuple[int, ...]] = {}
    for i, c in enumerate(notes.items(get(label, "colors"), field + ".colors")):
        cfield = f"{field}.colors[{i}]"
        if notes.obj(c, cfield, required=True) is None:
            continue
        value, rgba = get(c, "label-value"), get(c, "rgba")
        if not (is_number(value) and float(value).is_integer()):
            notes.bad(cfield + ".label-value", "an integer", value)
        elif not (isinstance(rgba, list) and len(rgba) == 4 and all(
                isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255
                for v in rgba)):
            notes.bad(cfield + ".rgba", "4 integers from 0 to 255", rgba)
        else:
            out[int(value)] = tuple(rgba)
    return out

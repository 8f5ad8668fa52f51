"""The info panel: a node's metadata as label/value rows, rendered as escaped HTML."""

from __future__ import annotations

import html

import numpy as np

from pyzarr_web.core import human_bytes


def _shape_text(shape) -> str:
    return " × ".join(str(n) for n in shape) if shape else "scalar"


def array_rows(arr, stored_bytes: int | None = None) -> list[tuple[str, str]]:
    """Label/value rows describing ZarrArray ARR; STORED_BYTES when the store could list it."""
    rows = [
        ("Zarr format", str(arr.zarr_format)),
        ("Shape", _shape_text(arr.shape)),
        ("Data type", f"{arr.dtype} ({np.dtype(arr.dtype).str})" if arr.dtype.fields is None else str(arr.dtype)),
        ("Chunk shape", _shape_text(arr.chunks)),
    ]
    if arr.shards is not None:
        rows.append(("Shard shape", _shape_text(arr.shards)))
    rows += [
        ("Chunks", f"{arr.nchunks:,}"),
        ("Codecs", " → ".join(arr.codec_summary()) or "none"),
        ("Fill value", repr(arr.fill_value.item() if isinstance(arr.fill_value, np.generic) else arr.fill_value)),
        ("Order", str(arr.order)),
    ]
    if arr.dimension_names:
        rows.append(("Dimensions", ", ".join(str(n) for n in arr.dimension_names)))
    rows.append(("Uncompressed size", human_bytes(arr.nbytes)))
    if stored_bytes is not None:
        ratio = f" (compression ratio {arr.nbytes / stored_bytes:.2f})" if stored_bytes else ""
        rows.append(("Stored size", human_bytes(stored_bytes) + ratio))
    elif arr.estimated_ratio() is not None:
        rows.append(("Compression ratio", f"≈ {arr.estimated_ratio():.2f}, from the {arr.chunks_fetched:,} "
                                          f"chunks read so far ({human_bytes(arr.bytes_fetched)})"))
    return rows


def multiscale_rows(pyramid) -> list[tuple[str, str]]:
    """Rows describing a multiscale image: its convention, axes, levels and CRS."""
    ms = pyramid.multiscale
    version = f" {ms.version}" if ms.version else ""
    rows = [("Convention", f"{ms.convention}{version}" + (" (guessed from the array names and shapes)"
                                                         if ms.guessed else ""))]
    if ms.name:
        rows.append(("Name", ms.name))
    if ms.axes:
        rows.append(("Axes", ", ".join(
            a.name + "".join(f" {v}" for v in (a.type, a.unit) if v) for a in ms.axes)))
    for i, level in enumerate(pyramid.levels):
        arr = level.array
        factor = " × ".join(f"{f:g}" for f in level.factors)
        rows.append((f"Level {i}", f"{arr.path}: {_shape_text(arr.shape)}, chunks {_shape_text(arr.chunks)}, "
                                   f"1 : {factor}"))
    scale = _physical_scale(ms)
    if scale:
        rows.append(("Pixel size", scale))
    if ms.georef is not None:
        g = ms.georef
        crs = g.code or (g.wkt.split("[", 1)[0] + "[…]" if g.wkt else None) or "given as PROJJSON"
        rows.append(("CRS", crs))
        if g.bbox:
            rows.append(("Bounding box", ", ".join(f"{v:g}" for v in g.bbox)))
    if ms.channels:
        rows.append(("Channels", ", ".join(c.label or "?" for c in ms.channels)))
    rows += [("Problem", p) for p in ms.problems[:5]]
    return rows


def _physical_scale(ms) -> str:
    """The finest level's sample size per axis with units, when the convention gives them."""
    level = ms.levels[0] if ms.levels else None
    if level is None or level.scale is None or len(ms.axes) != len(level.scale):
        return ""
    parts = [f"{a.name} {s:g} {a.unit}" for a, s in zip(ms.axes, level.scale) if a.unit]
    return ", ".join(parts)


def chunk_file_rows(files: dict[str, tuple[int, int]] | None, shown: int = 5) -> list[tuple[str, str]]:
    """Where a virtual array's chunks live: how many files, the total, the largest few."""
    if not files:
        return []
    chunks = sum(n for n, _ in files.values())
    size = sum(b for _, b in files.values())
    rows = [("Chunks live in", f"{len(files):,} file(s): {chunks:,} chunks, {human_bytes(size)} referenced")]
    for url, (n, b) in sorted(files.items(), key=lambda kv: -kv[1][1])[:shown]:
        rows.append(("", f"{url}: {n:,} chunks, {human_bytes(b)}"))
    if len(files) > shown:
        rows.append(("", f"… and {len(files) - shown:,} more"))
    return rows


def group_rows(node, child_count: int) -> list[tuple[str, str]]:
    return [("Zarr format", str(node.zarr_format)), ("Members", str(child_count))]


def rows_html(title: str, rows: list[tuple[str, str]]) -> str:
    """An HTML table whose every piece of text is escaped: store content is never markup."""
    body = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>" for label, value in rows
    )
    return f'<div class="pzw-info"><h3>{html.escape(title)}</h3><table>{body}</table></div>'

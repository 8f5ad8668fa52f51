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


def group_rows(node, child_count: int) -> list[tuple[str, str]]:
    return [("Zarr format", str(node.zarr_format)), ("Members", str(child_count))]


def rows_html(title: str, rows: list[tuple[str, str]]) -> str:
    """An HTML table whose every piece of text is escaped: store content is never markup."""
    body = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>" for label, value in rows
    )
    return f'<div class="pzw-info"><h3>{html.escape(title)}</h3><table>{body}</table></div>'

"""The table view: the values of the displayed slice, a page at a time. It is also how strings,
bools and complex values are read, since those have no image."""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, DataTable, TableColumn

from pyzarr_web.ui.coords import format_value

PAGE_ROWS = 100


class ValueTable:
    def __init__(self) -> None:
        self.source = ColumnDataSource(data={"index": [], "value": []})
        self.table = DataTable(source=self.source, columns=[], index_position=None, sizing_mode="stretch_width",
                               height=520, name="pzw-table")
        self.page = pn.widgets.IntInput(label="Page", value=1, start=1, end=1, width=120)
        self.page_note = pn.pane.HTML("", align="end")
        self.page.param.watch(lambda _event: self._fill(), "value")
        self._data: np.ndarray | None = None
        self._labels: list[str] = []
        self._offsets: list[int] = []
        self._steps: tuple[int, ...] = ()

    def panel(self) -> pn.viewable.Viewable:
        return pn.Column(pn.Row(self.page, self.page_note), pn.pane.Bokeh(self.table, sizing_mode="stretch_width"),
                         sizing_mode="stretch_width")

    def show(self, data: np.ndarray | None, axes, offsets=(), steps=()) -> None:
        """Show DATA (the displayed slice, axes in display order) from its first page."""
        self._data = data
        self._labels = [axis.name for axis in axes] if axes else []
        self._offsets, self._steps = list(offsets), tuple(steps)
        rows = 0 if data is None else max(data.size, 1)
        self.page.end = max(1, -(-rows // PAGE_ROWS))
        self.page.value = 1
        self.table.columns = [TableColumn(field=f"i{k}", title=label) for k, label in enumerate(self._labels)] + \
            [TableColumn(field="value", title="value")]
        self._fill()

    def _fill(self) -> None:
        data = self._data
        if data is None:
            self.source.data = {"value": []}
            self.page_note.object = ""
            return
        flat = data.reshape(-1)
        first = (self.page.value - 1) * PAGE_ROWS
        chunk = flat[first:first + PAGE_ROWS]
        positions = np.unravel_index(np.arange(first, first + chunk.size), data.shape) if data.ndim else ()
        columns = {f"i{k}": (self._offsets[k] + pos * self._steps[k]).tolist() for k, pos in enumerate(positions)}
        columns["value"] = [_cell(v) for v in chunk]
        self.source.data = columns
        self.page_note.object = f"rows {first + 1:,}–{first + chunk.size:,} of {flat.size:,}"


def _cell(value) -> str:
    if isinstance(value, (bytes, np.bytes_)):
        return repr(bytes(value))
    if isinstance(value, (np.complexfloating, complex)):
        return f"{value.real:.6g}{value.imag:+.6g}j"
    if isinstance(value, np.void):
        return str(value.tolist())
    return format_value(value.item() if isinstance(value, np.generic) and value.dtype.kind not in "mM" else value)

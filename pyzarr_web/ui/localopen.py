"""LocalOpener: open a store from the user's own disk, with no server — "Open folder…", "Open
file…" (a .zip or an OME-Zarr .ozx) or a folder or file dropped anywhere on the page.

The page keeps the ``File`` objects (handles: nothing is read here) and hands them to the worker
as a numbered set (``window.pyzarrPick`` in web/main.js); ``opened`` then becomes the store
source ``picked://SET/NAME``, which the worker reads lazily, a slice at a time
(:mod:`pyzarr_web.core.stores.picked_pyodide`). Outside the built page (``panel serve``) there
is no worker to hand files to, and the buttons say so.
"""

from __future__ import annotations

import param
from panel.custom import JSComponent

_ESM = r"""
function pick(files, name, model) {
  if (!window.pyzarrPick) { model.status = "Local files open only in the built page (pyzarr-web serve)"; return }
  if (!files.length) return
  model.opened = `picked://${window.pyzarrPick(files)}/${name}`
}

// the files of a dropped folder, walked without reading any of them
async function walk(entry, prefix, out) {
  if (entry.isFile) {
    out.push({path: prefix + entry.name, file: await new Promise((ok, fail) => entry.file(ok, fail))})
  } else if (entry.isDirectory) {
    const reader = entry.createReader()
    for (;;) {
      const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail))
      if (!batch.length) break
      for (const child of batch) await walk(child, prefix + entry.name + "/", out)
    }
  }
}

export function render({ model, el }) {
  const folder = document.createElement("input")
  folder.type = "file"
  folder.webkitdirectory = true
  folder.hidden = true
  folder.className = "pick-folder"
  const file = document.createElement("input")
  file.type = "file"
  file.accept = ".zip,.ozx"
  file.hidden = true
  file.className = "pick-file"
  const button = (text, input) => {
    const b = document.createElement("button")
    b.textContent = text
    b.title = "Read from your disk, in this page: nothing is uploaded"
    b.addEventListener("click", () => input.click())
    return b
  }
  folder.addEventListener("change", () => {
    const files = [...folder.files].map((f) => ({path: f.webkitRelativePath, file: f}))
    pick(files, files.length ? files[0].path.split("/")[0] : "", model)
    folder.value = ""
  })
  file.addEventListener("change", () => {
    const f = file.files[0]
    if (f) pick([{path: f.name, file: f}], f.name, model)
    file.value = ""
  })
  el.append(button("Open folder…", folder), button("Open file…", file), folder, file)

  if (!window.__pyzarrDropping) {  // one drop target for the page, however often this renders
    window.__pyzarrDropping = true
    document.addEventListener("dragover", (ev) => ev.preventDefault())
    document.addEventListener("drop", async (ev) => {
      ev.preventDefault()
      const entry = [...ev.dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).find(Boolean)
      if (!entry) {  // no entries (a browser without them, a file dropped by a script): a file is enough
        const f = ev.dataTransfer.files[0]
        if (f) pick([{path: f.name, file: f}], f.name, model)
        return
      }
      const files = []
      await walk(entry, "", files)
      pick(files, entry.name, model)
    })
  }
}
"""

_CSS = """
:host { display: flex; gap: 6px; align-items: center; }
button { font: inherit; font-size: 13px; padding: 5px 10px; border: 1px solid #bbb; border-radius: 4px;
         background: #f6f6f6; cursor: pointer; white-space: nowrap; }
button:hover { background: #ececec; }
"""


class LocalOpener(JSComponent):
    """Buttons (and a page-wide drop target) that open a local folder or zip (see the module docstring)."""

    opened = param.String(default="", doc="source of the local store last picked: picked://SET/NAME")
    status = param.String(default="", doc="why nothing could be opened, if so")

    _esm = _ESM
    _stylesheets = [_CSS]

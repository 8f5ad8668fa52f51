"""TreeView: the hierarchy as an expandable tree (Panel and Bokeh have none), drawn by a few lines
of plain DOM JavaScript in a :class:`panel.custom.JSComponent` — no network, no framework, so it
runs the same under ``panel serve`` and in the Pyodide worker of the built site (whose page loads
es-module-shims, through which Panel imports a component's module).

Parameters (all synced both ways with the page):

``nodes``     list of plain dicts, one per node, as :meth:`TreeModel.rows` makes them:
              ``{"path": "a/b", "name": "b", "kind": "group" | "array", "shape": [..] | None,
              "dtype": str | None, "count": int | None, "multiscale": "image" | "label" | None}``.
              ``count`` is a group's number of direct members; None means not known yet (lazy).
              An optional ``note`` (text) replaces an array's shape and dtype and comes before
              a group's member count (STAC documents and assets, :mod:`pyzarr_web.ui.stac`).
``selected``  the selected node's path, or None. The user's click / Enter / Space sets it; when
              the host sets it, the node is highlighted, its ancestors (and itself, if a group)
              expanded and it is scrolled into view. Either way the host's watcher sees one
              change and the page sends nothing back, so a host that acts only when the value
              differs from its own state needs no re-entrancy flag.
``expanded``  paths of the expanded groups (the root ``""`` by default). The user toggles them;
              the host may set them. An expanded group with no child in ``nodes`` and a
              ``count`` other than 0 shows "loading…" until the host adds its children (or sets
              its ``count`` to 0): that is how lazy children are asked for.
``filter``    the text of the filter box above the tree; a non-empty filter shows the nodes
              whose name contains it and their ancestors (:func:`pyzarr_web.ui.tree.matching`).
``matches``   computed here from ``nodes`` and ``filter``: the paths shown while filtering, or
              None when not filtering. Read-only for the host.
``page_size`` children of one group drawn at first; a "… N more" row draws the next page.

Names are only ever set as text (``textContent``), never parsed as HTML. Only the rows of
expanded groups are drawn, so thousands of nodes cost nothing until a group is opened.

Wiring in a host::

    tree = TreeView(height=480, sizing_mode="stretch_width")
    tree.nodes = TreeModel(await hierarchy.walk()).rows()   # a new store: also reset the rest
    tree.param.update(selected=None, expanded=[""], filter="")
    tree.param.watch(lambda e: host.select(e.new), "selected")       # user's choice (or yours)
    tree.param.watch(lambda e: host.load_children(e.new), "expanded")  # lazy stores only
    tree.selected = "grp/cube"                                        # show a node from Python
"""

from __future__ import annotations

import param
from panel.custom import JSComponent

from pyzarr_web.ui.tree import ancestors, matching

_ESM = r"""
const SVG = "http://www.w3.org/2000/svg"
// 16x16 outline icons (constant markup, built with createElementNS)
const ICONS = {
  group: "M1.5 4.5v8a1 1 0 0 0 1 1h11a1 1 0 0 0 1-1v-6.5a1 1 0 0 0-1-1H8L6.5 3h-4a1 1 0 0 0-1 1.5z",
  array: "M2 2.5h12v11H2zM2 6.2h12M2 9.8h12M6 2.5v11M10 2.5v11",
  image: "M2 2.5h12v11H2zM2 12l4-4.5 3 3 2-2 3 3.5M10.5 6.2a1 1 0 1 0 0-.01",
  label: "M2 2.5h6l6 6-5.5 5.5-6-6zM5 5.5a.8.8 0 1 0 0-.01",
}
const KIND_NAMES = {group: "group", array: "array", image: "multiscale image", label: "label image"}

function parentOf(path) {
  if (path === "") return null
  const i = path.lastIndexOf("/")
  return i < 0 ? "" : path.slice(0, i)
}

function icon(kind) {
  const svg = document.createElementNS(SVG, "svg")
  svg.setAttribute("viewBox", "0 0 16 16")
  svg.setAttribute("class", "tv-icon tv-icon-" + kind)
  svg.setAttribute("aria-hidden", "true")
  const p = document.createElementNS(SVG, "path")
  p.setAttribute("d", ICONS[kind])
  svg.append(p)
  return svg
}

function span(cls, text) {
  const s = document.createElement("span")
  s.className = cls
  s.textContent = text
  return s
}

export function render({ model, el }) {
  const box = document.createElement("div")
  box.className = "tv"
  const filter = document.createElement("input")
  filter.type = "search"
  filter.className = "tv-filter"
  filter.placeholder = "Filter by name"
  filter.setAttribute("aria-label", "Filter the hierarchy by name")
  filter.value = model.filter
  const list = document.createElement("div")
  list.className = "tv-list"
  list.setAttribute("role", "tree")
  list.setAttribute("aria-label", "Hierarchy")
  box.append(filter, list)

  const byPath = new Map()   // path -> node dict
  const kids = new Map()     // parent path -> child paths, in the order given
  const shown = new Map()    // parent path -> how many children are drawn ("… N more")
  let rows = []              // drawn rows: {type: "node" | "more" | "loading", path, level}
  let focused = null         // path of the row that takes Tab focus
  let scrollPending = true
  // the model's values as of the last draw (each read through the model proxy costs)
  let st = {selected: null, expanded: new Set(), matches: null, pageSize: 1}

  function index() {
    byPath.clear(); kids.clear()
    for (const n of model.nodes) byPath.set(n.path, n)
    for (const n of model.nodes) {
      const p = parentOf(n.path)
      if (p === null || !byPath.has(p)) continue
      if (!kids.has(p)) kids.set(p, [])
      kids.get(p).push(n.path)
    }
  }

  function visibleRows() {
    const out = []
    const keep = st.matches
    const walk = (path, level) => {
      out.push({type: "node", path, level})
      const n = byPath.get(path)
      if (n.kind !== "group" || !(keep || st.expanded.has(path))) return
      let children = kids.get(path) || []
      if (keep) children = children.filter((c) => keep.has(c))
      else if (children.length === 0 && n.count !== 0) out.push({type: "loading", path, level: level + 1})
      const limit = shown.get(path) || st.pageSize
      for (const c of children.slice(0, limit)) walk(c, level + 1)
      if (children.length > limit) out.push({type: "more", path, level: level + 1, hidden: children.length - limit})
    }
    for (const n of model.nodes) {
      if (keep && !keep.has(n.path)) continue
      const p = parentOf(n.path)
      if (p === null || !byPath.has(p)) walk(n.path, 1)
    }
    return out
  }

  function isOpen(path) {
    return st.matches != null || st.expanded.has(path)
  }

  function nodeRow(r) {
    const n = byPath.get(r.path)
    const kind = n.kind === "group" && n.multiscale ? n.multiscale : n.kind
    const row = document.createElement("div")
    row.className = "tv-row"
    row.setAttribute("role", "treeitem")
    row.setAttribute("aria-level", String(r.level))
    row.setAttribute("aria-selected", String(n.path === st.selected))
    row.dataset.path = n.path
    row.title = "/" + n.path + " (" + KIND_NAMES[kind] + ")"
    row.style.paddingLeft = (4 + 14 * (r.level - 1)) + "px"
    const twisty = span("tv-twisty", "")
    twisty.setAttribute("aria-hidden", "true")
    if (n.kind === "group") {
      row.setAttribute("aria-expanded", String(isOpen(n.path)))
      twisty.classList.add("tv-has-kids")
    }
    let meta = ""
    if (n.kind === "array") meta = (n.shape && n.shape.length ? n.shape.join("\u00d7") : "scalar") + " " + n.dtype
    else if (n.count != null) meta = n.count + (n.count === 1 ? " member" : " members")
    if (n.note) meta = n.note + (n.kind === "group" && n.count != null ? ", " + meta : "")
    row.append(twisty, icon(kind), span("tv-name", n.path === "" && !n.name ? "/" : n.name), span("tv-meta", meta))
    return row
  }

  function otherRow(r) {
    const row = document.createElement("div")
    row.style.paddingLeft = (22 + 14 * (r.level - 1)) + "px"
    row.dataset.path = r.path
    if (r.type === "more") {
      row.className = "tv-row tv-more"
      row.setAttribute("role", "treeitem")
      row.setAttribute("aria-level", String(r.level))
      row.textContent = "\u2026 " + r.hidden + " more"
    } else {
      row.className = "tv-row tv-loading"
      row.setAttribute("role", "none")
      row.setAttribute("aria-busy", "true")
      row.textContent = "loading\u2026"
    }
    return row
  }

  function keyOf(r) { return r.type === "more" ? "more:" + r.path : r.path }

  // changes arriving together (a click sets expanded and selected) are drawn once
  let queued = false
  let takeFocus = false
  function redraw(focus = false) {
    takeFocus = takeFocus || focus
    if (queued) return
    queued = true
    queueMicrotask(() => { queued = false; draw() })
  }

  function draw() {
    const active = el.getRootNode().activeElement
    const hadFocus = takeFocus || (active != null && list.contains(active))
    takeFocus = false
    const matches = model.matches
    st = {selected: model.selected, expanded: new Set(model.expanded),
          matches: matches == null ? null : new Set(matches), pageSize: model.page_size}
    rows = visibleRows()
    const focusable = rows.filter((r) => r.type !== "loading")
    if (!focusable.some((r) => keyOf(r) === focused)) {
      focused = focusable.some((r) => r.path === st.selected && r.type === "node") ? st.selected
        : (focusable.length ? keyOf(focusable[0]) : null)
    }
    const els = rows.map((r) => r.type === "node" ? nodeRow(r) : otherRow(r))
    rows.forEach((r, i) => { if (r.type !== "loading") els[i].tabIndex = keyOf(r) === focused ? 0 : -1 })
    if (rows.length === 0) {
      const empty = span("tv-empty", st.matches != null ? "No names match the filter." : "")
      els.push(empty)
    }
    list.replaceChildren(...els)
    if (hadFocus) focusedEl()?.focus({preventScroll: true})
    if (scrollPending) {
      const sel = list.querySelector('[aria-selected="true"]')
      if (sel) { sel.scrollIntoView({block: "nearest"}); scrollPending = false }
    }
  }

  function focusedEl() {
    const i = rows.findIndex((r) => r.type !== "loading" && keyOf(r) === focused)
    return i < 0 ? null : list.children[i]
  }

  function moveTo(r) {
    if (!r) return
    focused = keyOf(r)
    for (const c of list.children) if (c.tabIndex === 0) c.tabIndex = -1
    const e = focusedEl()
    e.tabIndex = 0
    e.focus({preventScroll: true})
    e.scrollIntoView({block: "nearest"})
  }

  function setExpanded(path, open) {
    if (st.matches != null || isOpen(path) === open) return
    model.expanded = open ? [...model.expanded, path] : model.expanded.filter((p) => p !== path)
  }

  function choose(r) {
    if (r.type === "more") {
      shown.set(r.path, (shown.get(r.path) || model.page_size) + model.page_size)
      redraw(true)
      return
    }
    focused = r.path
    if (byPath.get(r.path).kind === "group") setExpanded(r.path, true)
    if (model.selected !== r.path) model.selected = r.path
    redraw(true)
  }

  list.addEventListener("click", (ev) => {
    const rowEl = ev.target.closest(".tv-row")
    if (!rowEl || rowEl.classList.contains("tv-loading")) return
    const r = rows[Array.prototype.indexOf.call(list.children, rowEl)]
    if (ev.target.closest(".tv-has-kids")) {
      focused = r.path
      setExpanded(r.path, !isOpen(r.path))
      redraw(true)
      return
    }
    choose(r)
  })

  list.addEventListener("keydown", (ev) => {
    const nav = rows.filter((r) => r.type !== "loading")
    const i = nav.findIndex((r) => keyOf(r) === focused)
    const r = nav[i]
    if (!r) return
    const group = r.type === "node" && byPath.get(r.path).kind === "group"
    switch (ev.key) {
      case "ArrowDown": moveTo(nav[i + 1]); break
      case "ArrowUp": moveTo(nav[i - 1]); break
      case "Home": moveTo(nav[0]); break
      case "End": moveTo(nav[nav.length - 1]); break
      case "ArrowRight":
        if (group && !isOpen(r.path)) setExpanded(r.path, true)
        else if (group && nav[i + 1] && nav[i + 1].level > r.level) moveTo(nav[i + 1])
        break
      case "ArrowLeft":
        if (group && isOpen(r.path) && st.matches == null) setExpanded(r.path, false)
        else {
          const parent = r.type === "more" ? r.path : parentOf(r.path)
          moveTo(nav.find((x) => x.type === "node" && x.path === parent))
        }
        break
      case "Enter": case " ": choose(r); break
      default: return
    }
    ev.preventDefault()
  })

  filter.addEventListener("input", () => { model.filter = filter.value })

  model.on("nodes", () => { index(); if (model.selected != null) reveal(model.selected); redraw() })
  model.on(["expanded", "matches", "page_size"], () => redraw())
  function reveal(path) {
    // draw enough pages of the parent's children to include PATH
    const p = parentOf(path)
    const i = (kids.get(p) || []).indexOf(path)
    const limit = shown.get(p) || model.page_size
    if (i >= limit) shown.set(p, Math.ceil((i + 1) / model.page_size) * model.page_size)
  }

  model.on("selected", () => {
    if (model.selected != null) { focused = model.selected; reveal(model.selected) }
    scrollPending = true
    redraw()
  })
  model.on("filter", () => { if (filter.value !== model.filter) filter.value = model.filter })

  index()
  if (model.selected != null) reveal(model.selected)
  draw()
  return box
}
"""

_CSS = """
:host { display: block; }
.tv { display: flex; flex-direction: column; gap: 6px; height: 100%; min-height: 0;
      font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; }
.tv-filter { box-sizing: border-box; width: 100%; padding: 5px 8px; font: inherit;
             border: 1px solid #d0d7de; border-radius: 4px; background: #fff; }
.tv-filter:focus { outline: 2px solid #2b6cb0; outline-offset: -1px; }
.tv-list { flex: 1 1 auto; min-height: 0; overflow: auto; border: 1px solid #d0d7de;
           border-radius: 4px; background: #fff; padding: 2px 0; }
.tv-row { display: flex; align-items: center; gap: 4px; min-height: 24px; padding-right: 8px;
          white-space: nowrap; cursor: pointer; user-select: none;
          content-visibility: auto; contain-intrinsic-size: auto 24px; }  /* lay out what shows */
.tv-row:hover { background: #f3f4f6; }
.tv-row[aria-selected="true"] { background: #dbeafe; }
.tv-row:focus { outline: none; }
.tv-row:focus-visible { outline: 2px solid #2b6cb0; outline-offset: -2px; }
.tv-twisty { flex: none; width: 14px; height: 14px; display: inline-flex; align-items: center;
             justify-content: center; color: #57606a; }
.tv-has-kids::before { content: ""; border: 4px solid transparent; border-left: 5px solid currentColor;
                       margin-left: 4px; transition: transform 0.1s; transform-origin: 2px 50%; }
.tv-row[aria-expanded="true"] > .tv-has-kids::before { transform: rotate(90deg); }
.tv-icon { flex: none; width: 16px; height: 16px; fill: none; stroke: currentColor;
           stroke-width: 1.2; stroke-linejoin: round; }
.tv-icon-group { color: #9a6700; }
.tv-icon-array { color: #0969da; }
.tv-icon-image { color: #1a7f37; }
.tv-icon-label { color: #8250df; }
.tv-name { flex: 0 1 auto; min-width: 3em; overflow: hidden; text-overflow: ellipsis; }
.tv-meta { flex: 0 1000 auto; min-width: 0; overflow: hidden; text-overflow: ellipsis;
           color: #6e7781; font-size: 11px; margin-left: 4px; }
.tv-more { color: #0969da; }
.tv-loading { color: #6e7781; font-style: italic; cursor: default; }
.tv-empty { display: block; padding: 6px 8px; color: #6e7781; }
@media (pointer: coarse) { .tv-row { min-height: 32px; } }
"""


class TreeView(JSComponent):
    """An expandable, keyboard-navigable tree of a Zarr hierarchy (see the module docstring)."""

    nodes = param.List(default=[], item_type=dict, doc="one plain dict per node (TreeModel.rows)")
    selected = param.String(default=None, allow_None=True, doc="path of the selected node")
    expanded = param.List(default=[""], item_type=str, doc="paths of the expanded groups")
    filter = param.String(default="", doc="show only names containing this, with their ancestors")
    matches = param.List(default=None, allow_None=True, item_type=str,
                         doc="paths shown while filtering (None: not filtering); computed")
    page_size = param.Integer(default=200, bounds=(1, None), doc="children of a group drawn at first")

    _esm = _ESM
    _stylesheets = [_CSS]

    @param.depends("nodes", "filter", watch=True, on_init=True)
    def _filter(self) -> None:
        needle = self.filter.strip()
        self.matches = matching((n["path"] for n in self.nodes), needle) if needle else None

    @param.depends("selected", watch=True, on_init=True)
    def _reveal(self) -> None:
        """Expand the selection's ancestors, so the page can scroll it into view, and the
        selection itself when it is a group, to show what it holds."""
        if self.selected is None:
            return
        opened = [*reversed(ancestors(self.selected))]
        if any(n["path"] == self.selected and n["kind"] == "group" for n in self.nodes):
            opened.append(self.selected)
        closed = [a for a in opened if a not in self.expanded]
        if closed:
            self.expanded = [*self.expanded, *closed]

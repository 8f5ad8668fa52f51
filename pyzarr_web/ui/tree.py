"""The hierarchy as the tree widget shows it: groups expand lazily, a filter shows matches and
their ancestors, and each array line shows its shape and dtype at a glance.

:meth:`TreeModel.rows` gives the plain dicts :class:`pyzarr_web.ui.treeview.TreeView` draws;
:func:`matching` is the filter both use."""

from __future__ import annotations

from typing import Iterable

from pyzarr_web.core.discovery import multiscale_kind

INDENT = "\u00a0\u00a0\u00a0"  # non-breaking: <option> text keeps it


def parent_of(path: str) -> str | None:
    if path == "":
        return None
    return path.rsplit("/", 1)[0] if "/" in path else ""


def ancestors(path: str) -> list[str]:
    out, parent = [], parent_of(path)
    while parent is not None:
        out.append(parent)
        parent = parent_of(parent)
    return out


def matching(paths: Iterable[str], needle: str) -> list[str]:
    """Those of PATHS whose name contains NEEDLE (case-insensitive), with their ancestors for
    context, in the order of PATHS."""
    paths = list(paths)
    needle = needle.lower()
    hits = {p for p in paths if p and needle in p.rsplit("/", 1)[-1].lower()}
    keep = hits | {a for p in hits for a in ancestors(p)}
    return [p for p in paths if p in keep]


def row(node, count: int | None) -> dict:
    """One node as the tree view's plain dict (COUNT: its direct members, None if not known yet)."""
    if node.kind == "array":
        meta = node.metadata
        return {"path": node.path, "name": node.name, "kind": "array", "shape": list(meta.shape),
                "dtype": str(meta.dtype), "count": None, "multiscale": None}
    return {"path": node.path, "name": node.name, "kind": "group", "shape": None, "dtype": None,
            "count": count, "multiscale": multiscale_kind(node.attributes)}


class TreeModel:
    def __init__(self, nodes: list) -> None:
        self.nodes = {node.path: node for node in nodes}
        self.children: dict[str, list[str]] = {}
        for path in self.nodes:
            parent = parent_of(path)
            if parent is not None:
                self.children.setdefault(parent, []).append(path)

    def member_count(self, path: str) -> int:
        """Number of nodes below PATH."""
        kids = self.children.get(path, [])
        return len(kids) + sum(self.member_count(kid) for kid in kids)

    def visible(self, selected: str | None) -> list[str]:
        """Depth-first paths with only the root, the selection and its ancestors expanded."""
        expanded = {""} | set(ancestors(selected) if selected is not None else [])
        if selected is not None and selected in self.children:
            expanded.add(selected)
        out, stack = [], ([""] if "" in self.nodes else [])
        while stack:
            path = stack.pop()
            out.append(path)
            if path in expanded:
                stack.extend(reversed(self.children.get(path, [])))
        return out

    def matching(self, needle: str) -> list[str]:
        """Paths whose name contains NEEDLE (case-insensitive), with their ancestors for context."""
        return matching(self.nodes, needle)

    def rows(self) -> list[dict]:
        """Every node as :class:`~pyzarr_web.ui.treeview.TreeView` takes it, in the order given
        (a walk lists every node, so each group's member count is known)."""
        return [row(node, len(self.children.get(path, []))) for path, node in self.nodes.items()]

    def label(self, path: str, selected: str | None) -> str:
        node = self.nodes[path]
        indent = INDENT * (path.count("/") + 1 if path else 0)
        name = node.name if path else "/"
        if node.kind == "group":
            opened = path == "" or path == selected or (selected is not None and path in ancestors(selected))
            count = len(self.children.get(path, []))
            return f"{indent}{'▾' if opened else '▸'} {name}  [{count}]"
        meta = node.metadata
        shape = "×".join(str(n) for n in meta.shape) if meta.shape else "scalar"
        return f"{indent}▦ {name}  {shape} {meta.dtype}"

    def options(self, needle: str, selected: str | None) -> dict[str, str]:
        """label → path for the tree widget (labels made unique, as the widget keys on them)."""
        paths = self.matching(needle) if needle else self.visible(selected)
        options: dict[str, str] = {}
        for path in paths:
            label = self.label(path, selected)
            while label in options:
                label += "\u200b"
            options[label] = path
        return options

"""The hierarchy as the tree widget shows it: groups expand lazily, a filter shows matches and
their ancestors, and each array shows its shape and dtype at a glance.

:meth:`TreeModel.rows` gives the plain dicts :class:`pyzarr_web.ui.treeview.TreeView` draws;
:func:`matching` is the filter both use."""

from __future__ import annotations

from collections.abc import Iterable

from pyzarr_web.core.discovery import multiscale_kind


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

    def matching(self, needle: str) -> list[str]:
        """Paths whose name contains NEEDLE (case-insensitive), with their ancestors for context."""
        return matching(self.nodes, needle)

    def rows(self) -> list[dict]:
        """Every node as :class:`~pyzarr_web.ui.treeview.TreeView` takes it, in the order given
        (a walk lists every node, so each group's member count is known)."""
        return [row(node, len(self.children.get(path, []))) for path, node in self.nodes.items()]

"""Node paths that metadata names: only plain relative paths below a group are followed, so a
hostile attribute cannot point a reader at ``..``, absolute keys, URLs or hidden documents."""

from __future__ import annotations

MAX_NAME = 255


def resolve(base: str, relative: str) -> str | None:
    """``relative`` joined under ``base``, or None if it is not a plain relative node path
    (absolute, ``..``, empty parts, URLs, query or fragment characters, hidden names)."""
    relative = relative.strip()
    if not relative or relative.startswith("/") or len(relative) > 4 * MAX_NAME:
        return None
    parts = relative.split("/")
    for part in parts:
        if (not part or part.startswith(".") or len(part) > MAX_NAME
                or any(c in part for c in "?#\\:%") or not part.isprintable()):
            return None
    return "/".join([base, *parts]) if base else "/".join(parts)

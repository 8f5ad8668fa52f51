"""Text for a terminal: node names, attribute values and keys come from stores nobody checked, so
control characters in them must not reach the terminal as controls."""

from __future__ import annotations

import re

#: C0 and C1 controls (newline, ESC, BEL …), DEL, line/paragraph separators and the bidi
#: embeddings, overrides, isolates and marks that reorder what follows them on screen
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str) -> str:
    """``text`` with every unsafe character written as a visible escape (``\\x1b``,
    ``\\u202e``): one output line stays one line and no escape sequence runs."""
    return UNSAFE.sub(_escape, text)

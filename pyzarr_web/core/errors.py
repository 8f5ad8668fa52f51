"""Exceptions of the reader. Every message names the key, URL or path concerned and what was wrong."""


class ZarrError(Exception):
    """Base of every error the reader raises on purpose."""


class StoreError(ZarrError):
    """A store could not be opened or a key could not be fetched (other than 'missing')."""


class ListingUnavailable(StoreError):
    """A server does not list this folder (forbidden, no such API, not a directory listing):
    discovery falls back to following the metadata."""


class MetadataError(ZarrError):
    """Metadata is missing, malformed or uses something this reader does not support."""


class CodecError(ZarrError):
    """A chunk could not be decoded (unknown codec, corrupt or truncated data, size mismatch)."""


class BudgetError(ZarrError):
    """A read would return more bytes than the configured memory budget."""


class NodeNotFoundError(ZarrError, KeyError):
    """No group or array exists at the requested path."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class SelectionError(ZarrError, IndexError):
    """A selection is malformed or out of bounds."""

"""Codecs. Importing this package registers every codec; :func:`build_v2` / :func:`build_v3` turn
metadata into a :class:`Pipeline`."""

from . import compressors, filters, layout, sharding, vlen  # noqa: F401  (registration)
from .backends import get_backend, set_backend
from .base import ChunkSpec
from .pipeline import Pipeline, build_v2, build_v3

__all__ = ["ChunkSpec", "Pipeline", "build_v2", "build_v3", "get_backend", "set_backend"]

"""The Zarr read core: pure Python + numpy, unchanged on CPython and Pyodide.

    store = open_store("https://…/x.zarr")      # or a directory, a .zip, "/data/x.zarr" in Pyodide
    h = await Hierarchy.open(store)
    arr = await h.array("a/b")
    block = await arr.read("0,:,10:20")
"""

from .array import DEFAULT_BUDGET, ZarrArray, human_bytes
from .errors import BudgetError, CodecError, MetadataError, NodeNotFoundError, SelectionError, StoreError, ZarrError
from .hierarchy import Hierarchy, Node
from .indexing import parse_selection
from .sources import open_store, parse_source, raw_store, store_kind, wrap
from .store import RangeRequest, Store, SuffixRequest, base_store

__all__ = ["BudgetError", "base_store", "CodecError", "DEFAULT_BUDGET", "Hierarchy", "MetadataError", "Node",
           "NodeNotFoundError", "RangeRequest", "SelectionError", "Store", "StoreError",
           "SuffixRequest", "ZarrArray", "ZarrError", "human_bytes", "open_store", "parse_selection",
           "parse_source", "raw_store", "store_kind", "wrap"]

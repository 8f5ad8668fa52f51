"""An Icechunk repository written by the ``icechunk`` package, shared by the CPython and browser
tests, and what icechunk's own reader reads from it.

History: commit "first" (a group with attributes, a zstd-compressed array ``a`` stored as native
chunks, a small coordinate ``x`` stored inline), tagged ``v1``; branch ``dev`` from it with
commit "dev edit"; on main commit "second" (part of ``a`` rewritten, array ``virt`` whose chunks
are virtual references into ``virtual.bin``, a raw file beside it). icechunk 1.x drops the port
of an http:// location, so the references name the file by its ``file://`` URL; the tests read
it over HTTP by moving the targets (``target_base``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import icechunk
import numpy as np
import zarr

VIRT_SHAPE, VIRT_CHUNKS = (8, 10), (4, 5)


def write_virtual_file(folder: Path) -> tuple[np.ndarray, dict[tuple[int, int], tuple[int, int]]]:
    """virtual.bin: the uncompressed little-endian float32 chunks of a (8, 10) array, in
    reverse order after a 100-byte preamble; returns the array and each chunk's (offset, length)."""
    data = (np.arange(80, dtype="<f4").reshape(VIRT_SHAPE) * 1.5 - 7).astype("<f4")
    body, where = bytearray(b"\x7f" * 100), {}
    coords = [(i, j) for i in range(2) for j in range(2)][::-1]
    for i, j in coords:
        chunk = np.ascontiguousarray(data[4 * i:4 * i + 4, 5 * j:5 * j + 5]).tobytes()
        where[(i, j)] = (len(body), len(chunk))
        body += chunk
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "virtual.bin").write_bytes(bytes(body))
    return data, where


def virtual_url(folder: Path) -> str:
    return f"file://{folder.resolve()}/virtual.bin"


def write_repo(path: Path, folder: Path, chunks_at: dict) -> dict[str, str]:
    """The repository at PATH, virtual chunks in FOLDER/virtual.bin. Returns the snapshot id of
    each commit by message."""
    prefix = f"file://{folder.resolve()}/"
    config = icechunk.RepositoryConfig.default()
    config.set_virtual_chunk_container(icechunk.VirtualChunkContainer(
        prefix, icechunk.local_filesystem_store(str(folder.resolve()))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        repo = icechunk.Repository.create(icechunk.local_filesystem_storage(str(path)), config,
                                          authorize_virtual_chunk_access={prefix: None})
    rng = np.random.default_rng(5)
    session = repo.writable_session("main")
    root = zarr.group(store=session.store)
    root.attrs["title"] = "icechunk test"
    a = root.create_array("a", shape=(60, 80), chunks=(20, 40), dtype="f4", dimension_names=["y", "x"])
    a[:] = rng.normal(0, 1, (60, 80)).astype("f4")
    root.create_array("x", shape=(80,), chunks=(80,), dtype="i2")[:] = np.arange(80, dtype="i2")
    first = session.commit("first")
    repo.create_tag("v1", first)
    repo.create_branch("dev", first)

    session = repo.writable_session("dev")
    zarr.open_array(session.store, path="a")[:20, :] = 7.0
    dev = session.commit("dev edit")

    session = repo.writable_session("main")
    zarr.open_array(session.store, path="a")[30:50, 10:70] = -3.5
    root = zarr.open_group(session.store)
    root.create_array("virt", shape=VIRT_SHAPE, chunks=VIRT_CHUNKS, dtype="<f4", compressors=None,
                      fill_value=0.0)
    for (i, j), (offset, length) in chunks_at.items():
        session.store.set_virtual_ref(f"virt/c/{i}/{j}", virtual_url(folder), offset=offset, length=length)
    second = session.commit("second")
    return {"first": first, "dev edit": dev, "second": second}


def read_with_icechunk(path: Path, folder: Path, **ref) -> dict[str, np.ndarray]:
    """Every array as icechunk's own reader reads it at REF (branch=, tag= or snapshot_id=)."""
    prefix = f"file://{folder.resolve()}/"
    repo = icechunk.Repository.open(icechunk.local_filesystem_storage(str(path)),
                                    authorize_virtual_chunk_access={prefix: None})
    group = zarr.open_group(repo.readonly_session(**ref).store, mode="r")
    return {name: arr[...] for name, arr in group.arrays()}

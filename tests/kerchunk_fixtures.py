"""Kerchunk reference fixtures written by the real tools, shared by the CPython and browser tests.

NetCDF4 files (netCDF4) and an HDF5 file (h5py) are turned into references by kerchunk's
``SingleHdf5ToZarr`` and combined along time by ``MultiZarrToZarr``; the references are written
as JSON with the target URLs the tests need (relative, absolute paths, http) and as Parquet by
fsspec's ``LazyReferenceMapper`` (what ``kerchunk.df.refs_to_dataframe`` uses).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import fsspec
import h5py
import netCDF4
import numpy as np
from fsspec.implementations.reference import LazyReferenceMapper
from kerchunk.combine import MultiZarrToZarr
from kerchunk.hdf import SingleHdf5ToZarr

#: netCDF files combined along time
NFILES = 3
TIMES = 4
SHAPE = (TIMES, 30, 40)
CHUNKS = (1, 15, 20)


def write_netcdf(root: Path) -> list[str]:
    """NFILES NetCDF4 files of a zlib-compressed 3-D variable chunked (1, 15, 20), a time
    coordinate and a small integer variable (inlined by kerchunk); returns their names."""
    names = []
    for i in range(NFILES):
        name = f"part{i}.nc"
        with netCDF4.Dataset(root / name, "w") as ds:
            ds.createDimension("time", TIMES)
            ds.createDimension("y", SHAPE[1])
            ds.createDimension("x", SHAPE[2])
            t = ds.createVariable("time", "f8", ("time",))
            t[:] = np.arange(TIMES) + TIMES * i
            t.units = "days since 2000-01-01"
            v = ds.createVariable("temp", "f4", ("time", "y", "x"), chunksizes=CHUNKS, zlib=True)
            v[:] = np.random.default_rng(i).normal(280, 5, SHAPE).astype("f4")
            v.units = "K"
            flag = ds.createVariable("flag", "i2", ("x",))
            flag[:] = np.arange(SHAPE[2]) * 7 - 100
        names.append(name)
    return names


def write_hdf5(root: Path) -> str:
    """An HDF5 file (h5py) with an uncompressed chunked dataset, whose chunks lie back to back
    in the file (what generator references and range coalescing are about)."""
    name = "grid.h5"
    with h5py.File(root / name, "w") as f:
        f.create_dataset("grid", data=np.arange(64 * 48, dtype="<u2").reshape(64, 48), chunks=(8, 48))
        f["grid"].attrs["long_name"] = "counter"
    return name


def single_refs(root: Path, name: str, url: str) -> dict:
    """SingleHdf5ToZarr's references for file NAME in ROOT, its target written as URL."""
    with open(root / name, "rb") as f:
        return SingleHdf5ToZarr(f, url=url, inline_threshold=100).translate()


def multi_refs(singles: list[dict]) -> dict:
    """MultiZarrToZarr along time, in a thread of its own: it runs an event loop, and in the
    browser tests Playwright's already runs in the main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: MultiZarrToZarr(singles, concat_dims=["time"],
                                                   identical_dims=["flag"]).translate()).result()


def write_json(path: Path, refs: dict) -> Path:
    path.write_text(json.dumps(refs))
    return path


def write_parquet(folder: Path, refs: dict, record_size: int) -> Path:
    """REFS as a Parquet reference folder, written as kerchunk's ``refs_to_dataframe`` does
    (fsspec's LazyReferenceMapper), with the pyarrow engine."""
    out = LazyReferenceMapper.create(root=str(folder), fs=fsspec.filesystem("file"),
                                     record_size=record_size, engine="pyarrow")
    for key in sorted(refs["refs"]):
        out[key] = refs["refs"][key]
    out.flush()
    return folder

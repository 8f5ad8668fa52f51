"""VirtualiZarr output in its serialised forms, read through the core: NetCDF4 files opened
virtually by VirtualiZarr's HDF parser, concatenated along time with xarray, then written as
Kerchunk JSON, as Kerchunk Parquet and into an Icechunk repository (virtual chunk references);
each compared with what fsspec's reference filesystem or icechunk's own reader reads."""

from __future__ import annotations

import asyncio
import warnings

import icechunk
import numpy as np
import pytest
import xarray as xr
import zarr
from kerchunk_fixtures import NFILES, SHAPE, TIMES, write_netcdf
from obspec_utils.registry import ObjectStoreRegistry
from obstore.store import LocalStore
from virtualizarr import open_virtual_dataset
from virtualizarr.parsers import HDFParser

from pyzarr_web.core import Hierarchy, open_store


@pytest.fixture(scope="module")
def combined(tmp_path_factory):
    root = tmp_path_factory.mktemp("vz")
    names = write_netcdf(root)
    registry = ObjectStoreRegistry({"file://": LocalStore()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts = [open_virtual_dataset(f"file://{root}/{n}", registry=registry, parser=HDFParser(),
                                      loadable_variables=[]) for n in names]
        dataset = xr.concat(parts, dim="time", data_vars="minimal", coords="minimal", compat="override")
    return root, dataset


def read_all(source: str, **options) -> dict[str, np.ndarray]:
    async def go():
        h = await Hierarchy.open(open_store(source, **options))
        return {n.path: await (await h.array(n.path)).read() for n in await h.walk() if n.kind == "array"}
    return asyncio.run(asyncio.wait_for(go(), 30))


def reference(path) -> xr.Dataset:
    return xr.open_dataset("reference://", engine="zarr", mask_and_scale=False, decode_times=False,
                           backend_kwargs={"consolidated": False, "storage_options": {"fo": str(path)}})


def test_kerchunk_json_and_parquet(combined):
    root, dataset = combined
    dataset.vz.to_kerchunk(str(root / "vz.json"), format="json")
    dataset.vz.to_kerchunk(str(root / "vz.parq"), format="parquet", record_size=7)
    ours = read_all(str(root / "vz.json"))
    expected = reference(root / "vz.json")
    assert sorted(ours) == sorted(expected.variables)
    for name in expected.variables:
        np.testing.assert_array_equal(ours[name], expected[name].values, err_msg=name)
    assert ours["temp"].shape == (TIMES * NFILES, *SHAPE[1:])
    parquet = read_all(str(root / "vz.parq"))
    for name, value in ours.items():
        np.testing.assert_array_equal(parquet[name], value, err_msg=name)


def test_icechunk_with_virtual_references(combined):
    root, dataset = combined
    prefix = f"file://{root}/"
    config = icechunk.RepositoryConfig.default()
    config.set_virtual_chunk_container(icechunk.VirtualChunkContainer(
        prefix, icechunk.local_filesystem_store(str(root))))
    storage = icechunk.local_filesystem_storage(str(root / "repo"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        repo = icechunk.Repository.create(storage, config, authorize_virtual_chunk_access={prefix: None})
        session = repo.writable_session("main")
        dataset.vz.to_icechunk(session.store)
        session.commit("virtual dataset")
        theirs = zarr.open_group(icechunk.Repository.open(
            storage, authorize_virtual_chunk_access={prefix: None}).readonly_session(branch="main").store, mode="r")
        expected = {name: arr[...] for name, arr in theirs.arrays()}
    ours = read_all(str(root / "repo"))
    assert sorted(ours) == sorted(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(ours[name], value, err_msg=name)
    assert ours["temp"].shape == (TIMES * NFILES, *SHAPE[1:])

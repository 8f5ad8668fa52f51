"""Multiscale conventions read from metadata only, on stores written by the real writers
(ome-zarr-py for OME-NGFF 0.4/0.5 with omero channels and labels, ndpyramid for CarbonPlan
pyramids) and, for GeoZarr, by zarr-python from the specifications' own examples; malformed
attributes give problems, never exceptions; ``pyzarr-web tree`` shows the model."""

from __future__ import annotations

import copy
import json
import random
import warnings

import ndpyramid
import numpy as np
import pytest
import rioxarray  # noqa: F401  (the .rio accessor ndpyramid's reprojection uses)
import xarray as xr
import zarr
from click.testing import CliRunner
from ome_zarr import format as ome_format
from ome_zarr import writer as ome_writer

from pyzarr_web.core import Hierarchy, open_store
from pyzarr_web.core.conventions import (
    grid_mapping_name,
    guess_multiscale,
    read_cf_georef,
    read_level_metadata,
    read_multiscale,
)
from pyzarr_web.core.conventions.fields import MAX_PROBLEMS
from pyzarr_web.core.discovery import multiscale_levels
from pyzarr_web.tools.cli import main

CHANNELS = [{"label": "DAPI", "color": "0000FF", "active": True,
             "window": {"min": 0, "max": 65535, "start": 10, "end": 1000}},
            {"label": "GFP", "color": "00ff00", "active": False,
             "window": {"min": 0, "max": 4095, "start": 0, "end": 400}}]


def _ome(path, fmt):
    """A 2-channel 64×64 image, 3 levels, pixel size 0.5×0.25 µm, with a label image (which
    ome-zarr-py writes with 5 levels)."""
    g = zarr.open_group(str(path), mode="w", zarr_format=fmt.zarr_format)
    data = np.arange(2 * 64 * 64, dtype="u2").reshape(2, 64, 64)
    ome_writer.write_image(data, g, axes="cyx", fmt=fmt, scale_factors=[2, 4],
                           scale={"y": 0.5, "x": 0.25},
                           axes_units={"y": "micrometer", "x": "micrometer"},
                           omero={"channels": CHANNELS})
    labels = (np.arange(64 * 64).reshape(64, 64) % 3).astype("u1")
    ome_writer.write_labels(labels, g, "cells", axes="yx", fmt=fmt,
                            label_metadata={"colors": [
                                {"label-value": 1, "rgba": [255, 0, 0, 255]},
                                {"label-value": 2, "rgba": [0, 255, 0, 128]}]})
    return path


async def _read(path, group=""):
    h = await Hierarchy.open(open_store(str(path)))
    node = await h.node(group)
    ms = read_multiscale(node.attributes, node.zarr_format, node.path)
    assert ms is not None
    return await read_level_metadata(ms, h, node.path)


@pytest.mark.parametrize("fmt", [ome_format.FormatV04(), ome_format.FormatV05()],
                         ids=["0.4", "0.5"])
async def test_ome_zarr_py_image_and_labels(tmp_path, fmt):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = _ome(tmp_path / "img.zarr", fmt)
    ms = await _read(store)
    assert (ms.convention, ms.version, ms.problems) == ("ome-ngff", fmt.version, [])
    assert [(a.name, a.type, a.unit) for a in ms.axes] == [
        ("c", "channel", None), ("y", "space", "micrometer"), ("x", "space", "micrometer")]
    assert [lv.path for lv in ms.levels] == ["s0", "s1", "s2"]
    assert [lv.shape for lv in ms.levels] == [(2, 64, 64), (2, 32, 32), (2, 16, 16)]
    assert all(lv.chunks for lv in ms.levels)
    assert [lv.scale for lv in ms.levels] == [(1, 0.5, 0.25), (1, 1, 0.5), (1, 2, 1)]
    # ome-zarr-py centres each coarser pixel on the finer ones it averages
    assert [lv.translation for lv in ms.levels] == [(0, 0, 0), (0, 0.25, 0.125),
                                                    (0, 0.75, 0.375)]
    assert [(c.label, c.color, c.window, c.limits, c.active) for c in ms.channels] == [
        ("DAPI", "0000FF", (10, 1000), (0, 65535), True),
        ("GFP", "00FF00", (0, 400), (0, 4095), False)]
    assert not ms.is_label and ms.georef is None
    label = await _read(store, "labels/cells")
    assert label.is_label and label.label_colors == {1: (255, 0, 0, 255), 2: (0, 255, 0, 128)}
    assert [lv.shape for lv in label.levels] == [(64 >> i,) * 2 for i in range(5)]


def _world():
    lat = np.linspace(89.5, -89.5, 180)
    lon = np.linspace(-179.5, 179.5, 360)
    values = np.random.default_rng(0).random((180, 360)).astype("f4")
    return xr.Dataset({"tas": (("y", "x"), values)}, coords={"y": lat, "x": lon})


async def test_ndpyramid_reproject(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = _world().rio.write_crs("EPSG:4326")
        ndpyramid.pyramid_reproject(ds, levels=3, pixels_per_tile=32).to_zarr(
            str(tmp_path / "p.zarr"), mode="w", zarr_format=2, consolidated=True)
    ms = await _read(tmp_path / "p.zarr")
    assert (ms.convention, ms.problems) == ("ndpyramid", [])
    # ndpyramid numbers levels from the coarsest: level 2 (4×4 tiles) is the finest
    assert [(lv.path, lv.scale) for lv in ms.levels] == [("2", (1, 1)), ("1", (2, 2)),
                                                         ("0", (4, 4))]
    assert ms.georef.code == "EPSG:3857" and ms.georef.dimensions == ("y", "x")
    half = 20037508.342789244
    assert ms.georef.affine == pytest.approx((2 * half / 128, 0, -half, 0, -2 * half / 128,
                                              half))
    group = zarr.open_group(str(tmp_path / "p.zarr"), mode="r")
    assert group["2/tas"].shape == (128, 128)  # what the affine's pixel size assumes
    # each level group repeats the attribute about itself: that is no pyramid
    assert read_multiscale(dict(group["1"].attrs), 2, "1") is None


async def test_ndpyramid_coarsen(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ndpyramid.pyramid_coarsen(_world(), factors=[4, 2, 1], dims=["x", "y"],
                                  boundary="trim").to_zarr(str(tmp_path / "c.zarr"), mode="w")
    ms = await _read(tmp_path / "c.zarr")
    assert ms.convention == "ndpyramid" and ms.georef is None and ms.problems == []
    assert [(lv.path, lv.scale) for lv in ms.levels] == [("2", (1, 1)), ("1", (2, 2)),
                                                         ("0", (4, 4))]


CONVENTIONS = [
    {"name": "multiscales", "uuid": "d35379db-88df-4056-af3a-620245f8e347"},
    {"name": "proj:", "uuid": "f17cb550-5864-4468-aeb7-f3180cfb622f"},
    {"name": "spatial:", "uuid": "689b58e2-cf7b-45e0-9fff-9cfc0883d6b4"}]
#: zarr-conventions/multiscales v1, examples/geospatial-pyramid.json
GEOSPATIAL_PYRAMID = {
    "zarr_conventions": CONVENTIONS,
    "multiscales": {"layout": [
        {"asset": "0", "transform": {"scale": [1.0, 1.0], "translation": [0.0, 0.0]},
         "spatial:transform": [10.0, 0.0, 500000.0, 0.0, -10.0, 5000000.0]},
        {"asset": "1", "derived_from": "0",
         "transform": {"scale": [2.0, 2.0], "translation": [0.0, 0.0]},
         "spatial:transform": [20.0, 0.0, 500000.0, 0.0, -20.0, 5000000.0],
         "resampling_method": "average"},
        {"asset": "2", "derived_from": "1",
         "transform": {"scale": [2.0, 2.0], "translation": [0.0, 0.0]},
         "spatial:transform": [40.0, 0.0, 500000.0, 0.0, -40.0, 5000000.0],
         "resampling_method": "average"}], "resampling_method": "average"},
    "proj:code": "EPSG:32632", "spatial:dimensions": ["Y", "X"],
    "spatial:transform": [10.0, 0.0, 500000.0, 0.0, -10.0, 5000000.0],
    "spatial:bbox": [500000.0, 4900000.0, 600000.0, 5000000.0]}
#: examples/array-based-pyramid.json: levels are arrays inside groups, pixel-centred offsets
ARRAY_PYRAMID = {"multiscales": {"layout": [
    {"asset": "0/data", "transform": {"scale": [1.0, 1.0]}},
    {"asset": "1/data", "derived_from": "0/data",
     "transform": {"scale": [2.0, 2.0], "translation": [0.5, 0.5]}},
    {"asset": "2/data", "derived_from": "1/data",
     "transform": {"scale": [2.0, 2.0], "translation": [0.5, 0.5]}}]}}
#: examples/dem-multiresolution.json: an upsampled level listed last is the finest
DEM_LAYOUT = {"multiscales": {"layout": [
    {"asset": "dem_30m", "transform": {"scale": [1.0, 1.0]}},
    {"asset": "dem_90m", "derived_from": "dem_30m", "transform": {"scale": [3.0, 3.0]}},
    {"asset": "dem_270m", "derived_from": "dem_90m", "transform": {"scale": [3.0, 3.0]}},
    {"asset": "dem_10m_superres", "derived_from": "dem_30m",
     "transform": {"scale": [0.5, 0.5]}}]}}


async def test_geozarr_multiscales_with_proj_and_spatial(tmp_path):
    g = zarr.open_group(str(tmp_path / "g.zarr"), mode="w", zarr_format=3,
                        attributes=GEOSPATIAL_PYRAMID)
    for i, side in enumerate((40, 20, 10)):
        level = g.create_group(str(i), attributes={"spatial:dimensions": ["Y", "X"]})
        level.create_array("b04", shape=(side, side), chunks=(10, 10), dtype="u2",
                           dimension_names=["Y", "X"])
    ms = await _read(tmp_path / "g.zarr")
    assert (ms.convention, ms.problems) == ("geozarr", [])
    assert [(lv.path, lv.scale, lv.translation) for lv in ms.levels] == [
        ("0", (1, 1), (0, 0)), ("1", (2, 2), (0, 0)), ("2", (4, 4), (0, 0))]
    assert [lv.affine[0] for lv in ms.levels] == [10, 20, 40]
    assert [lv.shape for lv in ms.levels] == [None] * 3  # level groups have no shape
    assert ms.georef.code == "EPSG:32632" and ms.georef.registration == "pixel"
    assert ms.georef.bbox == (500000, 4900000, 600000, 5000000)
    assert ms.georef.affine == (10, 0, 500000, 0, -10, 5000000)
    assert [(a.name, a.type) for a in ms.axes] == [("Y", "space"), ("X", "space")]


async def test_geozarr_array_levels_and_composed_transforms(tmp_path):
    g = zarr.open_group(str(tmp_path / "a.zarr"), mode="w", zarr_format=3,
                        attributes=ARRAY_PYRAMID)
    for i, side in enumerate((16, 8, 4)):
        g.create_array(f"{i}/data", shape=(side, side), chunks=(4, 4), dtype="f4",
                       dimension_names=["y", "x"])
    ms = await _read(tmp_path / "a.zarr")
    # level 2 is 4× level 0: its first pixel's centre lies at level-0 index 1.5
    assert [(lv.path, lv.shape, lv.scale, lv.translation) for lv in ms.levels] == [
        ("0/data", (16, 16), (1, 1), None), ("1/data", (8, 8), (2, 2), (0.5, 0.5)),
        ("2/data", (4, 4), (4, 4), (1.5, 1.5))]
    assert [a.name for a in ms.axes] == ["y", "x"] and ms.georef is None
    dem = read_multiscale(DEM_LAYOUT, 3)
    assert [(lv.path, lv.scale) for lv in dem.levels] == [
        ("dem_10m_superres", (0.5, 0.5)), ("dem_30m", (1, 1)), ("dem_90m", (3, 3)),
        ("dem_270m", (9, 9))]


#: the older GeoZarr draft: an embedded OGC TileMatrixSet, levels named by matrix ids
TMS = {"multiscales": {"tile_matrix_set": {
    "id": "WebMercatorQuad", "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
    "tileMatrices": [
        {"id": str(z), "scaleDenominator": 559082264.0287178 / 2 ** z,
         "cellSize": 156543.03392804097 / 2 ** z, "cornerOfOrigin": "topLeft",
         "pointOfOrigin": [-20037508.342789244, 20037508.342789244],
         "tileWidth": 256, "tileHeight": 256, "matrixWidth": 2 ** z, "matrixHeight": 2 ** z}
        for z in range(4)]},
    "tile_matrix_limits": {str(z): {"tileMatrix": str(z), "minTileCol": 0, "minTileRow": 0,
                                    "maxTileCol": 2 ** z - 1, "maxTileRow": 2 ** z - 1}
                           for z in range(3)},
    "resampling_method": "average"}}


async def test_geozarr_tile_matrix_set(tmp_path):
    g = zarr.open_group(str(tmp_path / "t.zarr"), mode="w", zarr_format=3, attributes=TMS)
    for z in range(3):
        g.create_group(str(z)).create_array("band", shape=(256 * 2 ** z,) * 2,
                                            chunks=(256, 256), dtype="u1")
    ms = await _read(tmp_path / "t.zarr")
    assert (ms.convention, ms.problems) == ("geozarr-tms", [])
    # finest first; matrix 3 is outside tile_matrix_limits, so not a level of this data
    assert [lv.path for lv in ms.levels] == ["2", "1", "0"]
    assert ms.levels[0].scale == pytest.approx((156543.03392804097 / 4,) * 2)
    assert ms.georef.code == "EPSG:3857"
    assert ms.georef.affine == pytest.approx((156543.03392804097 / 4, 0, -20037508.342789244,
                                              0, -156543.03392804097 / 4, 20037508.342789244))


#: OME-NGFF 0.6: coordinate systems, transformations with input/output, a sequence
OME_06 = {"ome": {"version": "0.6", "multiscales": [{
    "coordinateSystems": [
        {"name": "world", "axes": [{"name": "y", "type": "space", "unit": "meter"},
                                   {"name": "x", "type": "space", "unit": "meter"}]},
        {"name": "physical", "axes": [{"name": "y", "type": "space", "unit": "micrometer"},
                                      {"name": "x", "type": "space", "unit": "micrometer"}]}],
    "datasets": [
        {"path": "s0", "coordinateTransformations": [
            {"type": "scale", "scale": [0.5, 0.5], "input": {"path": "s0"},
             "output": {"name": "physical"}}]},
        {"path": "s1", "coordinateTransformations": [
            {"type": "sequence", "input": {"path": "s1"}, "output": {"name": "physical"},
             "transformations": [{"type": "scale", "scale": [1.0, 1.0]},
                                 {"type": "translation", "translation": [0.25, 0.25]}]}]}]}]}}


def test_ome_06_draft_and_multiscale_level_transforms():
    ms = read_multiscale(OME_06, 3, "img")
    assert ms.problems == [] and ms.version == "0.6"
    assert [(a.name, a.unit) for a in ms.axes] == [("y", "micrometer"), ("x", "micrometer")]
    assert [(lv.path, lv.scale, lv.translation) for lv in ms.levels] == [
        ("s0", (0.5, 0.5), None), ("s1", (1, 1), (0.25, 0.25))]
    # 0.4: the multiscale's own transformations apply after each dataset's
    ome04 = {"multiscales": [{"version": "0.4", "axes": [{"name": "t", "type": "time"},
                                                          {"name": "x", "type": "space"}],
                              "datasets": [{"path": "0", "coordinateTransformations": [
                                  {"type": "scale", "scale": [1, 2]},
                                  {"type": "translation", "translation": [0, 1]}]}],
                              "coordinateTransformations": [
                                  {"type": "scale", "scale": [0.1, 3]},
                                  {"type": "translation", "translation": [5, 5]}]}]}
    level = read_multiscale(ome04, 2).levels[0]
    assert level.scale == pytest.approx((0.1, 6)) and level.translation == (5, 8)


MALFORMED = [
    ({"multiscales": "nonsense"}, "multiscales: expected a JSON list"),
    ({"multiscales": [7]}, "multiscales[0]: expected a JSON object"),
    ({"multiscales": [{"datasets": [{"path": "../up"}, {"path": "0"}]}]},
     "datasets[0].path: expected a relative node path"),
    ({"multiscales": [{"axes": [{"name": "x"}], "datasets": [
        {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [0]}]}]}]},
     "scale: expected a list of 1 non-zero finite numbers, got [0]"),
    ({"multiscales": [{"axes": "xy", "datasets": [{"path": "0"}]}]},
     "axes: expected a JSON list"),
    ({"ome": {"multiscales": [{"datasets": [{"path": "0"}]}],
              "omero": {"channels": [{"color": "red", "window": {"start": "a", "end": 1}}]}}},
     "omero.channels[0].color: expected an RRGGBB hex colour"),
    ({"multiscales": [{"datasets": [{"path": "0"}]}], "image-label": {"colors": [
        {"label-value": 1, "rgba": [300, 0, 0]}]}}, "rgba: expected 4 integers"),
    ({"multiscales": {"layout": [{"asset": "1", "derived_from": "2"},
                                 {"asset": "2", "derived_from": "1"}]}}, "(a cycle)"),
    ({"multiscales": {"layout": [{"asset": "0", "transform": {"scale": "2"}}]},
      "proj:code": 4326}, "proj:code: expected a string, got 4326"),
    ({"multiscales": {"layout": {"asset": "0"}}}, "multiscales.layout: expected a JSON list"),
    ({"multiscales": {"layout": [{"asset": "0"}]}, "spatial:transform": [1, 2, 3]},
     "spatial:transform: expected a list of 6 finite numbers"),
    ({"multiscales": {"nothing": 1}}, "an object with 'layout' or 'tile_matrix_set'"),
    ({"multiscales": {"tile_matrix_set": {"tileMatrices": [{"id": "0", "cellSize": -1}]}}},
     "cellSize: expected a positive number"),
    ({"multiscales": [{"datasets": [{"path": "0", "pixels_per_tile": "big"}]}]},
     "pixels_per_tile: expected a positive integer"),
]


@pytest.mark.parametrize("attributes, message", MALFORMED,
                         ids=[m for _, m in MALFORMED])
def test_malformed_parts_are_problems(attributes, message):
    ms = read_multiscale(attributes, 3, "img")
    assert any(message in p and p.startswith("img: ") for p in ms.problems), ms.problems


def _mutations(doc, rng, count):
    """Copies of ``doc`` with one value somewhere replaced by a value of another JSON type."""
    paths = []

    def walk(value, path):
        paths.append(path)
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(
            value, list) else ()
        for k, v in items:
            walk(v, path + (k,))
    walk(doc, ())
    junk = [None, True, -1, 0, 1e308, "x", "../..", [], [None], {}, {"type": "sequence"}]
    for _ in range(count):
        out = copy.deepcopy(doc)
        path = rng.choice(paths[1:])
        parent = out
        for k in path[:-1]:
            parent = parent[k]
        parent[path[-1]] = rng.choice(junk)
        yield out


def test_no_exception_for_any_half_broken_attribute():
    rng = random.Random(11)
    examples = [GEOSPATIAL_PYRAMID, ARRAY_PYRAMID, DEM_LAYOUT, TMS, OME_06,
                {"multiscales": [{"datasets": [{"path": "0", "pixels_per_tile": 8,
                                                "crs": "EPSG:3857"}],
                                  "metadata": {"method": "pyramid_reproject"}}]},
                {"ome": {"multiscales": [{"axes": [{"name": "y"}], "datasets": [{"path": "0"}]}],
                         "omero": {"channels": CHANNELS}, "image-label": {"colors": []}}}]
    for doc in examples:
        for broken in _mutations(doc, rng, 2000):
            ms = read_multiscale(broken, 3, "g")
            if ms is not None:
                json.dumps(ms.to_json())  # the model stays serialisable


def test_long_layouts_and_many_problems_stay_bounded():
    """A hostile layout: a 100000-level derived_from chain listed from its far end (no
    recursion through it), and as many broken entries."""
    chain = [{"asset": "l0"}] + [{"asset": f"l{i}", "derived_from": f"l{i - 1}",
                                  "transform": {"scale": [1.0001, 1.0001]}}
                                 for i in range(1, 100_000)]
    ms = read_multiscale({"multiscales": {"layout": chain[::-1]}})
    assert len(ms.levels) == 100_000 and ms.problems == []
    assert (ms.levels[0].path, ms.levels[-1].path) == ("l0", "l99999")
    broken = read_multiscale({"multiscales": {"layout": [{"asset": i} for i in range(100_000)]}})
    assert len(broken.problems) <= MAX_PROBLEMS + 1
    assert broken.problems[-1].endswith(f"{100_000 - MAX_PROBLEMS} more problems not listed")


def test_discovery_follows_the_model():
    """One parser: the level paths discovery probes are the model's, bad ones left out."""
    attributes = {"multiscales": [{"datasets": [{"path": "0"}, {"path": "/etc"}, {"path": 3},
                                                {"path": "1"}]}]}
    assert multiscale_levels(attributes) == ["0", "1"]
    assert multiscale_levels(ARRAY_PYRAMID) == ["0/data", "1/data", "2/data"]
    assert multiscale_levels(TMS) == ["2", "1", "0"]


def test_tree_cli_marks_and_json(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _ome(tmp_path / "img.zarr", ome_format.FormatV05())
    run = CliRunner().invoke(main, ["tree", str(tmp_path / "img.zarr")])
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    assert lines[0] == "/  (group, v3)  [multiscale: ome-ngff 0.5, 3 levels]"
    assert any(line.strip().startswith("cells/") and "[label image: ome-ngff 0.5, 5 levels]"
               in line for line in lines)
    assert any(line.strip().startswith("s2  [2, 16, 16]") and line.endswith("[level 2 of /]")
               for line in lines)
    run = CliRunner().invoke(main, ["tree", "--json", str(tmp_path / "img.zarr")])
    nodes = {n["path"]: n for n in json.loads(run.output)["nodes"]}
    ms = nodes[""]["multiscale"]
    assert {"convention", "guessed", "axes", "levels", "crs"} <= set(ms)
    assert ms["convention"] == "ome-ngff" and ms["guessed"] is False and ms["crs"] is None
    assert ms["axes"][1] == {"name": "y", "type": "space", "unit": "micrometer"}
    assert ms["levels"][1] == {"path": "s1", "shape": [2, 32, 32], "chunks": [2, 32, 32],
                               "scale": [1, 1, 0.5], "translation": [0, 0.25, 0.125],
                               "affine": None}
    assert "multiscale" not in nodes["s0"]


def _siblings(tmp_path, arrays, name="g.zarr"):
    """Nodes of a v3 group holding ``arrays`` {name: (shape, dtype)}, as the tree walks them."""
    g = zarr.open_group(str(tmp_path / name), mode="w", zarr_format=3)
    for key, (shape, dtype) in arrays.items():
        g.create_array(key, shape=shape, chunks=(1,) * (len(shape) - 2) + (16, 16), dtype=dtype,
                       dimension_names=["c", "y", "x"][-len(shape):])
    return g


HALVING = {"0": ((3, 100, 101), "u2"), "1": ((3, 50, 51), "u2"), "2": ((3, 25, 26), "u2"),
           "3": ((3, 13, 13), "u2")}


@pytest.mark.parametrize("arrays, why", [
    ({**HALVING, "3": ((3, 13, 14), "u2")}, "a level that does not halve"),
    ({**HALVING, "2": ((3, 25, 26), "f4")}, "mixed dtypes"),
    ({**HALVING, "2": ((25, 26), "u2")}, "mixed ndim"),
    ({k: v for k, v in HALVING.items() if k != "1"}, "a gap in the names"),
    ({**HALVING, "1": ((2, 50, 51), "u2")}, "other dimensions differ"),
    ({"0": ((3, 10, 10), "u2"), "1": ((3, 10, 10), "u2")}, "no shrinking"),
])
async def test_guessed_pyramid_needs_a_constant_shrink(tmp_path, arrays, why):
    _siblings(tmp_path, arrays)
    h = await Hierarchy.open(open_store(str(tmp_path / "g.zarr")))
    assert guess_multiscale([n for n in await h.walk() if n.path]) is None, why


@pytest.mark.parametrize("prefix", ["", "s"])
def test_guessed_pyramid_from_sibling_arrays(tmp_path, prefix):
    _siblings(tmp_path, {prefix + k: v for k, v in HALVING.items()})
    run = CliRunner().invoke(main, ["tree", "--json", str(tmp_path / "g.zarr")])
    ms = {n["path"]: n for n in json.loads(run.output)["nodes"]}[""]["multiscale"]
    assert (ms["convention"], ms["guessed"]) == ("guessed", True)
    assert [(lv["path"], lv["shape"], lv["scale"]) for lv in ms["levels"]] == [
        (prefix + str(k), list(HALVING[str(k)][0]), [1, 2 ** k, 2 ** k]) for k in range(4)]
    assert [(a["name"], a["type"]) for a in ms["axes"]] == [("c", None), ("y", "space"),
                                                            ("x", "space")]


def test_cf_grid_mapping_written_by_rioxarray(tmp_path):
    from affine import Affine
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = xr.Dataset({"elev": (("y", "x"), np.zeros((20, 30), "f4"))},
                        coords={"y": 5e6 - 10 * (np.arange(20) + 0.5),
                                "x": 5e5 + 10 * (np.arange(30) + 0.5)})
        ds = ds.rio.write_crs("EPSG:32632").rio.write_transform(
            Affine(10, 0, 500000, 0, -10, 5000000))
        ds.to_zarr(str(tmp_path / "cf.zarr"), mode="w", zarr_format=3, consolidated=False)
    run = CliRunner().invoke(main, ["tree", "--json", str(tmp_path / "cf.zarr")])
    nodes = {n["path"]: n for n in json.loads(run.output)["nodes"]}
    crs = nodes["elev"]["crs"]
    assert crs["code"] == "EPSG:32632" and crs["wkt"].startswith("PROJCS[")
    assert crs["affine"] == [10, 0, 500000, 0, -10, 5000000]
    assert crs["dimensions"] == ["y", "x"]
    assert "crs" not in nodes["x"] and "multiscale" not in nodes[""]


def test_cf_names_and_malformed_grid_mappings():
    assert grid_mapping_name({"grid_mapping": "crsOSGB: x y crsWGS84: lat lon"}) == "crsOSGB"
    assert grid_mapping_name({"grid_mapping": 7}) is None
    wkt = 'GEOGCRS["WGS 84",CS[ellipsoidal,2],ID["EPSG",4326]]'
    georef, problems = read_cf_georef({}, ["time", "lat", "lon"], {"crs_wkt": wkt}, "t")
    assert (georef.code, georef.dimensions, problems) == ("EPSG:4326", ("lat", "lon"), [])
    for mapping, message in (({"GeoTransform": "1 2 x 4 5 6"}, "GeoTransform: expected 6"),
                             ({"GeoTransform": "1 2 3"}, "GeoTransform: expected 6"),
                             ({"GeoTransform": [1, 2]}, "GeoTransform: expected 6"),
                             ({"GeoTransform": "nan 1 0 0 0 -1"}, "GeoTransform: expected 6"),
                             ({"crs_wkt": 5}, "crs_wkt: expected a string")):
        georef, problems = read_cf_georef({}, None, mapping, "t")
        assert georef is None and any(message in p for p in problems), (mapping, problems)

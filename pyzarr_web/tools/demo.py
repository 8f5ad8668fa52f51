"""``pyzarr-web demo``: write a small sample store, build the site if needed, serve both.

The sample store (Zarr v3, consolidated metadata, gzip chunks, about 2.3 MB, written in well under
a second) is computed with numpy -- nothing is downloaded -- and is the same on every machine::

    sample.zarr/                      title, description, license
    ├── climate/                      CF-style group: synthetic monthly near-surface temperature
    │   ├── temperature  (24, 90, 180) float32  dims (time, lat, lon), K, chunks (4, 45, 90)
    │   ├── time         (24,)         int32    days since 2000-01-01
    │   ├── lat          (90,)         float32  degrees_north
    │   └── lon          (180,)        float32  degrees_east
    ├── images/
    │   └── mandelbrot   (512, 768)    uint16   dims (y, x), chunks (256, 256)
    └── sharded/
        └── ripples      (256, 256)    float32  shards (128, 128) of chunks (32, 32)

Only gzip is used, which the browser reader decodes from its first version; ``sharded/ripples``
exercises the sharding codec.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import numpy as np

#: Bump when the content changes: an older demo store is then rewritten.
DEMO_VERSION = 2
STORE_NAME = "sample.zarr"

CELLS_SIZE, CELLS_LEVELS, CELL_SPACING = 2048, 4, 64  # the multiscale image: side, levels, cell pitch

#: Every node of the sample store: path -> (shape, dtype) for arrays, None for groups.
SAMPLE_NODES: dict[str, tuple[tuple[int, ...], str] | None] = {
    "climate": None,
    "climate/temperature": ((24, 90, 180), "float32"),
    "climate/time": ((24,), "int32"),
    "climate/lat": ((90,), "float32"),
    "climate/lon": ((180,), "float32"),
    "images": None,
    "images/mandelbrot": ((512, 768), "uint16"),
    # an OME-NGFF 0.5 multiscale image (two channels, four levels, sharded) with a label image
    "cells": None,
    **{f"cells/s{i}": ((2, CELLS_SIZE >> i, CELLS_SIZE >> i), "uint16") for i in range(CELLS_LEVELS)},
    "cells/labels": None,
    "cells/labels/nuclei": None,
    **{f"cells/labels/nuclei/s{i}": ((CELLS_SIZE >> i, CELLS_SIZE >> i), "uint16") for i in range(CELLS_LEVELS)},
    "sharded": None,
    "sharded/ripples": ((256, 256), "float32"),
}


# ----------------------------------------------------------------------------------------- data


def climate_fields() -> dict[str, np.ndarray]:
    """A plausible-looking monthly temperature climatology on a 2-degree grid (2000-2001)."""
    lat = np.arange(-89.0, 90.0, 2.0, dtype=np.float32)
    lon = np.arange(-179.0, 180.0, 2.0, dtype=np.float32)
    months = np.arange("2000-01", "2002-01", dtype="datetime64[M]")
    time = (months.astype("datetime64[D]") - np.datetime64("2000-01-01", "D")).astype(np.int32)

    la = np.deg2rad(lat.astype(np.float64))[:, None]
    lo = np.deg2rad(lon.astype(np.float64))[None, :]
    latd, lond = lat[:, None].astype(np.float64), lon[None, :].astype(np.float64)

    # Cartoon continents: soft ellipses (centre lat, centre lon, half-height, half-width).
    land = np.zeros((lat.size, lon.size))
    for clat, clon, hlat, hlon in [(47, -100, 18, 30), (-14, -60, 22, 14), (52, 70, 18, 65),
                                   (6, 20, 24, 20), (-25, 134, 10, 16), (72, -40, 9, 18)]:
        dlon = (lond - clon + 180.0) % 360.0 - 180.0
        r2 = ((latd - clat) / hlat) ** 2 + (dlon / hlon) ** 2
        land = np.maximum(land, 1.0 / (1.0 + np.exp(np.minimum(8.0 * (r2 - 1.0), 50.0))))
    land = np.maximum(land, 1.0 / (1.0 + np.exp((latd + 68.0) / 2.0)))  # Antarctica

    mean = 301.0 - 48.0 * np.sin(la) ** 2 - 4.0 * land - 18.0 * land * (latd < -60)
    amplitude = (3.0 + 17.0 * land) * np.sin(la)          # antisymmetric: seasons are opposite
    temperature = np.empty((time.size, lat.size, lon.size), dtype=np.float32)
    for m in range(time.size):
        phase = 2.0 * np.pi * (m + 0.5) / 12.0
        season = -amplitude * np.cos(phase - 0.35)
        weather = 2.5 * np.cos(la) * np.sin(3.0 * lo - 0.9 * m + 2.0 * la) + 1.2 * np.sin(5.0 * lo + 0.5 * m) * np.cos(
            3.0 * la)
        temperature[m] = np.round(mean + season + weather + 0.02 * m, 2)
    return {"temperature": temperature, "time": time, "lat": lat, "lon": lon}


def mandelbrot(height: int = 512, width: int = 768, max_iter: int = 200) -> np.ndarray:
    """Smooth escape-time image of the Mandelbrot set as uint16 (set interior = 0)."""
    y, x = np.ogrid[1.0:-1.0:height * 1j, -2.2:0.8:width * 1j]
    c = (x + 1j * y).ravel()
    z = np.zeros_like(c)
    nu = np.zeros(c.shape, dtype=np.float64)  # 0 inside the set
    alive = np.arange(c.size)
    for n in range(max_iter):
        z[alive] = z[alive] ** 2 + c[alive]
        mag2 = z[alive].real ** 2 + z[alive].imag ** 2
        escaped = mag2 > 256.0  # large radius: smooth colouring without banding
        if escaped.any():
            idx = alive[escaped]
            nu[idx] = n + 1 - np.log2(np.log(np.sqrt(mag2[escaped])) / np.log(2.0))
            alive = alive[~escaped]
    nu = np.clip(nu, 0.0, None)
    scaled = np.log1p(nu) / np.log1p(max_iter)
    return np.round(np.clip(scaled, 0.0, 1.0) * 65535.0).astype(np.uint16).reshape(height, width)


def cells(size: int = CELLS_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """A field of cartoon cells on a jittered grid: (channels [nuclei, membranes] as uint16,
    nucleus labels as uint16, one id per cell). Cheap to compute: each pixel only looks at the
    cell of its grid square."""
    pitch = CELL_SPACING
    n = size // pitch
    rng = np.random.default_rng(7)
    jitter = (rng.uniform(-0.18, 0.18, size=(2, n, n)) * pitch).astype(np.float32)
    radius = (rng.uniform(0.22, 0.34, size=(n, n)) * pitch).astype(np.float32)
    brightness = rng.uniform(0.5, 1.0, size=(n, n)).astype(np.float32) * 3500
    axis = np.arange(size, dtype=np.float32)
    cell = (axis // pitch).astype(np.intp)
    within = axis - (cell + 0.5) * pitch  # offset from the grid square's centre, along one axis
    gy, gx = cell[:, None], cell[None, :]
    dy = within[:, None] - jitter[0][gy, gx]
    dx = within[None, :] - jitter[1][gy, gx]
    r = np.sqrt(dy * dy + dx * dx) / radius[gy, gx]
    out = np.empty((2, size, size), np.uint16)
    out[0] = brightness[gy, gx] * np.exp(-(r * r) ** 2) + 120
    out[1] = np.exp(-((r - 1.45) * 6) ** 2) * 2200 + 80
    out &= 0xFFC0  # 10 significant bits: a sample store that stays small
    labels = np.where(r < 1.0, gy * n + gx + 1, 0).astype(np.uint16)
    return out, labels


def _write_ome_image(group, levels: list[np.ndarray], scale: float, axes: list[dict], chunks, shards,
                     **attributes) -> None:
    """LEVELS (finest first, each halving y and x) as an OME-NGFF 0.5 multiscale in GROUP."""
    spatial = len(axes) - 2
    datasets = []
    for i, level in enumerate(levels):
        group.create_array(f"s{i}", data=level, chunks=chunks, shards=shards,
                           dimension_names=[a["name"] for a in axes])
        factor = [1.0] * spatial + [scale * 2 ** i] * 2
        datasets.append({"path": f"s{i}", "coordinateTransformations": [{"type": "scale", "scale": factor}]})
    group.attrs["ome"] = {"version": "0.5", "multiscales": [{"name": group.basename, "axes": axes,
                                                              "datasets": datasets}], **attributes}


def ripples(size: int = 256) -> np.ndarray:
    y, x = np.mgrid[-1.0:1.0:size * 1j, -1.0:1.0:size * 1j]
    r1 = np.hypot(x + 0.3, y + 0.2) * 30.0
    r2 = np.hypot(x - 0.4, y - 0.35) * 22.0
    return (np.sinc(r1 / np.pi) + 0.7 * np.cos(r2) * np.exp(-r2 / 25.0)).astype(np.float32)


# -------------------------------------------------------------------------------------- writing


def is_sample_store(path: Path) -> bool:
    """True when ``path`` holds a complete sample store of the current DEMO_VERSION."""
    import zarr

    try:
        # Not from the consolidated metadata: every node's own zarr.json must be on disk.
        root = zarr.open_group(Path(path), mode="r", use_consolidated=False)
        if root.attrs.get("pyzarr_web_demo") != DEMO_VERSION:
            return False
        for node_path, spec in SAMPLE_NODES.items():
            node = root[node_path]
            if spec is None:
                if not isinstance(node, zarr.Group):
                    return False
            elif not isinstance(node, zarr.Array) or (tuple(node.shape), str(node.dtype)) != spec:
                return False
        return zarr.open_group(Path(path), mode="r").metadata.consolidated_metadata is not None
    except Exception:  # missing, unreadable or foreign: not ours
        return False


def _is_ours(path: Path) -> bool:
    import json

    try:
        meta = json.loads((path / "zarr.json").read_text())
        return "pyzarr_web_demo" in meta.get("attributes", {})
    except (OSError, ValueError, AttributeError):
        return False


def write_sample_store(path: Path) -> Path:
    """Write the sample store at ``path`` unless a complete one is already there; return ``path``.

    The store is written next to ``path`` and renamed into place, so an interrupted run never
    leaves half a store. An older or damaged demo store is replaced; anything else at ``path``
    is left alone and raises FileExistsError.
    """
    import zarr
    from zarr.codecs import GzipCodec

    path = Path(path)
    if is_sample_store(path):
        return path
    if path.exists() and not (_is_ours(path) or (path.is_dir() and not any(path.iterdir()))):
        raise FileExistsError(f"{path} exists and is not a pyzarr-web sample store; remove it or pick "
                              f"another --data directory")

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    gzip = [GzipCodec(level=6)]
    try:
        root = zarr.open_group(tmp, mode="w", zarr_format=3, attributes={
            "title": "pyzarr-web sample store",
            "description": "Synthetic data computed with numpy: a monthly temperature climatology, "
                           "a Mandelbrot image, a multiscale two-channel image of cells and a sharded array.",
            "license": "CC0-1.0",
            "created_by": "pyzarr-web demo",
            "pyzarr_web_demo": DEMO_VERSION,
        })

        fields = climate_fields()
        climate = root.create_group("climate", attributes={
            "title": "Synthetic near-surface air temperature",
            "description": "Monthly means for 2000-2001 on a 2-degree grid: latitude gradient, "
                           "cartoon continents with stronger seasons, travelling waves.",
            "Conventions": "CF-1.10",
            "source": "computed by pyzarr_web.tools.demo.climate_fields",
        })
        climate.create_array("time", data=fields["time"], chunks=(24,), compressors=gzip, dimension_names=["time"],
                             attributes={"units": "days since 2000-01-01", "calendar": "proleptic_gregorian",
                                         "standard_name": "time", "long_name": "time", "axis": "T"})
        climate.create_array("lat", data=fields["lat"], chunks=(90,), compressors=gzip, dimension_names=["lat"],
                             attributes={"units": "degrees_north", "standard_name": "latitude",
                                         "long_name": "latitude", "axis": "Y"})
        climate.create_array("lon", data=fields["lon"], chunks=(180,), compressors=gzip, dimension_names=["lon"],
                             attributes={"units": "degrees_east", "standard_name": "longitude",
                                         "long_name": "longitude", "axis": "X"})
        climate.create_array("temperature", data=fields["temperature"], chunks=(4, 45, 90), compressors=gzip,
                             fill_value=float("nan"), dimension_names=["time", "lat", "lon"],
                             attributes={"units": "K", "standard_name": "air_temperature",
                                         "long_name": "Near-surface air temperature",
                                         "coordinates": "time lat lon"})

        images = root.create_group("images", attributes={"description": "2-D images"})
        images.create_array("mandelbrot", data=mandelbrot(), chunks=(256, 256), compressors=gzip,
                            fill_value=0, dimension_names=["y", "x"],
                            attributes={"long_name": "Mandelbrot set, smooth escape time (log-scaled)",
                                        "units": "1",
                                        "region": {"x": [-2.2, 0.8], "y": [-1.0, 1.0]},
                                        "description": "0 inside the set; brighter = escapes later"})

        channels, nuclei = cells()
        space = [{"name": "y", "type": "space", "unit": "micrometer"},
                 {"name": "x", "type": "space", "unit": "micrometer"}]
        image = root.create_group("cells", attributes={"description": "A multiscale OME-NGFF 0.5 image: "
                                                       "pan and zoom it; two channels as a colour composite"})
        _write_ome_image(image, [channels[:, ::2 ** i, ::2 ** i] for i in range(CELLS_LEVELS)], 0.25,
                         [{"name": "c", "type": "channel"}, *space], (1, 256, 256), (1, 1024, 1024),
                         omero={"channels": [
                             {"label": "nuclei", "color": "3080FF", "active": True,
                              "window": {"min": 0, "max": 65535, "start": 100, "end": 3600}},
                             {"label": "membranes", "color": "FF9020", "active": True,
                              "window": {"min": 0, "max": 65535, "start": 80, "end": 2400}}]})
        labels = image.create_group("labels")
        labels.attrs["ome"] = {"version": "0.5", "labels": ["nuclei"]}
        label = labels.create_group("nuclei")
        _write_ome_image(label, [nuclei[::2 ** i, ::2 ** i] for i in range(CELLS_LEVELS)], 0.25, space,
                         (256, 256), (1024, 1024), **{"image-label": {"source": {"image": "../../"}}})

        sharded = root.create_group("sharded", attributes={"description": "Arrays using the sharding codec"})
        sharded.create_array("ripples", data=ripples(), shards=(128, 128), chunks=(32, 32), compressors=gzip,
                             fill_value=0.0, dimension_names=["y", "x"],
                             attributes={"long_name": "Interfering ripples", "units": "1"})

        with warnings.catch_warnings():  # "consolidated metadata is not part of the v3 spec"
            warnings.simplefilter("ignore")
            zarr.consolidate_metadata(tmp)

        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def run_demo(data_dir: Path, host: str = "127.0.0.1", port: int = 8000, open_browser: bool = True) -> None:
    """Write ``data_dir/sample.zarr`` if absent, build the site if absent, serve both until Ctrl-C."""
    import click

    from pyzarr_web.tools import serve as server

    store = Path(data_dir) / STORE_NAME
    if is_sample_store(store):
        click.echo(f"Using the sample store in {store}")
    else:
        click.echo(f"Writing the sample store to {store} ...")
        try:
            write_sample_store(store)
        except FileExistsError as exc:
            raise click.ClickException(str(exc)) from exc
    server.serve([store], host=host, port=port, site=None, open_browser=open_browser)

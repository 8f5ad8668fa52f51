"""View latency benchmark: ``python -m benchmarks views [--moves N] [--site DIST]``.

zarr-python writes an (8, 2048, 2048) uint16 array, blosc-zstd, 512×512 chunks (a 2048×2048 plane
per slider step). The built site reads it over HTTP in Chromium, and this measures

* select → first image: ``zarrExplorer.select(path)`` until the view is loaded and painted;
* slider → updated image: a key press on the slider's handle (as a user moves it) until the
  image data has reached the page's Bokeh document and the next frame is painted, timed in the
  page from just before the key press;
* the reference, in the same run: CPython + zarr-python reading the same plane from disk.

Prints medians and the ratio to the reference. Figures, not a test.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

SHAPE, CHUNKS = (8, 2048, 2048), (1, 512, 512)

# Counts updates of the image's data in the page, and when the frame after the last one painted.
_WATCH_JS = """() => {
  const source = Bokeh.documents[0].get_model_by_name("pzw-image-source");
  window.__imageUpdates = 0;
  source.properties.data.change.connect(() => { window.__imageUpdates += 1; });
}"""
_MARK_JS = """() => { window.__before = window.__imageUpdates; window.__t0 = performance.now();
  const t = window.zarrExplorer.timings; window.__patches0 = [t.patches || 0, t.patch_apply_ms || 0]; }"""
# after an update: how many patches the move caused, time spent applying them, and when the last came
_PATCHES_JS = """() => { const t = window.zarrExplorer.timings;
  return [t.patches - window.__patches0[0], t.patch_apply_ms - window.__patches0[1],
          t.last_patch_at - window.__t0]; }"""
_UPDATED_JS = """() => new Promise((resolve) => {
  const check = () => window.__imageUpdates > window.__before
    ? requestAnimationFrame(() => resolve(performance.now() - window.__t0)) : setTimeout(check, 1);
  check();
})"""


def write_store(path: Path) -> Path:
    import zarr

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:SHAPE[1], 0:SHAPE[2]]
    root = zarr.open_group(path, mode="w", zarr_format=3)
    arr = root.create_array("cube", shape=SHAPE, chunks=CHUNKS, dtype="u2", dimension_names=["t", "y", "x"],
                            compressors=zarr.codecs.BloscCodec(cname="zstd", clevel=5, shuffle="bitshuffle"))
    for t in range(SHAPE[0]):
        plane = 2000 + 1500 * np.sin(xx / (60 + 10 * t)) * np.cos(yy / 80) + rng.normal(0, 150, SHAPE[1:])
        arr[t] = plane.clip(0, 65535).astype("u2")
    zarr.consolidate_metadata(path)
    return path


def cpython_plane_ms(path: Path, repeats: int = 5) -> float:
    import zarr

    arr = zarr.open_array(path / "cube", mode="r")
    times = []
    for t in range(repeats):
        start = time.perf_counter()
        arr[t % SHAPE[0]]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def views(moves: int = 6, site: Path | None = None, pause_ms: int = 0) -> dict:
    from playwright.sync_api import sync_playwright

    from pyzarr_web.tools.chromium import CHROMIUM, CHROMIUM_ARGS
    from pyzarr_web.tools.serve import DEFAULT_SITE, make_app, run_in_thread

    site = Path(site or DEFAULT_SITE).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        store = write_store(Path(tmp) / "bench-views.zarr")
        reference = cpython_plane_ms(store)
        with run_in_thread(make_app(site, [store])) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                page.goto(f"{base}/?store=/data/bench-views.zarr")
                page.evaluate("() => window.zarrExplorer.ready.then(() => window.zarrExplorer.whenIdle())")
                start = time.perf_counter()
                state = page.evaluate("() => window.zarrExplorer.select('cube')")
                select_ms = (time.perf_counter() - start) * 1000
                assert state["kind"] == "array" and state["status"] == "idle", state
                page.evaluate("() => new Promise(requestAnimationFrame)")
                page.evaluate(_WATCH_JS)
                handle = page.locator(".bk-input-group", has_text="t =").locator(".noUi-handle")
                handle.focus()
                slider_ms, parts, patches = [], [], []
                for _ in range(moves):
                    page.evaluate(_MARK_JS)
                    page.keyboard.press("ArrowRight" if len(slider_ms) < SHAPE[0] - 1 else "ArrowLeft")
                    slider_ms.append(page.evaluate(_UPDATED_JS))
                    page.evaluate("() => window.zarrExplorer.whenIdle()")
                    parts.append(page.evaluate("() => window.zarrExplorer.state().timings"))
                    patches.append(page.evaluate(_PATCHES_JS))
                    page.wait_for_timeout(pause_ms)
                view = page.evaluate("() => window.zarrExplorer.state()")
            finally:
                browser.close()
    slider = statistics.median(slider_ms)
    print(f"pyzarr-web view latency: {SHAPE} uint16, blosc-zstd+bitshuffle, chunks {CHUNKS[1:]}, over HTTP")
    print(f"  select -> first image        : {select_ms:7.0f} ms")
    print(f"  slider -> updated image      : {slider:7.0f} ms median of {moves} "
          f"(min {min(slider_ms):.0f}, max {max(slider_ms):.0f}; goal <= 150 ms)")
    for name in ("read_ms", "render_ms"):
        print(f"    of which worker {name[:-3]:6s}     : {statistics.median(p[name] for p in parts):7.0f} ms")
    counts, apply_ms, last_ms = (statistics.median(p[i] for p in patches) for i in range(3))
    print(f"    page: {counts:.0f} patches, applied in {apply_ms:.0f} ms, last one {last_ms:.0f} ms after the key")
    print(f"  CPython zarr-python, 1 plane : {reference:7.0f} ms (reference)")
    print(f"  ratio slider / reference     : {slider / reference:7.2f}")
    print(f"  last view: selection {view['selection']}, shape {view['view']['shape']}, "
          f"downsampled for display: {view['view']['downsampled']}")
    return {"select_ms": select_ms, "slider_ms": slider_ms, "reference_ms": reference}

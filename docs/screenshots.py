"""Regenerate the README's screenshots from the demo store: ``python docs/screenshots.py``.

Serves the built site (dist/) and the sample store written by ``pyzarr_web.tools.demo``, drives Chromium
through ``window.zarrExplorer`` like the browser tests do, and writes docs/screenshots/*.png.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from pyzarr_web.tools.chromium import CHROMIUM, CHROMIUM_ARGS
from pyzarr_web.tools.demo import STORE_NAME, write_sample_store
from pyzarr_web.tools.serve import DEFAULT_SITE, make_app, run_in_thread

OUT = Path(__file__).resolve().parent / "screenshots"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / STORE_NAME
        write_sample_store(store)
        with run_in_thread(make_app(DEFAULT_SITE, [store])) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 860})
            page.goto(f"{base}/?store=/data/{STORE_NAME}&path=climate/temperature&select=5,:,:&cmap=inferno")
            page.evaluate("() => window.zarrExplorer.ready")
            page.wait_for_function("() => window.zarrExplorer.state().path === 'climate/temperature'")
            page.evaluate("() => window.zarrExplorer.whenIdle()")
            page.locator("#pyzarr-loading").wait_for(state="detached")  # the loading screen fades out
            box = page.locator("canvas").first.bounding_box()
            page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.4)
            page.locator(".bk-tooltip-content").first.wait_for()
            page.screenshot(path=str(OUT / "image-view.png"))

            page.mouse.move(0, 0)
            page.locator(".bk-tab", has_text="Table").click()
            page.locator(".slick-row").first.wait_for()
            page.screenshot(path=str(OUT / "table-view.png"))

            page.locator(".bk-tab", has_text="Info").click()
            page.get_by_text("Compression ratio").or_(page.get_by_text("Stored size")).first.wait_for()
            page.screenshot(path=str(OUT / "info-view.png"))

            # deep zoom: the multiscale cells image, two channels as a composite, labels overlaid
            page.locator(".bk-tab", has_text="Data").click()
            page.evaluate("() => window.zarrExplorer.select('cells')")
            page.evaluate("() => window.zarrExplorer.setViewport({x0: 700, x1: 1212, y0: 600, y1: 1000})")
            page.goto(page.url + "&labels=nuclei")
            page.evaluate("() => window.zarrExplorer.ready.then(() => window.zarrExplorer.whenIdle())")
            page.wait_for_function("() => window.zarrExplorer.state().level === 'cells/s0'")
            page.locator("#pyzarr-loading").wait_for(state="detached")
            page.screenshot(path=str(OUT / "zoom-view.png"))
            browser.close()
    print(f"wrote {', '.join(sorted(p.name for p in OUT.glob('*.png')))} to {OUT}")


if __name__ == "__main__":
    main()

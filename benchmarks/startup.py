"""Startup: ``python -m benchmarks startup [--runs N] [--site DIST] [--query ?store=...]``.

Serves the built site with the project's server on loopback and, in N fresh Chromium contexts
(cold HTTP cache each), measures

* the app: navigation start -> ``window.zarrExplorer.ready`` (rendered and linked to Python),
  with the page's own stage timings;
* bare Pyodide: a page on the same server that only calls ``loadPyodide()`` from the same
  files, on the main thread;
* bytes: response bytes the server sent for each page (counted in the server, so requests from
  the Web Worker are included).

Prints per-run figures, medians and the ratios. These are figures, not a test.
"""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path

from pyzarr_web.tools.chromium import CHROMIUM, CHROMIUM_ARGS

_BARE_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>bare pyodide</title></head><body>
<script type="module">
const {{ loadPyodide }} = await import("/{index}pyodide.mjs");
await loadPyodide({{ indexURL: "/{index}" }});
window.bareReady = performance.now();
</script></body></html>
"""


class _ByteCounter:
    """ASGI wrapper that counts response bytes (headers and bodies) and requests."""

    def __init__(self, app) -> None:
        self.app = app
        self.bytes = 0
        self.requests = 0

    def reset(self) -> None:
        self.bytes = 0
        self.requests = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        self.requests += 1

        async def counting_send(message):
            if message["type"] == "http.response.start":
                self.bytes += sum(len(k) + len(v) + 4 for k, v in message.get("headers", [])) + 17
            elif message["type"] == "http.response.body":
                self.bytes += len(message.get("body", b""))
            await send(message)

        return await self.app(scope, receive, counting_send)


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def startup(runs: int = 5, site: Path | None = None, query: str = "", timeout_s: float = 120.0) -> dict:
    from playwright.sync_api import sync_playwright

    from pyzarr_web.tools.serve import DEFAULT_SITE, make_app, run_in_thread

    site = Path(site or DEFAULT_SITE).resolve()
    manifest_path = site / "manifest.json"
    if not manifest_path.is_file():
        raise SystemExit(f"{site} is not a built site (no manifest.json): run `python build.py` first")
    manifest = json.loads(manifest_path.read_text())
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Chromium not found at {CHROMIUM}")

    with tempfile.TemporaryDirectory() as tmp:
        bare_dir = Path(tmp) / "bench-bare"
        bare_dir.mkdir()
        (bare_dir / "index.html").write_text(_BARE_PAGE.format(index=manifest["pyodide"]["index"]))
        counter = _ByteCounter(make_app(site, [bare_dir]))
        results = {"app_ms": [], "app_bytes": [], "app_requests": [], "bare_ms": [], "bare_bytes": [],
                   "warm_ms": [], "warm_bytes": [], "stages": []}
        with run_in_thread(counter) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for i in range(runs):
                    # the app
                    ctx = browser.new_context()
                    page = ctx.new_page()
                    counter.reset()
                    page.goto(f"{base}/{query}")
                    timings = page.evaluate("window.zarrExplorer.ready.then(r => r.timings)")
                    page.wait_for_timeout(300)  # let trailing requests finish before counting
                    app_ms, app_bytes, app_reqs = timings["interactive"], counter.bytes, counter.requests
                    warm_ms = warm_bytes = float("nan")
                    if (site / "sw.js").is_file():  # the second visit: the service worker has kept the site
                        page.wait_for_function("navigator.serviceWorker.controller !== null",
                                               timeout=timeout_s * 1000)
                        page.wait_for_timeout(300)
                        page.close()
                        page = ctx.new_page()
                        counter.reset()
                        page.goto(f"{base}/{query}")
                        warm = page.evaluate("window.zarrExplorer.ready.then(r => r.timings)")
                        page.wait_for_timeout(300)
                        warm_ms, warm_bytes = warm["interactive"], counter.bytes
                    ctx.close()
                    # bare Pyodide
                    ctx = browser.new_context()
                    page = ctx.new_page()
                    counter.reset()
                    page.goto(f"{base}/data/bench-bare/index.html")
                    page.wait_for_function("window.bareReady !== undefined", timeout=timeout_s * 1000)
                    bare_ms = page.evaluate("window.bareReady")
                    page.wait_for_timeout(300)
                    bare_bytes = counter.bytes
                    ctx.close()
                    results["app_ms"].append(app_ms)
                    results["app_bytes"].append(app_bytes)
                    results["app_requests"].append(app_reqs)
                    results["bare_ms"].append(bare_ms)
                    results["bare_bytes"].append(bare_bytes)
                    results["warm_ms"].append(warm_ms)
                    results["warm_bytes"].append(warm_bytes)
                    results["stages"].append(timings)
                    print(f"run {i + 1}/{runs}: app {app_ms / 1000:.2f} s, {app_bytes / 1e6:.1f} MB in "
                          f"{app_reqs} requests | warm {warm_ms / 1000:.2f} s, {warm_bytes / 1e6:.2f} MB "
                          f"| bare Pyodide {bare_ms / 1000:.2f} s, {bare_bytes / 1e6:.1f} MB", flush=True)
            finally:
                browser.close()

    app_med, bare_med = _median(results["app_ms"]), _median(results["bare_ms"])
    bytes_med, bare_bytes_med = _median(results["app_bytes"]), _median(results["bare_bytes"])
    print()
    print(f"median over {runs} runs (cold: a fresh browser profile; warm: the same profile again):")
    print(f"  app time to interactive : {app_med / 1000:.2f} s")
    print(f"  bare Pyodide boot       : {bare_med / 1000:.2f} s")
    warm_med = _median(results["warm_ms"])
    print(f"  ratio app / bare        : {app_med / bare_med:.2f}  (target <= 1.2)")
    print(f"  warm start (2nd visit)  : {warm_med / 1000:.2f} s, {_median(results['warm_bytes']) / 1e6:.2f} MB "
          f"from the server")
    print(f"  ratio warm / cold       : {warm_med / app_med:.2f}  (target <= 0.6)")
    print(f"  app bytes               : {bytes_med / 1e6:.1f} MB (target <= 20 MB)")
    print(f"  bare Pyodide bytes      : {bare_bytes_med / 1e6:.1f} MB")
    keys = [k for k in results["stages"][0] if not k.startswith("stage:")] if results["stages"] else []
    if keys:
        print("  app stages (median ms since navigation start):")
        for k in sorted(keys, key=lambda k: _median([s.get(k, float('nan')) for s in results["stages"]])):
            print(f"    {k:28s} {_median([s[k] for s in results['stages'] if k in s]):8.0f}")
    results.update(app_median_ms=app_med, bare_median_ms=bare_med, ratio=app_med / bare_med,
                   warm_median_ms=warm_med, warm_ratio=warm_med / app_med,
                   app_bytes_median=bytes_med, bare_bytes_median=bare_bytes_med)
    return results

"""The built page in real Chromium: boots to interactive, shows progress, stays on its origin."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.browser

READY = "window.zarrExplorer.ready.then((r) => r.timings)"


def test_page_boots_to_interactive_offline(page, http_server):
    page.goto(http_server.url + "/")
    # first paint: the styled loading screen is there before Python is
    assert page.locator("#pyzarr-loading").is_visible()
    timings = page.evaluate(READY)
    stages = [k[len("stage:"):] for k in timings if k.startswith("stage:")]
    for stage in ("Downloading runtime and packages", "Installing packages", "Importing Panel",
                  "Starting the app"):
        assert stage in stages, stages
    assert timings["interactive"] >= timings["app-ready"] >= timings["pyodide-ready"] > 0
    page.wait_for_selector("#pyzarr-loading", state="detached", timeout=5000)
    assert page.locator("#pyzarr-app").inner_html() != ""
    assert page.external_requests == []
    assert page.console_errors == [], page.console_errors


def test_progress_reports_stage_and_percent(page, http_server):
    seen = []
    page.expose_function("recordProgress", lambda stage, pct: seen.append((stage, pct)))
    page.add_init_script("""
      new MutationObserver(() => {
        const s = document.getElementById('pyzarr-stage'), p = document.getElementById('pyzarr-percent');
        if (s && p) window.recordProgress(s.textContent, p.textContent);
      }).observe(document, {subtree: true, childList: true, characterData: true});
    """)
    page.goto(http_server.url + "/")
    page.evaluate(READY)
    pcts = [int(p.rstrip("%")) for _, p in seen if p.endswith("%")]
    assert any(s.startswith("Downloading") for s, _ in seen)
    assert len(set(pcts)) >= 4 and max(pcts) >= 90
    downloads = [p for s, p in seen if s.startswith("Downloading")]
    assert downloads == sorted(downloads, key=lambda p: int(p.rstrip("%")))


def test_store_and_path_reach_the_app(page, http_server, tmp_path_factory):
    """?store=URL&path=PATH are passed to create_app (visible in the store box)."""
    import zarr

    root = tmp_path_factory.mktemp("site-stores") / "site_probe.zarr"
    g = zarr.open_group(str(root), mode="w", zarr_format=3)
    g.create_array("img", shape=(4, 5), chunks=(4, 5), dtype="u1")[:] = np.arange(20, dtype="u1").reshape(4, 5)
    url = http_server.add_store(root)
    page.goto(f"{http_server.url}/?store={url}&path=img")
    page.evaluate(READY)
    values = page.evaluate("""() => {
      const out = [];
      const walk = (node) => {
        if (node.tagName === 'INPUT') out.push(node.value);
        if (node.shadowRoot) walk(node.shadowRoot);
        for (const c of node.children || []) walk(c);
      };
      walk(document.body);
      return out;
    }""")
    assert url in values, values
    assert page.external_requests == []


def test_other_origins_are_caught_even_from_workers(page, http_server):
    """Sanity check of the fixture: a worker's request to another origin is counted, not sent."""
    page.goto(http_server.url + "/")
    page.evaluate(READY)
    page.evaluate("""() => new Promise((resolve) => {
      const src = "fetch('http://other.invalid/x').catch(() => {}).finally(() => postMessage(1))";
      const w = new Worker(URL.createObjectURL(new Blob([src], {type: 'text/javascript'})));
      w.onmessage = () => resolve();
    })""")
    assert page.external_requests == ["http://other.invalid/x"]


def test_fast_slider_changes_do_not_queue_up(page, http_server):
    """While Python is busy, changes of the same attribute are coalesced (latest value wins)."""
    page.goto(http_server.url + "/")
    page.evaluate(READY)
    sent = page.evaluate("""async () => {
      // count patches the page posts to the worker while hammering one model attribute
      const models = [...Bokeh.index.roots[0].model.document.all_models];
      const m = models.find((x) => 'value' in x && typeof x.value === 'string');
      const orig = Worker.prototype.postMessage;
      let n = 0;
      Worker.prototype.postMessage = function (msg, ...rest) {
        if (msg && msg.type === 'patch') n++; return orig.call(this, msg, ...rest); };
      for (let i = 0; i < 200; i++) m.value = 'v' + i;
      await new Promise((r) => setTimeout(r, 1500));
      Worker.prototype.postMessage = orig;
      return {n, last: m.value};
    }""")
    assert sent["last"] == "v199"
    assert 1 <= sent["n"] < 20, sent
    assert page.console_errors == []


def test_manifest_is_inlined(page, http_server):
    page.goto(http_server.url + "/")
    manifest = json.loads(page.locator("#pyzarr-manifest").text_content())
    assert manifest["archives"] and manifest["worker"].startswith("app/worker.")


def test_panel_custom_components_can_load_their_module(page, http_server):
    """panel.custom components (the tree view) import their ES module with es-module-shims'
    importShim, which Panel would fetch from its CDN: the site ships it, in shim mode."""
    page.goto(http_server.url + "/")
    page.wait_for_function("() => window.Bokeh && window.Bokeh.Panel && window.importShim", timeout=30_000)
    value = page.evaluate("""async () => {
        const url = URL.createObjectURL(new Blob(["export default 6 * 7"], {type: "text/javascript"}))
        return (await window.importShim(url)).default }""")
    assert value == 42
    assert page.external_requests == [] and page.console_errors == []

"""The explorer in real Chromium opening an ``s3://`` URL at a custom endpoint (``&endpoint=``):
a local S3 server (moto, tests/s3_server.py) on another origin, with CORS, and a store without
consolidated metadata whose nodes only the bucket's listing finds."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from urllib.parse import quote

import pytest
from conftest import open_page, printed_until
from s3_server import write_plain

pytestmark = pytest.mark.browser


def open_s3(browser, http_server, s3_server, bucket: str):
    """A page of the explorer opening s3://BUCKET/plain.zarr at the moto server (which the page
    may reach too), once it has settled."""
    page = open_page(browser, http_server.url)
    page.route(f"{s3_server.endpoint}/**", lambda route: route.continue_())  # the S3 origin too
    page.goto(f"{http_server.url}/?store=s3://{bucket}/plain.zarr&endpoint={quote(s3_server.endpoint, safe='')}")
    page.evaluate("() => window.zarrExplorer.ready")
    page.evaluate("() => window.zarrExplorer.whenIdle()")
    return page


def test_explorer_opens_s3_url_and_lists_the_bucket(browser, http_server, s3_server):
    page = open_s3(browser, http_server, s3_server, "pub")
    try:
        # "hidden" is named by no metadata: only the listing (ListObjectsV2 from the page) finds it
        page.locator(".tv-row[role=treeitem][data-path='hidden']").wait_for(timeout=20_000)
        notice = page.locator(".pzw-status").inner_text()
        assert f"Reading {s3_server.endpoint}/pub/plain.zarr" in notice
        assert "nodes found by listing its folders" in notice
        assert "may be incomplete" not in notice
        assert page.external_requests == []
        assert not [e for e in page.console_errors if "CORS" in e]
    finally:
        page.context.close()


def test_bucket_without_cors_says_how_to_configure_it(browser, http_server, tmp_path):
    """An S3-compatible server that sends no CORS headers (moto allows every origin, so a plain
    file server stands in for the bucket): the page cannot read it and says how to configure CORS."""
    write_plain(tmp_path / "nocors" / "plain.zarr")
    handler = functools.partial(Quiet, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    page = open_page(browser, http_server.url)
    page.route(f"{endpoint}/**", lambda route: route.continue_())
    try:
        page.goto(f"{http_server.url}/?store=s3://nocors/plain.zarr&endpoint={quote(endpoint, safe='')}")
        page.evaluate("() => window.zarrExplorer.ready")
        page.evaluate("() => window.zarrExplorer.whenIdle()")
        text = page.locator(".pzw-error").first.inner_text(timeout=20_000)
        assert f"{endpoint}/nocors/plain.zarr/zarr.json" in text
        assert "configure CORS" in text and '"AllowedMethods": ["GET", "HEAD"]' in text
    finally:
        page.context.close()
        server.shutdown()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_serve_prints_a_page_url_that_reads_an_s3_store(browser, site_dir, s3_server, tmp_path):
    """`pyzarr-web serve s3://… --endpoint …` serves the site and prints the page URL that opens
    the bucket's store, which the page then reads from the S3 server itself."""
    proc = subprocess.Popen([sys.executable, "-m", "pyzarr_web.tools.cli", "serve", "s3://pub/plain.zarr",
                             "--endpoint", s3_server.endpoint, "--port", "0", "--no-browser", "--site", str(site_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        text = printed_until(proc, "Press Ctrl-C")
        assert "Read by the page from where they are" in text and "  s3://pub/plain.zarr\n" in text, text
        url = next(ln.strip() for ln in text.splitlines() if "?store=s3://pub/plain.zarr" in ln)
        page = open_page(browser, url.split("/?")[0])
        page.route(f"{s3_server.endpoint}/**", lambda route: route.continue_())
        try:
            page.goto(url)
            page.evaluate("() => window.zarrExplorer.ready")
            state = page.evaluate("() => window.zarrExplorer.whenIdle().then(() => window.zarrExplorer.state())")
            assert state["status"] == "idle" and state["kind"] == "group", state
            assert state["store"] == f"s3://pub/plain.zarr?endpoint={quote(s3_server.endpoint, safe='')}"
        finally:
            page.context.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)

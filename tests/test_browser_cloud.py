"""The explorer in real Chromium opening an ``s3://`` URL at a custom endpoint (``&endpoint=``):
a local S3 server (moto, tests/s3_server.py) on another origin, with CORS, and a store without
consolidated metadata whose nodes only the bucket's listing finds."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from conftest import open_page

pytestmark = pytest.mark.browser


def test_explorer_opens_s3_url_and_lists_the_bucket(browser, http_server, s3_server):
    page = open_page(browser, http_server.url)
    page.route(f"{s3_server.endpoint}/**", lambda route: route.continue_())  # the S3 origin too
    try:
        page.goto(f"{http_server.url}/?store=s3://pub/plain.zarr&endpoint={quote(s3_server.endpoint, safe='')}")
        page.evaluate("() => window.zarrExplorer.ready")
        page.evaluate("() => window.zarrExplorer.whenIdle()")
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

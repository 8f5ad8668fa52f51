"""Explorers in documentation (issue 10): a Sphinx project using the ``zarr-explorer`` directive is
built by sphinx-build; its output holds the site, and its page, served over HTTP and opened in
Chromium, shows the store written by zarr-python in the element. Directive values are text in an
attribute, never markup."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import zarr

from pyzarr_web.tools.docs import STATIC_DIR, element_html
from pyzarr_web.tools.serve import make_app, run_in_thread

pytestmark = pytest.mark.browser
DATA = np.arange(12 * 16, dtype="uint16").reshape(12, 16)
HOSTILE = '"><script>window.__pwned = 1</script>'


def test_element_html_escapes_and_refuses_unknown_attributes():
    assert element_html("a.zarr", path=HOSTILE) == \
        '<zarr-explorer store="a.zarr" path="&quot;&gt;&lt;script&gt;window.__pwned = 1&lt;/script&gt;">' \
        "</zarr-explorer>"
    with pytest.raises(ValueError, match="no attribute 'colour'"):
        element_html("a.zarr", colour="red")


@pytest.fixture(scope="module")
def docs(tmp_path_factory, site_dir):
    root = tmp_path_factory.mktemp("docs")
    zarr.open_group(root / "stores" / "field.zarr", mode="w", zarr_format=3).create_array(
        "grid", data=DATA, chunks=(6, 8))
    src = root / "src"
    src.mkdir()
    (src / "conf.py").write_text(f'project = "demo"\nextensions = ["pyzarr_web.tools.docs"]\n'
                                 f'pyzarr_web_site = {str(site_dir)!r}\n')
    (src / "index.rst").write_text(f"""Demo
====

.. zarr-explorer:: /data/field.zarr
   :path: grid
   :height: 420px
   :controls: minimal

.. zarr-explorer:: /data/field.zarr
   :select: {HOSTILE}
""")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", str(src), str(root / "out")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def test_sphinx_build_copies_the_site_and_emits_the_elements(docs):
    out = docs / "out"
    assert (out / STATIC_DIR / "index.html").is_file() and (out / STATIC_DIR / "embed.js").is_file()
    page = (out / "index.html").read_text()
    assert 'src="_static/pyzarr-web/embed.js' in page
    assert '<zarr-explorer store="/data/field.zarr" path="grid" height="420px" controls="minimal">' in page
    assert "<script>window.__pwned" not in page


def test_the_docs_page_shows_the_store_in_its_element(browser, docs):
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, service_workers="block")
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        with run_in_thread(make_app(docs / "out", [docs / "stores" / "field.zarr"])) as url:
            page.goto(f"{url}/index.html")
            state = page.evaluate("""async () => {
                const el = document.querySelector("zarr-explorer");
                await el.whenIdle();
                return el.state() }""")
            assert state["status"] == "idle" and state["path"] == "grid" and state["shape"] == [12, 16], state
            assert state["view"]["max"] == float(DATA.max())
            assert page.locator("zarr-explorer").first.bounding_box()["height"] == pytest.approx(420, abs=1)
            assert page.evaluate("() => window.__pwned") is None
    finally:
        context.close()

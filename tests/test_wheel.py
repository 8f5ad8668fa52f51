"""The package as a user installs it (issue 10): `python -m build` makes the sdist and, from it,
the wheel; the wheel goes into a fresh venv far from the checkout, where `pyzarr-web demo` serves
the explorer (Chromium sees the sample tree), and `tree`, `cat` and `build` work. The wheel carries
the built site and its sources, and the page's startup archive holds only the runtime.

Slow (two builds of the site and a venv): one module, every check on the same artefacts. The
site build reuses this checkout's download cache (PYZARR_WEB_CACHE), as CI has just filled it."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import open_page, printed_until

from pyzarr_web import __version__
from pyzarr_web.tools.paths import CACHE, CHECKOUT

pytestmark = pytest.mark.browser
#: What the page must never download: the CPython-only tooling and the benchmarks.
TOOLING = re.compile(r"^pyzarr_web/tools/|bench|^benchmarks/|^tests/")


#: The environment of the installed package: nothing of the checkout on the path.
OUTSIDE = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYZARR_WEB_SITE")}


def _run(cmd: list, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=900, env=env or OUTSIDE,
                          **kw)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """sdist and wheel (the wheel built from the sdist, as `python -m build` does)."""
    out = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "PYZARR_WEB_CACHE": str(CACHE)}
    _run([sys.executable, "-m", "build", "--outdir", out, CHECKOUT], env=env, cwd=out)
    wheel, = out.glob("pyzarr_web-*.whl")
    sdist, = out.glob("pyzarr_web-*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory) -> Path:
    """A fresh venv (no system site-packages) with the wheel installed; returns its bin/."""
    root = tmp_path_factory.mktemp("venv")
    venv.create(root / "venv", with_pip=True)
    bin_dir = root / "venv" / "bin"
    _run([bin_dir / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", built["wheel"]])
    return bin_dir


def test_the_wheel_carries_the_site_its_sources_and_no_tests(built):
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = wheel.namelist()
    assert "pyzarr_web/site/index.html" in names and "pyzarr_web/site/manifest.json" in names
    assert "pyzarr_web/site_sources/web/bundle.lock.json" in names
    assert "pyzarr_web/site_sources/index.html" in names
    assert "pyzarr_web/tools/harness/worker.js" in names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/"))]
    with tarfile.open(built["sdist"]) as tar:
        sdist = tar.getnames()
    top = f"pyzarr_web-{__version__}"
    for needed in ("web/bundle.lock.json", "index.html", "setup.py", "build.py", "pyzarr_web/tools/build.py"):
        assert f"{top}/{needed}" in sdist, needed


def test_the_startup_archive_holds_only_the_runtime(built):
    with zipfile.ZipFile(built["wheel"]) as wheel:
        manifest = json.loads(wheel.read("pyzarr_web/site/manifest.json"))
        ours, = (a for a in manifest["archives"] if a["name"] == "pyzarr_web")
        with tarfile.open(fileobj=io.BytesIO(wheel.read(f"pyzarr_web/site/{ours['tar']}"))) as tar:
            modules = [n for n in tar.getnames() if n.endswith(".pyc")]
    assert any(n.endswith("pyzarr_web/ui/explorer.pyc") for n in modules)
    assert any(n.endswith("pyzarr_web/browser.pyc") for n in modules)
    page_paths = [n.split("site-packages/")[-1] for n in modules]
    assert [n for n in page_paths if TOOLING.search(n)] == []


def test_demo_from_the_installed_wheel_shows_the_sample_tree(installed, browser, tmp_path):
    """Far from the checkout: the venv's own pyzarr-web, its own site, the sample it writes."""
    proc = subprocess.Popen([installed / "pyzarr-web", "demo", "--no-browser", "--port", "0", "--data", "data"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=OUTSIDE)
    try:
        text = printed_until(proc, "Site:")
        assert f"{installed.parent / 'lib'}" in text  # it serves the site inside the installed package
        url = next(u for u in re.findall(r"https?://\S+", text) if "store=" in u)
        page = open_page(browser, url.split("/?")[0])
        try:
            page.goto(url)
            page.evaluate("() => window.zarrExplorer.whenIdle()")
            state = page.evaluate("() => window.zarrExplorer.state()")
            assert state["status"] == "idle" and state["kind"] == "group", state
            for name in ("climate", "images", "cells"):
                page.locator(f".tv-row[role=treeitem][data-path='{name}']").wait_for()
            assert page.external_requests == []
        finally:
            page.context.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    sample = tmp_path / "data" / "sample.zarr"
    tree = json.loads(_run([installed / "pyzarr-web", "tree", sample, "--json"], cwd=tmp_path).stdout)
    assert {"climate/temperature", "images/mandelbrot", "cells/s0"} <= {n["path"] for n in tree["nodes"]}
    _run([installed / "pyzarr-web", "cat", sample, "images/mandelbrot", "--select", "0:2,0:3",
          "--out", tmp_path / "x.npy"], cwd=tmp_path)
    assert np.load(tmp_path / "x.npy").shape == (2, 3)


def test_build_from_the_installed_wheel(installed, tmp_path):
    """`pyzarr-web build` works where only the wheel is: from the sources it carries."""
    env = {**OUTSIDE, "PYZARR_WEB_CACHE": str(CACHE)}
    _run([installed / "pyzarr-web", "build", "--out", tmp_path / "site"], cwd=tmp_path, env=env)
    assert (tmp_path / "site" / "index.html").is_file() and (tmp_path / "site" / "manifest.json").is_file()

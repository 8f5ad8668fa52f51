"""The bundle: lock file integrity, hash verification, and what dist/ contains."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from pyzarr_web.tools import build

REPO = Path(__file__).resolve().parent.parent
HEX64 = re.compile(r"^[0-9a-f]{64}$")


# ------------------------------------------------------------------------------ lock

def test_lock_pins_every_input():
    lock = build.load_lock()
    names = [e["name"] for e in lock["inputs"]]
    assert len(names) == len(set(names))
    assert set(names) == {i.name for i in build.SPEC}, "lock out of date with SPEC: run --update-lock"
    for e in lock["inputs"]:
        assert e["kind"] in {"npm", "wheel", "wasm-wheel", "sdist", "mirror"}, e
        assert e["version"] and e["filename"], e
        assert HEX64.match(e["sha256"]), e
        if e["kind"] == "mirror":
            assert e["mirror"] in names and e["member"].endswith(e["filename"])
    npm = next(e for e in lock["inputs"] if e["kind"] == "npm")
    assert npm["version"] == build.PYODIDE_VERSION
    assert set(npm["files"]) == set(build.PYODIDE_CORE)


def test_mirrored_wheels_match_the_official_pyodide_lock(site_dir):
    """numpy/pandas/... come from a mirror; the official pyodide-lock.json is the authority."""
    entries = {e["name"]: e for e in build.load_lock()["inputs"]}
    core = site_dir / "pyodide" / build.PYODIDE_VERSION
    build.verify_against_official(entries, core)  # raises on any difference
    official = json.loads((core / "pyodide-lock.json").read_text())["packages"]
    assert official["numpy"]["sha256"] == entries["numpy"]["sha256"]


def _tampered(entry: dict) -> dict:
    return {**entry, "sha256": "0" * 64}


def test_tampered_hash_fails_naming_the_file(monkeypatch, tmp_path):
    """A download whose hash differs from the lock is refused with the file and its source named."""
    monkeypatch.setattr(build, "CACHE", tmp_path / "cache")
    entries = {e["name"]: e for e in build.load_lock()["inputs"]}
    entry = _tampered(entries["mdurl"])

    def fake_fetch(e, _entries, dest, *, filename):  # what the registry would send
        p = Path(dest) / filename
        p.write_bytes(b"not the pinned file")
        return p

    monkeypatch.setattr(build, "_fetch_raw", fake_fetch)
    with pytest.raises(build.BundleError) as err:
        build.ensure_input(entry, entries)
    msg = str(err.value)
    assert "sha256 mismatch" in msg
    assert entry["filename"] in msg and "mdurl==0.1.2" in msg
    assert not list((tmp_path / "cache").rglob(entry["filename"])), "a bad download must not be cached"


def test_build_with_tampered_lock_fails_offline(tmp_path):
    """The CLI refuses a lock whose hash disagrees with the cached file, before any download."""
    lock = build.load_lock()
    target = next(e for e in lock["inputs"] if e["name"] == "pyviz_comms")
    if not list((build.CACHE / "downloads").glob(f"*/{target['filename']}")):
        pytest.fail("bundle cache is empty: run `python build.py` first", pytrace=False)
    target["sha256"] = "f" * 64
    bad_lock = tmp_path / "lock.json"
    bad_lock.write_text(json.dumps(lock))
    proc = subprocess.run([sys.executable, str(REPO / "build.py"), "--lock", str(bad_lock),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert target["filename"] in proc.stderr and "sha256 mismatch" in proc.stderr
    assert "PyPI wheel pyviz_comms==3.0.6" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_missing_input_names_file_and_source(monkeypatch, tmp_path):
    monkeypatch.setattr(build, "CACHE", tmp_path / "cache")
    entries = {e["name"]: e for e in build.load_lock()["inputs"]}

    def failing_fetch(e, _entries, dest, *, filename):
        raise build.BundleError("no such file on the index")

    monkeypatch.setattr(build, "_fetch_raw", failing_fetch)
    with pytest.raises(build.BundleError) as err:
        build.ensure_input(entries["tqdm"], entries)
    assert entries["tqdm"]["filename"] in str(err.value) and "PyPI wheel tqdm" in str(err.value)


# ------------------------------------------------------------------------------ dist contents

def _manifest(site_dir: Path) -> dict:
    return json.loads((site_dir / "manifest.json").read_text())


def test_dist_has_runtime_packages_and_js(site_dir):
    m = _manifest(site_dir)
    pyo = site_dir / m["pyodide"]["index"]
    for name in ("pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", m["pyodide"]["stdlib"]):
        assert (pyo / name).is_file(), name
    for a in m["archives"] + list(m["lazy"].values()):
        p = site_dir / a["url"]
        assert p.is_file() and p.stat().st_size == a["size"], a["url"]
    names = {a["name"] for a in m["archives"]}
    assert {"deps", "numpy", "pyzarr_web"} <= names
    for script in m["scripts"]:
        assert (site_dir / script).is_file(), script
    assert (site_dir / "panel" / "1.9.4" / "dist" / "css" / "widgets.css").is_file()
    assert (site_dir / "index.html").read_text().count("zarrExplorer") >= 1
    assert (site_dir / m["worker"]).is_file()


def test_startup_archives_hold_compiled_slim_packages(site_dir):
    import zipfile

    m = _manifest(site_dir)
    deps = next(a for a in m["archives"] if a["name"] == "deps")
    with zipfile.ZipFile(site_dir / deps["url"]) as zf:
        names = zf.namelist()
    assert "panel/__init__.pyc" in names and "bokeh/__init__.pyc" in names
    assert not [n for n in names if n.endswith(".py")], "sources should be precompiled"
    assert not [n for n in names if n.startswith(("panel/dist/", "bokeh/server/static/"))]
    assert not [n for n in names if "/tests/" in n]
    own = next(a for a in m["archives"] if a["name"] == "pyzarr_web")
    with zipfile.ZipFile(site_dir / own["url"]) as zf:
        own_names = zf.namelist()
    for mod in ("pyzarr_web/browser.pyc", "pyzarr_web/core/__init__.pyc", "pyzarr_web/ui/explorer.pyc"):
        assert mod in own_names


def test_lazy_packages_cover_codecs_and_pandas(site_dir):
    lazy = _manifest(site_dir)["lazy"]
    assert "imagecodecs" in lazy["imagecodecs"]["modules"]
    assert "blosc2" in lazy["blosc2"]["modules"] and "msgpack" in lazy["blosc2"]["requires"]
    assert "pandas" in lazy["pandas"]["modules"]
    assert "numpy.random" in lazy["numpy-extras"]["modules"]


def test_no_remote_urls_in_our_page_files(site_dir):
    """The page and its glue reference nothing on another origin."""
    m = _manifest(site_dir)
    texts = [(site_dir / "index.html").read_text(), (site_dir / m["worker"]).read_text()]
    for t in texts:
        assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", t)
        assert "cdn." not in t and "jsdelivr" not in t and "unpkg" not in t


def test_startup_bytes_within_budget(site_dir):
    assert _manifest(site_dir)["startup_bytes"] <= 22_000_000


def test_wasm_is_served_as_application_wasm(http_server, site_dir):
    m = _manifest(site_dir)
    url = f"{http_server.url}/{m['pyodide']['index']}pyodide.asm.wasm"
    with urllib.request.urlopen(urllib.request.Request(url, method="HEAD")) as r:
        assert r.headers["Content-Type"] == "application/wasm"


def test_lazy_finder_resolves_dependencies_in_order():
    from pyzarr_web.browser import _LazyPackages

    f = _LazyPackages({"a": {"modules": ["a"], "requires": ["b"]}, "b": {"modules": ["b"], "requires": ["c"]},
                       "c": {"modules": ["c"]}})
    assert f.order("a") == ["c", "b", "a"]
    spec = f.find_spec("a")
    assert spec is not None and spec.name == "a"  # a probe downloads nothing
    assert f.find_spec("zzz") is None


def test_build_copies_repo_index(tmp_path):
    """index.html in the repo is a template: the build fills in the manifest and glue."""
    src = (REPO / "index.html").read_text()
    for token in ("{{ MANIFEST }}", "{{ MAIN_JS }}", "{{ SCRIPTS }}", "{{ STYLE_CSS }}"):
        assert token in src
    assert shutil.which("node"), "node is needed by the build (pyc compilation)"

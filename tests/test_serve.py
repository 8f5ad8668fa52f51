"""pyzarr_web.tools.serve over real HTTP (uvicorn on loopback)."""

from __future__ import annotations

import gzip
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import click
import httpx
import pytest

from pyzarr_web.tools.serve import _store_urls, make_app, run_in_thread, serve, site_cache_control, store_mounts

BLOB = bytes(range(256)) * 20  # 5120 bytes, every offset distinguishable mod 256
SECRET = b"TOP-SECRET-outside-the-served-roots"
APP_JS = ("// app\n" + "console.log('pyzarr-web');\n" * 400).encode()


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("serve")
    (root / "secret.txt").write_bytes(SECRET)

    site = root / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>pyzarr-web</title><p>" + "x" * 2000)
    (site / "app.js").write_bytes(APP_JS)
    (site / "app.0123abcd.js").write_bytes(APP_JS)
    (site / "pyodide.asm.wasm").write_bytes(b"\0asm\1\0\0\0" + bytes(4000))
    (site / "pyodide.mjs").write_text("export const x = 1;\n")
    (site / "pyodide-lock.json").write_text('{"packages": {}}')
    (site / "numpy-2.2.5-cp313-cp313-pyodide_2025_0_wasm32.whl").write_bytes(b"PK\x05\x06" + bytes(18))
    (site / "link_out").symlink_to(root / "secret.txt")

    store = root / "stores" / "sample.zarr"
    (store / "c" / "0").mkdir(parents=True)
    (store / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group"}')
    (store / "c" / "0" / "0").write_bytes(BLOB)
    (store / "empty").write_bytes(b"")
    (store / "link_out").symlink_to(root / "secret.txt")
    (store / "link_in").symlink_to(store / "c" / "0" / "0")
    (store / "link_dir_out").symlink_to(root, target_is_directory=True)

    twin = root / "other" / "sample.zarr"
    twin.mkdir(parents=True)
    (twin / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group", "attributes": {"twin": 1}}')

    zip_store = root / "stores" / "packed.zip"
    with zipfile.ZipFile(zip_store, "w") as zf:
        zf.writestr("zarr.json", '{"zarr_format": 3, "node_type": "group"}')
        zf.writestr("c/0", BLOB)
    return {"root": root, "site": site, "store": store, "twin": twin, "zip": zip_store}


@pytest.fixture(scope="module")
def base(tree) -> str:
    app = make_app(tree["site"], [tree["store"], tree["twin"], tree["zip"]])
    with run_in_thread(app) as url:
        yield url


@pytest.fixture(scope="module")
def gz_base(tree) -> str:
    app = make_app(tree["site"], [tree["store"]], compress_site=True)
    with run_in_thread(app) as url:
        yield url


@pytest.fixture(scope="module")
def client(base) -> httpx.Client:
    with httpx.Client(base_url=base) as c:
        yield c


def raw_get(base: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """GET with the path sent byte-for-byte (no client-side normalisation of .. or %2e)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# ------------------------------------------------------------------------------------- ranges

BLOB_URL = "/data/sample.zarr/c/0/0"


def test_full_get_advertises_ranges(client):
    r = client.get(BLOB_URL)
    assert r.status_code == 200
    assert r.content == BLOB
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-length"] == str(len(BLOB))
    assert r.headers["content-type"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("spec", "start", "stop"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=100-100", 100, 101),
        ("bytes=5000-", 5000, 5120),
        ("bytes=-10", 5110, 5120),
        ("bytes=-99999", 0, 5120),  # suffix longer than the file: the whole file, still 206
        ("bytes=5100-99999", 5100, 5120),  # last-pos past the end is clamped
    ],
)
def test_single_range(client, spec, start, stop):
    r = client.get(BLOB_URL, headers={"Range": spec})
    assert r.status_code == 206, r.text
    assert r.content == BLOB[start:stop]
    assert r.headers["content-range"] == f"bytes {start}-{stop - 1}/{len(BLOB)}"
    assert r.headers["content-length"] == str(stop - start)


@pytest.mark.parametrize("spec", ["bytes=5120-", "bytes=9000-9100", "bytes=-0"])
def test_unsatisfiable_range(client, spec):
    r = client.get(BLOB_URL, headers={"Range": spec})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{len(BLOB)}"


def test_range_on_empty_file_is_416(client):
    r = client.get("/data/sample.zarr/empty", headers={"Range": "bytes=0-"})
    assert r.status_code == 416
    assert client.get("/data/sample.zarr/empty").status_code == 200


def test_head_with_range(client):
    r = client.head(BLOB_URL, headers={"Range": "bytes=-16"})
    assert r.status_code == 206
    assert r.headers["content-range"] == "bytes 5104-5119/5120"
    assert r.content == b""


def test_multiple_ranges_are_multipart(client):
    r = client.get(BLOB_URL, headers={"Range": "bytes=0-3, 10-13, -2"})
    assert r.status_code == 206
    ctype = r.headers["content-type"]
    assert ctype.startswith("multipart/byteranges; boundary=")
    boundary = ctype.split("boundary=", 1)[1].encode()
    assert int(r.headers["content-length"]) == len(r.content)
    parts = {}
    for part in r.content.split(b"--" + boundary)[1:-1]:
        assert part.startswith(b"\r\n") and part.endswith(b"\r\n")
        head, _, body = part[2:-2].partition(b"\r\n\r\n")
        crange = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-range:")][0]
        first, last = crange.split(b" ")[-1].split(b"/")[0].split(b"-")
        parts[(int(first), int(last))] = body
    assert parts == {(0, 3): BLOB[0:4], (10, 13): BLOB[10:14], (5118, 5119): BLOB[5118:]}


def test_if_range(client):
    etag = client.get(BLOB_URL).headers["etag"]
    r = client.get(BLOB_URL, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert r.status_code == 206 and r.content == BLOB[:10]
    r = client.get(BLOB_URL, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert r.status_code == 200 and r.content == BLOB  # changed since: whole new representation


def test_zip_store_is_one_file_with_ranges(client, tree):
    data = tree["zip"].read_bytes()
    r = client.get("/data/packed.zip")
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["cache-control"] == "no-cache"
    r = client.get("/data/packed.zip", headers={"Range": "bytes=-22"})  # zip end-of-central-directory
    assert r.status_code == 206 and r.content == data[-22:]
    assert r.content.startswith(b"PK\x05\x06")
    assert client.get("/data/packed.zip/zarr.json").status_code == 404
    assert client.post("/data/packed.zip").status_code == 405


# ---------------------------------------------------------------------------------- mime types


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/pyodide.asm.wasm", "application/wasm"),
        ("/pyodide.mjs", "text/javascript; charset=utf-8"),
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/pyodide-lock.json", "application/json"),
        ("/numpy-2.2.5-cp313-cp313-pyodide_2025_0_wasm32.whl", "application/zip"),
        ("/", "text/html; charset=utf-8"),
        ("/data/sample.zarr/zarr.json", "application/json"),
    ],
)
def test_media_types(client, path, media_type):
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"] == media_type


# ----------------------------------------------------------------------------------------- CORS

EXPOSED = {"content-range", "content-length", "accept-ranges"}


def test_cors_on_simple_and_partial_responses(client):
    for headers in ({}, {"Range": "bytes=-4"}):
        r = client.get(BLOB_URL, headers={"Origin": "https://elsewhere.example", **headers})
        assert r.headers["access-control-allow-origin"] == "*"
        exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
        assert exposed >= EXPOSED
    r = client.get("/data/sample.zarr/missing", headers={"Origin": "https://elsewhere.example"})
    assert r.status_code == 404 and r.headers["access-control-allow-origin"] == "*"


def test_cors_preflight_allows_range(client):
    r = client.options(BLOB_URL, headers={
        "Origin": "https://elsewhere.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "range",
    })
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert "GET" in r.headers["access-control-allow-methods"]
    assert "range" in r.headers["access-control-allow-headers"].lower()


def test_cors_private_network_preflight(client):
    r = client.options(BLOB_URL, headers={
        "Origin": "https://public.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Private-Network": "true",
    })
    assert r.status_code == 200
    assert r.headers["access-control-allow-private-network"] == "true"


# ---------------------------------------------------------------------------------- traversal

TRAVERSALS = [
    "/data/sample.zarr/../../secret.txt",
    "/data/sample.zarr/../../../secret.txt",
    "/data/sample.zarr/%2e%2e/%2e%2e/secret.txt",
    "/data/sample.zarr/%2E%2E%2F%2E%2E%2Fsecret.txt",
    "/data/sample.zarr/..%2f..%2fsecret.txt",
    "/data/sample.zarr/c/0/..%5c..%5c..%5c..%5csecret.txt",
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/..%2fsecret.txt",
    "/site/../secret.txt",
    "//etc/passwd",
    "/data/sample.zarr//etc/passwd",
    "/data/sample.zarr/%2fetc%2fpasswd",
    "/data/packed.zip/../../secret.txt",
    "/data/sample.zarr/link_out",
    "/data/sample.zarr/link_dir_out/secret.txt",
    "/link_out",
    "/data/sample.zarr/%00",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_traversal(base, tree, path):
    status, body = raw_get(base, path)
    assert status in (400, 404), (path, status)
    assert SECRET not in body and b"root:" not in body


def test_traversal_paths_really_point_at_the_secret(tree):
    # The attack paths are meaningful: resolved naively, they would reach the secret.
    store = tree["store"]
    assert (store / ".." / ".." / "secret.txt").resolve().read_bytes() == SECRET
    assert (store / "link_out").read_bytes() == SECRET


def test_symlink_inside_the_store_is_served(client):
    r = client.get("/data/sample.zarr/link_in")
    assert r.status_code == 200 and r.content == BLOB


def test_dot_segments_inside_the_root_still_work(base):
    status, body = raw_get(base, "/data/sample.zarr/c/0/../0/0")
    assert status == 200 and body == BLOB


# ------------------------------------------------------------------------------- 404 & routing


@pytest.mark.parametrize("path", ["/nope.js", "/data/sample.zarr/nope", "/data/unknown.zarr/zarr.json",
                                  "/data/sample.zarr/", "/data/packed.zip/x"])
def test_missing_is_404(client, path):
    assert client.get(path).status_code == 404


def test_data_index_lists_mounts(client):
    r = client.get("/data/")
    assert r.status_code == 200
    assert r.json() == {"stores": [
        {"name": "sample.zarr", "url": "/data/sample.zarr", "kind": "directory"},
        {"name": "sample-2.zarr", "url": "/data/sample-2.zarr", "kind": "directory"},
        {"name": "packed.zip", "url": "/data/packed.zip", "kind": "zip"},
    ]}
    assert client.get("/data/sample-2.zarr/zarr.json").json()["attributes"] == {"twin": 1}


def test_index_html_at_root_with_query(client):
    r = client.get("/?store=/data/sample.zarr")
    assert r.status_code == 200 and r.text.startswith("<!doctype html>")


def test_methods(client):
    assert client.put(BLOB_URL, content=b"x").status_code == 405
    assert client.delete("/").status_code == 405


def test_app_without_site(tree):
    with run_in_thread(make_app(None, [tree["store"]])) as url:
        assert httpx.get(url + "/").status_code == 404
        assert httpx.get(url + BLOB_URL).content == BLOB


# ------------------------------------------------------------------------------------- caching


def test_store_data_is_revalidated_not_cached(client):
    r = client.get(BLOB_URL)
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["etag"] and r.headers["last-modified"]
    r304 = client.get(BLOB_URL, headers={"If-None-Match": r.headers["etag"]})
    assert r304.status_code == 304 and r304.content == b""
    assert r304.headers["etag"] == r.headers["etag"]
    assert r304.headers["cache-control"] == "no-cache"
    assert client.get(BLOB_URL, headers={"If-Modified-Since": r.headers["last-modified"]}).status_code == 304
    assert client.get(BLOB_URL, headers={"If-None-Match": '"other"'}).status_code == 200


def test_changed_store_file_is_seen(client, tree):
    path = tree["store"] / "changing"
    path.write_bytes(b"one")
    first = client.get("/data/sample.zarr/changing")
    path.write_bytes(b"two!")
    os.utime(path, (time.time() + 5, time.time() + 5))
    second = client.get("/data/sample.zarr/changing", headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200 and second.content == b"two!"


def test_site_caching(client):
    index = client.get("/")
    assert index.headers["cache-control"] == "no-cache"
    assert client.get("/", headers={"If-None-Match": index.headers["etag"]}).status_code == 304
    assert client.get("/app.js").headers["cache-control"] == "no-cache"
    assert client.get("/app.0123abcd.js").headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(("name", "immutable"), [
    ("app.0123abcd.js", True), ("chunk-3f9a1c2b7d.mjs", True), ("app.js", False), ("pyodide.asm.wasm", False),
    ("numpy-2.2.5-cp313-cp313-pyodide_2025_0_wasm32.whl", False), ("python_stdlib.zip", False),
    ("decade.js", False),
])
def test_hashed_names(name, immutable):
    assert (site_cache_control(name) != "no-cache") is immutable


# ---------------------------------------------------------------------------------------- gzip


def test_no_compression_by_default(client):
    r = client.get("/app.js", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in r.headers
    assert r.headers["content-length"] == str(len(APP_JS))


def test_gzip_for_site_text_assets(gz_base):
    with httpx.Client(base_url=gz_base) as c:
        r = c.get("/app.js", headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
        assert r.content == APP_JS  # httpx decodes
        assert "accept-encoding" in r.headers["vary"].lower()
        assert r.headers["etag"].startswith('W/"')
        plain_etag = c.get("/app.js", headers={"Accept-Encoding": "identity"}).headers["etag"]
        assert r.headers["etag"] == "W/" + plain_etag
        r304 = c.get("/app.js", headers={"Accept-Encoding": "gzip", "If-None-Match": r.headers["etag"]})
        assert r304.status_code == 304
        assert c.get("/", headers={"Accept-Encoding": "gzip"}).headers["content-encoding"] == "gzip"


def test_gzip_wire_bytes_are_gzip(gz_base):
    status, body = raw_get(gz_base, "/app.js", {"Accept-Encoding": "gzip"})
    assert status == 200 and len(body) < len(APP_JS) // 5
    assert gzip.decompress(body) == APP_JS


def test_gzip_never_touches_ranges_store_data_or_binaries(gz_base):
    with httpx.Client(base_url=gz_base) as c:
        r = c.get("/app.js", headers={"Accept-Encoding": "gzip", "Range": "bytes=100-299"})
        assert r.status_code == 206 and "content-encoding" not in r.headers
        assert r.content == APP_JS[100:300]
        assert r.headers["content-range"] == f"bytes 100-299/{len(APP_JS)}"
        r = c.get("/app.js", headers={"Accept-Encoding": "gzip", "Range": "bytes=-50"})
        assert r.status_code == 206 and r.content == APP_JS[-50:]
        for path in ("/pyodide.asm.wasm", BLOB_URL, "/data/sample.zarr/zarr.json"):
            r = c.get(path, headers={"Accept-Encoding": "gzip"})
            assert r.status_code == 200 and "content-encoding" not in r.headers, path


# ------------------------------------------------------------------------------------ mounting


def test_store_mount_names(tmp_path):
    def mk(*parts):
        p = tmp_path.joinpath(*parts)
        p.mkdir(parents=True)
        return p

    a, b, c = mk("a", "s.zarr"), mk("b", "s.zarr"), mk("c", "s.zarr")
    explicit = mk("d", "s-2.zarr")
    plain, plain2 = mk("e", "data"), mk("f", "data")
    names = [n for n, _ in store_mounts([a, b, explicit, c, a, plain, plain2])]
    # a keeps its name, the explicit s-2.zarr keeps its own, b and c take the next free numbers,
    # the repeated a is served once.
    assert names == ["s.zarr", "s-3.zarr", "s-2.zarr", "s-4.zarr", "data", "data-2"]
    (tmp_path / "chunk.bin").write_bytes(b"x")
    with pytest.raises(ValueError, match="not a directory, a .zip or a .json file"):
        store_mounts([tmp_path / "chunk.bin"])
    with pytest.raises(ValueError, match="does not exist"):
        store_mounts([tmp_path / "missing.zarr"])


def test_virtual_stores_are_served_with_their_folder_and_named_in_urls(tmp_path):
    """A Kerchunk reference file is served with its folder (relative targets resolve there);
    the URLs printed open reference files and Icechunk repositories with the right kind."""
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "refs.json").write_text('{"version": 1, "refs": {".zgroup": "{}"}}')
    (folder / "other.json").write_text('{"note": 1}')
    repo = folder / "repo"
    (repo / "refs" / "branch.main").mkdir(parents=True)
    (repo / "refs" / "branch.main" / "ref.json").write_text('{"snapshot": "1CECHNKREP0F1RSTCMT0"}')
    mounts = store_mounts([folder / "refs.json", folder])
    assert mounts == [("archive", folder.resolve())]
    assert _store_urls("http://h", "archive", folder) == [
        "http://h/?store=/data/archive/refs.json", "http://h/?store=icechunk:/data/archive/repo"]
    assert _store_urls("http://h", "repo", repo) == ["http://h/?store=icechunk:/data/repo"]


def test_run_in_thread_stops(tree):
    with run_in_thread(make_app(None, [tree["store"]])) as url:
        port = urlsplit(url).port
        assert url == f"http://127.0.0.1:{port}"
        assert httpx.get(url + "/data/sample.zarr/zarr.json").status_code == 200
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


# ------------------------------------------------------------------------------- serve command


def test_serve_errors(tree, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(click.ClickException, match=f"port {port} .* already in use"):
            serve([tree["store"]], port=port, site=tree["site"], open_browser=False)
    with pytest.raises(click.ClickException, match="not a built site"):
        serve([tree["store"]], port=0, site=tmp_path / "nosite", open_browser=False)
    with pytest.raises(click.ClickException, match="does not exist"):
        serve([tmp_path / "nostore.zarr"], port=0, site=tree["site"], open_browser=False)


def test_serve_command_prints_real_urls_opens_browser_and_stops_on_ctrl_c(tree, tmp_path):
    opened = tmp_path / "opened.txt"
    fake_browser = tmp_path / "fake_browser.py"
    fake_browser.write_text(f"import sys, pathlib; pathlib.Path({str(opened)!r}).write_text(sys.argv[1])\n")
    env = {**os.environ, "BROWSER": f"{sys.executable} {fake_browser} %s", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyzarr_web.tools.cli", "serve", str(tree["store"]), str(tree["twin"]),
         str(tree["store"].parent), "--port", "0", "--site", str(tree["site"])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        out = "\n".join(lines)
        urls = [ln.strip() for ln in lines if ln.strip().startswith("http://") and "?store=" in ln]
        assert urls, out
        port = urlsplit(urls[0]).port
        assert port and port != 0
        base = f"http://127.0.0.1:{port}"
        assert urls == [f"{base}/?store=/data/sample.zarr", f"{base}/?store=/data/sample-2.zarr",
                        f"{base}/?store=/data/stores/packed.zip", f"{base}/?store=/data/stores/sample.zarr"], out
        assert f"Site:   {base}/" in out
        assert "renamed" in out  # the twin's new name is announced

        r = httpx.get(urls[0])
        assert r.status_code == 200 and r.text.startswith("<!doctype html>")
        assert httpx.get(f"{base}/data/stores/sample.zarr/c/0/0", headers={"Range": "bytes=-1"}).content == BLOB[-1:]

        deadline = time.monotonic() + 10
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert opened.read_text() == urls[0]

        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert "Stopped." in rest
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------------------- real browser


@pytest.mark.browser
def test_chromium_reads_a_store_cross_origin(tree):
    """A page on one origin reads a store on another: preflighted suffix Range, exposed
    Content-Range, and the site's .wasm compiles via compileStreaming (needs application/wasm)."""
    from playwright.sync_api import sync_playwright

    page_dir = tree["root"] / "page"
    page_dir.mkdir(exist_ok=True)
    (page_dir / "index.html").write_text("<!doctype html><title>probe</title>")
    (page_dir / "empty.wasm").write_bytes(b"\0asm\1\0\0\0")  # the smallest valid module
    with run_in_thread(make_app(page_dir, [])) as page_url, \
            run_in_thread(make_app(None, [tree["store"]]), host="127.0.0.1") as store_url, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(page_url + "/")
            result = page.evaluate(
                """async (url) => {
                    const r = await fetch(url, {headers: {Range: "bytes=-10"}});
                    const body = new Uint8Array(await r.arrayBuffer());
                    const mod = await WebAssembly.compileStreaming(fetch("/empty.wasm"));
                    return {status: r.status, range: r.headers.get("Content-Range"),
                            body: Array.from(body), wasm: mod instanceof WebAssembly.Module};
                }""",
                f"{store_url}{BLOB_URL}",
            )
        finally:
            browser.close()
    assert result == {"status": 206, "range": "bytes 5110-5119/5120", "body": list(BLOB[-10:]), "wasm": True}

"""Hostile names and misbehaving HTTP servers (issue 14, part B), through the CLI (`pyzarr-web
tree` / `cat`, in process) and, for a representative third, through the explorer page in Chromium.

Stores are written by zarr-python here and served by :mod:`fault_server` (faults chosen by the
URL), by our own server (``pyzarr_web.tools.serve``) or read as directories. Every case asserts its
outcome: the exact data, or a clear error naming the URL/key (no traceback); no hang past the
deadline; no request outside the store (the server's request log).
"""

from __future__ import annotations

import asyncio
import json
import posixpath
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import zarr
from click.testing import CliRunner
from fault_server import Case, FaultServer

from pyzarr_web.core.errors import StoreError
from pyzarr_web.core.store import RangeRequest, SuffixRequest
from pyzarr_web.core.stores import http
from pyzarr_web.tools.cli import main
from pyzarr_web.tools.serve import make_app, run_in_thread

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

#: short waits for the tests (defaults are 20 s / 20 s / 300 s)
FAST = http.Timeouts(first_byte=1.0, idle=1.0, total=3.0)
#: a case must end well before this (seconds): the deadline plus retries and slack
WALL = FAST.total + 3.0

#: node names that must read their own data (over HTTP they need percent-encoding)
GOOD_NAMES = ["hash#x", "a?b", "%41", "A", "sp ace", "é", "plus+b", "semi;c", "amp&b", "pct%", "x.y"]
#: node names zarr-python writes but that decode to a path leaving the node (refused, by name)
REFUSED_NAMES = ["%2F", "..%2F", "%2E%2E"]
#: consolidated entries that point outside the store
EVIL_ENTRIES = ["../evil", "x/../../evil", "..%2Fevil", "%2e%2e/evil"]


def _name_data(i: int) -> np.ndarray:
    return (np.arange(24, dtype="i2").reshape(4, 6) + 100 * (i + 1)).astype("i2")


def _write(path: Path, zarr_format: int) -> dict[str, np.ndarray]:
    """A store with a sharded array (v3), a compressed one, a sparse one, and oddly named nodes."""
    expected = {}
    root = zarr.open_group(path, mode="w", zarr_format=zarr_format)
    b = (np.arange(120, dtype="f4").reshape(12, 10) * 0.5 - 7).astype("f4")
    compressors = zarr.codecs.GzipCodec() if zarr_format == 3 else None
    kwargs = {"compressors": compressors} if compressors else {}
    root.create_array("b", shape=b.shape, chunks=(5, 4), dtype="f4", **kwargs)[:] = b
    expected["b"] = b
    if zarr_format == 3:
        a = (np.arange(120, dtype="i4").reshape(12, 10) * 7 % 1000).astype("i4")
        root.create_array("a", shape=a.shape, shards=(6, 10), chunks=(3, 5), dtype="i4")[:] = a
        expected["a"] = a
        sparse = root.create_array("sparse", shape=(8, 8), chunks=(4, 4), dtype="u1", fill_value=9)
        sparse[:4, :4] = 1
        expected["sparse"] = sparse[:]
    for i, name in enumerate(GOOD_NAMES + REFUSED_NAMES):
        root.create_array(name, shape=(4, 6), chunks=(2, 3), dtype="i2")[:] = _name_data(i)
        expected[name] = _name_data(i)
    zarr.consolidate_metadata(path)
    return expected


def _write_evil(src: Path, dst: Path, zarr_format: int) -> None:
    """A copy of SRC whose consolidated metadata lists arrays outside the store."""
    shutil.copytree(src, dst)
    if zarr_format == 2:
        doc = json.loads((dst / ".zmetadata").read_text())
        for entry in EVIL_ENTRIES:
            doc["metadata"][f"{entry}/.zarray"] = doc["metadata"]["b/.zarray"]
        (dst / ".zmetadata").write_text(json.dumps(doc))
    else:
        doc = json.loads((dst / "zarr.json").read_text())
        for entry in EVIL_ENTRIES:
            doc["consolidated_metadata"]["metadata"][entry] = doc["consolidated_metadata"]["metadata"]["b"]
        (dst / "zarr.json").write_text(json.dumps(doc))


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """root/{v2,v3}.zarr, root/{v2,v3}-evil.zarr, and root/evil: what an escaping read would find."""
    root = tmp_path_factory.mktemp("hostile")
    expected = {}
    for fmt in (2, 3):
        expected[fmt] = _write(root / f"v{fmt}.zarr", fmt)
        _write_evil(root / f"v{fmt}.zarr", root / f"v{fmt}-evil.zarr", fmt)
    shutil.copytree(root / "v2.zarr" / "b", root / "evil")  # served at /<fault>/evil/...
    return root, expected


@pytest.fixture(scope="module")
def faults(stores):
    with FaultServer(stores[0]) as server:
        yield server


@pytest.fixture(autouse=True)
def fast_http(monkeypatch):
    monkeypatch.setattr(http, "TIMEOUTS", FAST)
    monkeypatch.setattr(http, "BACKOFF", 0.05)


def cli(*args: str):
    """Run the CLI in process; (result, seconds taken)."""
    started = time.monotonic()
    result = CliRunner().invoke(main, list(args))
    return result, time.monotonic() - started


def cat(tmp_path, source: str, path: str, selection: str = "..."):
    out = tmp_path / "out.npy"
    result, elapsed = cli("cat", source, path, "--select", selection, "--out", str(out))
    return result, elapsed, (np.load(out) if result.exit_code == 0 else None)


def assert_clear_error(result, *names: str) -> str:
    """Exit 1 with one ``error: ...`` naming each of NAMES, and no traceback."""
    message = result.output
    assert result.exit_code == 1, message
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert message.startswith("error: ") and "Traceback" not in message, message
    for name in names:
        assert name in message, f"{name!r} not in {message!r}"
    return message


def assert_confined(case: Case, *prefixes: str) -> list:
    """Every request of CASE stayed under one of PREFIXES (decoded and normalised)."""
    requests = case.requests()
    for r in requests:
        path = posixpath.normpath(r.path)
        assert any(path.startswith(p) for p in prefixes), f"request outside the store: {r.raw_path}"
    return requests


#: the selections the cases use, as `--select` text and as numpy indices
SELECTIONS = {"...": np.s_[...], "6:9,5:10": np.s_[6:9, 5:10], "0:3,0:5": np.s_[0:3, 0:5],
              "5:9,2:8": np.s_[5:9, 2:8], "11,:": np.s_[11, :], "2:7,1:9": np.s_[2:7, 1:9]}


# ------------------------------------------------------------------------------ names and keys

@pytest.fixture(scope="module")
def our_server(stores):
    with run_in_thread(make_app(None, [stores[0] / "v2.zarr", stores[0] / "v3.zarr"])) as base:
        yield base


@pytest.mark.parametrize("via", ["faults", "serve", "directory"])
@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("name", GOOD_NAMES)
def test_odd_node_names_read_their_own_data(request, stores, tmp_path, via, zarr_format, name):
    root, expected = stores
    case = request.getfixturevalue("faults").case() if via == "faults" else None
    source = {"faults": lambda: f"{case.url}/ok/v{zarr_format}.zarr",
              "serve": lambda: f"{request.getfixturevalue('our_server')}/data/v{zarr_format}.zarr",
              "directory": lambda: str(root / f"v{zarr_format}.zarr")}[via]()
    result, _, data = cat(tmp_path, source, name)
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(data, expected[zarr_format][name])
    if via == "faults":
        assert_confined(case, f"/ok/v{zarr_format}.zarr/")


@pytest.mark.parametrize("via", ["faults", "directory"])
@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("name", REFUSED_NAMES)
def test_names_that_decode_to_escapes_are_refused_by_key(faults, stores, tmp_path, via, zarr_format, name):
    root, _ = stores
    case = faults.case()
    source = f"{case.url}/ok/v{zarr_format}.zarr" if via == "faults" else str(root / f"v{zarr_format}.zarr")
    result, _, _ = cat(tmp_path, source, name)
    assert_clear_error(result, "refusing key", name)
    assert_confined(case, f"/ok/v{zarr_format}.zarr/")


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("entry", EVIL_ENTRIES)
def test_consolidated_entries_outside_the_store_are_never_requested(faults, tmp_path, zarr_format, entry):
    case = faults.case()
    result, _, _ = cat(tmp_path, f"{case.url}/ok/v{zarr_format}-evil.zarr", entry)
    assert_clear_error(result, "evil")
    assert_confined(case, f"/ok/v{zarr_format}-evil.zarr/")


@pytest.mark.parametrize("base,key,url", [
    ("http://h/s.zarr", "hash#x/c/0", "http://h/s.zarr/hash%23x/c/0"),
    ("http://h/s.zarr/", "a?b/.zarray", "http://h/s.zarr/a%3Fb/.zarray"),
    ("http://h/s.zarr", "%41/zarr.json", "http://h/s.zarr/%2541/zarr.json"),
    ("http://h/s.zarr", "sp ace/é", "http://h/s.zarr/sp%20ace/%C3%A9"),
    ("https://h/c/s.zarr?sig=a%2Fb&x=1", "g/zarr.json", "https://h/c/s.zarr/g/zarr.json?sig=a%2Fb&x=1"),
    ("/data/s.zarr", "plus+b/0.0", "/data/s.zarr/plus%2Bb/0.0"),
    ("http://h/s.zarr", "", "http://h/s.zarr"),
])
def test_key_url_encodes_each_segment_and_keeps_the_query(base, key, url):
    assert http.key_url(base, key) == url


@pytest.mark.parametrize("key", ["../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a/.",
                                 "..%2Fx", "%2e%2e/x", "%252E%252E/x", "a%2F..%2F..%2Fx", "x\\..\\y",
                                 "a/%00"])
def test_key_url_refuses_keys_that_could_leave_the_store(key):
    with pytest.raises(StoreError, match=re.escape(f"refusing key {key!r}")):
        http.key_url("http://h/s.zarr", key)


VALUE = bytes(range(10))


@pytest.mark.parametrize("byte_range,content_range,body,ok", [
    (RangeRequest(2, 3), "bytes 2-4/10", VALUE[2:5], True),
    (RangeRequest(8, 5), "bytes 8-9/10", VALUE[8:], True),  # shorter only at the end of the value
    (RangeRequest(8, 5), "bytes 8-9/*", VALUE[8:], False),  # ... which an unknown total cannot show
    (RangeRequest(2, 3), "bytes 2-4/10", VALUE[2:6], False),
    (SuffixRequest(4), "bytes 6-9/10", VALUE[6:], True),
    (SuffixRequest(20), "bytes 0-9/10", VALUE, True),
    (SuffixRequest(4), "bytes 6-9/*", VALUE[6:], False),
    (SuffixRequest(4), "bytes 5-8/10", VALUE[5:9], False),
])
def test_partial_answers_are_checked_against_the_request(byte_range, content_range, body, ok):
    async def transport(url, headers, timeouts):
        return http.HttpResponse(206, body, {"content-range": content_range})

    store = http.HttpStore("http://h/s.zarr", transport)
    if ok:
        assert asyncio.run(store.get("k", byte_range)) == body
    else:
        with pytest.raises(StoreError, match=r"GET http://h/s\.zarr/k \(bytes=.*Content-Range"):
            asyncio.run(store.get("k", byte_range))


@pytest.mark.parametrize("content_type,body,html", [
    ("text/html; charset=utf-8", b'{"zarr_format": 2}', False),  # mislabelled JSON is still JSON
    ("application/octet-stream", b"  <!doctype html><p>not found", True),
    ("text/html", b"Not found", True),
])
def test_html_in_place_of_metadata_is_named(content_type, body, html):
    async def transport(url, headers, timeouts):
        return http.HttpResponse(200, body, {"content-type": content_type})

    store = http.HttpStore("http://h/s.zarr", transport)
    if html:
        with pytest.raises(StoreError, match=r"http://h/s.zarr/.zarray: an HTML page came back"):
            asyncio.run(store.get(".zarray"))
    else:
        assert asyncio.run(store.get(".zarray")) == body


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_tree_refuses_escaping_entries_without_leaving_the_store(faults, zarr_format):
    """Consolidated metadata naming a node outside the store is refused as a whole, naming the
    entry (the metadata validation layer); nothing is requested outside the store."""
    case = faults.case()
    result, _ = cli("tree", "--json", f"{case.url}/ok/v{zarr_format}-evil.zarr")
    assert_clear_error(result, "evil")
    assert "'..'" in result.output
    assert_confined(case, f"/ok/v{zarr_format}-evil.zarr/")


# ------------------------------------------------------------------------------ HTTP faults
# (fault, store format, array or None for `tree`, selection, expected: "data" or an error regex)
RANGE_ERRORS = {
    "range-shift": r"Content-Range 'bytes \d+-\d+/\d+', not the range asked for",
    "range-missing": r"HTTP 206 with no Content-Range",
    "range-garbage": r"HTTP 206 with an unusable Content-Range 'bytes \*/\d+'",
    "range-whole": r"a body of \d+ bytes, but Content-Range 'bytes \d+-\d+/\d+' announces \d+",
    "range-whole-said": r"Content-Range 'bytes 0-\d+/\d+', not the range asked for",
}
CASES = [
    *[(fault, 3, "a", sel, error) for fault, error in RANGE_ERRORS.items() for sel in ("...", "6:9,5:10")],
    *[("ignore-range", 3, "a", sel, "data") for sel in ("...", "0:3,0:5", "5:9,2:8", "11,:")],
    ("truncate@meta", 2, None, "", r"body broken off|incomplete|peer closed"),
    ("truncate@meta", 3, None, "", r"body broken off|incomplete|peer closed"),
    ("truncate@chunk", 2, "b", "...", r"body broken off|incomplete|peer closed"),
    ("truncate@chunk", 3, "b", "...", r"body broken off|incomplete|peer closed"),
    ("truncate@chunk", 3, "a", "...", r"body broken off|incomplete|peer closed"),
    ("hang@meta", 2, None, "", r"no response after \d+\.\d s \(first-byte timeout 1 s\)"),
    ("hang@meta", 3, None, "", r"no response after \d+\.\d s \(first-byte timeout 1 s\)"),
    ("hang@chunk", 2, "b", "...", r"no response after \d+\.\d s \(first-byte timeout 1 s\)"),
    ("hang@chunk", 3, "a", "...", r"no response after \d+\.\d s \(first-byte timeout 1 s\)"),
    ("stall@meta", 2, None, "", r"body stalled after \d+ bytes: nothing for 1 s"),
    ("stall@meta", 3, None, "", r"body stalled after \d+ bytes: nothing for 1 s"),
    ("stall@chunk", 2, "b", "...", r"body stalled after \d+ bytes: nothing for 1 s"),
    ("stall@chunk", 3, "a", "...", r"body stalled after \d+ bytes: nothing for 1 s"),
    ("drip@meta", 2, None, "", r"not complete after \d+\.\d s \(deadline 3 s"),
    ("drip@meta", 3, None, "", r"not complete after \d+\.\d s \(deadline 3 s"),
    ("drip@chunk", 2, "b", "...", r"not complete after \d+\.\d s \(deadline 3 s"),
    ("drip@chunk", 3, "b", "...", r"not complete after \d+\.\d s \(deadline 3 s"),
    ("loop@meta", 2, None, "", r"more than 10 redirects"),
    ("loop@meta", 3, None, "", r"more than 10 redirects"),
    ("loop@chunk", 3, "a", "...", r"more than 10 redirects"),
    ("moved", 2, "b", "...", "data"),
    ("moved", 3, "a", "2:7,1:9", "data"),
    ("moved", 3, None, "", "data"),
    ("flaky", 2, "b", "...", "data"),
    ("flaky", 3, "a", "...", "data"),
    ("flaky", 3, None, "", "data"),
    ("e503@meta", 3, None, "", r"HTTP 503, server error \(after 3 attempts\)"),
    ("e503@chunk", 3, "a", "...", r"HTTP 503, server error \(after 3 attempts\)"),
    ("e401@meta", 3, None, "", r"HTTP 401, authentication required"),
    ("e401@chunk", 3, "b", "...", r"HTTP 401, authentication required"),
    ("e403@meta", 2, None, "", r"HTTP 403, access denied"),
    ("e403@chunk", 3, "a", "...", r"HTTP 403, access denied"),
    ("e410@meta", 3, None, "", r"HTTP 410, gone"),
    ("e410@chunk", 2, "b", "...", r"HTTP 410, gone"),
    ("spa", 2, None, "", r"an HTML page came back \(HTTP 200\) instead of Zarr metadata"),
    ("spa", 3, "missing", "...", r"an HTML page came back \(HTTP 200\) instead of Zarr metadata"),
    ("spa", 3, "sparse", "...", r"sparse/c/[01]/1"),
]


def _case_id(spec) -> str:
    fault, fmt, array, sel, _ = spec
    return f"{fault}-v{fmt}-{array or 'tree'}-{sel}"


def run_case(faults, expected, tmp_path, spec):
    """Run one fault case SPEC through the CLI and check its outcome; returns its requests."""
    fault, fmt, array, sel, expect = spec
    store = f"/{fault}/v{fmt}.zarr"
    case = faults.case()
    if array is None:
        result, elapsed = cli("tree", case.url + store)
        data = None
    else:
        result, elapsed, data = cat(tmp_path, case.url + store, array, sel)
    assert elapsed < WALL, f"took {elapsed:.1f} s"
    if expect == "data":
        assert result.exit_code == 0, result.output
        if array is not None:
            np.testing.assert_array_equal(data, expected[fmt][array][SELECTIONS[sel]])
        else:
            assert "hash#x" in result.output and "b  [12, 10]" in result.output
    else:  # transport and response errors name the URL; a chunk that does not decode, its key
        message = assert_clear_error(result, *([] if "/c/" in expect else [case.url + store + "/"]))
        assert re.search(expect, message), message
    return assert_confined(case, store + "/", f"/ok/v{fmt}.zarr/")


@pytest.mark.parametrize("spec", CASES, ids=_case_id)
def test_http_fault_through_the_cli(faults, stores, tmp_path, spec):
    requests = run_case(faults, stores[1], tmp_path, spec)
    fault = spec[0]
    if fault == "ignore-range":  # once a 200 answered a Range request, no Range is sent again
        chunks = [bool(r.range) for r in requests if "/c/" in r.path]
        first_plain = chunks.index(False)
        assert 1 <= first_plain <= 6 and not any(chunks[first_plain:]), [(r.path, r.range) for r in requests]
    if fault == "flaky":
        assert any(r.status == 503 for r in requests)


# ------------------------------------------------------------------------------ the page
# One explorer page (booting is costly) on the site's origin reads the fault server's stores
# cross-origin (so CORS is real). Its worker's HTTP waits are shortened like the CLI's (the
# 5xx backoff keeps its default).
PAGE_WALL = WALL + 3.0  # plus the page's own round trips
#: where the browser words an error differently from httpx (it hides why a fetch failed)
BROWSER_ERRORS = {"truncate": r"network error after \d+ bytes", "loop": r"network error",
                  "nocors": r"network error .*CORS"}
PAGE_NAMES = ["hash#x", "a?b", "%41", "pct%"]
PAGE_CASES = [
    *[("ok", fmt, name, "data") for fmt in (2, 3) for name in PAGE_NAMES],
    ("ok", 2, "%2F", r"refusing key '%2F/"), ("ok", 3, "..%2F", r"refusing key '\.\.%2F/"),
    ("ok", "2-evil", "../evil", r"evil"), ("ok", "3-evil", "..%2Fevil", r"evil"),
    *[(fault, 3, "a", error) for fault, error in RANGE_ERRORS.items() if fault != "range-garbage"],
    ("ignore-range", 3, "a", "data"),
    ("truncate@chunk", 3, "b", "truncate"), ("truncate@meta", 2, None, "truncate"),
    ("hang@meta", 3, None, r"no response after \d+\.\d s \(first-byte timeout 1 s\)"),
    ("hang@chunk", 3, "a", r"no response after \d+\.\d s \(first-byte timeout 1 s\)"),
    ("stall@chunk", 2, "b", r"body stalled after \d+ bytes: nothing for 1 s"),
    ("stall@meta", 3, None, r"body stalled after \d+ bytes: nothing for 1 s"),
    ("drip@chunk", 3, "b", r"not complete after \d+\.\d s \(deadline 3 s"),
    ("loop@meta", 3, None, "loop"),
    ("moved", 3, "a", "data"), ("flaky", 2, "b", "data"),
    ("e503@chunk", 3, "a", r"HTTP 503, server error \(after 3 attempts\)"),
    ("e403@meta", 3, None, r"HTTP 403, access denied"),
    ("e401@chunk", 2, "b", r"HTTP 401, authentication required"),
    ("e410@meta", 2, None, r"HTTP 410, gone"),
    ("spa", 2, None, r"an HTML page came back \(HTTP 200\) instead of Zarr metadata"),
    ("nocors", 3, None, "nocors"),
]

OPEN_JS = """async ([url, path]) => {
  const e = window.zarrExplorer;
  let state = await e.open(url);
  if (path !== null && state.status !== "error") state = await e.select(path);
  return state;
}"""


@pytest.fixture(scope="module")
def explorer(browser, http_server, faults):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, service_workers="block")
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.elsewhere = []
    allowed = (http_server.url + "/", faults.url + "/")

    def route(r):
        if r.request.url.startswith(allowed):
            r.continue_()
        else:
            page.elsewhere.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.goto(f"{http_server.url}/")
    page.evaluate("() => window.zarrExplorer.ready")
    first = page.evaluate(OPEN_JS, [f"{faults.case().url}/ok/v3.zarr", "A"])  # loads the HTTP transport
    assert first["status"] != "error", first
    # the worker's reader fetches through self.pyzarrFetch: give it the short limits
    page.workers[0].evaluate(
        """(limits) => { const fetchWithLimits = self.pyzarrFetch;
                         self.pyzarrFetch = (url, headers, _limits, signal) =>
                           fetchWithLimits(url, headers, limits, signal); }""",
        {"firstByte": FAST.first_byte, "idle": FAST.idle, "total": FAST.total})
    yield page
    assert page.elsewhere == []
    context.close()


def page_image(page, data: np.ndarray) -> None:
    """Wait until the page's image is DATA (shape, min, max, mean)."""
    from test_browser_explorer import IMAGE_STATS_JS

    expected = [list(data.shape), float(data.min()), float(data.max()), float(data.astype("f8").mean())]
    page.wait_for_function(
        f"""(e) => {{ const s = ({IMAGE_STATS_JS})();
            return s && JSON.stringify([s.shape, s.min, s.max]) === JSON.stringify(e.slice(0, 3))
                   && Math.abs(s.mean - e[3]) < 1e-6 * Math.max(1, Math.abs(e[3])); }}""",
        arg=expected, timeout=20_000)


def _page_case_id(spec) -> str:
    fault, fmt, array, _ = spec
    return f"{fault}-v{fmt}-{array or 'tree'}"


@pytest.mark.browser
@pytest.mark.parametrize("spec", PAGE_CASES, ids=_page_case_id)
def test_http_fault_through_the_page(explorer, faults, stores, spec):
    fault, fmt, array, expect = spec
    expected = stores[1][int(str(fmt)[0])]
    store = f"/{fault}/v{fmt}.zarr"
    case = faults.case()
    started = time.monotonic()
    state = explorer.evaluate(OPEN_JS, [case.url + store, array])
    elapsed = time.monotonic() - started
    assert elapsed < PAGE_WALL, f"took {elapsed:.1f} s"
    if expect == "data":
        assert state["status"] != "error" and state["path"] == (array or ""), state
        page_image(explorer, expected[array])
    else:
        assert state["status"] == "error", state
        error = state["error"]
        assert re.search(BROWSER_ERRORS.get(fault.split("@")[0], expect), error), error
        if fault not in ("ok", "spa") or array is None:  # HTTP failures name the URL
            assert case.url + store + "/" in error or array in error, error
    assert_confined(case, store + "/", f"/ok/v{fmt}.zarr/")
    # the page still opens a good store and shows its data
    good = explorer.evaluate(OPEN_JS, [f"{faults.case().url}/ok/v3.zarr", "A"])
    assert good["status"] != "error" and good["error"] is None, good
    page_image(explorer, stores[1][3]["A"])

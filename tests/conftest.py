"""Shared fixtures: the built site, an HTTP server for it (plus test stores), real Chromium.

* ``site_dir``     the built ``dist/`` (fails, telling to run ``python build.py``, if missing)
* ``http_server``  the project's server (``pyzarr_web.tools.serve.make_app``) on a free loopback port,
                   serving the site at ``/`` and directories registered with
                   ``http_server.add_store(path)`` at ``/data/<dirname>``
* ``browser``      Playwright Chromium at /usr/bin/chromium (fails, never skips, when missing)
* ``booted_harness(request, stores)``  the core harness (pyzarr_web/tools/harness/) in that Chromium
* ``page``         a fresh context (cold cache) and page; every request to another origin is
                   aborted and recorded in ``page.external_requests``; console errors and page
                   errors are collected in ``page.console_errors`` (all messages in ``page.console``)

Browser tests are marked ``@pytest.mark.browser``.

One Playwright per process: the sync API refuses to start a second instance while one runs in
the same thread, so every ``sync_playwright()`` in the test session (fixtures here, helpers in
other test modules) shares one instance, stopped at the end of the session.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest

from pyzarr_web.tools.chromium import CHROMIUM, CHROMIUM_ARGS
from pyzarr_web.tools.paths import SITE

REPO = Path(__file__).resolve().parent.parent

BOOT_TIMEOUT_MS = 120_000


# ------------------------------------------------------------------------------ one Playwright

class _SharedPlaywright:
    """Stands in for ``playwright.sync_api.sync_playwright()`` during the test session."""

    _instance = None
    _manager = None

    def _get(self):
        if _SharedPlaywright._instance is None:
            _SharedPlaywright._manager = _real_sync_playwright()
            _SharedPlaywright._instance = _SharedPlaywright._manager.start()
        return _SharedPlaywright._instance

    def __enter__(self):
        return self._get()

    def __exit__(self, *exc):
        return False

    def start(self):
        return self._get()

    def stop(self):
        pass

    @classmethod
    def shutdown(cls):
        if cls._instance is not None:
            cls._instance.stop()
            cls._instance = None


try:
    import playwright.sync_api as _pw_sync

    _real_sync_playwright = _pw_sync.sync_playwright
    _pw_sync.sync_playwright = _SharedPlaywright
except ImportError:  # reported by the browser fixture
    _pw_sync = None


def pytest_collection_modifyitems(session, config, items):
    """Run browser tests last. Playwright's sync API keeps an event loop running in the main
    thread for as long as the shared instance lives, and asyncio.run() (core and CLI tests) refuses
    to start inside a running loop."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def pytest_sessionfinish(session, exitstatus):
    _SharedPlaywright.shutdown()


# ------------------------------------------------------------------------------ codec backends

@pytest.fixture(params=["numcodecs", "browser"])
def backend(request):
    """Run the test with each codec backend: numcodecs (CPython) and the browser's
    (imagecodecs / blosc2 / standard library), so both decode the same bytes."""
    from pyzarr_web.core.codecs import get_backend, set_backend

    previous = get_backend().name
    set_backend(request.param)
    yield request.param
    set_backend(previous)


@pytest.fixture(scope="session")
def base_cache(tmp_path_factory):
    """Where tests/badinput.py keeps the base stores that cases copy and corrupt."""
    return tmp_path_factory.mktemp("bases")


# ------------------------------------------------------------------------------ site and server

@pytest.fixture(scope="session")
def site_dir() -> Path:
    if not (SITE / "manifest.json").is_file() or not (SITE / "index.html").is_file():
        pytest.fail(f"no built site in {SITE}: run `python build.py` first (CI builds before testing)",
                    pytrace=False)
    return SITE


class _SiteServer:
    """ASGI app serving the site and a growing list of store directories."""

    def __init__(self, site: Path) -> None:
        from pyzarr_web.tools.serve import make_app

        self._make_app = make_app
        self.site = site
        self.stores: list[Path] = []
        self._lock = threading.Lock()
        self._app = make_app(site, [])
        self.url = ""

    async def __call__(self, scope, receive, send):
        await self._app(scope, receive, send)

    def add_store(self, path: Path) -> str:
        """Serve directory PATH at /data/<its name>; returns that absolute URL."""
        path = Path(path).resolve()
        with self._lock:
            if path not in self.stores:
                names = {p.name for p in self.stores}
                if path.name in names:
                    raise ValueError(f"a store named {path.name!r} is already served")
                self.stores.append(path)
                self._app = self._make_app(self.site, list(self.stores))
        return f"{self.url}/data/{path.name}"


@pytest.fixture(scope="session")
def http_server(site_dir):
    from pyzarr_web.tools.serve import run_in_thread

    server = _SiteServer(site_dir)
    with run_in_thread(server) as base:
        server.url = base
        yield server


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A local S3-compatible server (moto) with public and private test buckets (tests/s3_server.py)."""
    from s3_server import S3Server

    server = S3Server(tmp_path_factory.mktemp("s3"))
    yield server
    server.stop()


# ------------------------------------------------------------------------------ browser

@pytest.fixture(scope="session")
def browser():
    if _pw_sync is None:
        pytest.fail("playwright is not installed (pip install -e .[test])", pytrace=False)
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium)", pytrace=False)
    pw = _SharedPlaywright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()
    # stop Playwright's loop now: pytest-asyncio's session runner, set up earlier, is torn down
    # after this fixture and cannot close its loop while another one runs in this thread
    _SharedPlaywright.shutdown()


def open_page(browser, origin: str):
    """A fresh context (cold cache) and page that may talk only to ORIGIN: every other request is
    aborted and recorded in ``page.external_requests``; console errors go to ``page.console_errors``."""
    # no service worker (web/sw.js): each test sees the site as a first visit does, and no test
    # pays for keeping the site offline (tests/test_browser_offline.py tests that)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, service_workers="block")
    page = context.new_page()
    page.set_default_timeout(BOOT_TIMEOUT_MS)
    page.external_requests = []
    page.console = []
    page.console_errors = []

    def route(r):
        url = r.request.url
        if url == origin or url.startswith(origin + "/"):
            r.continue_()
        else:
            page.external_requests.append(url)
            r.abort()

    context.route("**/*", route)

    def on_console(msg):
        page.console.append(f"{msg.type}: {msg.text}")
        if msg.type == "error":
            page.console_errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda err: page.console_errors.append(f"pageerror: {err}"))
    return page


def printed_until(proc, prefix: str) -> str:
    """What a server command (serve, demo) printed up to its line starting with PREFIX: the URLs
    to open. Fails with what it printed if it ends before."""
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith(prefix):
            return "".join(lines)
    pytest.fail(f"{proc.args} ended before printing {prefix!r}:\n" + "".join(lines))


@contextlib.contextmanager
def booted_explorer(browser, http_server, query: str = "", viewport: dict | None = None):
    """A page of its own with the explorer booted at ``/?QUERY`` (ready for zarrExplorer calls);
    on leaving, asserts that nothing was requested from another origin, and closes it."""
    page = open_page(browser, http_server.url)
    if viewport:
        page.set_viewport_size(viewport)
    page.goto(f"{http_server.url}/" + (f"?{query}" if query else ""))
    page.evaluate("() => window.zarrExplorer.ready")
    try:
        yield page
        assert page.external_requests == []
    finally:
        page.context.close()


@contextlib.contextmanager
def booted_harness(request, stores: Path):
    """pyzarr_web/tools/harness/'s Harness serving STORES, booted in the session's Chromium (for
    harness fixtures); fails, never skips, when it cannot run."""
    from pyzarr_web.tools.harness import Harness, HarnessError

    try:
        harness = Harness(stores)
        with harness.running(request.getfixturevalue("browser")):
            yield harness
    except (HarnessError, ImportError) as e:
        pytest.fail(f"browser harness unavailable: {e}", pytrace=False)


@pytest.fixture
def page(browser, http_server):
    page = open_page(browser, http_server.url)
    yield page
    page.context.close()


# ------------------------------------------------------------------------------ synthetic stores

@pytest.fixture(scope="session")
def synthetic_server(site_dir):
    """The built site at ``/`` and the procedural stores of pyzarr_web/tools/synthetic.py on the same
    origin (so ``booted_explorer(browser, synthetic_server, "store=/synthetic/ome.zarr")`` works):
    ``.url``, ``.store_url(name)``, ``.stores[name].array(path)[sel]`` (expected values),
    ``.stats(prefix)`` / ``.totals(prefix)`` / ``.reset()`` (requests and bytes per URL path)."""
    from pyzarr_web.tools.serve import make_app, run_in_thread
    from pyzarr_web.tools.synthetic import SyntheticServer

    server = SyntheticServer(fallback=make_app(site_dir, []))
    with run_in_thread(server) as base:
        server.url = base
        yield server

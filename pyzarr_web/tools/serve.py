"""Local HTTP server for the built site and for Zarr stores on disk (``pyzarr-web serve``).

Built on Starlette (routing, ``StaticFiles``/``FileResponse``: Range incl. suffix and multiple
ranges -> 206, unsatisfiable -> 416, ETag/Last-Modified -> 304, traversal checks) and uvicorn.
This module only configures them:

* ``/``                 the built site (``dist/``), ``index.html`` at ``/``.
* ``/data/<name>/...``  each store directory, ``<name>`` being the directory's name
                        (``/data/sample.zarr/zarr.json``); a ``.zip`` store is one file at
                        ``/data/<name>.zip``; a Kerchunk reference file (``.json``) is served
                        with its folder (where relative targets are), an Icechunk repository
                        as a folder. ``/data/`` lists the mounts as JSON.
* CORS for every response (``Access-Control-Allow-Origin: *``, ``Range`` allowed, ``Content-Range``
  exposed, preflight answered, Chrome's private-network preflight accepted) so a page on another
  origin can read the stores you chose to serve -- and nothing else: requests are confined to
  the served roots, symlinks leading outside them are refused (404).
* Caching: store data is ``Cache-Control: no-cache`` (always revalidated, never stale); site files
  too, except file names carrying a content hash (``app.3f9a1c2b.js``), which are immutable.
* Optional gzip for the site's text assets only (never for store data, Range requests or
  already-compressed files). Off on loopback where it only costs time, on otherwise.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import mimetypes
import os
import re
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import quote

import click
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pyzarr_web.core.errors import ZarrError
from pyzarr_web.core.sources import is_url, parse_source
from pyzarr_web.core.stores.cloud import with_endpoint

from .paths import SITE
from .terminal import safe

DEFAULT_SITE = SITE

#: Media types we rely on, independent of the host's /etc/mime.types. ``.wasm`` must be
#: application/wasm or ``WebAssembly.instantiateStreaming`` (and so loadPyodide) fails.
MEDIA_TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".json": "application/json",
    ".map": "application/json",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".svg": "image/svg+xml",
    ".txt": "text/plain",
    ".py": "text/x-python",
    ".tar": "application/x-tar",
}
#: Site assets worth compressing (text). wasm compresses 3x but costs ~0.35 s per request at
#: level 6 for Pyodide's 8.6 MB module and hides its Content-Length from progress bars: left out.
#: On loopback even text loses (pyodide.asm.js, 1 MB: 4 ms plain vs 32 ms gzipped, measured),
#: hence compression only when serving beyond this machine.
COMPRESSIBLE_SUFFIXES = frozenset({".html", ".js", ".mjs", ".css", ".json", ".map", ".svg", ".txt"})
#: A name part of 8+ hex digits (``app.3f9a1c2b.js``, ``chunk-0123abcd.mjs``) marks a
#: content-addressed file: it never changes under that name, so it may be cached for a year.
_HASHED_NAME = re.compile(r"(?:^|[.\-_])[0-9a-f]{8,}(?=[.\-_]|$)", re.IGNORECASE)

NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"

_ZARR_MARKERS = ("zarr.json", ".zgroup", ".zarray", ".zmetadata", ".zattrs")


def media_type_for(path: str | os.PathLike[str]) -> str:
    suffix = Path(path).suffix.lower()
    return MEDIA_TYPES.get(suffix) or mimetypes.guess_type(str(path))[0] or "application/octet-stream"


def site_cache_control(path: str | os.PathLike[str]) -> str:
    return IMMUTABLE if _HASHED_NAME.search(Path(path).stem) else NO_CACHE


# --------------------------------------------------------------------------------------- files


class _FileResponse(FileResponse):
    # 256 KiB reads instead of 64: Pyodide's 8.6 MB wasm over loopback in 21 ms instead of 60;
    # gzip also compresses chunks this big off the event loop (its threshold is 128 KiB).
    chunk_size = 256 * 1024


class _Files(StaticFiles):
    """StaticFiles with our media types and Cache-Control policy.

    Path safety is StaticFiles': the URL path is normalised (``..`` removed, also when sent
    percent-encoded: the server decodes before routing), absolute paths are refused, and the
    resolved real path must stay inside the real root directory (``follow_symlink=False``), so
    a symlink pointing outside the root is a 404.
    """

    def __init__(self, *, directory: Path, html: bool, cache_control) -> None:
        super().__init__(directory=directory, html=html, follow_symlink=False)
        self._cache_control = cache_control

    def file_response(self, full_path, stat_result, scope, status_code: int = 200) -> Response:
        response = _FileResponse(
            full_path,
            status_code=status_code,
            stat_result=stat_result,
            media_type=media_type_for(full_path),
            headers={"Cache-Control": self._cache_control(full_path)},
        )
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)  # keeps ETag and Cache-Control
        return response


class _SingleFile(_Files):
    """One file (a .zip store) served with all of StaticFiles' Range/conditional handling."""

    def __init__(self, path: Path) -> None:
        super().__init__(directory=path.parent, html=False, cache_control=lambda _p: NO_CACHE)
        self._name = path.name

    def get_path(self, scope: Scope) -> str:
        return self._name


class _CompressSite:
    """GZip for compressible site assets only; Range requests always get identity bytes.

    (GZipMiddleware also never compresses a 206.) The ETag of a compressed body is made weak,
    as nginx does, since it no longer names the identity bytes; 304s keep working because
    StaticFiles compares ETags weakly.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=1024, compresslevel=6)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "range" in Headers(scope=scope) or not _compressible(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def weaken_etag(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                etag = headers.get("etag")
                if "content-encoding" in headers and etag and not etag.startswith("W/"):
                    headers["etag"] = "W/" + etag
            await send(message)

        # gzip sits inside, so the ETag is looked at after gzip decided on Content-Encoding.
        await self.gzip(scope, receive, weaken_etag)


def _compressible(url_path: str) -> bool:
    return url_path.endswith("/") or Path(url_path).suffix.lower() in COMPRESSIBLE_SUFFIXES


# ----------------------------------------------------------------------------------- mounting


def _is_zip(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".zip"


def store_mounts(stores: Sequence[Path]) -> list[tuple[str, Path]]:
    """Name each store for ``/data/<name>``: its directory (or .zip file) name.

    The same path given twice is served once. Different stores with the same name keep the
    first one's name; later ones get ``-2``, ``-3``... before the suffix (``sample-2.zarr``),
    skipping names already taken by another argument. Order follows the arguments.
    """
    resolved: list[Path] = []
    for store in stores:
        path = Path(store).expanduser().resolve()
        if path.is_file() and path.suffix.lower() == ".json":
            path = path.parent  # a reference file: its folder holds the files it points to
        if not (path.is_dir() or _is_zip(path)):
            kind = "does not exist" if not path.exists() else "is not a directory, a .zip or a .json file"
            raise ValueError(f"store {store} {kind}")
        if path not in resolved:
            resolved.append(path)

    def clean(name: str) -> str:
        # "{" would become a Starlette path parameter; "/" cannot occur in a file name.
        return re.sub(r"[{}/\\]", "_", name) or "store"

    wanted = [clean(p.name) for p in resolved]
    taken: set[str] = set()
    mounts: list[tuple[str, Path]] = []
    for i, (name, path) in enumerate(zip(wanted, resolved)):
        if name in taken:
            stem, suffix = (name[: -len(Path(name).suffix)], Path(name).suffix) if Path(name).suffix else (name, "")
            reserved = taken | set(wanted[i + 1:])
            n = 2
            while f"{stem}-{n}{suffix}" in reserved:
                n += 1
            name = f"{stem}-{n}{suffix}"
        taken.add(name)
        mounts.append((name, path))
    return mounts


def cors_middleware() -> Middleware:
    """CORS as described in the module doc (also used by :mod:`pyzarr_web.tools.synthetic`)."""
    return Middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "OPTIONS"],
        allow_headers=["Range", "If-None-Match", "If-Modified-Since", "If-Range", "Cache-Control"],
        expose_headers=["Content-Range", "Content-Length", "Accept-Ranges", "ETag", "Last-Modified",
                        "Content-Encoding"],
        allow_private_network=True,
        max_age=3600,
    )


def make_app(site: Path | None, stores: list[Path], *, compress_site: bool = False) -> Starlette:
    """The ASGI app: ``site`` at ``/`` (if given) and each store at ``/data/<name>``.

    ``compress_site`` gzips the site's text assets (see module doc).
    """
    mounts = store_mounts(stores)
    data_routes: list[BaseRoute] = []
    for name, path in mounts:
        if path.is_dir():
            files = _Files(directory=path, html=False, cache_control=lambda _p: NO_CACHE)
            data_routes.append(Mount("/" + name, app=files))
        else:
            data_routes.append(Route("/" + name, endpoint=_SingleFile(path)))

    listing = [{"name": name, "url": f"/data/{quote(name)}", "kind": "directory" if p.is_dir() else "zip"}
               for name, p in mounts]

    async def data_index(request: Request) -> Response:
        return JSONResponse({"stores": listing}, headers={"Cache-Control": NO_CACHE})

    routes: list[BaseRoute] = [Mount("/data", routes=[Route("/", data_index), *data_routes])]
    if site is not None:
        site = Path(site).resolve()
        if not site.is_dir():
            raise ValueError(f"site directory {site} does not exist")
        site_app: ASGIApp = _Files(directory=site, html=True, cache_control=site_cache_control)
        if compress_site:
            site_app = _CompressSite(site_app)
        routes.append(Mount("/", app=site_app))

    app = Starlette(routes=routes, middleware=[cors_middleware()])
    app.state.mounts = mounts
    return app


# ------------------------------------------------------------------------------------ running


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket; OSError (e.g. EADDRINUSE) propagates. port 0 picks a free port."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _type, proto, _name, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM, proto)
    try:
        if sys.platform != "win32":  # on Windows SO_REUSEADDR would let us steal a busy port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(2048)
        sock.set_inheritable(True)
    except BaseException:
        sock.close()
        raise
    return sock


def _url_host(host: str) -> str:
    """Host part of a URL to *open*: wildcard binds are reached via loopback."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host in ("::", "[::]"):
        return "[::1]"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _uvicorn_server(app: ASGIApp, *, quiet: bool) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,
        log_config=None if quiet else uvicorn.config.LOGGING_CONFIG,
        timeout_graceful_shutdown=3,
    )
    return uvicorn.Server(config)


@contextlib.contextmanager
def run_in_thread(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run ``app`` with uvicorn in a background thread; yield its base URL ("http://127.0.0.1:54321").

    Returns once the server accepts connections; stops it (and joins the thread) on exit.
    """
    sock = _bind(host, port)
    real_port = sock.getsockname()[1]
    server = _uvicorn_server(app, quiet=True)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn:{real_port}",
                              daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("uvicorn exited during startup")
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start within 10 s")
            time.sleep(0.005)
        connect_host = _url_host(host).strip("[]")
        with socket.create_connection((connect_host, real_port), timeout=5):
            pass
        yield f"http://{_url_host(host)}:{real_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _is_icechunk(path: Path) -> bool:
    return (path / "refs" / "branch.main" / "ref.json").is_file()


def _is_reference_file(path: Path) -> bool:
    """A Kerchunk JSON reference file (its start names "refs" or a version), not Zarr metadata."""
    if not path.is_file() or path.suffix.lower() != ".json" or path.name == "zarr.json":
        return False
    with open(path, "rb") as f:
        head = f.read(4096)
    return head.lstrip().startswith(b"{") and (b'"refs"' in head or b'"version"' in head)


def _store_urls(base: str, name: str, path: Path) -> list[str]:
    """URLs to open for one mount: the store itself, or the stores directly inside a folder."""
    return [f"{base}/?store={t}" for t in store_targets(f"/data/{quote(name)}", path)]


def store_targets(prefix: str, path: Path) -> list[str]:
    """What ``?store=`` names for the store at PATH, served at PREFIX: the store itself, or the
    stores directly inside a folder (Zarr stores, zips, Kerchunk reference files, Icechunk
    repositories)."""
    if _is_icechunk(path):
        targets = [f"icechunk:{prefix}"]
    elif path.is_file() or any((path / m).exists() for m in _ZARR_MARKERS):
        targets = [prefix]
    else:
        targets = []
        for c in sorted(path.iterdir()):
            if (c.is_dir() and any((c / m).exists() for m in _ZARR_MARKERS)) or _is_zip(c) \
                    or _is_reference_file(c):
                targets.append(f"{prefix}/{quote(c.name)}")
            elif c.is_dir() and _is_icechunk(c):
                targets.append(f"icechunk:{prefix}/{quote(c.name)}")
        targets = targets or [prefix]
    return targets


def ensure_site(site: Path | None) -> Path:
    """SITE if it is a built site; by default the package's (tools.paths.SITE), built if missing."""
    if site is not None:
        site = Path(site)
        if not (site / "index.html").is_file():
            raise click.ClickException(
                f"{site} is not a built site (no index.html); build one with `pyzarr-web build --out {site}`")
        return site
    if not (DEFAULT_SITE / "index.html").is_file():
        click.echo(f"No built site in {DEFAULT_SITE}; building it now (pyzarr-web build)...")
        try:
            from pyzarr_web.tools.build import build_site
        except ImportError as exc:
            raise click.ClickException(f"cannot build the site: {exc}") from exc
        build_site(DEFAULT_SITE)
        if not (DEFAULT_SITE / "index.html").is_file():
            raise click.ClickException(f"the build finished but {DEFAULT_SITE / 'index.html'} is missing")
    return DEFAULT_SITE


def serve(stores: list[str | Path], host: str = "127.0.0.1", port: int = 8000, site: Path | None = None,
          open_browser: bool = True, endpoint: str | None = None) -> None:
    """Serve ``site`` (default: tools.paths.SITE, built if missing) and the local ``stores`` until
    Ctrl-C. Remote stores (URLs) are not served: the page reads them itself, from the URLs printed
    (an s3:// store with ENDPOINT, its custom S3-compatible endpoint)."""
    site = ensure_site(site)
    try:
        remote = [str(s) for s in stores if is_url(parse_source(str(s)).location)]
        app = make_app(site, [Path(s) for s in stores if str(s) not in remote], compress_site=not _is_loopback(host))
    except (ValueError, ZarrError) as exc:
        raise click.ClickException(str(exc)) from exc
    mounts: list[tuple[str, Path]] = app.state.mounts

    try:
        sock = _bind(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise click.ClickException(
                f"port {port} on {host} is already in use: stop the other server, or pick another port "
                f"(--port 0 picks a free one)") from exc
        if exc.errno == errno.EACCES:
            raise click.ClickException(f"no permission to listen on {host}:{port} (ports < 1024 need root; "
                                       f"try --port 0)") from exc
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc

    base = f"http://{_url_host(host)}:{sock.getsockname()[1]}"
    urls = [url for name, path in mounts for url in _store_urls(base, name, path)]
    urls += [f"{base}/?store={quote(with_endpoint(url, endpoint), safe=':/')}" for url in remote]

    def echo(text: str) -> None:  # store paths are file names: print their controls escaped
        click.echo(safe(text))

    echo(f"Serving the site in {site.resolve()}")
    if mounts:
        echo("Stores:")
        width = max(len(name) for name, _ in mounts) + len("/data/")
        for name, path in mounts:
            note = "" if name == path.name else f"   (renamed: another store is called {path.name})"
            echo(f"  {'/data/' + name:<{width}}  <- {path}{note}")
    if remote:
        echo("Read by the page from where they are (not through this server):")
        for url in remote:
            echo(f"  {url}")
    if not _is_loopback(host):
        echo(f"Listening on {host}: anyone who can reach this machine can read the stores above.")
    echo("")
    echo("Open:")
    for url in urls:
        echo(f"  {url}")
    echo(f"Site:   {base}/")
    echo("Press Ctrl-C to stop.")

    server = _uvicorn_server(app, quiet=False)
    if open_browser:
        first = urls[0] if urls else f"{base}/"

        def open_when_ready() -> None:
            while not server.started and not server.should_exit:
                time.sleep(0.05)
            if server.started:
                webbrowser.open(first)

        threading.Thread(target=open_when_ready, name="open-browser", daemon=True).start()

    try:
        server.run(sockets=[sock])  # uvicorn handles SIGINT/SIGTERM: graceful shutdown, then re-raises
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    echo("Stopped.")

"""Drive the pyzarr-web core inside Pyodide in real Chromium, as the product runs it.

``Harness`` serves the built site (``dist/``) plus ``pyzarr_web/tools/harness/`` (a page and a module Web
Worker) and a directory of Zarr stores with the project's own server (``pyzarr_web.tools.serve``: HTTP
Range, CORS, MIME types), all on one origin::

    /                  the built site: Pyodide runtime, package archives, manifest.json
    /data/harness/     pyzarr_web/tools/harness/index.html, harness.js, worker.js
    /data/stores/...   STORES_ROOT (stores may be written into it at any time), served with
                       Cache-Control: no-store so every read reaches the server and is counted

The worker boots Python with the product's own boot code (the site's ``app/boot.*.mjs``: the
runtime, the startup archives, the lazy-package import hook), then runs Python snippets sent by
``Harness.run``. Helpers defined once in the worker (``BROWSER_HELPERS``) read selections through
the core and send results back as ``numpy.save`` bytes in base64 (string arrays as JSON lists):
never pickle.

Every request the server answers is recorded (``Harness.log``) for request accounting.

Used by tests/test_browser_core.py and ``python -m benchmarks.decode``.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pyzarr_web.tools.chromium import CHROMIUM, CHROMIUM_ARGS
from pyzarr_web.tools.paths import SITE


def merged_runs(entries) -> list[tuple[int, int]]:
    """The ideal data requests for shard index ENTRIES (offset, nbytes): missing inner chunks
    skipped, back-to-back ones merged (zarr-python lays inner chunks out in Morton order, so
    neighbours in the array are not always neighbours on disk)."""
    runs: list[list[int]] = []
    for o, n in sorted((int(o), int(n)) for o, n in entries if int(o) != 2**64 - 1):
        if runs and runs[-1][0] + runs[-1][1] == o:
            runs[-1][1] += n
        else:
            runs.append([o, n])
    return [(o, n) for o, n in runs]


def chunk_refs(refs: dict, variable: str) -> dict[str, list]:
    """The [url, offset, length] references of VARIABLE's chunks."""
    return {k: v for k, v in refs["refs"].items()
            if k.startswith(variable + "/") and isinstance(v, list) and len(v) == 3}


def touched_ranges(refs: dict, array: str, shape, chunks, region: tuple) -> list[tuple[str, int, int]]:
    """(url, offset, length) of the chunks of ARRAY (SHAPE, CHUNKS) that REGION (basic
    indexing: slices, steps included, and ints) touches."""
    wanted = [{i // c for i in (range(n)[s] if isinstance(s, slice) else [s])}
              for n, c, s in zip(shape, chunks, region)]
    ranges = []
    for key, (url, offset, length) in chunk_refs(refs, array).items():
        coords = [int(c) for c in key.split("/")[1].split(".")]
        if all(i in w for i, w in zip(coords, wanted)):
            ranges.append((url, offset, length))
    return ranges


def ideal_requests(ranges: list[tuple[str, int, int]]) -> tuple[int, int]:
    """(requests, bytes) of fetching RANGES (url, offset, length): back-to-back or overlapping
    ranges of one file merged."""
    requests = total = 0
    by_url: dict[str, list[tuple[int, int]]] = {}
    for url, o, n in ranges:
        by_url.setdefault(url, []).append((o, o + n))
    for spans in by_url.values():
        end = None
        for s, e in sorted(set(spans)):
            if end is None or s > end:
                requests += 1
                total += e - s
                end = e
            elif e > end:
                total += e - end
                end = e
    return requests, total


HARNESS_DIR = Path(__file__).resolve().parent


class HarnessError(RuntimeError):
    pass


# ------------------------------------------------------------------------------ request log


@dataclass
class Request:
    path: str
    range: str | None
    status: int = 0
    body_bytes: int = 0


class RequestLog:
    """ASGI wrapper recording each request's path, Range header, status and body bytes sent."""

    def __init__(self, app, no_store_prefix: str | None = None) -> None:
        self.app = app
        self.no_store_prefix = no_store_prefix
        self.requests: list[Request] = []
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self.requests = []

    def under(self, prefix: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        rng = headers.get(b"range")
        req = Request(scope["path"], rng.decode() if rng else None)

        # Logged on arrival and counted before each send: by the time the browser has a response,
        # its record is complete (logging after the app returns would race with the test).
        with self._lock:
            self.requests.append(req)

        no_store = self.no_store_prefix is not None and req.path.startswith(self.no_store_prefix)

        async def counting_send(message):
            if message["type"] == "http.response.start":
                req.status = message["status"]
                if no_store:
                    # Chromium would otherwise keep ranges it saw and revalidate them (304, no
                    # body): every read's traffic must reach the server to be counted.
                    message = dict(message)
                    message["headers"] = [(k, v) for k, v in message["headers"] if k.lower() not in (
                        b"cache-control", b"etag", b"last-modified")] + [(b"cache-control", b"no-store")]
            elif message["type"] == "http.response.body":
                req.body_bytes += len(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, counting_send)


# ------------------------------------------------------------------------ Python in the worker

BROWSER_HELPERS = r'''
import base64, io, json, sys, time
import numpy as np
from pyzarr_web.core import Hierarchy, open_store
from pyzarr_web.core.codecs import get_backend


def _h_sel(spec):
    """JSON selection -> tuple: ints, [start, stop, step] for slices, "..." for Ellipsis."""
    out = []
    for s in spec:
        if s == "...":
            out.append(Ellipsis)
        elif isinstance(s, list):
            out.append(slice(*s))
        else:
            out.append(int(s))
    return tuple(out)


def _h_pack(a):
    a = np.asarray(a)
    if a.dtype.kind in "OT":  # object / StringDType: np.save would need pickle
        items = [x if isinstance(x, str) else {"b64": base64.b64encode(bytes(x)).decode()}
                 for x in a.ravel().tolist()]
        return {"dtype": str(a.dtype), "shape": list(a.shape), "items": items}
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return {"npy": base64.b64encode(buf.getvalue()).decode()}


def _h_describe(e):
    """The leaf exceptions of E (TaskGroups wrap them), as 'Type: message' lines."""
    if isinstance(e, BaseExceptionGroup):
        return "; ".join(sorted({_h_describe(x) for x in e.exceptions}))
    return f"{type(e).__name__}: {e}"


async def h_read(url, path, sels, **store_options):
    """Open URL afresh, read each selection of array PATH; results packed, errors as text."""
    h = await Hierarchy.open(open_store(url, **store_options))
    arr = await h.array(path)
    results = []
    for spec in sels:
        try:
            results.append({"ok": _h_pack(await arr.read(_h_sel(spec)))})
        except Exception as e:
            results.append({"error": _h_describe(e)})
    return json.dumps({"consolidated": h.consolidated, "backend": get_backend().name,
                       "results": results})


def h_env():
    import numpy, pyzarr_web
    return json.dumps({"platform": sys.platform, "python": sys.version.split()[0],
                       "numpy": numpy.__version__, "backend": get_backend().name,
                       "pyzarr_web": getattr(pyzarr_web, "__version__", None)})
'''


def sel_to_json(sel) -> list:
    if not isinstance(sel, tuple):
        sel = (sel,)
    out = []
    for s in sel:
        if s is Ellipsis:
            out.append("...")
        elif isinstance(s, slice):
            out.append([s.start, s.stop, s.step])
        else:
            out.append(int(s))
    return out


def unpack(packed: dict) -> np.ndarray:
    """Inverse of the worker's _h_pack; never unpickles."""
    if "npy" in packed:
        return np.load(io.BytesIO(base64.b64decode(packed["npy"])), allow_pickle=False)
    items = [x if isinstance(x, str) else base64.b64decode(x["b64"]) for x in packed["items"]]
    flat = np.empty(len(items), dtype=object)
    flat[:] = items
    if packed["dtype"] != "object":  # StringDType()
        flat = flat.astype(np.dtypes.StringDType())
    return flat.reshape(packed["shape"])


def dtype_name(a: np.ndarray) -> str:
    return str(a.dtype) if a.dtype.kind in "OT" else a.dtype.str + (
        repr(a.dtype.descr) if a.dtype.names else "")


# ---------------------------------------------------------------------------------- harness


class Harness:
    """One server, one Chromium, one page whose worker has Python booted; reused by many reads."""

    def __init__(self, stores_root: Path, *, site: Path = SITE, boot_timeout: float = 120.0):
        self.stores_root = Path(stores_root)
        self.site = Path(site)
        self.boot_timeout = boot_timeout
        self.base = ""
        self.log: RequestLog | None = None
        self.page = None
        self.console: list[str] = []
        self.boot_timings: dict = {}
        self.boot_seconds = 0.0

    def store_url(self, name: str) -> str:
        """Same-origin URL of a store written under stores_root (relative: fetch resolves it)."""
        return f"/data/{self.stores_root.name}/{name}"

    @contextlib.contextmanager
    def running(self, browser=None) -> Iterator[Harness]:
        """Serve, open the page and boot Python; BROWSER is a Playwright Browser to use (e.g.
        tests/conftest.py's), else Chromium is launched here and closed on exit."""
        from pyzarr_web.tools.serve import make_app, run_in_thread

        if browser is None and not Path(CHROMIUM).exists():
            raise HarnessError(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
        if not (self.site / "manifest.json").is_file() and not (self.site / "index.html").is_file():
            raise HarnessError(f"no built site in {self.site}: run `python build.py` first")
        from playwright.sync_api import sync_playwright

        self.stores_root.mkdir(parents=True, exist_ok=True)
        self.log = RequestLog(make_app(self.site, [self.stores_root, HARNESS_DIR]),
                              no_store_prefix=f"/data/{self.stores_root.name}/")
        with run_in_thread(self.log) as base, contextlib.ExitStack() as stack:
            self.base = base
            if browser is None:
                pw = stack.enter_context(sync_playwright())
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                stack.callback(browser.close)
            context = browser.new_context()
            stack.callback(context.close)
            self.page = context.new_page()
            self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
            self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
            t = time.perf_counter()
            self.page.goto(f"{base}/data/harness/index.html")
            try:
                self.boot_timings = self.page.evaluate(
                    "(ms) => Promise.race([window.harness.ready.then((r) => r.timings),"
                    " new Promise((_, rej) => setTimeout(() => rej(new Error("
                    "'boot timed out')), ms))])", self.boot_timeout * 1000)
            except Exception as e:
                raise HarnessError(f"Pyodide did not boot: {e}\n" + self.console_tail()) from e
            self.run(BROWSER_HELPERS + "\n'ok'")
            self.boot_seconds = time.perf_counter() - t
            yield self

    def console_tail(self, n: int = 30) -> str:
        return "\n".join(self.console[-n:])

    def run(self, code: str, timeout: float = 120.0):
        """Run CODE in the worker (top-level await allowed); returns its final str value."""
        try:
            return self.page.evaluate("([code, ms]) => window.runPython(code, ms)",
                                      [code, timeout * 1000])
        except Exception as e:
            raise HarnessError(f"{e}\n--- browser console ---\n{self.console_tail()}") from None

    def call(self, func: str, *args, timeout: float = 120.0, **kwargs):
        """``await FUNC(*args, **kwargs)`` in the worker; FUNC returns JSON, decoded here."""
        payload = json.dumps([args, kwargs])
        code = (f"import json as _j\n_a, _k = _j.loads({payload!r})\n"
                f"_r = {func}(*_a, **_k)\n"
                f"if hasattr(_r, '__await__'):\n    _r = await _r\n_r")
        return json.loads(self.run(code, timeout))

    def read(self, store: str, path: str, sels: list, **store_options) -> dict:
        """Read SELS of array PATH in store STORE (a name under stores_root) in the browser."""
        out = self.call("h_read", self.store_url(store), path, [sel_to_json(s) for s in sels],
                        **store_options)
        out["results"] = [{"error": r["error"]} if "error" in r else {"value": unpack(r["ok"])}
                          for r in out["results"]]
        return out


# ------------------------------------------------------------------------- sharding: ideal


def ideal_shard_reads(array_dir: Path, sel: tuple) -> dict:
    """The ideal data traffic for reading SEL (basic slices/ints) of a sharded v3 array on disk:
    one index request per touched shard (a missing shard's 404 included), then the needed inner
    chunks, back-to-back ones merged into one request. Returns
    {"requests", "bytes", "index_requests", "runs", "shards"}."""
    meta = json.loads((array_dir / "zarr.json").read_text())
    shape = meta["shape"]
    shard_shape = meta["chunk_grid"]["configuration"]["chunk_shape"]
    sharding = meta["codecs"][0]
    assert sharding["name"] == "sharding_indexed", sharding
    inner = sharding["configuration"]["chunk_shape"]
    location = sharding["configuration"].get("index_location", "end")
    index_codecs = [c["name"] for c in sharding["configuration"]["index_codecs"]]
    assert index_codecs in (["bytes", "crc32c"], ["bytes"]), index_codecs
    per_shard = [s // i for s, i in zip(shard_shape, inner)]
    n_inner = int(np.prod(per_shard))
    index_bytes = 16 * n_inner + (4 if "crc32c" in index_codecs else 0)
    enc = meta.get("chunk_key_encoding", {"name": "default"})
    sep = enc.get("configuration", {}).get("separator", "/")

    sel = sel if isinstance(sel, tuple) else (sel,)
    sel = sel + (slice(None),) * (len(shape) - len(sel))
    # inner chunk indices touched along each axis
    touched = []
    for n, s, i in zip(shape, sel, inner):
        idx = range(n)[s] if isinstance(s, slice) else [s % n]
        touched.append(sorted({k // i for k in idx}))
    by_shard: dict[tuple, list[tuple]] = {}
    for combo in np.array(np.meshgrid(*touched, indexing="ij")).reshape(len(shape), -1).T:
        shard = tuple(int(c) // p for c, p in zip(combo, per_shard))
        local = tuple(int(c) % p for c, p in zip(combo, per_shard))
        by_shard.setdefault(shard, []).append(local)
    total_bytes, runs_total, present = 0, 0, 0
    for shard, locals_ in by_shard.items():
        key = "c" + sep + sep.join(map(str, shard)) if enc["name"] == "default" else ".".join(
            map(str, shard))
        f = array_dir / key
        if not f.exists():
            continue  # the index request 404s, no body
        present += 1
        raw = f.read_bytes()
        body = raw[-index_bytes:] if location == "end" else raw[:index_bytes]
        index = np.frombuffer(body[:16 * n_inner], "<u8").reshape(*per_shard, 2)
        total_bytes += index_bytes
        runs = merged_runs(index[loc] for loc in locals_)
        runs_total += len(runs)
        total_bytes += sum(n for _, n in runs)
    return {"requests": len(by_shard) + runs_total, "bytes": total_bytes,
            "index_requests": len(by_shard), "runs": runs_total, "shards": len(by_shard),
            "present_shards": present}

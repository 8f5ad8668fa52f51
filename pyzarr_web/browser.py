"""Worker-side glue between web/worker.js and the Panel app (Pyodide only).

The only browser-only module of the package: ``js``/``pyodide`` are imported inside functions,
so importing it under CPython is harmless. The worker calls, in order:

* :func:`configure` -- right after the packages are unpacked (web/boot.mjs, shared with the test
  harness): the lazy-package import hook and where errors after startup are reported;
* :func:`start` -- builds the app for ``?store=URL&path=PATH`` and returns the Bokeh document as
  JSON for the page to render;
* :func:`link` -- once the page has rendered, sends every later document change to it;
* :func:`apply_patch` -- applies a patch coming from the page.

It also installs an import hook for the packages the bundle ships but does not install at
startup (imagecodecs, blosc2, pandas, ...): the first ``import imagecodecs`` downloads that
package's archive from the site (synchronously, which Web Workers allow) and unpacks it.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import importlib.abc
import importlib.machinery
import io
import json
import sys
import time
import zipfile
from typing import Any

_progress: Any = None
_on_error: Any = None  # on_error(kind, message): the page shows it in its error banner
_explorer: Any = None  # the running pyzarr_web.ui.explorer.Explorer
_base_url: str = ""
_site_packages: str = "/lib/python3.13/site-packages"


def _report(stage: str, fraction: float = 0.0, detail: str = "") -> None:
    if _progress is not None:
        _progress(stage, fraction, detail)


def _report_error(kind: str, message: str) -> None:
    """Tell the page about an error it would otherwise never see (it shows a banner)."""
    if _on_error is not None:
        _on_error(kind, message)


# ------------------------------------------------------------------------------- lazy packages


class _LazyPackages(importlib.abc.MetaPathFinder):
    """Installs a bundled package (and what it requires) on its first import.

    ``find_spec`` alone downloads nothing: it answers with a spec whose loader installs the
    package and then imports the real module. So probes like ``importlib.util.find_spec("pandas")``
    (Bokeh does this) stay free, and only a real import pays for the download.
    """

    def __init__(self, packages: dict[str, dict]) -> None:
        self.packages = packages
        self.by_module = {m: name for name, p in packages.items() for m in p.get("modules", [])}
        self.installed: set[str] = set()

    def find_spec(self, fullname, path=None, target=None):
        name = self.by_module.get(fullname)
        if name is None or name in self.installed:
            return None
        return importlib.machinery.ModuleSpec(fullname, _InstallingLoader(self, name), is_package=True)

    def order(self, name: str, seen: list[str] | None = None) -> list[str]:
        seen = [] if seen is None else seen
        for dep in self.packages[name].get("requires", []):
            if dep not in seen:
                self.order(dep, seen)
        if name not in seen:
            seen.append(name)
        return seen

    def install(self, name: str) -> None:
        for pkg in self.order(name):
            if pkg in self.installed:
                continue
            t = time.perf_counter()
            url = _base_url + self.packages[pkg]["url"]
            try:
                data = _fetch_sync(url)
                zipfile.ZipFile(io.BytesIO(data)).extractall(_site_packages)
            except Exception as e:
                raise self._failed(pkg, name, url, e) from e
            self.installed.add(pkg)
            _add_stubs(self.packages[pkg].get("stubs", []))
            print(f"pyzarr-web: installed {pkg} ({len(data) / 1e6:.1f} MB) in {time.perf_counter() - t:.2f} s")

    async def install_async(self, name: str, report: bool = True) -> None:
        """:meth:`install` without blocking the worker; REPORT=False leaves a failure for whoever
        imports the package to report (a speculative install, e.g. the codec warm-up)."""
        from pyodide.http import pyfetch

        for pkg in self.order(name):
            if pkg in self.installed:
                continue
            url = _base_url + self.packages[pkg]["url"]
            try:
                response = await pyfetch(url)
                if not response.ok:
                    raise OSError(f"HTTP {response.status}")
                zipfile.ZipFile(io.BytesIO(await response.bytes())).extractall(_site_packages)
            except Exception as e:
                raise self._failed(pkg, name, url, e, report) from e
            self.installed.add(pkg)
            _add_stubs(self.packages[pkg].get("stubs", []))
        importlib.invalidate_caches()

    @staticmethod
    def _failed(pkg: str, name: str, url: str, error: Exception, report: bool = True) -> ImportError:
        """The error for a package that could not be installed, reported to the page as well:
        the importer may catch it and carry on without the package."""
        message = f"could not install the bundled package {pkg} (needed by {name}) from {url}: {error}"
        if report:
            _report_error("import", message)
        return ImportError(message)


class _InstallingLoader(importlib.abc.Loader):
    def __init__(self, finder: _LazyPackages, package: str) -> None:
        self.finder = finder
        self.package = package
        self.real_spec = None

    def create_module(self, spec):
        self.finder.install(self.package)
        importlib.invalidate_caches()
        # The finder now steps aside; this imports the real module (module locks are re-entrant).
        module = importlib.import_module(spec.name)
        self.real_spec = module.__spec__
        return module

    def exec_module(self, module) -> None:
        # Already executed by the real loader; undo the attributes the import system set from
        # our placeholder spec.
        module.__spec__ = self.real_spec
        module.__loader__ = self.real_spec.loader


_lazy: _LazyPackages | None = None


def _add_stubs(names: list[str]) -> None:
    """Empty stand-ins for modules a lazy package imports but never needs here (see the build)."""
    import importlib.util  # noqa: PLC0415
    import types  # noqa: PLC0415

    for name in names:
        if name not in sys.modules and importlib.util.find_spec(name) is None:
            mod = types.ModuleType(name, f"pyzarr-web stand-in: {name} is not available in the browser")
            sys.modules[name] = mod


def _fetch_sync(url: str) -> bytes:
    import js  # noqa: PLC0415 -- browser only

    xhr = js.XMLHttpRequest.new()
    xhr.open("GET", url, False)
    xhr.responseType = "arraybuffer"
    xhr.send(None)
    if xhr.status != 200:
        raise OSError(f"HTTP {xhr.status}")
    return xhr.response.to_py().tobytes()


async def ensure_packages(*names: str, report: bool = True) -> None:
    """Install bundled lazy packages ahead of their import, without blocking the worker."""
    if _lazy is None:
        return
    for name in names:
        if name in _lazy.packages:
            await _lazy.install_async(name, report)


async def install_modules(modules: list[str]) -> None:
    """The codec warm-up's installer: the lazy packages providing MODULES, without blocking.
    A failure is not reported here: the read that needs the package reports it."""
    if _lazy is not None:
        names = {_lazy.by_module.get(m.split(".")[0]) for m in modules} - {None}
        await ensure_packages(*sorted(names), report=False)


def lazy_packages() -> dict[str, dict]:
    return dict(_lazy.packages) if _lazy is not None else {}


def _install_nh3_shim() -> None:
    """Panel sanitizes ReactiveHTML string parameters (FlexBox, ...) with nh3, which has no
    WebAssembly build. Stand in with bleach (pure Python, installed on first use)."""
    import importlib.util  # noqa: PLC0415
    import types  # noqa: PLC0415

    if "nh3" in sys.modules or importlib.util.find_spec("nh3") is not None:
        return
    shim = types.ModuleType("nh3")
    shim.__doc__ = "pyzarr-web stand-in for nh3, backed by bleach"

    def clean(html: str, tags=None, attributes=None, **_ignored) -> str:
        import bleach  # noqa: PLC0415

        kwargs = {"strip": True}
        if tags is not None:
            kwargs["tags"] = set(tags)
        if attributes is not None:
            kwargs["attributes"] = {k: list(v) for k, v in attributes.items()}
        return bleach.clean(html, **kwargs)

    shim.clean = clean
    sys.modules["nh3"] = shim


def _skip_bokeh_signatures() -> None:
    """Bokeh builds an ``__init__.__signature__`` (with Sphinx type links) for each of its ~400
    model classes as they are defined: documentation for IDEs, never used by the app. That is
    ~15 % of ``import panel`` in Pyodide, so skip it. Must run before ``bokeh.models`` loads."""
    from bokeh.model import model  # noqa: PLC0415 -- bokeh's core, not its models

    def __init_subclass__(cls) -> None:
        # bokeh's version also calls docs.process_example (docstring) and asserts "__init__" in
        # cls.__dict__ (a check for bokeh's own developers)
        super(model.Model, cls).__init_subclass__()

    if "bokeh.models" not in sys.modules:
        model.Model.__init_subclass__ = classmethod(__init_subclass__)


# ------------------------------------------------------------------------------- app lifecycle


def _options(options: Any) -> dict:
    return options.to_py(depth=1) if hasattr(options, "to_py") else dict(options or {})


def configure(options: Any = None) -> None:
    """Set up Python in the worker for the site (web/boot.mjs calls this once, in the product and
    in the test harness). OPTIONS: base_url, lazy (the manifest's lazy packages), site_packages,
    on_error(kind, message) for errors after startup."""
    global _base_url, _site_packages, _lazy, _on_error
    opts = _options(options)
    _base_url = str(opts.get("base_url") or "")
    _site_packages = str(opts.get("site_packages") or _site_packages)
    _on_error = opts.get("on_error") if callable(opts.get("on_error")) else None
    lazy = opts.get("lazy")
    if lazy is not None:
        lazy = lazy.to_py() if hasattr(lazy, "to_py") else dict(lazy)
        _lazy = _LazyPackages(lazy)
        sys.meta_path.insert(0, _lazy)


def _report_task_error(loop: Any, context: dict) -> None:
    """asyncio's exception handler: an async callback failed and nobody awaited it."""
    loop.default_exception_handler(context)  # the traceback, in the console
    error = context.get("exception")
    _report_error("callback", f"{type(error).__name__}: {error}" if error else str(context.get("message")))


async def start(query_string: str, options: Any = None) -> tuple[str, str, str]:
    """Create the app for QUERY_STRING and return (docs_json, render_items, root_ids).

    OPTIONS (from the worker): progress(stage, fraction, detail).
    """
    global _progress
    _progress = _options(options).get("progress")
    _install_nh3_shim()

    # Startup allocates hundreds of thousands of long-lived objects (Bokeh/Panel classes): cyclic
    # GC passes over them are wasted work (~10-15 % of import time, measured in Pyodide).
    gc.disable()
    try:
        return await _start(query_string)
    finally:
        gc.enable()
        gc.freeze()  # keep the startup objects out of later collections


async def _start(query_string: str) -> tuple[str, str, str]:
    _report("Importing Panel", 0.0)
    _skip_bokeh_signatures()
    import panel  # noqa: F401,PLC0415

    _report("Importing Panel", 0.7)
    from panel.io.pyodide import init_doc, write_doc  # noqa: PLC0415

    _report("Importing the explorer", 0.9)
    from pyzarr_web.core.codecs import warmup  # noqa: PLC0415
    from pyzarr_web.ui.explorer import create_explorer  # noqa: PLC0415

    warmup.set_installer(install_modules)

    global _explorer
    _report("Starting the app", 0.0)
    init_doc()
    _explorer = create_explorer(query_string)
    _explorer.panel().servable()
    _report("Starting the app", 0.5)
    docs_json, render_items, root_ids = await write_doc()
    _report("Starting the app", 1.0)
    return docs_json, render_items, root_ids


def link(send_patch: Any, send_message: Any) -> None:
    """Forward every change of the Python document to SEND_PATCH(patch, buffers), and the
    explorer's settled states and URL changes to SEND_MESSAGE(json) for the page's API."""
    from panel.io.state import state  # noqa: PLC0415

    from pyzarr_web.ui import api  # noqa: PLC0415

    def post(message: dict) -> None:
        send_message(json.dumps(message))

    asyncio.get_event_loop().set_exception_handler(_report_task_error)
    api.watch_state(_explorer, lambda s: post({"type": "state", "state": s}),
                    lambda query, new_entry: post({"type": "url", "query": query, "push": new_entry}))
    _link_batched(state.curdoc, send_patch)
    post({"type": "state", "state": _explorer.state()})
    asyncio.get_event_loop().call_later(STARTUP_WARM_DELAY, _warm_usual_codecs)


#: seconds after the page is interactive before the usual codecs are warmed (issue 13)
STARTUP_WARM_DELAY = 1.0


def _warm_usual_codecs() -> None:
    """Import the codecs most stores use while the app is idle, so a first read skips that."""
    from pyzarr_web.core.codecs import warmup  # noqa: PLC0415

    warmup.warm_later(warmup.USUAL, busy=lambda: _explorer.status == "loading")


def _link_batched(doc: Any, send_patch: Any) -> None:
    """Panel's ``_link_docs_worker``, except that the changes one synchronous step of Python makes
    reach the page as one patch: the page applies and lays out once per step, not once per
    changed property (a slider step changes about ten). The page's own changes are not echoed."""
    import asyncio  # noqa: PLC0415
    import functools  # noqa: PLC0415

    import js  # type: ignore[import-not-found]  # noqa: PLC0415
    from bokeh.events import DocumentReady  # noqa: PLC0415
    from panel.io.pyodide import _dict_converter, _process_document_events  # noqa: PLC0415
    from panel.io.state import state  # noqa: PLC0415
    from pyodide.ffi import to_js  # type: ignore[import-not-found]  # noqa: PLC0415

    pending: list = []

    def flush() -> None:
        events = pending[:]
        pending.clear()
        patch, buffers = _process_document_events(doc, events)
        send_patch(to_js(patch, dict_converter=_dict_converter), js.Map.new(js.Object.entries(to_js(buffers))))

    def changed(event) -> None:
        if getattr(event, "setter", None) == "js":
            return
        if not pending:
            asyncio.get_event_loop().call_soon(flush)
        pending.append(event)

    doc.on_change(changed)
    doc.unhold()
    doc.on_event("document_ready", functools.partial(state._schedule_on_load, doc))
    doc.callbacks.trigger_event(DocumentReady())


async def call_api(method: str, args_json: str) -> str:
    """One ``window.zarrExplorer`` call; answers with the explorer's state as JSON."""
    from pyzarr_web.ui import api  # noqa: PLC0415

    return json.dumps(await api.call(_explorer, method, json.loads(args_json)))


def apply_patch(patch: Any) -> None:
    """Apply a JSON patch from the page (its own changes are not echoed back)."""
    from panel.io.pyodide import _convert_json_patch  # noqa: PLC0415
    from panel.io.state import state  # noqa: PLC0415

    state.curdoc.apply_json_patch(_convert_json_patch(patch), setter="js")

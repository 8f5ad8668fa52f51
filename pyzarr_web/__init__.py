"""pyzarr-web: a Zarr explorer that runs entirely in the browser.

The runtime, which is all the page loads: ``pyzarr_web.core`` is the reader (pure Python + numpy;
runs unchanged on CPython and Pyodide), ``pyzarr_web.ui`` the Panel explorer, ``pyzarr_web.browser``
the worker-side glue. ``pyzarr_web.tools`` (CLI, site builder, server, demo, browser harness) is
CPython-only tooling and is left out of the page.
"""

__version__ = "0.1.0"

"""pyzarr-web: a Zarr explorer that runs entirely in the browser.

``pyzarr_web.core`` is the reader (pure Python + numpy; runs unchanged on CPython and Pyodide),
``pyzarr_web.ui`` the Panel explorer, ``pyzarr_web.browser`` the worker-side glue, and the CLI,
server, demo and site builder live beside them for CPython only.
"""

__version__ = "0.1.0"

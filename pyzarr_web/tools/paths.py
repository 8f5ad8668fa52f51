"""Where the tools find the site's sources, the built site and the download cache.

Two layouts: a source checkout (``web/``, ``index.html`` and ``dist/`` beside the package) and an
installed wheel, which carries the built site in ``pyzarr_web/site/`` and the site's sources in
``pyzarr_web/site_sources/`` (so ``pyzarr-web build`` works there too). ``PYZARR_WEB_SITE`` and
``PYZARR_WEB_CACHE`` override the built site and the download cache.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
#: The source checkout the package is in, or None when it is installed.
CHECKOUT = PACKAGE.parent if (PACKAGE.parent / "web" / "bundle.lock.json").is_file() else None
#: Holds ``web/`` (the page's glue, the worker, the bundle lock) and ``index.html``.
SOURCES = CHECKOUT or PACKAGE / "site_sources"
#: The built site ``serve``, ``demo``, the tests and the benchmarks use.
SITE = Path(os.environ.get("PYZARR_WEB_SITE") or (CHECKOUT / "dist" if CHECKOUT else PACKAGE / "site"))
#: Downloaded and staged bundle inputs (kept between builds).
CACHE = Path(os.environ.get("PYZARR_WEB_CACHE") or (
    CHECKOUT / ".cache" / "bundle" if CHECKOUT else Path.home() / ".cache" / "pyzarr-web" / "bundle"))
#: Where ``pyzarr-web build`` writes by default.
BUILD_OUT = CHECKOUT / "dist" if CHECKOUT else Path.cwd() / "dist"

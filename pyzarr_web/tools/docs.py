"""Explorers in documentation pages: a Sphinx extension, and the snippet for Markdown sites.

Sphinx: add ``"pyzarr_web.tools.docs"`` to ``extensions`` in ``conf.py``, then in any page::

    .. zarr-explorer:: https://example.org/data.zarr
       :path: temperature
       :height: 500px
       :controls: minimal

Each directive becomes a ``<zarr-explorer>`` element (web/embed.js), and an HTML build copies the
built site into its output (``_static/pyzarr-web/``), so the docs host the explorer themselves.
``pyzarr_web_site`` in ``conf.py`` names another built site (default: the package's).

MkDocs or any Markdown site: ``pyzarr-web build --out docs/pyzarr-web`` puts the site among the
docs' files, and a page uses the element as raw HTML, as :func:`element_html` writes it.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path

#: The element's attributes besides ``store`` (see web/embed.js).
ATTRIBUTES = ("path", "select", "level", "view", "cmap", "clim", "height", "theme", "controls")
#: Where the site goes in a Sphinx HTML build, under the output folder.
STATIC_DIR = "_static/pyzarr-web"


def element_html(store: str, **attributes: str) -> str:
    """The ``<zarr-explorer>`` element for STORE with ATTRIBUTES, every value escaped."""
    unknown = sorted(set(attributes) - set(ATTRIBUTES))
    if unknown:
        raise ValueError(f"zarr-explorer has no attribute {unknown[0]!r} (it has store, {', '.join(ATTRIBUTES)})")
    pairs = [("store", store), *((k, v) for k, v in attributes.items() if v is not None)]
    return "<zarr-explorer " + " ".join(f'{k}="{html.escape(str(v), quote=True)}"' for k, v in pairs) + \
        "></zarr-explorer>"


def setup(app) -> dict:
    """Sphinx's entry point: the directive, the element's script, and the site in the output."""
    from docutils import nodes
    from docutils.parsers.rst import directives
    from sphinx.util.docutils import SphinxDirective

    class ZarrExplorer(SphinxDirective):
        required_arguments = 1
        option_spec = dict.fromkeys(ATTRIBUTES, directives.unchanged)

        def run(self) -> list:
            return [nodes.raw("", element_html(self.arguments[0], **self.options), format="html")]

    def copy_site(app, exception) -> None:
        if exception is not None or app.builder.format != "html":
            return
        from pyzarr_web.tools.serve import ensure_site

        site = ensure_site(Path(app.config.pyzarr_web_site) if app.config.pyzarr_web_site else None)
        target = Path(app.outdir) / STATIC_DIR
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(site, target)

    app.add_config_value("pyzarr_web_site", "", "html")
    app.add_directive("zarr-explorer", ZarrExplorer)
    app.add_js_file("pyzarr-web/embed.js", defer="defer")
    app.connect("build-finished", copy_site)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

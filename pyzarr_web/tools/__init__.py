"""CPython-only tooling: the CLI, the site builder, the server, the demo and the browser harness.
Nothing here is part of the page: the site's startup archive holds the runtime only
(``pyzarr_web.core``, ``pyzarr_web.ui``, ``pyzarr_web.browser``)."""

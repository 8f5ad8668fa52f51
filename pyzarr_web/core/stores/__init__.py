"""Concrete stores. Only :mod:`.http_pyodide` and :mod:`.http_httpx` depend on the environment."""

"""The Panel explorer. Runs in the Pyodide worker (and under CPython for tests/`panel serve`)."""

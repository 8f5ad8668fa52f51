"""Benchmarks of pyzarr-web (outside the package: nothing here is installed); see __main__."""

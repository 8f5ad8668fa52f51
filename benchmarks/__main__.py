"""Benchmarks, run on demand from a source checkout (figures, not tests; the README has the
latest): ``python -m benchmarks startup|views|zoom`` and ``python -m benchmarks.decode``.

``startup``: cold start vs bare Pyodide (benchmarks/startup.py); ``views``: slider and select
latency vs CPython (benchmarks/views.py); ``zoom``: deep zoom on procedural terapixel stores
(benchmarks/zoom.py); ``decode``: decode throughput and ideal reads (benchmarks/decode.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks")
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("startup", help="cold-start time and bytes vs bare Pyodide")
    st.add_argument("--runs", type=int, default=5)
    st.add_argument("--site", type=Path, default=None, help="built site (default: dist/)")
    st.add_argument("--query", default="", help="query string for the app, e.g. '?store=/data/x.zarr'")
    st.add_argument("--json", type=Path, default=None, help="also write the raw results here")
    vw = sub.add_parser("views", help="slider -> image and select -> image latency vs CPython")
    vw.add_argument("--moves", type=int, default=8)
    vw.add_argument("--site", type=Path, default=None, help="built site (default: dist/)")
    zm = sub.add_parser("zoom", help="deep zoom on a 1 Tpx pyramid and a huge array: bytes per view, latency")
    zm.add_argument("--runs", type=int, default=3, help="fresh pages per open figure")
    zm.add_argument("--steps", type=int, default=10, help="pans and zoom steps per store")
    zm.add_argument("--site", type=Path, default=None, help="built site (default: dist/)")
    zm.add_argument("--json", type=Path, default=None, help="also write the raw results here")
    args = ap.parse_args(argv)
    t = time.time()
    if args.cmd == "views":
        from benchmarks.views import views

        views(moves=args.moves, site=args.site)
    elif args.cmd == "zoom":
        from benchmarks.zoom import zoom

        res = zoom(runs=args.runs, steps=args.steps, site=args.site)
        if args.json:
            args.json.write_text(json.dumps(res, indent=1))
    else:
        from benchmarks.startup import startup

        res = startup(runs=args.runs, site=args.site, query=args.query)
        if args.json:
            args.json.write_text(json.dumps(res, indent=1))
    print(f"(benchmark took {time.time() - t:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()

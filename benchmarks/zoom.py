"""Deep-zoom benchmark: ``python -m benchmarks zoom [--runs N] [--steps N] [--site DIST]``.

The built site runs in Chromium (1440×900) against the procedural stores of
:mod:`pyzarr_web.tools.synthetic`, served with the site on one origin, and this measures, for the 1 Tpx
OME-NGFF pyramid (``/synthetic/ome.zarr``) and the huge single-level array (``huge.zarr``):

* open → first image: ``zarrExplorer.open(url)`` until it resolves (the view is sharp), median
  of N fresh pages, divided by the same on a 1 Mpx array (``small.zarr``; goal ≤ 1.5);
* for the open and each of the pans and zoom steps (``zarrExplorer.setViewport``): the time until
  the view is sharp (zoom median goal ≤ 300 ms), and the bytes the server sent for the view (its
  own per-path counters) divided by the ideal bytes: the stored bytes of the chunks that
  intersect the viewport at the level shown -- inner chunks for shards, plus the index of each
  shard they lie in (16 B per inner chunk + 4 B) -- (goal ≤ 1.2). A second ratio divides by the
  chunks not already in an earlier view at that level (what a page with a tile cache must read).

The pyramid's path: fit, then STEPS zoom steps (×2 each) towards a fixed point, then STEPS pans of
half a screen at the finest level. The huge array's: its first window, STEPS pans, then zoom steps
out and back in. Before each timed step the server prepares the bytes of the target view at the
candidate levels (uncounted), so the times are the page's and HTTP's, not this machine's
compression of procedural chunks. Figures, not a test.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path

from pyzarr_web.tools.synthetic import SyntheticArray, SyntheticServer, SyntheticStore

#: await a zarrExplorer call in the page and time it there (no driver round trips in the figure)
_TIMED_CALL = """async ([method, args]) => {
  const t0 = performance.now();
  const state = await window.zarrExplorer[method](...args);
  return { ms: performance.now() - t0, state };
}"""


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


class _Views:
    """Ideal bytes of successive viewports over one store, and which chunks were seen before."""

    def __init__(self, store: SyntheticStore, cache_bytes: int = 512 << 20) -> None:
        self.store = store
        for arr in store.arrays.values():  # room for what warm() prepares
            arr.cache.budget = max(arr.cache.budget, cache_bytes)
        self.full = store.array(self._level0()).shape[-2:]
        self.seen: dict[str, set] = {}
        #: the whole image, which a first view may show
        self.fit = {"x0": 0, "x1": self.full[1], "y0": 0, "y1": self.full[0]}

    def _level0(self) -> str:
        return "0" if "0" in self.store.arrays else ""

    def level(self, state: dict) -> tuple[str, SyntheticArray]:
        path = state.get("level") or ""
        if path not in self.store.arrays:
            raise SystemExit(f"the page shows level {path!r}, which is not in the store "
                             f"(levels: {sorted(self.store.arrays)})")
        return path, self.store.array(path)

    def region(self, arr: SyntheticArray, vp: dict) -> tuple[tuple[int, int], ...]:
        """Viewport VP (full-resolution pixels) in ARR's indices; the first index of extra axes."""
        fy, fx = (f // n for f, n in zip(self.full, arr.shape[-2:]))
        lead = tuple((0, 1) for _ in arr.shape[:-2])
        return lead + ((math.floor(vp["y0"] / fy), math.ceil(vp["y1"] / fy)),
                       (math.floor(vp["x0"] / fx), math.ceil(vp["x1"] / fx)))

    def warm(self, vp: dict, max_chunks: int = 512) -> None:
        """Have the server's bytes for VP ready at every level with at most MAX_CHUNKS chunks in
        view (the page's choice among them), so the timings measure the page and HTTP, not
        how fast this machine compresses the procedural chunks."""
        for arr in sorted(self.store.arrays.values(), key=lambda a: -math.prod(a.shape)):
            region = self.region(arr, vp)
            count = math.prod(max(math.ceil(min(b, n) / c) - max(a, 0) // c, 0)
                              for (a, b), c, n in zip(region, arr.chunks, arr.shape))
            if count <= max_chunks:
                arr.stored_bytes(region)

    def ideal(self, state: dict) -> dict:
        """Ideal bytes for STATE's viewport at its level: all chunks in view, and the new ones."""
        path, arr = self.level(state)
        region = self.region(arr, state["viewport"])
        every = arr.stored_bytes(region)
        seen = self.seen.setdefault(path, set())
        fresh = [c for c in arr.chunks_in(region) if ("chunk", c) not in seen]
        new = sum(arr.chunk_nbytes(c) for c in fresh)
        seen.update(("chunk", c) for c in fresh)
        if arr.shard:
            shards = {("shard", arr.shard_of(c)) for c in fresh} - seen
            seen.update(shards)
            new += len(shards) * arr.index_nbytes
        return {"level": path, "region": region, "all": every["chunk_bytes"] + every["index_bytes"],
                "chunks": every["chunks"], "new": new}


def _zoom_path(full: tuple[int, int], start: dict, steps: int, center: tuple[float, float]) -> list[dict]:
    """STEPS viewports from START, each half as wide and high, centred on CENTER (y, x),
    kept inside the full extent."""
    out, vp = [], start
    for _ in range(steps):
        h, w = (vp["y1"] - vp["y0"]) / 2, (vp["x1"] - vp["x0"]) / 2
        vp = _inside(full, center[0] - h / 2, center[1] - w / 2, h, w)
        out.append(vp)
    return out


def _pan_path(full: tuple[int, int], start: dict, steps: int) -> list[dict]:
    """STEPS viewports moving half a screen right, then down, alternately; back when at an edge."""
    out, vp, direction = [], start, 1
    for i in range(steps):
        h, w = vp["y1"] - vp["y0"], vp["x1"] - vp["x0"]
        dy, dx = (0, w / 2) if i % 2 == 0 else (h / 2, 0)
        if vp["x1"] + dx * direction > full[1] or vp["y1"] + dy * direction > full[0] or vp["x0"] + dx * direction < 0:
            direction = -direction
        vp = _inside(full, vp["y0"] + dy * direction, vp["x0"] + dx * direction, h, w)
        out.append(vp)
    return out


def _moves(name: str, full: tuple[int, int], start: dict, steps: int) -> list[tuple[str, dict]]:
    """The pyramid: zoom in towards a fixed point, then pan at the finest view. A single-level
    array: pan its first window, then zoom out and back in."""
    if name == "ome.zarr":
        zooms = _zoom_path(full, start, steps, (0.37 * full[0], 0.61 * full[1]))
        pans = _pan_path(full, zooms[-1] if zooms else start, steps)
        return [("zoom+", v) for v in zooms] + [("pan", v) for v in pans]
    pans = _pan_path(full, start, steps)
    window = pans[-1] if pans else start
    center = ((window["y0"] + window["y1"]) / 2, (window["x0"] + window["x1"]) / 2)
    outs, vp = [], window
    for _ in range(steps // 2):
        h, w = (vp["y1"] - vp["y0"]) * 2, (vp["x1"] - vp["x0"]) * 2
        vp = _inside(full, center[0] - h / 2, center[1] - w / 2, h, w)
        outs.append(vp)
    ins = [*outs[-2::-1], window][: steps - len(outs)]
    return [("pan", v) for v in pans] + [("zoom-", v) for v in outs] + [("zoom+", v) for v in ins]


def _inside(full: tuple[int, int], y0: float, x0: float, h: float, w: float) -> dict:
    h, w = min(h, full[0]), min(w, full[1])
    y0, x0 = min(max(y0, 0), full[0] - h), min(max(x0, 0), full[1] - w)
    return {"x0": round(x0), "x1": round(x0 + w), "y0": round(y0), "y1": round(y0 + h)}


class _Bench:
    def __init__(self, browser, server: SyntheticServer) -> None:
        self.browser, self.server = browser, server

    def fresh_page(self):
        page = self.browser.new_page(viewport={"width": 1440, "height": 900})
        page.set_default_timeout(300_000)
        page.goto(f"{self.server.url}/")
        page.evaluate("() => window.zarrExplorer.ready.then(() => window.zarrExplorer.whenIdle())")
        return page

    def timed(self, page, method: str, *args) -> tuple[float, dict]:
        result = page.evaluate(_TIMED_CALL, [method, list(args)])
        page.evaluate("() => window.zarrExplorer.whenIdle()")  # trailing requests count for this view
        return result["ms"], result["state"]

    def open_ms(self, name: str, runs: int) -> tuple[list[float], object, dict]:
        """Open store NAME on RUNS fresh pages; the last page stays open for the views after."""
        times, page, state = [], None, {}
        views = _Views(self.server.stores[name])
        for _ in range(runs):
            if page is not None:
                page.close()
            page = self.fresh_page()
            for first_view in (views.fit, {"x0": 0, "x1": 2048, "y0": 0, "y1": 2048}):  # fit, or a corner
                views.warm(first_view)
            self.server.reset()
            ms, state = self.timed(page, "open", self.server.store_url(name))
            if state.get("error") or (state.get("kind") != "array" and not state.get("level")):
                raise SystemExit(f"open({name}) showed no image: {state}")
            times.append(ms)
        return times, page, state

    def views(self, page, name: str, first: dict, moves: list[tuple[str, dict | None]]) -> list[dict]:
        """The open (FIRST, already counted by the server) and then each move, one row each."""
        views = _Views(self.server.stores[name])
        rows, state = [], first
        prefix = f"/synthetic/{name}/"
        for kind, target in [("open", None), *moves]:
            ms = None
            if target is not None:
                views.warm(target)
                self.server.reset()
                ms, state = self.timed(page, "setViewport", target)
            served = self.server.totals(prefix)
            ideal = views.ideal(state)
            rows.append({"kind": kind, "ms": ms, "level": ideal["level"], "viewport": state["viewport"],
                         "asked": target,
                         "requests": served["requests"], "bytes": served["bytes"],
                         "page_io": state.get("io"), "ideal_all": ideal["all"], "ideal_new": ideal["new"],
                         "chunks": ideal["chunks"]})
        return rows


def _print_rows(title: str, rows: list[dict]) -> None:
    print(title)
    print(f"  {'view':6s} {'level':>5s} {'viewport (x0:x1, y0:y1)':>36s} {'ms':>7s} {'req':>5s} "
          f"{'bytes':>10s} {'ideal':>10s} {'÷ideal':>7s} {'new':>10s} {'÷new':>6s}")
    for r in rows:
        vp = r["viewport"]
        ms = "" if r["ms"] is None else f"{r['ms']:.0f}"
        ratio_all = r["bytes"] / r["ideal_all"] if r["ideal_all"] else float("nan")
        ratio_new = _ratio(r["bytes"], r["ideal_new"])
        kind = r["kind"] + ("*" if r["asked"] not in (None, vp) else "")
        print(f"  {kind:6s} {r['level'] or '-':>5s} {vp['x0']:>10d}:{vp['x1']:<8d} {vp['y0']:>8d}:{vp['y1']:<7d}"
              f" {ms:>7s} {r['requests']:>5d} {r['bytes']:>10d} {r['ideal_all']:>10d} {ratio_all:>7.2f}"
              f" {r['ideal_new']:>10d} {ratio_new:>6.2f}")


def _ratio(nbytes: int, ideal: int) -> float:
    """NBYTES ÷ IDEAL; infinite when a view with nothing new to read read something again."""
    if ideal:
        return nbytes / ideal
    return float("inf") if nbytes else float("nan")


def _summary(rows: list[dict]) -> dict:
    ratios = [r["bytes"] / r["ideal_all"] for r in rows if r["ideal_all"]]
    new_ratios = [_ratio(r["bytes"], r["ideal_new"]) for r in rows if r["bytes"] or r["ideal_new"]]
    return {"ratio_median": _median(ratios), "ratio_max": max(ratios, default=float("nan")),
            "new_ratio_median": _median(new_ratios), "new_ratio_max": max(new_ratios, default=float("nan")),
            "zoom_ms_median": _median([r["ms"] for r in rows if r["kind"].startswith("zoom")]),
            "pan_ms_median": _median([r["ms"] for r in rows if r["kind"] == "pan"])}


def zoom(runs: int = 3, steps: int = 10, site: Path | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    from pyzarr_web.tools.chromium import CHROMIUM, CHROMIUM_ARGS
    from pyzarr_web.tools.serve import DEFAULT_SITE, make_app, run_in_thread

    site = Path(site or DEFAULT_SITE).resolve()
    if not (site / "index.html").is_file():
        raise SystemExit(f"{site} is not a built site: run `python build.py` first")
    server = SyntheticServer(fallback=make_app(site, []))
    results: dict = {}
    with run_in_thread(server) as base, sync_playwright() as pw:
        server.url = base
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        bench = _Bench(browser, server)
        try:
            small_ms, page, _ = bench.open_ms("small.zarr", runs)
            page.close()
            for name in ("ome.zarr", "huge.zarr"):
                open_ms, page, first = bench.open_ms(name, runs)
                moves = _moves(name, _Views(server.stores[name]).full, first["viewport"], steps)
                rows = bench.views(page, name, first, moves)
                page.close()
                results[name] = {"open_ms": open_ms, "rows": rows, **_summary(rows)}
        finally:
            browser.close()
    results["small.zarr"] = {"open_ms": small_ms}
    _report(results, runs)
    return results


def _report(results: dict, runs: int) -> None:
    small = _median(results["small.zarr"]["open_ms"])
    print("pyzarr-web deep zoom, Chromium 1440×900, procedural stores over HTTP (pyzarr_web/tools/synthetic.py)")
    print(f"  open → first image, 1 Mpx array (small.zarr, 1024² uint16): {small:.0f} ms (median of {runs})")
    names = {"ome.zarr": "1 Tpx OME-NGFF 0.5 pyramid (2^20² uint16, 11 levels, 1024² shards of 256² chunks)",
             "huge.zarr": "huge single-level array (2^20² uint16, 512² zstd chunks)"}
    for name, title in names.items():
        r = results[name]
        opened = _median(r["open_ms"])
        print()
        _print_rows(f"{title}: /synthetic/{name}", r["rows"])
        print(f"  open → first image      : {opened:7.0f} ms, ÷ 1 Mpx open {opened / small:5.2f} (goal ≤ 1.5)")
        print(f"  bytes ÷ ideal, all views: median {r['ratio_median']:.2f}, max {r['ratio_max']:.2f} (goal ≤ 1.2)")
        print(f"  bytes ÷ new chunks' bytes: median {r['new_ratio_median']:.2f}, max {r['new_ratio_max']:.2f}"
              " (inf: chunks read in an earlier view were read again)")
        print(f"  zoom step → sharp       : {r['zoom_ms_median']:7.0f} ms median (goal ≤ 300 ms)")
        print(f"  pan → sharp             : {r['pan_ms_median']:7.0f} ms median")
    print("  * the page showed another viewport than the one asked for (it is what the row lists)")
    print("  ideal = stored bytes of the chunks intersecting the viewport at the level shown (inner chunks")
    print("  for shards) + 260 B index per shard they lie in; bytes = what the server sent for the view.")

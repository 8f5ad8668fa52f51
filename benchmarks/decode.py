"""Decode benchmark: ``python -m benchmarks.decode [--repeats N]``.

Writes the same arrays with zarr-python (2048 x 2048 uint16, 256^2 chunks: blosc-lz4, blosc-zstd,
gzip, and sharded zstd with 1024^2 shards) and reads each whole array

* on CPython with zarr-python (numcodecs, native code) from the local directory;
* in the browser: the pyzarr-web core in Pyodide in the harness Web Worker in Chromium
  (pyzarr_web/tools/harness/, the built dist/), once from memory (the store's files fetched
  first: decode and assembly only) and once over HTTP with Range from the project's server.

Throughput is MB/s of decoded output, best of N; the ratio is browser (memory) / CPython.
Then, for region reads of the sharded array in the browser, the requests and bytes the server
saw vs the ideal (one index read per shard + the compressed bytes of the needed inner chunks);
and the same for region reads through Kerchunk references (an HDF5 file written by h5py,
referenced by kerchunk's SingleHdf5ToZarr) vs the ideal (the referenced ranges of the touched
chunks, back-to-back ones merged).
Then the first read in a fresh worker (issue 13): a region of blosc-zstd and of zstd right after
opening the store, without and with the codec warm-up the explorer runs while the tree is shown,
as a ratio to the same read once warm; and what a warm-up in flight costs a read the user starts.

The reference (issue 13) is zarrita.js, what a web developer would use instead: zarrita and
numcodecs.js are installed from npm at benchmark time (pinned, :data:`ZARRITA_PACKAGES`, into
``.cache/bench-zarrita``), bundled with esbuild into a Web Worker script that the harness page
runs beside ours -- same Chromium, same server, same arrays; never part of the site. It is
compared on whole-array MB/s over HTTP, requests and bytes, and first (cold, in a fresh worker)
and warm region latency, as ours / zarrita. ``--without-zarrita`` skips it (no npm, offline).

Figures only, not a test. Needs a source checkout with a built site (``python build.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import hashlib
import json
import shutil
import statistics
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from pyzarr_web.tools.paths import CACHE

SHAPE = (2048, 2048)
CHUNKS = (256, 256)
SHARDS = (1024, 1024)
DTYPE = "uint16"
REGIONS = [
    ("[100:600, 300:900]", (slice(100, 600), slice(300, 900))),
    ("[1000:1100, 1000:1100]", (slice(1000, 1100), slice(1000, 1100))),
    ("[::512, :]", (slice(None, None, 512), slice(None))),
    ("[:, 1500]", (slice(None), 1500)),
    ("[:, :]", (slice(None), slice(None))),
]

# Runs in the worker after the harness helpers.
BROWSER_BENCH = r'''
from pyzarr_web.core import raw_store, wrap
from pyzarr_web.core.stores.memory import MemoryStore


async def h_bench(url, path, keys, repeats):
    """Whole-array reads from memory (the store's files fetched first: decoding and assembly)."""
    raw = raw_store(url)
    values = {k: await raw.get(k) for k in keys}
    mem = MemoryStore(values)
    out = {"memory": []}
    for _ in range(repeats):
        arr = await (await Hierarchy.open(wrap(mem, cache_bytes=0))).array(path)
        t = time.perf_counter()
        a = await arr.read(())
        out["memory"].append(time.perf_counter() - t)
    out["nbytes"] = int(a.nbytes)
    out["checksum"] = int(a.astype("u8").sum())
    return json.dumps(out)


async def h_http(url, path):
    """One whole-array read over HTTP, opened afresh without a cache: (seconds, checksum)."""
    arr = await (await Hierarchy.open(open_store(url, cache_bytes=0))).array(path)
    t = time.perf_counter()
    a = await arr.read(())
    return json.dumps([time.perf_counter() - t, int(a.astype("u8").sum())])


#: room for shard indexes (260 bytes here) but for no chunk: the second ("warm") read fetches
#: its chunks again but not the indexes, as zarrita.js does (it keeps every shard index it read)
INDEX_CACHE = 16 << 10


async def h_cold(url, paths, spec, warm):
    """First reads of SPEC in PATHS in this fresh worker, after the product's codec warm-up if
    WARM (awaited: the time the user looks at the tree), then the same reads warm."""
    import asyncio
    from pyzarr_web import browser
    from pyzarr_web.core.codecs import warmup
    warmup.set_installer(browser.install_modules)
    h = await Hierarchy.open(open_store(url, cache_bytes=INDEX_CACHE))
    out = {"warm_s": None, "stall_s": 0.0, "cold": {}, "warm": {}}
    if warm:
        stall, running = [0.0], [True]

        async def ticker():  # the longest the event loop was blocked: what a click could wait
            while running[0]:
                t = time.perf_counter()
                await asyncio.sleep(0.01)
                stall[0] = max(stall[0], time.perf_counter() - t - 0.01)
        tick = asyncio.ensure_future(ticker())
        t = time.perf_counter()
        await warmup.warm(warmup.codec_ids(await h.walk(include=paths)))
        out["warm_s"] = time.perf_counter() - t
        running[0] = False
        await tick
        out["stall_s"] = stall[0]
    for kind in ("cold", "warm"):
        for path in paths:
            arr = await h.array(path)
            t = time.perf_counter()
            await arr.read(_h_sel(spec))
            out[kind][path] = time.perf_counter() - t
    return json.dumps(out)


async def h_user_read_during_warmup(url, path, spec, warm):
    """A read the user starts right after the store opened, with the warm-up in flight or not."""
    from pyzarr_web import browser
    from pyzarr_web.core.codecs import warmup
    warmup.set_installer(browser.install_modules)
    h = await Hierarchy.open(open_store(url, cache_bytes=0))
    reading = [True]
    ids = warmup.codec_ids(await h.walk(include=[path, "blosc-zstd", "sharded-zstd"]))
    task = warmup.warm_later(ids, busy=lambda: reading[0]) if warm else None
    arr = await h.array(path)
    t = time.perf_counter()
    await arr.read(_h_sel(spec))
    took = time.perf_counter() - t
    reading[0] = False
    if task is not None:
        await task
    return json.dumps({"read_s": took})


async def h_region(url, path, spec):
    arr = await (await Hierarchy.open(open_store(url))).array(path)
    a = await arr.read(_h_sel(spec))
    return json.dumps({"shape": list(a.shape), "checksum": int(a.astype("u8").sum())})
'''


#: the zarrita.js reference, exactly these versions (transitive dependencies pinned too)
ZARRITA_PACKAGES = {"zarrita": "0.7.5", "numcodecs": "0.3.2", "@zarrita/storage": "0.2.0",
                    "fflate": "0.8.3", "reference-spec-reader": "0.2.0", "unzipit": "2.0.0",
                    "esbuild": "0.28.2"}
#: The reference's worker: zarrita's defaults (FetchStore, no cache, no range coalescing); a
#: message {id, op: "open" | "read", url, path, selection} is answered with the milliseconds the
#: operation took in the worker (and a read's shape and checksum).
ZARRITA_WORKER = r"""
import * as zarr from "zarrita";
const arrays = new Map();
self.onmessage = async ({ data: { id, op, url, path, selection } }) => {
  try {
    if (op === "open") {
      const store = new zarr.FetchStore(new URL(url, self.location.href).href);
      const t = performance.now();
      arrays.set(path, await zarr.open.v3(zarr.root(store).resolve(path), { kind: "array" }));
      self.postMessage({ id, ms: performance.now() - t });
      return;
    }
    const sel = selection === null ? null : selection.map((s) => (Array.isArray(s) ? zarr.slice(...s) : s));
    const t = performance.now();
    const out = await zarr.get(arrays.get(path), sel);
    const ms = performance.now() - t;
    let checksum = 0;
    if (typeof out === "number") checksum = out;
    else for (let i = 0; i < out.data.length; i += 1) checksum += out.data[i];
    self.postMessage({ id, ms, shape: typeof out === "number" ? [] : out.shape, checksum });
  } catch (err) {
    self.postMessage({ id, error: String((err && err.stack) || err) });
  }
};
"""


def zarrita_script(stores: Path) -> str:
    """The reference worker script, bundled once into .cache/ and copied into STORES (served
    beside the arrays); its URL path."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("the zarrita.js reference needs npm (Node.js); --without-zarrita skips it")
    folder = CACHE.parent / "bench-zarrita"
    key = hashlib.sha256(json.dumps(ZARRITA_PACKAGES, sort_keys=True).encode() + ZARRITA_WORKER.encode())
    bundle = folder / f"zarrita-worker-{key.hexdigest()[:12]}.js"
    if not bundle.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text(json.dumps({"private": True, "dependencies": ZARRITA_PACKAGES}))
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                       cwd=folder, check=True, stdout=subprocess.DEVNULL)
        (folder / "entry.js").write_text(ZARRITA_WORKER)
        subprocess.run([str(folder / "node_modules" / ".bin" / "esbuild"), "entry.js", "--bundle",
                        "--format=iife", "--platform=browser", "--log-level=warning",
                        f"--outfile={bundle.name}"], cwd=folder, check=True)
    shutil.copyfile(bundle, stores / "zarrita-bench.js")
    return f"/data/{stores.name}/zarrita-bench.js"


class Zarrita:
    """zarrita.js in a Web Worker of the harness page (beside ours: same browser, same server)."""

    def __init__(self, harness, script: str):
        self.page = harness.page
        self.script = script
        self.fresh()

    def fresh(self) -> None:
        """A new worker: nothing loaded, no codec instantiated (a cold start)."""
        self.page.evaluate("""(src) => {
            if (window.zw) window.zw.terminate();
            window.zw = new Worker(src);
            window.zwWait = new Map();
            window.zwId = 0;
            window.zw.onmessage = (e) => { window.zwWait.get(e.data.id)(e.data); window.zwWait.delete(e.data.id); };
        }""", self.script)

    def call(self, op: str, url: str, path: str, selection=None) -> dict:
        out = self.page.evaluate("""(m) => new Promise((resolve) => {
            const id = ++window.zwId;
            window.zwWait.set(id, resolve);
            window.zw.postMessage({ ...m, id });
        })""", {"op": op, "url": url, "path": path, "selection": selection})
        if "error" in out:
            raise RuntimeError(f"zarrita.js {op} {url} {path}: {out['error']}")
        return out

    def read(self, url: str, path: str, selection=None) -> dict:
        """Open PATH afresh (untimed) and read SELECTION (JSON form; None: everything)."""
        self.call("open", url, path)
        return self.call("read", url, path, selection)


def _data() -> np.ndarray:
    """A smooth field plus noise: compresses like real imagery (neither trivially nor not at all)."""
    y, x = np.mgrid[0:SHAPE[0], 0:SHAPE[1]].astype("f4")
    field = 20000 + 8000 * np.sin(x / 97.0) * np.cos(y / 131.0) + 3000 * np.sin((x + y) / 41.0)
    noise = np.random.default_rng(0).normal(0, 40, SHAPE)
    return np.clip(field + noise, 0, 65535).astype(DTYPE)


def _write(root: Path, data: np.ndarray) -> dict[str, dict]:
    import zarr
    from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec

    cases = {
        "blosc-lz4": {"compressors": [BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")]},
        "blosc-zstd": {"compressors": [BloscCodec(cname="zstd", clevel=3, shuffle="shuffle")]},
        "gzip": {"compressors": [GzipCodec(level=5)]},
        "sharded-zstd": {"shards": SHARDS, "compressors": [ZstdCodec(level=3)]},
    }
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = zarr.open_group(str(root), mode="w", zarr_format=3)
        for name, kw in cases.items():
            a = g.create_array(name, shape=SHAPE, chunks=CHUNKS, dtype=DTYPE, fill_value=0, **kw)
            a[...] = data
            files = [p for p in (root / name).rglob("*") if p.is_file()]
            out[name] = {
                "keys": sorted(p.relative_to(root).as_posix() for p in files),
                "stored": sum(p.stat().st_size for p in files if p.name != "zarr.json"),
            }
    return out


def _cpython(root: Path, name: str, repeats: int) -> tuple[float, np.ndarray]:
    import zarr

    times = []
    for _ in range(repeats):
        arr = zarr.open_array(str(root), path=name, mode="r")
        t = time.perf_counter()
        a = arr[...]
        times.append(time.perf_counter() - t)
    return min(times), a


def _core_cpython(root: Path, name: str, repeats: int) -> float:
    from pyzarr_web.core import Hierarchy, open_store

    async def once() -> float:
        arr = await (await Hierarchy.open(open_store(str(root), cache_bytes=0))).array(name)
        t = time.perf_counter()
        await arr.read(())
        return time.perf_counter() - t

    return min(asyncio.run(once()) for _ in range(repeats))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.decode", description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed reads per figure (best is kept)")
    parser.add_argument("--cold-only", action="store_true", help="only the first reads in fresh workers")
    parser.add_argument("--kerchunk-only", action="store_true", help="only the region reads through references")
    parser.add_argument("--without-zarrita", action="store_true", help="skip the zarrita.js reference (needs npm)")
    args = parser.parse_args(argv)
    from pyzarr_web.tools import harness as bh

    with tempfile.TemporaryDirectory(prefix="pyzarr-bench-") as tmp:
        stores = Path(tmp) / "stores"
        root = stores / "bench.zarr"
        data = _data()
        info = _write(root, data)
        zarrita = None if args.without_zarrita or args.kerchunk_only else zarrita_script(stores)
        if args.cold_only:
            return cold_reads(bh, stores, bh.Harness(stores).store_url("bench.zarr"), args.repeats, zarrita)
        if args.kerchunk_only:
            with bh.Harness(stores).running() as harness:
                harness.run(BROWSER_BENCH + "\n'ok'")
                return kerchunk_reads(bh, harness, stores, data)
        # CPython first: Playwright's sync API keeps an event loop running in this thread.
        native = {}
        for name in info:
            t_zarr, ref = _cpython(root, name, args.repeats)
            native[name] = (t_zarr, _core_cpython(root, name, args.repeats), ref)
        harness = bh.Harness(stores)
        with harness.running():
            harness.run(BROWSER_BENCH + "\n'ok'")
            env = harness.call("h_env")
            url = harness.store_url("bench.zarr")
            print(f"pyzarr-web decode benchmark: {SHAPE[0]}x{SHAPE[1]} {DTYPE}, chunks {CHUNKS[0]}^2, "
                  f"shards {SHARDS[0]}^2; best of {args.repeats}")
            print(f"browser: Chromium, Pyodide worker (Python {env['python']}, numpy {env['numpy']}, "
                  f"codec backend {env['backend']}); boot {harness.boot_seconds:.1f} s")
            print()
            zr = Zarrita(harness, zarrita) if zarrita else None
            head = (f"{'array':<14}{'ratio':>7}{'decoded MB':>12}{'CPython zarr':>14}{'CPython core':>14}"
                    f"{'browser mem':>13}{'browser HTTP':>14}"
                    f"{'zarrita HTTP':>14}{'ours/zarrita':>14}" if zr else "")
            print(head + "  ratio = browser mem / CPython zarr")
            print(f"{'':<14}{'':>7}{'':>12}{'MB/s':>14}{'MB/s':>14}{'MB/s':>13}{'MB/s':>14}"
                  + (f"{'MB/s':>14}" if zr else ""))
            ratios, vs_zarrita = [], []
            for name, meta in info.items():
                t_zarr, t_core, ref = native[name]
                mb = ref.nbytes / 1e6
                try:
                    keys = ["zarr.json"] + [k for k in meta["keys"] if k.startswith(name + "/")]
                    res = harness.call("h_bench", url, name, keys, args.repeats, timeout=600)
                except bh.HarnessError as e:
                    first = [ln for ln in str(e).splitlines() if "Error" in ln][-1:]
                    print(f"{name:<14}{'n/a':>7}{mb:>12.1f}{mb / t_zarr:>14.0f}{mb / t_core:>14.0f}"
                          f"  browser failed: {first[0].strip() if first else e}")
                    continue
                assert res["nbytes"] == ref.nbytes and res["checksum"] == int(ref.astype("u8").sum()), name
                http, ref_http = [], []
                for _ in range(args.repeats):  # alternating, so that both see the same machine
                    http.append(harness.call("h_http", url, name))
                    if zr:
                        ref_http.append(zr.read(url, name))
                assert {c for _, c in http} | {r["checksum"] for r in ref_http} == {res["checksum"]}, name
                t_mem, t_http = min(res["memory"]), min(t for t, _ in http)
                ratio = t_zarr / t_mem
                ratios.append(ratio)
                extra = ""
                if zr:
                    t_ref = min(r["ms"] for r in ref_http) / 1000
                    vs_zarrita.append(t_ref / t_http)
                    extra = f"{mb / t_ref:>14.0f}{t_ref / t_http:>14.2f}"
                print(f"{name:<14}{ratio:>7.2f}{mb:>12.1f}{mb / t_zarr:>14.0f}{mb / t_core:>14.0f}"
                      f"{mb / t_mem:>13.0f}{mb / t_http:>14.0f}{extra}")
            if ratios:
                print(f"geometric mean ratio {float(np.exp(np.mean(np.log(ratios)))):.2f} over "
                      f"{len(ratios)} of {len(info)} arrays (goal >= 0.5 each)")
            if vs_zarrita:
                print(f"ours/zarrita over HTTP (MB/s): {', '.join(f'{r:.2f}' for r in vs_zarrita)} "
                      f"(goal >= 1.0 each)")
                traffic(bh, harness, zr, url, info)

            print()
            print("sharded region reads in the browser (sharded-zstd; counted at the server, metadata apart)")
            print(f"{'region':<24}{'requests':>9}{'ideal':>7}{'bytes':>11}{'ideal':>11}{'bytes/ideal':>13}")
            name = "sharded-zstd"
            for label, sel in REGIONS:
                ideal = bh.ideal_shard_reads(root / name, sel)
                harness.log.clear()
                res = harness.call("h_region", url, name, bh.sel_to_json(sel))
                expect = data[sel]
                assert res["checksum"] == int(expect.astype("u8").sum()) and tuple(res["shape"]) == expect.shape
                reqs = [r for r in harness.log.under(f"{url}/{name}/") if not r.path.endswith("zarr.json")]
                nbytes = sum(r.body_bytes for r in reqs if r.status < 300)
                print(f"{label:<24}{len(reqs):>9}{ideal['requests']:>7}{nbytes:>11}{ideal['bytes']:>11}"
                      f"{nbytes / ideal['bytes']:>13.3f}")
            kerchunk_reads(bh, harness, stores, data)
        cold_reads(bh, stores, url, args.repeats, zarrita)


def kerchunk_reads(bh, harness, stores: Path, data: np.ndarray) -> None:
    """Region reads through Kerchunk references in the browser, counted at the server against
    the referenced ranges of the touched chunks (back-to-back ones merged)."""
    import h5py
    from kerchunk.hdf import SingleHdf5ToZarr
    folder = stores / "kerchunk"
    folder.mkdir(exist_ok=True)
    with h5py.File(folder / "bench.h5", "w") as f:
        f.create_dataset("image", data=data, chunks=CHUNKS, compression="gzip", compression_opts=1)
    with open(folder / "bench.h5", "rb") as f:
        refs = SingleHdf5ToZarr(f, url="bench.h5", inline_threshold=100).translate()
    (folder / "bench.json").write_text(json.dumps(refs))
    url = harness.store_url("kerchunk/bench.json")
    harness.call("h_region", url, "image", bh.sel_to_json((0, 0)))  # references loaded once
    print()
    print("Kerchunk region reads in the browser (h5py gzip chunks 256^2 via SingleHdf5ToZarr; "
          "counted at the server, references apart)")
    print(f"{'region':<24}{'requests':>9}{'ideal':>7}{'bytes':>11}{'ideal':>11}{'bytes/ideal':>13}")
    for label, sel in REGIONS:
        ideal_requests, ideal_bytes = bh.ideal_requests(bh.touched_ranges(refs, "image", SHAPE, CHUNKS, sel))
        harness.log.clear()
        res = harness.call("h_region", url, "image", bh.sel_to_json(sel))
        expect = data[sel]
        assert res["checksum"] == int(expect.astype("u8").sum()) and tuple(res["shape"]) == expect.shape
        reqs = [r for r in harness.log.under(harness.store_url("kerchunk/")) if not r.path.endswith(".json")]
        nbytes = sum(r.body_bytes for r in reqs if r.status < 300)
        print(f"{label:<24}{len(reqs):>9}{ideal_requests:>7}{nbytes:>11}{ideal_bytes:>11}"
              f"{nbytes / ideal_bytes:>13.3f}")


COLD_REGION = ("[1000:1100, 1000:1100]", (slice(1000, 1100), slice(1000, 1100)))
COLD_ARRAYS = ["blosc-zstd", "sharded-zstd"]


def traffic(bh, harness, zr: Zarrita, url: str, info: dict) -> None:
    """Requests and bytes the server saw for a region and for the whole of each array, ours vs
    zarrita.js (metadata documents apart)."""
    print()
    print("requests and bytes at the server, ours vs zarrita.js (metadata apart)")
    print(f"{'array':<14}{'region':<24}{'requests':>9}{'zarrita':>9}{'bytes':>11}{'zarrita':>11}")
    for name in info:
        for label, sel in (COLD_REGION, ("[:, :]", (slice(None), slice(None)))):
            spec = bh.sel_to_json(sel)
            counts = []
            for read in (functools.partial(harness.call, "h_region"), zr.read):
                harness.log.clear()
                read(url, name, spec)
                reqs = [r for r in harness.log.under(f"{url}/{name}/") if not r.path.endswith("zarr.json")]
                counts.append((len(reqs), sum(r.body_bytes for r in reqs if r.status < 300)))
            (n, nbytes), (zn, zbytes) = counts
            print(f"{name:<14}{label:<24}{n:>9}{zn:>9}{nbytes:>11}{zbytes:>11}")


def cold_reads(bh, stores: Path, url: str, runs: int, zarrita: str | None = None) -> None:
    """First reads in fresh workers (one boot per case and run; medians of RUNS), without and
    with the codec warm-up; then the same in fresh zarrita.js workers (ZARRITA: its script)."""
    label, sel = COLD_REGION
    spec = bh.sel_to_json(sel)

    def fresh(func: str, *args) -> dict:
        with bh.Harness(stores).running() as harness:
            harness.run(BROWSER_BENCH + "\n'ok'")
            return harness.call(func, url, *args, timeout=600)

    med = statistics.median
    print()
    print(f"first read of {label} in a fresh worker, right after opening the store (issue 13); "
          f"medians of {runs} boots")
    print(f"{'warm-up':<9}{'array':<14}{'first ms':>10}{'warm ms':>9}{'first/warm':>12}"
          f"{'warm-up s':>11}{'longest stall ms':>18}")
    ours = {}  # with the warm-up, as the explorer reads: array -> (first, warm)
    for warm in (False, True):
        res = [fresh("h_cold", COLD_ARRAYS, spec, warm) for _ in range(runs)]
        for name in COLD_ARRAYS:
            first, again = med(r["cold"][name] for r in res), med(r["warm"][name] for r in res)
            extra = (f"{med(r['warm_s'] for r in res):>11.2f}"
                     f"{max(r['stall_s'] for r in res) * 1000:>18.0f}" if warm else "")
            print(f"{'with' if warm else 'without':<9}{name:<14}{first * 1000:>10.0f}{again * 1000:>9.0f}"
                  f"{first / again:>12.1f}{extra}")
            ours[name] = (first, again)
    if zarrita:
        with bh.Harness(stores).running() as harness:  # one page, a fresh zarrita.js worker per run
            zr = Zarrita(harness, zarrita)
            res = []
            for _ in range(runs):
                zr.fresh()
                for name in COLD_ARRAYS:
                    zr.call("open", url, name)
                res.append([{name: zr.call("read", url, name, spec)["ms"] / 1000 for name in COLD_ARRAYS}
                            for _ in ("first", "warm")])
        print()
        print(f"the same in a fresh zarrita.js worker (medians of {runs}); ours with the warm-up / zarrita "
              f"(goals: first <= 1.5, warm <= 1.0)")
        print(f"{'array':<14}{'first ms':>10}{'warm ms':>9}{'ours/zarrita first':>20}{'warm':>7}")
        for name in COLD_ARRAYS:
            first, again = med(r[0][name] for r in res), med(r[1][name] for r in res)
            print(f"{name:<14}{first * 1000:>10.0f}{again * 1000:>9.0f}{ours[name][0] / first:>20.2f}"
                  f"{ours[name][1] / again:>7.2f}")
    print()
    print(f"a gzip read of {label} started right after opening, with the warm-up in flight or not")
    for warm in (False, True):
        times = [fresh("h_user_read_during_warmup", "gzip", spec, warm)["read_s"] for _ in range(runs)]
        print(f"  {'with' if warm else 'without'} warm-up in flight: median {med(times) * 1000:.0f} ms "
              f"({', '.join(f'{t * 1000:.0f}' for t in times)})")


if __name__ == "__main__":
    main()

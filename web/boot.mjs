// Boots Python from the built site: the Pyodide runtime, the startup archives unpacked into
// site-packages, and pyzarr_web.browser configured (lazy-package import hook, error reports).
// One copy for the product's worker (the build puts untar.mjs, fetch.js and this file in front of
// web/worker.js) and the test harness's worker (pyzarr_web/tools/harness/worker.js imports the built
// app/boot.*.mjs), so the harness cannot boot differently from the product.

// untarInto() comes from web/untar.mjs, which the build puts in front of this file.

// Overall percentage: downloads by bytes (runtime and packages in parallel) take the first
// 60 %, then fixed steps. Sizes come from the build manifest, so the total is known up front.
export const WEIGHTS = { download: 0.6, boot: 0.7, install: 0.75, import: 0.9, app: 0.97 };

// report(stage, fraction, detail, force) sending at most 20 progress messages a second through
// SEND; report.stage is the latest stage (named in startup errors).
export function progressReporter(send) {
  let last = 0;
  const report = (stage, fraction, detail, force) => {
    report.stage = stage;
    const now = performance.now();
    if (!force && now - last < 50) return;
    last = now;
    send({ stage, fraction: Math.max(0, Math.min(1, fraction)), detail: detail || "" });
  };
  report.stage = "Starting";
  return report;
}

let totalBytes = 1;
let receivedBytes = 0;
let bootProgress = () => {}; // the progressReporter of the running boot

function reportDownload(force) {
  const f = receivedBytes / totalBytes;
  const mb = (n) => (n / 1e6).toFixed(1);
  bootProgress("Downloading runtime and packages", WEIGHTS.download * f,
         `${mb(receivedBytes)} of ${mb(totalBytes)} MB`, force);
}

// Count bytes of the runtime files that loadPyodide fetches itself. The response handed back is
// the original (so streaming compilation and the code cache keep working); a clone is read
// alongside only to count. The wasm module is shipped gzipped: its request is answered from the
// .gz file, inflated on the fly (unless the server already did, e.g. Content-Encoding: gzip).
const trackedSuffixes = [".zip"];
let wasmGzURL = null;
const nativeFetch = self.fetch.bind(self);
self.fetch = async (input, init) => {
  const url = typeof input === "string" ? input : input.url || String(input);
  if (wasmGzURL && url.endsWith("/pyodide.asm.wasm") && typeof DecompressionStream === "function") {
    const gz = await nativeFetch(wasmGzURL, init);
    if (gz.ok && gz.body) {
      return new Response(await gunzipIfNeeded(gz), {
        status: 200,
        headers: { "Content-Type": "application/wasm" },
      });
    }
  }
  const response = await nativeFetch(input, init);
  if (response.ok && response.body && trackedSuffixes.some((s) => url.endsWith(s))) {
    countBody(response.clone());
  }
  return response;
};

async function gunzipIfNeeded(response) {
  const reader = response.body.getReader();
  const first = await reader.read();
  const head = first.done ? new Uint8Array(0) : first.value;
  receivedBytes += head.byteLength;
  const isGzip = head.byteLength > 1 && head[0] === 0x1f && head[1] === 0x8b;
  let stream = new ReadableStream({
    start(controller) {
      if (head.byteLength) controller.enqueue(head);
      if (first.done) controller.close();
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      receivedBytes += value.byteLength;
      reportDownload(false);
      controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  if (isGzip) stream = stream.pipeThrough(new DecompressionStream("gzip"));
  return stream;
}

async function countBody(response) {
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    receivedBytes += value.byteLength;
    reportDownload(false);
  }
}

// Download URL (counting bytes); a gzip stream is inflated while it arrives.
async function fetchBytes(url) {
  const response = await nativeFetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const reader = (await gunzipIfNeeded(response)).getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

// Boot Python for the site at BASE described by MANIFEST. Returns {pyodide, browser} (the
// pyzarr_web.browser module, configured). Options: progress (a progressReporter), mark(name)
// for timings, onFatal(error) when Pyodide suffers a fatal error (it is unusable afterwards),
// onError(kind, message) for errors Python reports later (a failed lazy import, an unhandled
// exception in a callback).
export async function bootPython({ manifest, base, progress, mark = () => {}, onFatal, onError }) {
  bootProgress = progress || (() => {});
  const indexURL = new URL(manifest.pyodide.index, base).href;
  if (manifest.pyodide.wasm_gz) wasmGzURL = indexURL + manifest.pyodide.wasm_gz;
  const files = manifest.pyodide.files;
  totalBytes = manifest.download_bytes;
  // pyodide.asm.js is loaded by import(), not fetch(): counted when the runtime is up.
  const asmJsBytes = files["pyodide.asm.js"] || 0;
  reportDownload(true);

  // Everything starts at once: the runtime module, the package archives.
  const pyodideModule = import(indexURL + "pyodide.mjs");
  const archives = manifest.archives.map((a) => fetchBytes(new URL(a.tar, base).href));

  const { loadPyodide } = await pyodideModule;
  const pyodide = await loadPyodide({
    indexURL,
    stdLibURL: indexURL + manifest.pyodide.stdlib, // precompiled, slimmed by the build
    // We install nothing by name: no need to fetch the 115 kB official lock file.
    lockFileContents: { info: manifest.pyodide.lock_info, packages: {} },
    env: { PANEL_CDN_ROOT: new URL(manifest.panel_cdn_root, base).href, HOME: "/home/pyodide" },
    stdout: (s) => console.log(s),
    stderr: (s) => console.warn(s),
  });
  // Pyodide calls this after a fatal error (a wasm trap, out of memory, a stack overflow in C),
  // when every later call into it would throw: the owner of the worker must know at once.
  if (onFatal) pyodide._api.on_fatal = onFatal;
  receivedBytes += asmJsBytes;
  mark("pyodide-ready");

  const blobs = [];
  for (const a of archives) blobs.push(await a);
  mark("downloaded");
  bootProgress("Installing packages", WEIGHTS.boot, "", true);
  for (const bytes of blobs) untarInto(pyodide.FS, bytes, manifest.site_packages);
  pyodide.runPython("import importlib; importlib.invalidate_caches()");
  mark("installed");

  bootProgress("Importing Python modules", WEIGHTS.install, "", true);
  const browser = pyodide.pyimport("pyzarr_web.browser");
  browser.configure({
    base_url: base,
    lazy: pyodide.toPy(manifest.lazy),
    site_packages: manifest.site_packages,
    on_error: onError,
  });
  return { pyodide, browser };
}

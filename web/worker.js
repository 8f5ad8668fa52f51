// pyzarr-web worker: boots Pyodide, installs the bundled packages, runs the Python app and
// exchanges Bokeh JSON patches with the page (web/main.js). All Python, fetching and decoding
// happen here, off the main thread.
//
// Messages in:  {type: "init", manifest, base, search}   once, right after creation
//               {type: "rendered"}                        the page has embedded the document
//               {type: "patch", patch}                    a (coalesced) patch from the page
//               {type: "api", id, method, args}           a window.zarrExplorer call
// Messages out: {type: "progress", stage, fraction, detail}
//               {type: "render", docs_json, render_items, root_ids}
//               {type: "linked"} {type: "idle"} {type: "patch", patch, buffers}
//               {type: "timing", name, t}  {type: "error", message, stage}
//               {type: "api-result", id, result | error}  the answer to an "api" message
//               {type: "state", state} {type: "url", query, push}   explorer state for the page

// untarInto() comes from web/untar.mjs, which the build puts in front of this file.

let pyodide = null;
let browser = null; // the pyzarr_web.browser module (PyProxy)
let stage = "Starting";

function post(msg, transfer) {
  self.postMessage(msg, transfer || []);
}
function mark(name) {
  // absolute (epoch) milliseconds: the page converts them to its own clock
  post({ type: "timing", name, t: performance.timeOrigin + performance.now() });
}

// ------------------------------------------------------------------------------- progress
// Overall percentage: downloads by bytes (runtime and packages in parallel) take the first
// 60 %, then fixed steps. Sizes come from the build manifest, so the total is known up front.
const WEIGHTS = { download: 0.6, boot: 0.7, install: 0.75, import: 0.9, app: 0.97 };
let totalBytes = 1;
let receivedBytes = 0;
let lastReport = 0;

function report(name, fraction, detail, force) {
  stage = name;
  const now = performance.now();
  if (!force && now - lastReport < 50) return; // at most 20 messages a second
  lastReport = now;
  post({ type: "progress", stage: name, fraction: Math.max(0, Math.min(1, fraction)), detail: detail || "" });
}

function reportDownload(force) {
  const f = receivedBytes / totalBytes;
  const mb = (n) => (n / 1e6).toFixed(1);
  report("Downloading runtime and packages", WEIGHTS.download * f,
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

// ------------------------------------------------------------------------------- boot
async function start({ manifest, base, search }) {
  const indexURL = new URL(manifest.pyodide.index, base).href;
  if (manifest.pyodide.wasm_gz) wasmGzURL = indexURL + manifest.pyodide.wasm_gz;
  const files = manifest.pyodide.files;
  totalBytes = manifest.download_bytes;
  // pyodide.asm.js is loaded by import(), not fetch(): counted when the runtime is up.
  const asmJsBytes = files["pyodide.asm.js"] || 0;
  reportDownload(true);

  // Everything starts at once: the runtime module, the package archives.
  const pyodideModule = import(indexURL + "pyodide.mjs");
  const archives = manifest.archives.map((a) => ({ ...a, bytes: fetchBytes(new URL(a.tar, base).href) }));

  const { loadPyodide } = await pyodideModule;
  pyodide = await loadPyodide({
    indexURL,
    stdLibURL: indexURL + manifest.pyodide.stdlib, // precompiled, slimmed by the build
    // We install nothing by name: no need to fetch the 115 kB official lock file.
    lockFileContents: { info: manifest.pyodide.lock_info, packages: {} },
    env: { PANEL_CDN_ROOT: new URL(manifest.panel_cdn_root, base).href, HOME: "/home/pyodide" },
    stdout: (s) => console.log(s),
    stderr: (s) => console.warn(s),
  });
  receivedBytes += asmJsBytes;
  mark("pyodide-ready");

  const blobs = [];
  for (const a of archives) {
    blobs.push([a, await a.bytes]);
  }
  mark("downloaded");
  report("Installing packages", WEIGHTS.boot, "", true);
  for (const [a, bytes] of blobs) {
    untarInto(pyodide.FS, bytes, manifest.site_packages);
  }
  pyodide.runPython("import importlib; importlib.invalidate_caches()");
  mark("installed");

  report("Importing Python modules", WEIGHTS.install, "", true);
  browser = pyodide.pyimport("pyzarr_web.browser");
  const progress = (name, fraction, detail) => {
    const lo = name.startsWith("Importing") ? WEIGHTS.install : WEIGHTS.import;
    const hi = name.startsWith("Importing") ? WEIGHTS.import : WEIGHTS.app;
    report(name, lo + (hi - lo) * (fraction || 0), detail || "", true);
    mark(name);
  };
  const result = await browser.start(search, {
    base_url: base,
    lazy: pyodide.toPy(manifest.lazy),
    site_packages: manifest.site_packages,
    progress,
  });
  const [docs_json, render_items, root_ids] = result.toJs();
  result.destroy();
  mark("app-ready");
  report("Rendering", WEIGHTS.app, "", true);
  post({ type: "render", docs_json, render_items, root_ids });
}

function sendPatch(patch, buffers) {
  // patch: a JS object (converted by Panel), buffers: Map<id, ArrayBuffer>
  const transfer = buffers ? [...buffers.values()] : [];
  post({ type: "patch", patch, buffers }, transfer);
}

function fail(err) {
  const message = err && err.message ? err.message : String(err);
  console.error(message);
  post({ type: "error", stage, message });
}

self.onmessage = (event) => {
  const msg = event.data;
  try {
    if (msg.type === "init") {
      start(msg).catch(fail);
    } else if (msg.type === "rendered") {
      browser.link(sendPatch, (json) => post(JSON.parse(json)));
      mark("linked");
      post({ type: "linked" });
    } else if (msg.type === "patch") {
      try {
        browser.apply_patch(msg.patch);
      } finally {
        post({ type: "idle" });
      }
    } else if (msg.type === "api") {
      browser.call_api(msg.method, JSON.stringify(msg.args || [])).then(
        (json) => post({ type: "api-result", id: msg.id, result: JSON.parse(json) }),
        (err) => post({ type: "api-result", id: msg.id, error: err && err.message ? err.message : String(err) }),
      );
    }
  } catch (err) {
    fail(err);
  }
};

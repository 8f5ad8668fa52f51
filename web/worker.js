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
//               {type: "timing", name, t}
//               {type: "error", kind, message, stage}   kind: "startup" (no app), or after startup
//                                 "callback" (handling a page event or an async task failed) or
//                                 "import" (a lazy package could not be installed)
//               {type: "fatal", message}   Pyodide suffered a fatal error: this worker is dead
//               {type: "api-result", id, result | error}  the answer to an "api" message
//               {type: "state", state} {type: "url", query, push}   explorer state for the page
// untar.mjs and boot.mjs (bootPython, progressReporter, WEIGHTS) come first: the build puts
// them in front of this file.

let browser = null; // the pyzarr_web.browser module (PyProxy)
let started = false; // the app is rendered: later errors are reported as such, not as startup failures

function post(msg, transfer) {
  self.postMessage(msg, transfer || []);
}
function mark(name) {
  // absolute (epoch) milliseconds: the page converts them to its own clock
  post({ type: "timing", name, t: performance.timeOrigin + performance.now() });
}
const report = progressReporter((p) => post({ type: "progress", ...p }));

const errorText = (err) => (err && err.message ? err.message : String(err));

// ------------------------------------------------------------------------------- boot
async function start({ manifest, base, search }) {
  self.pyzarrPageBase = base; // stores named relative to the page resolve against it (core/sources.py)
  const booted = await bootPython({
    manifest, base, progress: report, mark,
    onFatal: (err) => post({ type: "fatal", message: errorText(err) }),
    onError: (kind, message) => post({ type: "error", kind, message, stage: report.stage }),
  });
  browser = booted.browser;
  // a handle for debugging (DevTools, the worker's console) and the tests, which provoke real
  // fatal errors through it; the page cannot reach it.
  self.pyodide = booted.pyodide;
  const progress = (name, fraction, detail) => {
    const lo = name.startsWith("Importing") ? WEIGHTS.install : WEIGHTS.import;
    const hi = name.startsWith("Importing") ? WEIGHTS.import : WEIGHTS.app;
    report(name, lo + (hi - lo) * (fraction || 0), detail || "", true);
    mark(name);
  };
  const result = await browser.start(search, { progress });
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

// An error of startup (the page shows it instead of the app) or, once started, of handling a
// page event (shown in the page's error banner; the app keeps running).
function fail(err) {
  const message = errorText(err);
  console.error(message);
  post({ type: "error", kind: started ? "callback" : "startup", stage: report.stage, message });
}
// Errors no handler caught (an unawaited promise) would otherwise only reach the console.
self.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  fail(event.reason);
});

// Local files the user picked or dropped on the page: set id -> Map(relative path -> File).
// Python reads them lazily, a slice at a time (pyzarr_web/core/stores/picked_pyodide.py);
// `read` counts what was read, so tests can check that a view reads only what it shows.
const pickedSets = new Map();
self.pyzarrPicked = {
  read: { calls: 0, bytes: 0 },
  paths: (id) => [...(pickedSets.get(id) || new Map()).keys()],
  size: (id, path) => pickedSets.get(id).get(path).size,
  async slice(id, path, start, end) {
    const data = new Uint8Array(await pickedSets.get(id).get(path).slice(start, end).arrayBuffer());
    self.pyzarrPicked.read.calls += 1;
    self.pyzarrPicked.read.bytes += data.length;
    return data;
  },
  sliceSync(id, path, start, end) { // for Python's zipfile, which reads synchronously
    const data = new Uint8Array(new FileReaderSync().readAsArrayBuffer(pickedSets.get(id).get(path).slice(start, end)));
    self.pyzarrPicked.read.calls += 1;
    self.pyzarrPicked.read.bytes += data.length;
    return data;
  },
};

self.onmessage = (event) => {
  const msg = event.data;
  try {
    if (msg.type === "picked") {
      pickedSets.set(msg.id, new Map(msg.files.map((f) => [f.path, f.file])));
    } else if (msg.type === "init") {
      start(msg).catch(fail);
    } else if (msg.type === "rendered") {
      browser.link(sendPatch, (json) => post(JSON.parse(json)));
      started = true;
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
        // with what was read of local files so far (zarrExplorer.timings.picked_bytes)
        (json) => post({ type: "api-result", id: msg.id, result: JSON.parse(json), picked: self.pyzarrPicked.read }),
        (err) => post({ type: "api-result", id: msg.id, error: errorText(err) }),
      );
    }
  } catch (err) {
    fail(err);
  }
};

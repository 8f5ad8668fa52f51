// Main-thread side of the test harness. Served at /data/harness/ next to the built site (same
// origin), it reads the site's build manifest, starts ./worker.js as a module worker (as the
// product's web/main.js does) and exposes
//   window.harness.ready            Promise: resolves {timings} once Python and the packages are up
//   window.runPython(code, timeoutMs) Promise<string>: runs CODE in the worker with
//                                   runPythonAsync (top-level await allowed); the last expression
//                                   must be a str (tests use JSON). Rejects with the traceback.

const base = new URL("/", location.href).href;
const status = document.getElementById("status");

async function loadManifest() {
  const r = await fetch(new URL("manifest.json", base));
  if (!r.ok) throw new Error(`no manifest.json in the built site: HTTP ${r.status}`);
  return r.json();
}

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const pending = new Map();
let nextId = 1;
let resolveReady, rejectReady;
const ready = new Promise((res, rej) => { resolveReady = res; rejectReady = rej; });
ready.catch(() => {});

worker.onmessage = (event) => {
  const msg = event.data;
  if (msg.type === "ready") {
    status.textContent = "ready";
    resolveReady({ timings: msg.timings });
  } else if (msg.type === "boot-error") {
    status.textContent = "boot failed: " + msg.message;
    rejectReady(new Error(msg.message));
  } else if (msg.type === "fatal") {
    workerDied("Pyodide suffered a fatal error: " + msg.message);
  } else if (msg.type === "result" || msg.type === "error") {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.type === "result") p.resolve(msg.value);
    else p.reject(new Error(msg.message));
  }
};
// The worker is unusable after either: every waiting run fails with the reason.
function workerDied(message) {
  rejectReady(new Error(message));
  for (const p of pending.values()) {
    clearTimeout(p.timer);
    p.reject(new Error(message));
  }
  pending.clear();
}
worker.onerror = (event) => workerDied("worker error: " + (event.message || "unknown"));

function runPython(code, timeoutMs = 120000) {
  return ready.then(() => new Promise((resolve, reject) => {
    const id = nextId++;
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error(`runPython timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    pending.set(id, { resolve, reject, timer });
    worker.postMessage({ type: "run", id, code });
  }));
}

window.harness = { ready };
window.runPython = runPython;

loadManifest().then(
  (manifest) => worker.postMessage({ type: "init", manifest, base }),
  (err) => rejectReady(err),
);
